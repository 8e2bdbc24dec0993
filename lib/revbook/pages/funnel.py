"""The words and charts of the inside-sales funnel page (notebooks/inside_sales/funnel) and its
weekly flash: each section's sentence says what happened in the period, from the data; what the
metrics mean is said once, in `definitions`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import HTML, display
from matplotlib.ticker import MaxNLocator, PercentFormatter

from revbook.departments.headlines import Headline, is_missing
from revbook.pages import charts, columns
from revbook.pages.report import fmt, fmt_change, md, say, table_html
from revbook.periods import Period, month_to_date
from revbook.settings import Company

#: Connect-rate unknowns say why (the banner names the column too).
NO_CONNECTS = "n/a (activities.connected holds no values)"
#: Bar colours: what was planned, what is needed.
PLANNED, NEEDED = "#4c72b0", "#c44e52"


def heading(title: str) -> None:
    """A section heading from lib, for a section the page shows only sometimes (the weekly flash
    leaves out the monthly sections rather than showing their headings with nothing under them)."""
    say(f"## {title}")


def _change(value: float | None, before: float | None, unit: str = "count") -> str:
    """"rose to 412 (+8.0%)", "fell to …", "held at …" against `before`."""
    now = fmt(value, unit)  # type: ignore[arg-type]
    if value is None or before is None or is_missing(value) or is_missing(before) or value == before:
        return f"held at {now}" if value == before else f"were {now}"
    return f"{'rose' if value > before else 'fell'} to {now} ({fmt_change(value, before, unit)})"  # type: ignore[arg-type]


def summary(items: Sequence[Headline]) -> str:
    """The page's first sentence: SQLs against the previous period and plan, their mix, the calls
    behind them and the capacity alerts."""
    h = {i.key: i for i in items}
    sqls = h["sqls"]
    vs = ["none in the previous period" if sqls.previous == 0 else
          f"{fmt_change(sqls.value, sqls.previous, 'count')} vs the previous period"]
    if sqls.target is not None:
        vs.append(f"{fmt_change(sqls.value, sqls.target, 'count')} vs plan ({fmt(sqls.target, 'count')})")
    calls = h["calls"].value
    rates = [h[f"connect_rate_{d}"].value for d in ("inbound", "outbound")]
    reach = ("no calls were made" if not calls else
             f"{fmt(calls, 'count')} calls: inbound ones connected {fmt(rates[0], 'pct')} of the time, outbound "
             f"{fmt(rates[1], 'pct')}" if h["connect_rate"].value is not None
             else f"{fmt(calls, 'count')} calls, connect rate {NO_CONNECTS}")
    over = h["reps_over_capacity"].value
    alert = ("no field-sales rep is over SQL capacity" if over == 0 else
             f"**{fmt(over, 'count')} field-sales rep{'s are' if over and over > 1 else ' is'} over SQL capacity**")
    return (f"**{fmt(sqls.value, 'count')} SQLs** ({', '.join(vs)}), {fmt(h['target_sqls'].value, 'count')} in "
            f"target industries and {fmt(h['inbound_share'].value, 'pct')} inbound; {reach}; {alert}.")


def month_so_far(period: Period) -> str:
    """Which days of its month a week's allocation counts (capacity is monthly)."""
    mtd = month_to_date(period)
    return (f"Capacity is monthly, so the week counts its month's SQLs so far: {mtd.start:%B %Y}, "
            f"{mtd.start} to {mtd.last_day}.")


def allocation_alerts(alloc: pd.DataFrame) -> str:
    """One alert per field-sales rep over capacity, or the busiest rep's load when none is."""
    over = alloc[alloc["over"]]
    segment = columns.column("segment")
    lines = [f"**Alert: {md(r['name'])} ({md(r['rep_id'])}) is over capacity** — {fmt(r['sqls_handed'], 'count')} "
             f"SQLs handed this month against a capacity of {fmt(r['capacity'], 'count')} "
             f"({md(segment.display(r['segment']))})." for _, r in over.iterrows()]
    if lines:
        return "\n\n".join(lines)
    if alloc["sqls_handed"].sum() == 0:
        return "No SQLs were handed to field sales this month."
    busiest = alloc.dropna(subset=["utilisation"]).sort_values("utilisation", ascending=False, kind="stable")
    if busiest.empty:
        return "No field-sales rep is over SQL capacity this month."
    top = busiest.iloc[0]
    return (f"No field-sales rep is over SQL capacity this month; the busiest, {md(top['name'])}, is at "
            f"{fmt(top['utilisation'], 'pct')} ({fmt(top['sqls_handed'], 'count')} of "
            f"{fmt(top['capacity'], 'count')}).")


