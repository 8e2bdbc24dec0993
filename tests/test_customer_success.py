"""Customer success: metrics and marts on hand-made accounts, and the demo's planted drivers."""

import datetime as dt

import pandas as pd
import pytest
from statsmodels.stats.proportion import confint_proportions_2indep

from conftest import TEST_END, make_db
from revbook import metrics, periods, settings
from revbook.data.duckdb_engine import DuckDBWarehouse
from revbook.demo import planted
from revbook.departments import customer_success as cs
from revbook.departments import early_alerts as ea
from revbook.pages import churn_drivers

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
        ("2026-02-08", "A", "login", 3),  # A: last login exactly 20 days before 02-28, the last day seen
        ("2026-02-09", "B", "login", 2),  # B: 19 days
        ("2026-02-20", "A", "error", 1), ("2026-01-20", "A", "login", 1),
        ("2026-03-05", "A", "login", 9), ("2026-03-02", "A", "error", 5),  # in the churn month: unseen
        ("2026-02-25", "C", "login", 4), ("2026-02-25", "C", "active_user", 2),
        ("2026-02-25", "C", "feature_api", 10),
    ])
    accounts = pd.DataFrame({"account_id": ["A", "B", "C", "E"], "name": ["甲", "乙", "丙", "戊"],
                             "industry": ["製造業", "小売", "金融業", "小売"]})
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
        f = wh.mart("cs_cohorts", months=[d(2026, 1, 1), d(2026, 2, 1)], subscription_end="exclusive")
    f["month"] = pd.to_datetime(f["month"]).dt.month
    jan = f[pd.to_datetime(f["cohort"]) == ts("2026-01-01")].set_index("month")
    assert jan.loc[1, ["cohort_accounts", "cohort_mrr", "accounts", "mrr"]].tolist() == [2, 150.0, 2, 150.0]
    assert jan.loc[2, ["accounts", "mrr"]].tolist() == [1, 100.0]  # logo retention 1/2, revenue 100/150
    feb = f[pd.to_datetime(f["cohort"]) == ts("2026-02-01")]
    assert feb[["cohort_accounts", "accounts"]].values.tolist() == [[1, 1]]


def _one_driver_health(red_below: float = 40, green_from: float = 70) -> cs.HealthModel:
    """A health score on one driver x (standardized with mean 0 and sd 1, churn log-odds 1 per sd),
    whose training months average 0."""
    train = pd.DataFrame({"x": [-1.0, 1.0]})
    drivers = cs.Drivers(pd.DataFrame(), pd.Series({"x": 1.0}), pd.Series({"x": 0.0}), pd.Series({"x": 1.0}))
    return cs.HealthModel.from_drivers(drivers, train, red_below=red_below, green_from=green_from)


def test_health_score_is_50_on_average_and_the_band_cutoffs_are_odds_multiples():
    """x in standard deviations is the log-odds against the average account: x = ln 2 (twice its churn
    odds) scores exactly red_below, x = ln 0.75 exactly green_from; far out, the score nears 0 or 100
    without reaching it."""
    import numpy as np

    h = _one_driver_health()
    x = pd.DataFrame({"x": [0.0, np.log(cs.RED_ODDS), np.log(cs.GREEN_ODDS), 3.0, -3.0]})
    score = h.score(x)
    assert score.iloc[:3].tolist() == pytest.approx([50.0, 40.0, 70.0])
    assert 0 < score.iloc[3] < 15 and 99 < score.iloc[4] < 100  # capped at Z_CAP = 3 sd, still not 0 or 100
    assert (50 + h.contributions(x).sum(axis=1)).tolist() == pytest.approx(score.tolist())
    points = h.points_per_sd().set_index("feature")
    assert points.loc["x", "odds_ratio"] == pytest.approx(np.e)
    assert points.loc["x", "points"] == pytest.approx(h.score(pd.DataFrame({"x": [1.0]})).iloc[0] - 50)
    assert _one_driver_health(30, 80).score(x).iloc[1] == pytest.approx(30.0)  # cut-offs follow params
    with pytest.raises(ValueError, match="must be below 50"):
        _one_driver_health(55, 70)


