"""The words, charts and headline table of the field-sales pipeline page (notebooks/field_sales/pipeline),
for the team and for one rep."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.ticker import MaxNLocator

from revbook.departments import field_sales as fs
from revbook.departments.headlines import Headline, Unit, is_missing
from revbook.pages import charts, columns, report
from revbook.pages.report import fmt, fmt_change, md
from revbook.periods import Period
from revbook.settings import Company

# ---------------------------------------------------------------- who and the headline numbers


def who(reps: pd.DataFrame, rep_id: str | None) -> str:
    """Whom the page is for: "the field-sales team", or the rep's name and id (plain text)."""
    if rep_id is None:
        return "the field-sales team"
    return f"{reps.set_index('rep_id').loc[rep_id, 'name']} ({rep_id})"


def heading(reps: pd.DataFrame, rep_id: str | None, period: Period) -> str:
    """The page's first computed heading (Markdown), naming the rep on a personal page."""
    return f"## Pipeline — {md(who(reps, rep_id))}, {period.label}"


def differences(items: list[Headline], before: dict, compared_with: dict) -> report.Differences:
    """The headline keys whose change against the previous month's numbers `before`, and against the
    reference's `compared_with`, is told as a difference: where fs.percent_comparable says a
    percentage would mean nothing."""
    keys = {i.key for i in items}
    return keys - fs.percent_comparable(before), keys - fs.percent_comparable(compared_with)


def headlines(items: list[Headline], title: str, reference: str, before: dict, compared_with: dict) -> None:
    """The headline table, with `differences` where a percentage would mean nothing."""
    report.headlines(items, title, reference, differences(items, before, compared_with))


def summary(now: dict, compared_with: dict, reference: str) -> str:
    """The month in one sentence: contracts and MRR won against the reference, win rate, pipeline."""
    def vs(key: str, unit: Unit) -> str:
        if compared_with.get(key) is None:
            return ""
        return f" ({reference.lower()} {md(fmt(compared_with[key], unit))})"
    rate = ("no deal closed" if now["win_rate"] is None else f"a win rate of {md(fmt(now['win_rate'], 'pct'))}")
    return (f"{md(fmt(now['won_deals'], 'count'))} contracts won{vs('won_deals', 'count')} for "
            f"{md(fmt(now['new_mrr'], 'money'))} of new MRR{vs('new_mrr', 'money')}, {rate}; weighted pipeline "
            f"{md(fmt(now['weighted_pipeline'], 'money'))}.")


def comparison_note(before: dict, compared_with: dict, reference: str) -> str:
    """Which changes are differences rather than percentages, and why ('' when none)."""
    parts = []
    for values, name in ((before, "the previous month"), (compared_with, reference.lower())):
        small = [key for key in fs.COUNTED_BY if key not in fs.percent_comparable(values)
                 and values.get(key) is not None]
        if small:
            counts = sorted({fs.COUNTED_BY[k] for k in small})
            told = ", ".join(f"{md(fmt(values[c], 'count'))} {columns.label(c).lower()}" for c in counts)
            parts.append(f"{name} ({told})")
    if not parts:
        return ""
    return (f"*Changes against fewer than {fs.MIN_COUNT_TO_COMPARE} deals are shown as differences, not "
            f"percentages: {'; '.join(parts)}.*")


# ---------------------------------------------------------------- pipeline and forecast


def pipeline_chart(pipe: pd.DataFrame, period: Period) -> None:
    """Open MRR and weighted MRR of the active stages (keep_interest is in the table)."""
    active = pipe[pipe["stage"] != "keep_interest"]
    frame = active.set_index(pd.Index(columns.display_names("stage", active["stage"])))[["mrr", "weighted_mrr"]]
    ax = frame.rename(columns=columns.label).plot.bar(rot=0)
    charts.money_axis(ax)
    ax.set_title(f"Open pipeline by active stage, end of {period.label}")
    ax.set_xlabel("")
    charts.show(f"Open MRR and weighted MRR by active stage (qualification, proposal, negotiation), "
                f"end of {period.label}")


def pipeline_sentence(pipe: pd.DataFrame, at_start: pd.DataFrame, period: Period) -> str:
    """Open MRR now against the month start, and the stage that holds most of it."""
    total, before = float(pipe["mrr"].sum()), float(at_start["mrr"].sum())
    if not total:
        return f"No open deals at the end of {period.label}."
    top = pipe.loc[pipe["mrr"].idxmax()]
    active = pipe[pipe["stage"] != "keep_interest"]
    lead = active.loc[active["mrr"].idxmax()] if active["mrr"].sum() else None
    stage = columns.column("stage").display
    text = (f"{md(fmt(total, 'money'))} of open MRR in {md(fmt(pipe['deals'].sum(), 'count'))} deals at the end of "
            f"{period.label}, {md(fmt_change(total, before, 'money'))} on the month start "
            f"({md(fmt(before, 'money'))}); {stage(top['stage'])} holds the most "
            f"({md(fmt(top['mrr'], 'money'))}, {md(fmt(top['mrr'] / total, 'pct'))})")
    if lead is not None and lead["stage"] != top["stage"]:
        text += f", {stage(lead['stage'])} the most of the active stages ({md(fmt(lead['mrr'], 'money'))})"
    return text + "."


