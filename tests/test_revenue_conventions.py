"""The revenue conventions of params/company.yaml (subscription_end, same_month_new_and_churn,
reactivation_after_months) on hand-made subscriptions, each setting changing the numbers as documented;
trailing-12-month GRR/NRR by hand; and the worked examples ChartMogul and Stripe publish, reproduced
under the settings that match each vendor."""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import pytest

from conftest import make_db
from revbook import metrics, settings
from revbook.data.duckdb_engine import DuckDBWarehouse
from revbook.data.warehouse import mart_names, mart_sql, mart_tables
from revbook.departments import sales_ops
from revbook.settings import Company

D = dt.date
JAN, FEB, MAR = D(2026, 1, 1), D(2026, 2, 1), D(2026, 3, 1)


def company(**conventions: object) -> Company:
    """The demo's settings with some conventions changed (validated like company.yaml)."""
    return Company.model_validate({**settings.company().model_dump(), **conventions})


def subscriptions(rows: list[tuple]) -> pd.DataFrame:
    """(account_id, mrr, start_date, end_date) rows as a subscriptions table."""
    frame = pd.DataFrame(rows, columns=["account_id", "mrr", "start_date", "end_date"])
    frame.insert(0, "subscription_id", [f"S{i}" for i in range(len(frame))])
    frame.insert(2, "plan", "standard")
    frame["end_date"] = pd.to_datetime(frame["end_date"]).dt.date
    return frame


@pytest.fixture()
def lake(tmp_path):
    """A warehouse of the given subscription rows (a fresh file per call)."""
    made = []

    def build(rows: list[tuple]) -> DuckDBWarehouse:
        wh = DuckDBWarehouse(make_db(tmp_path / f"s{len(made)}.duckdb", {"subscriptions": subscriptions(rows)}))
        made.append(wh)
        return wh

    yield build
    for wh in made:
        wh.close()


def moves(wh: DuckDBWarehouse, months: list[dt.date], **conventions: object) -> pd.DataFrame:
    return sales_ops.movements(wh, months, company(**conventions)).set_index("month")


def month(frame: pd.DataFrame, when: dt.date) -> pd.Series:
    return frame.loc[pd.Timestamp(when)]


BRIDGE = ["starting_mrr", "new_mrr", "expansion_mrr", "contraction_mrr", "churned_mrr", "reactivation_mrr",
          "ending_mrr"]


# ---------------------------------------------------------------- subscription_end


def test_subscription_end_exclusive_or_inclusive_moves_a_month_end_churn(lake):
    # A's end_date is February's last day. Exclusive (the first day not paid): paid to Feb 27, so no MRR at
    # the February month end: A churns in February. Inclusive (the last day paid): paid on Feb 28, churns
    # in March. B pays 200 throughout.
    wh = lake([("A", 100.0, D(2025, 6, 1), D(2026, 2, 28)), ("B", 200.0, D(2025, 6, 1), None)])
    ex, inc = moves(wh, [FEB, MAR], subscription_end="exclusive"), moves(wh, [FEB, MAR], subscription_end="inclusive")
    # exclusive: Feb 300 → 200 (churn 100), Mar 200 → 200
    assert month(ex, FEB)[BRIDGE].tolist() == [300, 0, 0, 0, 100, 0, 200]
    assert month(ex, MAR)[BRIDGE].tolist() == [200, 0, 0, 0, 0, 0, 200]
    # inclusive: Feb 300 → 300, Mar 300 → 200 (churn 100): 1 of 2 customers, 100 ÷ 300 of the MRR
    assert month(inc, FEB)[BRIDGE].tolist() == [300, 0, 0, 0, 0, 0, 300]
    assert month(inc, MAR)[BRIDGE].tolist() == [300, 0, 0, 0, 100, 0, 200]
    assert month(inc, MAR)["customer_churn_rate"] == 0.5 and month(ex, MAR)["customer_churn_rate"] == 0.0
    # the customer-success marts read the same convention: accounts paying on Feb 28 (the day before Mar 1)
    for end, paying in (("exclusive", 1), ("inclusive", 2)):
        assert wh.mart("cs_paying", at=MAR, subscription_end=end)["accounts"].iloc[0] == paying
        cohort = wh.mart("cs_cohorts", months=[D(2025, 6, 1), FEB], subscription_end=end)  # the June 2025 cohort
        assert cohort.loc[pd.to_datetime(cohort["month"]) == pd.Timestamp(FEB), "accounts"].tolist() == [paying]


