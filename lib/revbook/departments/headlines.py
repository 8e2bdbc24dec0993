"""Headline numbers as data: what each department returns for the top of its page. Pages decide how
they look (`revbook.pages.report.headlines`); the runner writes them to <report>.metrics.json."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Literal

import pandas as pd

#: How a number is meant: money, a rate, a count, ... (pages format each unit its own way).
Unit = Literal["money", "pct", "count", "days", "date", "month", "ratio", "months", "p"]


def is_missing(value: object) -> bool:
    """None, NaN or NaT: a value to print as "n/a"."""
    return value is None or (not isinstance(value, (str, dt.date)) and bool(pd.isna(value)))


@dataclass(frozen=True)
class Headline:
    """One headline number with its comparisons; `good_when_up` colours the change."""

    key: str
    label: str
    value: float | None
    unit: Unit
    previous: float | None = None
    target: float | None = None
    good_when_up: bool = True

    def clean(self) -> dict:
        """JSON-ready, NaN as None."""
        data = asdict(self)
        for k in ("value", "previous", "target"):
            data[k] = None if is_missing(data[k]) else float(data[k])
        return data


#: A headline's spec: key (also the targets table's metric name), label, unit, good when up.
HeadlineSpec = tuple[str, str, Unit, bool]


def compare(specs: tuple[HeadlineSpec, ...], now: dict, before: dict, plan: dict) -> list[Headline]:
    """Headlines for `specs`: this period's values against the previous period's and the plan's."""
    return [Headline(key, label, now[key], unit, before[key], plan.get(key), up) for key, label, unit, up in specs]
