"""Field sales: marts and metrics on hand-made deals, the demo's planted truths, and the reports."""

import datetime as dt
import html
import re
import shutil

import duckdb
import pandas as pd
import pytest

from conftest import TEST_END, make_db
from pages import assert_headlines, assert_stakeholder_page
from revbook import metrics, periods, settings
from revbook.data import load, roster
from revbook.data.duckdb_engine import DuckDBWarehouse
from revbook.demo import planted
from revbook.departments import field_sales as fs
from revbook.files import safe_name
from revbook.pages import report
from revbook.run import runner
from revbook.run.runner import PlanError
from tinylake import tiny_lake

ts = pd.Timestamp
MARCH = periods.parse("month", "2026-03")


def _deals(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["opportunity_id", "account_id", "lead_id", "owner_rep_id", "created_at",
                                       "is_won", "closed_at", "amount"])


def _history(rows: dict[str, list[tuple[str, str]]]) -> pd.DataFrame:
    return pd.DataFrame([(o, stage, ts(at)) for o, entries in rows.items() for stage, at in entries],
                        columns=["opportunity_id", "stage", "entered_at"])


def _activities(rows: list[tuple[str, str]]) -> pd.DataFrame:
    return pd.DataFrame({"opportunity_id": pd.Series([o for o, _ in rows], dtype=object),
                         "occurred_at": pd.Series([ts(t) for _, t in rows], dtype="datetime64[ns]")})


@pytest.fixture()
def db(tmp_path):
    """Build a warehouse from the given tables (plus an empty-enough reps/accounts/leads)."""
    def build(**tables: pd.DataFrame) -> DuckDBWarehouse:
        base = {
            "reps": pd.DataFrame({"rep_id": ["F1", "F2", "F'3", "I1"], "name": ["Ken", "<b>Bo</b>", "O'Neil", "Is"],
                                  "team": ["field_sales"] * 3 + ["inside_sales"], "segment": ["smb"] * 3 + [None],
                                  "monthly_sql_capacity": [None] * 4, "active": [True] * 4}),
            "accounts": pd.DataFrame({"account_id": ["A1", "A2", "A3", "A4", "A5"], "name": list("abcde"),
                                      "industry": ["製造業", "製造業", "金融業", "小売", "小売"],
                                      "employee_count": [30, 31, 999, 1000, 100]}),
            "leads": pd.DataFrame({"lead_id": ["L1", "L2"], "created_at": [ts("2026-01-01"), ts("2026-02-01")],
                                   "lead_source": ["seminar", "list"], "direction": ["inbound", "outbound"],
                                   "owner_rep_id": ["I1", "I1"]}),
        }
        return DuckDBWarehouse(make_db(tmp_path / "fs.duckdb", {**base, **tables}))
    return build


# ---------------------------------------------------------------- proposals (rolling 30 days)


def test_proposals_count_accounts_with_activity_in_the_proposal_stage_over_30_rolling_days(db):
    deals = _deals([("O1", "A1", None, "F1", ts("2026-01-01"), False, None, 1.0),
                    ("O2", "A2", None, "F1", ts("2026-01-01"), False, None, 1.0),
                    ("O3", "A3", None, "F2", ts("2026-01-01"), False, None, 1.0),
                    ("O4", "A4", None, "F2", ts("2026-01-01"), False, None, 1.0),
                    ("O5", "A1", None, "F2", ts("2026-01-01"), False, None, 1.0),
                    ("O6", "A5", None, "F1", ts("2026-01-01"), False, None, 1.0)])
    history = _history({"O1": [("proposal", "2026-03-01 12:00"), ("negotiation", "2026-03-20")],
                        "O2": [("proposal", "2026-02-10")],
                        "O3": [("proposal", "2026-03-05"), ("negotiation", "2026-03-10")],
                        "O4": [("qualification", "2026-03-01")],
                        "O5": [("proposal", "2026-03-18")],
                        "O6": [("proposal", "2026-01-20")]})
    acts = _activities([("O1", "2026-03-01 12:00"),  # March, but before the 30-day window (from 03-02)
                        ("O1", "2026-03-02 00:00"),  # first instant of the window: counts
                        ("O2", "2026-02-28"), ("O2", "2026-04-01 00:00"),  # before, and at the exclusive end
                        ("O3", "2026-03-10"),  # the negotiation entry: not a proposal activity
                        ("O3", "2026-03-09"),  # in proposal: counts
                        ("O4", "2026-03-15"),  # qualification: never a proposal
                        ("O5", "2026-03-20"),  # F2's proposal to A1, which F1 also proposed to
                        ("O6", "2026-01-29 23:59"), ("O6", "2026-01-30 09:00")])  # February's window starts 01-30
    with db(opportunities=deals, opportunity_stage_history=history, activities=acts) as wh:
        start, end = metrics.proposal_window(MARCH.end)
        assert (start, end) == (dt.date(2026, 3, 2), dt.date(2026, 4, 1))
        march = wh.mart("fs_proposals", start=start, end=end)
        feb = wh.mart("fs_proposals", start=metrics.proposal_window(dt.date(2026, 3, 1))[0], end=dt.date(2026, 3, 1))
    per_rep = march.dropna().set_index("owner_rep_id")["proposals"].to_dict()
    assert per_rep == {"F1": 1, "F2": 2}  # F1: A1; F2: A3 and A1
    assert march.loc[march["owner_rep_id"].isna(), "proposals"].item() == 2  # the team: A1 and A3, once each
    assert feb.dropna().set_index("owner_rep_id")["proposals"].to_dict() == {"F1": 2}  # O6's 01-30 and O2's 02-28


