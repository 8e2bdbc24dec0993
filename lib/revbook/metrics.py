"""Metric definitions (DESIGN.md, "Metric definitions"): one function per metric, used everywhere.

Every function takes plain numbers or pandas Series (one value per month) and never divides by
zero: a zero or missing denominator gives None (scalars) or NaN (Series), shown as "n/a".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TypeVar

import pandas as pd

Num = TypeVar("Num", float, pd.Series)


def ratio(numerator: Num, denominator: Num) -> Num | None:
    """numerator ÷ denominator; None (or NaN per Series element) where the denominator is 0."""
    if isinstance(denominator, pd.Series):
        den = denominator.astype("float64")
        return numerator / den.where(den != 0)
    if isinstance(numerator, pd.Series):
        return numerator / (float(denominator) if denominator else float("nan"))
    if denominator is None or pd.isna(denominator) or denominator == 0 or numerator is None:
        return None
    return float(numerator) / float(denominator)


def customer_churn_rate(churned_customers: Num, customers_at_start: Num) -> Num | None:
    """Customers who churned in the month ÷ customers at month start."""
    return ratio(churned_customers, customers_at_start)


def net_revenue_churn_rate(
    churned_mrr: Num, contraction_mrr: Num, expansion_mrr: Num, starting_mrr: Num
) -> Num | None:
    """(MRR lost: churn + contraction − MRR gained from existing customers: expansion) ÷ last
    month's MRR. Negative when expansion outweighs the losses."""
    return ratio(churned_mrr + contraction_mrr - expansion_mrr, starting_mrr)


def gross_revenue_retention(churned_mrr: Num, contraction_mrr: Num, starting_mrr: Num) -> Num | None:
    """GRR: share of last month's MRR kept, ignoring expansion: (start − churn − contraction) ÷ start."""
    return ratio(starting_mrr - churned_mrr - contraction_mrr, starting_mrr)


def net_revenue_retention(
    churned_mrr: Num, contraction_mrr: Num, expansion_mrr: Num, starting_mrr: Num
) -> Num | None:
    """NRR: (start − churn − contraction + expansion) ÷ start, i.e. 1 − net revenue churn rate."""
    return ratio(starting_mrr - churned_mrr - contraction_mrr + expansion_mrr, starting_mrr)


def gross_revenue_retention_t12m(kept_mrr: Num, base_mrr: Num) -> Num | None:
    """Trailing-12-month GRR, the cohort form annual benchmarks use: of the customers paying at the month
    end 12 months before, their MRR at this month end, each capped at its MRR then (no expansion), ÷ their
    MRR then. Not the product of 12 monthly GRRs: customers won during the year are outside it, and one
    that left and came back counts with what it pays now."""
    return ratio(kept_mrr, base_mrr)


def net_revenue_retention_t12m(retained_mrr: Num, base_mrr: Num) -> Num | None:
    """Trailing-12-month NRR: of the customers paying at the month end 12 months before, their MRR at this
    month end, expansion included, ÷ their MRR then (the same cohort as `gross_revenue_retention_t12m`)."""
    return ratio(retained_mrr, base_mrr)


BRIDGE_STEPS = (
    ("starting_mrr", "Starting MRR", 1),
    ("new_mrr", "New", 1),
    ("expansion_mrr", "Expansion", 1),
    ("contraction_mrr", "Contraction", -1),
    ("churned_mrr", "Churn", -1),
    ("reactivation_mrr", "Reactivation", 1),
)


def mrr_bridge(month: pd.Series | dict) -> pd.DataFrame:
    """The month's revenue bridge: starting MRR + new + expansion − contraction − churn +
    reactivation = ending MRR, as signed steps (label, amount) ending with the computed total.
    Raises if the steps do not sum to the month's ending MRR (the mart and the bridge disagree)."""
    rows = [(label, sign * float(month[key])) for key, label, sign in BRIDGE_STEPS]
    total = sum(amount for _, amount in rows)
    ending = float(month["ending_mrr"])
    if abs(total - ending) > 0.01 + 1e-9 * abs(ending):
        raise ValueError(f"MRR bridge sums to {total:,.2f} but ending MRR is {ending:,.2f}")
    return pd.DataFrame(rows + [("Ending MRR", ending)], columns=["step", "amount"])


