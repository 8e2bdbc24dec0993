"""The BigQuery engine, driven through the real google-cloud-bigquery client against stand-ins on
127.0.0.1 (tests/bq_stand_ins.py), never Google:

- bqemulator runs every mart (transpiled, parameters bound) over the small demo and must return what
  DuckDB returns, and `revbook check` validates the lake in the warehouse;
- the recording stand-in shows what the client sends (bound parameters, dryRun, maximumBytesBilled,
  labels) and plays the errors a real project gives (403, 404, over the byte cap, 503).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

from bq_stand_ins import DATASET, PROJECT, emulator, load_lake, recorder
from revbook import cli, contract, settings
from revbook.data import bigquery_engine as bq
from revbook.data.duckdb_engine import DuckDBWarehouse
from revbook.data.validate import validate
from revbook.data.warehouse import WarehouseError, decode_params, mart_names
from revbook.run import costs, runner
from revbook.settings import BigQueryConfig


def _config(**overrides) -> BigQueryConfig:
    return BigQueryConfig(**{"project": PROJECT, "dataset": DATASET, "retry_initial_s": 0.05,
                             "retry_timeout_s": 1.0, **overrides})


def _warehouse_yaml(root: Path, **bigquery) -> None:
    """A project root (REVBOOK_ROOT) with the real params plus a warehouse.yaml for BigQuery."""
    import shutil

    from conftest import ROOT

    shutil.copytree(ROOT / "params", root / "params")
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    section = {"project": PROJECT, "dataset": DATASET, "retry_initial_s": 0.05, "retry_timeout_s": 1.0, **bigquery}
    (root / "params" / "warehouse.yaml").write_text(json.dumps({"engine": "bigquery", "bigquery": section}))


# ---------------------------------------------------------------- the emulator: same numbers as DuckDB


@pytest.fixture(scope="module")
def lake(demo_warehouse):
    """bqemulator holding the small demo's contract tables, read from its DuckDB warehouse."""
    with DuckDBWarehouse(demo_warehouse) as duck:
        frames = {t.name: duck.query(f'SELECT * FROM "{t.name}"') for t in contract.TABLES}
    with emulator() as endpoint, pytest.MonkeyPatch.context() as mp:
        mp.setenv(bq.EMULATOR_ENV, endpoint)
        wh = bq.BigQueryWarehouse(_config())
        load_lake(wh.client, frames)
        wh.endpoint = endpoint
        yield wh


def _same(a: pd.DataFrame, b: pd.DataFrame, what: str) -> None:
    """Same columns, same rows (in any order), numbers within float tolerance."""
    assert list(a.columns) == list(b.columns), what
    assert len(a) == len(b), f"{what}: {len(a)} rows in DuckDB, {len(b)} on BigQuery"

    def canonical(f: pd.DataFrame) -> pd.DataFrame:
        f = f.copy()
        for c in f.columns:
            if pd.api.types.is_datetime64_any_dtype(f[c]):
                f[c] = pd.to_datetime(f[c]).dt.tz_localize(None).astype("datetime64[us]")
            elif pd.api.types.is_numeric_dtype(f[c]) and not pd.api.types.is_bool_dtype(f[c]):
                f[c] = f[c].astype("float64")
        return f.sort_values(list(f.columns), key=lambda s: s.astype(str)).reset_index(drop=True)

    a, b = canonical(a), canonical(b)
    for c in a.columns:
        if a[c].dtype == "float64":
            assert np.allclose(a[c].to_numpy(), b[c].to_numpy(), rtol=1e-9, atol=1e-6, equal_nan=True), f"{what}.{c}"
        else:
            assert a[c].astype(str).tolist() == b[c].astype(str).tolist(), f"{what}.{c}"


def test_every_mart_returns_the_same_rows_on_the_emulator_as_on_duckdb(lake, demo_warehouse, monthly_run):
    """Replays each distinct mart call the monthly reports made on DuckDB (manifest `queries`)."""
    _, out = monthly_run
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    calls = {(q["mart"], json.dumps(q["params"], sort_keys=True)) for r in manifest["reports"].values()
             for q in r["queries"]}
    assert {m for m, _ in calls} == set(mart_names())  # every mart is exercised
    with DuckDBWarehouse(demo_warehouse) as duck:
        for name, params in sorted(calls):
            values = decode_params(json.loads(params))
            _same(duck.mart(name, **values), lake.mart(name, **values), name)


