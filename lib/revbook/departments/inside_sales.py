"""Inside sales: assets, activity, SQLs, hand-over to field sales and what SQLs become.

Every frame comes from a mart run in the warehouse; this module adds the zero rows (reps with
no activity, days with no plan), the ratios (metrics.py) and the period logic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from revbook import metrics
from revbook.data import coverage
from revbook.data.warehouse import Warehouse
from revbook.departments.headlines import Headline, HeadlineSpec, compare
from revbook.periods import Period, month_to_date
from revbook.settings import Company

ACTIVITY = ["calls", "connects", "emails", "seminar_invites"]
DIRECTIONS = ("inbound", "outbound")
#: Headline metrics: key (the targets table's metric name), label, unit, good when up.
HEADLINES: tuple[HeadlineSpec, ...] = (
    ("calls", "Calls", "count", True),
    ("connect_rate_inbound", "Connect rate, inbound calls", "pct", True),
    ("connect_rate_outbound", "Connect rate, outbound calls", "pct", True),
    ("connect_rate", "Connect rate, all calls (inbound and outbound pooled)", "pct", True),
    ("sqls", "SQLs", "count", True),
    ("target_sqls", "Target-industry SQLs", "count", True),
    ("inbound_share", "Inbound share of SQLs", "pct", True),
    ("hot_leads", "Hot leads", "count", True),
    ("reps_over_capacity", "Field-sales reps over SQL capacity", "count", False),
)
#: Metrics whose plan for a part of a month is the month's target pro rata (counts, not rates).
ADDITIVE = frozenset(key for key, _, unit, _ in HEADLINES if unit == "count")
#: Connects count calls with `connected` true: an export without that column leaves them unknown, not 0.
CONNECTS = "activities.connected"


def activity(wh: Warehouse, period: Period, reps: pd.DataFrame) -> pd.DataFrame:
    """Activity per rep and direction in the period, every active rep present (zeros if idle)."""
    daily = wh.mart("is_activity_daily", start=period.start, end=period.end)
    grid = pd.MultiIndex.from_product([reps["rep_id"], DIRECTIONS], names=["rep_id", "direction"])
    per_rep = daily.groupby(["rep_id", "direction"])[ACTIVITY].sum().reindex(grid, fill_value=0).reset_index()
    per_rep = per_rep.merge(reps, on="rep_id", how="left")
    per_rep["connect_rate"] = metrics.connect_rate(per_rep["connects"], per_rep["calls"])
    return coverage.unknown_without(wh, per_rep, {CONNECTS: ["connects", "connect_rate"]})


def team_activity(wh: Warehouse, period: Period) -> pd.DataFrame:
    """Calls, connects, e-mails and seminar invitations per day across the team, every day of the
    period present (zeros on idle days; connects unknown when `activities.connected` holds no values)."""
    daily = wh.mart("is_activity_daily", start=period.start, end=period.end)
    days = pd.date_range(period.start, period.last_day, freq="D")
    team = daily.assign(day=pd.to_datetime(daily["day"])).groupby("day")[ACTIVITY].sum().reindex(days, fill_value=0)
    return coverage.unknown_without(wh, team.rename_axis("day").reset_index(), {CONNECTS: ["connects"]})


def per_week(daily: pd.DataFrame) -> pd.DataFrame:
    """`team_activity`'s days summed per ISO week, labelled by the week's Sunday (`week_ending`); a
    column unknown on every day of a week stays unknown, not 0."""
    weeks = daily.set_index("day")[ACTIVITY].resample("W-SUN").sum(min_count=1)
    return weeks.rename_axis("week_ending").reset_index()


def activity_by_direction(per_rep: pd.DataFrame) -> pd.DataFrame:
    """Calls, connects and e-mails per rep, inbound and outbound apart (calls_inbound, …; 0 where a rep
    had none), and each direction's connect rate (unknown where `per_rep`'s connects are)."""
    kinds = ["calls", "connects", "emails"]
    wide = per_rep.pivot_table(index=["rep_id", "name"], columns="direction", values=kinds, aggfunc="sum", fill_value=0)
    wide.columns = [f"{kind}_{direction}" for kind, direction in wide.columns]
    wide = wide.reindex(columns=[f"{k}_{d}" for k in kinds for d in DIRECTIONS], fill_value=0).reset_index()
    for d in DIRECTIONS:
        wide[f"connect_rate_{d}"] = metrics.connect_rate(wide[f"connects_{d}"], wide[f"calls_{d}"])
    if len(per_rep) and per_rep["connects"].isna().all():
        wide = wide.assign(**{f"{k}_{d}": float("nan") for k in ("connects", "connect_rate") for d in DIRECTIONS})
    return wide


def one_direction(wide: pd.DataFrame, direction: str) -> pd.DataFrame:
    """`activity_by_direction`'s columns of one direction, per rep: a table that fits the page."""
    return wide[["rep_id", "name", *(f"{k}_{direction}" for k in ("calls", "connects", "connect_rate", "emails"))]]