# ---------------------------------------------------------------- win rate, contract value, lead time


def test_win_rate_contract_value_size_bands_and_lead_time(db):
    deals = _deals([("W1", "A1", "L1", "F1", ts("2026-02-01"), True, ts("2026-03-11 23:00"), 100.0),
                    ("X1", "A2", "L2", "F1", ts("2026-02-01"), False, ts("2026-03-05"), 500.0),
                    ("W2", "A3", None, "F2", ts("2026-02-21"), True, ts("2026-03-31 23:59"), 300.0),
                    ("W3", "A4", None, "F2", ts("2026-02-01"), True, ts("2026-04-01"), 900.0),  # April
                    ("OP", "A5", None, "F2", ts("2026-02-01"), False, None, 50.0)])  # still open
    with db(opportunities=deals) as wh:
        closed = wh.mart("fs_closed", start=MARCH.start, end=MARCH.end)
        lead = wh.mart("fs_lead_time", start=MARCH.start, end=MARCH.end)
    hist = fs.History(closed, lead, pd.DataFrame(columns=["owner_rep_id", "stage", "strict", "days", "deals"]))
    total = closed[closed["dimension"] == "all"][["closed", "won", "won_mrr"]].sum()
    assert total.to_dict() == {"closed": 3, "won": 2, "won_mrr": 400.0}
    assert metrics.win_rate(2, 3) == pytest.approx(2 / 3)
    bands = hist.win_rates("size_band").set_index("size_band")
    assert list(bands.index) == ["1-30", "31-100", "301-999"]  # 30 employees is 1-30, 31 is 31-100, 999 not 1000+
    assert bands["average_deal_size"].to_dict() == pytest.approx({"1-30": 100.0, "31-100": float("nan"),
                                                                  "301-999": 300.0}, nan_ok=True)
    direction = hist.by_direction().set_index("direction")
    assert direction["win_rate"].to_dict() == {"(no lead)": 1.0, "inbound": 1.0, "outbound": 0.0}
    # lead time: lead L1 created 01-01 → won 03-11 = 69 days; W2 has no lead: opportunity 02-21 → 03-31 = 38 days
    assert direction["median_lead_time"].to_dict() == pytest.approx(
        {"(no lead)": 38.0, "inbound": 69.0, "outbound": float("nan")}, nan_ok=True)
    assert hist.win_rates("industry", "F1").set_index("industry")["closed"].to_dict() == {"製造業": 2}
    assert list(hist.win_rates("industry")["industry"]) == ["製造業", "金融業"]  # most closed first (2, 1)
    assert hist.lead_times("F2").to_dict("records") == [{"direction": "(no lead)", "days": 38, "won": 1}]


# ---------------------------------------------------------------- pipeline, close rates, forecast


