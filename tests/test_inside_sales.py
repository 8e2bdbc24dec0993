"""Inside sales: hot-lead rule boundaries, allocation vs capacity, planted truths, weekly flash."""

import datetime as dt
import re

import pandas as pd
import pytest
from statsmodels.stats.proportion import confint_proportions_2indep

from conftest import TEST_END, TEST_TODAY, make_db
from pages import assert_headlines, assert_stakeholder_page
from revbook import periods, settings
from revbook.data import roster
from revbook.data.duckdb_engine import DuckDBWarehouse
from revbook.demo import planted
from revbook.departments import inside_sales as isr
from revbook.departments import targets
from revbook.pages import charts, columns, funnel

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
    rule = {"window_days": 14, "count_mode": "became_hot"}
    hot = hot_wh.mart("hot_leads", start=START, end=END, min_page_views=5, **rule).set_index("lead_id")
    assert sorted(hot.index) == ["DEMO", "FIVE"]  # 4 views, or a 5th view outside the window, are not hot
    assert hot.loc["FIVE", "hot_at"] == ts("2026-03-06")
    assert hot.loc["FIVE", "first_activity_at"] == ts("2026-03-07 06:00")
    assert pd.isna(hot.loc["DEMO", "first_activity_at"])  # a field-sales touch is not inside sales'
    four = hot_wh.mart("hot_leads", start=START, end=END, min_page_views=4, **rule)
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
    assert_headlines(path, isr.headlines(now, before, plan, company.hot_leads.count))
    page = assert_stakeholder_page(path)
    assert f"({planted.OVER_CAPACITY_FS_REP}) is over capacity" in page.body
    for section in ("Allocation to field sales", "Hot leads", "Activity", "SQL mix", "Inbound vs outbound",
                    "First-meeting attendees", "Per rep", "Assets", "Lead recycle", "Opportunities and won deals",
                    "Inbound conversion", "Definitions"):
        assert f">{section}" in page.body, section
    assert re.search(r"[\d,]+ leads are planned for approach in \d{4}-\d\d against [\d,]+ needed", page.body)
    assert len(re.findall(r'<img alt="(?!Chart")[^"]+" src="data:image/png;base64,', page.text)) == 4  # alt texts


# --- the page's frames, charts and sentences, on small hand-made frames ---

def test_activity_by_direction_pivots_per_rep_under_vocabulary_keys():
    per_rep = pd.DataFrame({"rep_id": ["A", "A", "B"], "name": ["a", "a", "b"],
                            "direction": ["inbound", "outbound", "inbound"], "calls": [10, 5, 4],
                            "connects": [4, 1, 0], "emails": [2, 3, 1]})
    wide = isr.activity_by_direction(per_rep).set_index("rep_id")
    assert list(wide.columns) == ["name", "calls_inbound", "calls_outbound", "connects_inbound", "connects_outbound",
                                  "emails_inbound", "emails_outbound", "connect_rate_inbound", "connect_rate_outbound"]
    assert wide.loc["A", ["calls_inbound", "calls_outbound", "emails_outbound"]].tolist() == [10, 5, 3]
    assert wide.loc["A", "connect_rate_inbound"] == 0.4 and wide.loc["A", "connect_rate_outbound"] == 0.2
    assert wide.loc["B", "calls_outbound"] == 0 and pd.isna(wide.loc["B", "connect_rate_outbound"])  # no calls: n/a
    outbound = isr.one_direction(wide.reset_index(), "outbound")
    assert list(outbound.columns) == ["rep_id", "name", "calls_outbound", "connects_outbound", "connect_rate_outbound",
                                      "emails_outbound"]
    assert all(columns.column(c) for c in wide.reset_index().columns)  # every key is in the vocabulary


