"""Marketing ROI: spend, leads and revenue per channel, platform, campaign and creative.

Counts are flows in a window (leads created, SQLs qualified, opportunities created, deals won in
it), credited to campaigns by an attribution model (mart marketing_attribution); spend is the
campaigns' own cost in the same window (mart marketing_spend). Revenue is the won deals' MRR
over their first year, or over their expected lifetime (LTV basis, DESIGN.md). The headline's CAC,
ROAS and ROI count the paid channels alone, and CAC the sales cost where the company says so (`Basis`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import proportion_confint

from revbook import metrics
from revbook.data import coverage
from revbook.data.warehouse import Warehouse
from revbook.departments.headlines import Headline, HeadlineSpec, compare
from revbook.departments.sales_ops import Economics
from revbook.periods import Period
from revbook.settings import Company

ATTRIBUTION_MODELS = ("first_touch", "linear", "position_based")
NO_CAMPAIGN = "(none)"
NO_CHANNEL = "(none)"  # the channel of the leads with no campaign touch
NO_CREATIVE = "—"
COUNTS = ["impressions", "clicks", "cost", "leads", "target_leads", "sqls", "opportunities", "won", "won_mrr"]
LEVELS: dict[str, list[str]] = {
    "channel": ["channel"],
    "platform": ["channel", "platform"],
    "campaign": ["campaign_id", "name", "channel", "platform"],
    "creative": ["campaign_id", "name", "creative_id"],
}
#: The metric columns of the channel, platform, campaign and creative tables, split into views that
#: each fit a page: what the spend bought, and what it returned; ad delivery (impressions, clicks)
#: only where an ad platform reports it. Labels, units and meanings: pages/columns/marketing.yaml.
VIEWS: dict[str, list[str]] = {
    "volume": ["cost", "leads", "cpl", "target_leads", "target_share", "cost_per_target_lead", "opportunities", "won"],
    "return": ["first_year_revenue", "roas_first_year", "roi_first_year", "ltv_revenue", "roas_ltv", "roi_ltv", "cac",
               "cac_payback_months"],
    "delivery": ["impressions", "clicks", "ctr", "cpc", "cvr", "cost", "leads", "cpl"],
}
#: The columns that name a row in a level's tables: a campaign by its id and name (the channel and
#: platform tables break spend down that way), a creative by its id and its campaign's name.
ROW_NAMES: dict[str, list[str]] = {
    "channel": ["channel"],
    "platform": ["channel", "platform"],
    "campaign": ["campaign_id", "name"],
    "creative": ["creative_id", "name"],
}
#: Headline metrics: key (the targets table's metric name), label, unit, good when up. CAC's label
#: says its basis (`Basis.cac_label`).
HEADLINES: tuple[HeadlineSpec, ...] = (
    ("spend", "Marketing spend", "money", False),
    ("leads", "Leads", "count", True),
    ("target_leads", "Target leads", "count", True),
    ("opportunities", "Opportunities", "count", True),
    ("won", "Won deals", "count", True),
    ("cpl", "Cost per lead (CPL)", "money", False),
    ("cost_per_target_lead", "Cost per target lead", "money", False),
    ("cac", "CAC (paid channels)", "money", False),
    ("roas", "ROAS (paid channels, first-year revenue)", "ratio", True),
    ("roi", "ROI (paid channels, first-year revenue)", "pct", True),
)


def add_metrics(frame: pd.DataFrame, econ: Economics) -> pd.DataFrame:
    """Every ratio of the campaign tables, from the summed counts (n/a where undefined)."""
    f = frame.copy()
    f["ctr"] = metrics.ctr(f["clicks"], f["impressions"])
    f["cpc"] = metrics.cpc(f["cost"], f["clicks"])
    f["cvr"] = metrics.cvr(f["leads"], f["clicks"])
    f["cpl"] = metrics.cpl(f["cost"], f["leads"])
    f["target_share"] = metrics.ratio(f["target_leads"], f["leads"])
    f["cost_per_target_lead"] = metrics.cost_per_target_lead(f["cost"], f["target_leads"])
    f["opportunity_rate"] = metrics.ratio(f["opportunities"], f["leads"])
    f["first_year_revenue"] = metrics.first_year_revenue(f["won_mrr"])
    lifetime = metrics.ltv(1.0, econ.gross_margin, econ.monthly_churn) if econ.monthly_churn else None
    f["ltv_revenue"] = f["won_mrr"] * lifetime if lifetime is not None else np.nan
    f["roas_first_year"] = metrics.roas(f["first_year_revenue"], f["cost"])
    f["roi_first_year"] = metrics.roi(f["first_year_revenue"], f["cost"])
    f["roas_ltv"] = metrics.roas(f["ltv_revenue"], f["cost"])
    f["roi_ltv"] = metrics.roi(f["ltv_revenue"], f["cost"])
    f["cac"] = metrics.cac(f["cost"], f["won"])
    f["cac_payback_months"] = metrics.cac_payback_months(f["cost"], f["won_mrr"], econ.gross_margin)
    return f


@dataclass(frozen=True)
class Window:
    """Spend and attributed outcomes per campaign × creative over [start, end)."""

    start: dt.date
    end: dt.date
    rows: pd.DataFrame  # campaign_id, creative_id, name, channel, platform + COUNTS

    def totals(self, rows: pd.Series | None = None) -> pd.Series:
        """The counts summed over the window's rows (or those `rows` selects; none selected: zeros)."""
        picked = self.rows if rows is None else self.rows[rows]
        if picked.empty:
            return pd.Series(0.0, index=COUNTS)
        return picked[COUNTS].sum(min_count=1)  # unknown (no ad spend loaded) stays unknown

    def paid(self, paid_channels: Collection[str]) -> pd.Series:
        """Which rows are credited to a paid channel (paid_channels); the others are unpaid channels
        and leads with no campaign."""
        return self.rows["channel"].isin(list(paid_channels))

    def target_share(self) -> float | None:
        """Share of the window's leads that are in a target industry."""
        t = self.totals()
        return metrics.ratio(t["target_leads"], t["leads"])

    def by(self, level: str, econ: Economics) -> pd.DataFrame:
        """The window's counts and metrics per channel, platform, campaign or creative."""
        keys = LEVELS[level]
        grouped = self.rows.groupby(keys, dropna=False, sort=False)[COUNTS].sum(min_count=1).reset_index()
        return add_metrics(grouped, econ).sort_values("cost", ascending=False, ignore_index=True)