def test_every_mart_reading_subscriptions_reads_them_through_the_one_paid_definition():
    """subscription_end is defined once: every mart that reads subscriptions.end_date does so only in the
    same `paid` CTE, and uses `stop` from it."""
    paid = ("paid AS (\n    SELECT *, CAST(CASE WHEN $subscription_end = 'inclusive' THEN CAST(end_date AS DATE) "
            "+ INTERVAL 1 DAY\n                      ELSE end_date END AS DATE) AS stop\n    FROM subscriptions\n)")
    bodies = {name: re.sub(r"--[^\n]*", "", mart_sql(name)) for name in mart_names()}
    readers = {name for name, body in bodies.items() if "subscriptions" in mart_tables(name) and "end_date" in body}
    assert readers == {"mrr_movements", "cs_cohorts", "cs_panel", "cs_paying", "cs_retention_by"}
    for name in readers:
        assert paid in bodies[name], name
        assert bodies[name].count("end_date") == 2 and bodies[name].count("subscriptions") == 1, name


# ---------------------------------------------------------------- same_month_new_and_churn


def test_an_account_that_starts_and_ends_within_the_month_is_dropped_or_counted_both_ways(lake):
    # B pays 200 throughout. C pays 50 from Mar 5 to Mar 20; D pays 30 from Mar 10, then 40 from Mar 15 to
    # Mar 25: neither is paid at a month end. drop: March is 200 → 200 with no movement. count_both: new
    # MRR 50 + 30 (each at its MRR on its first paid day: D's 30 on Mar 10) and the same churned, so the
    # bridge still balances: 200 + 80 − 80 = 200.
    wh = lake([("B", 200.0, D(2025, 6, 1), None), ("C", 50.0, D(2026, 3, 5), D(2026, 3, 20)),
               ("D", 30.0, D(2026, 3, 10), D(2026, 3, 15)), ("D", 40.0, D(2026, 3, 15), D(2026, 3, 25))])
    drop, both = (month(moves(wh, [MAR], same_month_new_and_churn=v), MAR) for v in ("drop", "count_both"))
    assert drop[BRIDGE].tolist() == [200, 0, 0, 0, 0, 0, 200] and drop["brief_customers"] == 0
    assert both[BRIDGE].tolist() == [200, 80, 0, 0, 80, 0, 200]
    assert metrics.mrr_bridge(both)["amount"].iloc[-1] == 200
    # customers: two in and out within the month, apart from the month-end counts, so the customer churn
    # rate stays churned ÷ customers at the start (0 of 1) under both
    assert both[["brief_customers", "new_customers", "churned_customers", "customers_end"]].tolist() == [2, 0, 0, 1]
    assert both["customer_churn_rate"] == drop["customer_churn_rate"] == 0.0
    # the net revenue churn sees the 80 churned: (80 + 0 − 0) ÷ 200
    assert both["net_revenue_churn_rate"] == pytest.approx(0.4) and drop["net_revenue_churn_rate"] == 0.0


# ---------------------------------------------------------------- reactivation_after_months


RETURNS = [
    ("B", 200.0, D(2025, 6, 1), None),
    ("E", 10.0, D(2026, 1, 1), D(2026, 2, 10)),  # MRR at Jan 31; none at Feb 28 (1 month end) ...
    ("E", 11.0, D(2026, 3, 5), None),  # ... back in March
    ("F", 20.0, D(2025, 10, 1), D(2025, 11, 15)),  # MRR at Oct 31; none at Nov 30 … Feb 28 (4 month ends) ...
    ("F", 22.0, D(2026, 3, 10), None),  # ... back in March
    ("G", 30.0, D(2026, 1, 5), D(2026, 1, 20)),  # paid in January but at no month end ...
    ("G", 33.0, D(2026, 3, 3), None),  # ... first MRR at a month end in March
]


