"""The charts and sentences of the customer-success churn-drivers page (notebooks/customer_success/churn_drivers)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from revbook import metrics
from revbook.departments import customer_success as cs
from revbook.departments.customer_success import Model, Upsell
from revbook.departments.sales_ops import Economics
from revbook.pages import charts, columns
from revbook.pages.report import fmt, md
from revbook.settings import Company

BAND_COLOURS = {"red": "#c44e52", "yellow": "#dd8452", "green": "#55a868"}


def sample_note(model: Model) -> str:
    """'' on every account, else a sentence saying the model was fitted on a sample."""
    if model.share >= 1:
        return ""
    return (f" Fitted on a fixed sample of {model.share:.0%} of the accounts "
            f"({len(model.train) + len(model.test):,} account-months), which keeps the fit quick and small.")


def retention_sentence(monthly: pd.DataFrame) -> str:
    """How churn and NRR went over the months of `cs.monthly_retention`."""
    churn, nrr = monthly["customer_churn_rate"].dropna(), monthly["nrr"].dropna()
    if churn.empty:
        return "No paying customers in these months: no retention to show."
    last = monthly.iloc[-1]
    above = int((nrr > 1).sum())
    return (f"Customer churn averaged **{md(fmt(churn.mean(), 'pct'))}** a month over the last {len(monthly)} months "
            f"(between {md(fmt(churn.min(), 'pct'))} and {md(fmt(churn.max(), 'pct'))}; "
            f"{md(fmt(last['customer_churn_rate'], 'pct'))} in {md(last['month'])}); monthly NRR was above 100% in "
            f"**{above} of {len(nrr)}** months.")


def ltv_basis(econ: Economics, month_churn: float | None) -> str:
    """The basis of the LTV headline (`sales_ops.economics`): its ARPA, margin and churn, and the month's
    churn beside the averaged one it uses."""
    return (f"LTV {md(fmt(econ.ltv, 'money'))} = ARPA at the month end {md(fmt(econ.arpa, 'money'))} × gross margin "
            f"{md(fmt(econ.gross_margin, 'pct'))} ÷ customer churn {md(fmt(econ.monthly_churn, 'pct'))} a month, "
            f"the average of the last {econ.months} months' churn rates (this month's alone: "
            f"{md(fmt(month_churn, 'pct'))}).")


def cohort_heatmaps(cohorts: pd.DataFrame) -> str:
    """Logo and revenue retention heatmaps of `cs.cohorts`, side by side; returns the chart's alt text."""
    n = cohorts["cohort"].nunique()
    fig, axes = plt.subplots(1, 2, figsize=(13, 0.35 * n + 2))
    for ax, column in zip(axes, ("logo_retention", "revenue_retention"), strict=True):
        charts.heatmap(cs.cohort_matrix(cohorts, column), columns.label(column), ax, "Months since start",
                       columns.label("cohort"))
    fig.tight_layout()
    return (f"Logo and revenue retention of {n} start-month cohorts, {cohorts['cohort'].min()} to "
            f"{cohorts['cohort'].max()}, by months since start")


def cohort_sentence(cohorts: pd.DataFrame, age: int = 6) -> str:
    """What the cohorts that reached `age` months (or the oldest age there is) kept on average."""
    if cohorts.empty:
        return "No cohorts started in these months."
    age = min(age, int(cohorts["age"].max()))
    at = cohorts[cohorts["age"] == age]
    return (f"After {age} months the {len(at)} cohorts that got there keep "
            f"**{md(fmt(at['logo_retention'].mean(), 'pct'))}** of their customers and "
            f"**{md(fmt(at['revenue_retention'].mean(), 'pct'))}** of their MRR on average "
            f"(revenue retention from {md(fmt(at['revenue_retention'].min(), 'pct'))} to "
            f"{md(fmt(at['revenue_retention'].max(), 'pct'))}).")


def retention_by_sentence(table: pd.DataFrame, dimension: str) -> str:
    """Which value of `dimension` churns most and least, from `cs.retention_table`."""
    if table.empty:
        return ""
    top, low = table.iloc[0], table.iloc[-1]
    first, last = (md(columns.display_names(dimension, [v])[0]) for v in (top[dimension], low[dimension]))
    if len(table) == 1:
        return f"Only **{first}**: {md(fmt(top['customer_churn_rate'], 'pct'))} of its customers churn a month."
    return (f"**{first}** churns most: {md(fmt(top['customer_churn_rate'], 'pct'))} of its customers a month "
            f"(monthly GRR {md(fmt(top['grr'], 'pct'))}, "
            f"over {md(fmt(top['customers_start'], 'count'))} account-months); **{last}** least, "
            f"{md(fmt(low['customer_churn_rate'], 'pct'))}.")