def forecast_sentence(pipe: pd.DataFrame, at_start: pd.DataFrame, period: Period) -> str:
    """Next month's forecast, and how the one made at this month's start turned out."""
    return (f"**Forecast for {period.shift(1).label}:** {md(fmt(pipe['forecast_mrr'].sum(), 'money'))} of new MRR "
            f"from the deals open now. The same forecast made at the start of {period.label} said "
            f"{md(fmt(at_start['forecast_mrr'].sum(), 'money'))}; those deals brought "
            f"{md(fmt(at_start['won_next_mrr'].sum(), 'money'))}.")


def open_deals_sentence(deals: pd.DataFrame) -> str:
    """How many deals are open, their MRR, and the largest."""
    if deals.empty:
        return "No open deals at the month end."
    top = deals.iloc[0]
    return (f"{md(fmt(len(deals), 'count'))} open deals, {md(fmt(deals['amount'].sum(), 'money'))} of MRR; the largest "
            f"is {md(top['opportunity_id'] if is_missing(top['account_name']) else top['account_name'])} "
            f"({columns.column('stage').display(top['stage'])}, "
            f"{md(fmt(top['amount'], 'money'))}, last touched {md(fmt(top['days_since_touch'], 'count'))} days ago).")


# ---------------------------------------------------------------- stage flow, win rates, lead time


def stage_flow_sentence(flow: pd.DataFrame) -> str:
    """Deals created that were won, and the step that loses the most."""
    f = flow.set_index("stage")
    created, won = f.loc["qualification", "entered_any"], f.loc["closed_won", "entered_any"]
    if not created:
        return "No deals created in the last 12 months."
    steps = f["conversion_any"].dropna()
    text = (f"Of {md(fmt(created, 'count'))} deals that entered qualification in the last 12 months, "
            f"{md(fmt(won, 'count'))} were won ({md(fmt(won / created, 'pct'))})")
    if not steps.empty:
        stage = columns.column("stage").display
        worst = steps.idxmin()
        before = f.index[f.index.get_loc(worst) - 1]
        text += (f"; the steepest step is {stage(before)} → {stage(worst)}, "
                 f"{md(fmt(steps[worst], 'pct'))} go on")
    return text + "."


def industry_chart(frame: pd.DataFrame) -> None:
    """Win rate per industry, most closed deals on top."""
    ax = frame.plot.barh(x="industry", y="win_rate", legend=False, color="#4c72b0")
    ax.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.invert_yaxis()
    ax.set_title("Win rate by industry, last 12 months")
    ax.set_xlabel(columns.label("win_rate"))
    ax.set_ylabel("")
    charts.show(f"Win rate of the deals closed in the last 12 months by industry, {len(frame)} industries, "
                "most closed first")


def win_rate_sentence(quarters: tuple[float | None, float | None], industries: pd.DataFrame,
                      min_closed: int = 10) -> str:
    """The win rate of the last three months against the three before, and the best and worst industry
    among those with at least `min_closed` deals closed."""
    now, before = quarters
    if now is None:
        text = "No deals closed in the last three months" + (
            "" if before is None else f" (win rate {md(fmt(before, 'pct'))} in the three before)")
    elif before is None:
        text = f"Win rate {md(fmt(now, 'pct'))} over the last three months; no deals closed in the three before"
    else:
        text = (f"Win rate {md(fmt(now, 'pct'))} over the last three months, against {md(fmt(before, 'pct'))} "
                f"the three before ({md(fmt_change(now, before, 'pct'))})")
    big = industries[industries["closed"] >= min_closed].dropna(subset=["win_rate"])
    if len(big) >= 2:
        best, worst = big.loc[big["win_rate"].idxmax()], big.loc[big["win_rate"].idxmin()]
        text += (f"; over 12 months {md(best['industry'])} wins most ({md(fmt(best['win_rate'], 'pct'))} of "
                 f"{md(fmt(best['closed'], 'count'))}) and {md(worst['industry'])} least "
                 f"({md(fmt(worst['win_rate'], 'pct'))} of {md(fmt(worst['closed'], 'count'))})")
    return text + "."


def lead_time_chart(lead: pd.DataFrame) -> None:
    """How lead times of the deals won spread, inbound and outbound side by side."""
    groups = list(lead.groupby("direction"))
    ax = plt.gca()
    ax.hist([g["days"] for _, g in groups], weights=[g["won"] for _, g in groups], bins=12,
            label=columns.display_names("direction", [d for d, _ in groups]))
    ax.set_title("Lead time of deals won, last 12 months")
    ax.set_xlabel("Days from lead to won")
    ax.set_ylabel("Deals won")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # whole deals
    ax.legend()
    charts.show("Histogram of the lead time (days from lead to won) of the deals won in the last 12 months, "
                "inbound and outbound")