def revenue_kpis(movements: pd.DataFrame) -> pd.DataFrame:
    """Monthly MRR movements (mart mrr_movements) with the retention metrics added: the month's (grr,
    nrr: monthly rates) and the trailing 12 months' (grr_t12m, nrr_t12m)."""
    m = movements.copy()
    m["customer_churn_rate"] = customer_churn_rate(m["churned_customers"], m["customers_start"])
    args = (m["churned_mrr"], m["contraction_mrr"])
    m["net_revenue_churn_rate"] = net_revenue_churn_rate(*args, m["expansion_mrr"], m["starting_mrr"])
    m["grr"] = gross_revenue_retention(*args, m["starting_mrr"])
    m["nrr"] = net_revenue_retention(*args, m["expansion_mrr"], m["starting_mrr"])
    m["grr_t12m"] = gross_revenue_retention_t12m(m["t12m_kept_mrr"], m["t12m_base_mrr"])
    m["nrr_t12m"] = net_revenue_retention_t12m(m["t12m_retained_mrr"], m["t12m_base_mrr"])
    return m


def funnel_conversion(won: Num, opportunities_created: Num) -> Num | None:
    """Funnel conversion = deals won in the month ÷ opportunities created in the month: a ratio of two
    flows of the same month, not one cohort followed through, so it swings and can pass 100%. Not the
    win rate (`win_rate`: won ÷ closed)."""
    return ratio(won, opportunities_created)


@dataclass(frozen=True)
class Funnel:
    """New-revenue funnel: new leads × meeting rate × opportunity rate × funnel conversion × average
    deal size. Each rate is the ratio of consecutive steps (meetings ÷ leads, opportunities ÷
    meetings, won ÷ opportunities created); average deal size = won MRR ÷ won deals."""

    new_leads: float
    meetings: float
    opportunities: float
    won_deals: float
    won_mrr: float

    @property
    def meeting_rate(self) -> float | None:
        return ratio(self.meetings, self.new_leads)

    @property
    def opportunity_rate(self) -> float | None:
        return ratio(self.opportunities, self.meetings)

    @property
    def funnel_conversion(self) -> float | None:
        return funnel_conversion(self.won_deals, self.opportunities)

    @property
    def average_deal_size(self) -> float | None:
        return ratio(self.won_mrr, self.won_deals)

    @property
    def new_revenue(self) -> float | None:
        """new leads × meeting rate × opportunity rate × funnel conversion × average deal size."""
        value = self.new_leads
        for f in (self.meeting_rate, self.opportunity_rate, self.funnel_conversion, self.average_deal_size):
            if f is None:
                return None
            value *= f
        return value

    @classmethod
    def from_row(cls, row: pd.Series | dict) -> Funnel:
        return cls(*(float(row[k]) for k in ("new_leads", "meetings", "opportunities", "won_deals", "won_mrr")))


# ---------------------------------------------------------------- marketing

MONTHS_PER_YEAR = 12


def ctr(clicks: Num, impressions: Num) -> Num | None:
    """Click-through rate = clicks ÷ impressions."""
    return ratio(clicks, impressions)


def cpc(cost: Num, clicks: Num) -> Num | None:
    """Cost per click = cost ÷ clicks."""
    return ratio(cost, clicks)


def cvr(leads: Num, clicks: Num) -> Num | None:
    """Conversion rate = leads ÷ clicks."""
    return ratio(leads, clicks)


def cpl(cost: Num, leads: Num) -> Num | None:
    """Cost per lead (CPA/CPL) = cost ÷ leads."""
    return ratio(cost, leads)


