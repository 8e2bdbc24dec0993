"""Customer success: metrics and marts on hand-made accounts, and the demo's planted drivers."""

import datetime as dt

import pandas as pd
import pytest

from conftest import TEST_END, make_db
from revbook import customer_success as cs
from revbook import metrics, periods, planted, settings
from revbook.warehouse import DuckDBWarehouse

ts = pd.Timestamp
d = dt.date


def test_auc_and_upsell_rate_by_hand():
    assert metrics.auc(pd.Series([1, 2, 3, 4]), pd.Series([False, False, True, True])) == 1.0
    # positives at risk 4 and 2, negatives at 3 and 1: 3 of the 4 pairs ordered right
    assert metrics.auc(pd.Series([4, 3, 2, 1]), pd.Series([True, False, True, False])) == 0.75
    assert metrics.auc(pd.Series([1, 1]), pd.Series([True, False])) == 0.5  # a tie counts half
    assert metrics.auc(pd.Series([1, 2]), pd.Series([True, True])) is None
    assert metrics.upsell_rate(3, 120) == 0.025


def _usage(rows: list[tuple[str, str, str, int]]) -> pd.DataFrame:
    return pd.DataFrame({"date": [ts(r[0]).date() for r in rows], "account_id": [r[1] for r in rows],
                         "event_type": [r[2] for r in rows], "count": [r[3] for r in rows]})


@pytest.fixture()
def panel_wh(tmp_path):
    subs = pd.DataFrame({
        "subscription_id": ["S1", "S2", "S3", "S4", "S5"],
        "account_id": ["A", "B", "C", "C", "E"],
        "plan": ["basic", "basic", "basic", "pro", "basic"],
        "mrr": [100.0, 50.0, 80.0, 120.0, 60.0],
        "start_date": [d(2025, 1, 1), d(2025, 1, 1), d(2025, 6, 1), d(2026, 3, 10), d(2025, 1, 1)],
        "end_date": [None, d(2026, 3, 15), d(2026, 3, 10), None, None],
    })
    usage = _usage([
        ("2026-02-09", "A", "login", 3),  # A: last login exactly 20 days before 03-01
        ("2026-02-10", "B", "login", 2),  # B: 19 days
        ("2026-02-20", "A", "error", 1), ("2026-01-20", "A", "login", 1),
        ("2026-03-05", "A", "login", 9), ("2026-03-02", "A", "error", 5),  # in the churn month: unseen
        ("2026-02-25", "C", "login", 4), ("2026-02-25", "C", "active_user", 2),
        ("2026-02-25", "C", "feature_api", 10),
    ])
    accounts = pd.DataFrame({"account_id": ["A", "B", "C", "E"], "industry": ["製造業", "小売", "金融業", "小売"]})
    tickets = pd.DataFrame({
        "ticket_id": ["T1", "T2", "T3"], "account_id": ["A", "A", "B"],
        "created_at": [ts("2026-02-01"), ts("2026-02-20"), ts("2026-03-03")],
        "priority": ["high", "low", "urgent"], "resolved_at": [None, ts("2026-02-21"), None],
    })
    path = make_db(tmp_path / "cs.duckdb", {"subscriptions": subs, "product_usage_daily": usage, "accounts": accounts,
                                            "support_tickets": tickets})
    with DuckDBWarehouse(path) as wh:
        yield wh


def test_panel_features_come_from_before_the_month_and_outcomes_from_it(panel_wh):
    company = settings.company()
    p = cs.panel(panel_wh, [d(2026, 3, 1)], company).set_index("account_id")
    assert sorted(p.index) == ["A", "B", "C", "E"]
    assert p.loc["A", "days_since_login"] == 20 and p.loc["A", "no_login"] == 1.0  # ≥ 20 days: flagged
    assert p.loc["B", "days_since_login"] == 19 and p.loc["B", "no_login"] == 0.0
    assert p.loc["E", "days_since_login"] == cs.LOGIN_LOOKBACK_DAYS + 1  # no login seen at all
    # March's 9 logins and 5 errors are in the churn window, never in the features
    assert p.loc["A", "logins_91d"] == 4 and p.loc["A", "errors_91d"] == 1
    assert p.loc["A", "error_rate"] == 0.25
    assert p.loc["A", "open_high_priority"] == 1  # T1 (high, open); T2 is low and resolved
    assert p.loc["A", "tickets"] == 2  # 02-01 is the first day of the 28-day window
    assert p.loc["B", "open_high_priority"] == 0  # T3 opens in March
    assert p.loc["C", "use:feature_api"] == 10 / 2
    assert p["churned"].to_dict() == {"A": False, "B": True, "C": False, "E": False}
    assert p["expanded"].to_dict() == {"A": False, "B": False, "C": True, "E": False}  # C: 80 → 120 on 03-10
    assert p.loc["A", "target_industry"] == 1.0 and p.loc["B", "target_industry"] == 0.0