def test_per_week_sums_days_to_their_sunday_and_keeps_unknown_connects_unknown():
    days = pd.date_range("2026-11-01", "2026-11-09")  # Sun 11-01 | Mon 11-02 .. Sun 11-08 | Mon 11-09
    daily = pd.DataFrame({"day": days, "calls": range(1, 10), "connects": float("nan"), "emails": 1,
                          "seminar_invites": 0})
    weeks = isr.per_week(daily)
    assert weeks["week_ending"].dt.strftime("%m-%d").tolist() == ["11-01", "11-08", "11-15"]
    assert weeks["calls"].tolist() == [1, 2 + 3 + 4 + 5 + 6 + 7 + 8, 9] and weeks["emails"].tolist() == [1, 7, 1]
    assert weeks["connects"].isna().all()  # unknown, not 0


def test_mix_tables_one_per_dimension_named_by_it_most_sqls_first():
    mix = pd.DataFrame([("inbound", "region", "東京", 3), ("outbound", "region", "東京", 2),
                        ("inbound", "region", "大阪", 1), ("outbound", "service", "api", 4)],
                       columns=["direction", "dimension", "value", "sqls"])
    service, region = isr.mix_tables(mix)  # in MIX_DIMENSIONS order; absent dimensions left out
    assert service.to_dict("records") == [{"service": "api", "sqls_inbound": 0, "sqls_outbound": 4, "sqls": 4}]
    assert region["region"].tolist() == ["東京", "大阪"]
    assert region[["sqls_inbound", "sqls_outbound", "sqls"]].values.tolist() == [[3, 2, 5], [1, 0, 1]]
    assert funnel.mix_sentence([service, region]) == (
        "4 SQLs: 0 inbound and 4 outbound (inbound share 0.0%); the largest groups: api (4), 東京 (5).")


def test_opportunities_by_source_has_every_week_of_the_period():
    month = periods.parse("month", "2026-11")  # Sun 11-01 is in the ISO week of Mon 10-26
    src = pd.DataFrame({"week": [dt.date(2026, 11, 9), dt.date(2026, 11, 9), dt.date(2026, 11, 23)],
                        "lead_source": ["list", "trial", "list"], "campaign_id": ["OB01", "(none)", "OB01"],
                        "opportunities": [2, 1, 3], "won": [0, 1, 1]})
    wide = isr.opportunities_by_source(src, month)
    assert wide["week"].dt.strftime("%m-%d").tolist() == ["10-26", "11-02", "11-09", "11-16", "11-23", "11-30"]
    assert wide["list"].tolist() == [0, 0, 2, 0, 3, 0] and wide["trial"].tolist() == [0, 0, 1, 0, 0, 0]
    totals = isr.by_source_and_campaign(src)
    assert totals.values.tolist() == [["list", "OB01", 5, 1], ["trial", "(none)", 1, 1]]


def test_opportunities_chart_labels_each_week_once_beside_an_integer_axis(monkeypatch):
    shown = []
    monkeypatch.setattr(charts, "show", lambda alt, fig: shown.append((alt, fig)))
    month = periods.parse("month", "2026-11")
    wide = pd.DataFrame({"week": pd.to_datetime(["2026-10-26", "2026-11-02", "2026-11-30"]),
                         "list": [0, 2, 1], "document_request": [0, 1, 0]})
    funnel.opportunities_chart(wide, month)
    (alt, fig), = shown
    ax = fig.axes[0]
    assert alt == "Opportunities created per ISO week of 2026-11, stacked by lead source"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["W44\n11-01", "W45\n11-02–11-08", "W49\n11-30"]
    assert ax.yaxis.get_major_locator()._integer  # no 2.5 or 7.5 opportunities
    fig.canvas.draw()
    legend, axes = ax.get_legend().get_window_extent(), ax.get_window_extent()
    assert legend.x0 >= axes.x1  # beside the bars, never over them
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["List", "Document request"]
    funnel.opportunities_chart(wide.assign(list=0, document_request=0), month)
    assert len(shown) == 1  # no opportunities: no empty chart (the sentence says so)


def _approach_plan():
    """Dec 2026 from Tue 12-01: 4 weekdays in W49, 5 in W50-W52, 4 in W53 (Mon-Thu); 23 in all."""
    days = pd.date_range("2026-12-01", "2026-12-31")
    return pd.DataFrame({"day": days, "planned": [10 if d.weekday() < 5 else 0 for d in days],
                         "needed": [1655 / 23 if d.weekday() < 5 else 0.0 for d in days]})