def test_the_monthly_reports_on_bigquery_give_the_numbers_duckdb_gives(lake, monthly_run, tmp_path, monkeypatch):
    """`revbook run monthly` with params/warehouse.yaml on BigQuery (the emulator): every report renders,
    its metrics.json and CSVs byte-identical to the DuckDB run's; estimates are printed first."""
    import shutil

    _, duck_out = monthly_run
    _warehouse_yaml(tmp_path / "root")
    out = tmp_path / "outputs"
    (out / "earlier").mkdir(parents=True)  # an earlier run's manifest: the queries to estimate from
    shutil.copy(duck_out / "manifest.json", out / "earlier" / "manifest.json")
    monkeypatch.setenv("REVBOOK_ROOT", str(tmp_path / "root"))
    monkeypatch.setenv("REVBOOK_OUTPUTS", str(out))
    monkeypatch.setenv(bq.EMULATOR_ENV, lake.endpoint)
    console = Console(record=True, width=200)
    assert runner.run("monthly", duck_out.name, console=console) == 0
    text = console.export_text()
    assert "BigQuery dry run (replaying each report's last recorded queries):" in text
    assert text.index("total: ") < text.index("report(s) on")  # the estimate comes before the run
    produced = sorted(p.relative_to(duck_out) for p in duck_out.rglob("*") if p.suffix in (".json", ".csv")
                      and p.name != "manifest.json" and "_executed" not in p.parts)
    assert len(produced) >= 10
    for rel in produced:
        assert (out / duck_out.name / rel).read_bytes() == (duck_out / rel).read_bytes(), rel
    manifest = json.loads((out / duck_out.name / "manifest.json").read_text(encoding="utf-8"))
    assert all(r["status"] == "ok" and r["bytes_billed"] is not None for r in manifest["reports"].values())


def test_check_validates_the_lake_in_bigquery(lake, tmp_path, monkeypatch, capsys):
    assert validate(lake) == []
    _warehouse_yaml(tmp_path, tables={"leads": "sfdc_lead"})  # a mapping to a table that is not there
    monkeypatch.setenv("REVBOOK_ROOT", str(tmp_path))
    monkeypatch.setenv(bq.EMULATOR_ENV, lake.endpoint)
    with pytest.raises(SystemExit) as exit_:
        cli.main(["check"])
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert "error leads [missing_table]" in err and f"BigQuery {PROJECT}.{DATASET}: 1 error(s)" in err


# ---------------------------------------------------------------- the recording stand-in: what is sent


@pytest.fixture
def rec(monkeypatch):
    with recorder() as r:
        monkeypatch.setenv(bq.EMULATOR_ENV, r.endpoint)
        yield r


def test_parameters_are_bound_typed_and_jobs_carry_the_cap_and_labels(rec, monkeypatch):
    monkeypatch.setenv("REVBOOK_REPORT", "field_sales/pipeline--FS'01")
    monkeypatch.setenv("REVBOOK_PERIOD", "2026-10")
    wh = bq.BigQueryWarehouse(_config(maximum_bytes_billed=5_000_000, location="asia-northeast1",
                                      tables={"opportunities": "sfdc_opportunity"}))
    owners = ["FS'01", "x'); DROP TABLE reps; --"]
    wh.mart("fs_idle_deals", asof=dt.datetime(2026, 11, 1), cutoff=dt.datetime(2026, 10, 2), owners=owners)
    job = rec.jobs()[-1]
    assert "FS'01" not in job["query"] and "DROP" not in job["query"]  # values travel only as parameters
    assert "@owners" in job["query"] and "@asof" in job["query"]
    assert f"`{PROJECT}`.`{DATASET}`.`sfdc_opportunity`" in job["query"]  # the mapping, fully qualified
    params = {p["name"]: p for p in job["queryParameters"]}
    assert params["owners"]["parameterType"] == {"type": "ARRAY", "arrayType": {"type": "STRING"}}
    assert [v["value"] for v in params["owners"]["parameterValue"]["arrayValues"]] == owners
    assert params["asof"]["parameterType"]["type"] == "TIMESTAMP"
    assert params["asof"]["parameterValue"]["value"].startswith("2026-11-01 00:00:00")
    assert job["_job"]["configuration"]["labels"] == {"app": "revbook", "report": "field_sales_pipeline--fs_01",
                                                      "period": "2026-10", "mart": "fs_idle_deals"}
    assert job["maximumBytesBilled"] == "5000000"
    assert job["_job"]["jobReference"]["location"] == "asia-northeast1"
    assert job["_job"]["configuration"].get("dryRun") in (None, False)

    wh.mart("cs_tickets", months=[dt.date(2026, 9, 1), dt.date(2026, 10, 1)])
    months = {p["name"]: p for p in rec.jobs()[-1]["queryParameters"]}["months"]
    assert months["parameterType"] == {"type": "ARRAY", "arrayType": {"type": "DATE"}}
    assert [v["value"] for v in months["parameterValue"]["arrayValues"]] == ["2026-09-01", "2026-10-01"]