def cost_per_target_lead(cost: Num, target_leads: Num) -> Num | None:
    """Cost ÷ target leads (leads in a target industry)."""
    return ratio(cost, target_leads)


def cac(cost: Num, new_customers: Num) -> Num | None:
    """Customer acquisition cost = cost ÷ new customers won. The headline passes the paid channels' spend
    and the deals their leads won (params paid_channels); `loaded_cac` adds the sales cost."""
    return ratio(cost, new_customers)


def first_year_revenue(mrr: Num) -> Num:
    """Revenue of won deals over their first year: MRR × 12."""
    return mrr * MONTHS_PER_YEAR


def ltv(arpa: Num, gross_margin: float, monthly_churn: Num) -> Num | None:
    """LTV = ARPA × gross margin × expected lifetime in months (1 ÷ monthly customer churn rate). Which
    ARPA and churn go in is `sales_ops.economics`'s basis, the one every page uses."""
    return ratio(arpa * gross_margin, monthly_churn)


def roas(revenue: Num, cost: Num) -> Num | None:
    """Return on ad spend = attributed revenue ÷ cost."""
    return ratio(revenue, cost)


def roi(revenue: Num, cost: Num) -> Num | None:
    """Return on investment = (attributed revenue − cost) ÷ cost."""
    return ratio(revenue - cost, cost)


def cac_payback_months(cost: Num, won_mrr: Num, gross_margin: float) -> Num | None:
    """Months of the won deals' gross margin needed to earn back their cost: cost ÷ (MRR × margin)."""
    return ratio(cost, won_mrr * gross_margin)


# ---------------------------------------------------------------- inside sales


def connect_rate(connects: Num, calls: Num) -> Num | None:
    """Connected calls ÷ calls; the definition's rate is per direction (inbound and outbound apart), the
    pooled one is labelled "all calls"."""
    return ratio(connects, calls)


def loaded_cac(marketing_cost: Num, sales_cost: Num, new_customers: Num) -> Num | None:
    """CAC with the sales cost (cac_includes_sales_cost): (paid marketing spend + sales cost) ÷ new
    customers won, every one of them, whichever channel brought it: the sales team works them all."""
    return ratio(marketing_cost + sales_cost, new_customers)


@dataclass(frozen=True)
class CallChain:
    """Call → connect → SQL: connect rate = connects ÷ calls, SQL rate = SQLs ÷ connects."""

    calls: float
    connects: float
    sqls: float

    @property
    def connect_rate(self) -> float | None:
        return connect_rate(self.connects, self.calls)

    @property
    def sql_per_connect(self) -> float | None:
        return ratio(self.sqls, self.connects)

    @property
    def sql_per_call(self) -> float | None:
        return ratio(self.sqls, self.calls)


def sql_capacity(rep_capacity: float | None, segment: str | None, by_segment: dict[str, int]) -> float | None:
    """A field-sales rep's monthly SQL capacity: the rep's own (reps.monthly_sql_capacity) when set,
    else the rule for the rep's segment (params/company.yaml fs_capacity_by_segment)."""
    if rep_capacity is not None and not pd.isna(rep_capacity):
        return float(rep_capacity)
    if segment is None or segment not in by_segment:
        return None
    return float(by_segment[segment])


def weighted_median(values: pd.Series, weights: pd.Series) -> float | None:
    """The median of `values` repeated `weights` times (e.g. days to close from a histogram)."""
    mask = weights > 0
    if not mask.any():
        return None
    order = values[mask].sort_values()
    cum = weights[mask].loc[order.index].cumsum()
    half = cum.iloc[-1] / 2
    lower = order[cum >= half].iloc[0]
    if (cum == half).any():  # an even count splitting exactly between two values
        upper = order[cum > half].iloc[0]
        return float((lower + upper) / 2)
    return float(lower)


# ---------------------------------------------------------------- field sales

#: Proposals are counted over the last this many days up to the period end (rolling: B2B lead
#: time makes last month's proposals this month's revenue).
PROPOSAL_WINDOW_DAYS = 30


