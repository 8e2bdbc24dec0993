"""Inside sales: hot-lead rule boundaries, allocation vs capacity, planted truths, weekly flash."""

import datetime as dt

import pandas as pd
import pytest
from statsmodels.stats.proportion import confint_proportions_2indep

from conftest import TEST_END, make_db
from pages import assert_headlines, assert_stakeholder_page
from revbook import periods, settings
from revbook.data import roster
from revbook.data.duckdb_engine import DuckDBWarehouse
from revbook.demo import planted
from revbook.departments import inside_sales as isr
from revbook.departments import targets

ts = pd.Timestamp
START, END = dt.date(2026, 3, 1), dt.date(2026, 3, 15)


@pytest.fixture()
def hot_wh(tmp_path):
    views = lambda lead, n, day=2: [(lead, "page_view", ts(f"2026-03-{day + i:02d}")) for i in range(n)]  # noqa: E731
    touches = (views("FIVE", 5) + views("FOUR", 4) + [("DEMO", "demo_link_click", ts("2026-03-10 12:00"))]
               + views("EDGE", 4, day=2) + [("EDGE", "page_view", ts("2026-03-15 00:00"))]  # 5th is outside
               + [("DEMO", "email_open", ts("2026-03-03"))])
    touchpoints = pd.DataFrame(touches, columns=["lead_id", "type", "occurred_at"])
    leads = pd.DataFrame({"lead_id": ["FIVE", "FOUR", "DEMO", "EDGE"], "company_name": ["a", "b", "c", "d"],
                          "owner_rep_id": ["IS1", "IS1", None, "IS1"]})
    reps = pd.DataFrame({"rep_id": ["IS1", "FS1"], "team": ["inside_sales", "field_sales"]})
    activities = pd.DataFrame({
        "lead_id": ["FIVE", "FIVE", "DEMO"], "rep_id": ["IS1", "IS1", "FS1"],
        "occurred_at": [ts("2026-03-05"), ts("2026-03-07 06:00"), ts("2026-03-11")],
    })  # FIVE turned hot on 03-06 (5th view): first IS touch 03-07 06:00; DEMO only touched by field sales
    path = make_db(tmp_path / "h.duckdb", {"touchpoints": touchpoints, "leads": leads, "reps": reps,
                                           "activities": activities})
    with DuckDBWarehouse(path) as wh:
        yield wh


def test_hot_lead_rule_boundaries(hot_wh):
    hot = hot_wh.mart("hot_leads", start=START, end=END, min_page_views=5).set_index("lead_id")
    assert sorted(hot.index) == ["DEMO", "FIVE"]  # 4 views, or a 5th view outside the window, are not hot
    assert hot.loc["FIVE", "hot_at"] == ts("2026-03-06")
    assert hot.loc["FIVE", "first_activity_at"] == ts("2026-03-07 06:00")
    assert pd.isna(hot.loc["DEMO", "first_activity_at"])  # a field-sales touch is not inside sales'
    four = hot_wh.mart("hot_leads", start=START, end=END, min_page_views=4)
    assert sorted(four["lead_id"]) == ["DEMO", "EDGE", "FIVE", "FOUR"]


def test_allocation_against_capacity_by_segment(tmp_path):
    reps = pd.DataFrame({"rep_id": ["S", "E", "M", "X"], "name": ["s", "e", "m", "x"],
                         "team": ["field_sales"] * 4, "segment": ["smb", "enterprise", "mid", "mid"],
                         "monthly_sql_capacity": pd.array([None, None, 3, None], dtype="Int64"),
                         "active": [True, True, True, False]})
    meetings = [(f"L{i}", rep, ts("2026-03-02") + pd.Timedelta(hours=i)) for i, rep in enumerate("SSEEEMMMM")]
    activities = pd.DataFrame(meetings + [("L0", "E", ts("2026-03-20"))],  # a second meeting is not a hand-over
                              columns=["lead_id", "rep_id", "occurred_at"]).assign(type="meeting")
    path = make_db(tmp_path / "a.duckdb", {"reps": reps, "activities": activities})
    company = settings.company().model_copy(update={"fs_capacity_by_segment": {"smb": 2, "mid": 5, "enterprise": 2}})
    with DuckDBWarehouse(path) as wh:
        alloc = isr.allocation(wh, periods.parse("month", "2026-03"), company).set_index("rep_id")
    assert alloc["sqls_handed"].to_dict() == {"E": 3, "M": 4, "S": 2}  # inactive X has no row
    assert alloc["capacity"].to_dict() == {"E": 2, "M": 3, "S": 2}  # M's own capacity beats the rule
    assert alloc["over"].to_dict() == {"E": True, "M": True, "S": False}  # at capacity is not over