def test_approach_weeks_sum_per_week_and_need_whole_leads():
    weeks = isr.approach_weeks(_approach_plan())
    assert weeks["week_ending"].dt.strftime("%m-%d").tolist() == ["12-06", "12-13", "12-20", "12-27", "01-03"]
    assert weeks["planned"].tolist() == [40, 50, 50, 50, 40]
    assert weeks["needed"].tolist() == [288, 360, 360, 360, 288]  # 287.8 and 359.8 leads: round up
    unknown = isr.approach_weeks(_approach_plan().assign(needed=float("nan")))
    assert unknown["needed"].isna().all()


def test_approach_chart_draws_planned_and_needed_side_by_side_and_says_the_gap(monkeypatch):
    shown = []
    monkeypatch.setattr(charts, "show", lambda alt, fig: shown.append((alt, fig)))
    december = periods.parse("month", "2026-12")
    weeks = isr.approach_weeks(_approach_plan())
    funnel.approach_chart(weeks, december)
    (alt, fig), = shown
    ax = fig.axes[0]
    planned, needed = ax.containers
    assert [b.get_height() for b in needed] == [288, 360, 360, 360, 288]
    assert [t.get_text() for t in ax.texts] == ["40", "50", "50", "50", "40", "288", "360", "360", "360", "288"]
    assert ax.get_xticklabels()[0].get_text() == "W49\n12-01–12-06"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Planned", "Needed"]
    assert "needed" in alt and "2026-12" in alt
    text = funnel.approach_sentence(weeks, december, 62.0, 0.0375)
    assert text == ("230 leads are planned for approach in 2026-12 against 1,656 needed for 62 SQLs at a lead → SQL "
                    "rate of 3.8%: **1,426 short** (13.9% of the need); 5 of 5 weeks fall short, 40–50 planned a week "
                    "against 288–360 needed.")
    assert funnel.approach_sentence(weeks.assign(needed=float("nan")), december, None, 0.04) == (
        "230 leads are planned for approach in 2026-12; the need is n/a (no SQL target in the targets table).")


def test_rep_results_name_appointments_and_add_seminar_invitations():
    res = isr.Results(pd.DataFrame({"rep_id": ["A", "A"], "direction": ["inbound", "outbound"], "sqls": [3, 1],
                                    "target_sqls": [2, 0], "won": [1, 0], "lost": [0, 1], "open": [2, 0]}))
    reps = pd.DataFrame({"rep_id": ["A", "B"], "name": ["a", "b"]})
    activity = pd.DataFrame({"rep_id": ["A", "A", "B"], "seminar_invites": [2, 3, 0]})
    table = res.per_rep(reps, activity)
    assert list(table.columns) == ["rep_id", "name", "appointments", "target_appointments", "won", "lost", "open",
                                   "seminar_invites"]
    assert table.values.tolist() == [["A", "a", 4, 2, 1, 1, 2, 5], ["B", "b", 0, 0, 0, 0, 0, 0]]
    assert funnel.rep_sentence(table) == ("a set the most appointments (4, 2 in target industries); of the team's 4, "
                                          "1 are won, 1 lost and 2 still open.")


def test_inbound_conversion_per_campaign_most_leads_first():
    cvr = pd.DataFrame({"campaign_id": ["X", "X", "Y", "Z"], "rep_id": ["A", "B", "A", "A"],
                        "leads": [60, 60, 150, 10], "sqls": [6, 0, 30, 5]})
    t = isr.inbound_conversion(cvr, "campaign_id")
    assert t.values.tolist() == [["Y", 150, 30, 0.2], ["X", 120, 6, 0.05], ["Z", 10, 5, 0.5]]
    assert funnel.conversion_sentence(t) == ("Y brought the most inbound leads (150, 20.0% became SQLs); among "
                                             "campaigns with 100+ leads Y converts best (20.0% of 150).")