def test_estimates_are_dry_runs(rec):
    wh = bq.BigQueryWarehouse(_config())
    assert wh.estimate("reps") == rec.bytes_processed
    job = rec.jobs()[-1]
    assert job["_job"]["configuration"]["dryRun"] is True and job["useQueryCache"] is False


def test_dry_run_prints_each_reports_bytes_and_the_total(rec, monthly_run, demo_warehouse, tmp_path, monkeypatch):
    """`revbook run --dry-run` replays each report's recorded queries as dry runs and runs nothing."""
    _, out = monthly_run
    with DuckDBWarehouse(demo_warehouse) as duck:  # the roster the plan fans personal pages out to
        rec.answer(duck.mart("reps"), {"rep_id": "STRING", "name": "STRING", "team": "STRING", "segment": "STRING",
                                       "monthly_sql_capacity": "INT64", "active": "BOOL"})
    root = tmp_path / "root"
    _warehouse_yaml(root)
    monkeypatch.setenv("REVBOOK_ROOT", str(root))
    monkeypatch.setenv("REVBOOK_OUTPUTS", str(out.parent))
    _, jobs = runner.plan("monthly", out.name)
    recorded = costs.recorded(out.parent, "monthly")
    expected, seen = {}, set()  # a run shares identical mart calls: each distinct one is dry-run once
    for j in jobs:
        calls = recorded.get(j.key) or next(v for k, v in recorded.items() if k.split("--")[0] == j.key.split("--")[0])
        fresh = {json.dumps([c["mart"], c["params"]], sort_keys=True) for c in calls} - seen
        expected[j.key], seen = len(fresh), seen | fresh
    console = Console(record=True, width=200)
    assert runner.run("monthly", out.name, console=console, dry_run=True) == 0
    text = console.export_text()
    dry = [j for j in rec.jobs() if j["_job"]["configuration"].get("dryRun")]
    assert len(dry) == sum(expected.values())
    ran = {j["_job"]["configuration"]["labels"].get("mart") for j in rec.jobs() if j not in dry}
    assert ran == {"reps"}  # besides dry runs, only the roster the plan fans personal pages out to
    assert f"sales_ops/revenue_overview: {expected['sales_ops/revenue_overview']} queries, " \
           f"{bq.human_bytes(rec.bytes_processed * expected['sales_ops/revenue_overview'])}" in text
    total = rec.bytes_processed * sum(expected.values())
    price = total / costs.TIB * 6.25
    assert f"total: {bq.human_bytes(total)} ≈ ${price:,.2f}" in text


# ---------------------------------------------------------------- errors a user can act on


@pytest.mark.parametrize(("status", "reason", "expected"), [
    (403, "accessDenied", f"BigQuery: mart reps: permission denied on {PROJECT}.{DATASET} (Access Denied: "),
    (404, "notFound", f"BigQuery: mart reps: not found in {PROJECT}.{DATASET} (Not found: Table "),
])
def test_permission_and_missing_table_errors_name_what_is_wrong(rec, status, reason, expected):
    rec.script = [(status, reason)]
    with pytest.raises(WarehouseError) as err:
        bq.BigQueryWarehouse(_config(tables={"leads": "sfdc_lead"})).mart("reps")
    assert str(err.value).startswith(expected)
    assert "gcloud auth application-default login" in str(err.value) if status == 403 else \
        "table mapping: leads → sfdc_lead" in str(err.value)


def test_check_on_a_missing_dataset_or_table(rec):
    rec.tables = {"reps": [("rep_id", "STRING")]}
    wh = bq.BigQueryWarehouse(_config(tables={"leads": "sfdc_lead"}))
    assert wh.table_columns("reps") == {"rep_id": "STRING"}
    assert wh.table_columns("leads") is None  # the dataset is there: a missing table, for check to report
    assert any(r["path"].endswith(f"/datasets/{DATASET}/tables/sfdc_lead") for r in rec.requests)
    rec.datasets = set()
    with pytest.raises(WarehouseError) as err:
        wh.table_columns("leads")
    assert str(err.value) == (f"BigQuery: dataset {PROJECT}.{DATASET} not found (location US): check project, "
                              "dataset and location in params/warehouse.yaml")


def test_a_query_over_the_byte_cap_names_the_report_and_the_estimate(rec, monkeypatch):
    monkeypatch.setenv("REVBOOK_REPORT", "customer_success/churn_drivers")
    rec.script = [(400, "bytesBilledLimitExceeded")]
    with pytest.raises(WarehouseError) as err:
        bq.BigQueryWarehouse(_config(maximum_bytes_billed=1000)).mart("reps")
    assert str(err.value) == (
        "BigQuery: customer_success/churn_drivers: mart reps would bill more than maximum_bytes_billed (1,000 B); "
        f"a dry run estimates {bq.human_bytes(rec.bytes_processed)}. Raise the cap in params/warehouse.yaml if "
        "that is expected.")