def hot_sentence(hot: pd.DataFrame, count: str) -> str:
    """How many leads became hot in the period, or were hot at its end (`count`: hot_leads.count), how
    fast inside sales touched them and how many still wait."""
    what = "were hot at the period's end" if count == "hot_at_end" else "became hot in the period"
    if hot.empty:
        return f"No leads {what}."
    touched = hot["hours_to_activity"].notna()
    contacted = (f"{fmt(touched.sum(), 'count')} were contacted, after a median of "
                 f"{fmt(hot.loc[touched, 'hours_to_activity'].median(), 'count')} hours" if touched.any()
                 else "none has been contacted yet")
    waiting = (~touched).sum()
    return (f"{fmt(len(hot), 'count')} leads {what}; {contacted}; "
            f"{'**' if waiting else ''}{fmt(waiting, 'count')} still waiting{'**' if waiting else ''}.")


def activity_chart(daily: pd.DataFrame, period: Period) -> None:
    """Calls, connects and e-mails per day (`team_activity`), one line each."""
    fig, ax = plt.subplots()
    for key in ("calls", "connects", "emails"):
        ax.plot(daily["day"], daily[key], marker="o", markersize=3, label=columns.label(key))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d"))
    ax.set_title(f"Team activity per day, {period.label}")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    charts.show(f"Team calls, connects and e-mails per day, {period.label}", fig)


def activity_sentence(now: pd.DataFrame, before: pd.DataFrame, chain: pd.DataFrame) -> str:
    """Connects (or calls, when connects are unknown) against the previous period, and each
    direction's connect rate (`now`, `before`: `activity()` frames; `chain`: `chain()`)."""
    calls, connects = now["calls"].sum(), now["connects"].sum(min_count=1)
    if calls == 0:
        return f"No calls in the period (the previous one had {fmt(before['calls'].sum(), 'count')})."
    if is_missing(connects):
        return f"Calls {_change(calls, before['calls'].sum())}; connects and connect rates {NO_CONNECTS}."
    rates = chain.set_index("direction")["connect_rate"]
    return (f"Connects {_change(connects, before['connects'].sum(min_count=1))} from {fmt(calls, 'count')} calls; "
            f"inbound calls connected {fmt(rates.get('inbound'), 'pct')} of the time, outbound "
            f"{fmt(rates.get('outbound'), 'pct')}.")


def busiest_week(weekly: pd.DataFrame) -> str:
    """The week with the most calls (`per_week`)."""
    if weekly.empty or weekly["calls"].max() == 0:
        return "No calls in any week of the period."
    top = weekly.loc[weekly["calls"].idxmax()]
    return (f"The busiest week ended {fmt(top['week_ending'].date(), 'date')} with {fmt(top['calls'], 'count')} calls "
            f"and {fmt(top['connects'], 'count')} connects.")


def rep_spread(wide: pd.DataFrame) -> str:
    """The range of the reps' connect rates per direction (`activity_by_direction`)."""
    parts = []
    for d in ("inbound", "outbound"):
        rates = wide[f"connect_rate_{d}"].dropna()
        if not rates.empty:
            parts.append(f"{d} {fmt(rates.min(), 'pct')}–{fmt(rates.max(), 'pct')}")
    if not parts:
        return f"Connect rates per rep: {NO_CONNECTS if wide['calls_inbound'].sum() else 'n/a (no calls)'}."
    return f"Connect rates per rep range {' and '.join(parts)}."


def chain_sentence(chain: pd.DataFrame) -> str:
    """How calls turned into connects and connects into SQLs, inbound against outbound (`chain`)."""
    c = chain.set_index("direction")
    if c.loc["all", "calls"] == 0:
        return f"No calls in the period; {fmt(c.loc['all', 'sqls'], 'count')} SQLs."
    if is_missing(c.loc["all", "connects"]):
        per_call = [f"{d} {fmt(c.loc[d, 'sql_per_call'], 'pct')}" for d in ("inbound", "outbound")]
        return f"SQLs per call: {', '.join(per_call)}; connects {NO_CONNECTS}."
    parts = [f"{d}, {fmt(c.loc[d, 'connect_rate'], 'pct')} of {fmt(c.loc[d, 'calls'], 'count')} calls connected "
             f"and {fmt(c.loc[d, 'sql_per_connect'], 'pct')} of connects became SQLs ({fmt(c.loc[d, 'sqls'], 'count')})"
             for d in ("inbound", "outbound")]
    return f"{parts[0][:1].upper()}{parts[0][1:]}; {parts[1]}."