@dataclass(frozen=True)
class Results:
    """SQLs (appointments) per IS rep and direction, with what became of them."""

    rows: pd.DataFrame  # rep_id, direction, sqls, target_sqls, won, lost, open

    def per_rep(self, reps: pd.DataFrame, activity: pd.DataFrame) -> pd.DataFrame:
        """Per rep of `reps`: appointments (SQLs the rep set), target-industry ones, what became of them
        and the seminar invitations the rep sent (`activity`: `activity()`'s rows), 0 where none."""
        cols = ["sqls", "target_sqls", "won", "lost", "open"]
        by = self.rows.groupby("rep_id")[cols].sum()
        table = reps.merge(by, left_on="rep_id", right_index=True, how="left").fillna(dict.fromkeys(cols, 0))
        invites = activity.groupby("rep_id")["seminar_invites"].sum()
        return table.assign(seminar_invites=table["rep_id"].map(invites).fillna(0)).rename(
            columns={"sqls": "appointments", "target_sqls": "target_appointments"})

    def total(self, column: str, direction: str | None = None) -> float:
        rows = self.rows if direction is None else self.rows[self.rows["direction"] == direction]
        return float(rows[column].sum())


def results(wh: Warehouse, period: Period, company: Company) -> Results:
    return Results(wh.mart("is_rep_results", start=period.start, end=period.end,
                           target_industries=list(company.target_industries)))


def chain(per_rep_activity: pd.DataFrame, res: Results) -> pd.DataFrame:
    """Call → connect → SQL per direction and overall."""
    rows = []
    for direction in (*DIRECTIONS, None):
        act = per_rep_activity if direction is None else per_rep_activity[per_rep_activity["direction"] == direction]
        c = metrics.CallChain(float(act["calls"].sum()), float(act["connects"].sum(min_count=1)),
                              res.total("sqls", direction))
        rows.append({"direction": direction or "all", "calls": c.calls, "connects": c.connects,
                     "connect_rate": c.connect_rate, "sqls": c.sqls, "sql_per_connect": c.sql_per_connect,
                     "sql_per_call": c.sql_per_call})
    return pd.DataFrame(rows)


#: SQL-mix dimensions (as the sql_mix mart names them) and the column each is shown under.
MIX_DIMENSIONS = {"service": "service", "company size": "company_size", "region": "region",
                  "deal size": "deal_size", "counterpart department": "counterpart_department",
                  "counterpart title": "counterpart_title"}


def sql_mix(wh: Warehouse, period: Period) -> pd.DataFrame:
    """The period's SQLs per direction, dimension (MIX_DIMENSIONS) and value, long format."""
    return wh.mart("sql_mix", start=period.start, end=period.end)