def view(frame: pd.DataFrame, level: str, name: str) -> pd.DataFrame:
    """One table of a level's frame (`Window.by`): the columns naming its rows, then the view's
    metrics (VIEWS); the delivery view keeps only the rows an ad platform reported impressions for."""
    rows = frame[frame["impressions"] > 0] if name == "delivery" else frame
    return rows[[*ROW_NAMES[level], *VIEWS[name]]].reset_index(drop=True)


def window(wh: Warehouse, start: dt.date, end: dt.date, model: str, target_industries: list[str],
           campaigns: pd.DataFrame) -> Window:
    """Spend and attributed outcomes in [start, end), joined on campaign and creative."""
    if model not in ATTRIBUTION_MODELS:
        raise ValueError(f"attribution must be one of {', '.join(ATTRIBUTION_MODELS)}, not {model!r}")
    spend = wh.mart("marketing_spend", start=start, end=end)
    credit = wh.mart("marketing_attribution", start=start, end=end, model=model,
                     target_industries=list(target_industries))
    keys = ["campaign_id", "creative_id"]
    for frame in (spend, credit):
        frame["creative_id"] = frame["creative_id"].fillna(NO_CREATIVE)
    rows = spend.merge(credit, on=keys, how="outer")
    rows[COUNTS] = rows[COUNTS].astype("float64").fillna(0.0)
    rows = coverage.unknown_without(wh, rows, SPEND_SOURCES)
    rows = rows.merge(campaigns, on="campaign_id", how="left")
    none = rows["campaign_id"] == NO_CAMPAIGN
    rows.loc[none, ["name", "channel"]] = ["(no campaign)", NO_CHANNEL]
    rows["platform"] = rows["platform"].fillna(NO_CREATIVE)
    return Window(start, end, rows)