def mix_sentence(tables: Sequence[pd.DataFrame]) -> str:
    """SQLs by direction and the largest known group of company size, region and service (`mix_tables`)."""
    if not tables:
        return "No SQLs in the period."
    first = tables[0]
    inbound, total = first["sqls_inbound"].sum(), first["sqls"].sum()
    top = []
    for t in tables:
        key = t.columns[0]
        known = t[~t[key].astype(str).str.startswith("(")]
        if key in ("company_size", "region", "service") and not known.empty and known["sqls"].iloc[0] > 0:
            name = f"{known[key].iloc[0]} employees" if key == "company_size" else known[key].iloc[0]
            top.append(f"{md(name)} ({fmt(known['sqls'].iloc[0], 'count')})")
    most = f"; the largest groups: {', '.join(top)}" if top else ""
    share = fmt(inbound / total if total else None, "pct")
    return (f"{fmt(total, 'count')} SQLs: {fmt(inbound, 'count')} inbound and {fmt(total - inbound, 'count')} "
            f"outbound (inbound share {share}){most}.")


def side_by_side(frames: Sequence[pd.DataFrame]) -> None:
    """Small tables (in the column vocabulary) next to each other, wrapping at the page's width."""
    cells = "".join(f"<div>{table_html(f)}</div>" for f in frames)
    display(HTML(f'<div style="display:flex;flex-wrap:wrap;gap:0 32px;align-items:flex-start">{cells}</div>'))


def direction_sentence(by_direction: pd.DataFrame) -> str:
    """Win rate, speed and size of closed deals, inbound against outbound (`by_direction`)."""
    if by_direction.empty:
        return "No deal from an SQL of the last 12 months has closed yet."
    d = by_direction.set_index("direction")
    parts = [f"{name} SQLs won {fmt(d.loc[name, 'win_rate'], 'pct')} of {fmt(d.loc[name, 'closed'], 'count')} "
             f"closed deals in a median {fmt(d.loc[name, 'median_days_to_win'], 'days')}, at "
             f"{fmt(d.loc[name, 'average_deal'], 'money')} MRR a deal" for name in d.index]
    text = "; ".join(parts)
    return f"{text[:1].upper()}{text[1:]}."


def attendees_chart(frame: pd.DataFrame) -> None:
    """Win rate by first-meeting attendee count (`by_attendees`)."""
    fig, ax = plt.subplots()
    ax.bar(frame["attendees"].astype(int).astype(str), frame["win_rate"], color=PLANNED)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel("Attendees at the first meeting")
    ax.set_ylabel(columns.label("win_rate"))
    ax.set_title("Win rate by first-meeting attendees")
    charts.show("Win rate of closed deals by how many people the customer brought to the first meeting", fig)


def attendees_sentence(frame: pd.DataFrame) -> str:
    """The win rate at the fewest and the most attendees (`by_attendees`)."""
    if frame.empty:
        return "No deals with a first meeting closed in this period: no win rate by attendees."
    low, high = frame.iloc[0], frame.iloc[-1]
    return (f"Deals won {fmt(low['win_rate'], 'pct')} of the time with {fmt(low['attendees'], 'count')} attendee"
            f"{'s' if low['attendees'] != 1 else ''} at the first meeting and {fmt(high['win_rate'], 'pct')} with "
            f"{fmt(high['attendees'], 'count')} ({fmt(frame['closed'].sum(), 'count')} closed deals).")


def rep_sentence(per_rep: pd.DataFrame) -> str:
    """The rep with the most appointments and what became of the team's (`Results.per_rep`)."""
    if per_rep["appointments"].sum() == 0:
        return "No appointments in the period."
    top = per_rep.sort_values("appointments", ascending=False, kind="stable").iloc[0]
    return (f"{md(top['name'])} set the most appointments ({fmt(top['appointments'], 'count')}, "
            f"{fmt(top['target_appointments'], 'count')} in target industries); of the team's "
            f"{fmt(per_rep['appointments'].sum(), 'count')}, {fmt(per_rep['won'].sum(), 'count')} are won, "
            f"{fmt(per_rep['lost'].sum(), 'count')} lost and {fmt(per_rep['open'].sum(), 'count')} still open.")


def week_label(first: dt.date, last: dt.date) -> str:
    """An ISO week's tick label, e.g. "W49\\n12-01–12-06" (the days of it inside the period)."""
    days = f"{first:%m-%d}" if first == last else f"{first:%m-%d}–{last:%m-%d}"
    return f"W{first.isocalendar().week:02d}\n{days}"


