"""Customer-success reports end to end: the monthly churn-drivers page on the scale-1 demo, and the
daily early alerts with Slack delivered to a stand-in webhook on 127.0.0.1."""

import csv
import datetime as dt
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from conftest import TEST_END, make_db
from pages import assert_headlines, assert_stakeholder_page
from revbook import periods, settings
from revbook.data.duckdb_engine import DuckDBWarehouse
from revbook.delivery import notify
from revbook.demo import planted
from revbook.departments import customer_success as cs
from revbook.departments import early_alerts as ea
from revbook.run import runner
from webhook import SECRET

#: The demo's last day of data: the daily report on it is fresh (not evaluated on stale data).
LAST_DAY = periods.parse("month", TEST_END).last_day


def _text(path: Path) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", path.read_text(encoding="utf-8")))


def _csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def churn_page(scale3_warehouse, tmp_path_factory):
    out = tmp_path_factory.mktemp("cs_monthly")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REVBOOK_WAREHOUSE", str(scale3_warehouse))
        mp.setenv("REVBOOK_OUTPUTS", str(out))
        assert runner.run("monthly", TEST_END, only=["customer_success"]) == 0
    return out / TEST_END / "customer_success"


@pytest.mark.planted
def test_churn_drivers_page_shows_the_headlines_and_the_planted_truths(churn_page, scale3_warehouse):
    html = churn_page / "churn_drivers.html"
    assert_stakeholder_page(html)
    company = settings.company()
    with DuckDBWarehouse(scale3_warehouse) as wh:
        assert_headlines(html, cs.headlines(wh, periods.parse("month", TEST_END), company))
    text = _text(html)
    reliable = re.search(r"Reliable churn signals: (.*?)\. Reliably protective", text).group(1)
    assert f"No login for {company.alerts.no_login_days}+ days" in reliable and "Error rate" in reliable
    assert f"{planted.CHURN_NON_DRIVER} use per active user" not in reliable
    assert "familywise" in text  # the reader is told what the intervals are
    auc, low = map(float, re.search(r"AUC (0\.\d\d) \(95% interval (0\.\d\d)–", text).groups())
    assert auc > 0.6 and low > 0.5
    assert re.search(rf"{planted.UPSELL_FEATURE} use per active user comes before upgrades: .* expanded "
                     r"\d+\.\d% of months, [23]\.\d× the other four fifths", text)
    for name in ("health_scores", "upsell_lookalikes"):
        rows = _csv(churn_page / f"churn_drivers.{name}.csv")
        assert rows and f"churn_drivers.{name}.csv" in html.read_text(encoding="utf-8")
    scores = pd.DataFrame(_csv(churn_page / "churn_drivers.health_scores.csv"))
    assert scores["score"].astype(float).between(0, 100).all() and set(scores["band"]) == set(cs.BANDS)
    lowest = scores["score"].astype(float).nsmallest(10)
    assert lowest.min() > 0 and lowest.nunique() > 5  # calibrated: the most at risk do not pile up at 0
    page = html.read_text(encoding="utf-8")
    assert 'alt="Histogram of' in page and f"red cut-off at {company.health.red_below:g}" in page
    assert 'alt="Logo and revenue retention of' in page
    assert text.rindex("Definitions") > text.index("Support load")  # definitions at the foot
    assert re.search(r"Customer churn averaged \d+\.\d% a month over the last 12 months", text)
    assert re.search(r"The strongest driver is ", text)
    assert any(re.search("[\u3040-\u30ff\u4e00-\u9fff]", n) for n in scores["account_name"])  # Japanese kept


def test_churn_drivers_page_without_enough_history_says_so(monthly_run):
    code, out = monthly_run
    assert code == 0
    text = _text(out / "customer_success" / "churn_drivers.html")
    assert "No churn model this month: the churn model needs" in text
    assert "Cohort retention" in text and "Skipped: no churn model" in text


# ---------------------------------------------------------------- daily early alerts


