"""Marketing marts on hand-made fixtures, n/a handling, and the demo's planted truths (scale 1)."""

import datetime as dt

import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from conftest import TEST_END, make_db
from revbook import periods, settings
from revbook.data.duckdb_engine import DuckDBWarehouse
from revbook.data.validate import validate
from revbook.demo import planted
from revbook.departments import marketing, sales_ops
from revbook.pages import report
from tinylake import tiny_lake

ts = pd.Timestamp
MAR, APR = dt.date(2026, 3, 1), dt.date(2026, 4, 1)
TARGET = ["製造業"]


@pytest.fixture()
def touch_wh(tmp_path):
    """L1: own campaign C1, then utm touches for C2 and C3 before qualifying; L2: no campaign at all."""
    leads = pd.DataFrame({
        "lead_id": ["L1", "L2"], "created_at": [ts("2026-03-01"), ts("2026-03-02")],
        "campaign_id": ["C1", None], "creative_id": ["C1-a", None], "industry": ["製造業", "小売業"],
        "qualified_at": [ts("2026-03-20"), None], "opportunity_id": ["O1", None],
    })
    touchpoints = pd.DataFrame({
        "lead_id": ["L1", "L1", "L1", "L1"],
        "occurred_at": [ts("2026-03-05"), ts("2026-03-10"), ts("2026-03-25"), ts("2026-03-06")],
        "url": ["https://x.jp/?utm_source=ads&utm_campaign=C2", "https://x.jp/p?utm_campaign=C3&x=1",
                "https://x.jp/?utm_campaign=C2",  # after qualification: not a touch
                "https://x.jp/?utm_campaign=GONE"],  # not a campaign: ignored
    })
    campaigns = pd.DataFrame({"campaign_id": ["C1", "C2", "C3"]})
    opportunities = pd.DataFrame({"opportunity_id": ["O1"], "created_at": [ts("2026-03-21")],
                                  "closed_at": [ts("2026-03-30")], "is_won": [True], "amount": [100_000.0]})
    path = make_db(tmp_path / "m.duckdb", {"leads": leads, "touchpoints": touchpoints, "campaigns": campaigns,
                                           "opportunities": opportunities})
    with DuckDBWarehouse(path) as wh:
        yield wh


@pytest.mark.parametrize("model, expected", [
    ("first_touch", {"C1": 1.0}),
    ("linear", {"C1": 1 / 3, "C2": 1 / 3, "C3": 1 / 3}),
    ("position_based", {"C1": 0.4, "C2": 0.2, "C3": 0.4}),
])
def test_attribution_models_on_three_touches(touch_wh, model, expected):
    credit = touch_wh.mart("marketing_attribution", start=MAR, end=APR, model=model, target_industries=TARGET)
    l1 = credit[credit["campaign_id"] != "(none)"].set_index("campaign_id")
    assert l1["leads"].to_dict() == pytest.approx(expected)
    for column in ("leads", "target_leads", "sqls", "opportunities", "won"):
        assert l1[column].sum() == pytest.approx(1.0)  # one lead, credited once in total
    assert l1["won_mrr"].sum() == pytest.approx(100_000)
    none = credit.set_index("campaign_id").loc["(none)"]
    assert (none["leads"], none["target_leads"], none["sqls"]) == (1, 0, 0)


def test_outcomes_outside_the_window_are_not_counted(touch_wh):
    credit = touch_wh.mart("marketing_attribution", start=APR, end=dt.date(2026, 5, 1), model="first_touch",
                           target_industries=TARGET)
    assert credit.empty


def test_spend_spreads_budgets_over_campaign_days(tmp_path):
    campaigns = pd.DataFrame({
        "campaign_id": ["AD", "EX", "ONE", "FREE"],
        "budget": [None, 310_000.0, 50_000.0, None],
        "start_date": [MAR, dt.date(2026, 3, 22), dt.date(2026, 3, 3), MAR],
        "end_date": [None, dt.date(2026, 4, 21), None, None],  # EX: 31 days, 10 in March
    })
    ads = pd.DataFrame({"date": [dt.date(2026, 3, 31), dt.date(2026, 4, 1)], "campaign_id": ["AD", "AD"],
                        "creative_id": ["AD-1", "AD-1"], "impressions": [1000, 5], "clicks": [10, 1],
                        "cost": [2000.0, 7.0]})
    path = make_db(tmp_path / "s.duckdb", {"campaigns": campaigns, "ad_spend_daily": ads})
    with DuckDBWarehouse(path) as wh:
        spend = wh.mart("marketing_spend", start=MAR, end=APR).set_index("campaign_id")
    assert spend.loc["AD", ["impressions", "clicks", "cost"]].tolist() == [1000, 10, 2000.0]
    assert spend.loc["EX", "cost"] == pytest.approx(310_000 * 10 / 31)
    assert spend.loc["ONE", "cost"] == pytest.approx(50_000)  # no end date: a one-off on its start date
    assert "FREE" not in spend.index