def direction_sentence(by_direction: pd.DataFrame) -> str:
    """Inbound against outbound on win rate and median lead time."""
    d = by_direction.set_index("direction")
    if not {"inbound", "outbound"} <= set(d.index):
        return "Not enough deals closed both inbound and outbound in the last 12 months to compare them."
    i, o = d.loc["inbound"], d.loc["outbound"]
    text = f"Inbound deals won {md(fmt(i['win_rate'], 'pct'))} against {md(fmt(o['win_rate'], 'pct'))} outbound"
    unwon = [name for name, row in (("inbound", i), ("outbound", o)) if is_missing(row["median_lead_time"])]
    if unwon:
        return text + f"; no {' or '.join(unwon)} deal was won, so lead times do not compare."
    return (text + f", with a median lead time of {md(fmt(i['median_lead_time'], 'days'))} against "
            f"{md(fmt(o['median_lead_time'], 'days'))}.")


# ---------------------------------------------------------------- idle deals, caps and the team


def idle_sentence(idle: pd.DataFrame, company: Company) -> str:
    """How many deals go back to inside sales, and their MRR."""
    keep = int((idle["stage"] == "keep_interest").sum())
    return (f"{md(fmt(len(idle), 'count'))} deals idle for {company.idle_deal_days} days or more go back to inside "
            f"sales ({keep} of them in keep interest), {md(fmt(idle['amount'].sum(), 'money'))} of MRR"
            + (f"; the longest idle for {md(fmt(idle['days_idle'].max(), 'count'))} days." if len(idle) else "."))


def cap_sentences(caps: pd.DataFrame) -> list[str]:
    """An alert per rep over the keep_interest cap; else one line: how many the one rep holds, or
    that no rep is over the cap and who holds the most."""
    over = caps[caps["over_cap"]]
    if not over.empty:
        return [f"**Alert: {md(r['name'])} ({md(r['rep_id'])}) holds {md(fmt(r['keep_interest'], 'count'))} "
                f"keep-interest deals**, over the cap of {md(fmt(r['keep_interest_cap'], 'count'))}."
                for _, r in over.iterrows()]
    if caps.empty:
        return []
    cap = md(fmt(caps["keep_interest_cap"].iloc[0], "count"))
    if len(caps) == 1:
        r = caps.iloc[0]
        return [f"{md(r['name'])} holds {md(fmt(r['keep_interest'], 'count'))} keep-interest deals, within the cap "
                f"of {cap}."]
    most = caps.loc[caps["keep_interest"].idxmax()]
    return [f"No rep holds more keep-interest deals than the cap of {cap}; the most is {md(most['name'])} "
            f"({md(most['rep_id'])}) with {md(fmt(most['keep_interest'], 'count'))}."]


def team_sentence(results: pd.DataFrame, period: Period) -> str:
    """How many reps won a contract and made a proposal this month."""
    n = len(results)
    if not n:
        return "No active field-sales reps in the reps table."
    won = int((results["won_deals"] > 0).sum())
    proposing = int((results["proposals"] > 0).sum())
    return (f"In {period.label} {won} of {n} active reps won at least one contract and {proposing} of {n} made a "
            "proposal (by rep id: a picture of the team, not a ranking).")


def definitions(company: Company) -> str:
    """The page's "Definitions" section (Markdown), with the company's thresholds."""
    return f"""\
- **Proposals**: accounts with a proposal activity (an activity on a deal in the proposal stage) in the 30 days to \
the month end, rolling.
- **Win rate**: deals won ÷ deals closed (won or lost) in the period; by segment over the last 12 months.
- **Lead time**: days from the lead's creation (the deal's, when it has no lead) to closed won.
- **Close rate** of a stage: of the deals that sat in the stage at a month start over the last 12 months and have \
closed since, the share won. Measured, not assumed; keep-interest deals have no closed history and weigh nothing \
until they do.
- **Weighted pipeline**: open MRR × each stage's close rate, summed.
- **Forecast**: each stage's open MRR × the share of such MRR won within a month over the last 12 months.
- **Stage flow**: deals created in the last 12 months through qualification → proposal → negotiation → won. \
*Any order* counts every deal that entered a stage (a skipped stage counts as reached); *strict* only those that \
passed every earlier stage in order. Days in stage run from entering a stage to entering the next.
- **Idle deals**: open deals with nothing done on them (no activity, no stage change) for {company.idle_deal_days} \
days or more at the month end (`idle_deal_days`, params/company.yaml) go back to inside sales, keep-interest deals \
included. Keep-interest deals are also capped at {company.keep_interest_cap} per rep (`keep_interest_cap`).
- **Comparisons**: the team page compares with the plan, a personal page with the median of the active reps. A \
change against fewer than {fs.MIN_COUNT_TO_COMPARE} deals is shown as a difference, not a percentage.
"""