def _daily(monkeypatch, warehouse: Path, out: Path, day: dt.date, env: dict[str, str] | None = None) -> Path:
    monkeypatch.setenv("REVBOOK_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("REVBOOK_OUTPUTS", str(out))
    monkeypatch.delenv(notify.WEBHOOK_ENV, raising=False)
    for key, value in (env or {}).items():
        monkeypatch.setenv(key, value)
    assert runner.run("daily", day.isoformat()) == 0
    return out / day.isoformat() / "customer_success"


@pytest.mark.planted
def test_daily_alerts_go_to_slack_once_and_the_webhook_never_shows(scale1_warehouse, webhook, tmp_path, monkeypatch):
    out = tmp_path / "out"
    page = _daily(monkeypatch, scale1_warehouse, out, LAST_DAY, webhook.env)
    rows = _csv(page / "early_alerts.alerts.csv")  # one row per alerted account
    assert len({r["account_id"] for r in rows}) == len(rows)
    fired = [rule for r in rows for rule in r["rules"].split("; ")]
    assert {"No login", "Red health score", "Healthy heavy user"} <= set(fired)
    assert all(r["owner_name"] and r["evidence"] and r["status"] in ("new", "continuing") for r in rows)
    at_risk = [float(r["mrr_at_risk"]) for r in rows]
    assert at_risk == sorted(at_risk, reverse=True)  # ranked by MRR at risk
    text = _text(page / "early_alerts.html")
    new = sum(r["status"] == "new" for r in rows)
    assert f"{len(rows)} of " in text and f"have alerts, {new} of them new since yesterday" in text
    assert "evaluated as of" not in text  # fresh data: no staleness note
    for _, play in ea.RULES.values():  # each rule's play once, in the legend
        assert text.count(play) == 1, play
    owners = {r["owner_name"] for r in rows}
    assert text.count("Since yesterday") == len(owners)  # one table per CS owner, at most 10 rows each
    assert text.count("The first 10 of ") == sum(sum(r["owner_name"] == o for r in rows) > 10 for o in owners)
    pairs = len(fired)  # Slack gets each (account, rule) once
    assert f"Slack: Sent {pairs} new alerts to Slack." in text
    # one message, summarising every new alert
    assert len(webhook.bodies) == 1
    lines = webhook.bodies[0]["text"].split("\n")
    assert lines[0] == f"*{pairs} new customer-success alerts for {LAST_DAY}*"
    assert len(lines) == 1 + notify.MAX_LINES + 1 and lines[-1] == f"… and {pairs - notify.MAX_LINES} more"
    assert any(lines[1].startswith(f"• *{r['account_name']}* (owner: {r['owner_name']}) — ") for r in rows)
    state = json.loads((out / "_state" / "slack_alerts.json").read_text())
    assert len(state["sent"]) == pairs

    page = _daily(monkeypatch, scale1_warehouse, out, LAST_DAY, webhook.env)  # the same alerts again
    assert len(webhook.bodies) == 1
    assert "Slack: No new alerts for Slack; everything was sent before." in _text(page / "early_alerts.html")

    leaks = [str(p) for p in out.rglob("*") if p.is_file() and SECRET in p.read_text(encoding="utf-8", errors="ignore")]
    assert not leaks  # not in HTML, CSV, metrics, the executed notebooks, the manifest, run.log or the state


def test_a_failing_webhook_is_reported_and_does_not_fail_the_run(demo_warehouse, webhook, tmp_path, monkeypatch):
    webhook.status = 500
    page = _daily(monkeypatch, demo_warehouse, tmp_path / "out", LAST_DAY, webhook.env)
    assert _csv(page / "early_alerts.alerts.csv")  # the small demo still has alerts
    assert "Slack delivery failed (HTTP 500)" in _text(page / "early_alerts.html")
    assert not (tmp_path / "out" / "_state" / "slack_alerts.json").exists()  # offered again next run


def test_stale_usage_data_is_said_and_rules_run_as_of_its_last_day(demo_warehouse, tmp_path, monkeypatch):
    day = LAST_DAY + dt.timedelta(days=5)
    monkeypatch.setenv("REVBOOK_TODAY", (day + dt.timedelta(days=1)).isoformat())  # the day is over
    text = _text(_daily(monkeypatch, demo_warehouse, tmp_path / "out", day) / "early_alerts.html")
    assert f"The product usage data ends on {LAST_DAY}, 5 days before {day}" in text
    assert f"(data as of {LAST_DAY})" in text
    assert "Slack is not configured" in text


def test_a_day_without_alerts_says_so_and_sends_nothing(tmp_path, webhook, monkeypatch):
    day = dt.date(2026, 3, 31)
    days = pd.date_range("2026-01-01", "2026-03-31").date
    usage = pd.DataFrame([{"date": x, "account_id": a, "event_type": "login", "count": 5}
                          for a in ("A", "B") for x in days])
    wh = make_db(tmp_path / "quiet.duckdb", {
        "subscriptions": pd.DataFrame({"subscription_id": ["S1", "S2"], "account_id": ["A", "B"], "plan": ["basic"] * 2,
                                       "mrr": [100.0, 200.0], "start_date": [dt.date(2025, 1, 1)] * 2,
                                       "end_date": [None, None]}),
        "accounts": pd.DataFrame({"account_id": ["A", "B"], "name": ["株式会社あ", "B Corp"],
                                  "industry": ["製造業"] * 2}),
        "product_usage_daily": usage,
        "support_tickets": pd.DataFrame({"ticket_id": ["T1"], "account_id": ["A"],
                                         "created_at": [pd.Timestamp("2026-03-01")], "priority": ["high"],
                                         "resolved_at": [pd.Timestamp("2026-03-02")], "category": ["bug"]}),
        "reps": pd.DataFrame({"rep_id": ["CS1"], "name": ["Rep"], "team": ["customer_success"]}),
        "activities": pd.DataFrame({"activity_id": ["X1"], "account_id": ["A"], "rep_id": ["CS1"],
                                    "occurred_at": [pd.Timestamp("2026-03-10")]}),
    })
    page = _daily(monkeypatch, wh, tmp_path / "out", day, webhook.env)
    text = _text(page / "early_alerts.html")
    assert "No alerts today. No paying account (2 checked) meets any rule; nothing is sent to Slack." in text
    assert "Slack: No alerts today; nothing sent to Slack." in text
    assert "No health score today" in text  # three months of data cannot fit a churn model; the other rules ran
    assert _csv(page / "early_alerts.alerts.csv") == []
    assert (page / "early_alerts.alerts.csv").read_text(encoding="utf-8-sig").startswith("account_id,account_name")
    assert webhook.bodies == []
