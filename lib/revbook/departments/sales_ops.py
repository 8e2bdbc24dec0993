"""Sales Ops revenue overview: MRR movements, retention and the new-revenue funnel by month; the unit
economics (ARPA, churn, LTV) that marketing ROI and customer success share."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from revbook import metrics
from revbook.data import coverage
from revbook.data.warehouse import Warehouse
from revbook.departments import targets
from revbook.departments.headlines import Headline, HeadlineSpec, compare
from revbook.metrics import Funnel, revenue_kpis
from revbook.periods import Period

#: Headline metrics: key (also the targets table's metric name), label, unit, good when up.
HEADLINES: tuple[HeadlineSpec, ...] = (
    ("ending_mrr", "Ending MRR", "money", True),
    ("new_mrr", "New MRR", "money", True),
    ("customer_churn_rate", "Customer churn rate", "pct", False),
    ("net_revenue_churn_rate", "Net revenue churn rate", "pct", False),
    ("grr", "Gross revenue retention (GRR)", "pct", True),
    ("nrr", "Net revenue retention (NRR)", "pct", True),
    ("new_leads", "New leads", "count", True),
    ("meetings", "Meetings", "count", True),
    ("opportunities", "Opportunities", "count", True),
    ("won_deals", "Won deals", "count", True),
    ("average_deal_size", "Average deal size (MRR)", "money", True),
)

#: What each funnel count comes from (a table, or rows of one kind: see `Warehouse.has`): without it
#: the count is unknown, not 0. An export of calls and e-mails only (Salesforce Tasks without Events)
#: has no meetings at all, which is not zero meetings.
FUNNEL_SOURCES = {"leads": ["new_leads"], "activities.type=meeting": ["meetings"],
                  "opportunities": ["opportunities", "won_deals", "won_mrr"]}


@dataclass(frozen=True)
class RevenueOverview:
    """Monthly frames for the report window, oldest month first; the last row is the period."""

    period: Period
    months: pd.DataFrame  # mrr_movements + retention metrics + funnel counts, one row per month
    targets: pd.DataFrame  # month × metric (wide), sales_ops plan values

    def month(self, offset: int = 0) -> pd.Series:
        """The period's row (offset 0) or an earlier one (offset -1: previous month)."""
        return self.months.iloc[len(self.months) - 1 + offset]

    def funnel(self, offset: int = 0) -> Funnel:
        return Funnel.from_row(self.month(offset))

    def target(self, metric: str, offset: int = 0) -> float | None:
        return targets.for_month(self.targets, self.month(offset)["month"]).get(metric)

    def values(self, offset: int = 0) -> dict[str, float | None]:
        """Every headline metric's value for the month at `offset`."""
        row, funnel = self.month(offset), self.funnel(offset)
        values = {key: row.get(key) for key, *_ in HEADLINES}
        values["average_deal_size"] = funnel.average_deal_size
        return {k: (None if v is None or pd.isna(v) else float(v)) for k, v in values.items()}

    def headlines(self) -> list[Headline]:
        plan = targets.for_month(self.targets, self.month()["month"])
        return compare(HEADLINES, self.values(0), self.values(-1), plan)

    def target_funnel(self) -> Funnel:
        """The funnel the plan implies: planned leads, meetings, opportunities and won deals at the
        planned average deal size (0 where the plan has no value)."""
        leads, meetings, opportunities, won = (self.target(k) or 0.0
                                               for k in ("new_leads", "meetings", "opportunities", "won_deals"))
        return Funnel(leads, meetings, opportunities, won, won * (self.target("average_deal_size") or 0.0))


@dataclass(frozen=True)
class Economics:
    """What a won MRR is worth: gross margin, monthly customer churn and ARPA (trailing 12 months)."""

    gross_margin: float
    monthly_churn: float | None
    arpa: float | None

    @property
    def ltv(self) -> float | None:
        if self.arpa is None or self.monthly_churn is None:
            return None
        return metrics.ltv(self.arpa, self.gross_margin, self.monthly_churn)


def economics(wh: Warehouse, period: Period, gross_margin: float) -> Economics:
    """Gross margin from params, churn and ARPA from the last 12 months of MRR movements."""
    kpis = metrics.revenue_kpis(wh.mart("mrr_movements", months=[p.start for p in period.trailing(12)]))
    if kpis.empty:  # no subscriptions loaded: churn and ARPA are unknown
        return Economics(gross_margin, None, None)
    churn = kpis["customer_churn_rate"].mean()
    last = kpis.iloc[-1]
    arpa = metrics.ratio(float(last["ending_mrr"]), float(last["customers_end"]))
    return Economics(gross_margin, None if pd.isna(churn) else float(churn), arpa)


def overview(wh: Warehouse, period: Period, trend_months: int = 12) -> RevenueOverview:
    """Load the window of `trend_months` months ending with `period` (plus one before it)."""
    window = [p.start for p in period.trailing(max(trend_months, 2))]
    movements = revenue_kpis(wh.mart("mrr_movements", months=window))
    funnel = coverage.unknown_without(wh, wh.mart("funnel_monthly", months=window), FUNNEL_SOURCES)
    # every month of the window, whether or not subscriptions were loaded (then its MRR is unknown)
    months = funnel[["month"]].merge(movements, on="month", how="left").merge(funnel, on="month", how="left")
    months["month"] = pd.to_datetime(months["month"]).dt.date
    return RevenueOverview(period, months, targets.monthly(wh, "sales_ops", window))
