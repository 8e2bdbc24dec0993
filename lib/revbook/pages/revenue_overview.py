"""The words, charts and formatted tables of the Sales Ops revenue overview (notebooks/sales_ops/revenue_overview):
each sentence says what happened in the report's month, computed from the frames lib returns."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from revbook.departments import sales_ops
from revbook.departments.headlines import Unit, is_missing
from revbook.departments.sales_ops import RevenueOverview
from revbook.pages import charts, columns
from revbook.pages.report import fmt, fmt_change, md
from revbook.periods import Period

#: How each funnel step's values print.
STEP_UNITS: dict[str, Unit] = {"new_leads": "count", "meeting_rate": "pct", "opportunity_rate": "pct",
                               "funnel_conversion": "pct", "average_deal_size": "money", "new_revenue": "money"}


def _f(value: float | None, unit: Unit) -> str:
    """A value formatted and made safe for Markdown prose."""
    return md(fmt(value, unit))


def _vs(value: float | None, reference: float | None, unit: Unit) -> str:
    return md(fmt_change(value, reference, unit))


def _against(value: float | None, plan: float | None) -> str:
    """"2.5% under" / "1.0% over" / "level with" (an amount against its plan), "n/a against" when unknown."""
    if value is None or plan is None or is_missing(value) or not plan:
        return "n/a against"
    if value == plan:
        return "level with"
    return f"{_f(abs(value - plan) / abs(plan), 'pct')} {'over' if value > plan else 'under'}"


def data_note(through: dt.date | None, period: Period) -> str:
    """A warning for the top of the page when the data stops days before the period's end
    (`sales_ops.incomplete`), else ''."""
    if through is None or not sales_ops.incomplete(through, period):
        return ""
    return (f"**Data runs to {md(fmt(through, 'date'))}; the month is incomplete** (it ends "
            f"{md(fmt(period.last_day, 'date'))}): its counts and MRR movements cover part of it only.")


def summary(overview: RevenueOverview) -> str:
    """One sentence with the month's key movements, for the top of the page (MRR left out when no
    subscriptions were loaded: the page says so above it)."""
    now, before = overview.values(0), overview.values(-1)
    won = f"{_f(now['won_deals'], 'count')} deals won from {_f(now['new_leads'], 'count')} new leads."
    if now["ending_mrr"] is None:
        return won[0].upper() + won[1:]
    plan = overview.target("ending_mrr")
    vs_plan = f", {_vs(now['ending_mrr'], plan, 'money')} vs plan" if plan is not None else ""
    return (
        f"Ending MRR was **{_f(now['ending_mrr'], 'money')}** "
        f"({_vs(now['ending_mrr'], before['ending_mrr'], 'money')} vs the previous month{vs_plan}); "
        f"customer churn {_f(now['customer_churn_rate'], 'pct')}, net revenue churn "
        f"{_f(now['net_revenue_churn_rate'], 'pct')} (monthly NRR {_f(now['nrr'], 'pct')}, "
        f"{_f(now['nrr_t12m'], 'pct')} over the trailing 12 months); {won}"
    )


def bridge_chart(bridge: pd.DataFrame, period: Period) -> None:
    """The month's revenue bridge (`RevenueOverview.bridge`): totals from 0 beside the movements."""
    amounts = bridge["bridge_mrr"]
    fig = charts.waterfall(bridge["step"], amounts, f"MRR bridge, {period.label}")
    moves = ", ".join(f"{step.lower()} {charts.money_label(v)}" for step, v in zip(bridge["step"][1:-1], amounts[1:-1]))
    charts.show(f"MRR bridge for {period.label}: starting MRR {charts.money_label(amounts.iloc[0])} and ending MRR "
                f"{charts.money_label(amounts.iloc[-1])} as bars from 0; beside them, at their own scale, the "
                f"movements ({moves}) and the net change.", fig)


def bridge_sentence(bridge: pd.DataFrame) -> str:
    """What moved MRR this month: the net change, what added and what took away, the largest first."""
    start, end = bridge["bridge_mrr"].iloc[0], bridge["bridge_mrr"].iloc[-1]
    moves = bridge.iloc[1:-1].reindex(bridge["bridge_mrr"].iloc[1:-1].abs().sort_values(ascending=False).index)
    added = [f"{md(s.lower())} {_f(v, 'money')}" for s, v in zip(moves["step"], moves["bridge_mrr"]) if v > 0]
    lost = [f"{md(s.lower())} {_f(-v, 'money')}" for s, v in zip(moves["step"], moves["bridge_mrr"]) if v < 0]
    verb = "grew" if end > start else "fell" if end < start else "held"
    return (f"MRR {verb} by {_f(abs(end - start), 'money')} ({_vs(end, start, 'money')}) to "
            f"**{_f(end, 'money')}**: {', '.join(added) or 'nothing'} added; "
            f"{', '.join(lost) or 'nothing'} took away.")