def test_health_bands_follow_params():
    company = settings.company()
    score = pd.Series([39.9, 40.0, 69.9, 70.0])
    assert cs.band(score, company).tolist() == ["red", "yellow", "yellow", "green"]


# ---------------------------------------------------------------- planted truths (scale 1)


@pytest.fixture(scope="module")
def demo_cs(scale3_warehouse):
    with DuckDBWarehouse(scale3_warehouse) as wh:
        return cs.fit(wh, periods.parse("month", TEST_END), settings.company())


@pytest.mark.planted
def test_planted_churn_drivers_are_found_and_a_non_driver_is_not(demo_cs):
    assert demo_cs.train["month"].nunique() == cs.MODEL_MONTHS - cs.HOLDOUT_MONTHS
    table = demo_cs.table.set_index("feature")
    for feature in ("no_login", "error_rate"):  # both models' familywise intervals above 1
        assert table.loc[feature, "verdict"] == "reliable", feature
        assert table.loc[feature, "odds_ratio"] > 1.2 and table.loc[feature, "hazard_ratio"] > 1.2
    null = table.loc[f"use:{planted.CHURN_NON_DRIVER}"]
    assert null["verdict"] != "reliable"
    # no effect to speak of: within ±22% per standard deviation, 4 standard errors at this size
    assert 1 / 1.22 < null["odds_ratio"] < 1.22 and 1 / 1.22 < null["hazard_ratio"] < 1.22


@pytest.mark.planted
def test_health_score_separates_churners_on_a_later_holdout(demo_cs):
    company = settings.company()
    auc, per_band = demo_cs.holdout_separation(company)
    churns = int(demo_cs.test["churned"].sum())
    low, _ = metrics.auc_interval(auc, churns, len(demo_cs.test) - churns)
    assert auc > 0.6 and low > 0.5  # clearly better than a coin, even at its 95% interval's low end
    bands = per_band.set_index("band")
    # red churns more than the other bands and green less: each risk ratio's 95% interval clears 1
    for band in ("red", "green"):
        rest = bands.drop(index=band).sum()
        low, high = confint_proportions_2indep(bands.loc[band, "churned"], bands.loc[band, "accounts"],
                                               rest["churned"], rest["accounts"], compare="ratio")
        assert (low > 1) if band == "red" else (high < 1), (band, low, high)
    model = demo_cs.health
    score = model.score(demo_cs.test)
    contributions = model.contributions(demo_cs.test)
    assert (cs.BASE_SCORE + contributions.sum(axis=1)).to_numpy() == pytest.approx(score.to_numpy())  # factors' sum
    # calibrated: the scores spread over the scale and the riskiest accounts do not pile up at a floor
    assert score.between(0, 100).all() and score.quantile(0.01) < 30 and score.quantile(0.99) > 85
    assert score.nsmallest(10).nunique() == 10 and score.min() > 0
    worst = contributions.idxmin(axis=1)
    reasons = model.reasons(demo_cs.test)
    for i in reasons.index[:50]:  # each account's reasons start with the driver that cost it most
        assert reasons[i] == "none" or reasons[i].startswith(f"{cs.label(worst[i])} −")
        assert reasons[i].count(";") <= 2


@pytest.mark.planted
def test_the_planted_upsell_feature_precedes_expansion(demo_cs):
    up = cs.upsell(demo_cs)
    assert up.feature == f"use:{planted.UPSELL_FEATURE}"
    top = up.table.set_index("feature").loc[up.feature]
    assert top["or_low"] > 1.2
    rates = up.by_fifth.set_index("fifth")["upsell_rate"]
    others = up.by_fifth.iloc[:4]
    lift = rates[5] / (others["expanded"].sum() / others["accounts"].sum())
    assert 2.0 < lift < 4.5  # planted: heavy users upgrade at 3x the rate


# ---------------------------------------------------------------- retention metrics by hand