#: Without ad spend loaded, spend and everything per yen is unknown, not ¥0.
SPEND_SOURCES = {"ad_spend_daily": ["impressions", "clicks", "cost"]}


@dataclass(frozen=True)
class Basis:
    """What a month's CAC, ROAS and ROI count (params/company.yaml): the spend, won deals and revenue
    of the leads credited to `paid_channels`; with `includes_sales_cost`, CAC adds the month's
    `sales_cost` (None: neither the targets table nor sales_cost_monthly gives one) and divides by
    every new customer won."""

    paid_channels: tuple[str, ...]
    includes_sales_cost: bool = False
    sales_cost: float | None = None
    sales_cost_from: str | None = None  # "targets" (metric sales_cost) or "sales_cost_monthly"

    def cac_label(self) -> str:
        return "CAC (paid spend + sales cost, all new customers)" if self.includes_sales_cost else "CAC (paid channels)"


def basis(wh: Warehouse, month: Period, company: Company) -> Basis:
    """`month`'s basis of CAC, ROAS and ROI: its sales cost is the targets table's metric sales_cost
    (summed over departments), else company.yaml's sales_cost_monthly, else unknown."""
    planned = wh.mart("sales_cost", months=[month.start])["sales_cost"].dropna()
    cost, source = ((float(planned.iloc[0]), "targets") if not planned.empty else
                    (company.sales_cost_monthly, "sales_cost_monthly") if company.sales_cost_monthly is not None
                    else (None, None))
    return Basis(tuple(company.paid_channels), company.cac_includes_sales_cost, cost, source)


def headline_values(w: Window, b: Basis) -> dict[str, float | None]:
    """The month's headline numbers from a one-month window's totals; CAC, ROAS and ROI on `b`."""
    t, paid = w.totals(), w.totals(w.paid(b.paid_channels))
    revenue = metrics.first_year_revenue(paid["won_mrr"])
    cac = (metrics.cac(paid["cost"], paid["won"]) if not b.includes_sales_cost else
           metrics.loaded_cac(paid["cost"], b.sales_cost, t["won"]) if b.sales_cost is not None else None)
    return {
        "spend": t["cost"], "leads": t["leads"], "target_leads": t["target_leads"],
        "opportunities": t["opportunities"], "won": t["won"],
        "cpl": metrics.cpl(t["cost"], t["leads"]),
        "cost_per_target_lead": metrics.cost_per_target_lead(t["cost"], t["target_leads"]),
        "cac": cac, "roas": metrics.roas(revenue, paid["cost"]), "roi": metrics.roi(revenue, paid["cost"]),
    }


def headlines(now: Window, before: Window, targets: dict[str, float], b_now: Basis, b_before: Basis) -> list[Headline]:
    """Headline numbers for the month vs the previous month and the marketing plan."""
    specs = tuple((k, b_now.cac_label() if k == "cac" else label, unit, up) for k, label, unit, up in HEADLINES)
    return compare(specs, headline_values(now, b_now), headline_values(before, b_before), targets)


def paid_split(w: Window, paid_channels: Collection[str]) -> dict[str, float]:
    """The window's spend, won deals and first-year revenue in all and of the paid channels alone
    (`paid_spend`, `paid_won`, `paid_revenue`): what CAC, ROAS and ROI count of the whole."""
    t, paid = w.totals(), w.totals(w.paid(paid_channels))
    return {"spend": t["cost"], "won": t["won"], "revenue": metrics.first_year_revenue(t["won_mrr"]),
            "paid_spend": paid["cost"], "paid_won": paid["won"],
            "paid_revenue": metrics.first_year_revenue(paid["won_mrr"])}