@pytest.mark.parametrize(("after", "new", "reactivated"), [
    (1, 33.0, 11.0 + 22.0),  # E (gap 1) and F (gap 4) reactivate; G never had month-end MRR: new
    (2, 11.0 + 33.0, 22.0),  # E's 1-month gap is too short: new
    (4, 11.0 + 33.0, 22.0),  # F's 4 month ends without MRR are enough
    (5, 11.0 + 22.0 + 33.0, 0.0),  # nobody was away 5 month ends
])
def test_a_return_is_reactivation_only_after_earlier_month_end_mrr_and_the_gap(lake, after, new, reactivated):
    wh = lake(RETURNS)
    mar = month(moves(wh, [MAR], reactivation_after_months=after), MAR)
    assert (mar["new_mrr"], mar["reactivation_mrr"]) == (new, reactivated)
    assert mar["new_customers"] + mar["reactivated_customers"] == 3
    assert mar["reactivated_customers"] == {1: 2, 2: 1, 4: 1, 5: 0}[after]
    assert mar["ending_mrr"] == 200 + 11 + 22 + 33


def test_an_account_never_paid_at_a_month_end_returns_as_new_not_reactivated(lake):
    # G's first subscription started before the previous month end but never crossed a month end: the
    # mart used to call its March return a reactivation (first start before February's end); it is new.
    wh = lake(RETURNS)
    mar = month(moves(wh, [MAR]), MAR)
    assert mar["new_mrr"] == 33.0 and mar["new_customers"] == 1


# ---------------------------------------------------------------- trailing 12 months


def test_trailing_12_month_grr_and_nrr_follow_the_customers_of_12_months_before(lake):
    # The cohort at the month end 12 months before March 2026 (2025-03-31): H 100, I 200, J 300 = 600.
    # By 2026-03-31: H grew to 150 (counted 100 in GRR, capped at its MRR then), I left, J shrank to 240;
    # K, new in June 2025, is outside the cohort.
    # GRR (t12m) = (100 + 0 + 240) ÷ 600 = 56.7%; NRR (t12m) = (150 + 0 + 240) ÷ 600 = 65%.
    wh = lake([("H", 100.0, D(2025, 1, 1), D(2025, 10, 1)), ("H", 150.0, D(2025, 10, 1), None),
               ("I", 200.0, D(2025, 1, 1), D(2025, 8, 1)),
               ("J", 300.0, D(2025, 1, 1), D(2026, 1, 1)), ("J", 240.0, D(2026, 1, 1), None),
               ("K", 500.0, D(2025, 6, 1), None)])
    mar = month(moves(wh, [MAR]), MAR)
    assert mar[["t12m_base_mrr", "t12m_kept_mrr", "t12m_retained_mrr"]].tolist() == [600, 340, 390]
    assert mar["grr_t12m"] == pytest.approx(340 / 600) and mar["nrr_t12m"] == pytest.approx(390 / 600)
    # the month's own rates are another thing: March has no movement, so monthly GRR and NRR are 100%
    assert (mar["grr"], mar["nrr"]) == (1.0, 1.0)
    # no customers 12 month ends before: unknown, not 0
    early = month(moves(wh, [D(2025, 6, 1)]), D(2025, 6, 1))
    assert early["t12m_base_mrr"] == 0 and pd.isna(early["grr_t12m"]) and pd.isna(early["nrr_t12m"])


# ---------------------------------------------------------------- vendor parity: ChartMogul