def test_auc_interval_and_onboarding_window_by_hand():
    # Hanley-McNeil for AUC 0.75 with 2 positives and 2 negatives: Q1 = 0.6, Q2 = 1.125 / 1.75
    var = (0.75 * 0.25 + (0.6 - 0.5625) + (1.125 / 1.75 - 0.5625)) / 4
    low, high = metrics.auc_interval(0.75, 2, 2)
    assert low == pytest.approx(0.75 - 1.96 * var**0.5) and high == 1.0  # clipped at 1
    # March's onboarding judges customers whose first 30 days end in March: first start 01-31 .. 03-02
    assert metrics.onboarding_cohort(d(2026, 3, 1), d(2026, 4, 1)) == (d(2026, 1, 31), d(2026, 3, 3))
    assert metrics.onboarding_completion_rate(1, 2) == 0.5 and metrics.cohort_retention(1, 2) == 0.5


@pytest.fixture()
def retention_wh(tmp_path):
    """March 2026 by hand. At the start (MRR on 02-28): A 100, B 50, C 80, D 200, F 10, H 10 (6
    customers, ¥450). In March B churns (−50), C upgrades 80 → 120 (+40), D downgrades 200 → 150
    (−50), E (60) and G (10) are new. F started 01-31 and G 03-02: their first 30 days end in March
    (F logged in on 10 days, G on 9); H's ended in February, E's end in April."""
    subs = pd.DataFrame({
        "subscription_id": [f"S{i}" for i in range(1, 11)],
        "account_id": ["A", "B", "C", "C", "D", "D", "E", "F", "G", "H"],
        "plan": ["basic"] * 10,
        "mrr": [100.0, 50.0, 80.0, 120.0, 200.0, 150.0, 60.0, 10.0, 10.0, 10.0],
        "start_date": [d(2025, 1, 1), d(2025, 1, 1), d(2025, 1, 1), d(2026, 3, 10), d(2025, 1, 1), d(2026, 3, 20),
                       d(2026, 3, 5), d(2026, 1, 31), d(2026, 3, 2), d(2026, 1, 30)],
        "end_date": [None, d(2026, 3, 15), d(2026, 3, 10), None, d(2026, 3, 20), None, None, None, None, None],
    })
    f_days = [d(2026, 1, 31) + dt.timedelta(days=3 * i) for i in range(10)]  # 01-31 .. 02-27
    g_days = [d(2026, 3, 2) + dt.timedelta(days=i) for i in range(9)] + [d(2026, 4, 1)]  # 04-01 is day 31
    usage = _usage([(str(x), "F", "login", 1) for x in f_days] + [(str(x), "G", "login", 2) for x in g_days])
    with DuckDBWarehouse(make_db(tmp_path / "r.duckdb", {"subscriptions": subs, "product_usage_daily": usage})) as wh:
        yield wh


def test_customer_success_headline_numbers_by_hand(retention_wh):
    values = cs.month_values(retention_wh, periods.parse("month", "2026-03"), settings.company())
    assert values["customer_churn_rate"] == pytest.approx(1 / 6)
    assert values["net_revenue_churn_rate"] == pytest.approx((50 + 50 - 40) / 450)
    assert values["grr"] == pytest.approx((450 - 50 - 50) / 450)
    assert values["nrr"] == pytest.approx((450 - 50 - 50 + 40) / 450)
    assert values["upsell_rate"] == pytest.approx(1 / 6)
    assert values["onboarding_completion_rate"] == 0.5  # F: 10 login days (complete), G: 9 in its 30
    # LTV = ARPA (March's ending MRR ÷ customers) × 0.8 ÷ mean monthly churn over 12 months (only March churns)
    assert values["ltv"] == pytest.approx(460 / 7 * 0.8 / ((1 / 6) / 12))


def test_cohort_retention_table(retention_wh):
    f = cs.cohorts(retention_wh, periods.parse("month", "2026-03"), 3).set_index(["cohort", "age"])
    assert f.loc[("2026-01", 0), ["logo_retention", "revenue_retention"]].tolist() == [1.0, 1.0]  # F and H
    march = f.loc[("2026-03", 0)]
    assert (march["cohort_accounts"], march["cohort_mrr"]) == (2, 70.0)  # E and G
    assert set(f.index.get_level_values("cohort")) == {"2026-01", "2026-03"}  # 2025 cohorts start before the window


