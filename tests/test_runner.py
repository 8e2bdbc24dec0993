"""The runner: bad input stops everything before a kernel starts; a failing report is isolated."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import papermill
import pytest

from conftest import ROOT, TEST_END
from revbook.data import load
from revbook.departments import marketing
from revbook.run import runner
from revbook.run.runner import PlanError


@pytest.fixture()
def project(tmp_path, monkeypatch, use_warehouse):
    """A copy of params/ and notebooks/ that a test may edit; outputs in the copy."""
    root = tmp_path / "project"
    shutil.copytree(ROOT / "params", root / "params")
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    monkeypatch.setenv("REVBOOK_ROOT", str(root))
    return root


def write_schedule(root: Path, text: str) -> None:
    (root / "params" / "monthly.yaml").write_text(text, encoding="utf-8")


def test_malformed_period_runs_nothing(project):
    result = subprocess.run([sys.executable, "-m", "revbook.cli", "run", "monthly", "--period", "2026-13"],
                            capture_output=True, text=True, env=_env(project))
    assert result.returncode == 2
    assert "impossible month period '2026-13'" in result.stderr and "Traceback" not in result.stderr
    assert not (project / "outputs").exists()


def test_unknown_schedule(project):
    with pytest.raises(PlanError, match="unknown schedule 'yearly'"):
        runner.plan("yearly", TEST_END)


def test_unknown_parameter_key_names_it_and_the_declared_ones(project):
    write_schedule(project, "jobs:\n  - notebook: sales_ops/revenue_overview\n    parameters: {trend_monhts: 6}\n")
    with pytest.raises(PlanError, match=r"unknown parameter 'trend_monhts'; .* declares period, trend_months"):
        runner.plan("monthly", TEST_END)
    assert runner.run("monthly", TEST_END) == 2
    assert not (project / "outputs").exists()


def test_wrong_parameter_type(project):
    write_schedule(project, "jobs:\n  - notebook: sales_ops/revenue_overview\n    parameters: {trend_months: six}\n")
    with pytest.raises(PlanError, match="parameter 'trend_months' must be int, got str 'six'"):
        runner.plan("monthly", TEST_END)


def test_parameter_outside_its_choices(project):
    write_schedule(project, "jobs:\n  - notebook: marketing/campaign_roi\n    parameters: {attribution: last_click}\n")
    with pytest.raises(PlanError, match="parameter 'attribution' must be one of first_touch, linear, position_based, "
                                        "got 'last_click'"):
        runner.plan("monthly", TEST_END)


def test_a_parameter_below_its_floor_and_a_typo_in_company_yaml_stop_the_run_before_any_kernel(project):
    write_schedule(project, "jobs:\n  - notebook: sales_ops/revenue_overview\n    parameters: {trend_months: -5}\n")
    with pytest.raises(PlanError, match="parameter 'trend_months' must be at least 2, got -5"):
        runner.plan("monthly", TEST_END)
    write_schedule(project, "jobs:\n  - notebook: sales_ops/revenue_overview\n")
    company = project / "params" / "company.yaml"
    company.write_text(company.read_text(encoding="utf-8").replace("currency:", "curency:", 1), encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "revbook.cli", "run", "monthly", "--period", TEST_END],
                            capture_output=True, text=True, env=_env(project))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "company.yaml: curency: Extra inputs are not permitted" in " ".join(result.stderr.split())
    assert not (project / "outputs").exists()


def test_a_parameter_comment_declares_its_choices_and_campaign_roi_declares_marketings_models():
    """The runner learns allowed values from the notebook, not from a department module."""
    declared = papermill.inspect_notebook(str(ROOT / "notebooks" / "marketing" / "campaign_roi.ipynb"))
    assert runner.choices(declared["attribution"]) == marketing.ATTRIBUTION_MODELS
    assert runner.choices(declared["window_months"]) is None
    assert runner.choices({"help": "scope; one of: team,  rep"}) == ("team", "rep")


def test_missing_kernel_says_how_to_install_it(project):
    path = project / "notebooks" / "sales_ops" / "revenue_overview.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.metadata["kernelspec"]["name"] = "revbook-old"
    nbformat.write(nb, path)
    with pytest.raises(PlanError, match="kernel 'revbook-old' is not installed .*run `make setup`"):
        runner.plan("monthly", TEST_END)


def test_missing_notebook_and_unknown_only(project):
    write_schedule(project, "jobs:\n  - notebook: sales_ops/nope\n")
    with pytest.raises(PlanError, match="no notebook .*nope.ipynb"):
        runner.plan("monthly", TEST_END)
    with pytest.raises(PlanError, match="--only marketing matches no job"):
        runner.plan("monthly", TEST_END, only=["marketing"])


def test_a_schedule_file_of_ones_own_runs_with_the_period_it_names(project, tmp_path):
    own = tmp_path / "board pack.yaml"
    own.write_text("jobs:\n  - notebook: sales_ops/revenue_overview\n    parameters: {trend_months: 6}\n",
                   encoding="utf-8")
    with pytest.raises(PlanError, match=r"board pack.yaml: say which period it covers, e.g. 'period: month'"):
        runner.plan(str(own), TEST_END)
    own.write_text("period: week\n" + own.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(PlanError, match=r"malformed week period .*expected YYYY-Www"):
        runner.plan(str(own), TEST_END)  # a month given to a weekly schedule
    own.write_text(own.read_text(encoding="utf-8").replace("period: week", "period: month"), encoding="utf-8")
    period, jobs = runner.plan(str(own), TEST_END)
    assert period.label == TEST_END and [(j.key, j.parameters) for j in jobs] == [
        ("sales_ops/revenue_overview", {"trend_months": 6})]
    assert runner.run(str(own), TEST_END) == 0
    manifest = json.loads((project / "outputs" / TEST_END / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["schedule"] == "board pack" and manifest["reports"]["sales_ops/revenue_overview"]["status"] == "ok"
    mismatch = tmp_path / "weekly.yaml"
    mismatch.write_text("period: month\njobs: []\n", encoding="utf-8")
    with pytest.raises(PlanError, match="period: month does not fit a schedule named weekly"):
        runner.plan(str(mismatch), TEST_END)
    with pytest.raises(PlanError, match="or name a schedule file"):
        runner.plan("board_pack", TEST_END)


def _env(root: Path) -> dict:
    import os
    return {**os.environ, "REVBOOK_ROOT": str(root)}


def _notebook(path: Path, parameters: str, *code: str) -> None:
    """A notebook with a tagged parameters cell, then `code` cells, on the revbook kernel."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in (parameters, *code)])
    nb.cells[0].metadata["tags"] = ["parameters"]
    nb.metadata["kernelspec"] = {"name": "revbook", "display_name": "Python (revbook)", "language": "python"}
    nbformat.write(nb, path)


