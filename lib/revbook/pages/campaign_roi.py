"""The charts and sentences of the marketing campaign ROI page (notebooks/marketing/campaign_roi).

Each chart function takes the frame the notebook shows (so an analyst can change it and redraw) and
labels it from the column vocabulary; each sentence says what happened in the window, from the data.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter
from matplotlib.transforms import Bbox

from revbook.departments.headlines import is_missing
from revbook.departments.marketing import NO_CHANNEL, NO_CREATIVE, OFF_TARGET_MIN_LEADS, Basis
from revbook.departments.sales_ops import Economics
from revbook.pages import charts, columns
from revbook.pages.report import fmt, md

#: Campaigns labelled on the CPL chart: the biggest spenders (the rest are unlabelled dots).
LABELLED = 10
#: Label offsets (points) tried around a dot, in order, until one overlaps no other label.
_OFFSETS = ((6, 4), (6, -12), (-6, 4), (-6, -12), (0, 10), (0, -18), (12, -4), (-12, -4))
_PERCENT = FuncFormatter(lambda v, _: f"{v:.0%}")


def name(key: str, value: object) -> str:
    """A value of column `key` as a reader sees it, made safe for Markdown prose."""
    return md(columns.column(key).display(value))


#: What a sentence about spend says when spend is unknown (no ad spend loaded), not zero.
SPEND_UNKNOWN = "unknown without ad spend (ad_spend_daily)"


def _spend_unknown(frame: pd.DataFrame) -> bool:
    return bool(frame["cost"].isna().all())


def _paid(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows with spend and leads: the ones a cost per lead says something about."""
    return frame[(frame["cost"] > 0) & (frame["leads"] > 0)]


def ltv_basis(econ: Economics) -> str:
    """The LTV basis in numbers, for the Definitions: what one yen of MRR won is worth."""
    per_yen = econ.gross_margin / econ.monthly_churn if econ.monthly_churn else None
    return (f"LTV basis this month: gross margin {md(fmt(econ.gross_margin, 'pct'))}, monthly customer churn "
            f"{md(fmt(econ.monthly_churn, 'pct'))} (the average of the last {econ.months} months' churn rates, as "
            f"on the customer-success page), so one yen of MRR won is worth {md(fmt(per_yen, 'ratio'))} "
            f"over a customer's life; LTV per customer {md(fmt(econ.ltv, 'money'))}.")


def basis_sentence(split: dict[str, float], apart: pd.DataFrame, basis: Basis, month: str) -> str:
    """What the month's CAC, ROAS and ROI count (`marketing.paid_split`) and, apart, what the other
    channels and the leads with no campaign won (`marketing.apart`); then CAC's basis, or why it is n/a."""
    paid = ", ".join(name("channel", c) for c in basis.paid_channels)
    spend = (f"spend {SPEND_UNKNOWN}, " if is_missing(split["spend"]) else
             f"{md(fmt(split['paid_spend'], 'money'))} of the month's {md(fmt(split['spend'], 'money'))} spend and ")
    text = (f"ROAS and ROI count the paid channels only ({paid}; paid_channels): {spend}"
            f"{md(fmt(split['paid_won'], 'count'))} of its {md(fmt(split['won'], 'count'))} won deals "
            f"({md(fmt(split['paid_revenue'], 'money'))} of {md(fmt(split['revenue'], 'money'))} first-year revenue).")
    shown = apart[(apart["won"] > 0) | (apart["cost"] > 0)]
    if not shown.empty:
        parts = [f"{'leads with no campaign' if r['channel'] == NO_CHANNEL else name('channel', r['channel'])} "
                 f"{'won ' * (i == 0)}{md(fmt(r['won'], 'count'))}{' deals' * (i == 0)} "
                 f"({md(fmt(r['first_year_revenue'], 'money'))}"
                 + (f"; spend {md(fmt(r['cost'], 'money'))})" if r["cost"] > 0 else ")")
                 for i, (_, r) in enumerate(shown.iterrows())]
        text += f" Shown apart, not credited to marketing spend: {', '.join(parts)}."
    if not basis.includes_sales_cost:
        return text + (" CAC = paid-channel spend ÷ their won deals; it leaves out the sales cost "
                       "(cac_includes_sales_cost: false).")
    if basis.sales_cost is None:
        return text + (f" **CAC is n/a**: cac_includes_sales_cost is true, but neither the targets table (metric "
                       f"sales_cost) nor sales_cost_monthly gives the sales cost of {month}.")
    source = "the targets table's sales_cost" if basis.sales_cost_from == "targets" else "sales_cost_monthly"
    return text + (f" CAC = (paid-channel spend + the month's sales cost, {md(fmt(basis.sales_cost, 'money'))} from "
                   f"{source}) ÷ all {md(fmt(split['won'], 'count'))} new customers won, whichever channel brought "
                   "them (cac_includes_sales_cost: true).")