def test_chartmogul_mrr_movements_worked_example(lake):
    """ChartMogul, "MRR movements" (https://help.chartmogul.com/hc/en-us/articles/201244842), plans Silver
    $30 / Gold $50 a month ($300 / $500 a year):

    "Syncalytics subscribes to four Gold yearly plans. You bill them $2,000. ChartMogul classifies the MRR
    as New Business with a value of $166.67 ($2,000 / 12). A few days later, Syncalytics adds two Silver
    monthly plans. You bill them $60. ChartMogul calculates the MRR as $60 and — because this is an
    additional subscription for an existing customer — classifies it as Expansion (and not New Business).
    Two weeks later, Syncalytics realizes they don't need the Silver plan and cancels their subscription
    mid-cycle [...]. Since they have another active subscription, ChartMogul classifies the $60 in MRR as
    Contraction (rather than Churn). As Syncalytics approaches the end of the first year of their yearly
    Gold subscription, they decide to reduce spending by canceling their subscription. As this was their
    last active subscription, ChartMogul classifies the cancellation as Churn and reports the churn at the
    end of the current billing period [...]. Great news, Syncalytics re-subscribes! This time, they choose
    three Gold monthly plans. As a former paying subscriber, ChartMogul classifies the [...]" (the stored
    copy stops there; its definitions page, https://help.chartmogul.com/hc/en-us/articles/203299912:
    "Reactivation MRR: When a previously paying customer that had churned moves back onto a paid plan.")

    revbook cuts MRR at month ends, so steps within one month net out; the dates put each step in its own
    month ("a few days later" becomes seven weeks): Gold from 2025-01-03, Silver from Feb 20 to Mar 6 (two
    weeks), Gold paid to the end of its year (end_date 2026-01-03, exclusive: the
    first day no longer paid, ChartMogul's "end of the current billing period"), three Gold monthly from
    2026-03-01. ChartMogul's "previously paying customer that had churned", any gap: reactivation_after_months 1.
    """
    gold_year = 2000 / 12
    wh = lake([("SYN", gold_year, D(2025, 1, 3), D(2026, 1, 3)), ("SYN", 60.0, D(2025, 2, 20), D(2025, 3, 6)),
               ("SYN", 150.0, D(2026, 3, 1), None)])
    m = moves(wh, [D(2025, 1, 1), D(2025, 2, 1), D(2025, 3, 1), JAN, MAR], subscription_end="exclusive",
              reactivation_after_months=1)
    assert month(m, D(2025, 1, 1))["new_mrr"] == pytest.approx(166.67, abs=0.005)  # New Business $166.67
    assert month(m, D(2025, 2, 1))["expansion_mrr"] == 60  # Expansion $60
    assert month(m, D(2025, 3, 1))["contraction_mrr"] == 60  # Contraction $60
    assert month(m, JAN)["churned_mrr"] == pytest.approx(gold_year)  # Churn at the end of the year paid for
    assert month(m, MAR)["reactivation_mrr"] == 150 and month(m, MAR)["new_mrr"] == 0  # 3 × Gold $50


def test_chartmogul_customer_churn_rate_worked_example(lake):
    """ChartMogul, "Churn rate formulas", Standard (B2B) formula
    (https://help.chartmogul.com/hc/en-us/articles/207340419-Churn-rate-formulas):

    "The number of customers who churned in the period (excluding any customers who both joined & churned
    in the period or churned & reactivated in a period) / Total number of customers at the start of the
    period. Example: If you had 100 customers at the beginning of the month, and during the month 12
    customers churned, one of whom reactivated, and one of whom joined during the period, your customer
    churn rate [...]" (the stored copy stops there; the formula gives (12 − 1 − 1) ÷ 100 = 10%).

    revbook's month-end snapshots give the same under either same_month_new_and_churn: the churned and
    reactivated customer pays at both month ends, and the joined and churned one is in neither."""
    rows = [(f"C{i:03}", 10.0, D(2025, 6, 1), D(2026, 3, 15) if i < 10 else None) for i in range(99)]
    rows += [("C099", 10.0, D(2025, 6, 1), D(2026, 3, 10)), ("C099", 10.0, D(2026, 3, 20), None)]  # churns, back
    rows += [("NEW", 10.0, D(2026, 3, 5), D(2026, 3, 25))]  # joins and churns in March
    wh = lake(rows)
    for setting in ("drop", "count_both"):
        mar = month(moves(wh, [MAR], same_month_new_and_churn=setting), MAR)
        assert (mar["customers_start"], mar["churned_customers"]) == (100, 10)
        assert mar["customer_churn_rate"] == pytest.approx(0.10)


