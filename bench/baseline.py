"""The customer-success headlines of one month, the way an analyst without revbook computes them:
pandas reads the raw Parquet files of the lake, filters and groups. The definitions are the ones in
lib/revbook/metrics.py and the marts, written out by hand; `compare` checks them against revbook's
numbers and times both."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from revbook import metrics, settings
from revbook.data.duckdb_engine import DuckDBWarehouse
from revbook.departments import customer_success
from revbook.periods import Period

#: The headlines both sides compute (LTV is left out: it needs a year of movements).
KEYS = ("customer_churn_rate", "net_revenue_churn_rate", "grr", "nrr", "onboarding_completion_rate", "upsell_rate")
#: What the analyst reads: the lake tables these headlines come from.
TABLES = ("subscriptions", "product_usage_daily")


def export_lake(warehouse: Path, folder: Path) -> None:
    """The warehouse's raw tables as Parquet files, as an ETL would land them."""
    folder.mkdir(parents=True, exist_ok=True)
    with DuckDBWarehouse(warehouse) as wh:
        for table in TABLES:
            wh.con.table(table).write_parquet(str(folder / f"{table}.parquet"))


def _mrr_at(subs: pd.DataFrame, day: pd.Timestamp) -> pd.Series:
    live = (subs["start_date"] <= day) & (subs["end_date"].isna() | (subs["end_date"] > day))
    return subs[live].groupby("account_id")["mrr"].sum()


def pandas_headlines(lake: Path, period: Period, onboarding_login_days: int) -> dict[str, float]:
    subs = pd.read_parquet(lake / "subscriptions.parquet")
    subs["start_date"], subs["end_date"] = pd.to_datetime(subs["start_date"]), pd.to_datetime(subs["end_date"])
    month_start, month_end = pd.Timestamp(period.start), pd.Timestamp(period.end) - pd.Timedelta(days=1)
    before = _mrr_at(subs, month_start - pd.Timedelta(days=1))
    after = _mrr_at(subs, month_end)
    both = pd.concat({"prev": before, "cur": after}, axis=1).fillna(0.0)
    existing = both[both["prev"] > 0]
    churned = existing[existing["cur"] == 0]
    expanded = existing[existing["cur"] > existing["prev"]]
    contracted = existing[(existing["cur"] > 0) & (existing["cur"] < existing["prev"])]
    start_mrr = existing["prev"].sum()
    churn_mrr, contraction = churned["prev"].sum(), (contracted["prev"] - contracted["cur"]).sum()
    expansion = (expanded["cur"] - expanded["prev"]).sum()

    usage = pd.read_parquet(lake / "product_usage_daily.parquet")
    usage["date"] = pd.to_datetime(usage["date"])
    first = subs.groupby("account_id")["start_date"].min().rename("first_start").reset_index()
    lo = month_start - pd.Timedelta(days=metrics.ONBOARDING_DAYS - 1)
    hi = pd.Timestamp(period.end) - pd.Timedelta(days=metrics.ONBOARDING_DAYS - 1)
    cohort = first[(first["first_start"] >= lo) & (first["first_start"] < hi)]
    logins = usage[(usage["event_type"] == "login") & (usage["count"] > 0)].merge(cohort, on="account_id")
    logins = logins[(logins["date"] >= logins["first_start"])
                    & (logins["date"] < logins["first_start"] + pd.Timedelta(days=metrics.ONBOARDING_DAYS))]
    login_days = logins.groupby("account_id")["date"].nunique()
    values = {
        "customer_churn_rate": len(churned) / len(existing),
        "net_revenue_churn_rate": (churn_mrr + contraction - expansion) / start_mrr,
        "grr": (start_mrr - churn_mrr - contraction) / start_mrr,
        "nrr": (start_mrr - churn_mrr - contraction + expansion) / start_mrr,
        "onboarding_completion_rate": int((login_days >= onboarding_login_days).sum()) / len(cohort),
        "upsell_rate": len(expanded) / len(existing),
    }
    return {key: float(value) for key, value in values.items()}


@dataclass(frozen=True)
class Comparison:
    pandas_s: float
    revbook_s: float
    pandas: dict[str, float]
    revbook: dict[str, float | None]
    earlier_identical: bool = True  # every earlier round's numbers were identical too

    @property
    def identical(self) -> bool:
        return self.earlier_identical and all(self.pandas[k] == self.revbook[k] for k in KEYS)

    @property
    def ratio(self) -> float:
        return self.pandas_s / self.revbook_s


def median(rounds: list[Comparison]) -> Comparison:
    """Median times of several rounds; the numbers of the last, identical only if every round's were."""
    return Comparison(statistics.median(r.pandas_s for r in rounds), statistics.median(r.revbook_s for r in rounds),
                      rounds[-1].pandas, rounds[-1].revbook, all(r.identical for r in rounds))


def compare(warehouse: Path, lake: Path, period: Period) -> Comparison:
    """Both ways, each timed from a cold start of its own (files read, warehouse opened)."""
    company = settings.company()
    started = time.perf_counter()
    by_hand = pandas_headlines(lake, period, company.health.onboarding_login_days)
    pandas_s = time.perf_counter() - started
    started = time.perf_counter()
    with DuckDBWarehouse(warehouse, memory_limit=settings.warehouse().duckdb.memory_limit) as wh:
        values = customer_success.month_values(wh, period, company)
    revbook_s = time.perf_counter() - started
    return Comparison(pandas_s, revbook_s, by_hand, {k: values[k] for k in KEYS})
