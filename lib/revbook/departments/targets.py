"""Plan values (the targets lake table) for a department, as month × metric, or for any period."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

import pandas as pd

from revbook import periods
from revbook.data.warehouse import Warehouse
from revbook.periods import Period


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


def for_period(wh: Warehouse, department: str, period: Period, additive: Collection[str]) -> dict[str, float]:
    """The plan for any period, from the monthly targets of every month it touches: a metric in
    `additive` (a count or an amount) takes each month's target pro rata to the days of that month
    the period covers, so a week from 28 December to 3 January is 4/31 of December's plus 3/31 of
    January's; any other metric (a rate) is the covered months' targets weighted by those days. A
    metric without a target in every month the period touches is absent (unknown, not partial)."""
    days: dict[dt.date, int] = {}  # month start → days of it inside the period
    day = period.start
    while day < period.end:
        month = periods.containing("month", day)
        days[month.start] = (min(period.end, month.end) - day).days
        day = month.end
    wide = monthly(wh, department, list(days)).reindex(list(days))
    plan = {}
    for metric, values in wide.items():
        if values.isna().any():
            continue
        covered = pd.Series(days, dtype="float64")
        if metric in additive:
            month_days = pd.Series({m: periods.containing("month", m).end - m for m in days}).dt.days
            plan[str(metric)] = float((values * covered / month_days).sum())
        else:
            plan[str(metric)] = float((values * covered).sum() / covered.sum())
    return plan
