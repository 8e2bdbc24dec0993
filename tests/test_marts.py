"""Mart SQL on hand-made fixtures, and every mart transpiles to BigQuery."""

import datetime as dt

import pandas as pd
import pytest
import sqlglot
from sqlglot import exp

from conftest import make_db
from revbook import metrics
from revbook.data.duckdb_engine import DuckDBWarehouse
from revbook.data.warehouse import mart_names, mart_parameters, mart_sql, transpile

D = dt.date
FEB, MAR = D(2026, 2, 1), D(2026, 3, 1)


def subscriptions() -> pd.DataFrame:
    rows = [  # subscription_id, account_id, mrr, start_date, end_date
        ("S1", "A1", 100.0, D(2025, 1, 1), None),            # steady
        ("S2", "A2", 200.0, D(2025, 6, 1), D(2026, 3, 15)),  # churns in March
        ("S3", "A3", 100.0, D(2025, 1, 1), D(2026, 3, 10)),  # expands to 150 in March
        ("S3b", "A3", 150.0, D(2026, 3, 10), None),
        ("S4", "A4", 300.0, D(2025, 1, 1), D(2026, 3, 5)),   # contracts to 250 in March
        ("S4b", "A4", 250.0, D(2026, 3, 5), None),
        ("S5", "A5", 80.0, D(2026, 3, 20), None),            # new in March
        ("S6", "A6", 60.0, D(2025, 1, 1), D(2025, 12, 1)),   # churned in December ...
        ("S6b", "A6", 70.0, D(2026, 3, 2), None),            # ... reactivates in March
        ("S7", "A7", 90.0, D(2025, 1, 1), D(2026, 2, 28)),   # ends on Feb's last day: churns in Feb
    ]
    frame = pd.DataFrame(rows, columns=["subscription_id", "account_id", "mrr", "start_date", "end_date"])
    frame["start_date"] = pd.to_datetime(frame["start_date"]).dt.date
    frame["end_date"] = pd.to_datetime(frame["end_date"]).dt.date
    return frame


@pytest.fixture()
def mrr_wh(tmp_path):
    with DuckDBWarehouse(make_db(tmp_path / "mrr.duckdb", {"subscriptions": subscriptions()})) as wh:
        yield wh


def test_mrr_movements_hand_computed(mrr_wh):
    m = mrr_wh.mart("mrr_movements", months=[FEB, MAR], subscription_end="exclusive", same_month_new_and_churn="drop",
                    reactivation_after_months=1).set_index("month")
    feb, mar = m.loc[pd.Timestamp(FEB)], m.loc[pd.Timestamp(MAR)]
    # February: A1 100 + A2 200 + A3 100 + A4 300 + A7 90 at the start; A7 churns.
    assert feb["starting_mrr"] == 790 and feb["churned_mrr"] == 90 and feb["ending_mrr"] == 700
    assert feb["customers_start"] == 5 and feb["churned_customers"] == 1
    # March: start 700; new 80 (A5); expansion 50 (A3); contraction 50 (A4); churn 200 (A2);
    # reactivation 70 (A6); end 100 + 150 + 250 + 80 + 70 = 650.
    assert mar[["starting_mrr", "new_mrr", "expansion_mrr", "contraction_mrr", "churned_mrr",
                "reactivation_mrr", "ending_mrr"]].tolist() == [700, 80, 50, 50, 200, 70, 650]
    assert mar[["customers_start", "new_customers", "churned_customers", "reactivated_customers",
                "customers_end"]].tolist() == [4, 1, 1, 1, 5]
    assert metrics.mrr_bridge(mar)["amount"].iloc[-1] == 650
    kpis = metrics.revenue_kpis(m.reset_index()).set_index("month").loc[pd.Timestamp(MAR)]
    assert kpis["customer_churn_rate"] == pytest.approx(1 / 4)
    assert kpis["net_revenue_churn_rate"] == pytest.approx((200 + 50 - 50) / 700)
    assert kpis["grr"] == pytest.approx((700 - 250) / 700)
    assert kpis["nrr"] == pytest.approx((700 - 250 + 50) / 700)


def test_funnel_monthly_hand_computed(tmp_path):
    ts = pd.Timestamp
    leads = pd.DataFrame({"lead_id": ["L1", "L2", "L3", "L4"],
                          "created_at": [ts("2026-03-01 09:00"), ts("2026-03-31 23:59"), ts("2026-03-15"),
                                         ts("2026-02-27")]})
    activities = pd.DataFrame({
        "lead_id": ["L1", "L1", "L4", "L2", None],
        "type": ["meeting", "meeting", "meeting", "call", "meeting"],
        "occurred_at": [ts("2026-03-05"), ts("2026-03-20"), ts("2026-03-02"), ts("2026-03-10"), ts("2026-03-11")],
    })  # L1 met twice (counts once); L4 (a February lead) first met in March; the lead-less meeting is not a lead's
    opportunities = pd.DataFrame({
        "opportunity_id": ["O1", "O2", "O3"],
        "created_at": [ts("2026-03-05"), ts("2026-01-10"), ts("2026-02-10")],
        "closed_at": [None, ts("2026-03-25"), ts("2026-03-26")],
        "is_won": [False, True, False],
        "amount": [300.0, 500.0, 900.0],
    })
    path = make_db(tmp_path / "f.duckdb", {"leads": leads, "activities": activities, "opportunities": opportunities})
    with DuckDBWarehouse(path) as wh:
        f = wh.mart("funnel_monthly", months=[FEB, MAR]).set_index("month")
    assert f.loc[pd.Timestamp(MAR)].tolist() == [3, 2, 1, 1, 500.0]
    assert f.loc[pd.Timestamp(FEB)].tolist() == [1, 0, 1, 0, 0.0]


def test_mart_parameters_are_checked(mrr_wh):
    with pytest.raises(Exception, match=r"missing \['months'\]"):
        mrr_wh.mart("cs_tickets")
    with pytest.raises(Exception, match=r"unexpected \['rep'\]"):
        mrr_wh.mart("cs_tickets", months=[MAR], rep="R1")


@pytest.mark.parametrize("name", mart_names())
def test_every_mart_transpiles_to_bigquery(name):
    bigquery = sqlglot.parse_one(transpile(mart_sql(name), "bigquery"), read="bigquery")
    # the $name parameters became BigQuery @name query parameters, none left unbound
    assert {p.name for p in bigquery.find_all(exp.Parameter)} == mart_parameters(mart_sql(name))
    assert not list(bigquery.find_all(exp.Placeholder))
