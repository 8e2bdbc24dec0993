"""notify: Slack delivery of new early alerts, against a real local HTTP server (never the internet)."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pandas as pd
import pytest

from revbook.delivery import notify
from webhook import SECRET, Webhook

DAY = "2024-05-02"


def alerts(n: int = 2, **overrides: str) -> pd.DataFrame:
    rows = [
        {
            "account_id": f"A{i:03d}",
            "account_name": f"Account {i}",
            "owner_rep_id": f"R{i % 3}",
            "owner_name": f"Rep {i % 3}",
            "rule": "usage_drop",
            "evidence": f"weekly active users down {30 + i}%",
            "play": "Book a usage review call",
        }
        for i in range(n)
    ]
    for row in rows:
        row.update(overrides)
    return pd.DataFrame(rows)


def assert_no_secret(result: notify.Delivery, state: Path) -> None:
    assert SECRET not in result.message
    assert "127.0.0.1" not in result.message
    assert "/services/" not in result.message
    if state.exists():
        assert SECRET not in state.read_text()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_sent_message_body_and_state(webhook: Webhook, tmp_path: Path) -> None:
    state = tmp_path / "state" / "slack.json"
    frame = alerts(2)
    result = notify.deliver(frame, state, DAY, environ=webhook.env)

    assert result == notify.Delivery("sent", 2, "Sent 2 new alerts to Slack.")
    assert webhook.paths == [f"/services/T000/B000/{SECRET}"]
    assert webhook.headers == ["application/json"]
    text = webhook.bodies[0]["text"]
    lines = text.splitlines()
    assert "2 new customer-success alerts for 2024-05-02" in lines[0]
    assert len(lines) == 3
    for line, (_, row) in zip(lines[1:], frame.iterrows()):
        for column in ("account_name", "owner_name", "rule", "evidence", "play"):
            assert row[column] in line
    assert json.loads(state.read_text()) == {"sent": {"A000|usage_drop": DAY, "A001|usage_drop": DAY}}
    assert not list(state.parent.glob("*.tmp"))
    assert state.stat().st_mode & 0o777 == 0o600  # which accounts alerted: not for a web server to serve
    assert_no_secret(result, state)


def test_data_cannot_inject_links_or_mentions(webhook: Webhook, tmp_path: Path) -> None:
    frame = alerts(1, account_name="<!channel> & <http://evil|x>", evidence="churn > 50% <@U123>")
    notify.deliver(frame, tmp_path / "s.json", DAY, environ=webhook.env)

    text = webhook.bodies[0]["text"]
    assert "&lt;!channel&gt; &amp; &lt;http://evil|x&gt;" in text
    assert "churn &gt; 50% &lt;@U123&gt;" in text
    assert "<!channel>" not in text and "<http://evil" not in text and "<@U123>" not in text


def test_second_run_sends_only_new_alerts(webhook: Webhook, tmp_path: Path) -> None:
    state = tmp_path / "s.json"
    first = notify.deliver(alerts(2), state, DAY, environ=webhook.env)
    second = notify.deliver(alerts(2), state, "2024-05-03", environ=webhook.env)

    assert first.status == "sent"
    assert second == notify.Delivery("nothing_new", 0, second.message)
    assert len(webhook.bodies) == 1

    # Same account + rule with different evidence is not new; a new rule for the same account is.
    changed = alerts(2, evidence="weekly active users down 80%")
    assert notify.new_alerts(changed, state).empty
    extra = pd.concat([changed, alerts(1, rule="no_login_14d")], ignore_index=True)
    fresh = notify.new_alerts(extra, state)
    assert [notify.alert_key(row) for _, row in fresh.iterrows()] == ["A000|no_login_14d"]

    third = notify.deliver(extra, state, "2024-05-03", environ=webhook.env)
    assert third.status == "sent" and third.new_alerts == 1
    assert len(webhook.bodies) == 2
    assert "no_login_14d" in webhook.bodies[1]["text"] and "usage_drop" not in webhook.bodies[1]["text"]
    assert json.loads(state.read_text())["sent"]["A000|no_login_14d"] == "2024-05-03"
    assert_no_secret(third, state)


def test_http_500_fails_after_retries_and_keeps_state(webhook: Webhook, tmp_path: Path) -> None:
    state = tmp_path / "s.json"
    notify.deliver(alerts(1), state, DAY, environ=webhook.env)
    before = state.read_bytes()
    webhook.status = 500

    result = notify.deliver(alerts(4), state, "2024-05-03", environ=webhook.env, retries=2)

    assert result.status == "failed" and result.new_alerts == 3
    assert result.message == (
        "Slack delivery failed (HTTP 500); the 3 new alerts will be offered again on the next run."
    )
    assert len(webhook.bodies) == 1 + 3
    assert state.read_bytes() == before
    assert_no_secret(result, state)


def test_http_400_is_not_retried(webhook: Webhook, tmp_path: Path) -> None:
    webhook.status = 400
    result = notify.deliver(alerts(1), tmp_path / "s.json", DAY, environ=webhook.env, retries=2)
    assert result.status == "failed" and "HTTP 400" in result.message
    assert len(webhook.bodies) == 1
    assert not (tmp_path / "s.json").exists()


def test_slow_webhook_times_out_quickly(webhook: Webhook, tmp_path: Path) -> None:
    state = tmp_path / "s.json"
    webhook.delay_s = 10
    started = time.perf_counter()

    result = notify.deliver(alerts(2), state, DAY, environ=webhook.env, timeout_s=0.3, retries=1)

    assert time.perf_counter() - started < 5
    assert result.status == "failed" and result.new_alerts == 2
    assert "TimeoutError" in result.message
    assert len(webhook.bodies) == 2
    assert not state.exists()
    assert_no_secret(result, state)


def test_connection_refused_fails(tmp_path: Path) -> None:
    state = tmp_path / "s.json"
    url = f"http://127.0.0.1:{free_port()}/services/T000/B000/{SECRET}"

    result = notify.deliver(alerts(1), state, DAY, environ={notify.WEBHOOK_ENV: url}, retries=1)

    assert result.status == "failed" and result.new_alerts == 1
    assert "ConnectionRefusedError" in result.message
    assert not state.exists()
    assert_no_secret(result, state)


@pytest.mark.parametrize(
    "url", [f"not a url {SECRET}", f"ftp://127.0.0.1/{SECRET}", f"http:///{SECRET}", f"http://127.0.0.1:99999/{SECRET}"]
)
def test_invalid_url_fails_without_leaking(url: str, tmp_path: Path) -> None:
    result = notify.deliver(alerts(1), tmp_path / "s.json", DAY, environ={notify.WEBHOOK_ENV: url}, retries=0)
    assert result.status == "failed"
    assert SECRET not in result.message
    assert not (tmp_path / "s.json").exists()


def test_not_configured_sends_nothing(webhook: Webhook, tmp_path: Path) -> None:
    state = tmp_path / "s.json"
    for environ in ({}, {notify.WEBHOOK_ENV: "  "}):
        result = notify.deliver(alerts(3), state, DAY, environ=environ)
        assert result.status == "not_configured" and result.new_alerts == 3
        assert notify.WEBHOOK_ENV in result.message
    assert webhook.bodies == []
    assert not state.exists()


def test_empty_alerts_nothing_new(webhook: Webhook, tmp_path: Path) -> None:
    for frame in (pd.DataFrame(), alerts(0), alerts(3).iloc[0:0]):
        result = notify.deliver(frame, tmp_path / "s.json", DAY, environ=webhook.env)
        assert result.status == "nothing_new" and result.new_alerts == 0
    assert webhook.bodies == []


def test_message_caps_at_twenty_lines(webhook: Webhook, tmp_path: Path) -> None:
    result = notify.deliver(alerts(25), tmp_path / "s.json", DAY, environ=webhook.env)

    assert result.new_alerts == 25
    lines = webhook.bodies[0]["text"].splitlines()
    assert "25 new customer-success alerts for 2024-05-02" in lines[0]
    assert sum(line.startswith("•") for line in lines) == 20
    assert lines[-1] == "… and 5 more"
    assert len(json.loads((tmp_path / "s.json").read_text())["sent"]) == 25


def test_message_formatting_details() -> None:
    frame = alerts(1, evidence="line one\nline two", play="x" * 1000)
    frame.loc[0, "owner_name"] = None
    text = notify.message(frame, DAY, report_url="https://reports.example/a?b=1&c=2")["text"]
    lines = text.splitlines()
    assert lines[0] == "*1 new customer-success alert for 2024-05-02*"
    assert "line one line two" in lines[1] and "(owner: )" in lines[1]
    assert len(lines[1]) < 600
    assert lines[-1] == "<https://reports.example/a?b=1&amp;c=2|Open the full report>"


def test_corrupt_state_is_treated_as_empty(webhook: Webhook, tmp_path: Path) -> None:
    state = tmp_path / "s.json"
    state.write_text("{not json")
    assert len(notify.new_alerts(alerts(2), state)) == 2
    result = notify.deliver(alerts(2), state, DAY, environ=webhook.env)
    assert result.status == "sent"
    assert set(json.loads(state.read_text())["sent"]) == {"A000|usage_drop", "A001|usage_drop"}


def test_state_drops_entries_older_than_90_days(webhook: Webhook, tmp_path: Path) -> None:
    state = tmp_path / "s.json"
    state.write_text(json.dumps({"sent": {"OLD|r": "2024-01-01", "RECENT|r": "2024-04-01", "BAD|r": "??"}}))
    notify.deliver(alerts(1), state, DAY, environ=webhook.env)
    assert json.loads(state.read_text())["sent"] == {"A000|usage_drop": DAY, "RECENT|r": "2024-04-01"}