def apart(w: Window, paid_channels: Collection[str]) -> pd.DataFrame:
    """The window's spend, won deals and first-year revenue per channel outside `paid_channels`
    (unpaid channels, "(none)": leads with no campaign): shown apart, not in CAC, ROAS and ROI;
    most revenue first."""
    rows = w.rows[~w.paid(paid_channels)]
    f = rows.groupby("channel", dropna=False, sort=False)[["cost", "won", "won_mrr"]].sum(min_count=1).reset_index()
    f["first_year_revenue"] = metrics.first_year_revenue(f["won_mrr"])
    return f.sort_values(["first_year_revenue", "channel"], ascending=[False, True], ignore_index=True)


OFF_TARGET_MIN_LEADS = 100


def clearly_below(part: pd.Series, whole: pd.Series, level: float) -> pd.Series:
    """Whether part ÷ whole is below `level` even at the top of its 95% (Wilson) interval: a share
    of a few hundred leads is judged low only when chance cannot explain it."""
    _, high = proportion_confint(part, whole, alpha=0.05, method="wilson")
    return pd.Series(np.asarray(high) < level, index=part.index)


def off_target(campaigns: pd.DataFrame, previous: pd.DataFrame, keys: list[str],
               min_leads: float = OFF_TARGET_MIN_LEADS) -> pd.DataFrame:
    """"Cheaper but off target": rows whose CPL is below the median (or better than in the previous
    window) while their target-lead share is clearly under half the overall one: even the top of
    its 95% interval is, so a few hundred leads are not called off target by chance. Only rows with
    spend and at least `min_leads` leads are judged. The opportunity rate is returned beside it but
    not judged: a campaign whose leads came at the window's end (an exhibition in its last month)
    has had no time to make opportunities, which the lead cohorts show with their completeness."""
    paid = campaigns[(campaigns["cost"] > 0) & (campaigns["leads"] >= min_leads)].copy()
    if paid.empty:
        return paid
    overall_share = metrics.ratio(paid["target_leads"].sum(), paid["leads"].sum()) or 0.0
    overall_opp = metrics.ratio(paid["opportunities"].sum(), paid["leads"].sum()) or 0.0
    paid = paid.merge(previous[[*keys, "cpl"]].rename(columns={"cpl": "cpl_before"}), on=keys, how="left")
    paid["median_cpl"] = paid["cpl"].median()
    cheap = (paid["cpl"] < paid["median_cpl"]) | (paid["cpl"] < paid["cpl_before"])
    poor = clearly_below(paid["target_leads"], paid["leads"], overall_share / 2)
    flagged = paid[cheap & poor].assign(overall_target_share=overall_share, overall_opportunity_rate=overall_opp)
    return flagged.sort_values("cpl", ignore_index=True)


def reallocation(channels: pd.DataFrame, step: float = 0.5) -> pd.DataFrame:
    """Spend share vs share of LTV-based return per channel, and a split toward the one that equalises
    marginal return if each channel's return grows with the square root of its spend (diminishing
    returns): return = k·√spend, so the optimum gives each channel a budget ∝ k² = return² ÷ spend.
    One step moves no channel's spend by more than `step` (0.5: ±50%; params/company.yaml
    budget_step), with the total unchanged: the square-root model is a direction, not a forecast."""
    paid = channels.loc[channels["cost"] > 0, ["channel", "cost", "ltv_revenue"]].copy()
    if paid.empty:  # no channel with spend in the window: nothing to split
        return paid.assign(spend_share=[], return_share=[], proposed_share=[], proposed_spend=[], change=[])
    paid["ltv_revenue"] = paid["ltv_revenue"].fillna(0.0)
    budget = paid["cost"].sum()
    paid["spend_share"] = paid["cost"] / budget
    paid["return_share"] = metrics.ratio(paid["ltv_revenue"], paid["ltv_revenue"].sum())
    k2 = paid["ltv_revenue"] ** 2 / paid["cost"]
    shares = k2 / k2.sum() if k2.sum() > 0 else paid["spend_share"]  # no return anywhere: stay put
    optimum = shares * budget
    paid["proposed_spend"] = bounded_split(optimum, paid["cost"] * (1 - step), paid["cost"] * (1 + step), budget)
    paid["proposed_share"] = paid["proposed_spend"] / budget
    paid["change"] = paid["proposed_spend"] - paid["cost"]
    return paid.sort_values("change", ascending=False, ignore_index=True)