# ---------------------------------------------------------------- alert rules


def _now_frame() -> pd.DataFrame:
    """A scored panel as of 2026-03-31 (observation date 04-01), one account per boundary case."""
    rows = {  # account: last login, logins 7d, logins in the 4 weeks before, oldest open high-priority, score
        "N20": ("2026-03-11", 0, 40, None, 55.0),  # 20 days without login: alert (and no usage-drop duplicate)
        "N19": ("2026-03-12", 0, 0, None, 55.0),  # 19 days: none
        "D40": ("2026-03-31", 15, 100, None, 55.0),  # 15 vs 25 a week: exactly −40%, alert
        "D36": ("2026-03-31", 16, 100, None, 55.0),  # −36%: none
        "T15": ("2026-03-31", 10, 40, "2026-03-16 23:00", 55.0),  # open 15 days: alert
        "T14": ("2026-03-31", 10, 40, "2026-03-17 09:00", 55.0),  # open 14 days: none
        "RED": ("2026-03-31", 10, 40, None, 39.9),  # red band
        "FAN": ("2026-03-31", 10, 40, None, 90.0),  # healthy heavy user, never expanded
        "FEX": ("2026-03-31", 10, 40, None, 90.0),  # the same, but upgraded before
        "F84": ("2026-03-31", 10, 40, None, 84.9),  # heavy user below the feature_intro score
    }
    p = pd.DataFrame([
        {"account_id": k, "account_name": f"{k} 株式会社", "owner_rep_id": "CS1", "owner_name": "Rep", "plan": "basic",
         "month": ts("2026-04-01"), "last_login": ts(v[0]), "logins_7d": v[1], "logins_prior_4w": v[2],
         "logins_28d": v[1], "logins_prior_28d": v[2], "logins_91d": 100, "errors_91d": 1,
         "active_user_days_28d": 20, "events:feature_api": 200 if k.startswith("F") else 10,
         "oldest_open_high_priority_at": ts(v[3]) if v[3] else pd.NaT, "open_high_priority": 1 if v[3] else 0,
         "tickets_28d": 0, "mrr": 1000.0, "tenure_months": 12, "target_industry": False, "score": v[4]}
        for k, v in rows.items()])
    company = settings.company()
    p = cs.features(p, company)
    p["band"] = cs.band(p["score"], company)
    p["reasons"] = "Tenure −20"
    return p


def test_alert_rules_fire_at_their_boundaries():
    up = cs.Upsell(pd.DataFrame(), "use:feature_api", pd.DataFrame(), threshold=5.0)
    alerts = ea.alerts(_now_frame(), d(2026, 3, 31), settings.company(), up, {"FEX"})
    fired = alerts.groupby("account_id")["rule"].apply(list).to_dict()
    assert fired == {"N20": ["No login"], "D40": ["Usage drop"], "T15": ["High-priority ticket open"],
                     "RED": ["Red health score"], "FAN": ["Healthy heavy user"]}
    row = alerts.set_index("account_id").loc["N20"]
    assert row["evidence"] == "last login 2026-03-11, 20 days before 2026-03-31"
    assert row["play"].startswith("Adoption call")
    assert alerts.set_index("account_id").loc["FAN", "play"].startswith("New feature introduction")
    assert "15 days" in alerts.set_index("account_id").loc["T15", "evidence"]
    assert list(alerts.columns) == ea.ALERT_COLUMNS


def _alert(account: str, rule: str, mrr: float, owner: str = "Rep") -> dict:
    return {"account_id": account, "account_name": f"{account} 株式会社", "owner_rep_id": "CS1", "owner_name": owner,
            "mrr": mrr, "score": 30.0, "band": "red", "rule": rule, "evidence": f"{rule} on {account}", "play": "p"}