def test_chartmogul_net_mrr_churn_rate_from_its_definition(lake):
    """ChartMogul publishes no worked example of it; its definition, "Metric: Net MRR Churn Rate"
    (https://help.chartmogul.com/hc/en-us/articles/4414075567250-Metric-Net-MRR-Churn-Rate):

    "(SUM of Churn & Contraction MRR - SUM of Expansion & Reactivation MRR) / MRR at start of the period"

    revbook's net revenue churn rate (DESIGN.md, kept exact) offsets expansion only: reactivation is a
    former customer's return, not MRR gained from the customers at the month start. On one month of
    start 1,000, churn 100, contraction 50, expansion 30 and reactivation 40: ChartMogul (100 + 50 − 30 −
    40) ÷ 1,000 = 8%; revbook (100 + 50 − 30) ÷ 1,000 = 12%."""
    wh = lake([("A", 600.0, D(2025, 6, 1), None), ("B", 100.0, D(2025, 6, 1), D(2026, 3, 15)),
               ("C", 200.0, D(2025, 6, 1), D(2026, 3, 1)), ("C", 150.0, D(2026, 3, 1), None),  # −50
               ("E", 100.0, D(2025, 6, 1), D(2026, 3, 1)), ("E", 130.0, D(2026, 3, 1), None),  # +30
               ("R", 40.0, D(2025, 6, 1), D(2025, 12, 1)), ("R", 40.0, D(2026, 3, 2), None)])  # back
    mar = month(moves(wh, [MAR], reactivation_after_months=1), MAR)
    assert mar[BRIDGE].tolist() == [1000, 0, 30, 50, 100, 40, 920]
    chartmogul = (mar["churned_mrr"] + mar["contraction_mrr"] - mar["expansion_mrr"] - mar["reactivation_mrr"]) \
        / mar["starting_mrr"]
    assert chartmogul == pytest.approx(0.08) and mar["net_revenue_churn_rate"] == pytest.approx(0.12)


# ---------------------------------------------------------------- vendor parity: Stripe

STRIPE = "https://docs.stripe.com/billing/subscriptions/analytics/glossary"
#: Stripe's conventions: a canceled subscription stops counting (exclusive end), a subscriber that starts
#: and cancels within a period appears as new and churned in its MRR change log, any return reactivates.
STRIPE_SETTINGS = {"subscription_end": "exclusive", "same_month_new_and_churn": "count_both",
                   "reactivation_after_months": 1}


def test_stripe_mrr_growth_worked_example(lake):
    """Stripe, "Billing metric definitions", MRR growth (https://docs.stripe.com/billing/subscriptions/analytics/glossary):

    "At the start of the period, your MRR is 1,000 USD. New MRR: During the period, you have one subscriber
    convert from a free trial to Plan A (100 USD per month). [...] +100 USD. Expansion: [...] one
    subscriber upgrade from Plan A (100 USD month) to Plan C (150 USD per month). [...] +50 USD.
    Contraction: [...] one subscriber downgrade from Plan A (100 USD per month) to Plan B (60 USD per
    month). [...] -40 USD. Churn: [...] one subscriber downgrade from Plan B (60 USD per month). [...] -60
    USD. FX Adjustment: [...] -5 USD [...]. Beginning MRR 1,000 USD, New MRR 100 USD, Expansion MRR 50 USD,
    Contraction MRR 40 USD, Churn MRR -60 USD, FX adjustment -5 USD, MRR growth 45 USD, Ending MRR 1,045 USD"

    revbook keeps one currency, so there is no FX line: ending MRR 1,000 + 100 + 50 − 40 − 60 = 1,050."""
    wh = lake([("NEW", 100.0, D(2026, 3, 8), None),
               ("UP", 100.0, D(2025, 6, 1), D(2026, 3, 10)), ("UP", 150.0, D(2026, 3, 10), None),
               ("DOWN", 100.0, D(2025, 6, 1), D(2026, 3, 12)), ("DOWN", 60.0, D(2026, 3, 12), None),
               ("GONE", 60.0, D(2025, 6, 1), D(2026, 3, 20)),
               ("REST", 740.0, D(2025, 6, 1), None)])  # the rest of the 1,000 at the start
    mar = month(moves(wh, [MAR], **STRIPE_SETTINGS), MAR)
    assert mar[BRIDGE].tolist() == [1000, 100, 50, 40, 60, 0, 1050]
    assert mar["ending_mrr"] - mar["starting_mrr"] == 45 + 5  # Stripe's MRR growth without its −5 FX


