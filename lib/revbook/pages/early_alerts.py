"""The sentences and tables of the customer-success early-alerts page (notebooks/customer_success/early_alerts)."""

from __future__ import annotations

import pandas as pd

from revbook.pages.report import fmt, md

#: Columns of each CS owner's table of alerted accounts.
OWNER_COLUMNS = ["account_name", "status", "mrr_at_risk", "score", "rules", "evidence"]


def summary(accounts: pd.DataFrame, checked: int, as_of_note: str) -> str:
    """Today's alerted accounts: how many, how many new since yesterday, the MRR at risk and the largest."""
    if accounts.empty:
        return (f"**No alerts today{as_of_note}.** No paying account ({fmt(checked, 'count')} checked) meets any "
                "rule; nothing is sent to Slack.")
    new = int((accounts["status"] == "new").sum())
    at_risk = accounts[accounts["mrr_at_risk"] > 0]
    text = (f"**{fmt(len(accounts), 'count')} of {fmt(checked, 'count')} paying accounts have alerts{as_of_note}, "
            f"{fmt(new, 'count')} of them new since yesterday.** ")
    if at_risk.empty:
        return text + "None is at risk: every alert is an opening."
    top = at_risk.iloc[0]
    return text + (f"{fmt(len(at_risk), 'count')} are at risk, with {md(fmt(at_risk['mrr_at_risk'].sum(), 'money'))} "
                   f"of MRR; the largest is **{md(top['account_name'])}** ({md(fmt(top['mrr'], 'money'))}, "
                   f"{md(top['rules'])}).")


def rules_sentence(by_rule: pd.DataFrame) -> str:
    """Which rule fires on most accounts today."""
    fired = by_rule[by_rule["accounts"] > 0].sort_values("accounts", ascending=False, kind="stable")
    if fired.empty:
        return ""
    top = fired.iloc[0]
    return (f"**{md(top['rule'])}** fires on the most accounts ({md(fmt(top['accounts'], 'count'))}, "
            f"{md(fmt(top['mrr'], 'money'))} of MRR); {len(fired)} of {len(by_rule)} rules fire today.")


def owners(accounts: pd.DataFrame) -> list[tuple[str, pd.DataFrame, str]]:
    """(owner, their accounts ranked by MRR at risk, caption) for each CS owner, most MRR at risk first."""
    order = accounts.groupby("owner_name")["mrr_at_risk"].sum().sort_values(ascending=False, kind="stable")
    out = []
    for owner in order.index:
        rows = accounts[accounts["owner_name"] == owner]
        new = int((rows["status"] == "new").sum())
        risk = fmt(rows["mrr_at_risk"].sum(), "money")
        caption = f"{owner}: {len(rows)} accounts, {new} new, {risk} of MRR at risk"
        out.append((str(owner), rows[OWNER_COLUMNS], caption))
    return out