def test_alerted_accounts_are_one_row_each_ranked_by_mrr_at_risk_and_marked_new_or_continuing():
    today = pd.DataFrame([_alert("A", "No login", 100.0), _alert("A", "Red health score", 100.0),
                          _alert("B", "Healthy heavy user", 900.0), _alert("C", "Usage drop", 300.0),
                          _alert("D", "High-priority ticket open", 100.0)])
    yesterday = pd.DataFrame([_alert("C", "Usage drop", 300.0), _alert("D", "No login", 100.0),
                              _alert("Z", "No login", 50.0)])
    out = ea.alert_accounts(today, yesterday)
    assert list(out.columns) == ea.ACCOUNT_ALERT_COLUMNS
    # C (300 at risk) first; A and D tie at 100, then by id; B is an opening only: nothing at risk, last
    assert out["account_id"].tolist() == ["C", "A", "D", "B"]
    assert out["mrr_at_risk"].tolist() == [300.0, 100.0, 100.0, 0.0]
    a = out.set_index("account_id").loc["A"]
    assert a["rules"] == "No login; Red health score" and a["evidence"] == "No login on A · Red health score on A"
    # D had another rule yesterday: it is still the same account's alert, continuing
    assert out.set_index("account_id")["status"].to_dict() == {"C": "continuing", "A": "new", "D": "continuing",
                                                               "B": "new"}
    assert ea.alert_accounts(today.iloc[0:0], yesterday).empty


def test_alerts_by_rule_lists_every_rule_once_with_its_play():
    today = pd.DataFrame([_alert("A", "No login", 100.0), _alert("A", "Red health score", 100.0),
                          _alert("C", "No login", 300.0)])
    by = ea.alerts_by_rule(today).set_index("rule")
    assert list(by.index) == [name for name, _ in ea.RULES.values()]
    assert by.loc["No login", ["accounts", "mrr"]].tolist() == [2, 400.0]
    assert by.loc["Usage drop", "accounts"] == 0
    assert by.loc["Red health score", "play"] == ea.RULES["red_health"][1]


def test_no_alerts_without_a_score_is_an_empty_table_not_an_error():
    quiet = _now_frame().drop(columns=["score", "band", "reasons"])
    quiet = quiet[quiet["account_id"].isin(["N19", "D36", "T14"])]
    alerts = ea.alerts(quiet, d(2026, 3, 31), settings.company())
    assert alerts.empty and list(alerts.columns) == ea.ALERT_COLUMNS