def mrr_chart(months: pd.DataFrame) -> None:
    """Ending MRR month by month (`RevenueOverview.months`)."""
    span = f"{len(months)} months to {fmt(months['month'].iloc[-1], 'month')}"
    charts.show(f"Ending MRR by month, {span}",
                charts.trend(months, "month", ["ending_mrr"], f"Ending MRR, {span}"))


def mrr_sentence(overview: RevenueOverview) -> str:
    """This month's ending MRR against last month and plan, and how many months it grew."""
    mrr = overview.months["ending_mrr"]
    now, before = overview.values(0)["ending_mrr"], overview.values(-1)["ending_mrr"]
    plan = overview.target("ending_mrr")
    grew = int((mrr.diff().iloc[1:] > 0).sum())
    first, steps = md(fmt(overview.months["month"].iloc[0], "month")), len(mrr) - 1
    growth = f"it grew every month since {first}" if grew == steps else \
        f"it grew in {grew} of the {steps} months since {first}"
    return (f"Ending MRR {_f(now, 'money')}, {_vs(now, before, 'money')} on the month and {_against(now, plan)} plan; "
            f"{growth} ({_vs(now, mrr.iloc[0], 'money')}).")


def churn_chart(retention: pd.DataFrame) -> None:
    """Customer and net revenue churn by month (`RevenueOverview.retention`)."""
    span = f"{len(retention)} months to {fmt(retention['month'].iloc[-1], 'month')}"
    keys = ["customer_churn", "net_revenue_churn"]
    charts.show(f"{' and '.join(columns.label(k) for k in keys)} rate by month, {span}",
                charts.trend(retention, "month", keys, f"Churn rates, {span}", unit="pct"))


def retention_sentence(retention: pd.DataFrame) -> str:
    """This month's churn against the window's range, the month's GRR and NRR (monthly rates: in how many
    months NRR passed 100%) and the trailing 12 months' (the annual figures benchmarks quote)."""
    now, n = retention.iloc[-1], len(retention)
    churn = retention["customer_churn"]
    return (f"Customer churn {_f(now['customer_churn'], 'pct')} this month (between {_f(churn.min(), 'pct')} "
            f"and {_f(churn.max(), 'pct')} over the {n} months); net revenue churn "
            f"{_f(now['net_revenue_churn'], 'pct')}, monthly GRR {_f(now['month_grr'], 'pct')}; monthly NRR "
            f"{_f(now['month_nrr'], 'pct')}, above 100% in {int((retention['month_nrr'] > 1).sum())} of {n} months. "
            f"Over the trailing 12 months GRR is {_f(now['t12m_grr'], 'pct')} and NRR {_f(now['t12m_nrr'], 'pct')} "
            "(the customers paying 12 months ago: their MRR now ÷ their MRR then).")


def funnel_table(overview: RevenueOverview) -> pd.DataFrame:
    """The funnel's steps (`RevenueOverview.funnel_steps`), each value formatted in its step's unit."""
    steps = overview.funnel_steps()
    return steps.assign(**{column: [fmt(None if is_missing(v) else v, STEP_UNITS[step])
                                    for step, v in zip(steps["step"], steps[column], strict=True)]
                           for column in ("this_month", "previous_month", "funnel_target")})


def funnel_sentence(overview: RevenueOverview) -> str:
    """This month's new MRR from the funnel against the plan's one new-MRR target (its source named),
    the won deals and deal size behind the gap, and how far the plan's step targets overshoot it."""
    now, plan = overview.funnel(0), overview.target_funnel()
    target = overview.new_mrr_target()
    source = (f"the plan's {_f(target, 'money')} (targets table, new_mrr for {md(overview.period.label)})"
              if target is not None else "a plan (no new-MRR target in the targets table)")
    text = (f"The funnel brought {_f(now.new_revenue, 'money')} of new MRR, {_against(now.new_revenue, target)} "
            f"{source}: {_f(now.won_deals, 'count')} won deals (plan {_f(plan.won_deals, 'count')}) at "
            f"{_f(now.average_deal_size, 'money')} a deal (plan {_f(plan.average_deal_size, 'money')}).")
    gap = overview.target_funnel_gap()
    if gap:
        text += (f" The plan's step targets multiply to {_f(abs(gap), 'money')} {'more' if gap > 0 else 'less'} "
                 "than its new-MRR target, as each step is planned on its own; the table's last row shows the target.")
    return text