def bounded_split(target: pd.Series, low: pd.Series, high: pd.Series, total: float) -> pd.Series:
    """The split of `total` nearest `target` in proportion, each part within [low, high]: λ·target
    clipped to the bounds, with λ found by bisection so the parts sum to `total` (the sum grows with
    λ; sum(low) ≤ total ≤ sum(high) holds when the bounds bracket today's split)."""
    lo, hi = 0.0, 1.0
    while (target * hi).clip(low, high).sum() < total and hi < 1e12:
        hi *= 2
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if (target * mid).clip(low, high).sum() < total else (lo, mid)
    return (target * hi).clip(low, high)


def cohort_completeness(lags: pd.DataFrame, age_days: float) -> float | None:
    """Share of won deals that, historically, closed within `age_days` of the lead's creation."""
    total = lags["deals"].sum()
    if not total:
        return None
    return float(lags.loc[(lags["bucket"] + 1) * 30 <= age_days, "deals"].sum() / total)


def cohorts(wh: Warehouse, period: Period, months: int, target_industries: list[str]) -> pd.DataFrame:
    """Lead cohorts by creation month: what they became by the period's end, and how complete that
    is likely to be given how long deals usually take (share of the usual lead→won lag elapsed)."""
    window_months = [p.start for p in period.trailing(months)]
    raw = wh.mart("lead_cohorts", months=window_months, as_of=period.end)
    raw["target"] = raw["industry"].isin(target_industries)
    per_month = raw.groupby("month")[["leads", "opportunities", "won", "won_mrr"]].sum().reset_index()
    lags = wh.mart("won_lag", as_of=period.end)
    per_month["month"] = pd.to_datetime(per_month["month"]).dt.date
    per_month["age_days"] = [(period.end - m).days - 15 for m in per_month["month"]]
    per_month["completeness"] = [cohort_completeness(lags, a) for a in per_month["age_days"]]
    per_month["first_year_revenue"] = metrics.first_year_revenue(per_month["won_mrr"])
    return per_month


def target_vs_other(industries_: pd.DataFrame) -> dict[bool, tuple[float | None, float | None]]:
    """Lead → opportunity and lead → won rates of target industries (True) and the others (False)."""
    group = industries_.groupby("target")[["leads", "opportunities", "won"]].sum()
    return {bool(t): (metrics.ratio(float(g["opportunities"]), float(g["leads"])),
                      metrics.ratio(float(g["won"]), float(g["leads"])))
            for t, g in group.iterrows()}


def industries(wh: Warehouse, period: Period, months: int, target_industries: list[str]) -> pd.DataFrame:
    """Leads created in the window per industry and how far they progressed by the period's end."""
    raw = wh.mart("lead_cohorts", months=[p.start for p in period.trailing(months)], as_of=period.end)
    f = raw.groupby("industry")[["leads", "opportunities", "won", "won_mrr"]].sum().reset_index()
    f["target"] = f["industry"].isin(target_industries)
    f["opportunity_rate"] = metrics.ratio(f["opportunities"], f["leads"])
    f["opportunity_win_rate"] = metrics.ratio(f["won"], f["opportunities"])
    f["lead_to_won"] = metrics.ratio(f["won"], f["leads"])
    return f.sort_values("lead_to_won", ascending=False, ignore_index=True)
