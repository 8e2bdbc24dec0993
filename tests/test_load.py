"""Building the DuckDB warehouse: staging, validation gate, typed tables, atomic replace."""

from __future__ import annotations

import gzip
import hashlib
import re
from pathlib import Path

import pandas as pd
import pytest

from revbook import contract
from revbook.data.duckdb_engine import META_TABLE, DuckDBWarehouse
from revbook.data.load import LoadError, build_warehouse, fingerprint, load_folder
from revbook.data.validate import validate
from revbook.data.warehouse import WarehouseError
from tinylake import tiny_lake, write_csv_folder


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def broken_lake() -> dict[str, pd.DataFrame]:
    lake = tiny_lake()
    lake["leads"].loc[1, "status"] = "won"
    lake["opportunities"].loc[1, "account_id"] = "A404"
    return lake


@pytest.fixture()
def target(tmp_path: Path) -> Path:
    return tmp_path / "data" / "revbook.duckdb"


def test_frames_build_typed_tables_per_contract(target: Path) -> None:
    lake = tiny_lake()
    lake["leads"] = lake["leads"].iloc[:, ::-1].assign(memo="メモ")  # reordered, one extra
    warnings = build_warehouse(lake, target, {"source": "test"})
    assert [(v.table, v.column, v.rule) for v in warnings] == [("leads", "memo", "extra_column")]
    with DuckDBWarehouse(target) as wh:
        for table in contract.TABLES:
            assert wh.table_columns(table.name) == {c.name: c.sql_type for c in table.columns}
        assert wh.table_columns(META_TABLE) == {"key": "VARCHAR", "value": "VARCHAR"}
        leads = wh.query('SELECT lead_id, created_at FROM leads ORDER BY lead_id')
        meta = wh.meta()
        assert validate(wh) == []
    # the +09:00 offset in the text is honoured: stored as UTC
    assert leads["created_at"][0] == pd.Timestamp("2026-01-05 01:00:00")
    assert meta["source"] == "test"
    assert meta["fingerprint"] == fingerprint(lake)
    assert re.fullmatch(r"[0-9a-f]{12}", meta["fingerprint"])
    assert meta["contract_tables"] == ",".join(t.name for t in contract.TABLES)
    assert meta["built_at"].endswith("+00:00")