def drivers_chart(model: Model) -> str:
    """The churn model's forest plot; returns its alt text."""
    months = model.train["month"]
    title = (f"Churn drivers, {months.nunique()} months to {months.max():%Y-%m} "
             f"({int(model.train['churned'].sum())} churns)")
    charts.effects(model.table, title)
    return f"{title}: odds ratio per standard deviation of each driver with its familywise 95% interval"


def drivers_sentence(model: Model) -> str:
    """The strongest driver and which drivers are reliable, protective or noise."""
    table = model.table
    reliable = table[table["verdict"] == "reliable"]
    up = reliable[reliable["odds_ratio"] > 1]["label"]
    down = reliable[reliable["odds_ratio"] < 1]["label"]
    noise = table[table["verdict"] == "noise"]["label"]
    top = table.iloc[0]
    strongest = (f"The strongest driver is **{md(top['label'])}**: one standard deviation more goes with "
                 f"{md(fmt(top['odds_ratio'], 'ratio'))} the odds of churning ({md(top['verdict'])}). ")
    return (strongest + f"**Reliable churn signals:** {', '.join(md(x) for x in up) or 'none'}. "
            f"**Reliably protective:** {', '.join(md(x) for x in down) or 'none'}. "
            f"**Noise** (no effect we can tell from chance): {', '.join(md(x) for x in noise) or 'none'}."
            + sample_note(model))


def holdout_sentence(model: Model, company: Company) -> str:
    """How the score did on the hold-out months: AUC with its interval and churn per band."""
    auc, per_band = model.holdout_separation(company)
    months = sorted(model.test["month"].unique())
    churns = int(model.test["churned"].sum())
    low, high = metrics.auc_interval(auc, churns, len(model.test) - churns)
    return (f"**Hold-out ({pd.Timestamp(months[0]):%Y-%m} to {pd.Timestamp(months[-1]):%Y-%m}, {churns} churns): "
            f"AUC {auc:.2f} (95% interval {low:.2f}–{high:.2f}).** Churn in the month after a score, by band: "
            + " · ".join(f"{r.band} {md(fmt(r.churn_rate, 'pct'))} ({md(fmt(r.accounts, 'count'))} account-months)"
                         for r in per_band.itertuples()) + ".")


def score_histogram(now: pd.DataFrame, company: Company, label: str) -> str:
    """Accounts by health score in 5-point bins, each bar in its band's colour, with the band cut-offs;
    returns the alt text."""
    h = company.health
    edges = np.arange(0, 105, 5)
    counts, _ = np.histogram(now["score"].clip(0, 100), bins=edges)
    lefts = edges[:-1]
    colours = [BAND_COLOURS[b] for b in cs.band(pd.Series(lefts + 2.5, dtype=float), company)]
    _, ax = plt.subplots(figsize=(9, 3.6))
    ax.bar(lefts, counts, width=5, align="edge", color=colours, edgecolor="white")
    for cut, text in ((h.red_below, f"red below {h.red_below:g}"), (h.green_from, f"green from {h.green_from:g}")):
        ax.axvline(cut, color="black", linewidth=0.8, linestyle="--")
        ax.annotate(text, (cut, 1), xycoords=("data", "axes fraction"), xytext=(3, -12),
                    textcoords="offset points", fontsize=9)
    ax.set_xlim(0, 100)
    ax.set_title(f"Accounts by health score, {label}")
    ax.set_xlabel(columns.label("score"))
    ax.set_ylabel(columns.label("accounts"))
    return (f"Histogram of {len(now)} accounts' health scores in 5-point bins, {label}, with the red cut-off at "
            f"{h.red_below:g} and the green one at {h.green_from:g}")


def score_sentence(now: pd.DataFrame) -> str:
    """The spread of the scores and how many accounts, and how much MRR, each band holds."""
    bands = cs.band_summary(now).set_index("band")
    share = bands["mrr"] / bands["mrr"].sum() if bands["mrr"].sum() else bands["mrr"]
    return (f"Scores run from {md(fmt(round(now['score'].min()), 'count'))} to "
            f"{md(fmt(round(now['score'].max()), 'count'))} (median {md(fmt(round(now['score'].median()), 'count'))}). "
            f"**{md(fmt(bands.loc['red', 'accounts'], 'count'))} accounts are red**, holding "
            f"{md(fmt(bands.loc['red', 'mrr'], 'money'))} of MRR ({md(fmt(share['red'], 'pct'))}); "
            f"{md(fmt(bands.loc['green', 'accounts'], 'count'))} are green.")


