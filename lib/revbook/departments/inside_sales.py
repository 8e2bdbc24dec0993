"""Inside sales: assets, activity, SQLs, hand-over to field sales and what SQLs become.

Every frame comes from a mart run in the warehouse; this module adds the zero rows (reps with
no activity, days with no plan), the ratios (metrics.py) and the period logic.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

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
    ("connect_rate", "Connect rate", "pct", True),
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


def activity_over_time(wh: Warehouse, period: Period, freq: str) -> pd.DataFrame:
    """Calls, connects and e-mails per day ("D") or ISO week ("W", labelled by its Sunday) across the team."""
    daily = wh.mart("is_activity_daily", start=period.start, end=period.end)
    days = pd.date_range(period.start, period.last_day, freq="D")
    team = daily.assign(day=pd.to_datetime(daily["day"])).groupby("day")[ACTIVITY].sum().reindex(days, fill_value=0)
    rule = {"D": "D", "W": "W-SUN"}[freq]
    return coverage.unknown_without(wh, team.resample(rule).sum().rename_axis("day").reset_index(),
                                    {CONNECTS: ["connects"]})


def activity_by_direction(per_rep: pd.DataFrame) -> pd.DataFrame:
    """Calls, connects and e-mails per rep, inbound and outbound apart (0 where a rep had none), and
    each direction's connect rate (unknown where `per_rep`'s connects are)."""
    kinds = ["calls", "connects", "emails"]
    wide = per_rep.pivot_table(index=["rep_id", "name"], columns="direction", values=kinds, aggfunc="sum", fill_value=0)
    wide.columns = [f"{kind} {direction}" for kind, direction in wide.columns]
    wide = wide.reindex(columns=[f"{k} {d}" for k in kinds for d in DIRECTIONS], fill_value=0).reset_index()
    for d in DIRECTIONS:
        wide[f"connect rate {d}"] = metrics.connect_rate(wide[f"connects {d}"], wide[f"calls {d}"])
    if len(per_rep) and per_rep["connects"].isna().all():
        wide = wide.assign(**{f"{k} {d}": float("nan") for k in ("connects", "connect rate") for d in DIRECTIONS})
    return wide


@dataclass(frozen=True)
class Results:
    """SQLs (appointments) per IS rep and direction, with what became of them."""

    rows: pd.DataFrame  # rep_id, direction, sqls, target_sqls, won, lost, open

    def per_rep(self, reps: pd.DataFrame) -> pd.DataFrame:
        cols = ["sqls", "target_sqls", "won", "lost", "open"]
        by = self.rows.groupby("rep_id")[cols].sum()
        return reps.merge(by, left_on="rep_id", right_index=True, how="left").fillna(dict.fromkeys(cols, 0))

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


def allocation(wh: Warehouse, month: Period, company: Company) -> pd.DataFrame:
    """SQLs handed to each active field-sales rep in the month vs capacity; `over` flags alerts."""
    f = wh.mart("fs_allocation", start=month.start, end=month.end)
    f["capacity"] = [metrics.sql_capacity(c, s, company.fs_capacity_by_segment)
                     for c, s in zip(f["monthly_sql_capacity"], f["segment"], strict=True)]
    f["utilisation"] = metrics.ratio(f["sqls"], f["capacity"].astype("float64"))
    f["over"] = f["sqls"] > f["capacity"].fillna(float("inf"))
    return f.drop(columns="monthly_sql_capacity")


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
    """Leads that turned hot in the last `window_days` of the period, and hours to the first IS touch."""
    rule = company.hot_leads
    start = max(period.start, period.end - dt.timedelta(days=rule.window_days))
    f = wh.mart("hot_leads", start=start, end=period.end, min_page_views=rule.min_page_views)
    hours = (pd.to_datetime(f["first_activity_at"]) - pd.to_datetime(f["hot_at"])).dt.total_seconds() / 3600
    return f.assign(hours_to_activity=hours)


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
HEADLINE_SOURCES = {"activities": ["calls", "connect_rate"], CONNECTS: ["connect_rate"],
                    "reps": ["calls", "connect_rate", "reps_over_capacity"],
                    "leads": ["sqls", "target_sqls", "inbound_share", "hot_leads", "reps_over_capacity"],
                    "touchpoints": ["hot_leads"]}


def snapshot(wh: Warehouse, period: Period, company: Company, reps: pd.DataFrame) -> Snapshot:
    unknown = frozenset(k for source, keys in HEADLINE_SOURCES.items() if not wh.has(source) for k in keys)
    return Snapshot(activity(wh, period, reps), results(wh, period, company), hot_leads(wh, period, company),
                    allocation(wh, month_to_date(period), company), unknown)


def headline_values(per_rep: pd.DataFrame, res: Results, hot: pd.DataFrame, alloc: pd.DataFrame) -> dict:
    return {
        "calls": float(per_rep["calls"].sum()),
        "connect_rate": metrics.connect_rate(float(per_rep["connects"].sum()), float(per_rep["calls"].sum())),
        "sqls": res.total("sqls"), "target_sqls": res.total("target_sqls"),
        "inbound_share": metrics.ratio(res.total("sqls", "inbound"), res.total("sqls")),
        "hot_leads": float(len(hot)), "reps_over_capacity": float(alloc["over"].sum()),
    }


def headlines(now: dict, before: dict, plan: dict[str, float]) -> list[Headline]:
    return compare(HEADLINES, now, before, plan)
