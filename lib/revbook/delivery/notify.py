"""Send the daily early-alerts report's NEW alerts to Slack, once each.

The report produces one row per (account, rule). `deliver` posts a single summary
message to a Slack incoming webhook (URL from the SLACK_WEBHOOK_URL environment
variable) and records what it sent in a small JSON state file, so an alert that
keeps firing is not re-sent every day. Delivery problems never raise and never
reveal the webhook URL: the URL is a secret (anyone holding it can post).
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from revbook.files import write_atomic

WEBHOOK_ENV = "SLACK_WEBHOOK_URL"

MAX_LINES = 20  # alert lines per message; the rest are summarised as "… and K more"
KEEP_DAYS = 90  # state entries older than this are dropped when the state file is written
FIELD_CHARS = 300  # longest data value shown, so one odd row cannot blow Slack's size limit
BACKOFF_S = 0.2  # first retry delay; doubles on each further retry


@dataclass(frozen=True)
class Delivery:
    """The outcome of one `deliver` call, for the report to show.

    status: "sent" | "nothing_new" | "not_configured" | "failed".
    new_alerts: alerts not sent before (whether or not delivery worked).
    message: one human sentence; never contains the webhook URL.
    """

    status: str
    new_alerts: int
    message: str


def alert_key(row: Any) -> str:
    """Stable identity of an alert: account_id + rule.

    Evidence numbers change daily and must not make an alert 'new'.
    """
    return f"{str(row['account_id']).strip()}|{str(row['rule']).strip()}"


def new_alerts(alerts: pd.DataFrame, state_path: Path) -> pd.DataFrame:
    """The rows of `alerts` whose key is not in the state file (missing file = nothing sent yet).

    Duplicate keys within `alerts` are kept once (the first row), so nothing is sent twice.
    """
    if alerts.empty:
        return alerts.iloc[0:0]
    missing = {"account_id", "rule"} - set(alerts.columns)
    if missing:
        raise ValueError(f"alerts lack column(s) {sorted(missing)}")
    sent = _read_state(state_path)
    keys = alerts.apply(alert_key, axis=1)
    keep = ~keys.isin(list(sent)) & ~keys.duplicated()
    return alerts[keep]


def message(alerts: pd.DataFrame, day: str, report_url: str | None = None) -> dict:
    """The Slack payload for `alerts`: {"text": header + one line per alert}.

    Lines are capped at MAX_LINES plus "… and K more". Data values are escaped for
    Slack mrkdwn (&, <, >) so an account name cannot inject links or @channel mentions.
    """
    count = len(alerts)
    noun = "alert" if count == 1 else "alerts"
    lines = [f"*{count} new customer-success {noun} for {_escape(day)}*"]
    for _, row in alerts.head(MAX_LINES).iterrows():
        lines.append(
            f"• *{_field(row, 'account_name')}* (owner: {_field(row, 'owner_name')}) — "
            f"{_field(row, 'rule')}: {_field(row, 'evidence')} → play: {_field(row, 'play')}"
        )
    if count > MAX_LINES:
        lines.append(f"… and {count - MAX_LINES} more")
    if report_url:
        lines.append(f"<{_escape(report_url).replace('|', '%7C')}|Open the full report>")
    return {"text": "\n".join(lines)}


def deliver(
    alerts: pd.DataFrame,
    state_path: Path,
    day: str,
    *,
    environ: Mapping[str, str] | None = None,
    timeout_s: float = 5.0,
    retries: int = 2,
) -> Delivery:
    """Post the new alerts to the Slack webhook in SLACK_WEBHOOK_URL (read from `environ`, default os.environ).

    - "not_configured": the variable is unset; nothing sent, state untouched.
    - "nothing_new": no alerts, or every alert was sent before; no HTTP request at all.
    - "sent": HTTP 2xx; the sent keys are added to the state file (written atomically).
    - "failed": HTTP non-2xx, connection refused, timeout, invalid URL; state untouched,
      so the alerts are offered again next run.
    Transient failures (connection errors, timeouts, HTTP 429/5xx) are retried `retries`
    times with a short doubling backoff. Never raises for delivery problems, and reports
    only an exception class name or HTTP status: urllib's exception texts contain the URL.
    """
    if alerts.empty:
        return Delivery("nothing_new", 0, "No alerts today; nothing sent to Slack.")
    env = os.environ if environ is None else environ
    fresh = new_alerts(alerts, state_path)
    n = len(fresh)
    noun = "alert" if n == 1 else "alerts"
    url = (env.get(WEBHOOK_ENV) or "").strip()
    if not url:
        return Delivery("not_configured", n, f"Slack is not configured ({WEBHOOK_ENV} unset); {n} new {noun} not sent.")
    if n == 0:
        return Delivery("nothing_new", 0, "No new alerts for Slack; everything was sent before.")

    problem = _post(url, message(fresh, day), environ, timeout_s, max(0, retries))
    if problem:
        return Delivery(
            "failed", n, f"Slack delivery failed ({problem}); the {n} new {noun} will be offered again on the next run."
        )
    try:
        _record(state_path, [alert_key(row) for _, row in fresh.iterrows()], day)
    except OSError as exc:
        return Delivery(
            "sent",
            n,
            f"Sent {n} new {noun} to Slack, but could not record them ({type(exc).__name__}); "
            "they may be sent again on the next run.",
        )
    return Delivery("sent", n, f"Sent {n} new {noun} to Slack.")


# --- formatting ---------------------------------------------------------------------------------------------------


def _escape(text: str) -> str:
    """Slack mrkdwn escaping: the only three control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _field(row: pd.Series, column: str) -> str:
    """A data value as one escaped, length-capped line ("" when missing)."""
    value = row.get(column)
    text = "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)
    text = " ".join(text.split())  # newlines would break "one line per alert"
    if len(text) > FIELD_CHARS:
        text = text[: FIELD_CHARS - 1] + "…"
    return _escape(text)