def _flaky_notebook(path: Path) -> None:
    _notebook(path, 'period: str = ""  # YYYY-MM\nfail: bool = False  # raise on purpose',
              'from revbook.departments.headlines import Headline\n'
              'from revbook.pages import report\n'
              'if fail:\n    raise RuntimeError("planted failure")\n'
              'report.headlines([Headline("x", "X", 1.0, "count")])')


def test_failing_report_keeps_others_and_last_good_html(project):
    _flaky_notebook(project / "notebooks" / "sales_ops" / "flaky.ipynb")
    write_schedule(project, "jobs:\n  - notebook: sales_ops/flaky\n")
    assert runner.run("monthly", TEST_END) == 0
    out = project / "outputs" / TEST_END
    good = (out / "sales_ops" / "flaky.html").read_bytes()

    write_schedule(project, "jobs:\n  - notebook: sales_ops/flaky\n    parameters: {fail: true}\n"
                            "  - notebook: sales_ops/revenue_overview\n")
    assert runner.run("monthly", TEST_END) == 1
    assert (out / "sales_ops" / "flaky.html").read_bytes() == good  # last good page untouched
    assert (out / "sales_ops" / "revenue_overview.html").is_file()   # the other report rendered
    manifest = json.loads((out / "manifest.json").read_text())
    flaky = manifest["reports"]["sales_ops/flaky"]
    assert flaky["status"] == "failed" and "RuntimeError: planted failure" in flaky["error"]
    assert flaky["html"] == "sales_ops/flaky.html"  # the index still links the last good page
    assert manifest["reports"]["sales_ops/revenue_overview"]["status"] == "ok"
    index = (out / "index.html").read_text()
    assert "planted failure" in index and "last good report" in index
    assert not list(out.rglob("*.tmp"))


