"""The demo company: contract conformance, determinism and the planted truths.

Structure and the planted effects that hold by construction are checked at scale 0.05; the
calibrated rates and the statistical effects on one scale-1 company (about 2 s to generate). Both
are the session's demo companies (conftest: pinned end month and seeds); the tests marked
`planted` must hold for any seed and end month (`make planted`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import SMALL_SEED, TEST_END
from revbook import contract, demo
from revbook.demo import planted

END_MONTH = TEST_END
WINDOW_END = pd.Period(END_MONTH, "M").to_timestamp() + pd.offsets.MonthBegin(1)
AD_CHANNELS = ("listing_ads", "display_ads", "social_ads", "email_ads")


@pytest.fixture(scope="module")
def small(demo_frames) -> dict[str, pd.DataFrame]:
    return demo_frames


@pytest.fixture(scope="module")
def full(scale1_frames) -> dict[str, pd.DataFrame]:
    return scale1_frames


@pytest.fixture(params=["small", "full"])
def frames(request: pytest.FixtureRequest) -> dict[str, pd.DataFrame]:
    return request.getfixturevalue(request.param)


# --- helpers -------------------------------------------------------------------------------------


def monthly_mrr(subs: pd.DataFrame, months: int = 25) -> pd.DataFrame:
    """MRR per account (rows) at the last day of each of the months ending with END_MONTH:
    subscriptions with start_date <= that day and (end_date null or end_date > that day)."""
    ends = pd.period_range(end=END_MONTH, periods=months, freq="M").to_timestamp(how="end").normalize()
    return pd.DataFrame({
        d: subs["mrr"].where((subs["start_date"] <= d) & (subs["end_date"].isna() | (subs["end_date"] > d)), 0)
        .groupby(subs["account_id"]).sum()
        for d in ends
    })


def retention(mrr: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Customer churn rate and NRR of each month after the first column."""
    prev, cur = mrr.iloc[:, :-1].to_numpy(), mrr.iloc[:, 1:].to_numpy()
    paying = prev > 0
    churned = paying & (cur == 0)
    change = np.where(paying & ~churned, cur - prev, 0)
    lost = (prev * churned).sum(axis=0) + np.maximum(-change, 0).sum(axis=0)
    nrr = 1 - (lost - np.maximum(change, 0).sum(axis=0)) / prev.sum(axis=0)
    return churned.sum(axis=0) / paying.sum(axis=0), nrr


def closed_deals(f: dict[str, pd.DataFrame]) -> pd.DataFrame:
    leads = f["leads"][["lead_id", "direction", "industry", "created_at"]].rename(columns={"created_at": "lead_at"})
    opps = f["opportunities"].merge(leads, on="lead_id")
    return opps[opps["closed_at"].notna()]