@pytest.fixture(scope="module")
def demo_is(scale3_warehouse):
    """A year of deals at scale 3: inbound vs outbound and attendee effects with margin."""
    company, month = settings.company(), periods.parse("month", TEST_END)
    with DuckDBWarehouse(scale3_warehouse) as wh:
        closed = isr.outcomes(wh, month)
        return isr.allocation(wh, month, company), isr.by_direction(closed), isr.by_attendees(closed)


@pytest.mark.planted
def test_flags_the_planted_over_capacity_rep(demo_is):
    alloc, *_ = demo_is
    assert list(alloc.loc[alloc["over"], "rep_id"]) == [planted.OVER_CAPACITY_FS_REP]


@pytest.mark.planted
def test_inbound_sqls_win_more_and_faster(demo_is):
    _, direction, _ = demo_is
    d = direction.set_index("direction")
    assert d.loc["inbound", "win_rate"] > d.loc["outbound", "win_rate"]
    assert d.loc["inbound", "median_days_to_win"] < d.loc["outbound", "median_days_to_win"]
    assert d.loc["outbound", "average_deal"] > d.loc["inbound", "average_deal"]


@pytest.mark.planted
def test_more_first_meeting_attendees_win_more(demo_is):
    *_, attendees = demo_is
    a = attendees.set_index("attendees")
    many, one = a.loc[[4, 5]].sum(), a.loc[1]  # planted: 1.25-1.45x the win probability against 0.6x
    low, _ = confint_proportions_2indep(many["won"], many["closed"], one["won"], one["closed"], compare="diff")
    assert low > 0, (many, one)  # the difference in win rate, even at the bottom of its 95% interval


def test_an_empty_week_shows_every_rep_with_zeros(demo_warehouse):
    """(The weekly flash pages of busy and empty weeks render in test_calendar, on each edge day.)"""
    # before the demo's first lead (its 24 months and the funnel's 6 of burn-in): no leads, no activity
    empty_week = periods.containing("week", periods.parse("month", TEST_END).shift(-31).start)
    with DuckDBWarehouse(demo_warehouse) as wh:
        reps = roster.active(wh, "inside_sales")
        per_rep = isr.activity(wh, empty_week, reps)
    assert len(reps) >= 2 and len(per_rep) == 2 * len(reps) and per_rep["calls"].sum() == 0
    assert per_rep["connect_rate"].isna().all()  # n/a, not a crash or a division by zero


def test_a_weeks_allocation_counts_its_month_so_far():
    mtd = periods.month_to_date(periods.parse("week", "2026-W40"))  # Mon 2026-09-28 .. Sun 10-04
    assert (mtd.start, mtd.end) == (dt.date(2026, 10, 1), dt.date(2026, 10, 5))
    assert periods.month_to_date(periods.parse("month", "2026-10")) == periods.parse("month", "2026-10")


@pytest.mark.planted
def test_monthly_report_shows_lib_headlines_and_the_capacity_alert(monthly_run, demo_warehouse):
    _, out = monthly_run
    company, month = settings.company(), periods.parse("month", TEST_END)
    with DuckDBWarehouse(demo_warehouse) as wh:
        reps = roster.active(wh, "inside_sales")
        now, before = (isr.snapshot(wh, m, company, reps).headline_values() for m in (month, month.previous()))
        plan = targets.for_month(targets.monthly(wh, "inside_sales", [month.start]), month.start)
    path = out / "inside_sales" / "funnel.html"
    assert_headlines(path, isr.headlines(now, before, plan))
    page = assert_stakeholder_page(path)
    assert f"({planted.OVER_CAPACITY_FS_REP}) is over capacity" in page.body
    for section in ("Allocation to field sales", "Hot leads", "Activity", "SQL mix", "Inbound vs outbound",
                    "First-meeting attendees", "Per rep", "Assets", "Lead recycle", "Opportunities and won deals"):
        assert f">{section}" in page.body, section
