"""Metric definitions against hand-computed values (DESIGN.md, "Metric definitions")."""

import math

import pandas as pd
import pytest

from revbook import metrics
from revbook.metrics import Funnel


def test_funnel_160_80_40_20():
    f = Funnel(new_leads=160, meetings=80, opportunities=40, won_deals=20, won_mrr=20 * 50_000)
    assert (f.meeting_rate, f.opportunity_rate, f.funnel_conversion) == (0.5, 0.5, 0.5)
    assert f.average_deal_size == 50_000
    assert f.new_revenue == pytest.approx(160 * 0.5 * 0.5 * 0.5 * 50_000) == 1_000_000


def test_funnel_with_an_empty_step_is_undefined_not_infinite():
    f = Funnel(new_leads=10, meetings=0, opportunities=0, won_deals=0, won_mrr=0)
    assert f.meeting_rate == 0 and f.opportunity_rate is None and f.funnel_conversion is None
    assert f.average_deal_size is None and f.new_revenue is None


def test_net_revenue_churn_negative_when_expansion_outweighs_losses():
    # start 1,000; churn 20 + contraction 10 lost; expansion 50 gained -> (30 - 50) / 1000
    assert metrics.net_revenue_churn_rate(20, 10, 50, 1000) == pytest.approx(-0.02)
    assert metrics.net_revenue_retention(20, 10, 50, 1000) == pytest.approx(1.02)
    assert metrics.gross_revenue_retention(20, 10, 1000) == pytest.approx(0.97)


def test_customer_churn_rate_and_zero_denominator():
    assert metrics.customer_churn_rate(3, 120) == pytest.approx(0.025)
    assert metrics.customer_churn_rate(0, 0) is None
    series = metrics.customer_churn_rate(pd.Series([1, 2]), pd.Series([4, 0]))
    assert series.iloc[0] == 0.25 and math.isnan(series.iloc[1])


def test_mrr_bridge_sums_to_ending_mrr():
    month = {"starting_mrr": 700, "new_mrr": 80, "expansion_mrr": 50, "contraction_mrr": 50,
             "churned_mrr": 200, "reactivation_mrr": 70, "ending_mrr": 650}
    bridge = metrics.mrr_bridge(month)
    assert list(bridge["amount"]) == [700, 80, 50, -50, -200, 70, 650]
    assert bridge["amount"].iloc[:-1].sum() == bridge["amount"].iloc[-1]


def test_mrr_bridge_refuses_a_bridge_that_does_not_sum():
    with pytest.raises(ValueError, match="ending MRR"):
        metrics.mrr_bridge({"starting_mrr": 700, "new_mrr": 80, "expansion_mrr": 0, "contraction_mrr": 0,
                            "churned_mrr": 0, "reactivation_mrr": 0, "ending_mrr": 700})


def test_marketing_metrics_hand_computed():
    # 20,000 impressions, 400 clicks, ¥120,000 cost, 20 leads of which 5 target, 2 won at ¥50,000 MRR
    assert metrics.ctr(400, 20_000) == pytest.approx(0.02)
    assert metrics.cpc(120_000, 400) == pytest.approx(300)
    assert metrics.cvr(20, 400) == pytest.approx(0.05)
    assert metrics.cpl(120_000, 20) == pytest.approx(6_000)
    assert metrics.cost_per_target_lead(120_000, 5) == pytest.approx(24_000)
    assert metrics.cac(120_000, 2) == pytest.approx(60_000)
    revenue = metrics.first_year_revenue(100_000)  # 2 deals × ¥50,000 MRR × 12
    assert revenue == 1_200_000
    assert metrics.roas(revenue, 120_000) == pytest.approx(10.0)
    assert metrics.roi(revenue, 120_000) == pytest.approx(9.0)
    assert metrics.cac_payback_months(120_000, 100_000, 0.8) == pytest.approx(1.5)
    # ARPA ¥50,000 at 80% margin, 2% monthly churn -> 50 months -> ¥2,000,000
    assert metrics.ltv(50_000, 0.8, 0.02) == pytest.approx(2_000_000)


@pytest.mark.parametrize("fn, args", [
    (metrics.ctr, (0, 0)), (metrics.cpc, (0, 0)), (metrics.cvr, (0, 0)), (metrics.cpl, (50_000, 0)),
    (metrics.cost_per_target_lead, (50_000, 0)), (metrics.roas, (0, 0)), (metrics.roi, (10, 0)),
    (metrics.cac, (1, 0)), (metrics.cac_payback_months, (1, 0, 0.8)), (metrics.ltv, (1, 0.8, 0)),
])
def test_zero_spend_clicks_or_leads_are_undefined(fn, args):
    assert fn(*args) is None
    series = fn(*(pd.Series([a, a]) if isinstance(a, int) else a for a in args))
    assert series.isna().all() and not series.isin([float("inf"), float("-inf")]).any()


def test_connect_rate_split_by_direction():
    calls = pd.DataFrame({"direction": ["inbound", "inbound", "outbound"], "calls": [10, 10, 50],
                          "connects": [6, 3, 5]})
    by = calls.groupby("direction")[["calls", "connects"]].sum()
    rates = metrics.connect_rate(by["connects"], by["calls"])
    assert rates["inbound"] == pytest.approx(9 / 20) and rates["outbound"] == pytest.approx(0.1)
    assert metrics.connect_rate(0, 0) is None


def test_call_connect_sql_chain():
    chain = metrics.CallChain(calls=200, connects=50, sqls=10)
    assert (chain.connect_rate, chain.sql_per_connect, chain.sql_per_call) == (0.25, 0.2, 0.05)
    assert metrics.CallChain(0, 0, 0).sql_per_call is None


def test_sql_capacity_by_segment_unless_the_rep_has_one():
    rules = {"smb": 60, "mid": 45, "enterprise": 30}
    assert metrics.sql_capacity(None, "smb", rules) == 60
    assert metrics.sql_capacity(float("nan"), "enterprise", rules) == 30
    assert metrics.sql_capacity(12, "enterprise", rules) == 12
    assert metrics.sql_capacity(None, None, rules) is None


def test_weighted_median():
    assert metrics.weighted_median(pd.Series([10, 20, 30]), pd.Series([1, 1, 1])) == 20
    assert metrics.weighted_median(pd.Series([10, 20]), pd.Series([1, 1])) == 15
    assert metrics.weighted_median(pd.Series([10, 20, 30]), pd.Series([5, 0, 1])) == 10
    assert metrics.weighted_median(pd.Series([10]), pd.Series([0])) is None


def test_funnel_conversion_and_win_rate_are_different_ratios():
    # 12 deals won in the month, 58 opportunities created in it, 30 deals closed (won or lost) in it
    assert metrics.funnel_conversion(12, 58) == pytest.approx(0.2069, abs=1e-4)  # won ÷ opportunities created
    assert metrics.win_rate(12, 30) == 0.4  # won ÷ closed