def fs_loads(f: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """SQLs handed to each FS rep per month: lead meetings by rep and month."""
    acts = f["activities"]
    meetings = acts[(acts["type"] == "meeting") & acts["lead_id"].notna()]
    fs = f["reps"].loc[f["reps"]["team"] == "field_sales", "rep_id"]
    return (meetings.groupby([meetings["rep_id"], meetings["occurred_at"].dt.to_period("M")]).size()
            .unstack(fill_value=0).reindex(fs, fill_value=0))


# --- shape, contract, determinism -------------------------------------------------------------


@pytest.mark.parametrize("today, end", [("2025-01-15", "2024-12"), ("2025-03-01", "2025-02"),
                                        ("2027-01-01", "2026-12"), ("2028-03-01", "2028-02")])
def test_default_end_month_is_the_last_complete_month_before_today(today, end, monkeypatch) -> None:
    monkeypatch.setenv("REVBOOK_TODAY", today)
    targets = demo.generate(0.01)["targets"]
    assert targets["month"].max() == pd.Period(end, "M").to_timestamp()


def test_deterministic(small: dict[str, pd.DataFrame]) -> None:
    again = demo.generate(0.05, SMALL_SEED, END_MONTH)
    for name, frame in small.items():
        pd.testing.assert_frame_equal(frame, again[name], obj=name)
    other = demo.generate(0.05, SMALL_SEED + 1, END_MONTH)
    assert not other["leads"].equals(small["leads"])
    assert not other["product_usage_daily"].equals(small["product_usage_daily"])


def test_tables_follow_contract(frames: dict[str, pd.DataFrame]) -> None:
    assert list(frames) == [t.name for t in contract.TABLES]
    for table in contract.TABLES:
        df = frames[table.name]
        assert len(df) > 0, table.name
        assert list(df.columns) == table.column_names, table.name
        if table.key:
            assert not df.duplicated(list(table.key)).any(), f"{table.name}: duplicate key"
        for col in table.columns:
            s, where = df[col.name], f"{table.name}.{col.name}"
            kind = s.dtype.kind
            expected_kind = {"string": "OU", "int": "i", "float": "f", "bool": "b", "date": "M", "timestamp": "M"}
            assert kind in expected_kind[col.type] or (col.type == "string" and pd.api.types.is_string_dtype(s)), where
            if col.type == "date":
                assert (s.dropna() == s.dropna().dt.normalize()).all(), where
            if not col.nullable:
                assert s.notna().all(), where
            values = s.dropna()
            if col.enum:
                assert values.isin(col.enum).all(), f"{where}: {set(values) - set(col.enum)}"
            if col.non_negative:
                assert (values >= 0).all(), where
            if col.references:
                ref_table, ref_col = col.references.split(".")
                assert values.isin(frames[ref_table][ref_col]).all(), f"{where} -> {col.references}"
            if col.type in ("date", "timestamp") and where != "leads.next_approach_date":  # a plan may be ahead
                assert (values < WINDOW_END).all(), f"{where} after {END_MONTH}"


@pytest.mark.planted
def test_scale_one_size(full: dict[str, pd.DataFrame]) -> None:
    assert 35 <= len(full["reps"]) <= 45
    assert 25_000 <= len(full["leads"]) <= 35_000
    assert 1_700 <= len(full["accounts"]) <= 2_600
    assert 1_300_000 <= len(full["product_usage_daily"]) <= 1_800_000
    assert set(full["product_usage_daily"]["event_type"].unique()) == {
        "login", "active_user", "error", "feature_report", "feature_dashboard", "feature_api"}
    assert (full["product_usage_daily"]["count"] > 0).all()


def test_reps(small: dict[str, pd.DataFrame]) -> None:
    reps = small["reps"]
    teams = reps["team"].value_counts()
    assert teams["marketing"] >= 1 and teams["inside_sales"] >= 2
    assert teams["field_sales"] >= 3 and teams["customer_success"] >= 2
    assert reps["name"].str.contains("'").sum() == 1
    assert not reps["name"].str.contains("<", regex=False).any()  # realistic names: markup lives in the tests' lakes
    fs = reps["team"] == "field_sales"
    assert reps.loc[fs, "monthly_sql_capacity"].notna().all() and reps.loc[~fs, "monthly_sql_capacity"].isna().all()
    assert set(reps.loc[fs, "segment"]) == set(contract.SEGMENTS)
    assert set(small["accounts"]["industry"]) <= set(demo.INDUSTRIES)


def test_funnel_is_linked(frames: dict[str, pd.DataFrame]) -> None:
    leads, opps, acts, reps = frames["leads"], frames["opportunities"], frames["activities"], frames["reps"]
    team = reps.set_index("rep_id")["team"]
    # SQLs are the qualified leads; IS reps own leads, FS reps own deals
    assert ((leads["status"] == "qualified") == leads["qualified_at"].notna()).all()
    assert (team[leads["owner_rep_id"].dropna()] == "inside_sales").all()
    assert (team[opps["owner_rep_id"]] == "field_sales").all()
    # lead <-> opportunity <-> account
    linked = leads.dropna(subset=["opportunity_id"]).merge(opps, on="opportunity_id", suffixes=("", "_opp"))
    assert len(linked) == len(opps)
    assert (linked["lead_id"] == linked["lead_id_opp"]).all()
    assert (linked["account_id"] == linked["account_id_opp"]).all()
    accounts = frames["accounts"].set_index("account_id")
    assert (accounts.loc[opps["account_id"], "created_at"].to_numpy() == opps["created_at"].to_numpy()).all()
    # each deal starts at its lead's FS meeting, 1-14 days after qualification
    meetings = acts[(acts["type"] == "meeting") & acts["lead_id"].notna()]
    assert (team[meetings["rep_id"]] == "field_sales").all()
    first = opps.merge(meetings, on="opportunity_id", suffixes=("", "_m"))
    assert len(first) == len(opps)
    assert (first["occurred_at"] == first["created_at"]).all() and (first["rep_id"] == first["owner_rep_id"]).all()
    lag = meetings.merge(leads, on="lead_id", suffixes=("", "_lead"))
    lag = (lag["occurred_at"] - lag["qualified_at"]).dt.total_seconds() / 86_400
    assert lag.between(0.9, 14.1).all()
    # closed deals carry closed_at, open ones do not; stage = last stage history entry
    closed = opps["stage"].isin(["closed_won", "closed_lost"])
    assert (closed == opps["closed_at"].notna()).all()
    assert (opps["is_won"] == (opps["stage"] == "closed_won")).all()
    assert (opps["loss_reason"].notna() == (opps["stage"] == "closed_lost")).all()
    history = frames["opportunity_stage_history"].sort_values("entered_at")
    last = history.groupby("opportunity_id")["stage"].last()
    assert (last[opps["opportunity_id"]].to_numpy() == opps["stage"].to_numpy()).all()


def test_won_deals_become_customers(frames: dict[str, pd.DataFrame]) -> None:
    won = frames["opportunities"].query("is_won")
    subs = frames["subscriptions"]
    first = subs.sort_values("start_date").groupby("account_id").first()
    first = first.loc[won["account_id"]]
    assert (first["start_date"].to_numpy() == won["closed_at"].dt.normalize().to_numpy()).all()
    assert (first["mrr"].to_numpy() == won["amount"].to_numpy()).all()
    lost_accounts = frames["opportunities"].query("not is_won")["account_id"]
    assert not lost_accounts.isin(subs["account_id"]).any()


def test_targets(small: dict[str, pd.DataFrame]) -> None:
    targets = small["targets"]
    assert targets["month"].nunique() == 24
    assert targets["month"].max() == pd.Timestamp(f"{END_MONTH}-01")
    sales_ops = set(targets.loc[targets["department"] == "sales_ops", "metric"])
    assert sales_ops == {"new_leads", "meetings", "opportunities", "won_deals", "average_deal_size", "new_mrr",
                         "ending_mrr", "customer_churn_rate", "net_revenue_churn_rate", "grr", "nrr"}
    assert set(targets["department"]) == set(contract.DEPARTMENTS)
    assert (targets.groupby(["department", "metric"]).size() == 24).all()


@pytest.mark.planted
def test_leads_per_month_plan_is_neither_copy_nor_always_met(full: dict[str, pd.DataFrame]) -> None:
    plan = full["targets"].query("department == 'sales_ops' and metric == 'new_leads'").set_index("month")["target"]
    actual = full["leads"].groupby(full["leads"]["created_at"].dt.to_period("M").dt.to_timestamp()).size()
    actual = actual.reindex(plan.index)
    met = actual >= plan
    assert 3 <= met.sum() <= 21
    assert (actual - plan).abs().div(actual).median() < 0.25


# --- planted truths -------------------------------------------------------------------------------


@pytest.mark.planted
def test_churn_and_nrr_are_calibrated(full: dict[str, pd.DataFrame]) -> None:
    churn, nrr = retention(monthly_mrr(full["subscriptions"]))
    assert abs(churn[-12:].mean() - planted.MONTHLY_CUSTOMER_CHURN) <= 0.003
    assert abs(nrr[-12:].mean() - planted.MONTHLY_NRR) <= 0.01
    assert (nrr > 1).sum() >= 3  # months of negative net revenue churn
    paying_at_start = (monthly_mrr(full["subscriptions"]).iloc[:, 0] > 0).sum()
    assert 0.4 <= paying_at_start / len(full["accounts"]) <= 0.5


@pytest.mark.planted
def test_some_churned_customers_come_back(full: dict[str, pd.DataFrame]) -> None:
    subs = full["subscriptions"].sort_values(["account_id", "start_date"])
    previous_end = subs.groupby("account_id")["end_date"].shift()
    gaps = (subs["start_date"] - previous_end).dt.days
    assert 3 <= (gaps > 0).sum() <= 100


@pytest.mark.planted
def test_one_fs_rep_over_capacity(frames: dict[str, pd.DataFrame]) -> None:
    loads = fs_loads(frames)
    capacity = frames["reps"].set_index("rep_id")["monthly_sql_capacity"].astype(float)
    over = loads.gt(capacity[loads.index], axis=0)
    last3 = pd.period_range(end=END_MONTH, periods=planted.OVER_CAPACITY_MONTHS, freq="M")
    assert over.loc[planted.OVER_CAPACITY_FS_REP, last3].all()
    assert not over.drop(index=planted.OVER_CAPACITY_FS_REP).any().any()


@pytest.mark.planted
def test_idle_deals(frames: dict[str, pd.DataFrame]) -> None:
    idle = planted.planted_idle_deals(frames)
    opps = frames["opportunities"]
    open_ids = set(opps.loc[opps["closed_at"].isna(), "opportunity_id"])
    assert idle and idle < open_ids
    acts = frames["activities"].dropna(subset=["opportunity_id"])
    days_since = (WINDOW_END - acts.groupby("opportunity_id")["occurred_at"].max()).dt.days
    assert (days_since[sorted(idle)] >= planted.IDLE_DEAL_DAYS + 7).all()
    assert (days_since[sorted(open_ids - idle)] <= 20).all()


@pytest.mark.planted
def test_cheap_campaign(frames: dict[str, pd.DataFrame]) -> None:
    campaigns, leads = frames["campaigns"], frames["leads"]
    ads = campaigns.loc[campaigns["channel"].isin(AD_CHANNELS), "campaign_id"]
    cost = frames["ad_spend_daily"].groupby("campaign_id")["cost"].sum()
    ad_leads = leads[leads["campaign_id"].isin(ads)].groupby("campaign_id")
    cpl = cost / ad_leads.size()
    target_share = ad_leads["industry"].apply(lambda s: s.isin(planted.TARGET_INDUSTRIES).mean())
    cheap = planted.CHEAP_OFF_TARGET_CAMPAIGN
    assert cpl.idxmin() == cheap and cpl.drop(cheap).min() > 2 * cpl[cheap]
    assert target_share.idxmin() == cheap and target_share[cheap] < 0.5 * target_share.drop(cheap).median()
    non_ads = campaigns.loc[~campaigns["channel"].isin(AD_CHANNELS), "campaign_id"]
    assert set(frames["ad_spend_daily"]["campaign_id"]) == set(ads)
    assert not non_ads.isin(frames["ad_spend_daily"]["campaign_id"]).any()


@pytest.mark.planted
def test_cheap_campaign_converts_worse(full: dict[str, pd.DataFrame]) -> None:
    """At scale 1 (the cheap campaign's ~60 leads at scale 0.05 make a handful of opportunities)."""
    leads = full["leads"]
    ads = full["campaigns"].loc[full["campaigns"]["channel"].isin(AD_CHANNELS), "campaign_id"]
    opp_rate = leads[leads["campaign_id"].isin(ads)].groupby("campaign_id")["opportunity_id"].apply(
        lambda s: s.notna().mean())
    cheap = planted.CHEAP_OFF_TARGET_CAMPAIGN
    assert opp_rate[cheap] < 0.7 * opp_rate.drop(cheap).mean()


@pytest.mark.planted
def test_inbound_wins_more_faster_outbound_bigger(full: dict[str, pd.DataFrame]) -> None:
    deals = closed_deals(full)
    win = deals.groupby("direction")["is_won"].mean()
    assert win["inbound"] > win["outbound"] + 0.08
    won = deals[deals["is_won"]]
    cycle = (won["closed_at"] - won["created_at"]).dt.days.groupby(won["direction"]).median()
    lead_time = (won["closed_at"] - won["lead_at"]).dt.days.groupby(won["direction"]).median()
    assert cycle["inbound"] < cycle["outbound"] and lead_time["inbound"] < lead_time["outbound"]
    size = full["opportunities"].merge(full["leads"][["lead_id", "direction"]]).groupby("direction")["amount"].median()
    assert size["outbound"] > size["inbound"]


@pytest.mark.planted
def test_more_attendees_win_more(full: dict[str, pd.DataFrame]) -> None:
    win = closed_deals(full).groupby("first_meeting_attendees")["is_won"].mean()
    assert list(win.index) == [1, 2, 3, 4, 5]
    assert np.corrcoef(win.index, win.to_numpy())[0, 1] > 0.9 and win[5] > win[1] + 0.2


@pytest.mark.planted
def test_target_industries_convert_better(full: dict[str, pd.DataFrame]) -> None:
    leads = full["leads"]
    target = leads["industry"].isin(planted.TARGET_INDUSTRIES)
    sql_rate = leads["qualified_at"].notna().groupby(target).mean()
    assert sql_rate[True] > 1.4 * sql_rate[False]
    deals = closed_deals(full)
    win = deals["is_won"].groupby(deals["industry"].isin(planted.TARGET_INDUSTRIES)).mean()
    assert win[True] > 1.3 * win[False]


@pytest.mark.planted
def test_customer_health_signals(full: dict[str, pd.DataFrame]) -> None:
    """No login for NO_LOGIN_DAYS, a high error rate and heavy feature_api use show up in churn
    and expansion the way the planted multipliers say."""
    mrr = monthly_mrr(full["subscriptions"])
    usage = full["product_usage_daily"]
    logins = usage[usage["event_type"] == "login"]
    rows = []
    for month_end, next_end in zip(mrr.columns[1:-1], mrr.columns[2:]):
        paying = mrr.index[mrr[month_end] > 0]
        last = logins[logins["date"] <= month_end].groupby("account_id")["date"].max().reindex(paying)
        quiet = ((month_end - last).dt.days >= planted.NO_LOGIN_DAYS) | last.isna()
        rows.append(pd.DataFrame({"quiet": quiet.to_numpy(), "churned": (mrr.loc[paying, next_end] == 0).to_numpy()}))
    churn = pd.concat(rows).groupby("quiet")["churned"].mean()
    assert churn[True] > 2.5 * churn[False]

    totals = usage.pivot_table(index="account_id", columns="event_type", values="count", aggfunc="sum", fill_value=0)
    totals = totals.reindex(mrr.index, fill_value=0)
    prev, cur = mrr.iloc[:, :-1].to_numpy(), mrr.iloc[:, 1:].to_numpy()
    ever_churned = pd.Series(((prev > 0) & (cur == 0)).any(axis=1), index=mrr.index)
    expansions = pd.Series(((prev > 0) & (cur > prev)).sum(axis=1), index=mrr.index)
    error_rate = totals["error"] / totals["login"].clip(lower=1)
    high_error = error_rate > 0.1
    assert ever_churned[high_error].mean() > 1.5 * ever_churned[~high_error].mean()
    api = totals[planted.UPSELL_FEATURE] / totals["login"].clip(lower=1)
    heavy = api >= api.quantile(1 - planted.API_HEAVY_SHARE)
    assert expansions[heavy].mean() > 1.8 * expansions[~heavy].mean()


@pytest.mark.planted
def test_fiscal_year_seasonality(full: dict[str, pd.DataFrame]) -> None:
    leads = full["leads"]
    monthly = leads.groupby(leads["created_at"].dt.to_period("M")).size()
    end = pd.Period(END_MONTH, "M")
    year = end.year if end.month >= 9 else end.year - 1  # the latest January..September in the window
    month = {m: monthly[pd.Period(f"{year}-{m:02d}", "M")] for m in range(1, 10)}
    assert month[3] > max(month[2], month[4])  # fiscal year-end peak
    assert month[8] < min(month[7], month[9])  # Obon
    assert month[1] < month[3]  # New Year


def test_the_parquet_lake_demo_writes_holds_the_same_tables_as_the_frames(tmp_path, monkeypatch):
    """`revbook demo` streams tables to Parquet (usage in blocks of accounts, activities in parts
    sorted by DuckDB); the warehouse it loads must be the one the in-memory frames make."""
    from revbook.data import load
    from revbook.data.duckdb_engine import DuckDBWarehouse
    from revbook.demo import customers

    monkeypatch.setattr(customers, "USAGE_BLOCK_CELLS", 20_000)  # many blocks, as at scale 100
    frames = demo.generate(0.05, SMALL_SEED, END_MONTH)
    files = demo.write(tmp_path / "lake", 0.05, SMALL_SEED, END_MONTH)
    assert list(files) == [t.name for t in contract.TABLES]
    assert sorted(p.name for p in (tmp_path / "lake").iterdir()) == sorted(f"{t.name}.parquet" for t in contract.TABLES)
    load.build_warehouse(frames, tmp_path / "frames.duckdb", {"source": "test"})
    load.build_warehouse(dict(files), tmp_path / "lake.duckdb", {"source": "test"})
    with DuckDBWarehouse(tmp_path / "frames.duckdb") as wh:
        wh.con.execute(f"ATTACH '{tmp_path / 'lake.duckdb'}' AS lake (READ_ONLY)")
        for t in contract.TABLES:
            assert len(frames[t.name]) > 0
            for a, b in ((t.name, f"lake.{t.name}"), (f"lake.{t.name}", t.name)):
                extra = wh.con.execute(f"SELECT count(*) FROM (SELECT * FROM {a} EXCEPT ALL SELECT * FROM {b})")
                assert extra.fetchone() == (0,), (t.name, a)