def channels_sentence(channels: pd.DataFrame) -> str:
    """Which channel brought most leads, which took most spend and at what CPL, which is cheapest per
    target lead and which returned most per yen."""
    named = channels[channels["channel"] != NO_CHANNEL]
    if named.empty or not named["leads"].sum():
        return "No leads came from a campaign in the window."
    most = named.loc[named["leads"].idxmax()]
    share = most["leads"] / channels["leads"].sum()
    text = (f"{name('channel', most['channel'])} brought the most leads ({md(fmt(most['leads'], 'count'))}, "
            f"{md(fmt(share, 'pct'))} of all)")
    if _spend_unknown(named):
        return f"{text}; spend is {SPEND_UNKNOWN}."
    text += " at no spend" if most["cost"] == 0 else f" at {md(fmt(most['cpl'], 'money'))} a lead"
    paid = _paid(named)
    if paid.empty:
        return text + "; no channel had spend."
    top = paid.loc[paid["cost"].idxmax()]
    spend_share = top["cost"] / paid["cost"].sum()
    text += (f"; {name('channel', top['channel'])} took the most spend ({md(fmt(spend_share, 'pct'))}, "
             f"{md(fmt(top['cpl'], 'money'))} a lead)")
    targeted = paid[paid["target_leads"] > 0]
    cheap = targeted.loc[targeted["cost_per_target_lead"].idxmin()] if not targeted.empty else None
    if cheap is not None:
        text += (f"; {name('channel', cheap['channel'])} was the cheapest per target lead "
                 f"({md(fmt(cheap['cost_per_target_lead'], 'money'))})")
    if paid["roas_first_year"].notna().any():
        best = paid.loc[paid["roas_first_year"].idxmax()]
        who = "" if cheap is not None and best.name == cheap.name else f" {name('channel', best['channel'])}"
        text += (f"{' and' if cheap is not None else ';'}{who} returned the most per yen "
                 f"(ROAS {md(fmt(best['roas_first_year'], 'ratio'))} on first-year revenue)")
    return text + "."


def platforms_sentence(platforms: pd.DataFrame) -> str:
    """Which ad platform took most spend, and which brought leads cheapest, with their CTRs."""
    if _spend_unknown(platforms):
        return f"Ad delivery and spend are {SPEND_UNKNOWN}."
    ads = _paid(platforms[platforms["impressions"] > 0])
    if ads.empty:
        return "No ad platform reported impressions with spend and leads in the window."

    def who(row: pd.Series) -> str:
        return f"{name('channel', row['channel'])} on {name('platform', row['platform'])}"

    top, cheap = ads.loc[ads["cost"].idxmax()], ads.loc[ads["cpl"].idxmin()]
    text = (f"{who(top)} took the most ad spend ({md(fmt(top['cost'], 'money'))}, CTR {md(fmt(top['ctr'], 'pct'))}, "
            f"{md(fmt(top['cpl'], 'money'))} a lead)")
    if cheap.name != top.name:
        text += (f"; {who(cheap)} brought leads cheapest, at {md(fmt(cheap['cpl'], 'money'))} a lead "
                 f"(CTR {md(fmt(cheap['ctr'], 'pct'))}, {md(fmt(cheap['target_share'], 'pct'))} of them target leads)")
    return text + "."


