"""The deterministic demo company: a Japanese B2B SaaS organised as The Model.

`generate(scale, seed, end_month)` returns one DataFrame per contract table for the 24 months
ending with `end_month`, fully determined by its arguments; `write` writes the same tables as a
Parquet lake, each as soon as it is complete (usage in blocks), so scale 100 fits in a few GiB.
The company grows, follows the Japanese fiscal year (March peak, August and New-Year dips), is
noisy, and plants the effects declared in `revbook.demo.planted`, which the reports must find.

Order of the simulation: reps → campaigns, ad spend and leads → SQLs, FS meetings and
opportunities → accounts and subscriptions (monthly churn, expansion, contraction and
reactivation driven by latent per-account traits and a latent dormant state) → product usage
and support tickets that follow those latents → activities and touchpoints → targets. The funnel
starts BURN_IN_MONTHS before the window so the window opens in steady state (those older leads,
deals and accounts are kept); product usage, tickets and customer-success activity cover the
window only.

The parts: `company` (the steps in order), `common` (what the parts share), `people` (reps and
accounts), `marketing` (campaigns, spend, leads, touchpoints), `sales` (funnel, opportunities,
lead activities), `customers` (subscriptions, usage, tickets, CS), `targets`, and `lake` (tables
kept in memory or written as Parquet).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from revbook.demo.common import INDUSTRIES
from revbook.demo.company import _Demo

__all__ = ["INDUSTRIES", "generate", "write"]


def generate(scale: float = 1.0, seed: int = 42, end_month: str | None = None) -> dict[str, pd.DataFrame]:
    """One DataFrame per contract table (contract column order) for the 24 months ending with
    `end_month` (default: the last complete month before `clock.today()`). Deterministic in
    (scale, seed, end_month); scale 1 ≈ 40 reps, 30k leads, 2k accounts and 1.5M usage rows."""
    frames = _Demo(scale, seed, end_month).build()
    return {name: frame for name, frame in frames.items() if isinstance(frame, pd.DataFrame)}


def write(folder: Path, scale: float = 1.0, seed: int = 42, end_month: str | None = None) -> dict[str, Path]:
    """The same tables as Parquet files in `folder` (<table>.parquet), each written as soon as it
    is complete and product usage (≈1.5M rows per unit of scale) block by block: what `revbook
    demo` loads, so scale 100 (≈150M usage rows) is built in a few GiB."""
    Path(folder).mkdir(parents=True, exist_ok=True)
    files = _Demo(scale, seed, end_month, Path(folder)).build()
    return {name: path for name, path in files.items() if isinstance(path, Path)}
