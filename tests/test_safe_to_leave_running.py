"""Safe to leave running (cron, a web server over outputs/): ids from data never choose where a
file is written, pages are readable by a web server while row-level files are not, a real warehouse
is never replaced by the demo, runs do not overlap, and a stopped or orphaned run cleans up."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import unquote

import pytest

from conftest import TEST_END
from processes import file_size_limit, processes_with
from revbook import contract, locks, periods
from revbook.data import load
from revbook.data.duckdb_engine import DuckDBWarehouse
from revbook.data.warehouse import MART_CACHE_ENV
from revbook.files import public_mode, safe_name
from revbook.run import runner
from tinylake import tiny_lake, write_csv_folder

#: Rep ids a hostile or careless export may hold: a path out of outputs/, a folder, URL syntax, 300 characters.
HOSTILE_IDS = ["../../../../escaped/x", "team/bob#1?x=2", "r" * 300]


def _renamed_reps(frames: dict, renames: dict[str, str]) -> dict:
    """`frames` with rep ids replaced everywhere the contract refers to them."""
    columns = {(t.name, c.name) for t in contract.TABLES for c in t.columns
               if c.references == "reps.rep_id" or (t.name, c.name) == ("reps", "rep_id")}
    return {name: frame.assign(**{c: frame[c].replace(renames) for t, c in columns if t == name})
            for name, frame in frames.items()}


def test_ids_from_data_become_safe_bounded_distinct_file_names():
    assert safe_name("FS01") == "FS01" and safe_name("005000000000002AAA") == "005000000000002AAA"
    names = [safe_name(i) for i in [*HOSTILE_IDS, "team/alice", "team_alice", "team alice", "田中", ".hidden", ""]]
    assert len(set(names)) == len(names)
    for name in names:
        assert re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,63}", name), name
    assert safe_name("team/alice").startswith("team_alice-")  # still readable


def test_hostile_rep_ids_write_only_inside_outputs_and_link_right(demo_frames, tmp_path, monkeypatch):
    reps = demo_frames["reps"]
    field = sorted(reps.loc[(reps["team"] == "field_sales") & reps["active"], "rep_id"])[:len(HOSTILE_IDS)]
    frames = _renamed_reps(demo_frames, dict(zip(field, HOSTILE_IDS, strict=True)))
    root = tmp_path / "deploy"
    warehouse = root / "data" / "w.duckdb"
    load.build_warehouse(frames, warehouse, {"source": "hostile"})
    monkeypatch.setenv("REVBOOK_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("REVBOOK_OUTPUTS", str(root / "outputs"))
    assert runner.run("monthly", TEST_END, only=["field_sales"]) == 0
    out = root / "outputs" / TEST_END
    written = {p for p in tmp_path.rglob("*") if p.is_file()}
    assert {p for p in written - set((root / "outputs").rglob("*")) if p.parent != warehouse.parent} == set()
    reports = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["reports"]
    personal = {e["rep_id"]: e for e in reports.values() if e["rep_id"]}
    assert set(HOSTILE_IDS) <= set(personal) and all(e["status"] == "ok" for e in personal.values())
    index = (out / "index.html").read_text(encoding="utf-8")
    hrefs = re.findall(r'<a href="([^"]+)"', index)
    for rep in HOSTILE_IDS:  # each page linked by an encoded href that opens that rep's page
        page = personal[rep]["html"]
        assert (out / page).is_file() and any(unquote(h) == page for h in hrefs), rep
    assert "team/bob#1?x=2" in index  # the label shows the id as it is


def test_pages_follow_the_umask_and_row_level_files_are_private(monthly_run):
    _, out = monthly_run
    public = public_mode()
    pages = [p for p in out.rglob("*") if p.is_file() and "_executed" not in p.parts and p.name != "run.log"]
    assert {p.suffix for p in pages} >= {".html", ".json", ".csv"}
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in pages if stat.S_IMODE(p.stat().st_mode) != public} == {}
    assert stat.S_IMODE((out.parent / "index.html").stat().st_mode) == public
    assert stat.S_IMODE((out / "_executed").stat().st_mode) == 0o700  # notebooks with row-level data
    assert stat.S_IMODE((out / "run.log").stat().st_mode) == 0o600


def _revbook(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "revbook.cli", *args], capture_output=True, text=True, env=env,
                          timeout=600)


def test_a_loaded_warehouse_that_goes_missing_is_an_error_never_the_demo(tmp_path):
    warehouse = tmp_path / "data" / "revbook.duckdb"
    env = {**os.environ, "REVBOOK_STATE": str(tmp_path / "state"), "REVBOOK_WAREHOUSE": str(warehouse),
           "REVBOOK_OUTPUTS": str(tmp_path / "outputs")}
    fresh = _revbook("demo", "--unless-loaded", "--scale", "0.01", env=env)  # nothing loaded yet: the demo
    assert fresh.returncode == 0 and warehouse.is_file(), fresh.stderr
    folder = write_csv_folder(tiny_lake(), tmp_path / "exports")
    assert _revbook("load", str(folder), env=env).returncode == 0
    warehouse.unlink()
    refused = _revbook("demo", "--unless-loaded", "--scale", "0.01", env=env)  # what `make monthly` runs
    assert refused.returncode == 2 and not warehouse.exists()
    assert f"held your data, loaded from {folder}" in " ".join(refused.stderr.split())
    assert f"revbook load {folder}" in " ".join(refused.stderr.split()) and "Traceback" not in refused.stderr
    run = _revbook("run", "monthly", "--period", TEST_END, env=env)
    assert run.returncode == 2 and "held your data" in run.stderr and not list(tmp_path.rglob("manifest.json"))
    warehouse.write_bytes(b"not a warehouse")  # unreadable is the same
    assert "held your data" in _revbook("check", env=env).stderr
    warehouse.unlink()
    chosen = _revbook("demo", "--scale", "0.01", env=env)  # the demo on purpose clears the record
    assert chosen.returncode == 0 and warehouse.is_file()
    warehouse.unlink()
    assert _revbook("demo", "--unless-loaded", "--scale", "0.01", env=env).returncode == 0


def _start(*args: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "revbook.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)


def _until(condition, what: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.fixture()
def deployment(demo_warehouse, tmp_path) -> dict:
    """A copy of the small demo warehouse and an outputs folder, as environment for revbook processes."""
    warehouse = tmp_path / "data" / "revbook.duckdb"
    warehouse.parent.mkdir()
    shutil.copy(demo_warehouse, warehouse)
    return {**os.environ, "REVBOOK_WAREHOUSE": str(warehouse), "REVBOOK_OUTPUTS": str(tmp_path / "outputs"),
            "REVBOOK_STATE": str(tmp_path / "state")}


RUN = ("run", "monthly", "--period", TEST_END, "--only", "inside_sales", "--jobs", "1")


def _funnel(outputs: Path) -> dict:
    manifest = json.loads((outputs / TEST_END / "manifest.json").read_text(encoding="utf-8"))
    return manifest["reports"]["inside_sales/funnel"]


def test_a_second_run_waits_for_the_first_and_neither_counts_the_others_queries(deployment, tmp_path):
    alone = {**deployment, "REVBOOK_OUTPUTS": str(tmp_path / "alone")}
    assert _revbook(*RUN, env=alone).returncode == 0
    expected = len(_funnel(tmp_path / "alone")["queries"])
    holder = Path(deployment["REVBOOK_OUTPUTS"]) / ".revbook.lock.holder"
    first = _start(*RUN, env=deployment)
    _until(holder.exists, "the first run to take the lock")
    second = _start(*RUN, env=deployment)
    first_err, second_err = first.communicate(timeout=600)[1], second.communicate(timeout=600)[1]
    assert first.returncode == 0 and second.returncode == 0, first_err + second_err
    assert f"waiting for revbook run monthly {TEST_END} (pid {first.pid}" in " ".join(second_err.split())
    assert len(_funnel(Path(deployment["REVBOOK_OUTPUTS"]))["queries"]) == expected  # not both runs' calls
    assert not holder.exists()


def test_a_load_during_a_run_waits_and_every_page_shows_the_data_it_was_made_from(deployment, tmp_path):
    warehouse, outputs = Path(deployment["REVBOOK_WAREHOUSE"]), Path(deployment["REVBOOK_OUTPUTS"])
    with DuckDBWarehouse(warehouse) as wh:
        before = wh.fingerprint()
    run = _start(*RUN, env=deployment)
    _until((outputs / ".revbook.lock.holder").exists, "the run to take its locks")
    loading = _start("load", str(write_csv_folder(tiny_lake(), tmp_path / "exports")), env=deployment)
    run_err, load_err = run.communicate(timeout=600)[1], loading.communicate(timeout=600)[1]
    assert run.returncode == 0 and loading.returncode == 0, run_err + load_err
    assert f"waiting for revbook run monthly {TEST_END}" in " ".join(load_err.split())
    entry = _funnel(outputs)
    page = (outputs / TEST_END / entry["html"]).read_text(encoding="utf-8")
    assert entry["data_fingerprint"] == before and before in page
    with DuckDBWarehouse(warehouse) as wh:
        assert wh.fingerprint() != before and wh.fingerprint() not in page  # loaded after the run, not during


def test_a_lock_left_by_a_killed_run_is_recovered(deployment):
    lock = locks.outputs_lock(Path(deployment["REVBOOK_OUTPUTS"]))
    holding = subprocess.Popen([sys.executable, "-c", "import sys, time; from pathlib import Path; "
                                "from revbook import locks\nwith locks.hold(Path(sys.argv[1]), 'a run', print):\n"
                                "    print('held', flush=True); time.sleep(600)", str(lock)],
                               stdout=subprocess.PIPE, text=True, env=deployment)
    assert holding.stdout is not None and holding.stdout.readline().strip() == "held"
    holding.send_signal(signal.SIGKILL)
    holding.wait(timeout=30)
    run = _revbook(*RUN, env=deployment)
    assert run.returncode == 0 and "waiting" not in run.stderr, run.stderr


def _marked(env: dict) -> tuple[dict, str]:
    marker = uuid.uuid4().hex
    return {**env, "REVBOOK_TEST_RUN": marker}, f"REVBOOK_TEST_RUN={marker}"


def test_a_runner_killed_outright_takes_its_workers_and_kernels_with_it(deployment):
    env, marker = _marked(deployment)
    run = _start("run", "monthly", "--period", TEST_END, "--jobs", "2", env=env)
    executed = Path(deployment["REVBOOK_OUTPUTS"]) / TEST_END / "_executed"
    _until(lambda: any(executed.rglob("*.queries.jsonl")), "a report to be running")
    assert len(processes_with(marker)) >= 3  # the runner, its workers, their kernel parents and kernels
    run.send_signal(signal.SIGKILL)  # cron's timeout, the OOM killer: no handler runs
    try:
        run.communicate(timeout=30)  # returns once no process of the run holds the pipe
    except subprocess.TimeoutExpired:
        pytest.fail(f"the run's processes kept its pipe open: {processes_with(marker)}")
    _until(lambda: not processes_with(marker), "the run's processes to go", seconds=15)


def test_a_reader_that_goes_away_does_not_stop_the_run(deployment):
    run = _start(*RUN, env=deployment)
    assert run.stderr is not None
    run.stderr.readline()  # `revbook run … 2>&1 | head -1`: one line read, then the pipe is closed
    run.stderr.close()
    assert run.wait(timeout=600) == 0
    funnel = _funnel(Path(deployment["REVBOOK_OUTPUTS"]))
    assert funnel["status"] == "ok" and (Path(deployment["REVBOOK_OUTPUTS"]) / TEST_END / funnel["html"]).is_file()


def test_a_corrupt_manifest_is_set_aside_not_fatal(use_warehouse, tmp_path, monkeypatch, caplog):
    outputs = tmp_path / "outputs"
    monkeypatch.setenv("REVBOOK_OUTPUTS", str(outputs))
    for period, text in (("2026-01", ""), (TEST_END, '{"reports": {"sales_ops/x": ')):  # empty; cut short
        (outputs / period).mkdir(parents=True)
        (outputs / period / "manifest.json").write_text(text, encoding="utf-8")
    with caplog.at_level("WARNING"):
        assert runner.run("monthly", TEST_END, only=["inside_sales"]) == 0
    assert "2026-01/manifest.json is not a readable manifest: set aside as manifest.json.corrupt" in caplog.text
    assert (outputs / TEST_END / "manifest.json.corrupt").read_text(encoding="utf-8").startswith('{"reports"')
    manifest = json.loads((outputs / TEST_END / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["reports"]) == {"inside_sales/funnel"}
    assert (outputs / "index.html").is_file() and TEST_END in (outputs / "index.html").read_text(encoding="utf-8")


def test_a_report_no_longer_scheduled_is_retired_not_failed_for_ever(demo_frames, tmp_path, monkeypatch):
    schedule = tmp_path / "personal.yaml"
    schedule.write_text("period: month\njobs:\n  - notebook: field_sales/pipeline\n    per_rep: field_sales\n",
                        encoding="utf-8")
    warehouse, outputs = tmp_path / "w.duckdb", tmp_path / "outputs"
    monkeypatch.setenv("REVBOOK_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("REVBOOK_OUTPUTS", str(outputs))
    load.build_warehouse(demo_frames, warehouse, {"source": "test"})
    assert runner.run(str(schedule), TEST_END) == 0
    path = outputs / TEST_END / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    left = sorted(e["rep_id"] for e in manifest["reports"].values())[0]
    key = next(k for k, e in manifest["reports"].items() if e["rep_id"] == left)
    manifest["reports"][key]["status"] = "failed"  # the rep's last run failed, then the rep left
    path.write_text(json.dumps(manifest), encoding="utf-8")
    reps = demo_frames["reps"].assign(active=lambda f: f["active"] & (f["rep_id"] != left))
    load.build_warehouse({**demo_frames, "reps": reps}, warehouse, {"source": "test"})
    assert runner.run(str(schedule), TEST_END) == 0
    entry = json.loads(path.read_text(encoding="utf-8"))["reports"][key]
    assert entry["status"] == "retired" and "no longer in the personal schedule" in entry["error"]
    assert runner.failed_keys(periods.resolve("month", TEST_END)) == set()
    top = (outputs / "index.html").read_text(encoding="utf-8")
    assert f'>{TEST_END}</a></td>\n    <td class="ok">ok</td>' in top  # not "1 failed"
    assert "retired" in (outputs / TEST_END / "index.html").read_text(encoding="utf-8")


def test_overlapping_daily_runs_send_each_slack_alert_once(deployment, webhook):
    day = periods.parse("month", TEST_END).last_day.isoformat()
    env = {**deployment, **webhook.env}
    holder = Path(deployment["REVBOOK_OUTPUTS"]) / ".revbook.lock.holder"
    first = _start("run", "daily", "--period", day, "--only", "customer_success", env=env)
    _until(holder.exists, "the first run to take the lock")
    second = _start("run", "daily", "--period", day, "--only", "customer_success", env=env)
    errors = first.communicate(timeout=600)[1] + second.communicate(timeout=600)[1]
    assert first.returncode == 0 and second.returncode == 0, errors
    assert "waiting for revbook run daily" in " ".join(errors.split())
    assert len(webhook.bodies) == 1 and "new customer-success alerts" in webhook.bodies[0]["text"]


def test_shared_mart_results_are_keyed_by_the_data_not_only_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv(MART_CACHE_ENV, str(tmp_path / "shared"))
    (tmp_path / "shared").mkdir()
    warehouse, months = tmp_path / "w.duckdb", [dt.date(2026, 1, 1)]
    load.build_warehouse(tiny_lake(), warehouse, {"source": "first"})
    with DuckDBWarehouse(warehouse) as wh:
        before = wh.mart("funnel_monthly", months=months)
    lake = tiny_lake()
    del lake["leads"]  # a new load into the same file, mid-run
    load.build_warehouse(lake, warehouse, {"source": "second"})
    with DuckDBWarehouse(warehouse) as wh:
        after = wh.mart("funnel_monthly", months=months)
    assert int(before["new_leads"].iloc[0]) > 0 and int(after["new_leads"].iloc[0]) == 0


def test_a_disk_that_fills_during_a_run_is_said_in_one_line(deployment):
    pytest.importorskip("resource", reason="a file size limit (ulimit -f) needs POSIX resource limits")
    out = Path(deployment["REVBOOK_OUTPUTS"]) / TEST_END
    # 120 kB: the indexes, the manifest and the definitions page (about 55 kB) fit, a report page with charts does not
    for limit, code, said in ((120_000, 1, f"failed inside_sales/funnel: cannot write its files in {out}: File too "
                                           "large (a full or read-only disk?)"),  # the page is too big: one report
                              (300, 2, "revbook run: cannot write")):  # the manifest too: the run
        run = subprocess.run([sys.executable, "-m", "revbook.cli", *RUN], capture_output=True, text=True,
                             env=deployment, timeout=600, preexec_fn=file_size_limit(limit))
        assert run.returncode == code and said in " ".join(run.stderr.split()), run.stderr
        assert "File too large" in run.stderr.splitlines()[-1] and "Traceback" not in run.stderr, run.stderr
        assert not [p for p in out.parent.rglob("*") if ".tmp" in p.name]  # nothing half-written