def target_share_sentence(campaigns: pd.DataFrame, now: float | None, before: float | None,
                          min_leads: float = OFF_TARGET_MIN_LEADS) -> str:
    """The window's target-lead share against the window before, and where the cheapest campaign per
    lead (among those with spend and at least `min_leads` leads) stands on it."""
    text = (f"{md(fmt(now, 'pct'))} of the window's leads were in a target industry, against "
            f"{md(fmt(before, 'pct'))} in the window before")
    paid = _paid(campaigns)
    paid = paid[paid["leads"] >= min_leads]
    if paid.empty:
        return text + "."
    cheap = paid.loc[paid["cpl"].idxmin()]
    lower = int((paid["target_share"] < cheap["target_share"]).sum())
    place = "the lowest of them" if lower == 0 else f"{lower} of them had less"
    return (text + f"; the cheapest campaign per lead of those with at least {min_leads:,.0f} leads, "
            f"{_campaign(cheap)} ({md(fmt(cheap['cpl'], 'money'))}), had "
            f"{md(fmt(cheap['target_share'], 'pct'))} target leads, {place}.")


def _named(row: pd.Series) -> str:
    """" <name>" of a row's campaign for a sentence, "" where no campaigns table named it."""
    return "" if is_missing(row.get("name")) else f" {md(row['name'])}"


def _campaign(row: pd.Series) -> str:
    """A campaign as a sentence names it: its id and name, the id alone where no campaigns table named it."""
    return md(row["campaign_id"]) + _named(row)


def spenders_sentence(frame: pd.DataFrame, top: int, what: str) -> str:
    """How much of the spend the `top` biggest spenders (campaigns or creatives: `what`) took, and the
    biggest one's spend and CPL; `frame` is sorted by spend."""
    if _spend_unknown(frame):
        return f"Spend per {what} is {SPEND_UNKNOWN}."
    spend = frame["cost"].sum()
    if not spend:
        return f"No {what} had spend in the window."
    first, share = frame.iloc[0], frame["cost"].head(top).sum() / spend
    who = _campaign(first) if what == "campaign" else (_named(first)[1:] or md(first["campaign_id"])) + (
        f" creative {md(first['creative_id'])}" if first["creative_id"] != NO_CREATIVE else "")
    return (f"The {top} {what}s spending most took {md(fmt(share, 'pct'))} of the window's spend; {who} spent most "
            f"({md(fmt(first['cost'], 'money'))}, {md(fmt(first['cpl'], 'money'))} a lead, "
            f"{md(fmt(first['target_share'], 'pct'))} target leads).")


def off_target_sentences(flagged: pd.DataFrame, level: str) -> list[str]:
    """One sentence per campaign or creative (`level`) that is cheaper but off target
    (`marketing.off_target`), or one saying there is none."""
    if flagged.empty:
        return [f"No {level} is cheaper but off target in this window."]
    sentences = []
    for _, r in flagged.iterrows():
        who = md(r["campaign_id"]) + (f" / {md(r['creative_id'])}" if level == "creative" else "") + _named(r)
        sentences.append(
            f"**Cheaper but off target ({level}): {who}** — CPL {md(fmt(r['cpl'], 'money'))} "
            f"(median {md(fmt(r['median_cpl'], 'money'))}), but only {md(fmt(r['target_share'], 'pct'))} "
            f"target leads (overall {md(fmt(r['overall_target_share'], 'pct'))}) and an opportunity rate of "
            f"{md(fmt(r['opportunity_rate'], 'pct'))} (overall {md(fmt(r['overall_opportunity_rate'], 'pct'))}).")
    return sentences


