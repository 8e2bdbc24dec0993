"""The marketing and inside-sales conventions (issue 20), each on a hand-made fixture that shows what
its values change: paid_channels, cac_includes_sales_cost, hot_leads.count, and connect rates per
direction in the inside-sales headline."""

import datetime as dt

import pandas as pd
import pytest

from conftest import make_db
from revbook import periods, settings
from revbook.contract import CHANNELS
from revbook.data.duckdb_engine import DuckDBWarehouse
from revbook.departments import inside_sales as isr
from revbook.departments import marketing
from revbook.pages import campaign_roi, funnel
from revbook.settings import HotLeads

ts = pd.Timestamp
MARCH = periods.parse("month", "2026-03")
DEFAULT_PAID = tuple(settings.company().paid_channels)


# ---------------------------------------------------------------- paid_channels and cac_includes_sales_cost


def _march_window() -> marketing.Window:
    """One month's credited rows: a paid listing-ads campaign, an outbound list with a small list cost,
    and the leads with no campaign."""
    rows = pd.DataFrame({
        "campaign_id": ["LA1", "OB1", "(none)"], "creative_id": ["—"] * 3, "name": ["ads", "list", "(no campaign)"],
        "channel": ["listing_ads", "outbound", "(none)"], "platform": ["google_ads", "—", "—"],
        "impressions": [1000.0, 0, 0], "clicks": [100.0, 0, 0], "cost": [300_000.0, 60_000.0, 0.0],
        "leads": [30.0, 20, 5], "target_leads": [10.0, 5, 1], "sqls": [6.0, 4, 1], "opportunities": [4.0, 4, 1],
        "won": [2.0, 3, 1], "won_mrr": [100_000.0, 200_000, 50_000],
    })
    return marketing.Window(MARCH.start, MARCH.end, rows)


def test_paid_channels_count_only_paid_spend_and_deals_and_show_the_others_apart():
    w = _march_window()
    paid = marketing.headline_values(w, marketing.Basis(DEFAULT_PAID))
    # paid = listing ads only: CAC 300,000 ÷ 2 = 150,000; ROAS 100,000 × 12 ÷ 300,000 = 4.0; ROI 3.0
    assert paid["cac"] == pytest.approx(150_000) and paid["roas"] == pytest.approx(4.0)
    assert paid["roi"] == pytest.approx(3.0)
    assert paid["spend"] == 360_000 and paid["won"] == 6  # the spend and won headlines stay whole
    every = marketing.headline_values(w, marketing.Basis(tuple(CHANNELS)))
    # every channel paid (not the no-campaign leads): CAC 360,000 ÷ 5 = 72,000;
    # ROAS (100,000 + 200,000) × 12 ÷ 360,000 = 10.0
    assert every["cac"] == pytest.approx(72_000) and every["roas"] == pytest.approx(10.0)
    apart = marketing.apart(w, DEFAULT_PAID)
    assert apart[["channel", "cost", "won", "first_year_revenue"]].values.tolist() == [
        ["outbound", 60_000, 3, 2_400_000], ["(none)", 0, 1, 600_000]]  # 200,000 × 12; 50,000 × 12
    split = marketing.paid_split(w, DEFAULT_PAID)
    text = campaign_roi.basis_sentence(split, apart, marketing.Basis(DEFAULT_PAID), "2026-03")
    assert "¥300,000 of the month's ¥360,000 spend and 2 of its 6 won deals (¥1,200,000 of ¥4,200,000" in text
    assert ("Shown apart, not credited to marketing spend: Outbound list won 3 deals (¥2,400,000; spend ¥60,000), "
            "leads with no campaign 1 (¥600,000)." in text)
    assert "CAC = paid-channel spend ÷ their won deals" in text
    unknown = w.rows.assign(cost=float("nan"), impressions=float("nan"), clicks=float("nan"))  # no ad spend loaded
    blind = marketing.Window(MARCH.start, MARCH.end, unknown)
    assert pd.isna(marketing.headline_values(blind, marketing.Basis(DEFAULT_PAID))["cac"])  # n/a, not 0
    assert ("spend unknown without ad spend (ad_spend_daily), 2 of its 6 won deals" in campaign_roi.basis_sentence(
        marketing.paid_split(blind, DEFAULT_PAID), marketing.apart(blind, DEFAULT_PAID), marketing.Basis(DEFAULT_PAID),
        "2026-03"))