def _week_labels(ends: Sequence[pd.Timestamp], period: Period) -> list[str]:
    """Tick labels for ISO weeks ending on `ends` (Sundays), cut at the period's edges."""
    return [week_label(max(e.date() - dt.timedelta(days=6), period.start), min(e.date(), period.last_day))
            for e in ends]


def approach_chart(weeks: pd.DataFrame, upcoming: Period) -> None:
    """Leads planned for approach against the leads needed, per week side by side (`approach_weeks`),
    each bar with its number."""
    fig, ax = plt.subplots()
    x = range(len(weeks))
    bars = [ax.bar([i - 0.2 for i in x], weeks["planned"], width=0.4, color=PLANNED, label=columns.label("planned"))]
    if weeks["needed"].notna().any():
        bars.append(ax.bar([i + 0.2 for i in x], weeks["needed"], width=0.4, color=NEEDED,
                           label=columns.label("needed")))
    for b in bars:
        ax.bar_label(b, fmt="{:,.0f}", fontsize=9)
    ax.set_xticks(list(x), _week_labels(weeks["week_ending"], upcoming))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("Leads")
    ax.set_title(f"Leads planned for approach vs needed, {upcoming.label}")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    charts.show(f"Leads planned for approach and leads needed to reach the SQL target, per week of {upcoming.label}",
                fig)


def approach_sentence(weeks: pd.DataFrame, upcoming: Period, sql_target: float | None,
                      lead_to_sql: float | None) -> str:
    """Planned against needed over the upcoming period, and how many weeks fall short."""
    planned = weeks["planned"].sum()
    if weeks["needed"].isna().all():
        why = ("no SQL target in the targets table" if sql_target is None else
               "no lead → SQL rate (no leads in the last 3 months)")
        return f"{fmt(planned, 'count')} leads are planned for approach in {upcoming.label}; the need is n/a ({why})."
    needed = weeks["needed"].sum()
    short = int((weeks["planned"] < weeks["needed"]).sum())
    lo, hi = weeks["planned"].min(), weeks["planned"].max()
    nlo, nhi = weeks["needed"].min(), weeks["needed"].max()
    gap = (f"**{fmt(needed - planned, 'count')} short** ({fmt(planned / needed, 'pct')} of the need); "
           f"{short} of {len(weeks)} weeks fall short, {fmt(lo, 'count')}–{fmt(hi, 'count')} planned a week against "
           f"{fmt(nlo, 'count')}–{fmt(nhi, 'count')} needed") if planned < needed else \
        f"enough: {fmt(planned - needed, 'count')} more than needed; {short} of {len(weeks)} weeks fall short"
    return (f"{fmt(planned, 'count')} leads are planned for approach in {upcoming.label} against "
            f"{fmt(needed, 'count')} needed for {fmt(sql_target, 'count')} SQLs at a lead → SQL rate of "
            f"{fmt(lead_to_sql, 'pct')}: {gap}.")


def recycle_sentence(recycled: pd.DataFrame, without_date: pd.DataFrame) -> str:
    """Recycled leads, their most common reason and whether every one has a re-approach date."""
    if recycled.empty:
        return "No recycled leads."
    top = recycled.sort_values("recycled_leads", ascending=False, kind="stable").iloc[0]
    total, dated = recycled["recycled_leads"].sum(), recycled["with_date"].sum()
    dates = ("every one has a re-approach date" if dated == total else
             f"**{fmt(total - dated, 'count')} have no re-approach date** (listed below"
             f"{', the first 200' if len(without_date) >= 200 else ''})")
    return (f"{fmt(total, 'count')} recycled leads, most often for {md(top['reason'])} "
            f"({fmt(top['recycled_leads'], 'count')}); {dates}.")


def opportunities_chart(by_week: pd.DataFrame, period: Period) -> None:
    """Opportunities per ISO week stacked by lead source (`opportunities_by_source`): one label per
    week, the legend beside the bars, whole numbers on the count axis; nothing without opportunities."""
    sources = [c for c in by_week.columns if c != "week"]
    if not sources or not by_week[sources].to_numpy().any():
        return
    fig, ax = plt.subplots()
    bottom = pd.Series(0.0, index=by_week.index)
    for source, name in zip(sources, columns.display_names("lead_source", sources), strict=True):
        ax.bar(range(len(by_week)), by_week[source], bottom=bottom, label=name)
        bottom += by_week[source]
    ends = [w + pd.Timedelta(days=6) for w in by_week["week"]]
    ax.set_xticks(range(len(by_week)), _week_labels(ends, period))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(columns.label("opportunities"))
    ax.set_title(f"Opportunities per week by lead source, {period.label}")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False, title=columns.label("lead_source"))
    charts.show(f"Opportunities created per ISO week of {period.label}, stacked by lead source", fig)