def test_stripe_churned_revenue_worked_example(lake):
    """Stripe, Churned revenue (https://docs.stripe.com/billing/subscriptions/analytics/glossary):

    "Churned revenue = (total churned MRR) + (total contracted MRR). Example: During the period, Jane
    cancels her 120 USD per year plan and John downgrades from a 50 USD per month plan to a 25 USD per
    month plan. The churned revenue during the period equals 10 (Jane) + 25 USD (John) = 35 USD."

    revbook's net revenue churn numerator is that, less expansion (none here)."""
    wh = lake([("JANE", 120 / 12, D(2025, 6, 1), D(2026, 3, 15)),
               ("JOHN", 50.0, D(2025, 6, 1), D(2026, 3, 15)), ("JOHN", 25.0, D(2026, 3, 15), None)])
    mar = month(moves(wh, [MAR], **STRIPE_SETTINGS), MAR)
    assert (mar["churned_mrr"], mar["contraction_mrr"]) == (10, 25)
    assert mar["net_revenue_churn_rate"] * mar["starting_mrr"] == pytest.approx(35)


def test_stripe_subscriber_churn_rate_worked_example_and_where_revbook_differs(lake):
    """Stripe, Subscriber churn rate (https://docs.stripe.com/billing/subscriptions/analytics/glossary):

    "(Total churned subscribers in the past 30 days) / [(Number of active subscribers 30 days ago) +
    (Total new subscribers in the past 30 days)]. Example: At the start of the month, the business had 1000
    subscribers. During the month, the business added 100 subscribers and churned 100 subscribers. The
    subscriber churn rate for the period equals the number of churned subscribers (100) divided by the
    number of existing subscribers plus the number of added subscribers (1000 + 100) or, 9.1"

    revbook's customer churn rate (DESIGN.md) divides by the customers at the month start only: 100 ÷ 1000
    = 10%. Stripe's figure comes from the same mart's counts."""
    rows = [(f"S{i:04}", 10.0, D(2025, 6, 1), D(2026, 3, 15) if i < 100 else None) for i in range(1000)]
    rows += [(f"N{i:03}", 10.0, D(2026, 3, 10), None) for i in range(100)]
    wh = lake(rows)
    mar = month(moves(wh, [MAR], **STRIPE_SETTINGS), MAR)
    assert mar[["customers_start", "new_customers", "churned_customers"]].tolist() == [1000, 100, 100]
    stripe = mar["churned_customers"] / (mar["customers_start"] + mar["new_customers"])
    assert round(stripe * 100, 1) == 9.1 and mar["customer_churn_rate"] == 0.10


def test_stripe_cohort_revenue_retention_worked_example(lake):
    """Stripe, Retention by cohort (https://docs.stripe.com/billing/subscriptions/analytics/glossary):

    "In January, 100 subscribers became active on 10 USD per month plans. The starting MRR is 1,000 USD. At
    the end of month 1, 10 subscribers have churned and 5 subscribers have upgraded to 25 USD per month
    plans. The net MRR impact is: 125 USD of expansion MRR − 100 USD of churn MRR = +25 USD. Therefore in
    Month 1, you see 102.5% revenue retention."

    The example's arithmetic counts the 5 upgraded plans' whole 125 USD as expansion. Read as written (5
    subscribers go from 10 to 25 USD), the expansion is 5 × 15 = 75 USD and the cohort keeps (1,000 − 100
    + 75) ÷ 1,000 = 97.5%; its 102.5% holds when each of the 5 adds a 25 USD plan (10 → 35 USD). revbook's
    cohort retention (cs_cohorts) reproduces both readings."""
    def cohort(upgraded_to: float) -> float:
        # S000-S009 churn on Feb 10; S010-S014 move to `upgraded_to` that day; the other 85 stay on 10 USD
        rows = [(f"S{i:03}", 10.0, D(2026, 1, 5), D(2026, 2, 10) if i < 15 else None) for i in range(100)]
        rows += [(f"S{i:03}", upgraded_to, D(2026, 2, 10), None) for i in range(10, 15)]
        f = lake(rows).mart("cs_cohorts", months=[JAN, FEB], subscription_end="exclusive").set_index("month")
        return float(f.loc[pd.Timestamp(FEB), "mrr"] / f.loc[pd.Timestamp(FEB), "cohort_mrr"])

    assert cohort(25.0) == pytest.approx(0.975) and cohort(35.0) == pytest.approx(1.025)