def test_pipeline_close_rates_weighted_value_and_forecast(db):
    deals = _deals([("P1", "A1", None, "F1", ts("2025-12-01"), True, ts("2026-01-20"), 100.0),
                    ("P2", "A2", None, "F1", ts("2025-12-01"), False, ts("2026-02-15"), 200.0),
                    ("P3", "A3", None, "F2", ts("2026-01-10"), False, None, 400.0),
                    ("P4", "A4", None, "F2", ts("2026-01-02"), True, ts("2026-03-05"), 800.0)])
    history = _history({"P1": [("qualification", "2025-12-01"), ("proposal", "2025-12-15"),
                               ("closed_won", "2026-01-20")],
                        "P2": [("qualification", "2025-12-01"), ("proposal", "2025-12-20"),
                               ("closed_lost", "2026-02-15")],
                        "P3": [("qualification", "2026-01-10")],
                        "P4": [("qualification", "2026-01-02"), ("closed_won", "2026-03-05")]})
    feb = periods.parse("month", "2026-02")
    with db(opportunities=deals, opportunity_stage_history=history) as wh:
        ats = [dt.datetime(2026, 1, 1), dt.datetime(2026, 2, 1), dt.datetime(2026, 3, 1)]
        pipe = wh.mart("fs_pipeline", at=ats, asof=feb.end)
    rows = {(r.at.month, r.owner_rep_id, r.stage): r for r in pipe.itertuples()}
    assert set(rows) == {(1, "F1", "proposal"), (2, "F1", "proposal"), (2, "F2", "qualification"),
                         (3, "F2", "qualification")}
    jan = rows[(1, "F1", "proposal")]  # P1 (won 01-20, before the next snapshot) and P2 (lost in February)
    assert (jan.deals, jan.mrr, jan.won_next, jan.won_next_mrr, jan.won, jan.lost) == (2, 300.0, 1, 100.0, 1, 1)
    assert rows[(3, "F2", "qualification")].won == 0  # P4 is won on 03-05, after the as-of date
    snap = fs.Snapshot(feb, *(pd.DataFrame() for _ in range(3)), pipe, pd.DataFrame())
    rates = snap.rates(feb.end)
    # proposal: P1 + P2 at 01-01, P2 at 02-01 → 1 won, 2 lost (deal-months); qualification: none closed by 03-01
    assert rates.loc["proposal", "close_rate"] == pytest.approx(1 / 3)
    assert rates.loc["proposal", "month_rate"] == pytest.approx(100 / 500)  # ¥100 won within a month of ¥500
    assert pd.isna(rates.loc["qualification", "close_rate"])
    open_now = snap.open_pipeline().set_index("stage")  # at 03-01: P3 and P4 in qualification
    assert open_now.loc["qualification", "mrr"] == 1200.0
    assert open_now["weighted_mrr"].sum() == 0.0  # no close history for qualification: weighs nothing
    assert metrics.weighted_pipeline(pd.Series([100.0, 200.0]), pd.Series([0.5, float("nan")])) == 50.0


# ---------------------------------------------------------------- stage flow


def test_stage_flow_strict_and_any_order_with_time_in_stage(db):
    deals = _deals([(o, "A1", None, "F1", ts("2026-01-01"), False, None, 1.0) for o in ("S1", "S2", "S3")]
                   + [("OLD", "A1", None, "F1", ts("2025-01-01"), False, None, 1.0)])
    history = _history({
        "S1": [("qualification", "2026-01-01"), ("proposal", "2026-01-11"), ("negotiation", "2026-01-21"),
               ("closed_won", "2026-02-10")],
        "S2": [("qualification", "2026-01-05"), ("negotiation", "2026-01-19"), ("closed_won", "2026-01-25")],
        "S3": [("proposal", "2026-01-03")],  # entered without qualification; still there
        "OLD": [("qualification", "2025-01-01")],  # created before the window
    })
    with db(opportunities=deals, opportunity_stage_history=history) as wh:
        flow = wh.mart("fs_stage_flow", start=dt.date(2026, 1, 1), end=dt.date(2026, 3, 1))
    table = fs.History(pd.DataFrame(), pd.DataFrame(), flow).stage_flow().set_index("stage")
    # any order: a skipped stage counts as reached (S3 passed qualification, S2 proposal)
    assert table["entered_any"].to_dict() == {"qualification": 3, "proposal": 3, "negotiation": 2, "closed_won": 2}
    assert table["entered_strict"].to_dict() == {"qualification": 2, "proposal": 1, "negotiation": 1,
                                                 "closed_won": 1}
    assert table["conversion_strict"].tolist()[1:] == [0.5, 1.0, 1.0]
    assert table["conversion_any"].tolist()[1:] == [1.0, 2 / 3, 1.0]
    # days in qualification: S1 10, S2 14 → median 12; proposal: S1 10 (S3 is still there)
    assert table.loc["qualification", "median_days"] == 12.0
    assert table.loc["proposal", "median_days"] == 10.0
    assert table.loc["negotiation", "mean_days"] == pytest.approx((20 + 6) / 2)
    assert pd.isna(table.loc["closed_won", "median_days"])