def sources_sentence(sources: pd.DataFrame) -> str:
    """Which lead source brought most leads, and which turned its leads into opportunities best."""
    if sources.empty or not sources["leads"].sum():
        return "No leads were created in the window."
    most = sources.loc[sources["leads"].idxmax()]
    text = (f"{name('lead_source', most['lead_source'])} brought the most leads ({md(fmt(most['leads'], 'count'))}, "
            f"{md(fmt(most['leads'] / sources['leads'].sum(), 'pct'))} of all, "
            f"{md(fmt(most['target_leads'] / most['leads'], 'pct'))} target leads)")
    if not sources["opportunities"].sum():
        return text + "; none of the window's leads has become an opportunity."
    rate = sources["opportunities"] / sources["leads"].where(sources["leads"] > 0)
    best = sources.loc[rate.idxmax()]
    return (text + f"; {name('lead_source', best['lead_source'])} made the most opportunities per lead "
            f"({md(fmt(best['opportunities'], 'count'))} from {md(fmt(best['leads'], 'count'))} leads, "
            f"{md(fmt(rate[best.name], 'pct'))}).")


def industries_sentence(rates: dict[bool, tuple[float | None, float | None]]) -> str:
    """Target-industry leads' opportunity and win rates against the other industries'
    (`marketing.target_vs_other`)."""
    (target_opp, target_won), (other_opp, other_won) = rates.get(True, (None, None)), rates.get(False, (None, None))
    return (f"Target-industry leads became opportunities at {md(fmt(target_opp, 'pct'))} and won at "
            f"{md(fmt(target_won, 'pct'))}, against {md(fmt(other_opp, 'pct'))} and {md(fmt(other_won, 'pct'))} "
            "for other industries.")


def cohorts_sentence(cohorts: pd.DataFrame) -> str:
    """The youngest cohort's revenue so far against how complete it usually is, and the complete
    cohort that won most."""
    if cohorts.empty:
        return "No leads were created in the window."
    young = cohorts.iloc[-1]
    usual = ("how much usually closes by that age is n/a: no won deal to learn it from"
             if pd.isna(young["completeness"]) else
             f"where leads that young have usually closed {md(fmt(young['completeness'], 'pct'))} of their revenue")
    text = (f"The youngest cohort, {md(fmt(young['month'], 'month'))} ({md(fmt(young['leads'], 'count'))} leads), "
            f"has won {md(fmt(young['first_year_revenue'], 'money'))} so far, {usual}")
    complete = cohorts[cohorts["completeness"] >= 0.95]
    if complete.empty:
        return text + "; no cohort in the window is complete yet."
    best = complete.loc[complete["first_year_revenue"].idxmax()]
    return (text + f"; of the cohorts that are (nearly) complete, {md(fmt(best['month'], 'month'))} won most "
            f"({md(fmt(best['first_year_revenue'], 'money'))} from {md(fmt(best['leads'], 'count'))} leads).")


def budget_sentence(budget: pd.DataFrame, step: float) -> str:
    """Which channels the budget view would grow and shrink, by how much, within ±`step`."""
    def moves(rows: pd.DataFrame) -> str:
        return ", ".join(f"{name('channel', r['channel'])} ({'+' * (r['change'] > 0)}{md(fmt(r['change'], 'money'))})"
                         for _, r in rows.iterrows()) or "none"

    grow = budget[budget["change"] > 0.5].sort_values("change", ascending=False)
    shrink = budget[budget["change"] < -0.5].sort_values("change")
    return (f"Moving no channel by more than ±{step:.0%} this step (budget_step), the split would grow "
            f"**{moves(grow)}** and shrink **{moves(shrink)}**.")


def cpl_chart(campaigns: pd.DataFrame, span: str, labelled: int = LABELLED) -> None:
    """Cost per lead against target-lead share per paid campaign, dots sized by spend, the `labelled`
    biggest spenders named by their campaign id where the label overlaps no other."""
    paid = _paid(campaigns).sort_values("cost", ascending=False)
    fig, ax = plt.subplots()
    ax.scatter(paid["cpl"], paid["target_share"], s=20 + 300 * paid["cost"] / paid["cost"].max(), alpha=0.6)
    charts.money_axis(ax, "x")
    ax.yaxis.set_major_formatter(_PERCENT)
    ax.set_xlabel(columns.label("cpl"))
    ax.set_ylabel(columns.label("target_share"))
    ax.set_title("Cost per lead vs target-lead share per campaign (dot size: spend)")
    top = paid.head(labelled)
    _label_points(ax, list(zip(top["cpl"], top["target_share"], strict=True)), list(top["campaign_id"]))
    charts.show(f"Cost per lead against target-lead share for {len(paid)} paid campaigns, {span}; dot size is "
                f"spend; the {len(top)} biggest spenders are labelled", fig)


