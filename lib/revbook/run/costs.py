"""What a run would scan (and cost) on BigQuery, before it runs.

A report's queries depend on its data (personal pages fan out, a model reads more months), so the
estimate replays the mart calls the report made on its last recorded run (any engine, any
period: the manifest keeps them) as BigQuery dry runs, which are free. A report never run before
has no estimate; every query still carries maximum_bytes_billed, so it cannot bill more than that.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from revbook.data.warehouse import Warehouse, decode_params
from revbook.run import index

TIB = 1024**4


@dataclass(frozen=True)
class Estimate:
    """One report's dry-run bytes (None: no recorded run to replay)."""

    key: str
    queries: int
    bytes: int | None


def recorded(outputs: Path, schedule: str) -> dict[str, list[dict[str, Any]]]:
    """Each report's mart calls on its most recent recorded run of `schedule`, by report key."""
    runs = []
    for path in outputs.glob(f"*/{index.MANIFEST}"):
        manifest = index.read_manifest(path.parent)
        if manifest is not None and manifest.get("schedule") == schedule:
            runs.append(manifest)
    runs.sort(key=lambda m: m.get("last_run", {}).get("finished_at", ""))
    found: dict[str, list[dict[str, Any]]] = {}
    for manifest in runs:  # later runs overwrite earlier ones
        for key, entry in manifest.get("reports", {}).items():
            if entry.get("status") == "ok" and entry.get("queries"):
                found[key] = entry["queries"]
    return found


def _calls(key: str, found: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]] | None:
    """The report's own record, else another personal page of the same notebook (same queries)."""
    if key in found:
        return found[key]
    notebook = key.split("--")[0]
    return next((calls for k, calls in sorted(found.items()) if k.split("--")[0] == notebook), None)


Plan = list[tuple[str, list[dict[str, Any]] | None]]  # report key, its recorded mart calls (None: no record)


def _distinct(plans: Plan) -> Plan:
    """Each distinct mart call once, on the first report that makes it: a run shares the results of
    identical calls between its reports, so only that one runs in the warehouse."""
    seen: set[str] = set()
    out: list[tuple[str, list[dict[str, Any]] | None]] = []
    for key, calls in plans:
        if calls is None:
            out.append((key, None))
            continue
        fresh = []
        for call in calls:
            ident = json.dumps([call["mart"], call["params"]], sort_keys=True)
            if ident not in seen:
                seen.add(ident)
                fresh.append(call)
        out.append((key, fresh))
    return out


def estimate(wh: Warehouse, keys: Iterable[str], outputs: Path, schedule: str) -> list[Estimate]:
    """Dry-run bytes per report (engines without `estimate`, like DuckDB, give counts only)."""
    found = recorded(outputs, schedule)
    dry_run = getattr(wh, "estimate", None)
    plans = _distinct([(key, _calls(key, found)) for key in keys])
    calls = [(c["mart"], decode_params(c["params"])) for _, cs in plans for c in cs or []]
    with ThreadPoolExecutor(8) as pool:
        sizes = list(pool.map(lambda call: dry_run(call[0], **call[1]), calls)) if dry_run else []
    out, i = [], 0
    for key, cs in plans:
        n = len(cs or [])
        out.append(Estimate(key, n, sum(sizes[i:i + n]) if dry_run and cs is not None else None))
        i += n
    return out


def show(console: Console, estimates: list[Estimate], engine: str, price_per_tib: float | None) -> None:
    """One line per report and the total: bytes scanned and, on BigQuery, the on-demand price."""
    if engine != "bigquery":
        queries = sum(e.queries for e in estimates)
        console.print(f"engine {engine}: runs locally, nothing is billed ({len(estimates)} reports, "
                      f"{queries} mart queries on their last recorded runs)")
        return
    from revbook.data.bigquery_engine import human_bytes

    def cost(n: int) -> str:
        return f" ≈ ${n / TIB * price_per_tib:,.2f}" if price_per_tib is not None else ""

    console.print("BigQuery dry run (replaying each report's last recorded queries):")
    for e in estimates:
        if e.bytes is None:
            console.print(f"  {escape(e.key)}: no recorded run to estimate from (each query is still capped by "
                          "maximum_bytes_billed)")
        else:
            console.print(f"  {escape(e.key)}: {e.queries} queries, {human_bytes(e.bytes)}{cost(e.bytes)}")
    known = [e.bytes for e in estimates if e.bytes is not None]
    unknown = len(estimates) - len(known)
    console.print(f"  total: {human_bytes(sum(known))}{cost(sum(known))}"
                  + (f" (+ {unknown} report(s) without an estimate)" if unknown else ""))
