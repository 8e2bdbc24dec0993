"""Sales Ops revenue overview: MRR movements, retention and the new-revenue funnel by month; the unit
economics (ARPA, churn, LTV) that marketing ROI and customer success share."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from revbook import metrics, settings
from revbook.data import coverage
from revbook.data.warehouse import Warehouse
from revbook.departments import targets
from revbook.departments.headlines import Headline, HeadlineSpec, compare
from revbook.metrics import Funnel, revenue_kpis
from revbook.periods import Period
from revbook.settings import Company

#: Headline metrics: key (also the targets table's metric name), label, unit, good when up.
HEADLINES: tuple[HeadlineSpec, ...] = (
    ("ending_mrr", "Ending MRR", "money", True),
    ("new_mrr", "New MRR", "money", True),
    ("customer_churn_rate", "Customer churn rate", "pct", False),
    ("net_revenue_churn_rate", "Net revenue churn rate", "pct", False),
    ("grr", "GRR (monthly)", "pct", True),
    ("nrr", "NRR (monthly)", "pct", True),
    ("grr_t12m", "GRR (trailing 12 months)", "pct", True),
    ("nrr_t12m", "NRR (trailing 12 months)", "pct", True),
    ("new_leads", "New leads", "count", True),
    ("meetings", "Meetings", "count", True),
    ("opportunities", "Opportunities", "count", True),
    ("won_deals", "Won deals", "count", True),
    ("funnel_conversion", "Funnel conversion (won ÷ opportunities created)", "pct", True),
    ("average_deal_size", "Average deal size (MRR)", "money", True),
)

#: What each funnel count comes from (a table, or rows of one kind: see `Warehouse.has`): without it
#: the count is unknown, not 0. An export of calls and e-mails only (Salesforce Tasks without Events)
#: has no meetings at all, which is not zero meetings.
FUNNEL_SOURCES = {"leads": ["new_leads"], "activities.type=meeting": ["meetings"],
                  "opportunities": ["opportunities", "won_deals", "won_mrr"]}

#: The funnel's steps in order: new leads × three step ratios × average deal size = new MRR.
FUNNEL_STEPS = ("new_leads", "meeting_rate", "opportunity_rate", "funnel_conversion", "average_deal_size",
                "new_revenue")

#: The dated columns of the tables this page counts from (not subscriptions.end_date: a contract may end in the future).
DATED_COLUMNS = {"leads": ("created_at",), "activities": ("occurred_at",), "opportunities": ("created_at", "closed_at"),
                 "subscriptions": ("start_date",)}
#: Days at a month's end without any of them that still read as a complete month (a weekend, a holiday).
QUIET_DAYS = 3


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
        values["funnel_conversion"] = funnel.funnel_conversion
        return {k: (None if v is None or pd.isna(v) else float(v)) for k, v in values.items()}

    def headlines(self) -> list[Headline]:
        plan = targets.for_month(self.targets, self.month()["month"])
        return compare(HEADLINES, self.values(0), self.values(-1), plan)

    def new_mrr_target(self) -> float | None:
        """The page's one new-MRR target: the targets table's new_mrr for the month. The plan sets it
        directly; its step targets (leads, meetings, opportunities, won deals, deal size) are each
        stretched on their own, so their product compounds the stretches and overshoots it (14 won
        deals × ¥116,000 = ¥1,624,000 against ¥1,524,000 in the demo's 2026-11). The headline compares
        New MRR with this figure and the funnel's last row shows it, so the page names one target."""
        return self.target("new_mrr")

    def target_funnel(self) -> Funnel:
        """The funnel the plan's step targets imply: planned leads, meetings, opportunities and won
        deals at the planned average deal size (NaN where the plan has no value: unknown, not 0)."""
        leads, meetings, opportunities, won, size = (
            float("nan") if v is None else v
            for v in map(self.target, ("new_leads", "meetings", "opportunities", "won_deals", "average_deal_size")))
        return Funnel(leads, meetings, opportunities, won, won * size)

    def funnel_steps(self) -> pd.DataFrame:
        """The funnel's steps (`FUNNEL_STEPS`) for this month, the previous month and the plan: one row
        a step (`step`), numbers in `this_month`, `previous_month` and `funnel_target` (the plan; the
        key `target` is marketing's target industry). The plan's last row is `new_mrr_target`, not
        the step targets' product (see there)."""
        funnels = {"this_month": self.funnel(0), "previous_month": self.funnel(-1),
                   "funnel_target": self.target_funnel()}
        frame = pd.DataFrame({"step": FUNNEL_STEPS, **{
            column: [getattr(f, step) for step in FUNNEL_STEPS] for column, f in funnels.items()}})
        frame.loc[frame["step"] == "new_revenue", "funnel_target"] = self.new_mrr_target()
        return frame.astype({c: "float64" for c in funnels})

    def target_funnel_gap(self) -> float | None:
        """How far the step targets' product lies above the new-MRR target (None when either is unknown)."""
        product, target = self.target_funnel().new_revenue, self.new_mrr_target()
        if product is None or target is None or pd.isna(product):
            return None
        return float(product - target)

    def bridge(self) -> pd.DataFrame:
        """The month's revenue bridge (`metrics.mrr_bridge`): `step` and its signed `bridge_mrr`."""
        return metrics.mrr_bridge(self.month()).rename(columns={"amount": "bridge_mrr"})

    def retention(self) -> pd.DataFrame:
        """Each month's churn and retention rates, oldest first: the month's (monthly) and the trailing
        12 months' GRR and NRR."""
        return self.months[["month", "customer_churn_rate", "net_revenue_churn_rate", "grr", "nrr", "grr_t12m",
                            "nrr_t12m"]].rename(
            columns={"customer_churn_rate": "customer_churn", "net_revenue_churn_rate": "net_revenue_churn",
                     "grr": "month_grr", "nrr": "month_nrr", "grr_t12m": "t12m_grr", "nrr_t12m": "t12m_nrr"}
        ).reset_index(drop=True)


def conventions(company: Company) -> dict[str, str]:
    """The bound parameters of every mart that reads subscriptions: when a subscription stops being paid
    (params/company.yaml subscription_end)."""
    return {"subscription_end": company.subscription_end}


def movements(wh: Warehouse, months: list[dt.date], company: Company | None = None) -> pd.DataFrame:
    """The MRR movements of `months` (mart mrr_movements) under the company's revenue conventions
    (subscription_end, same_month_new_and_churn, reactivation_after_months), with the retention metrics
    (`metrics.revenue_kpis`)."""
    company = company or settings.company()
    return revenue_kpis(wh.mart("mrr_movements", months=months, **conventions(company),
                                same_month_new_and_churn=company.same_month_new_and_churn,
                                reactivation_after_months=company.reactivation_after_months))


#: Months of customer churn that LTV's churn rate averages.
LTV_CHURN_MONTHS = 12


@dataclass(frozen=True)
class Economics:
    """What a won MRR is worth, on one basis every page uses: ARPA at the month end (ending MRR ÷
    customers at the month end), gross margin from params, and the monthly customer churn rate averaged
    over the LTV_CHURN_MONTHS months to the month (one month's churn swings too much to price a lifetime).
    So LTV's churn is not the month's headline churn rate; pages name both."""

    gross_margin: float
    monthly_churn: float | None  # the mean of the months' customer churn rates
    arpa: float | None
    months: int = LTV_CHURN_MONTHS  # months with a churn rate in the average

    @property
    def ltv(self) -> float | None:
        """ARPA × gross margin ÷ monthly churn (`metrics.ltv`)."""
        if self.arpa is None or self.monthly_churn is None:
            return None
        return metrics.ltv(self.arpa, self.gross_margin, self.monthly_churn)


def economics(wh: Warehouse, period: Period, gross_margin: float) -> Economics:
    """The unit economics of `period` (see `Economics` for the basis): the LTV every page shows."""
    kpis = movements(wh, [p.start for p in period.trailing(LTV_CHURN_MONTHS)])
    if kpis.empty:  # no subscriptions loaded: churn and ARPA are unknown
        return Economics(gross_margin, None, None, 0)
    churn = kpis["customer_churn_rate"].dropna()
    last = kpis.iloc[-1]
    arpa = metrics.ratio(float(last["ending_mrr"]), float(last["customers_end"]))
    return Economics(gross_margin, float(churn.mean()) if len(churn) else None, arpa, len(churn))


def overview(wh: Warehouse, period: Period, trend_months: int = 12) -> RevenueOverview:
    """Load the window of `trend_months` months ending with `period` (plus one before it)."""
    window = [p.start for p in period.trailing(max(trend_months, 2))]
    moves = movements(wh, window)
    funnel = coverage.unknown_without(wh, wh.mart("funnel_monthly", months=window), FUNNEL_SOURCES)
    # every month of the window, whether or not subscriptions were loaded (then its MRR is unknown)
    months = funnel[["month"]].merge(moves, on="month", how="left").merge(funnel, on="month", how="left")
    months["month"] = pd.to_datetime(months["month"]).dt.date
    return RevenueOverview(period, months, targets.monthly(wh, "sales_ops", window))


def incomplete(through: dt.date | None, period: Period) -> bool:
    """Whether the data stops more than `QUIET_DAYS` before the period's last day (unknown: no)."""
    return through is not None and (period.last_day - through).days > QUIET_DAYS