# ---------------------------------------------------------------- idle deals


def test_idle_rule_boundaries_keep_interest_and_owner_binding(db):
    open_deal = lambda o, owner="F1": (o, "A1", "L1", owner, ts("2026-01-01"), False, None, 10.0)  # noqa: E731
    deals = _deals([open_deal(o) for o in ("EXACT", "SECOND", "KEEP", "NOACT", "MOVED", "FUTURE")]
                   + [("WON", "A1", None, "F1", ts("2026-01-01"), True, ts("2026-02-01"), 10.0),
                      open_deal("QUOTE", "F'3"), open_deal("OTHER", "F2")])
    history = _history({o: [("qualification", "2026-01-15")] for o in ("EXACT", "SECOND", "NOACT", "FUTURE",
                                                                        "QUOTE", "OTHER")}
                       | {"KEEP": [("keep_interest", "2026-01-15")],
                          "MOVED": [("qualification", "2026-01-15"), ("proposal", "2026-03-20")],
                          "WON": [("qualification", "2026-01-01"), ("closed_won", "2026-02-01")]})
    acts = _activities([("EXACT", "2026-03-02 00:00"),  # exactly 30 days before the month end: idle
                        ("SECOND", "2026-03-02 00:00:01"),  # one second later: not idle
                        ("KEEP", "2026-02-01"), ("MOVED", "2026-01-20"), ("WON", "2026-01-01"),
                        ("FUTURE", "2026-02-01"), ("FUTURE", "2026-04-02"),  # after the month: ignored
                        ("QUOTE", "2026-02-01"), ("OTHER", "2026-02-01")])
    company = settings.company().model_copy(update={"idle_deal_days": 30})
    with db(opportunities=deals, opportunity_stage_history=history, activities=acts) as wh:
        idle = fs.idle_deals(wh, MARCH, company, ["F1"]).set_index("opportunity_id")
        quoted = fs.idle_deals(wh, MARCH, company, ["F'3"])
        injected = fs.idle_deals(wh, MARCH, company, ["x' OR '1'='1"])
    assert metrics.idle_cutoff(MARCH.end, 30) == dt.datetime(2026, 3, 2)
    assert sorted(idle.index) == ["EXACT", "FUTURE", "KEEP", "NOACT"]  # MOVED's stage change counts as a touch
    assert idle.loc["EXACT", "days_idle"] == 30
    assert idle.loc["KEEP", "stage"] == "keep_interest"
    assert idle.loc["NOACT", "last_touch_at"] == ts("2026-01-15")  # no activity: the stage entry is the last touch
    assert idle.loc["EXACT", "inside_sales_rep_id"] == "I1"
    assert list(quoted["opportunity_id"]) == ["QUOTE"] and quoted["owner_name"].item() == "O'Neil"
    assert injected.empty


def test_keep_interest_cap_flags_reps_over_it(db):
    deals = _deals([(f"K{i}", "A1", None, "F1" if i < 3 else "F2", ts("2026-01-01"), False, None, 1.0)
                    for i in range(4)])
    history = _history({f"K{i}": [("keep_interest", "2026-02-01")] for i in range(4)})
    activity_elsewhere = _activities([("OTHER", "2025-06-01")])  # loaded, but nothing on these deals
    with db(opportunities=deals, opportunity_stage_history=history, activities=activity_elsewhere) as wh:
        company = settings.company().model_copy(update={"keep_interest_cap": 2})
        snap = fs.snapshot(wh, MARCH, company, ["F1", "F2"])
        by_rep = snap.by_rep(roster.active(wh, "field_sales"), company).set_index("rep_id")
    assert by_rep["keep_interest"].to_dict() == {"F1": 3, "F2": 1, "F'3": 0}
    assert by_rep["over_cap"].to_dict() == {"F1": True, "F2": False, "F'3": False}  # 3 > cap 2; 2 would be fine
    assert by_rep["idle_deals"].to_dict() == {"F1": 3, "F2": 1, "F'3": 0}  # untouched since 02-01: all idle
    assert snap.values()["idle_deals"] == 4


# ---------------------------------------------------------------- the demo's planted truths (scale 1)