def test_a_failed_reports_page_of_other_data_is_removed_not_passed_off_as_current(project, tmp_path, monkeypatch,
                                                                                  demo_frames):
    """After a new load, a report that fails must not keep showing the previous dataset's numbers."""
    _flaky_notebook(project / "notebooks" / "sales_ops" / "flaky.ipynb")
    write_schedule(project, "jobs:\n  - notebook: sales_ops/flaky\n")
    assert runner.run("monthly", TEST_END) == 0
    out = project / "outputs" / TEST_END
    other = tmp_path / "other.duckdb"
    load.build_warehouse({k: v for k, v in demo_frames.items() if k != "targets"}, other, {"source": "other"})
    monkeypatch.setenv("REVBOOK_WAREHOUSE", str(other))
    write_schedule(project, "jobs:\n  - notebook: sales_ops/flaky\n    parameters: {fail: true}\n")
    assert runner.run("monthly", TEST_END) == 1
    flaky = json.loads((out / "manifest.json").read_text())["reports"]["sales_ops/flaky"]
    assert flaky["status"] == "failed" and flaky["html"] is None
    assert "the last good page was of other data (fingerprint" in flaky["error"]
    assert not (out / "sales_ops" / "flaky.html").exists() and not (out / "sales_ops" / "flaky.metrics.json").exists()
    assert "of other data" in (out / "index.html").read_text()


def test_a_report_whose_tables_are_all_absent_is_skipped_with_its_reason(project, tmp_path, monkeypatch,
                                                                         demo_frames):
    partial = tmp_path / "partial.duckdb"
    load.build_warehouse({k: v for k, v in demo_frames.items() if k != "subscriptions"}, partial, {"source": "x"})
    monkeypatch.setenv("REVBOOK_WAREHOUSE", str(partial))
    write_schedule(project, "jobs:\n  - notebook: customer_success/churn_drivers\n")
    assert runner.run("monthly", TEST_END) == 0
    out = project / "outputs" / TEST_END
    entry = json.loads((out / "manifest.json").read_text())["reports"]["customer_success/churn_drivers"]
    assert entry["status"] == "skipped" and entry["html"] is None
    assert entry["error"] == "needs subscriptions (subscriptions); none is loaded"
    index = (out / "index.html").read_text()
    assert '<td class="skipped">skipped</td>' in index
    assert "needs subscriptions (subscriptions); none is loaded" in index
    top = (project / "outputs" / "index.html").read_text()
    assert '<td class="ok">ok</td>' in top  # the period is not marked as failed


def test_only_failed_reruns_just_those_and_reruns_give_the_same_numbers(project, capsys):
    _flaky_notebook(project / "notebooks" / "sales_ops" / "flaky.ipynb")
    write_schedule(project, "jobs:\n  - notebook: sales_ops/flaky\n    parameters: {fail: true}\n"
                            "  - notebook: sales_ops/revenue_overview\n")
    out = project / "outputs" / TEST_END
    with pytest.raises(PlanError, match="--only-failed: no earlier run of"):
        runner.failed_keys(runner.plan("monthly", TEST_END)[0])
    assert runner.run("monthly", TEST_END) == 1
    metrics = (out / "sales_ops" / "revenue_overview.metrics.json").read_bytes()
    page = out / "sales_ops" / "revenue_overview.html"
    stamp = page.stat().st_mtime_ns

    assert runner.run("monthly", TEST_END, only_failed=True) == 1  # still failing: only flaky ran
    assert page.stat().st_mtime_ns == stamp
    write_schedule(project, "jobs:\n  - notebook: sales_ops/flaky\n  - notebook: sales_ops/revenue_overview\n")
    assert runner.run("monthly", TEST_END, only_failed=True) == 0  # fixed: flaky renders
    manifest = json.loads((out / "manifest.json").read_text())
    assert {k: r["status"] for k, r in manifest["reports"].items()} == {
        "sales_ops/flaky": "ok", "sales_ops/revenue_overview": "ok"}
    capsys.readouterr()
    assert runner.run("monthly", TEST_END, only_failed=True) == 0
    assert "no failed reports to re-run" in capsys.readouterr().err

    assert runner.run("monthly", TEST_END, only=["sales_ops/revenue_overview"]) == 0  # the same inputs again
    assert (out / "sales_ops" / "revenue_overview.metrics.json").read_bytes() == metrics  # byte-identical


def test_cli_names_the_failing_notebook(project):
    _flaky_notebook(project / "notebooks" / "sales_ops" / "flaky.ipynb")
    write_schedule(project, "jobs:\n  - notebook: sales_ops/flaky\n    parameters: {fail: true}\n")
    result = subprocess.run([sys.executable, "-m", "revbook.cli", "run", "monthly", "--period", TEST_END],
                            capture_output=True, text=True, env=_env(project))
    assert result.returncode == 1
    assert ('failed sales_ops/flaky: cell 3 (raise RuntimeError("planted failure")): '
            "RuntimeError: planted failure") in result.stderr  # the line that failed, not the cell's first
    assert "Kernel is running over TCP" not in result.stderr