@pytest.fixture()
def plan_wh(tmp_path):
    """Sales cost in the plan for March only, from two departments."""
    targets = pd.DataFrame({"month": [dt.date(2026, 3, 1)] * 3 + [dt.date(2026, 4, 1)],
                            "department": ["field_sales", "inside_sales", "marketing", "marketing"],
                            "metric": ["sales_cost", "sales_cost", "leads", "leads"],
                            "target": [600_000.0, 300_000.0, 40.0, 50.0]})
    with DuckDBWarehouse(make_db(tmp_path / "plan.duckdb", {"targets": targets})) as wh:
        yield wh


def test_cac_with_sales_cost_takes_the_plan_then_params_and_is_na_without_either(plan_wh):
    company = settings.company()
    assert marketing.basis(plan_wh, MARCH, company).includes_sales_cost is False  # the default
    loaded = company.model_copy(update={"cac_includes_sales_cost": True})
    march = marketing.basis(plan_wh, MARCH, loaded)
    assert (march.sales_cost, march.sales_cost_from) == (900_000, "targets")  # 600,000 + 300,000, any department
    w = _march_window()
    # (paid spend 300,000 + sales cost 900,000) ÷ all 6 new customers = 200,000 (marketing-only: 150,000)
    assert marketing.headline_values(w, march)["cac"] == pytest.approx(200_000)
    april, march_again = MARCH.shift(1), MARCH
    with_params = loaded.model_copy(update={"sales_cost_monthly": 420_000.0})
    assert marketing.basis(plan_wh, april, with_params).sales_cost_from == "sales_cost_monthly"
    # (300,000 + 420,000) ÷ 6 = 120,000
    assert marketing.headline_values(w, marketing.basis(plan_wh, april, with_params))["cac"] == pytest.approx(120_000)
    assert marketing.basis(plan_wh, march_again, with_params).sales_cost == 900_000  # the plan comes first
    unknown = marketing.basis(plan_wh, april, loaded)
    assert unknown.sales_cost is None and marketing.headline_values(w, unknown)["cac"] is None  # n/a, never 0
    split, apart = marketing.paid_split(w, DEFAULT_PAID), marketing.apart(w, DEFAULT_PAID)
    assert campaign_roi.basis_sentence(split, apart, unknown, "2026-04").endswith(
        "**CAC is n/a**: cac_includes_sales_cost is true, but neither the targets table (metric sales_cost) nor "
        "sales_cost_monthly gives the sales cost of 2026-04.")
    assert ("CAC = (paid-channel spend + the month's sales cost, ¥900,000 from the targets table's sales_cost) ÷ "
            "all 6 new customers won" in campaign_roi.basis_sentence(split, apart, march, "2026-03"))
    items = {h.key: h for h in marketing.headlines(w, w, {}, march, unknown)}
    assert items["cac"].label == "CAC (paid spend + sales cost, all new customers)"
    assert (items["cac"].value, items["cac"].previous) == (pytest.approx(200_000), None)


# ---------------------------------------------------------------- hot_leads.count


@pytest.fixture()
def touch_wh(tmp_path):
    """March 2026 with a 14-day window and 5 page views (the defaults):
    STRADDLE  views 02-25, 02-26, 02-27, 03-02, 03-03: the 5th falls in March, 3 are before it;
    ALREADY   views 02-20 .. 02-24 (hot on 02-24), then 03-20 .. 03-24: hot before March and at its end;
    EARLY     views 03-02 .. 03-06: hot on 03-06, nothing in March's last 14 days;
    LATE      a demo-link click on 03-25; an inside-sales call on it 03-26 (24 hours later);
    SPREAD    views every 5 days from 03-01 to 03-21: 5 in the month, never 5 within 14 days;
    EDGE      views 03-10 00:00, 03-11, 03-12, 03-13, 03-24 00:00: the first is exactly 14 days before the
              last, outside its window (t - 14 days, t]."""
    def views(lead, *days):
        return [(lead, "page_view", ts(d)) for d in days]

    touches = (views("STRADDLE", "2026-02-25", "2026-02-26", "2026-02-27", "2026-03-02", "2026-03-03")
               + views("ALREADY", *(f"2026-02-{d}" for d in range(20, 25)), *(f"2026-03-{d}" for d in range(20, 25)))
               + views("EARLY", *(f"2026-03-0{d}" for d in range(2, 7)))
               + [("LATE", "demo_link_click", ts("2026-03-25 10:00"))]
               + views("SPREAD", "2026-03-01", "2026-03-06", "2026-03-11", "2026-03-16", "2026-03-21")
               + views("EDGE", "2026-03-10", "2026-03-11", "2026-03-12", "2026-03-13", "2026-03-24"))
    ids = ["STRADDLE", "ALREADY", "EARLY", "LATE", "SPREAD", "EDGE"]
    tables = {
        "touchpoints": pd.DataFrame(touches, columns=["lead_id", "type", "occurred_at"]),
        "leads": pd.DataFrame({"lead_id": ids, "company_name": [i.lower() for i in ids], "owner_rep_id": "IS1"}),
        "reps": pd.DataFrame({"rep_id": ["IS1"], "team": ["inside_sales"]}),
        "activities": pd.DataFrame({"lead_id": ["LATE"], "rep_id": ["IS1"], "occurred_at": [ts("2026-03-26 10:00")]}),
    }
    with DuckDBWarehouse(make_db(tmp_path / "touch.duckdb", tables)) as wh:
        yield wh