def test_zero_spend_clicks_and_leads_print_na():
    econ = sales_ops.Economics(gross_margin=0.8, monthly_churn=0.01, arpa=50_000.0)
    rows = pd.DataFrame([
        {"channel": "organic", **dict.fromkeys(marketing.COUNTS, 0.0)},
        {"channel": "display", **dict.fromkeys(marketing.COUNTS, 0.0), "impressions": 100.0, "cost": 500.0},
    ])
    table = marketing.add_metrics(rows, econ)
    page = report.table_html(table)
    assert "n/a" in page and "inf" not in page.lower() and "nan" not in page.lower()
    assert table.loc[1, "ctr"] == 0 and pd.isna(table.loc[1, "cpc"]) and pd.isna(table.loc[0, "roi_first_year"])


def test_off_target_needs_a_share_clearly_under_half_the_overall():
    """Overall target share of the judged campaigns: 1,605 of 4,100 leads (39.1%), half is 19.6%.
    BIG's 9% of 1,000 leads is under it even at its interval's top (10.9%); FEW's 15% of 100 is under
    it too, but its interval reaches 23.4%: chance, not a finding. TINY has under 100 leads."""
    rows = pd.DataFrame({"campaign_id": ["BIG", "FEW", "TINY", "X1", "X2", "X3"],
                         "cost": [900_000.0, 100_000.0, 1_000.0] + [5_000_000.0] * 3,
                         "leads": [1000.0, 100.0, 50.0] + [1000.0] * 3,
                         "target_leads": [90.0, 15.0, 0.0] + [500.0] * 3,
                         "opportunities": [30.0, 3.0, 0.0] + [40.0] * 3})
    rows["cpl"] = rows["cost"] / rows["leads"]
    rows["target_share"] = rows["target_leads"] / rows["leads"]
    rows["opportunity_rate"] = rows["opportunities"] / rows["leads"]
    flagged = marketing.off_target(rows, rows[["campaign_id", "cpl"]].iloc[:0], ["campaign_id"])
    assert list(flagged["campaign_id"]) == ["BIG"]
    assert flagged["overall_target_share"].iloc[0] == pytest.approx(1605 / 4100)
    assert marketing.clearly_below(pd.Series([90.0, 15.0]), pd.Series([1000.0, 100.0]), 0.196).tolist() == [True, False]


def test_spend_on_an_unknown_campaign_is_a_validation_error(tmp_path):
    lake = tiny_lake()
    lake["ad_spend_daily"].loc[0, "campaign_id"] = "C404"
    path = make_db(tmp_path / "v.duckdb", lake)
    with DuckDBWarehouse(path) as wh:
        found = [(v.table, v.column, v.rule) for v in validate(wh) if v.severity == "error"]
    assert found == [("ad_spend_daily", "campaign_id", "foreign_key")]


@pytest.fixture(scope="module")
def demo_views(scale1_warehouse):
    company = settings.company()
    month = periods.parse("month", TEST_END)
    first = month.shift(-11)
    with DuckDBWarehouse(scale1_warehouse) as wh:
        campaigns = wh.mart("campaigns")
        econ = sales_ops.economics(wh, month, company.gross_margin)
        trailing = marketing.window(wh, first.start, month.end, "first_touch", company.target_industries, campaigns)
        prior = marketing.window(wh, first.shift(-12).start, first.start, "first_touch",
                                 company.target_industries, campaigns)
        industries = marketing.industries(wh, month, 12, company.target_industries)
    return trailing.by("campaign", econ), prior.by("campaign", econ), industries


@pytest.mark.planted
def test_report_names_the_planted_cheap_off_target_campaign(demo_views):
    campaigns, prior, _ = demo_views
    flagged = marketing.off_target(campaigns, prior, ["campaign_id"])
    assert list(flagged["campaign_id"]) == [planted.CHEAP_OFF_TARGET_CAMPAIGN]
    ads = campaigns[campaigns["impressions"] > 0]  # the ad campaigns: the cheapest per lead, least on target
    assert ads.sort_values("cpl").iloc[0]["campaign_id"] == planted.CHEAP_OFF_TARGET_CAMPAIGN
    assert ads.sort_values("target_share").iloc[0]["campaign_id"] == planted.CHEAP_OFF_TARGET_CAMPAIGN