def test_per_rep_fan_out_covers_active_reps_only(project, demo_frames):
    _notebook(project / "notebooks" / "sales_ops" / "mine.ipynb",
              'period: str = ""  # YYYY-MM\nrep_id: str = ""  # the rep this page is for')
    write_schedule(project, "jobs:\n  - notebook: sales_ops/revenue_overview\n"
                            "  - notebook: sales_ops/mine\n    per_rep: field_sales\n")
    reps = demo_frames["reps"]
    active = sorted(reps.loc[(reps["team"] == "field_sales") & reps["active"], "rep_id"])
    _, jobs = runner.plan("monthly", TEST_END)
    assert [j.key for j in jobs] == ["sales_ops/revenue_overview"] + [f"sales_ops/mine--{r}" for r in active]
    _, jobs = runner.plan("monthly", TEST_END, rep=active[0])
    assert [j.rep_id for j in jobs] == [active[0]]  # --rep: that rep's personal reports only
    with pytest.raises(PlanError, match="unknown rep 'FS999': not an active field_sales rep"):
        runner.plan("monthly", TEST_END, rep="FS999")


def test_team_reports_run_before_personal_ones_so_a_long_report_never_starts_last():
    team = [runner.Job("sales_ops/revenue_overview"), runner.Job("customer_success/churn_drivers")]
    personal = [runner.Job("field_sales/pipeline", rep_id=r) for r in ("FS02", "FS01")]
    order = runner.execution_order([personal[0], team[0], personal[1], team[1]])
    assert [j.key for j in order] == ["sales_ops/revenue_overview", "customer_success/churn_drivers",
                                      "field_sales/pipeline--FS02", "field_sales/pipeline--FS01"]


def test_reports_of_a_run_share_identical_mart_calls(demo_warehouse, tmp_path, monkeypatch):
    """Within a run a mart result is fetched once and reused, exactly as the warehouse returned it."""
    import pandas as pd

    from revbook.data.duckdb_engine import DuckDBWarehouse
    from revbook.data.warehouse import MART_CACHE_ENV, QUERY_LOG_ENV

    log = tmp_path / "queries.jsonl"
    monkeypatch.setenv(QUERY_LOG_ENV, str(log))
    with DuckDBWarehouse(demo_warehouse) as wh:
        alone = wh.mart("fs_closed", start=pd.Timestamp("2025-01-01").date(), end=pd.Timestamp("2025-10-01").date())
        monkeypatch.setenv(MART_CACHE_ENV, str(tmp_path / "shared"))
        first = wh.mart("fs_closed", start=pd.Timestamp("2025-01-01").date(), end=pd.Timestamp("2025-10-01").date())
        again = wh.mart("fs_closed", start=pd.Timestamp("2025-01-01").date(), end=pd.Timestamp("2025-10-01").date())
        other = wh.mart("fs_closed", start=pd.Timestamp("2025-02-01").date(), end=pd.Timestamp("2025-10-01").date())
    pd.testing.assert_frame_equal(again, alone)
    pd.testing.assert_frame_equal(first, alone)
    assert [json.loads(line)["reused"] for line in log.read_text().splitlines()] == [False, False, True, False]
    assert len(other) > 0


def test_personal_pages_reuse_the_team_wide_marts(monthly_run):
    code, out = monthly_run
    assert code == 0
    reports = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["reports"]
    calls = [(key, q) for key, r in reports.items() for q in r["queries"]]
    distinct = {json.dumps([q["mart"], q["params"]], sort_keys=True) for _, q in calls}
    fetched = [q for _, q in calls if not q["reused"]]
    # each distinct call ran in the warehouse once (twice if two reports asked at the same moment)
    assert len(distinct) <= len(fetched) < len(calls)
    personal = [q for key, q in calls if "--" in key]
    assert sum(q["reused"] for q in personal) > len(personal) / 2


def test_the_period_index_lists_departments_in_the_order_of_the_model(tmp_path):
    entry = {"status": "ok", "finished_at": "2026-11-01T06:00:00+00:00", "duration_s": 1.0, "html": None,
             "rep_id": None}
    keys = ["customer_success/churn_drivers", "field_sales/pipeline", "inside_sales/funnel", "marketing/campaign_roi",
            "sales_ops/revenue_overview", "zz_custom/extra"]
    (tmp_path / "manifest.json").write_text(json.dumps({"period": "2026-10", "reports": dict.fromkeys(keys, entry)}),
                                            encoding="utf-8")
    from revbook.run import index

    index.build_period(tmp_path)
    headings = re.findall(r"<h3>(.*?)</h3>", (tmp_path / "index.html").read_text(encoding="utf-8"))
    assert headings == ["sales ops", "marketing", "inside sales", "field sales", "customer success", "zz custom"]
