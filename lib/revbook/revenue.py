"""Sales Ops revenue overview: MRR movements, retention and the new-revenue funnel by month; the unit
economics (ARPA, churn, LTV) that marketing ROI and customer success share."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from revbook import metrics, targets
from revbook.metrics import Funnel, revenue_kpis
from revbook.periods import Period
from revbook.report import Headline, HeadlineSpec, Unit, compare, fmt, fmt_change
from revbook.warehouse import Warehouse

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

FUNNEL_STEPS: tuple[tuple[str, str, Unit], ...] = (
    ("new_leads", "New leads", "count"),
    ("meeting_rate", "× meeting rate", "pct"),
    ("opportunity_rate", "× opportunity rate", "pct"),
    ("win_rate", "× win rate", "pct"),
    ("average_deal_size", "× average deal size", "money"),
    ("new_revenue", "= new MRR from the funnel", "money"),
)


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

    def summary(self) -> str:
        """One sentence with the month's key movements, for the top of the page."""
        now, before = self.values(0), self.values(-1)
        plan = self.target("ending_mrr")
        vs_plan = f", {fmt_change(now['ending_mrr'], plan, 'money')} vs plan" if plan is not None else ""
        return (
            f"Ending MRR was **{fmt(now['ending_mrr'], 'money')}** "
            f"({fmt_change(now['ending_mrr'], before['ending_mrr'], 'money')} vs the previous month{vs_plan}); "
            f"customer churn {fmt(now['customer_churn_rate'], 'pct')}, net revenue churn "
            f"{fmt(now['net_revenue_churn_rate'], 'pct')} (NRR {fmt(now['nrr'], 'pct')}); "
            f"{fmt(now['won_deals'], 'count')} deals won from {fmt(now['new_leads'], 'count')} new leads."
        )

    def funnel_table(self) -> pd.DataFrame:
        """The funnel's steps (formatted) for this month, the previous month and the target plan."""
        now, before = self.funnel(0), self.funnel(-1)
        leads, meetings, opportunities, won = (self.target(k) or 0.0
                                               for k in ("new_leads", "meetings", "opportunities", "won_deals"))
        target_funnel = Funnel(leads, meetings, opportunities, won, won * (self.target("average_deal_size") or 0.0))
        rows = [(label, *(fmt(getattr(f, key), unit) for f in (now, before, target_funnel)))
                for key, label, unit in FUNNEL_STEPS]
        return pd.DataFrame(rows, columns=["Step", "This month", "Previous month", "Target"])


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
    churn = kpis["customer_churn_rate"].mean()
    last = kpis.iloc[-1]
    arpa = metrics.ratio(float(last["ending_mrr"]), float(last["customers_end"]))
    return Economics(gross_margin, None if pd.isna(churn) else float(churn), arpa)


def overview(wh: Warehouse, period: Period, trend_months: int = 12) -> RevenueOverview:
    """Load the window of `trend_months` months ending with `period` (plus one before it)."""
    window = [p.start for p in period.trailing(max(trend_months, 2))]
    movements = revenue_kpis(wh.mart("mrr_movements", months=window))
    funnel = wh.mart("funnel_monthly", months=window)
    months = movements.merge(funnel, on="month", how="left")
    months["month"] = pd.to_datetime(months["month"]).dt.date
    return RevenueOverview(period, months, targets.monthly(wh, "sales_ops", window))