@pytest.mark.planted
def test_target_industries_convert_better(demo_views):
    *_, industries = demo_views
    rates = marketing.target_vs_other(industries)  # (lead → opportunity, lead → won)
    assert rates[True][0] > 1.3 * rates[False][0] and rates[True][1] > rates[False][1]


@pytest.mark.planted
def test_each_target_industry_converts_better_than_the_others(scale3_warehouse):
    """Each target industry's lead → won rate is above the other industries' pooled rate even at
    the bottom of its 95% interval. (Finance wins about 15 deals a year at scale 1, so neither a
    rank among single industries nor this interval can be judged there: it is, at scale 3.)"""
    company = settings.company()
    with DuckDBWarehouse(scale3_warehouse) as wh:
        industries = marketing.industries(wh, periods.parse("month", TEST_END), 12, company.target_industries)
    others = industries[~industries["target"]]
    pooled = others["won"].sum() / others["leads"].sum()
    target = industries[industries["target"]]
    low, _ = proportion_confint(target["won"], target["leads"], method="wilson")
    assert set(target["industry"]) == set(planted.TARGET_INDUSTRIES)
    assert (low > pooled).all(), dict(zip(target["industry"], low))


def test_the_budget_step_moves_no_channel_more_than_its_bound_and_keeps_the_total():
    # spend 100 / 100 / 100; LTV return 300 / 100 / 0 → k² = 900, 100, 0 → unbounded optimum 270 / 30 / 0
    channels = pd.DataFrame({"channel": ["search", "social", "print"], "cost": [100.0, 100.0, 100.0],
                             "ltv_revenue": [300.0, 100.0, 0.0]})
    free = marketing.reallocation(channels, step=1.0).set_index("channel")["proposed_spend"]
    # ±100%: search capped at 200 (not 270); social λ·30 takes the other 100; print, with no return, 0
    assert free.to_dict() == pytest.approx({"search": 200.0, "social": 100.0, "print": 0.0})
    half = marketing.reallocation(channels, step=0.5).set_index("channel")
    # ±50%: search capped at 150, print floored at 50; social takes the rest, 300 − 150 − 50 = 100
    assert half["proposed_spend"].to_dict() == pytest.approx({"search": 150.0, "social": 100.0, "print": 50.0})
    assert half["change"].to_dict() == pytest.approx({"search": 50.0, "social": 0.0, "print": -50.0})
    assert half["proposed_share"].sum() == pytest.approx(1.0)
    flat = marketing.reallocation(channels.assign(ltv_revenue=0.0)).set_index("channel")
    assert flat["change"].abs().max() == pytest.approx(0.0)  # no return anywhere: nothing to move toward


def test_each_view_is_a_table_that_fits_and_delivery_only_where_a_platform_reports_impressions():
    econ = sales_ops.Economics(gross_margin=0.8, monthly_churn=0.01, arpa=50_000.0)
    rows = pd.DataFrame([
        {"channel": "listing_ads", "platform": "google_ads", **dict.fromkeys(marketing.COUNTS, 1.0)},
        {"channel": "seminar", "platform": marketing.NO_CREATIVE, **dict.fromkeys(marketing.COUNTS, 1.0),
         "impressions": 0.0, "clicks": 0.0},
    ])
    platforms = marketing.add_metrics(rows, econ)
    for level, names in marketing.ROW_NAMES.items():
        for view in marketing.VIEWS.values():
            assert len(names) + len(view) <= 10, (level, view)  # ≤ 10 columns: fits the page's column
    volume = marketing.view(platforms, "platform", "volume")
    assert list(volume.columns) == ["channel", "platform", *marketing.VIEWS["volume"]] and len(volume) == 2
    delivery = marketing.view(platforms, "platform", "delivery")
    assert delivery["channel"].tolist() == ["listing_ads"]
    assert delivery.loc[0, "ctr"] == 1.0 and delivery.loc[0, "cpl"] == 1.0


def test_target_share_of_a_window_is_target_leads_over_leads():
    rows = pd.DataFrame({"campaign_id": ["A", "B"], **{c: [0.0, 0.0] for c in marketing.COUNTS}})
    rows["leads"], rows["target_leads"] = [30.0, 10.0], [12.0, 2.0]
    assert marketing.Window(MAR, APR, rows).target_share() == pytest.approx(14 / 40)