def _label_points(ax: Axes, points: list[tuple[float, float]], texts: list[str]) -> None:
    """Name each point, trying offsets around it until its label overlaps no label placed before and
    stays inside the axes; a point with no free place is left unnamed rather than overprinted."""
    ax.figure.canvas.draw()  # settle the axes' limits before measuring
    renderer = ax.figure.canvas.get_renderer()  # type: ignore[attr-defined]
    frame = ax.get_window_extent(renderer)
    placed: list[Bbox] = []
    for point, text in zip(points, texts, strict=True):
        for dx, dy in _OFFSETS:
            label = ax.annotate(text, point, xytext=(dx, dy), textcoords="offset points", fontsize=8,
                                ha="left" if dx >= 0 else "right")
            box = label.get_window_extent(renderer)
            inside = frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
            if inside and not any(box.overlaps(other) for other in placed):
                placed.append(box)
                break
            label.remove()


def sources_chart(sources: pd.DataFrame, span: str) -> None:
    """Leads, target leads and opportunities per lead source, as grouped bars."""
    counts = ["leads", "target_leads", "opportunities"]
    fig, ax = plt.subplots()
    x = np.arange(len(sources))
    width = 0.8 / len(counts)
    for i, key in enumerate(counts):
        ax.bar(x + (i - 1) * width, sources[key], width, label=columns.label(key))
    ax.set_xticks(x, columns.display_names("lead_source", sources["lead_source"]), rotation=30, ha="right")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.set_title("Leads, target leads and opportunities by lead source")
    ax.legend()
    charts.show(f"Leads, target leads and opportunities for each of {len(sources)} lead sources, {span}", fig)


def cohorts_chart(cohorts: pd.DataFrame) -> None:
    """First-year revenue won so far per lead cohort (bars) and the share usually closed by its age (line)."""
    fig, ax = plt.subplots()
    months = [fmt(m, "month") for m in cohorts["month"]]
    ax.bar(months, cohorts["first_year_revenue"], color="#4c72b0")
    charts.money_axis(ax)
    ax.set_ylabel(columns.label("first_year_revenue"))
    ax.tick_params(axis="x", rotation=45)
    share = ax.twinx()
    share.plot(range(len(cohorts)), cohorts["completeness"], color="#dd8452", marker="o")
    share.set_ylim(0, 1.05)
    share.yaxis.set_major_formatter(_PERCENT)
    share.set_ylabel(columns.label("completeness"))
    share.grid(False)
    ax.set_title("Revenue by lead cohort, and how complete it usually is at this age")
    span = f"{months[0]} to {months[-1]}" if months else "no months"
    charts.show(f"First-year revenue won so far by the leads of each month, {span}, with the share of revenue "
                "that has usually closed by that age", fig)


def budget_chart(budget: pd.DataFrame, span: str) -> None:
    """Each channel's share of spend against its share of LTV value, as paired horizontal bars."""
    shares = ["spend_share", "return_share"]
    fig, ax = plt.subplots()
    y = np.arange(len(budget))
    for i, key in enumerate(shares):
        ax.barh(y + (i - 0.5) * 0.4, budget[key], 0.4, label=columns.label(key))
    ax.set_yticks(y, columns.display_names("channel", budget["channel"]))
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(_PERCENT)
    ax.set_title("Share of spend vs share of LTV value, per channel")
    ax.legend()
    charts.show(f"Share of spend against share of LTV value won for {len(budget)} channels with spend, {span}", fig)
