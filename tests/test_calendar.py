"""The calendar's edge days: one clock (REVBOOK_TODAY), the default periods it gives, and the
product run on each edge day with no --period, as cron runs it."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from conftest import SMALL_SEED, make_db
from pages import assert_stakeholder_page
from revbook import cli, clock, periods
from revbook.data import load
from revbook.data.duckdb_engine import DuckDBWarehouse
from revbook.departments import targets
from revbook.run import runner
from tinylake import tiny_lake

#: today → the last complete month, ISO week and day it gives.
EDGE_DAYS = {
    "2026-12-01": ("2026-11", "2026-W48", "2026-11-30"),  # a month's first day: the last week is inside last month
    "2027-01-01": ("2026-12", "2026-W52", "2026-12-31"),  # new year's day, itself in ISO week 2026-W53
    "2027-01-04": ("2026-12", "2026-W53", "2027-01-03"),  # a Monday: the last week spans two months and two years
    "2028-02-29": ("2028-01", "2028-W08", "2028-02-28"),  # a leap day
    "2028-03-01": ("2028-02", "2028-W08", "2028-02-29"),  # after a leap February: yesterday is the 29th
    "2026-11-18": ("2026-10", "2026-W46", "2026-11-17"),  # mid-month
}
KINDS = ("month", "week", "day")


def _text(path: Path) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", path.read_text(encoding="utf-8")))


def _cli(*args: str) -> int:
    with pytest.raises(SystemExit) as done:
        cli.main(list(args))
    return int(done.value.code)


@pytest.mark.parametrize("today", EDGE_DAYS)
def test_every_default_period_derives_from_the_one_clock(today, monkeypatch):
    monkeypatch.setenv(clock.TODAY_ENV, today)
    assert clock.today() == dt.date.fromisoformat(today)
    assert clock.now() == dt.datetime.fromisoformat(f"{today} 23:59:59")  # nothing dated today is "future"
    for kind, label in zip(KINDS, EDGE_DAYS[today]):
        assert periods.last_complete(kind).label == label
        assert periods.resolve(kind, None).label == label
        current = periods.containing(kind, clock.today())
        assert current.previous().label == label and current.start <= clock.today() < current.end
        with pytest.raises(periods.PeriodError, match=f"not complete yet; the latest complete one is {label}"):
            periods.resolve(kind, current.label)


def test_without_revbook_today_the_clock_is_the_utc_date(monkeypatch):
    monkeypatch.delenv(clock.TODAY_ENV)
    before = dt.datetime.now(dt.UTC).date()
    assert clock.today() in (before, dt.datetime.now(dt.UTC).date())  # (midnight may pass in between)


@pytest.mark.parametrize("value", ["2026-13-01", "tomorrow", "20261201"])
def test_a_bad_revbook_today_is_named_not_a_traceback(value, monkeypatch, capsys):
    monkeypatch.setenv(clock.TODAY_ENV, value)
    assert _cli("run", "monthly") == 2
    err = capsys.readouterr().err
    assert f"REVBOOK_TODAY='{value}' is not a date" in err and "expected YYYY-MM-DD" in err
    assert "Traceback" not in err


# ---------------------------------------------------------------- the product on each edge day


@pytest.fixture(scope="module", params=list(EDGE_DAYS))
def edge_day(request, tmp_path_factory):
    """On `today`: `revbook demo` (its default end: the last complete month), then `revbook run
    monthly|weekly|daily` with no --period, as cron would; the exit codes and the outputs."""
    today = request.param
    work = tmp_path_factory.mktemp(f"day-{today}")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(clock.TODAY_ENV, today)
        mp.setenv("REVBOOK_WAREHOUSE", str(work / "demo.duckdb"))
        mp.setenv("REVBOOK_OUTPUTS", str(work / "outputs"))
        assert _cli("demo", "--scale", "0.02", "--seed", str(SMALL_SEED)) == 0
        codes = {schedule: _cli("run", schedule, "--jobs", "2") for schedule in ("monthly", "weekly", "daily")}
    return today, codes, work / "outputs"


def _manifest(out: Path, label: str) -> dict:
    manifest = json.loads((out / label / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["period"] == label
    assert manifest["reports"] and all(r["status"] == "ok" for r in manifest["reports"].values())
    return manifest


def test_the_monthly_run_picks_last_month_and_renders_it(edge_day):
    today, codes, out = edge_day
    month = EDGE_DAYS[today][0]
    assert codes["monthly"] == 0
    _manifest(out, month)
    overview = out / month / "sales_ops" / "revenue_overview.html"
    assert_stakeholder_page(overview)
    values = json.loads(overview.with_suffix(".metrics.json").read_text(encoding="utf-8"))
    assert values["new_leads"]["value"] > 0 and values["ending_mrr"]["value"] > 0  # the demo's last month
    assert f'href="{month}/index.html"' in (out / "index.html").read_text(encoding="utf-8")


def test_the_weekly_flash_picks_last_week_and_counts_what_the_data_holds(edge_day):
    today, codes, out = edge_day
    month, week = EDGE_DAYS[today][:2]
    assert codes["weekly"] == 0
    _manifest(out, week)
    flash = out / week / "inside_sales" / "funnel.html"
    assert_stakeholder_page(flash)
    values = json.loads(flash.with_suffix(".metrics.json").read_text(encoding="utf-8"))
    data_end = periods.parse("month", month).end  # the demo ends with the last complete month
    if periods.parse("week", week).start < data_end:
        assert values["calls"]["value"] > 0
    else:  # a week after the data: zeros, and rates n/a
        assert values["calls"]["value"] == 0 and values["connect_rate"]["value"] is None
    mtd = periods.month_to_date(periods.parse("week", week))
    assert f"{mtd.start:%B %Y}, {mtd.start} to {mtd.last_day}" in _text(flash)


def test_the_daily_alerts_pick_yesterday_and_say_when_usage_ends_before_it(edge_day):
    today, codes, out = edge_day
    month, _, day = EDGE_DAYS[today]
    assert codes["daily"] == 0
    _manifest(out, day)
    page = out / day / "customer_success" / "early_alerts.html"
    assert_stakeholder_page(page)
    text = _text(page)
    assert f"Day: {day}" in text
    last_usage = periods.parse("month", month).last_day
    lag = (dt.date.fromisoformat(day) - last_usage).days
    stale = f"The product usage data ends on {last_usage}, {lag} days before {day}"
    assert (stale in text) == (lag > 0)


# ---------------------------------------------------------------- a week across two months


def test_a_weeks_plan_takes_each_months_share_and_is_unknown_without_one(tmp_path):
    plan = pd.DataFrame({"month": [dt.date(2026, 12, 1)] * 2 + [dt.date(2027, 1, 1)] * 2,
                         "department": ["inside_sales"] * 4, "metric": ["sqls", "connect_rate"] * 2,
                         "target": [31.0, 0.30, 62.0, 0.44]})
    path = make_db(tmp_path / "t.duckdb", {"targets": plan})
    w53, w52, w01 = (periods.parse("week", w) for w in ("2026-W53", "2026-W52", "2027-W01"))
    with DuckDBWarehouse(path) as wh:
        assert targets.for_period(wh, "inside_sales", w53, {"sqls"}) == pytest.approx(
            {"sqls": 31 * 4 / 31 + 62 * 3 / 31, "connect_rate": (0.30 * 4 + 0.44 * 3) / 7})  # Mon 12-28 .. Sun 01-03
        assert targets.for_period(wh, "inside_sales", w52, {"sqls"}) == pytest.approx({"sqls": 7, "connect_rate": 0.3})
        assert targets.for_period(wh, "inside_sales", periods.parse("month", "2027-01"), {"sqls"}) == {
            "sqls": 62.0, "connect_rate": 0.44}
        assert targets.for_period(wh, "inside_sales", w01.shift(4), {"sqls"}) == {}  # February: no plan yet
        assert targets.for_period(wh, "marketing", w53, {"leads"}) == {}


def _two_month_week_lake() -> dict[str, pd.DataFrame]:
    """The tiny lake with inside-sales work on both sides of 2027-01-01, in ISO week 2026-W53
    (Mon 12-28 .. Sun 01-03), one call in each neighbouring week, and an SQL plan for both months."""
    lake = tiny_lake()
    calls = [("AC1", "2026-12-27 10:00", "outbound", True),  # 2026-W52
             ("AC2", "2026-12-28 09:00", "outbound", True), ("AC3", "2026-12-31 15:00", "inbound", False),
             ("AC4", "2027-01-02 10:00", "outbound", True), ("AC5", "2027-01-03 23:30", "outbound", False),
             ("AC6", "2027-01-04 09:00", "outbound", True)]  # 2027-W01
    lake["activities"] = pd.DataFrame({
        "activity_id": [c[0] for c in calls] + ["AC7", "AC8"],
        "occurred_at": [c[1] for c in calls] + ["2026-12-30 14:00", "2027-01-02 14:00"],
        "rep_id": ["R1"] * len(calls) + ["R2", "R2"],
        "lead_id": ["L2"] * len(calls) + ["L1", "L3"],
        "opportunity_id": [None] * len(calls) + ["O1", "O2"],
        "account_id": [None] * len(calls) + ["A1", "A2"],
        "type": ["call"] * len(calls) + ["meeting", "meeting"],
        "direction": [c[2] for c in calls] + ["inbound", "outbound"],
        "connected": pd.array([c[3] for c in calls] + [None, None], dtype="boolean"),
    })
    leads = lake["leads"]
    leads["created_at"] = ["2026-12-20 10:00:00", "2026-12-22 11:00:00", "2026-12-21 12:00:00"]
    leads["qualified_at"] = ["2026-12-29 09:00:00", None, "2027-01-02 09:00:00"]  # L1 (製造業) and L3, one a month
    opps = lake["opportunities"]
    opps["created_at"] = ["2026-12-30 14:00:00", "2027-01-02 14:00:00"]
    opps["stage"], opps["closed_at"], opps["is_won"] = ["proposal", "proposal"], [None, None], [False, False]
    lake["opportunity_stage_history"] = pd.DataFrame({
        "opportunity_id": ["O1", "O2"], "stage": ["proposal", "proposal"],
        "entered_at": ["2026-12-30 14:00:00", "2027-01-02 14:00:00"]})
    lake["targets"] = pd.DataFrame({"month": ["2026-12-01", "2027-01-01"], "department": ["inside_sales"] * 2,
                                    "metric": ["sqls"] * 2, "target": [31.0, 62.0]})
    return lake


def test_the_weekly_flash_of_a_week_across_two_months_reads_both(tmp_path, monkeypatch):
    monkeypatch.setenv(clock.TODAY_ENV, "2027-01-04")
    monkeypatch.setenv("REVBOOK_WAREHOUSE", str(tmp_path / "w53.duckdb"))
    monkeypatch.setenv("REVBOOK_OUTPUTS", str(tmp_path / "out"))
    load.build_warehouse(_two_month_week_lake(), tmp_path / "w53.duckdb", {"source": "test"})
    assert runner.run("weekly") == 0  # no period: the last complete week
    flash = tmp_path / "out" / "2026-W53" / "inside_sales" / "funnel.html"
    values = {k: (v["value"], v["previous"], v["target"])
              for k, v in json.loads(flash.with_suffix(".metrics.json").read_text(encoding="utf-8")).items()}
    assert values["calls"] == (4, 1, None)  # 12-28, 12-31, 01-02 and 01-03 23:30; W52 had one
    assert values["connect_rate"][0] == pytest.approx(2 / 4)
    assert values["sqls"][0] == 2 and values["target_sqls"][0] == 1  # one qualified each side of new year
    assert values["sqls"][2] == pytest.approx(4 + 6)  # 4/31 of December's 31 plus 3/31 of January's 62
    assert values["inbound_share"][0] == pytest.approx(1 / 2)
    text = _text(flash)
    assert "January 2027, 2027-01-01 to 2027-01-03" in text  # capacity: the month the week ends in, so far
