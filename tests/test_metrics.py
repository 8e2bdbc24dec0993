"""Metric definitions against hand-computed values (DESIGN.md, "Metric definitions")."""

import math

import pandas as pd
import pytest

from revbook import metrics
from revbook.metrics import Funnel


def test_funnel_160_80_40_20():
    f = Funnel(new_leads=160, meetings=80, opportunities=40, won_deals=20, won_mrr=20 * 50_000)
    assert (f.meeting_rate, f.opportunity_rate, f.win_rate) == (0.5, 0.5, 0.5)
    assert f.average_deal_size == 50_000
    assert f.new_revenue == pytest.approx(160 * 0.5 * 0.5 * 0.5 * 50_000) == 1_000_000


def test_funnel_with_an_empty_step_is_undefined_not_infinite():
    f = Funnel(new_leads=10, meetings=0, opportunities=0, won_deals=0, won_mrr=0)
    assert f.meeting_rate == 0 and f.opportunity_rate is None and f.win_rate is None
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
