"""The revenue overview recovers the demo's planted churn and net retention (scale 1)."""

import pandas as pd
import pytest

from conftest import TEST_END
from revbook import periods
from revbook.data.duckdb_engine import DuckDBWarehouse
from revbook.demo import planted
from revbook.departments import sales_ops
from revbook.metrics import mrr_bridge

CHURN_TOLERANCE = 0.003  # ±0.3 percentage points on the 12-month mean customer churn rate
NRR_TOLERANCE = 0.01     # ±1 point on the 12-month mean NRR


@pytest.fixture(scope="module")
def overview(scale1_warehouse):
    with DuckDBWarehouse(scale1_warehouse) as wh:
        return sales_ops.overview(wh, periods.parse("month", TEST_END), trend_months=12)


@pytest.mark.planted
def test_churn_level_recovered(overview):
    mean = overview.months["customer_churn_rate"].mean()
    assert mean == pytest.approx(planted.MONTHLY_CUSTOMER_CHURN, abs=CHURN_TOLERANCE)


@pytest.mark.planted
def test_net_retention_recovered_and_sometimes_negative_churn(overview):
    assert overview.months["nrr"].mean() == pytest.approx(planted.MONTHLY_NRR, abs=NRR_TOLERANCE)
    assert (overview.months["net_revenue_churn_rate"] < 0).any()
    assert (overview.months["nrr"] - (1 - overview.months["net_revenue_churn_rate"])).abs().max() < 1e-12


def test_every_month_bridges_to_its_ending_mrr(overview):
    for _, month in overview.months.iterrows():
        assert mrr_bridge(month)["amount"].iloc[:-1].sum() == pytest.approx(month["ending_mrr"])
    starts = overview.months["starting_mrr"].iloc[1:].to_numpy()
    assert starts == pytest.approx(overview.months["ending_mrr"].iloc[:-1].to_numpy())


def test_headlines_compare_with_previous_month_and_plan(overview):
    items = {h.key: h for h in overview.headlines()}
    assert items["ending_mrr"].previous == pytest.approx(overview.months["ending_mrr"].iloc[-2])
    assert all(items[k].target is not None for k in ("ending_mrr", "new_leads", "nrr", "customer_churn_rate"))
    assert pd.notna(items["average_deal_size"].value)