def test_cohort_retention_by_start_month(tmp_path):
    subs = pd.DataFrame({"subscription_id": ["S1", "S2", "S3"], "account_id": ["A", "B", "C"],
                         "mrr": [100.0, 50.0, 70.0],
                         "start_date": [d(2026, 1, 5), d(2026, 1, 20), d(2026, 2, 1)],
                         "end_date": [None, d(2026, 2, 15), None]})
    with DuckDBWarehouse(make_db(tmp_path / "c.duckdb", {"subscriptions": subs})) as wh:
        f = wh.mart("cs_cohorts", months=[d(2026, 1, 1), d(2026, 2, 1)])
    f["month"] = pd.to_datetime(f["month"]).dt.month
    jan = f[pd.to_datetime(f["cohort"]) == ts("2026-01-01")].set_index("month")
    assert jan.loc[1, ["cohort_accounts", "cohort_mrr", "accounts", "mrr"]].tolist() == [2, 150.0, 2, 150.0]
    assert jan.loc[2, ["accounts", "mrr"]].tolist() == [1, 100.0]  # logo retention 1/2, revenue 100/150
    feb = f[pd.to_datetime(f["cohort"]) == ts("2026-02-01")]
    assert feb[["cohort_accounts", "accounts"]].values.tolist() == [[1, 1]]


def test_health_bands_follow_params():
    company = settings.company()
    score = pd.Series([39.9, 40.0, 69.9, 70.0])
    assert cs.band(score, company).tolist() == ["red", "yellow", "yellow", "green"]


# ---------------------------------------------------------------- planted truths (scale 1)


@pytest.fixture(scope="module")
def demo_cs(scale1_warehouse):
    months = periods.parse("month", TEST_END).trailing(18)  # the last observation's month is complete
    with DuckDBWarehouse(scale1_warehouse) as wh:
        p = cs.panel(wh, [m.start for m in months], settings.company())
    train, test = cs.holdout(p)
    drivers, table = cs.churn_drivers(train)
    return train, test, drivers, table.set_index("feature")


def test_planted_churn_drivers_are_found_and_a_non_driver_is_not(demo_cs):
    _, _, _, table = demo_cs
    for feature in ("no_login", "error_rate"):
        assert table.loc[feature, "verdict"] == "reliable", feature
        assert table.loc[feature, "odds_ratio"] > 1 and table.loc[feature, "hazard_ratio"] > 1
    assert table.loc[f"use:{planted.CHURN_NON_DRIVER}", "verdict"] == "noise"


def test_health_score_separates_churners_on_a_later_holdout(demo_cs):
    train, test, drivers, _ = demo_cs
    model = cs.HealthModel.from_drivers(drivers, train)
    score = model.score(test)
    auc, per_band = cs.separation(score, test["churned"], cs.band(score, settings.company()))
    assert auc > 0.6
    rates = per_band.set_index("band")["churn_rate"]
    assert rates["green"] < rates["yellow"]
    contributions = model.contributions(test)
    assert (70 + contributions.sum(axis=1)).clip(0, 100).equals(score)  # the score is its factors' sum


def test_the_planted_upsell_feature_precedes_expansion(demo_cs):
    train, _, _, _ = demo_cs
    table = cs.fit_logit(train, "expanded", cs.feature_columns(train)).table.set_index("feature")
    top = table["odds_ratio"].idxmax()
    assert top == f"use:{planted.UPSELL_FEATURE}"
    assert table.loc[top, "or_low"] > 1.2