def win_rate(won: Num, closed: Num) -> Num | None:
    """Win rate (成約率) = won ÷ closed (won or lost) deals of the period. The revenue funnel's won ÷
    opportunities created is `funnel_conversion`."""
    return ratio(won, closed)


def proposal_window(end: dt.date) -> tuple[dt.date, dt.date]:
    """[start, end) of the rolling proposal count that ends at `end` (exclusive)."""
    return end - dt.timedelta(days=PROPOSAL_WINDOW_DAYS), end


def idle_cutoff(asof: dt.date, idle_days: int) -> dt.datetime:
    """A deal open at `asof` (exclusive) is idle when its last touch is at or before this instant,
    i.e. nothing happened on it for `idle_days` full days."""
    return dt.datetime.combine(asof, dt.time()) - dt.timedelta(days=idle_days)


def stage_close_rate(won: Num, lost: Num) -> Num | None:
    """P(won | stage): of the deal-months seen in a stage (a deal once for each month start it sat there)
    whose deal has since closed, the share won."""
    return ratio(won, won + lost)


def weighted_pipeline(mrr: pd.Series, close_rate: pd.Series) -> float:
    """Σ open MRR × its stage's close rate; a stage without closed history counts 0."""
    return float((mrr * close_rate.astype("float64").fillna(0.0)).sum())


def step_conversion(counts: pd.Series) -> pd.Series:
    """Stage-to-stage conversion: each count ÷ the one before (the first is n/a)."""
    return ratio(counts, counts.shift(1))


# ---------------------------------------------------------------- customer success


def auc(risk: pd.Series, positive: pd.Series) -> float | None:
    """Area under the ROC curve: the chance that a random positive (e.g. a churner) has a higher
    `risk` than a random negative, ties counting half (the Mann-Whitney U ÷ n₁n₀)."""
    pos = positive.astype(bool).to_numpy()
    n1, n0 = int(pos.sum()), int((~pos).sum())
    if n1 == 0 or n0 == 0:
        return None
    ranks = risk.rank(method="average").to_numpy()
    return float((ranks[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def cohort_retention(retained: Num, cohort_size: Num) -> Num | None:
    """Retention of a start-month cohort at a later month: accounts (logo) or MRR (revenue) still
    there ÷ the cohort's accounts or MRR at the end of its first month."""
    return ratio(retained, cohort_size)


#: A new customer's onboarding window: the first days from its first subscription's start (the
#: cs_onboarding mart counts login days in it).
ONBOARDING_DAYS = 30


def onboarding_cohort(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The first-start dates [from, to) of the new customers whose onboarding window ends in the
    period [start, end): judged once their window is over, each customer counts in exactly one period."""
    back = dt.timedelta(days=ONBOARDING_DAYS - 1)
    return start - back, end - back


def onboarding_completion_rate(completed: Num, new_customers: Num) -> Num | None:
    """New customers who completed onboarding (health.onboarding_login_days login days in their
    first ONBOARDING_DAYS) ÷ new customers whose onboarding window ended in the period."""
    return ratio(completed, new_customers)


def auc_interval(auc_value: float, positives: int, negatives: int, z: float = 1.96) -> tuple[float, float]:
    """95% interval of an AUC from the Hanley-McNeil (1982) standard error, clipped to 0-1: how
    sure a hold-out with few positives (churns) lets us be."""
    q1, q2 = auc_value / (2 - auc_value), 2 * auc_value**2 / (1 + auc_value)
    var = (auc_value * (1 - auc_value) + (positives - 1) * (q1 - auc_value**2)
           + (negatives - 1) * (q2 - auc_value**2)) / (positives * negatives)
    half = z * var**0.5
    return max(0.0, auc_value - half), min(1.0, auc_value + half)


def upsell_rate(expanded_customers: Num, customers_at_start: Num) -> Num | None:
    """Upsell/cross-sell rate = customers whose MRR grew in the month ÷ customers at month start."""
    return ratio(expanded_customers, customers_at_start)