# --- HTTP ---------------------------------------------------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A webhook does not redirect; following one would turn the POST into a GET elsewhere."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _proxies(environ: Mapping[str, str]) -> dict[str, str]:
    """`*_proxy` settings from `environ` (lower case wins), like urllib.request.getproxies."""
    found: dict[str, str] = {}
    for name in sorted(environ, key=lambda n: n.islower()):  # upper case first, lower case overrides
        lower = name.lower()
        if lower.endswith("_proxy") and lower != "no_proxy" and environ[name]:
            found[lower[: -len("_proxy")]] = environ[name]
    return found


def _post(url: str, payload: dict, environ: Mapping[str, str] | None, timeout_s: float, retries: int) -> str | None:
    """POST `payload` as JSON; None on HTTP 2xx, else a URL-free description of the last failure."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "invalid webhook URL"
    proxy = urllib.request.ProxyHandler() if environ is None else urllib.request.ProxyHandler(_proxies(environ))
    opener = urllib.request.build_opener(proxy, _NoRedirect())
    body = json.dumps(payload).encode("utf-8")
    problem = "no attempt"
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(BACKOFF_S * 2 ** (attempt - 1))
        try:
            request = urllib.request.Request(
                url, data=body, headers={"Content-Type": "application/json"}, method="POST"
            )
            with opener.open(request, timeout=timeout_s) as response:
                response.read(65536)
                status = response.status
            if 200 <= status < 300:
                return None
            problem, transient = f"HTTP {status}", False
        except urllib.error.HTTPError as exc:
            problem, transient = f"HTTP {exc.code}", exc.code == 429 or exc.code >= 500
            exc.close()
        except urllib.error.URLError as exc:
            reason = exc.reason
            transient = isinstance(reason, OSError)
            problem = type(reason).__name__ if transient else "invalid webhook URL"
        except (OSError, http.client.HTTPException) as exc:  # timeouts, resets, bad status lines
            problem, transient = type(exc).__name__, True
        except Exception as exc:  # e.g. ValueError for a malformed URL; its text holds the URL
            problem, transient = type(exc).__name__, False
        if not transient:
            break
    return problem


# --- state --------------------------------------------------------------------------------------------------------


def _read_state(state_path: Path) -> dict[str, str]:
    """{key: day first sent}; a missing, unreadable or corrupt file counts as nothing sent."""
    try:
        data = json.loads(Path(state_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    sent = data.get("sent") if isinstance(data, dict) else None
    if not isinstance(sent, dict):
        return {}
    return {str(k): str(v) for k, v in sent.items()}


def _record(state_path: Path, keys: list[str], day: str) -> None:
    """Add `keys` as first sent on `day`, drop entries older than KEEP_DAYS, write atomically."""
    path = Path(state_path)
    sent = _read_state(path)
    for key in keys:
        sent.setdefault(key, day)
    today = _date(day)
    if today is not None:
        cutoff = today - dt.timedelta(days=KEEP_DAYS)
        sent = {k: v for k, v in sent.items() if (first := _date(v)) is not None and first >= cutoff}
    text = json.dumps({"sent": dict(sorted(sent.items()))}, indent=1, ensure_ascii=False) + "\n"
    write_atomic(path, text, private=True)  # which accounts alerted, and when: not for a web server


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None