def mix_tables(mix: pd.DataFrame) -> list[pd.DataFrame]:
    """One frame per dimension of `sql_mix` present: its values (column named by the dimension) with
    inbound, outbound and all SQLs, most SQLs first."""
    tables = []
    for dimension, key in MIX_DIMENSIONS.items():
        rows = mix[mix["dimension"] == dimension]
        if rows.empty:
            continue
        wide = rows.pivot_table(index="value", columns="direction", values="sqls", aggfunc="sum", fill_value=0)
        wide = wide.reindex(columns=list(DIRECTIONS), fill_value=0).add_prefix("sqls_")
        wide["sqls"] = wide.sum(axis=1)
        wide = wide.rename_axis(key).reset_index().sort_values(["sqls", key], ascending=[False, True], kind="stable")
        tables.append(wide.reset_index(drop=True))
    return tables


def allocation(wh: Warehouse, month: Period, company: Company) -> pd.DataFrame:
    """SQLs handed to each active field-sales rep in the month (`sqls_handed`) vs capacity; `over` flags alerts."""
    f = wh.mart("fs_allocation", start=month.start, end=month.end)
    f["capacity"] = [metrics.sql_capacity(c, s, company.fs_capacity_by_segment)
                     for c, s in zip(f["monthly_sql_capacity"], f["segment"], strict=True)]
    f["utilisation"] = metrics.ratio(f["sqls"], f["capacity"].astype("float64"))
    f["over"] = f["sqls"] > f["capacity"].fillna(float("inf"))
    return f.drop(columns="monthly_sql_capacity").rename(columns={"sqls": "sqls_handed"})


def outcomes(wh: Warehouse, period: Period, months: int = 12) -> pd.DataFrame:
    """Closed deals from SQLs of the trailing `months` months (one row per direction × attendees × days)."""
    start = period.end - pd.DateOffset(months=months)
    return wh.mart("deal_outcomes", start=start.date(), end=period.end)


def by_direction(closed: pd.DataFrame) -> pd.DataFrame:
    """Win rate, median days lead → won and average won MRR for inbound and outbound SQLs."""
    rows = []
    for direction, g in closed.groupby("direction"):
        won = g[g["won"] > 0]
        rows.append({
            "direction": direction, "closed": g["closed"].sum(), "won": g["won"].sum(),
            "win_rate": metrics.ratio(g["won"].sum(), g["closed"].sum()),
            "median_days_to_win": metrics.weighted_median(won["days"], won["won"]),
            "average_deal": metrics.ratio(g["won_mrr"].sum(), g["won"].sum()),
        })
    return pd.DataFrame(rows)


def by_attendees(closed: pd.DataFrame) -> pd.DataFrame:
    """Win rate by first-meeting attendee count."""
    f = closed.dropna(subset=["attendees"]).groupby("attendees")[["closed", "won"]].sum().reset_index()
    f["win_rate"] = metrics.ratio(f["won"], f["closed"])
    return f


def hot_leads(wh: Warehouse, period: Period, company: Company) -> pd.DataFrame:
    """The period's hot leads as hot_leads.count says (those that became hot during it, or those hot at
    its end), and hours from turning hot to the first IS touch."""
    rule = company.hot_leads
    f = wh.mart("hot_leads", start=period.start, end=period.end, min_page_views=rule.min_page_views,
                window_days=rule.window_days, count_mode=rule.count)
    hours = (pd.to_datetime(f["first_activity_at"]) - pd.to_datetime(f["hot_at"])).dt.total_seconds() / 3600
    return f.assign(hours_to_activity=hours)


HOT_COLUMNS = ["lead_id", "company_name", "owner_rep_id", "page_views", "demo_clicks", "hot_at", "hours_to_activity"]


def waiting_longest(hot: pd.DataFrame) -> pd.DataFrame:
    """Hot leads as inside sales should work them: those not yet touched first (longest hot first,
    as the mart orders them), then the slowest touched."""
    return hot.sort_values("hours_to_activity", ascending=False, na_position="first", kind="stable")[HOT_COLUMNS]