def test_transient_errors_are_retried_then_reported(rec):
    rec.script = [(503, "backendError"), (503, "backendError")]
    wh = bq.BigQueryWarehouse(_config(retry_timeout_s=5.0))
    assert wh.mart("reps")["x"].tolist() == [1]  # succeeded on the third try
    posts = [r for r in rec.requests if r["method"] == "POST"]
    assert len(posts) == 3
    rec.script = [(503, "backendError")] * 1000
    with pytest.raises(WarehouseError) as err:
        bq.BigQueryWarehouse(_config(retry_timeout_s=0.5)).mart("reps")
    assert str(err.value).startswith("BigQuery: mart reps still failing after retries for")


def test_no_credentials_says_how_to_authenticate(monkeypatch, tmp_path, capsys):
    monkeypatch.delenv(bq.EMULATOR_ENV, raising=False)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing-key.json"))
    monkeypatch.setenv("HOME", str(tmp_path))  # no gcloud application-default file either
    monkeypatch.setenv("NO_GCE_CHECK", "true")
    root = tmp_path / "root"
    _warehouse_yaml(root)
    monkeypatch.setenv("REVBOOK_ROOT", str(root))
    with pytest.raises(SystemExit) as exit_:
        cli.main(["check"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "revbook check: BigQuery: no Google credentials found: run `gcloud auth application-default login`" in err
    assert "Traceback" not in err


def test_engine_from_the_environment_and_a_clear_settings_error(monkeypatch, tmp_path):
    monkeypatch.setenv("REVBOOK_ROOT", str(tmp_path))
    (tmp_path / "params").mkdir()
    assert settings.warehouse().engine == "duckdb"  # no warehouse.yaml: the embedded engine
    monkeypatch.setenv(settings.ENGINE_ENV, "bigquery")
    with pytest.raises(settings.SettingsError, match="engine is bigquery but there is no `bigquery:` section"):
        settings.warehouse()
    (tmp_path / "params" / "warehouse.yaml").write_text("bigquery: {project: p, dataset: d, tables: {lead: x}}")
    with pytest.raises(settings.SettingsError, match=r"tables: \['lead'\] are not contract tables"):
        settings.warehouse()


def test_parameter_types_and_result_dtypes():
    assert bq.parameter("n", np.int64(3)).to_api_repr()["parameterType"] == {"type": "INT64"}
    assert bq.parameter("ok", True).to_api_repr()["parameterType"] == {"type": "BOOL"}
    assert bq.parameter("d", dt.date(2026, 1, 1)).to_api_repr()["parameterValue"] == {"value": "2026-01-01"}
    with pytest.raises(WarehouseError, match="parameter 'x': a list must hold values of one type"):
        bq.parameter("x", ["a", 1])
    assert bq.label_value("Field_Sales/Pipeline--FS'01") == "field_sales_pipeline--fs_01"
    frame = bq.like_duckdb(pd.DataFrame({
        "d": pd.Series([dt.date(2026, 1, 1)], dtype="dbdate"),
        "t": pd.Series([pd.Timestamp("2026-01-01 09:00", tz="Asia/Tokyo")]),
        "i": pd.Series([1], dtype="Int64"), "b": pd.Series([True], dtype="boolean")}))
    assert [str(t) for t in frame.dtypes] == ["datetime64[us]", "datetime64[us]", "int64", "bool"]
    assert frame["t"][0] == pd.Timestamp("2026-01-01 00:00")  # the UTC instant, without a zone


def test_every_mart_in_tokyo_time_returns_the_same_rows_on_the_emulator_as_on_duckdb(lake, demo_warehouse,
                                                                                     monthly_run, monkeypatch):
    """The same replay for a company in Asia/Tokyo (company.yaml `timezone`): each mart rewritten to read
    the lake's timestamps as Tokyo wall-clock time gives the same rows on both engines."""
    tokyo = settings.company().model_copy(update={"timezone": "Asia/Tokyo"})
    monkeypatch.setattr(settings, "company", lambda: tokyo)  # DuckDB's zone; the emulator's is given
    on_emulator = bq.BigQueryWarehouse(_config(), timezone="Asia/Tokyo")
    assert on_emulator.mart_query("fs_closed") != lake.mart_query("fs_closed")  # rewritten, not the UTC text
    test_every_mart_returns_the_same_rows_on_the_emulator_as_on_duckdb(on_emulator, demo_warehouse, monthly_run)
