"""Customer success early alerts: the rules that flag an account today, one row per account and rule
(what Slack gets) and one row per account (what the CS owners read), new or continuing since the day before."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Set

import numpy as np
import pandas as pd

from revbook.data.warehouse import Warehouse
from revbook.departments.customer_success import (
    LOGIN_LOOKBACK_DAYS,
    Model,
    Upsell,
    expanded_accounts,
    label,
    scored,
)
from revbook.settings import Company

#: Alert rules: key → (name shown, suggested play).
RULES: dict[str, tuple[str, str]] = {
    "no_login": ("No login", "Adoption call: reach the admin, find out what stopped use, re-run onboarding"),
    "usage_drop": ("Usage drop", "Adoption call: review the use cases that dropped and offer training"),
    "red_health": ("Red health score", "Health review: work through the weakest factors with the customer"),
    "high_priority_ticket": ("High-priority ticket open",
                             "Escalate with support and tell the customer when it will be fixed"),
    "feature_intro": ("Healthy heavy user", "New feature introduction: show what the next plan adds"),
}
ALERT_COLUMNS = ["account_id", "account_name", "owner_rep_id", "owner_name", "mrr", "score", "band", "rule",
                 "evidence", "play"]


def alerts(now: pd.DataFrame, asof: dt.date, company: Company, up: Upsell | None = None,
           expanded_before: Set[str] = frozenset(), usage: bool = True) -> pd.DataFrame:
    """Today's alerts, one row per account and rule, from `scored` accounts as of the day `asof`:
    - no_login: last login alerts.no_login_days or more days before `asof` (or none in the lookback);
    - usage_drop: logins in the 7 days to `asof` down usage_drop_pct % or more from the weekly
      average of the 4 weeks before (accounts with logins in those weeks and no no_login alert);
    - red_health: health band red (needs a score);
    - high_priority_ticket: a high/urgent ticket open more than open_high_priority_days days;
    - feature_intro: health score at or above alerts.feature_intro_score and a look-alike of past
      upsells (top fifth of the upsell feature's use, never expanded).
    `usage=False` (no usage data reaches back to `asof`) skips the two rules that read logins."""
    rules = company.alerts
    day = pd.Timestamp(asof)
    found = []

    def add(key: str, rows: pd.DataFrame, evidence: Callable[[pd.Series], str]) -> None:
        if not rows.empty:
            name, play = RULES[key]
            found.append(rows.assign(rule=name, evidence=rows.apply(evidence, axis=1), play=play))

    def since(r: pd.Series) -> str:
        if pd.isna(r["last_login"]):
            return f"no login in the {LOGIN_LOOKBACK_DAYS} days to {asof}"
        return f"last login {pd.Timestamp(r['last_login']).date()}, {r['days_since_login']:.0f} days before {asof}"

    def open_for(r: pd.Series) -> str:
        opened = pd.Timestamp(r["oldest_open_high_priority_at"])
        return (f"{r['open_high_priority']:.0f} high-priority ticket(s) open, the oldest since {opened.date()} "
                f"({(day - opened.normalize()).days} days)")

    quiet = now[(now["days_since_login"] >= rules.no_login_days) & usage]
    add("no_login", quiet, since)
    drop = now[usage & (now["logins_prior_4w"] > 0) & (now["usage_change_7d"] <= -rules.usage_drop_pct / 100)
               & ~now["account_id"].isin(quiet["account_id"])]  # no login at all is the no_login alert
    add("usage_drop", drop, lambda r: f"{r['logins_7d']:.0f} logins in the 7 days to {asof} vs "
                                      f"{r['logins_prior_4w'] / 4:.1f} a week in the 4 weeks before "
                                      f"({r['usage_change_7d'] * 100:+.0f}%)")
    opened = pd.to_datetime(now["oldest_open_high_priority_at"]).dt.normalize()
    add("high_priority_ticket", now[(day - opened).dt.days > rules.open_high_priority_days], open_for)
    if "score" in now:
        add("red_health", now[now["band"] == "red"], lambda r: f"health {r['score']:.0f}: {r['reasons']}")
        if up is not None and up.feature is not None:
            feature = up.feature
            add("feature_intro", up.lookalikes(now[now["score"] >= rules.feature_intro_score], expanded_before),
                lambda r: f"health {r['score']:.0f}; {label(feature)} {r[feature]:.1f} (top fifth: ≥ "
                          f"{up.threshold:.1f}, like past upgrades); plan {r['plan']}")
    out = pd.concat([f for f in found if not f.empty] or [pd.DataFrame(columns=ALERT_COLUMNS)], ignore_index=True)
    for column in ("score", "band"):
        if column not in out:
            out[column] = None
    order = {name: i for i, (name, _) in enumerate(RULES.values())}
    out = out.assign(_order=out["rule"].map(order)).sort_values(["_order", "mrr", "account_id"],
                                                                  ascending=[True, False, True])
    out["score"] = pd.to_numeric(out["score"]).round(1)
    return out[ALERT_COLUMNS].reset_index(drop=True)


def alerts_on(wh: Warehouse, asof: dt.date, company: Company, model: Model | None, up: Upsell | None,
              usage: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(`scored` accounts, `alerts`) as of the day `asof`, with the health score of `model`."""
    now = scored(wh, asof + dt.timedelta(days=1), company, model)
    expanded = expanded_accounts(model) if model is not None else frozenset()
    return now, alerts(now, asof, company, up, expanded, usage=usage)


#: The rules that flag a risk to the revenue (the healthy-heavy-user rule flags an opening).
RISK_RULES = tuple(name for key, (name, _) in RULES.items() if key != "feature_intro")
ACCOUNT_ALERT_COLUMNS = ["account_id", "account_name", "owner_rep_id", "owner_name", "status", "mrr_at_risk", "mrr",
                         "score", "band", "rules", "evidence"]


def alert_accounts(today: pd.DataFrame, yesterday: pd.DataFrame) -> pd.DataFrame:
    """One row per account of `alerts` (today's), with every rule that fires on it (rules and evidence
    joined, in RULES order); status "new" when no rule fired on it in `yesterday`'s alerts, else
    "continuing"; mrr_at_risk its MRR when a risk rule fires (0 for an opening only). Ranked by MRR at
    risk, then MRR."""
    if today.empty:
        return pd.DataFrame(columns=ACCOUNT_ALERT_COLUMNS)
    g = today.groupby("account_id", sort=False)
    first = g[["account_name", "owner_rep_id", "owner_name", "mrr", "score", "band"]].first()
    out = first.assign(rules=g["rule"].agg("; ".join), evidence=g["evidence"].agg(" · ".join),
                       at_risk=g["rule"].agg(lambda r: bool(set(r) & set(RISK_RULES)))).reset_index()
    out["status"] = np.where(out["account_id"].isin(yesterday["account_id"]), "continuing", "new")
    out["mrr_at_risk"] = out["mrr"].where(out["at_risk"], 0.0)
    out = out.sort_values(["mrr_at_risk", "mrr", "account_id"], ascending=[False, False, True])
    return out[ACCOUNT_ALERT_COLUMNS].reset_index(drop=True)


def alerts_by_rule(alerts: pd.DataFrame) -> pd.DataFrame:
    """rule, accounts it fires on, their MRR and the rule's play, for every rule (0 when it did not fire)."""
    g = alerts.groupby("rule").agg(accounts=("account_id", "nunique"), mrr=("mrr", "sum"))
    names = [name for name, _ in RULES.values()]
    out = g.reindex(names, fill_value=0).rename_axis("rule").reset_index()
    out["play"] = [play for _, play in RULES.values()]
    return out