@pytest.fixture(scope="module")
def demo_fs(scale3_warehouse):
    """A year of deals at scale 3: inbound vs outbound with margin; the idle deals by construction."""
    con = duckdb.connect(str(scale3_warehouse), read_only=True)
    frames = {t: con.sql(f"SELECT * FROM {t}").df() for t in ("opportunities", "activities", "targets")}
    con.close()
    p = periods.parse("month", TEST_END)
    with DuckDBWarehouse(scale3_warehouse) as wh:
        owners = list(wh.mart("reps")["rep_id"])
        yield frames, fs.snapshot(wh, p, settings.company(), owners), fs.history(wh, p)


@pytest.mark.planted
def test_every_planted_idle_deal_is_returned_and_nothing_active(demo_fs):
    frames, snap, _ = demo_fs
    planted_ids = planted.planted_idle_deals(frames)
    assert len(planted_ids) >= 10
    assert set(snap.idle["opportunity_id"]) == planted_ids
    assert (snap.idle["days_idle"] >= planted.IDLE_DEAL_DAYS).all()


@pytest.mark.planted
def test_inbound_deals_win_more_and_faster(demo_fs):
    _, _, hist = demo_fs
    d = hist.by_direction().set_index("direction")
    assert d.loc["inbound", "win_rate"] > d.loc["outbound", "win_rate"] + 0.08
    assert d.loc["inbound", "median_lead_time"] < d.loc["outbound", "median_lead_time"] - 15


# ---------------------------------------------------------------- the rendered reports


@pytest.mark.planted
def test_team_and_personal_reports_render_for_active_reps_only(monthly_run, demo_warehouse, demo_frames):
    code, out = monthly_run
    assert code == 0
    reps = demo_frames["reps"]
    fs_reps = reps[reps["team"] == "field_sales"]
    active, inactive = fs_reps.loc[fs_reps["active"], "rep_id"], fs_reps.loc[~fs_reps["active"], "rep_id"]
    assert planted.FORMER_FS_REP in set(inactive)
    index = (out / "index.html").read_text(encoding="utf-8")
    for r in active:
        assert (out / "field_sales" / f"pipeline--{r}.html").is_file()
        assert f'href="field_sales/pipeline--{r}.html"' in index
        assert f'href="field_sales/pipeline--{r}.idle_deals.csv"' in index
    assert not list((out / "field_sales").glob(f"pipeline--{planted.FORMER_FS_REP}*"))
    company, p = settings.company(), periods.parse("month", TEST_END)
    with DuckDBWarehouse(demo_warehouse) as wh:
        owners = list(wh.mart("reps")["rep_id"])
        now, before = fs.snapshot(wh, p, company, owners), fs.snapshot(wh, p.previous(), company, owners)
        team = now.by_rep(roster.active(wh, "field_sales"), company)
    page = assert_stakeholder_page(out / "field_sales" / "pipeline.html")
    assert "pipeline.idle_deals.csv" in page.links
    mine = sorted(active)[0]
    assert_headlines(out / "field_sales" / f"pipeline--{mine}.html",
                     fs.headlines(now.values(mine), before.values(mine), fs.team_median(team)), "Team median")
    personal = assert_stakeholder_page(out / "field_sales" / f"pipeline--{mine}.html").body
    others = set(active) - {mine}
    assert not any(f">{r}<" in personal for r in others)  # a personal page shows no other rep's row
    csv = (out / "field_sales" / "pipeline.idle_deals.csv").read_bytes()
    assert csv.startswith(b"\xef\xbb\xbf")  # utf-8 with BOM, for Excel
    listed = pd.read_csv(out / "field_sales" / "pipeline.idle_deals.csv", encoding="utf-8-sig")
    assert set(listed["opportunity_id"]) == set(now.idle["opportunity_id"])
    mine_csv = pd.read_csv(out / "field_sales" / f"pipeline--{mine}.idle_deals.csv", encoding="utf-8-sig")
    assert set(mine_csv["opportunity_id"]) == set(now.idle.loc[now.idle["owner_rep_id"] == mine, "opportunity_id"])
    name = roster.active(DuckDBWarehouse(demo_warehouse), "field_sales").set_index("rep_id").loc[mine, "name"]
    heading = f">Pipeline — {html.escape(name, quote=False)} ({mine}), {TEST_END}<a"
    assert personal.index(heading) < personal.index(">Headline numbers<a")  # the rep is named at the top
    assert ">Definitions<a" in personal and ">Open deals, largest first<a" in personal
    with DuckDBWarehouse(demo_warehouse) as wh:
        my_deals = fs.open_deals(wh, p, [mine])
    open_csv = pd.read_csv(out / "field_sales" / f"pipeline--{mine}.open_deals.csv", encoding="utf-8-sig")
    assert list(open_csv["Deal"]) == list(my_deals["opportunity_id"])  # every deal, largest first
    assert all(f">{o}<" in personal for o in my_deals["opportunity_id"].head(10))
    assert not any(f">{o}<" in personal for o in my_deals["opportunity_id"].iloc[10:])
    median = fs.team_median(team)
    for h in fs.headlines(now.values(mine), before.values(mine), median):
        if h.key not in fs.percent_comparable(median):  # e.g. a median of 0.5 contracts: a difference, not "+500%"
            cell = re.search(f"<th>{re.escape(h.label)}</th>(?:<td[^>]*>[^<]*</td>){{4}}<td[^>]*>([^<]*)</td>",
                             personal)
            assert cell and "%" not in cell.group(1), h.key