def approach_plan(wh: Warehouse, upcoming: Period, sql_target: float | None, lead_to_sql: float | None) -> pd.DataFrame:
    """Leads planned for approach per day of the upcoming period against the daily need: the leads
    required to reach the SQL target at the current lead → SQL rate, spread over weekdays."""
    days = pd.date_range(upcoming.start, upcoming.last_day, freq="D")
    plan = wh.mart("approach_plan", start=upcoming.start, end=upcoming.end)
    planned = plan.assign(day=pd.to_datetime(plan["day"])).set_index("day")["leads"].reindex(days, fill_value=0)
    weekday = days.dayofweek < 5
    needed = metrics.ratio(sql_target, lead_to_sql) if sql_target is not None and lead_to_sql else None
    per_day = needed / weekday.sum() if needed is not None and weekday.any() else None
    need = pd.Series([per_day if w else 0.0 for w in weekday], index=days) if per_day is not None else None
    return pd.DataFrame({"day": days, "planned": planned.to_numpy(),
                         "needed": need.to_numpy() if need is not None else float("nan")})


def lead_to_sql_rate(wh: Warehouse, period: Period, months: int = 3) -> float | None:
    """SQLs ÷ leads over the trailing `months` months (the conversion the need is computed at)."""
    start = (period.end - pd.DateOffset(months=months)).date()
    counts = wh.mart("lead_to_sql", start=start, end=period.end).iloc[0]
    return metrics.ratio(float(counts["sqls"]), float(counts["leads"]))


def approach_weeks(plan: pd.DataFrame) -> pd.DataFrame:
    """`approach_plan`'s days summed per ISO week (`week_ending`, its Sunday); the need rounded up to
    whole leads (a week short by 0.2 of a lead is short by one), unknown without a target or rate."""
    weeks = plan.set_index("day")[["planned", "needed"]].resample("W-SUN").sum(min_count=1)
    weeks["needed"] = np.ceil(weeks["needed"].round(6))  # round(6): 288.0000001 from float sums is 288
    return weeks.rename_axis("week_ending").reset_index()


def recycled(wh: Warehouse) -> pd.DataFrame:
    """Recycled leads by reason, as of now, and how many have a re-approach date."""
    return wh.mart("lead_recycle").rename(columns={"leads": "recycled_leads"})


def recycled_without_date(wh: Warehouse) -> pd.DataFrame:
    """Recycled leads without a re-approach date, oldest first (the mart's first 200)."""
    return wh.mart("recycled_without_date").rename(columns={"recycle_reason": "reason",
                                                             "created_at": "lead_created_at"})


def source_outcomes(wh: Warehouse, period: Period) -> pd.DataFrame:
    """Opportunities created and deals won in the period per ISO week (its Monday), lead source and campaign."""
    return wh.mart("source_outcomes", start=period.start, end=period.end)


def opportunities_by_source(src: pd.DataFrame, period: Period) -> pd.DataFrame:
    """Opportunities per ISO week (`week`, its Monday; every week the period touches, 0 if none) and
    lead source, one column per source."""
    first = pd.Timestamp(period.start) - pd.Timedelta(days=period.start.weekday())
    weeks = pd.date_range(first, pd.Timestamp(period.last_day), freq="W-MON")
    wide = src.assign(week=pd.to_datetime(src["week"])).pivot_table(
        index="week", columns="lead_source", values="opportunities", aggfunc="sum", fill_value=0)
    wide = wide.reindex(weeks, fill_value=0).rename_axis("week")
    wide.columns.name = None
    return wide.reset_index()


def by_source_and_campaign(src: pd.DataFrame) -> pd.DataFrame:
    """Opportunities and won deals in the period per lead source and campaign, most opportunities first."""
    sums = src.groupby(["lead_source", "campaign_id"])[["opportunities", "won"]].sum().astype("int64")  # whole counts
    return sums.reset_index().sort_values("opportunities", ascending=False)  # on every engine


