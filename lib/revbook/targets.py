"""Plan values (the targets lake table) for a department, as month × metric."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from revbook.warehouse import Warehouse


def monthly(wh: Warehouse, department: str, months: list[dt.date]) -> pd.DataFrame:
    """A department's targets for `months`: one row per month (date index), one column per metric."""
    long = wh.mart("targets", department=department, months=months)
    long["month"] = pd.to_datetime(long["month"]).dt.date
    return long.pivot_table(index="month", columns="metric", values="target", aggfunc="first")


def for_month(wide: pd.DataFrame, month: dt.date) -> dict[str, float]:
    """The targets set for one month, metric → value (missing metrics are simply absent)."""
    if month not in wide.index:
        return {}
    return {k: float(v) for k, v in wide.loc[month].items() if pd.notna(v)}