def test_stripe_subscriber_lifetime_value_worked_example(lake):
    """Stripe, Subscriber lifetime value (https://docs.stripe.com/billing/subscriptions/analytics/glossary):

    "Subscriber lifetime value = (ARPU) / (Subscriber churn rate). Example: January started with 110
    subscribers and finished with 100 after 10 subscribers churned. The total MRR at the end of January is
    50,000 USD. The ARPU at the end of January is 500 USD while the January subscriber churn rate was 9%.
    Subscriber lifetime value at the end of January is therefore (500 USD) / (9%) = 5,555 USD"

    revbook's ARPA is the same month-end figure (economics: ending MRR ÷ customers at the month end) and its
    LTV multiplies by the gross margin (Stripe's has none: margin 1 here). Stripe rounds 10 ÷ 110 = 9.09% to
    9%; unrounded, the LTV is 5,500 USD."""
    rows = [(f"S{i:03}", 500.0, D(2025, 6, 1), D(2026, 1, 20) if i < 10 else None) for i in range(110)]
    jan = month(moves(lake(rows), [JAN], **STRIPE_SETTINGS), JAN)
    arpa = jan["ending_mrr"] / jan["customers_end"]
    assert (jan["ending_mrr"], arpa, jan["customer_churn_rate"]) == (50_000, 500, 10 / 110)
    assert int(metrics.ltv(arpa, 1.0, 0.09)) == 5555
    assert metrics.ltv(arpa, 1.0, jan["customer_churn_rate"]) == pytest.approx(5500)


# ---------------------------------------------------------------- the same on BigQuery


def test_every_convention_gives_the_same_movements_on_the_bigquery_emulator(tmp_path, monkeypatch):
    """mrr_movements and cs_paying transpiled for BigQuery (bqemulator, tests/bq_stand_ins.py) return what
    DuckDB returns under every value of the three conventions, on a lake with each case above."""
    from bq_stand_ins import DATASET, PROJECT, emulator, load_lake
    from revbook import contract
    from revbook.data import bigquery_engine as bq
    from revbook.settings import BigQueryConfig

    subs = subscriptions(RETURNS + [("A", 100.0, D(2025, 6, 1), D(2026, 2, 28)),  # ends on a month end
                                    ("C", 50.0, D(2026, 3, 5), D(2026, 3, 20)),  # in and out within March
                                    ("D", 30.0, D(2026, 3, 10), D(2026, 3, 15)),
                                    ("D", 40.0, D(2026, 3, 15), D(2026, 3, 25))])
    frames = {t.name: pd.DataFrame({c.name: pd.Series([], dtype=object) for c in t.columns}) for t in contract.TABLES}
    months = [D(2025, 12, 1), JAN, FEB, MAR]
    with emulator() as endpoint, DuckDBWarehouse(make_db(tmp_path / "s.duckdb", {"subscriptions": subs})) as duck:
        monkeypatch.setenv(bq.EMULATOR_ENV, endpoint)
        big = bq.BigQueryWarehouse(BigQueryConfig(project=PROJECT, dataset=DATASET, retry_initial_s=0.05,
                                                  retry_timeout_s=1.0))
        load_lake(big.client, {**frames, "subscriptions": subs})
        for end in ("exclusive", "inclusive"):
            assert (duck.mart("cs_paying", at=MAR, subscription_end=end).iloc[0, 0]
                    == big.mart("cs_paying", at=MAR, subscription_end=end).iloc[0, 0])
            for same_month in ("drop", "count_both"):
                for after in (1, 2):
                    params = {"months": months, "subscription_end": end, "same_month_new_and_churn": same_month,
                              "reactivation_after_months": after}
                    a, b = (wh.mart("mrr_movements", **params).astype({"month": "datetime64[us]"}).sort_values("month")
                            .set_index("month").astype(float) for wh in (duck, big))
                    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-12)