def opportunities_sentence(totals: pd.DataFrame) -> str:
    """Opportunities and won deals in the period, and the source and campaign that brought the most
    (`by_source_and_campaign`)."""
    if totals.empty or totals["opportunities"].sum() == 0:
        return "No opportunities were created in the period."
    top = totals.iloc[0]
    source = columns.column("lead_source").display(top["lead_source"])
    return (f"{fmt(totals['opportunities'].sum(), 'count')} opportunities created and "
            f"{fmt(totals['won'].sum(), 'count')} deals won; {md(source)} leads of campaign "
            f"{md(top['campaign_id'])} brought the most opportunities ({fmt(top['opportunities'], 'count')}).")


def conversion_sentence(by_campaign: pd.DataFrame, min_leads: int = 100) -> str:
    """The campaign with the most inbound leads and the one converting best among those with at least
    `min_leads` (`inbound_conversion`)."""
    if by_campaign.empty:
        return "No inbound leads in the last 12 months."
    most = by_campaign.iloc[0]
    sized = by_campaign[by_campaign["inbound_leads"] >= min_leads]
    text = (f"{md(most['campaign_id'])} brought the most inbound leads ({fmt(most['inbound_leads'], 'count')}, "
            f"{fmt(most['lead_to_sql'], 'pct')} became SQLs)")
    if not sized.empty:
        best = sized.sort_values("lead_to_sql", ascending=False, kind="stable").iloc[0]
        text += (f"; among campaigns with {min_leads:,}+ leads {md(best['campaign_id'])} converts best "
                 f"({fmt(best['lead_to_sql'], 'pct')} of {fmt(best['inbound_leads'], 'count')})")
    return text + "."


def definitions(company: Company) -> str:
    """The page's definitions (the parameters they use come from params/company.yaml)."""
    rule = company.hot_leads
    segment = columns.column("segment")
    capacity = ", ".join(f"{segment.display(s)} {n}" for s, n in company.fs_capacity_by_segment.items())
    return "\n".join([
        "- **Target** (plan): the targets table's monthly target; a week gets its days' share of each month's "
        "target, so a week across two months reads both.",
        "- **Connect rate, inbound calls** and **outbound calls**: connected calls ÷ calls of each direction "
        "(the call's own direction); the two differ by far, so each is read apart. **Connect rate, all calls** "
        "pools both and moves with the mix of calls as much as with how well they connect.",
        "- **SQL** (appointment): a lead qualified by inside sales (it has a qualified date) in the period; "
        "**target-industry** SQLs are those in the company's target industries "
        f"({', '.join(md(i) for i in company.target_industries)}).",
        "- **SQL ÷ connect, SQL ÷ call**: the period's SQLs divided by its connects or calls.",
        "- **SQLs handed**: leads whose first meeting a field-sales rep held this month (a week counts its "
        "month so far).",
        f"- **Capacity**: SQLs a field-sales rep can take a month: the rep's own, else by segment ({capacity}). "
        "A rep over capacity is an alert: their SQLs wait or get less attention.",
        f"- **Hot lead**: a lead becomes hot at the first moment the {rule.window_days} days up to it hold "
        f"{rule.min_page_views} or more page views, or a demo-link click (views before the period count toward "
        "it). " + ("The count is of leads hot at the period's end: the rule holds over its last "
                   f"{rule.window_days} days (hot_leads.count: hot_at_end)." if rule.count == "hot_at_end" else
                   "The count is of leads that became hot during the period, not before (hot_leads.count: "
                   "became_hot).") + " Hours to first touch run from turning hot to the first inside-sales "
        "activity on the lead.",
        "- **Inbound vs outbound outcomes**: deals from SQLs of the last 12 months that have closed; win rate = "
        "won ÷ closed, days to win from lead creation.",
        "- **Leads needed**: the coming period's SQL target ÷ the lead → SQL rate (SQLs ÷ leads created over "
        "the last 3 months), spread over its weekdays and rounded up to whole leads a week; planned leads are "
        "those with a (re-)approach date in the week.",
        "- **Lead → SQL** (inbound conversion): inbound leads of the last 12 months that became SQLs ÷ those leads.",
    ])