@pytest.mark.planted
def test_a_large_customer_base_is_modelled_on_a_fixed_sample_of_accounts(scale3_warehouse, monkeypatch):
    """A cap of 20,000 account-months samples about 30% of the scale-3 company's accounts, whose
    churns (about 150) still show the planted no-login driver clearly."""
    period, company = periods.parse("month", TEST_END), settings.company()
    with DuckDBWarehouse(scale3_warehouse) as wh:
        at = cs.observation_months(wh, period)
        full, share = cs.model_panel(wh, at, company)
        assert share == 1.0
        monkeypatch.setattr(cs, "MODEL_MAX_ROWS", 20_000)
        sample, share = cs.model_panel(wh, at, company)
        model = cs.fit(wh, period, company)
    paying = int(full[full["month"] == full["month"].max()].shape[0])
    assert share == pytest.approx(20_000 / (paying * len(at)))
    # the same accounts in every month: exactly the full panel's rows of the accounts sampled
    picked = set(sample["account_id"])
    expected = full[full["account_id"].isin(picked)].sort_values(["month", "account_id"]).reset_index(drop=True)
    got = sample.sort_values(["month", "account_id"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got[expected.columns], expected, check_dtype=False)
    assert 0.7 * share * len(full) < len(sample) < 1.3 * share * len(full)
    assert model.share == share and "fixed sample of" in churn_drivers.sample_note(model)
    assert model.table.set_index("feature").loc["no_login", "odds_ratio"] > 1


def test_retention_by_plan_and_account_attributes_hand_computed(tmp_path):
    """February 2026: A1 (Basic, ¥100) churns; A2 (Pro, ¥200) adds a ¥50 Basic subscription. A2's plan
    is the one it paid most for at the month start, Pro; A2 has no industry, so only A1 counts there."""
    subscriptions = pd.DataFrame({
        "subscription_id": ["S1", "S2", "S3"], "account_id": ["A1", "A2", "A2"], "plan": ["Basic", "Pro", "Basic"],
        "mrr": [100.0, 200.0, 50.0], "start_date": [d(2026, 1, 1), d(2026, 1, 1), d(2026, 2, 1)],
        "end_date": [d(2026, 2, 15), None, None]})
    accounts = pd.DataFrame({"account_id": ["A1", "A2"], "industry": ["IT", None], "region": [None, None],
                             "created_at": pd.to_datetime(["2025-12-01", "2025-12-01"])})
    with DuckDBWarehouse(make_db(tmp_path / "w.duckdb", {"subscriptions": subscriptions, "accounts": accounts})) as wh:
        by = cs.retention_by(wh, periods.parse("month", "2026-02"), months=1).set_index(["dimension", "value"])
    assert by.loc[("plan", "Basic"), ["customers_start", "churned_customers"]].tolist() == [1, 1]
    assert by.loc[("plan", "Basic"), ["customer_churn_rate", "grr", "nrr"]].tolist() == [1.0, 0.0, 0.0]
    assert by.loc[("plan", "Pro"), ["customer_churn_rate", "grr", "nrr"]].tolist() == [0.0, 1.0, 1.25]
    assert by.loc[("industry", "IT"), "customer_churn_rate"] == 1.0
    assert ("industry", None) not in by.index and "region" not in by.index.get_level_values(0)
    plans = cs.retention_table(by.reset_index(), "plan")  # the value under its dimension's name
    assert list(plans.columns) == ["plan", "customers_start", "churned_customers", "customer_churn_rate", "grr", "nrr"]
    assert set(plans["plan"]) == {"Basic", "Pro"} and cs.retention_table(by.reset_index(), "region").empty


def test_cohort_matrix_tickets_by_month_and_band_frames_by_hand():
    cohorts = pd.DataFrame({"cohort": ["2026-01", "2026-01", "2026-02"], "age": [0, 1, 0],
                            "logo_retention": [1.0, 0.5, 1.0]})
    m = cs.cohort_matrix(cohorts, "logo_retention")
    assert m.loc["2026-01"].tolist() == [1.0, 0.5] and m.loc["2026-02", 0] == 1.0 and pd.isna(m.loc["2026-02", 1])
    tickets = pd.DataFrame({"month": ["2026-01", "2026-01", "2026-02", "2026-02"],
                            "category": ["bug", "billing", "bug", "bug"], "priority": ["low", "low", "high", "low"],
                            "tickets": [2, 1, 3, 4]})
    wide = cs.tickets_by_month(tickets)
    assert wide.to_dict("list") == {"month": ["2026-01", "2026-02"], "billing": [1, 0], "bug": [2, 7]}
    now = pd.DataFrame({"account_id": ["A", "B", "C"], "band": ["red", "red", "green"], "mrr": [10.0, 20.0, 5.0],
                        "tickets": [1.0, 0.0, 0.0], "open_high_priority": [1.0, 1.0, 0.0]})
    bands = cs.band_summary(now)
    assert bands.to_dict("list") == {"band": ["red", "yellow", "green"], "accounts": [2, 0, 1], "mrr": [30.0, 0.0, 5.0]}
    load = cs.support_by_band(now).set_index("band")
    assert load.loc["red", ["tickets_per_100", "open_high_priority_per_100"]].tolist() == [50.0, 100.0]
    assert pd.isna(load.loc["yellow", "tickets_per_100"])  # no yellow accounts: unknown, not 0


def test_the_ltv_basis_names_its_arpa_margin_and_averaged_churn():
    from revbook.departments.sales_ops import Economics

    # ARPA ¥100,000 × 80% ÷ 1% a month (the mean of 12 months) = ¥8,000,000; this month's churn 0.8% beside it
    econ = Economics(0.8, 0.01, 100_000.0, 12)
    yen = settings.company().currency_symbol
    assert econ.ltv == pytest.approx(8_000_000)
    assert churn_drivers.ltv_basis(econ, 0.008).replace("\\", "") == (
        f"LTV {yen}8,000,000 = ARPA at the month end {yen}100,000 × gross margin 80.0% ÷ customer churn 1.0% a month, "
        "the average of the last 12 months' churn rates (this month's alone: 0.8%).")
