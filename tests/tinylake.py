"""A minimal valid lake (2–4 rows per table, every foreign key resolving) for tests.

Tests take `tiny_lake()`, override one table or value to break exactly one rule, and load
or validate the result. Dates and timestamps are ISO text (as in CSV exports); one lead's
created_at carries a +09:00 offset, and names/industries include Japanese text.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def tiny_lake() -> dict[str, pd.DataFrame]:
    """A fresh copy of the tiny valid lake, one DataFrame per contract table."""
    return {
        "reps": pd.DataFrame({
            "rep_id": ["R1", "R2", "R3"],
            "name": ["佐藤 花子", "Ken Suzuki", "田中 一郎"],
            "team": ["inside_sales", "field_sales", "customer_success"],
            "segment": ["smb", "enterprise", None],
            "monthly_sql_capacity": pd.array([None, 30, None], dtype="Int64"),
            "active": [True, True, False],
        }),
        "campaigns": pd.DataFrame({
            "campaign_id": ["C1", "C2"],
            "name": ["春のセミナー", "Search brand"],
            "channel": ["seminar", "listing_ads"],
            "platform": [None, "google_ads"],
            "start_date": ["2026-01-05", "2026-01-01"],
            "end_date": ["2026-01-05", None],
            "budget": [200000.0, None],
        }),
        "ad_spend_daily": pd.DataFrame({
            "date": ["2026-01-01", "2026-01-01", "2026-01-02"],
            "campaign_id": ["C2", "C2", "C2"],
            "creative_id": ["CR1", None, "CR1"],
            "impressions": [1000, 500, 1200],
            "clicks": [30, 10, 41],
            "cost": [4500.0, 1200.0, 5100.5],
        }),
        "accounts": pd.DataFrame({
            "account_id": ["A1", "A2"],
            "name": ["株式会社サンプル", "Acme KK"],
            "industry": ["製造業", "IT"],
            "employee_count": [120, 15],
            "region": ["関東", "Kansai"],
            "created_at": ["2025-11-01 09:00:00", "2025-12-15 10:30:00"],
        }),
        "leads": pd.DataFrame({
            "lead_id": ["L1", "L2", "L3"],
            "created_at": ["2026-01-05T10:00:00+09:00", "2026-01-06 11:00:00",
                           "2026-01-07 12:00:00"],
            "account_id": ["A1", None, "A2"],
            "company_name": ["株式会社サンプル", "個人事業", "Acme KK"],
            "industry": ["製造業", "小売", "IT"],
            "employee_count": pd.array([120, None, 15], dtype="Int64"),
            "region": ["関東", None, "Kansai"],
            "lead_source": ["seminar", "document_request", "list"],
            "campaign_id": ["C1", "C2", None],
            "creative_id": [None, "CR1", None],
            "direction": ["inbound", "inbound", "outbound"],
            "owner_rep_id": ["R1", None, "R1"],
            "status": ["qualified", "new", "qualified"],
            "recycle_reason": [None, None, None],
            "next_approach_date": [None, "2026-02-01", None],
            "qualified_at": ["2026-01-08 09:00:00", None, "2026-01-09 09:00:00"],
            "opportunity_id": ["O1", None, "O2"],
            "counterpart_department": ["情報システム部", None, "Sales"],
            "counterpart_title": ["部長", None, "Manager"],
        }),
        "touchpoints": pd.DataFrame({
            "occurred_at": ["2026-01-04 08:00:00", "2026-01-05 09:00:00"],
            "lead_id": ["L1", "L2"],
            "type": ["page_view", "email_click"],
            "url": ["https://example.com/pricing", None],
        }),
        "activities": pd.DataFrame({
            "activity_id": ["AC1", "AC2", "AC3"],
            "occurred_at": ["2026-01-06 10:00:00", "2026-01-07 10:00:00",
                            "2026-01-10 14:00:00"],
            "rep_id": ["R1", "R1", "R2"],
            "lead_id": ["L1", "L3", None],
            "opportunity_id": [None, None, "O1"],
            "account_id": ["A1", "A2", "A1"],
            "type": ["call", "call", "meeting"],
            "direction": ["outbound", "outbound", "outbound"],
            "connected": pd.array([True, False, None], dtype="boolean"),
        }),
        "opportunities": pd.DataFrame({
            "opportunity_id": ["O1", "O2"],
            "account_id": ["A1", "A2"],
            "lead_id": ["L1", "L3"],
            "owner_rep_id": ["R2", "R2"],
            "created_at": ["2026-01-08 09:00:00", "2026-01-09 09:00:00"],
            "stage": ["closed_won", "proposal"],
            "amount": [50000.0, 30000.0],
            "product": ["Standard", "Pro"],
            "closed_at": ["2026-01-20 17:00:00", None],
            "is_won": [True, False],
            "loss_reason": [None, None],
            "first_meeting_attendees": pd.array([3, None], dtype="Int64"),
        }),
        "opportunity_stage_history": pd.DataFrame({
            "opportunity_id": ["O1", "O1", "O2"],
            "stage": ["qualification", "closed_won", "qualification"],
            "entered_at": ["2026-01-08 09:00:00", "2026-01-20 17:00:00",
                           "2026-01-09 09:00:00"],
        }),
        "subscriptions": pd.DataFrame({
            "subscription_id": ["S1", "S2"],
            "account_id": ["A1", "A2"],
            "plan": ["Standard", "Pro"],
            "mrr": [50000.0, 0.0],
            "start_date": ["2026-02-01", "2025-12-01"],
            "end_date": [None, "2026-01-31"],
        }),
        "product_usage_daily": pd.DataFrame({
            "date": ["2026-02-01", "2026-02-01", "2026-02-02"],
            "account_id": ["A1", "A1", "A1"],
            "event_type": ["login", "active_user", "login"],
            "count": [12, 5, 9],
        }),
        "support_tickets": pd.DataFrame({
            "ticket_id": ["T1", "T2"],
            "account_id": ["A1", "A2"],
            "created_at": ["2026-02-03 10:00:00", "2026-01-12 15:00:00"],
            "category": ["ログイン", "billing"],
            "priority": ["high", "low"],
            "resolved_at": ["2026-02-03 12:00:00", None],
        }),
        "targets": pd.DataFrame({
            "month": ["2026-01-01", "2026-01-01"],
            "department": ["marketing", "inside_sales"],
            "metric": ["leads", "sqls"],
            "target": [100.0, 30.0],
        }),
    }


def write_csv_folder(frames: dict[str, pd.DataFrame], folder: Path) -> Path:
    """Write each frame to `folder`/<table>.csv (UTF-8, header, no index); return `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    return folder