def inbound_leads(wh: Warehouse, period: Period, months: int = 12) -> pd.DataFrame:
    """Inbound leads of the trailing `months` months and the SQLs they became, per campaign and rep."""
    return wh.mart("inbound_cvr", start=(period.end - pd.DateOffset(months=months)).date(), end=period.end)


def inbound_conversion(cvr: pd.DataFrame, by: str) -> pd.DataFrame:
    """Inbound leads, SQLs and lead → SQL conversion per `by` (campaign_id or rep_id), most leads first."""
    t = cvr.groupby(by)[["leads", "sqls"]].sum().reset_index()
    t["lead_to_sql"] = metrics.ratio(t["sqls"], t["leads"])
    return t.rename(columns={"leads": "inbound_leads"}).sort_values("inbound_leads", ascending=False)


@dataclass(frozen=True)
class Snapshot:
    """One period's activity per rep, SQL results, hot leads and month-to-date FS allocation."""

    per_rep: pd.DataFrame
    results: Results
    hot: pd.DataFrame
    allocation: pd.DataFrame
    unknown: frozenset[str] = frozenset()  # headline keys whose tables were not loaded: n/a, not 0

    def headline_values(self) -> dict[str, float | None]:
        values = headline_values(self.per_rep, self.results, self.hot, self.allocation)
        return {k: None if k in self.unknown else v for k, v in values.items()}


#: What each headline counts from (tables, or a column: see `Warehouse.has`).
CONNECT_RATES = ["connect_rate_inbound", "connect_rate_outbound", "connect_rate"]
HEADLINE_SOURCES = {"activities": ["calls", *CONNECT_RATES], CONNECTS: CONNECT_RATES,
                    "reps": ["calls", *CONNECT_RATES, "reps_over_capacity"],
                    "leads": ["sqls", "target_sqls", "inbound_share", "hot_leads", "reps_over_capacity"],
                    "touchpoints": ["hot_leads"]}


def snapshot(wh: Warehouse, period: Period, company: Company, reps: pd.DataFrame) -> Snapshot:
    unknown = frozenset(k for source, keys in HEADLINE_SOURCES.items() if not wh.has(source) for k in keys)
    return Snapshot(activity(wh, period, reps), results(wh, period, company), hot_leads(wh, period, company),
                    allocation(wh, month_to_date(period), company), unknown)


def headline_values(per_rep: pd.DataFrame, res: Results, hot: pd.DataFrame, alloc: pd.DataFrame) -> dict:
    """The period's headline numbers: connect rates per direction (the definition) and, labelled as
    such, over all calls."""
    def rate(rows: pd.DataFrame) -> float | None:
        return metrics.connect_rate(float(rows["connects"].sum()), float(rows["calls"].sum()))

    return {
        "calls": float(per_rep["calls"].sum()),
        **{f"connect_rate_{d}": rate(per_rep[per_rep["direction"] == d]) for d in DIRECTIONS},
        "connect_rate": rate(per_rep),
        "sqls": res.total("sqls"), "target_sqls": res.total("target_sqls"),
        "inbound_share": metrics.ratio(res.total("sqls", "inbound"), res.total("sqls")),
        "hot_leads": float(len(hot)), "reps_over_capacity": float(alloc["over"].sum()),
    }


#: The hot-lead headline's label per hot_leads.count: which leads it counts.
HOT_LABELS = {"became_hot": "Hot leads (became hot in the period)", "hot_at_end": "Hot leads (hot at the period's end)"}


def headlines(now: dict, before: dict, plan: dict[str, float], hot_count: str) -> list[Headline]:
    """The headlines against the previous period and plan, the hot-lead one labelled by `hot_count`."""
    specs = tuple((k, HOT_LABELS[hot_count] if k == "hot_leads" else label, unit, up)
                  for k, label, unit, up in HEADLINES)
    return compare(specs, now, before, plan)
