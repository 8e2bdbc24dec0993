"""Exports of the shapes real companies have, written here so the tests own them: each holds a few
of the contract's tables, leaves optional columns out and uses its own picklist values.

- churn_snapshot: accounts + subscriptions only, a plan per contract type (a B2C churn snapshot);
- leads_and_deals: leads + opportunities + reps, no spend, activities or usage; lead sources such
  as "Web" and "Partner Referral";
- pipeline_only: opportunities + accounts + reps, deals that skip stages, a product spelled two ways;
- one_ad_platform: campaigns + ad spend + leads from one ad platform, one reporting day.
Every value is drawn from a fixed seed, so every run sees the same lakes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pandas as pd

from conftest import TEST_END

END = dt.date.fromisoformat(f"{TEST_END}-01")  # first day of the report month


def _days_before(rng: np.random.Generator, n: int, most: int) -> list[dt.date]:
    return [END - dt.timedelta(days=int(d)) for d in rng.integers(1, most, n)]


def _stamp(days: list[dt.date], rng: np.random.Generator) -> list[str]:
    return [f"{d.isoformat()} {int(h):02d}:15:00" for d, h in zip(days, rng.integers(0, 9, len(days)))]


def churn_snapshot() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(1)
    n = 400
    ids = [f"C{i:04d}" for i in range(n)]
    start = _days_before(rng, n, 720)
    plan = rng.choice(["Month-to-month", "One year", "Two year"], n, p=[0.5, 0.3, 0.2])
    churn_p = np.select([plan == "Month-to-month", plan == "One year"], [0.5, 0.15], 0.05)
    churned = rng.random(n) < churn_p
    end = [s + dt.timedelta(days=int(rng.integers(31, max(32, (END - s).days + 20)))) if c else None
           for s, c in zip(start, churned)]
    accounts = pd.DataFrame({"account_id": ids, "created_at": _stamp(start, rng)})
    subscriptions = pd.DataFrame({
        "subscription_id": [f"S{i:04d}" for i in range(n)], "account_id": ids, "plan": plan,
        "mrr": rng.choice([1980.0, 4980.0, 8980.0], n), "start_date": start, "end_date": end,
    })
    return {"accounts": accounts, "subscriptions": subscriptions}


def _reps(n_field: int, n_inside: int) -> pd.DataFrame:
    ids = [f"FS{i}" for i in range(n_field)] + [f"IS{i}" for i in range(n_inside)]
    return pd.DataFrame({"rep_id": ids, "name": [f"Rep {i}" for i in ids],
                         "team": ["field_sales"] * n_field + ["inside_sales"] * n_inside, "active": True})


def leads_and_deals() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(2)
    n = 600
    created = _days_before(rng, n, 400)
    source = rng.choice(["Web", "Partner Referral", "Trade Show", "search", "referral"], n)
    qualified = rng.random(n) < 0.2
    leads = pd.DataFrame({
        "lead_id": [f"L{i:05d}" for i in range(n)], "created_at": _stamp(created, rng),
        "lead_source": source, "direction": np.where(source == "Trade Show", "outbound", "inbound"),
        "status": np.where(qualified, "qualified", "working"),
        "qualified_at": [_stamp([d + dt.timedelta(days=3)], rng)[0] if q else None
                         for d, q in zip(created, qualified)],
        "opportunity_id": [f"O{i:05d}" if q else None for i, q in enumerate(qualified)],
    })
    opp_ids = [f"O{i:05d}" for i in np.flatnonzero(qualified)]
    m = len(opp_ids)
    opened = [created[i] + dt.timedelta(days=3) for i in np.flatnonzero(qualified)]
    closed = rng.random(m) < 0.6
    won = closed & (rng.random(m) < 0.4)
    closed_at = [_stamp([o + dt.timedelta(days=int(rng.integers(10, 60)))], rng)[0] if c else None
                 for o, c in zip(opened, closed)]
    closed_at = [c if c is None or c < f"{TEST_END}-28" else f"{TEST_END}-20 10:00:00" for c in closed_at]
    opportunities = pd.DataFrame({
        "opportunity_id": opp_ids, "account_id": [f"A{i:05d}" for i in range(m)],
        "lead_id": [f"L{i:05d}" for i in np.flatnonzero(qualified)],
        "owner_rep_id": rng.choice(["FS0", "FS1", "FS2"], m), "created_at": _stamp(opened, rng),
        "stage": np.where(won, "closed_won", np.where(closed, "closed_lost", "proposal")),
        "amount": rng.choice([50000.0, 120000.0, 300000.0], m), "product": "core",
        "closed_at": closed_at, "is_won": won,
    })
    return {"leads": leads, "opportunities": opportunities, "reps": _reps(3, 2)}


def pipeline_only() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(3)
    m = 300
    opened = _days_before(rng, m, 365)
    stage = rng.choice(["qualification", "proposal", "negotiation", "closed_won", "closed_lost"], m,
                       p=[0.2, 0.2, 0.1, 0.25, 0.25])  # many closed deals never passed through the others
    closed = np.isin(stage, ["closed_won", "closed_lost"])
    opportunities = pd.DataFrame({
        "opportunity_id": [f"006{i:015d}" for i in range(m)],  # Salesforce-style 18-character ids
        "account_id": [f"001{i % 120:015d}" for i in range(m)],
        "owner_rep_id": rng.choice(["FS0", "FS1", "FS2", "FS3"], m), "created_at": _stamp(opened, rng),
        "stage": stage, "amount": rng.choice([30000.0, 90000.0, 250000.0], m),
        "product": rng.choice(["Analytics", "analytics ", "Core"], m),
        "closed_at": [_stamp([min(o + dt.timedelta(days=int(rng.integers(5, 90))), END - dt.timedelta(days=1))],
                             rng)[0] if c else None for o, c in zip(opened, closed)],
        "is_won": stage == "closed_won",
    })
    accounts = pd.DataFrame({"account_id": [f"001{i:015d}" for i in range(120)],
                             "name": [f"Account {i}" for i in range(120)],
                             "created_at": _stamp(_days_before(rng, 120, 900), rng)})
    return {"opportunities": opportunities, "accounts": accounts, "reps": _reps(4, 0)}


def one_ad_platform() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(4)
    day = END + dt.timedelta(days=14)  # one reporting day inside the report month
    campaigns = pd.DataFrame({"campaign_id": ["G1", "G2", "G3"], "name": ["Brand", "Generic", "Retargeting"],
                              "channel": ["listing_ads", "listing_ads", "display_ads"],
                              "platform": "google_ads", "start_date": END - dt.timedelta(days=60)})
    spend = pd.DataFrame({"date": day, "campaign_id": ["G1", "G2", "G3"], "impressions": [12000, 40000, 9000],
                          "clicks": [600, 800, 90], "cost": [30000.0, 64000.0, 5400.0]})
    n = 40
    leads = pd.DataFrame({
        "lead_id": [f"GL{i}" for i in range(n)], "created_at": [f"{day.isoformat()} 0{i % 9}:00:00" for i in range(n)],
        "company_name": [f"会社{i}" for i in range(n)], "industry": rng.choice(["製造業", "小売業"], n),
        "lead_source": "search", "campaign_id": rng.choice(["G1", "G2", "G3"], n), "direction": "inbound",
        "status": "new",
    })
    return {"campaigns": campaigns, "ad_spend_daily": spend, "leads": leads}


SHAPES: dict[str, Callable[[], dict[str, pd.DataFrame]]] = {
    "churn_snapshot": churn_snapshot, "leads_and_deals": leads_and_deals,
    "pipeline_only": pipeline_only, "one_ad_platform": one_ad_platform,
}
