"""A Salesforce-shaped CSV export, written here: one file per object (User, Account, Lead, Campaign,
Opportunity, OpportunityHistory, Task) with Salesforce's API field names, 18-character ids, ISO
timestamps with a Z, "true"/"false" booleans and the stock picklist values ("Closed Won", "Web",
"Partner Referral", ...). Drawn from a fixed seed, ending in the test month."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from conftest import TEST_END

END = dt.date.fromisoformat(f"{TEST_END}-01") + dt.timedelta(days=27)


def sf_id(prefix: str, i: int) -> str:
    """An 18-character Salesforce id: 3-character key prefix, 12 digits, 3-character checksum."""
    return f"{prefix}{i:012d}AAA"


def _when(d: dt.date, hour: int) -> str:
    return f"{d.isoformat()}T{hour:02d}:30:00.000Z"


def write(folder: Path) -> Path:
    rng = np.random.default_rng(5)
    folder.mkdir(parents=True, exist_ok=True)
    users = pd.DataFrame({
        "Id": [sf_id("005", i) for i in range(6)], "Name": ["Aiko Sato", "Ben Ito", "Chie Mori", "Dai Ono",
                                                          "Emi Abe", "Fumi Kato"],
        "Department": ["Sales Development", "Sales Development", "Account Executives", "Account Executives",
                       "Account Executives", "Customer Success"],
        "IsActive": ["true"] * 6, "Email": [f"u{i}@example.com" for i in range(6)],
    })
    n_accounts = 80
    accounts = pd.DataFrame({
        "Id": [sf_id("001", i) for i in range(n_accounts)], "Name": [f"株式会社テスト{i}" for i in range(n_accounts)],
        "Industry": rng.choice(["Technology", "Manufacturing", "Finance", "Retail"], n_accounts),
        "NumberOfEmployees": rng.integers(5, 3000, n_accounts).astype(str),
        "BillingState": rng.choice(["Tokyo", "Osaka", ""], n_accounts),
        "CreatedDate": [_when(END - dt.timedelta(days=int(d)), 1) for d in rng.integers(200, 700, n_accounts)],
    })
    campaigns = pd.DataFrame({
        "Id": [sf_id("701", i) for i in range(3)], "Name": ["Spring Webinar", "Search Ads", "Expo"],
        "Type": ["Webinar", "Advertisement", "Trade Show"], "StartDate": ["2025-10-01", "2025-11-01", "2026-05-10"],
        "EndDate": ["", "", "2026-05-12"], "BudgetedCost": ["300000", "", "1200000"],
    })
    n_leads = 300
    created = [END - dt.timedelta(days=int(d)) for d in rng.integers(1, 360, n_leads)]
    converted = rng.random(n_leads) < 0.25
    leads = pd.DataFrame({
        "Id": [sf_id("00Q", i) for i in range(n_leads)], "CreatedDate": [_when(d, 2) for d in created],
        "Company": [f"Lead Co {i}" for i in range(n_leads)],
        "Industry": rng.choice(["Technology", "Manufacturing", "Retail", ""], n_leads),
        "NumberOfEmployees": rng.integers(1, 5000, n_leads).astype(str), "State": "",
        "LeadSource": rng.choice(["Web", "Partner Referral", "Trade Show", "Purchased List", "Cold Call"], n_leads),
        "OwnerId": rng.choice(users["Id"][:2], n_leads),
        "Status": np.where(converted, "Closed - Converted", rng.choice(["Open - Not Contacted", "Working - Contacted",
                                                                        "Closed - Not Converted"], n_leads)),
        "IsConverted": np.where(converted, "true", "false"),
        "ConvertedDate": [(d + dt.timedelta(days=5)).isoformat() if c else "" for d, c in zip(created, converted)],
        "ConvertedAccountId": [sf_id("001", i % n_accounts) if c else "" for i, c in enumerate(converted)],
        "ConvertedOpportunityId": [sf_id("006", i) if c else "" for i, c in enumerate(converted)],
        "Title": rng.choice(["部長", "Manager", ""], n_leads),
    })
    opp_index = np.flatnonzero(converted)
    opened = [min(created[i] + dt.timedelta(days=5), END - dt.timedelta(days=1)) for i in opp_index]
    stage = rng.choice(["Prospecting", "Proposal/Price Quote", "Negotiation/Review", "Closed Won", "Closed Lost"],
                       len(opp_index), p=[0.2, 0.2, 0.1, 0.25, 0.25])
    closed = np.isin(stage, ["Closed Won", "Closed Lost"])
    close = [min(o + dt.timedelta(days=int(rng.integers(5, 80))), END) for o in opened]
    opportunities = pd.DataFrame({
        "Id": [sf_id("006", i) for i in opp_index], "AccountId": [sf_id("001", i % n_accounts) for i in opp_index],
        "OwnerId": rng.choice(users["Id"][2:5], len(opp_index)), "CreatedDate": [_when(d, 3) for d in opened],
        "StageName": stage, "Amount": rng.choice(["50000", "120000", "300000"], len(opp_index)),
        "Type": rng.choice(["New Customer", "New Business"], len(opp_index)),
        "CloseDate": [d.isoformat() for d in close], "IsClosed": np.where(closed, "true", "false"),
        "IsWon": np.where(stage == "Closed Won", "true", "false"),
    })
    history = pd.concat([
        pd.DataFrame({"OpportunityId": opportunities["Id"], "StageName": "Prospecting",
                      "CreatedDate": opportunities["CreatedDate"]}),
        pd.DataFrame({"OpportunityId": opportunities["Id"][closed], "StageName": stage[closed],
                      "CreatedDate": [_when(d, 9) for d, c in zip(close, closed) if c]}),
    ], ignore_index=True)
    n_tasks = 500
    task_lead = rng.integers(0, n_leads, n_tasks)
    tasks = pd.DataFrame({
        "Id": [sf_id("00T", i) for i in range(n_tasks)],
        "CreatedDate": [_when(max(created[j], END - dt.timedelta(days=int(d))), 4)
                        for j, d in zip(task_lead, rng.integers(1, 90, n_tasks))],
        "OwnerId": rng.choice(users["Id"][:2], n_tasks),
        "WhoId": [sf_id("00Q", j) if k else sf_id("003", j) for j, k in zip(task_lead, rng.random(n_tasks) < 0.8)],
        "WhatId": ["" for _ in range(n_tasks)], "AccountId": "",
        "TaskSubtype": rng.choice(["Call", "Email", "Task"], n_tasks), "Subject": "Follow up",
    })
    for name, frame in {"User": users, "Account": accounts, "Campaign": campaigns, "Lead": leads,
                        "Opportunity": opportunities, "OpportunityHistory": history, "Task": tasks}.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    return folder
