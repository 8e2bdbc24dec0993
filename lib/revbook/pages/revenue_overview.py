"""The words and formatted tables of the Sales Ops revenue overview (notebooks/sales_ops/revenue_overview)."""

from __future__ import annotations

import pandas as pd

from revbook.departments.headlines import Unit
from revbook.departments.sales_ops import RevenueOverview
from revbook.pages.report import fmt, fmt_change

FUNNEL_STEPS: tuple[tuple[str, str, Unit], ...] = (
    ("new_leads", "New leads", "count"),
    ("meeting_rate", "× meetings ÷ leads", "pct"),  # step ratios of one month's counts, not one cohort's
    ("opportunity_rate", "× opportunities ÷ meetings", "pct"),  # rates: each can pass 100%
    ("win_rate", "× won ÷ opportunities", "pct"),
    ("average_deal_size", "× average deal size", "money"),
    ("new_revenue", "= new MRR from the funnel", "money"),
)


def summary(overview: RevenueOverview) -> str:
    """One sentence with the month's key movements, for the top of the page (MRR left out when no
    subscriptions were loaded: the page says so above it)."""
    now, before = overview.values(0), overview.values(-1)
    won = f"{fmt(now['won_deals'], 'count')} deals won from {fmt(now['new_leads'], 'count')} new leads."
    if now["ending_mrr"] is None:
        return won[0].upper() + won[1:]
    plan = overview.target("ending_mrr")
    vs_plan = f", {fmt_change(now['ending_mrr'], plan, 'money')} vs plan" if plan is not None else ""
    return (
        f"Ending MRR was **{fmt(now['ending_mrr'], 'money')}** "
        f"({fmt_change(now['ending_mrr'], before['ending_mrr'], 'money')} vs the previous month{vs_plan}); "
        f"customer churn {fmt(now['customer_churn_rate'], 'pct')}, net revenue churn "
        f"{fmt(now['net_revenue_churn_rate'], 'pct')} (NRR {fmt(now['nrr'], 'pct')}); {won}"
    )


def funnel_table(overview: RevenueOverview) -> pd.DataFrame:
    """The funnel's steps (formatted) for this month, the previous month and the target plan."""
    funnels = (overview.funnel(0), overview.funnel(-1), overview.target_funnel())
    rows = [(label, *(fmt(getattr(f, key), unit) for f in funnels)) for key, label, unit in FUNNEL_STEPS]
    return pd.DataFrame(rows, columns=["Step", "This month", "Previous month", "Target"])
