"""Contract validation run in the warehouse: every rule, on typed frames and on raw CSV text."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
import sqlglot
from sqlglot import exp

from revbook import contract
from revbook.data.duckdb_engine import DuckDBWarehouse
from revbook.data.validate import Violation, validate
from revbook.data.warehouse import Warehouse, transpile
from tinylake import tiny_lake, write_csv_folder

Check = Callable[[dict[str, pd.DataFrame]], list[Violation]]


def stage(frames: dict[str, pd.DataFrame], folder: Path, mode: str) -> DuckDBWarehouse:
    """A warehouse holding `frames` as is: typed ("frame") or as all-VARCHAR CSV text ("csv")."""
    wh = DuckDBWarehouse(folder / "staged.duckdb", read_only=False)
    csv = write_csv_folder(frames, folder / "csv") if mode == "csv" else None
    for name, frame in frames.items():
        if csv is not None:
            wh.con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM '
                           "read_csv($path, header = true, all_varchar = true)",
                           {"path": str(csv / f"{name}.csv")})
        else:
            wh.con.register("frame", frame)
            wh.con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM frame')
            wh.con.unregister("frame")
    return wh


@pytest.fixture(params=["frame", "csv"])
def check(request: pytest.FixtureRequest, tmp_path: Path) -> Check:
    """validate() on a lake staged typed ("frame") or as raw text ("csv")."""
    def run(frames: dict[str, pd.DataFrame]) -> list[Violation]:
        with stage(frames, tmp_path, request.param) as wh:
            return validate(wh)
    return run


def summary(violations: list[Violation]) -> list[tuple]:
    return [(v.table, v.column, v.rule, v.count, v.examples, v.severity) for v in violations]


def test_tiny_lake_is_clean(check: Check) -> None:
    assert check(tiny_lake()) == []


def test_missing_table_is_a_warning_and_skips_foreign_keys_into_it(check: Check) -> None:
    lake = tiny_lake()
    del lake["accounts"]
    (found,) = check(lake)
    assert summary([found]) == [("accounts", None, "missing_table", 0, (), "warning")]
    assert str(found) == "accounts [missing_table] warning: table accounts is absent: reports that need accounts say so"


def test_empty_table_is_a_warning_and_skips_foreign_keys_into_it(check: Check) -> None:
    lake = tiny_lake()
    lake["targets"] = lake["targets"].iloc[0:0]
    lake["campaigns"] = lake["campaigns"].iloc[0:0]  # leads and ad spend point into it
    assert summary(check(lake)) == [("campaigns", None, "empty_table", 0, (), "warning"),
                                    ("targets", None, "empty_table", 0, (), "warning")]


def test_missing_column(check: Check) -> None:
    lake = tiny_lake()
    lake["subscriptions"] = lake["subscriptions"].drop(columns="mrr")
    assert summary(check(lake)) == [("subscriptions", "mrr", "missing_column", 0, (), "error")]


def test_optional_columns_real_exports_lack_are_warnings(check: Check) -> None:
    lake = tiny_lake()
    lake["accounts"] = lake["accounts"].drop(columns=["industry", "employee_count", "region"])
    lake["leads"] = lake["leads"].drop(columns=["company_name"])
    found = check(lake)
    assert summary(found) == [("accounts", "industry, employee_count, region", "missing_column", 0, (), "warning"),
                              ("leads", "company_name", "missing_column", 0, (), "warning")]
    assert str(found[0]) == ("accounts.industry, employee_count, region [missing_column] warning: optional columns "
                             "absent, left empty")


def test_extra_column_is_only_a_warning(check: Check) -> None:
    lake = tiny_lake()
    lake["leads"]["memo"] = "メモ"
    (found,) = check(lake)
    assert (found.table, found.column, found.rule, found.severity) == (
        "leads", "memo", "extra_column", "warning")
    assert "warning" in str(found)


def test_bad_date(check: Check) -> None:
    lake = tiny_lake()
    lake["subscriptions"].loc[1, "start_date"] = "2026-13-45"
    assert summary(check(lake)) == [
        ("subscriptions", "start_date", "type", 1, ("subscription_id=S2",), "error")]


def test_null_key_names_the_row_not_a_duplicate(check: Check) -> None:
    lake = tiny_lake()
    lake["leads"].loc[1, "lead_id"] = None  # L2: nothing else refers to it but touchpoints
    lake["touchpoints"] = lake["touchpoints"].iloc[:1]
    assert summary(check(lake)) == [("leads", "lead_id", "not_null", 1, ("row 2",), "error")]


def test_duplicate_key(check: Check) -> None:
    lake = tiny_lake()
    lake["leads"] = pd.concat([lake["leads"], lake["leads"].iloc[[1]].assign(lead_id="L1")],
                              ignore_index=True)
    assert summary(check(lake)) == [("leads", "lead_id", "unique_key", 2, ("lead_id=L1",), "error")]


def test_null_key_parts_compare_equal(check: Check) -> None:
    lake = tiny_lake()
    spend = lake["ad_spend_daily"]
    lake["ad_spend_daily"] = pd.concat([spend, spend.iloc[[1]]], ignore_index=True)
    assert summary(check(lake)) == [(
        "ad_spend_daily", "date, campaign_id, creative_id", "unique_key", 2,
        ("(date=2026-01-01, campaign_id=C2, creative_id=NULL)",), "error")]


def test_enum(check: Check) -> None:
    lake = tiny_lake()
    lake["leads"].loc[1, "status"] = "won-deal"
    (found,) = check(lake)
    assert summary([found]) == [("leads", "status", "enum", 1, ("lead_id=L2",), "error")]
    assert str(found) == ("leads.status [enum] 1 row with status outside (new, working, "
                          "nurturing, recycled, qualified, disqualified): 'won-deal' ×1; e.g. lead_id=L2")


def test_open_vocabularies_keep_unknown_values_and_count_them(check: Check) -> None:
    lake = tiny_lake()
    lake["leads"]["lead_source"] = ["Web", "Partner Referral", "Web"]
    (found,) = check(lake)
    assert summary([found]) == [("leads", "lead_source", "enum", 3, ("lead_id=L1", "lead_id=L2", "lead_id=L3"),
                                 "warning")]
    assert "'Web' ×2, 'Partner Referral' ×1" in str(found) and "kept as it is" in str(found)


def test_numbers_that_cannot_be_trusted_are_refused(check: Check) -> None:
    lake = tiny_lake()
    lake["subscriptions"]["mrr"] = ["NaN", "inf"]  # as an export writes them
    lake["opportunities"]["first_meeting_attendees"] = [12.5, 2.0]
    assert summary(check(lake)) == [
        ("opportunities", "first_meeting_attendees", "not_integer", 1, ("opportunity_id=O1",), "error"),
        ("subscriptions", "mrr", "not_finite", 2, ("subscription_id=S1", "subscription_id=S2"), "error"),
    ]


def test_negative_mrr(check: Check) -> None:
    lake = tiny_lake()
    lake["subscriptions"].loc[0, "mrr"] = -1.0
    assert summary(check(lake)) == [
        ("subscriptions", "mrr", "non_negative", 1, ("subscription_id=S1",), "error")]


def test_dangling_foreign_key(check: Check) -> None:
    lake = tiny_lake()
    lake["opportunities"].loc[1, "account_id"] = "A404"
    assert summary(check(lake)) == [
        ("opportunities", "account_id", "foreign_key", 1, ("opportunity_id=O2",), "error")]


def test_keyless_table_examples_are_row_numbers(check: Check) -> None:
    lake = tiny_lake()
    lake["touchpoints"].loc[1, "type"] = "fax"
    assert summary(check(lake)) == [("touchpoints", "type", "enum", 1, ("row 2",), "error")]


def test_examples_are_capped_and_ordered_by_key(check: Check) -> None:
    lake = tiny_lake()
    many = pd.concat([lake["targets"]] * 4, ignore_index=True)
    many["metric"] = [f"m{i}" for i in range(len(many))]
    many["department"] = "sales"
    lake["targets"] = many
    (found,) = check(lake)
    assert (found.rule, found.count, len(found.examples)) == ("enum", 8, 5)
    assert found.examples[0] == "(month=2026-01-01, department=sales, metric=m0)"
    assert list(found.examples) == sorted(found.examples)


def test_sql_binds_values_and_transpiles_to_bigquery(tmp_path: Path) -> None:
    lake = tiny_lake()
    lake["leads"].loc[1, "status"] = "won-deal"
    lake["opportunities"].loc[1, "account_id"] = "A404"
    queries: list[tuple[str, dict]] = []
    with stage(lake, tmp_path, "csv") as wh:
        run = wh.query
        wh.query = lambda sql, params=None: queries.append((sql, params or {})) or run(sql, params)
        assert {v.rule for v in validate(wh)} == {"enum", "foreign_key"}

    assert len(queries) <= 7 * len(contract.TABLES)  # count + at most one query per rule
    params = {k: v for _, p in queries for k, v in p.items()}
    assert params["allowed_status"] == list(contract.LEAD_STATUSES)
    for sql, _ in queries:
        assert "won-deal" not in sql and "A404" not in sql
        tree = sqlglot.parse_one(sql, read="duckdb")
        assert not [lit for lit in tree.find_all(exp.Literal) if lit.is_string], sql
        assert transpile(sql, "bigquery")
    enum_sql = next(sql for sql, p in queries if "allowed_status" in p)
    assert "@allowed_status" in transpile(enum_sql, "bigquery")



class BigQueryShaped(Warehouse):
    """A typed lake as BigQuery would describe it; every query must parse as BigQuery SQL."""

    dialect = "bigquery"
    TYPES = {"string": "STRING", "int": "INT64", "float": "FLOAT64", "bool": "BOOL",
             "date": "DATE", "timestamp": "TIMESTAMP"}

    def __init__(self) -> None:
        self.queries: list[tuple[str, dict]] = []

    def table_columns(self, table: str) -> dict[str, str]:
        return {c.name: self.TYPES[c.type] for c in contract.table(table).columns}

    def fingerprint(self) -> str:
        return "fake"

    def describe(self) -> str:
        return "fake BigQuery"

    def query(self, sql: str, params: dict | None = None) -> pd.DataFrame:
        self.queries.append((sql, params or {}))
        sqlglot.parse_one(sql, read="bigquery")
        if sql.startswith("SELECT COUNT(*)"):
            return pd.DataFrame({"_count": [3]})
        return pd.DataFrame({"_check": [], "_count": []})


def test_same_validation_renders_for_bigquery() -> None:
    wh = BigQueryShaped()
    assert validate(wh) == []
    sql = "\n".join(q for q, _ in wh.queries)
    assert "@allowed_status" in sql and "$" not in sql and "rowid" not in sql
    assert "SAFE_CAST" not in sql  # typed columns matching the contract are not re-checked
    assert {k for _, p in wh.queries for k in p} == {
        f"allowed_{c.name}" for t in contract.TABLES for c in t.columns if c.enum} | {"now", "today"}


def test_bigquery_columns_must_already_have_the_contract_type() -> None:
    """No load step casts a BigQuery lake: a DATETIME where a TIMESTAMP belongs is named."""
    wh = BigQueryShaped()
    wh.TYPES = {**BigQueryShaped.TYPES, "timestamp": "DATETIME"}
    found = [v for v in validate(wh) if v.table == "leads" and v.column == "created_at"]
    assert any(v.rule == "type" and "column created_at is DATETIME; the reports need TIMESTAMP (timestamp)" in v.detail
               for v in found)


def test_events_in_the_future(check: Check) -> None:
    lake = tiny_lake()
    lake["activities"].loc[0, "occurred_at"] = "2099-01-01T09:00:00"
    lake["ad_spend_daily"].loc[0, "date"] = "2099-01-01"
    lake["leads"].loc[0, "next_approach_date"] = "2099-01-01"  # a plan, not an event: allowed
    found = {(v.table, v.column): v for v in check(lake)}
    assert set(found) == {("activities", "occurred_at"), ("ad_spend_daily", "date")}
    assert found["activities", "occurred_at"].rule == "future"
    assert str(found["ad_spend_daily", "date"]).startswith(
        "ad_spend_daily.date [future] 1 row with date in the future (after ")


def _r2_also_in_inside_sales(times: int) -> dict[str, pd.DataFrame]:
    lake = tiny_lake()
    both = lake["reps"].iloc[[1]].assign(team="inside_sales")  # R2: field sales and inside sales
    lake["reps"] = pd.concat([lake["reps"], *[both] * times], ignore_index=True)
    return lake


def test_a_rep_may_be_on_two_teams(check: Check) -> None:
    assert check(_r2_also_in_inside_sales(1)) == []


def test_but_not_twice_on_one(check: Check) -> None:
    assert summary(check(_r2_also_in_inside_sales(2))) == [
        ("reps", "rep_id, team", "unique_key", 2, ("(rep_id=R2, team=inside_sales)",), "error")]