def test_summary_and_alerts_say_what_happened():
    rates = {"connect_rate_inbound": 0.4, "connect_rate_outbound": 0.1, "connect_rate": 0.3}
    items = isr.headlines({"calls": 500.0, **rates, "sqls": 12.0, "target_sqls": 8.0,
                           "inbound_share": 0.75, "hot_leads": 4.0, "reps_over_capacity": 0.0},
                          {"calls": 400.0, **rates, "sqls": 10.0, "target_sqls": 8.0,
                           "inbound_share": 0.7, "hot_leads": 4.0, "reps_over_capacity": 1.0}, {"sqls": 15.0},
                          "became_hot")
    assert funnel.summary(items) == ("**12 SQLs** (+20.0% vs the previous period, -20.0% vs plan (15)), 8 in target "
                                     "industries and 75.0% inbound; 500 calls: inbound ones connected 40.0% of the "
                                     "time, outbound 10.0%; no field-sales rep is over SQL capacity.")
    alloc = pd.DataFrame({"rep_id": ["F1", "F2"], "name": ["f1", "f2"], "segment": ["smb", "mid"],
                          "sqls_handed": [3, 8], "capacity": [6, 10], "utilisation": [0.5, 0.8],
                          "over": [False, False]})
    assert funnel.allocation_alerts(alloc) == ("No field-sales rep is over SQL capacity this month; the busiest, f2, "
                                               "is at 80.0% (8 of 10).")
    assert funnel.allocation_alerts(alloc.assign(sqls_handed=0)) == "No SQLs were handed to field sales this month."
    over = alloc.assign(sqls_handed=[7, 8], over=[True, False])
    assert funnel.allocation_alerts(over) == ("**Alert: f1 (F1) is over capacity** — 7 SQLs handed this month "
                                              "against a capacity of 6 (SMB).")


def test_hot_sentence_says_which_leads_it_counts():
    hot = pd.DataFrame({"hours_to_activity": [2.0, 4.0, float("nan")]})
    assert funnel.hot_sentence(hot, "became_hot") == ("3 leads became hot in the period; 2 were contacted, after a "
                                                      "median of 3 hours; **1 still waiting**.")
    assert funnel.hot_sentence(hot.iloc[:0], "hot_at_end") == "No leads were hot at the period's end."


@pytest.fixture(scope="module")
def weekly_flash(tmp_path_factory, demo_warehouse):
    """`revbook run weekly` (the flash of the last complete week) on the demo warehouse."""
    from revbook.run import runner

    outputs = tmp_path_factory.mktemp("weekly")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REVBOOK_WAREHOUSE", str(demo_warehouse))
        mp.setenv("REVBOOK_OUTPUTS", str(outputs))
        code = runner.run("weekly")
    week = periods.last_complete("week", TEST_TODAY).label
    return code, outputs / week / "inside_sales" / "funnel.html"


def test_the_weekly_flash_shows_only_sections_with_content(weekly_flash):
    code, path = weekly_flash
    assert code == 0
    page = assert_stakeholder_page(path)
    headings = re.findall(r"<h2[^>]*>([^<]+)", page.body)
    assert headings == ["Headline numbers", "Allocation to field sales", "Hot leads", "Activity",
                        "Call → connect → SQL", "SQL mix", "Definitions"]
    assert "Leads planned" not in page.body and "Team activity per ISO week" not in page.body


def test_activity_sentences_without_calls_or_connects_say_why():
    none = pd.DataFrame({"direction": ["inbound", "outbound"], "calls": [0, 0], "connects": [0, 0]})
    before = none.assign(calls=[3, 1])
    assert funnel.activity_sentence(none, before, pd.DataFrame()) == "No calls in the period (the previous one had 4)."
    unknown = pd.DataFrame({"direction": ["inbound", "outbound"], "calls": [30, 10], "connects": [float("nan")] * 2})
    res = isr.Results(pd.DataFrame({"rep_id": ["A"], "direction": ["inbound"], "sqls": [3], "target_sqls": [0],
                                    "won": [0], "lost": [0], "open": [3]}))
    chain = isr.chain(unknown, res)
    assert funnel.chain_sentence(chain) == ("SQLs per call: inbound 10.0%, outbound 0.0%; connects n/a "
                                            "(activities.connected holds no values).")
    assert funnel.chain_sentence(isr.chain(none, res)) == "No calls in the period; 3 SQLs."