def test_demo_names_in_japanese_and_with_quotes_render(monthly_run, demo_frames):
    _, out = monthly_run
    reps = demo_frames["reps"].set_index("rep_id")
    team = (out / "field_sales" / "pipeline.html").read_text(encoding="utf-8")
    assert reps.loc["FS01", "name"] in team  # Japanese, as written
    oneil = (out / "field_sales" / "pipeline--FS02.html").read_text(encoding="utf-8")
    assert ">Pipeline — Dan O'Neil (FS02), " in oneil  # text content: the quote is harmless


def test_a_rep_with_quotes_and_html_in_id_and_name_renders_escaped_and_unknown_reps_fail_before_any_kernel(
        tmp_path, monkeypatch, demo_warehouse):
    path = tmp_path / "quoted.duckdb"
    shutil.copy(demo_warehouse, path)
    con = duckdb.connect(str(path))
    for table, column in (("reps", "rep_id"), ("opportunities", "owner_rep_id"), ("activities", "rep_id")):
        con.execute(f"UPDATE {table} SET {column} = 'FS''01' WHERE {column} = 'FS01'")
    con.execute("UPDATE reps SET name = '<b>Bold</b> O''Neil 山田' WHERE rep_id = 'FS''01'")
    con.close()
    monkeypatch.setenv("REVBOOK_WAREHOUSE", str(path))
    monkeypatch.setenv("REVBOOK_OUTPUTS", str(tmp_path / "out"))
    for rep in ("NOPE", planted.FORMER_FS_REP):
        with pytest.raises(PlanError, match=f"unknown rep '{rep}': not an active field_sales rep"):
            runner.plan("monthly", TEST_END, rep=rep)
    assert runner.run("monthly", TEST_END, only=["field_sales"], rep="FS'01") == 0
    out = tmp_path / "out" / TEST_END / "field_sales"
    name = "pipeline--" + safe_name("FS'01")  # the quote is not kept in a file name
    assert name.startswith("pipeline--FS_01-")
    assert sorted(f.name for f in out.iterdir()) == [f"{name}.html", f"{name}.idle_deals.csv", f"{name}.metrics.json",
                                                     f"{name}.open_deals.csv"]
    page = assert_stakeholder_page(out / f"{name}.html").text
    assert "&lt;b&gt;Bold&lt;/b&gt; O'Neil 山田 (FS'01)" in page and "<b>Bold</b>" not in page


def test_a_skipped_stage_counts_as_reached_so_conversion_stays_within_100(tmp_path):
    """tinylake's O1 goes qualification → closed_won: proposal and negotiation count as passed."""
    path = tmp_path / "tiny.duckdb"
    load.build_warehouse(tiny_lake(), path, {"source": "test"})
    with DuckDBWarehouse(path) as wh:
        flow = fs.history(wh, periods.parse("month", "2026-01")).stage_flow().set_index("stage")
    assert flow["entered_any"].tolist() == [2.0, 1.0, 1.0, 1.0]  # qualification, proposal, negotiation, won
    assert flow["entered_strict"].tolist() == [2.0, 0.0, 0.0, 0.0]
    assert flow["conversion_any"].tolist()[1:] == [0.5, 1.0, 1.0]


# ---------------------------------------------------------------- open deals, quarters, the page's words


