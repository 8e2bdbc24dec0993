"""Stopping a run (SIGTERM from cron or systemd, or Ctrl-C) leaves nothing behind: running reports stop
and shut their kernels down, no page is half-written, the manifest records what finished and what
did not, and `--only-failed` completes the rest."""

import json
import os
import signal
import subprocess
import sys
import time
import uuid

import pytest

from conftest import TEST_END
from processes import ctrl_c_as_in_a_terminal, processes_with


@pytest.mark.parametrize("how", ["SIGTERM to the runner (cron, systemd)", "Ctrl-C (SIGINT to the process group)",
                                 "SIGHUP to the process group (the terminal closed)"])
def test_a_stopped_run_leaves_nothing_behind_and_only_failed_finishes_it(demo_warehouse, tmp_path, how):
    marker = f"REVBOOK_TEST_RUN={uuid.uuid4().hex}"
    temp = tmp_path / "tmp"  # where the run keeps its shared mart results
    temp.mkdir()
    env = {**os.environ, "REVBOOK_WAREHOUSE": str(demo_warehouse), "REVBOOK_OUTPUTS": str(tmp_path),
           marker.split("=")[0]: marker.split("=")[1], "TMPDIR": str(temp)}
    command = [sys.executable, "-m", "revbook.cli", "run", "monthly", "--period", TEST_END, "--jobs", "2",
               "--only", "sales_ops,marketing,inside_sales,customer_success"]
    run = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True, start_new_session=True,
                           preexec_fn=ctrl_c_as_in_a_terminal)
    assert run.stderr is not None
    for line in run.stderr:  # wait until one report has finished, so others are mid-flight
        if " ok " in line:
            break
    if how.startswith("SIGTERM"):
        run.send_signal(signal.SIGTERM)
    else:
        os.killpg(run.pid, signal.SIGHUP if how.startswith("SIGHUP") else signal.SIGINT)
    try:
        rest = run.communicate(timeout=90)[1]
    except subprocess.TimeoutExpired:  # a run hung on its way out fails here instead of holding up the suite
        os.killpg(run.pid, signal.SIGKILL)
        raise
    assert run.returncode == 130, rest
    assert "interrupted: stopping the running reports" in rest and "revbook run: interrupted" in rest
    assert "Traceback" not in rest
    deadline = time.monotonic() + 5  # processes take a moment to go once the run has exited
    while processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_with(marker) == []  # no worker, kernel parent or kernel left running
    assert not list(temp.glob("revbook-marts-*"))  # the run's shared mart results went with it

    out = tmp_path / TEST_END
    assert not [p for p in out.rglob("*") if ".tmp" in p.name]  # nothing half-written
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    statuses = {key: r["status"] for key, r in manifest["reports"].items()}
    assert "ok" in statuses.values() and "interrupted" in statuses.values()
    assert len(statuses) == manifest["last_run"]["jobs"]  # every planned report is accounted for
    for key, status in statuses.items():
        assert (out / f"{key}.html").exists() == (status == "ok"), key

    again = subprocess.run([*command, "--only-failed"], env=env, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    redone = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["reports"]
    assert {r["status"] for r in redone.values()} == {"ok"}
    assert f"{sum(s != 'ok' for s in statuses.values())} ok, 0 failed" in again.stderr


def test_a_worker_stops_once_and_only_while_a_report_runs(monkeypatch):
    """Ctrl-C reaches a worker, then the runner's SIGTERM: the second must not raise, nor any stop
    while the worker hands a result back (that left the pool's queue locked and the run hung)."""
    from revbook.run import runner

    monkeypatch.setattr(runner, "_stopping", False)
    monkeypatch.setattr(runner, "_in_report", False)
    runner._stop_worker(signal.SIGTERM, None)  # between reports: queued ones are skipped, nothing raised
    assert runner._stopping
    monkeypatch.setattr(runner, "_stopping", False)
    monkeypatch.setattr(runner, "_in_report", True)
    with pytest.raises(KeyboardInterrupt):
        runner._stop_worker(signal.SIGINT, None)
    runner._stop_worker(signal.SIGTERM, None)  # the runner's SIGTERM after Ctrl-C
    assert runner._stopping