def test_csv_folder_with_bom_and_japanese_text(tmp_path: Path, target: Path) -> None:
    lake = tiny_lake()
    folder = write_csv_folder(lake, tmp_path / "lake")
    lake["accounts"].to_csv(folder / "accounts.csv", index=False, encoding="utf-8-sig")
    assert (folder / "accounts.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert load_folder(folder, target) == []
    with DuckDBWarehouse(target) as wh:
        names = wh.query("SELECT account_id, name, industry FROM accounts ORDER BY account_id")
        meta = wh.meta()
    assert names.values.tolist() == [
        ["A1", "株式会社サンプル", "製造業"], ["A2", "Acme KK", "IT"]]
    files = {t.name: folder / f"{t.name}.csv" for t in contract.TABLES}
    assert meta["fingerprint"] == fingerprint(files)
    assert (meta["source"], meta["folder"]) == ("load", str(folder))


def test_parquet_gzip_and_unknown_files(tmp_path: Path, target: Path) -> None:
    lake = tiny_lake()
    folder = write_csv_folder({k: v for k, v in lake.items() if k not in ("leads", "reps")},
                              tmp_path / "lake")
    lake["reps"].to_parquet(folder / "reps.parquet")
    with gzip.open(folder / "leads.csv.gz", "wt", encoding="utf-8") as f:
        lake["leads"].to_csv(f, index=False)
    (folder / "notes.txt").write_text("not a table")
    warnings = load_folder(folder, target)
    assert [(v.table, v.rule, v.severity) for v in warnings] == [
        ("notes.txt", "extra_file", "warning")]
    with DuckDBWarehouse(target) as wh:
        assert wh.query("SELECT count(*) AS n FROM leads")["n"][0] == 3
        assert wh.query("SELECT name FROM reps WHERE rep_id = 'R1'")["name"][0] == "佐藤 花子"


def test_empty_folder_names_folder_and_expected_files(tmp_path: Path, target: Path) -> None:
    with pytest.raises(LoadError) as caught:
        load_folder(tmp_path, target)
    assert str(tmp_path) in str(caught.value)
    assert "leads.csv or leads.parquet" in str(caught.value)
    assert not target.exists()


def test_two_files_for_one_table_are_refused(tmp_path: Path, target: Path) -> None:
    folder = write_csv_folder(tiny_lake(), tmp_path / "lake")
    tiny_lake()["reps"].to_parquet(folder / "reps.parquet")
    with pytest.raises(LoadError, match="reps.csv and reps.parquet"):
        load_folder(folder, target)


def test_a_folder_with_some_tables_loads_and_records_which_hold_data(tmp_path: Path, target: Path) -> None:
    lake = tiny_lake()
    for name in ("targets", "touchpoints", "support_tickets"):
        del lake[name]
    lake["campaigns"] = lake["campaigns"].iloc[0:0]  # header only; leads and ad spend point into it
    lake["accounts"] = lake["accounts"].drop(columns=["industry", "region"])
    warnings = load_folder(write_csv_folder(lake, tmp_path / "lake"), target)
    assert [(v.table, v.column, v.rule) for v in warnings] == [
        ("campaigns", None, "empty_table"), ("accounts", "industry, region", "missing_column"),
        ("touchpoints", None, "missing_table"),
        ("support_tickets", None, "missing_table"), ("targets", None, "missing_table")]
    assert all(v.severity == "warning" for v in warnings)
    with DuckDBWarehouse(target) as wh:
        for name in ("targets", "touchpoints", "support_tickets", "campaigns"):  # built empty, with contract types
            assert wh.row_count(name) == 0 and list(wh.table_columns(name) or {}) == contract.table(name).column_names
        assert wh.query("SELECT COUNT(*) AS n FROM accounts WHERE industry IS NULL")["n"].iloc[0] == 2
        held = [t.name for t in contract.TABLES if t.name not in ("targets", "touchpoints", "support_tickets",
                                                                 "campaigns")]
        assert wh.meta()["tables_with_data"] == ",".join(held)


def test_an_opportunity_without_a_created_date_gets_its_first_stage_entry(target: Path) -> None:
    lake = tiny_lake()
    lake["opportunities"].loc[0, "created_at"] = None
    (filled,) = build_warehouse(lake, target, {"source": "test"})
    assert (filled.rule, filled.count, filled.examples, filled.severity) == (
        "filled", 1, ("opportunity_id=O1",), "warning")
    with DuckDBWarehouse(target) as wh:
        created = wh.query("SELECT created_at FROM opportunities WHERE opportunity_id = 'O1'")["created_at"].iloc[0]
    assert pd.Timestamp(created) == pd.Timestamp("2026-01-08 09:00:00")  # O1's first stage entry


def test_failed_load_leaves_previous_warehouse_untouched(tmp_path: Path, target: Path) -> None:
    build_warehouse(tiny_lake(), target, {"source": "first"})
    before = sha256(target)
    with pytest.raises(LoadError) as caught:
        load_folder(write_csv_folder(broken_lake(), tmp_path / "lake"), target)
    assert [(v.table, v.column, v.rule, v.examples) for v in caught.value.violations] == [
        ("leads", "status", "enum", ("lead_id=L2",)),
        ("opportunities", "account_id", "foreign_key", ("opportunity_id=O2",)),
    ]
    lines = str(caught.value).splitlines()
    assert lines[1:] == [f"  {v}" for v in caught.value.violations]
    assert sha256(target) == before
    assert sorted(p.name for p in target.parent.iterdir() if p.suffix != ".lock") == [target.name]


def test_unreadable_source_leaves_previous_warehouse_untouched(tmp_path: Path,
                                                               target: Path) -> None:
    build_warehouse(tiny_lake(), target, {"source": "first"})
    before = sha256(target)
    bad = tmp_path / "leads.parquet"
    bad.write_bytes(b"not parquet")
    with pytest.raises(LoadError, match="cannot read"):
        build_warehouse({**tiny_lake(), "leads": bad}, target, {"source": "second"})
    assert sha256(target) == before
    assert sorted(p.name for p in target.parent.iterdir() if p.suffix != ".lock") == [target.name]


def test_successful_load_replaces_warehouse(target: Path) -> None:
    build_warehouse(tiny_lake(), target, {"source": "first"})
    lake = tiny_lake()
    lake["subscriptions"].loc[0, "mrr"] = 60000.0
    build_warehouse(lake, target, {"source": "second", "fingerprint": "given"})
    with DuckDBWarehouse(target) as wh:
        assert wh.meta()["source"] == "second"
        assert wh.fingerprint() == "given"
        assert wh.query("SELECT max(mrr) AS m FROM subscriptions")["m"][0] == 60000.0
    assert sorted(p.name for p in target.parent.iterdir() if p.suffix != ".lock") == [target.name]


def test_fingerprint_follows_content() -> None:
    lake = tiny_lake()
    changed = tiny_lake()
    changed["reps"].loc[0, "name"] = "佐藤 花"
    assert fingerprint(lake) == fingerprint(tiny_lake())
    assert fingerprint(lake) != fingerprint(changed)


def test_validating_a_built_warehouse_needs_no_casts(target: Path) -> None:
    build_warehouse(tiny_lake(), target, {"source": "test"})
    queries: list[str] = []
    with DuckDBWarehouse(target) as wh:
        run = wh.query
        wh.query = lambda sql, params=None: queries.append(sql) or run(sql, params)
        assert validate(wh) == []
    assert queries and not [sql for sql in queries if "TRY_CAST" in sql]


def test_windows_line_endings_are_read_and_thousands_separators_are_named(tmp_path: Path, target: Path) -> None:
    lake = tiny_lake()
    folder = write_csv_folder(lake, tmp_path / "lake")
    lake["accounts"].to_csv(folder / "accounts.csv", index=False, lineterminator="\r\n")  # Excel on Windows
    assert b"\r\n" in (folder / "accounts.csv").read_bytes()
    assert load_folder(folder, target) == []
    with DuckDBWarehouse(target) as wh:
        assert wh.query("SELECT name FROM accounts ORDER BY account_id")["name"].tolist() == [
            "株式会社サンプル", "Acme KK"]  # no stray carriage return in the last column
    before = sha256(target)
    subs = lake["subscriptions"].assign(mrr=["50,000", "0"])  # "50,000" is text, not a number: refused
    subs.to_csv(folder / "subscriptions.csv", index=False)
    with pytest.raises(LoadError) as caught:
        load_folder(folder, target)
    assert [str(v) for v in caught.value.violations] == [
        "subscriptions.mrr [type] 1 row with mrr not a valid float; e.g. subscription_id=S1"]
    assert sha256(target) == before


def test_a_deal_closed_by_its_own_fields_but_open_in_its_history_is_named_and_believed(target: Path) -> None:
    lake = tiny_lake()
    lake["opportunities"].loc[1, ["closed_at", "is_won"]] = ["2026-01-25 10:00:00", True]  # O2: history says open
    (warning,) = build_warehouse(lake, target, {"source": "test"})
    assert (warning.rule, warning.count, warning.examples, warning.severity) == (
        "history", 1, ("opportunity_id=O2",), "warning")
    with DuckDBWarehouse(target) as wh:
        open_deals = wh.mart("fs_pipeline", at=[pd.Timestamp("2026-02-01").to_pydatetime()],
                             asof=pd.Timestamp("2026-02-01").date())
    assert open_deals.empty  # O1 closed won in its history, O2 by its own fields: nothing is open


def test_a_rep_on_two_teams_is_on_both_rosters_once(target: Path) -> None:
    from revbook.data import roster

    lake = tiny_lake()
    lake["reps"] = pd.concat([lake["reps"], lake["reps"].iloc[[1]].assign(team="inside_sales")], ignore_index=True)
    build_warehouse(lake, target, {"source": "test"})
    with DuckDBWarehouse(target) as wh:
        assert list(roster.active(wh, "inside_sales")["rep_id"]) == ["R1", "R2"]
        assert list(roster.active(wh, "field_sales")["rep_id"]) == ["R2"]
        idle = wh.mart("fs_idle_deals", asof=pd.Timestamp("2026-06-01").date(),
                       cutoff=pd.Timestamp("2026-05-01").to_pydatetime(), owners=["R2"])
    assert list(idle["opportunity_id"]) == ["O2"]  # one row, not one per team of its owner


def test_has_tells_a_table_an_empty_column_and_an_absent_kind_of_row_apart(target: Path) -> None:
    lake = tiny_lake()
    calls = lake["activities"][lake["activities"]["type"] != "meeting"]
    lake["activities"] = calls.assign(connected=pd.array([None] * len(calls), dtype="boolean"))
    del lake["touchpoints"]
    build_warehouse(lake, target, {"source": "test"})
    with DuckDBWarehouse(target) as wh:
        assert wh.has("activities") and not wh.has("touchpoints") and not wh.has("touchpoints.url")
        assert not wh.has("activities.connected")  # every call's outcome unknown: connects are n/a, not 0
        assert wh.has("activities.type=call") and not wh.has("activities.type=meeting")
        assert wh.has("accounts.industry")
        with pytest.raises(WarehouseError, match="table activities has no column 'kind'"):
            wh.has("activities.kind=call")