def test_a_reps_open_deals_largest_first_with_days_since_touch(db):
    deals = _deals([("SMALL", "A1", None, "F1", ts("2026-01-10"), False, None, 10.0),
                    ("BIG", "A2", None, "F1", ts("2026-01-10"), False, None, 30.0),
                    ("WON", "A3", None, "F1", ts("2026-01-10"), True, ts("2026-02-01"), 99.0),
                    ("LATER", "A4", None, "F1", ts("2026-04-05"), False, None, 90.0),  # opened after March
                    ("THEIRS", "A5", None, "F2", ts("2026-01-10"), False, None, 50.0)])
    history = _history({"SMALL": [("qualification", "2026-01-15")], "BIG": [("keep_interest", "2026-02-01")],
                        "WON": [("qualification", "2026-01-10"), ("closed_won", "2026-02-01")],
                        "LATER": [("qualification", "2026-04-05")], "THEIRS": [("proposal", "2026-01-15")]})
    acts = _activities([("SMALL", "2026-03-20 10:00"), ("SMALL", "2026-04-02")])  # April's is after the month
    with db(opportunities=deals, opportunity_stage_history=history, activities=acts) as wh:
        mine = fs.open_deals(wh, MARCH, ["F1"])
    assert list(mine.columns) == ["opportunity_id", "account_name", "owner_name", "stage", "amount", "stage_since",
                                  "last_touch_at", "days_since_touch"]
    assert list(mine["opportunity_id"]) == ["BIG", "SMALL"]  # by MRR; won, later and others' deals left out
    assert list(mine["days_since_touch"]) == [59, 11]  # full days: 04-01 − 02-01 (the stage entry), − 03-20 10:00
    assert mine.loc[1, "stage_since"] == ts("2026-01-15") and mine.loc[1, "account_name"] == "a"


def test_win_rate_of_the_last_three_months_against_the_three_before(db):
    deals = _deals([("W1", "A1", None, "F1", ts("2025-09-01"), True, ts("2026-02-10"), 1.0),
                    ("X1", "A1", None, "F2", ts("2025-09-01"), False, ts("2026-03-31 23:00"), 1.0),
                    ("X2", "A1", None, "F1", ts("2025-09-01"), False, ts("2025-11-10"), 1.0),
                    ("W2", "A1", None, "F1", ts("2025-09-01"), True, ts("2025-10-01"), 1.0),  # first day counts
                    ("W3", "A1", None, "F2", ts("2025-09-01"), True, ts("2025-12-31"), 1.0),
                    ("W4", "A1", None, "F1", ts("2025-09-01"), True, ts("2025-09-30"), 1.0)])  # before both
    with db(opportunities=deals) as wh:
        team, f1 = fs.quarter_win_rates(wh, MARCH), fs.quarter_win_rates(wh, MARCH, "F1")
    assert team == pytest.approx((1 / 2, 2 / 3))  # Jan–Mar: W1, X1; Oct–Dec: W2, X2, W3
    assert f1 == pytest.approx((1.0, 1 / 2))


def test_a_change_is_a_percentage_only_against_a_count_of_at_least_three():
    median = {"proposals": 5.0, "won_deals": 0.5, "new_mrr": 19000.0, "win_rate": 0.29, "average_deal_size": 7e4,
              "median_lead_time": 72.0, "weighted_pipeline": 3e5, "idle_deals": 3.0}
    assert fs.percent_comparable(median) == {"proposals", "win_rate", "average_deal_size", "median_lead_time",
                                             "weighted_pipeline", "idle_deals"}  # 3 is enough; new MRR counts wins
    compared = fs.percent_comparable({**median, "proposals": None, "won_deals": 3.0})
    assert {"won_deals", "new_mrr"} <= compared and "proposals" not in compared  # unknown: no percentage