def _hot(wh, count: str) -> pd.DataFrame:
    company = settings.company().model_copy(update={"hot_leads": HotLeads(count=count)})
    return isr.hot_leads(wh, MARCH, company).set_index("lead_id")


def test_became_hot_counts_leads_first_hot_in_the_period_with_views_before_it(touch_wh):
    hot = _hot(touch_wh, "became_hot")
    # STRADDLE (5 views in (02-17, 03-03]), EARLY, LATE; not ALREADY (hot since 02-24), SPREAD or EDGE
    assert sorted(hot.index) == ["EARLY", "LATE", "STRADDLE"]
    assert hot.loc["STRADDLE", "hot_at"] == ts("2026-03-03") and hot.loc["STRADDLE", "page_views"] == 5
    assert hot.loc["LATE", "hours_to_activity"] == 24 and pd.isna(hot.loc["EARLY", "hours_to_activity"])
    assert funnel.hot_sentence(hot, "became_hot") == ("3 leads became hot in the period; 1 were contacted, after a "
                                                      "median of 24 hours; **2 still waiting**.")


def test_hot_at_end_counts_leads_the_rule_holds_for_over_the_last_window(touch_wh):
    hot = _hot(touch_wh, "hot_at_end")
    # March's last 14 days, [03-18, 04-01): ALREADY's 5 views of 03-20 .. 03-24, LATE's click
    assert sorted(hot.index) == ["ALREADY", "LATE"]
    assert hot.loc["ALREADY", "hot_at"] == ts("2026-02-24")  # when it first turned hot
    assert hot.loc["ALREADY", "page_views"] == 5 and hot.loc["LATE", "demo_clicks"] == 1
    assert funnel.hot_sentence(hot, "hot_at_end").startswith("2 leads were hot at the period's end;")


# ---------------------------------------------------------------- connect rates in the headline


def test_connect_rate_headlines_are_inbound_and_outbound_with_the_pool_labelled_all_calls():
    per_rep = pd.DataFrame({"rep_id": ["A", "A", "B", "B"], "direction": ["inbound", "outbound"] * 2,
                            "calls": [6, 20, 4, 10], "connects": [4, 2, 2, 1]})
    res = isr.Results(pd.DataFrame({"rep_id": ["A"], "direction": ["inbound"], "sqls": [2], "target_sqls": [1],
                                    "won": [0], "lost": [0], "open": [2]}))
    alloc = pd.DataFrame({"over": [False]})
    values = isr.headline_values(per_rep, res, pd.DataFrame(), alloc)
    # inbound (4 + 2) ÷ (6 + 4) = 60%; outbound (2 + 1) ÷ (20 + 10) = 10%; all 9 ÷ 40 = 22.5%
    assert values["connect_rate_inbound"] == pytest.approx(0.6)
    assert values["connect_rate_outbound"] == pytest.approx(0.1)
    assert values["connect_rate"] == pytest.approx(0.225)
    items = isr.headlines(values, values, {}, "became_hot")
    labels = [i.label for i in items if i.key.startswith("connect_rate")]
    assert labels == ["Connect rate, inbound calls", "Connect rate, outbound calls",
                      "Connect rate, all calls (inbound and outbound pooled)"]
    assert "40 calls: inbound ones connected 60.0% of the time, outbound 10.0%" in funnel.summary(items)


def test_the_hot_lead_headline_says_which_leads_it_counts():
    values = {"calls": 0.0, "connect_rate_inbound": None, "connect_rate_outbound": None, "connect_rate": None,
              "sqls": 0.0, "target_sqls": 0.0, "inbound_share": None, "hot_leads": 3.0, "reps_over_capacity": 0.0}
    labels = {count: next(h.label for h in isr.headlines(values, values, {}, count) if h.key == "hot_leads")
              for count in ("became_hot", "hot_at_end")}
    assert labels == {"became_hot": "Hot leads (became hot in the period)",
                      "hot_at_end": "Hot leads (hot at the period's end)"}