def points_table(model: Model) -> pd.DataFrame:
    """`HealthModel.points_per_sd` with each driver by its name."""
    table = model.health.points_per_sd()
    table.insert(0, "driver", [cs.label(k) for k in table.pop("feature")])
    return table


def scores_csv(now: pd.DataFrame, model: Model) -> pd.DataFrame:
    """Every account's score and band with the points each driver gives it (headed by the driver's
    name), lowest score first: the CSV beside the page."""
    points = model.health.contributions(now).round(1)
    points.columns = [cs.label(k) for k in points.columns]
    scores = now[["account_id", "account_name", "owner_name", "plan", "mrr", "score", "band"]].round({"score": 1})
    return scores.join(points).sort_values(["score", "account_id"])


def at_risk_sentence(lowest: pd.DataFrame) -> str:
    """The lowest-scored accounts' MRR and the driver that most often costs them most."""
    if lowest.empty:
        return "No paying accounts to score."
    first = lowest["reasons"].str.split(" −").str[0]
    common = first[first != "none"].value_counts()
    why = (f"; the driver costing them most is most often **{md(common.index[0])}** ({common.iloc[0]} of them)"
           if not common.empty else "")
    return (f"The {len(lowest)} lowest scores ({md(fmt(round(lowest['score'].min()), 'count'))} to "
            f"{md(fmt(round(lowest['score'].max()), 'count'))}) carry {md(fmt(lowest['mrr'].sum(), 'money'))} "
            f"of MRR{why}.")


def fifths_chart(upsell: Upsell) -> str:
    """Monthly expansion by fifth of the upsell feature's use; returns the alt text."""
    assert upsell.feature is not None
    name = columns.label(upsell.feature)
    _, ax = plt.subplots()
    ax.bar(upsell.by_fifth["fifth"].astype(str), upsell.by_fifth["upsell_rate"], color="#4c72b0")
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.set_title(f"Monthly expansion by fifth of {name}")
    ax.set_xlabel("Fifth of use (1 = lightest, 5 = heaviest)")
    ax.set_ylabel("Accounts expanding in the month")
    return f"Share of accounts expanding in a month by fifth of {name}, lightest to heaviest"


def upsell_sentence(upsell: Upsell, lookalikes: int) -> str:
    """What the top fifth of the upsell feature's users did, and how many look like them now."""
    assert upsell.feature is not None
    top = upsell.by_fifth.iloc[-1]
    lift = upsell.lift()
    return (f"**{md(cs.label(upsell.feature))}** comes before upgrades: accounts in the top fifth "
            f"(≥ {top['from']:.1f}) expanded {md(fmt(top['upsell_rate'], 'pct'))} of months, "
            f"{'n/a' if lift is None else f'{lift:.1f}×'} the other four fifths; "
            f"**{md(fmt(lookalikes, 'count'))} accounts** use it like that now and have never upgraded.")


def tickets_chart(by_month: pd.DataFrame) -> str:
    """Tickets created per month, stacked by category (`cs.tickets_by_month`); returns the alt text."""
    wide = by_month.set_index("month")
    wide.columns = columns.display_names("category", wide.columns)
    ax = wide.plot.bar(stacked=True, rot=45, figsize=(10, 4))
    ax.legend(title="", bbox_to_anchor=(1.01, 1), loc="upper left")
    ax.set_title("Support tickets created per month, by category")
    ax.set_xlabel("")
    ax.set_ylabel("Tickets")
    return f"Support tickets created per month by category, {by_month['month'].iloc[0]} to {by_month['month'].iloc[-1]}"


def tickets_sentence(by_month: pd.DataFrame, load: pd.DataFrame | None) -> str:
    """This month's tickets against the month before, the largest category, and the load per band."""
    wide = by_month.set_index("month")
    totals = wide.sum(axis=1)
    last = wide.iloc[-1]
    text = (f"**{md(fmt(totals.iloc[-1], 'count'))} tickets** in {md(wide.index[-1])}"
            + (f" ({md(fmt(totals.iloc[-2], 'count'))} the month before)" if len(totals) > 1 else "")
            + f", most of them {md(columns.display_names('category', [last.idxmax()])[0].lower())} "
              f"({md(fmt(last.max(), 'count'))}).")
    if load is not None:
        b = load.set_index("band")
        red, green = (md(fmt(round(b.loc[x, "tickets_per_100"]), "count")) for x in ("red", "green"))
        text += f" Red accounts opened {red} tickets per 100 accounts in the last 28 days, green ones {green}."
    return text