def test_personal_headlines_compare_small_medians_as_differences():
    from revbook.pages import pipeline as pl

    now = {"proposals": 8.0, "won_deals": 3.0, "new_mrr": 149000.0, "win_rate": 0.75, "average_deal_size": 49667.0,
           "median_lead_time": 67.0, "weighted_pipeline": 218330.0, "idle_deals": 3.0}
    before = {**now, "won_deals": 2.0, "new_mrr": 146000.0, "idle_deals": 8.0}
    median = {**now, "proposals": 5.0, "won_deals": 0.5, "new_mrr": 19000.0, "win_rate": 0.29, "idle_deals": 1.5}
    items = fs.headlines(now, before, median)
    page = report.headlines_html(items, "Ken (F1), 2026-03", "Team median", pl.differences(items, before, median))
    row = {m[0]: m[1:] for m in re.findall(r"<tr><th>([^<]+)</th><td[^>]*>([^<]+)</td><td>([^<]+)</td><td[^>]*>([^<]+)"
                                            r"</td><td>([^<]+)</td><td[^>]*>([^<]+)</td></tr>", page)}
    assert row["New contracts"] == ("3", "2", "+1", "0.5", "+2.5")  # not "+50.0%", "+500.0%"
    assert row["New contract MRR"] == ("¥149,000", "¥146,000", "+¥3,000", "¥19,000", "+¥130,000")
    assert row["Idle deals to return"][2:] == ("-62.5%", "1.5", "+1.5")  # 8 last month: a percentage
    assert row["Proposals (accounts, last 30 days)"][4] == "+60.0%"
    assert row["Win rate (won ÷ closed)"][4] == "+46.0 pt"
    assert report.fmt_difference(1.0, 1.0, "count") == "±0" and report.fmt_difference(None, 1.0, "count") == "n/a"
    note = pl.comparison_note(before, median, "Team median")
    assert note.endswith("the previous month (2 won deals); team median (1\\.5 idle deals, 0\\.5 won deals).*")
    assert pl.comparison_note(median | {"won_deals": 4.0, "idle_deals": 5.0}, {}, "Target") == ""


def test_the_pages_sentences_say_what_happened():
    from revbook.pages import pipeline as pl

    pipe = pd.DataFrame({"stage": list(fs.OPEN_STAGES), "deals": [2, 3, 1, 4], "mrr": [100.0, 300.0, 50.0, 550.0],
                         "forecast_mrr": [1.0, 2.0, 3.0, 0.0], "won_next_mrr": [0.0] * 4})
    start = pipe.assign(mrr=[100.0, 200.0, 100.0, 400.0])
    assert pl.pipeline_sentence(pipe, start, MARCH) == (
        "¥1,000 of open MRR in 10 deals at the end of 2026-03, \\+25\\.0% on the month start (¥800); Keep interest "
        "holds the most (¥550, 55\\.0%), Proposal the most of the active stages (¥300).")
    by_direction = pd.DataFrame({"direction": ["inbound", "outbound"], "win_rate": [0.5, 0.0],
                                 "median_lead_time": [62.0, float("nan")]})
    assert pl.direction_sentence(by_direction) == ("Inbound deals won 50\\.0% against 0\\.0% outbound; no outbound "
                                                   "deal was won, so lead times do not compare.")
    caps = pd.DataFrame({"rep_id": ["F1", "F2"], "name": ["Ken", "Bo"], "keep_interest": [3.0, 1.0],
                         "keep_interest_cap": [2.0, 2.0], "over_cap": [True, False]})
    assert pl.cap_sentences(caps) == ["**Alert: Ken (F1) holds 3 keep-interest deals**, over the cap of 2."]
    assert pl.cap_sentences(caps.iloc[[1]]) == ["Bo holds 1 keep-interest deals, within the cap of 2."]
    assert pl.cap_sentences(caps.assign(over_cap=False)) == [
        "No rep holds more keep-interest deals than the cap of 2; the most is Ken (F1) with 3."]
    industries = pd.DataFrame({"industry": ["製造業", "金融業", "小売"], "closed": [20, 10, 9],
                               "win_rate": [0.5, 0.2, 0.9]})
    assert pl.win_rate_sentence((0.4, 0.5), industries) == (
        "Win rate 40\\.0% over the last three months, against 50\\.0% the three before (\\-10\\.0 pt); over 12 months "
        "製造業 wins most (50\\.0% of 20) and 金融業 least (20\\.0% of 10).")  # 小売: too few closed to rank


def test_without_stage_history_the_weighted_pipeline_is_unknown_not_zero(demo_warehouse, tmp_path):
    import shutil

    import duckdb

    from conftest import TEST_END
    from revbook import periods, settings
    from revbook.data.duckdb_engine import DuckDBWarehouse

    partial = tmp_path / "partial.duckdb"
    shutil.copy(demo_warehouse, partial)
    with duckdb.connect(str(partial)) as con:
        con.execute("DELETE FROM opportunity_stage_history")
    p = periods.resolve("month", TEST_END)

    def values(path):
        with DuckDBWarehouse(path) as wh:
            return fs.snapshot(wh, p, settings.company(), list(wh.mart("reps")["rep_id"])).values(None)

    full, without = values(demo_warehouse), values(partial)
    assert full["weighted_pipeline"] is not None and without["weighted_pipeline"] is None  # n/a, not ¥0
    assert without["won_deals"] == full["won_deals"]  # what the deals themselves tell stays
