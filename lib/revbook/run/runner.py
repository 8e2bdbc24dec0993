"""The scheduler's runner: plan a schedule's jobs, execute them in parallel, render, index.

`plan()` checks everything it can before any kernel starts (period, schedule, notebooks,
parameter names and types, reps). `run()` executes each job with papermill inside worker
processes (no CLI start-up per notebook), renders HTML with code hidden, writes every file
atomically, records a manifest and rebuilds the index pages. A failing notebook never stops
the others and never replaces the last good HTML; the run then exits non-zero.
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import multiprocessing
import os
import re
import signal
import subprocess
import tempfile
import time
import traceback
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import nbformat
import pandas as pd
import papermill
from jupyter_client.kernelspec import find_kernel_specs
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from revbook import clock, contract, locks, paths, periods, settings
from revbook.data import coverage
from revbook.data.engines import connect
from revbook.data.warehouse import MART_CACHE_ENV, PERIOD_ENV, QUERY_LOG_ENV, REPORT_ENV, mart_columns, mart_tables
from revbook.files import CANNOT_WRITE, private_dir, quiet_stderr, safe_name, write_atomic
from revbook.pages import report
from revbook.periods import Period
from revbook.run import costs, index, kernels, render

# papermill reports a parameter's annotation by name; values must fit these Python types.
_TYPES: dict[str, tuple[type, ...]] = {"str": (str,), "int": (int,), "float": (int, float), "bool": (bool,),
                                       "list": (list,), "dict": (dict,)}


class PlanError(ValueError):
    """Problems found before any kernel starts; each line names the job and what is wrong."""


@dataclass(frozen=True)
class Job:
    """One report to render: a notebook with its parameters (and rep, if personal)."""

    notebook: str  # "<department>/<report>", relative to notebooks/ without .ipynb
    parameters: dict[str, Any] = field(default_factory=dict)
    rep_id: str | None = None
    needs: tuple[str, ...] = ()  # contract tables of which at least one must hold data (notebook metadata)
    title: str = ""  # the notebook's first markdown heading
    rep_name: str | None = None  # the rep's name in the reps table, for a personal report

    @property
    def department(self) -> str:
        return self.notebook.split("/", 1)[0]

    @property
    def name(self) -> str:
        """Output name: <report> or <report>--<rep> for a personal report, <rep> the rep id made a safe
        file name (the id comes from data: it must not pick where a page is written)."""
        report = self.notebook.rsplit("/", 1)[-1]
        return f"{report}--{safe_name(self.rep_id)}" if self.rep_id else report

    @property
    def key(self) -> str:
        return f"{self.department}/{self.name}"

    @property
    def source(self) -> Path:
        return paths.notebooks_dir() / f"{self.notebook}.ipynb"


@dataclass
class Result:
    """What happened to one job (one manifest entry)."""

    key: str
    notebook: str
    rep_id: str | None
    parameters: dict[str, Any]
    status: str  # ok | skipped (none of the tables it needs holds data) | failed | interrupted
    duration_s: float
    title: str = ""  # the report's human title (the notebook's first heading)
    rep_name: str | None = None
    html: str | None = None
    metrics: str | None = None
    files: list[str] = field(default_factory=list)  # CSV attachments beside the HTML
    error: str | None = None
    finished_at: str = ""
    data_fingerprint: str = ""
    code_version: str = ""
    queries: list[dict[str, Any]] = field(default_factory=list)  # mart calls: mart, params, rows, seconds, bytes
    bytes_billed: int | None = None  # on an engine that bills (BigQuery)
    kernel_peak_rss: int | None = None  # bytes: the kernel process's peak resident memory

    @classmethod
    def of(cls, job: Job, status: str, **fields: Any) -> Result:
        """`job`'s result, named and titled as the job is (its parameters unless given)."""
        fields.setdefault("parameters", dict(job.parameters))
        return cls(job.key, job.notebook, job.rep_id, status=status, duration_s=0.0, title=job.title,
                   rep_name=job.rep_name, **fields)


# ---------------------------------------------------------------- planning


#: A parameter whose value is one of a fixed set says so at the end of its comment in the notebook's
#: parameters cell: `attribution: str = "first_touch"  # how leads are credited; one of: a, b, c`;
#: a number with a floor says "at least N": `window_months: int = 12  # months of history; at least 1`.
_ONE_OF = re.compile(r"\bone of:\s*(\w+(?:\s*,\s*\w+)*)\s*$")
_AT_LEAST = re.compile(r"\bat least (-?\d+(?:\.\d+)?)\b")


def choices(declared: dict[str, Any]) -> tuple[str, ...] | None:
    """The values a declared parameter (papermill's inspection of it) allows, if its comment lists them."""
    found = _ONE_OF.search(declared.get("help") or "")
    return tuple(v.strip() for v in found.group(1).split(",")) if found else None


def _check_value(job: str, name: str, value: Any, declared: dict[str, Any]) -> list[str]:
    allowed = choices(declared)
    if allowed is not None and value not in allowed:
        return [f"{job}: parameter {name!r} must be one of {', '.join(allowed)}, got {value!r}"]
    expected = declared["inferred_type_name"].split("[", 1)[0].replace("Optional", "").strip()
    types = _TYPES.get(expected)
    if types is None or (isinstance(value, bool) and bool not in types):
        return [] if types is None else [f"{job}: parameter {name!r} must be {expected}, got {value!r}"]
    if not isinstance(value, types):
        return [f"{job}: parameter {name!r} must be {expected}, got {type(value).__name__} {value!r}"]
    floor = _AT_LEAST.search(declared.get("help") or "")
    if floor and not isinstance(value, bool) and isinstance(value, (int, float)) and value < float(floor.group(1)):
        return [f"{job}: parameter {name!r} must be at least {floor.group(1)}, got {value!r}"]
    return []


def failed_keys(period: Period) -> set[str]:
    """Reports whose last run in `period` failed (or never finished), from its manifest."""
    folder = paths.outputs_dir() / period.label
    manifest = index.read_manifest(folder)
    if manifest is None:
        raise PlanError(f"--only-failed: no earlier run of {period.label} ({folder / index.MANIFEST} is missing)")
    return {key for key, entry in manifest["reports"].items() if entry.get("status") not in index.SETTLED}


class _Inspected(NamedTuple):
    kernel: str | None
    declared: dict[str, Any]
    needs: tuple[str, ...]
    title: str


def _inspect(source: Path) -> _Inspected:
    """A notebook's kernel name, declared parameters, the tables it needs (metadata `revbook.needs`:
    the report is skipped when none of them holds data) and its title: the first markdown heading,
    else the file name in words ("campaign_roi" → "Campaign roi")."""
    nb = nbformat.read(source, as_version=4)
    needs = tuple(nb.metadata.get("revbook", {}).get("needs", ()))
    headings = (m.group(1).strip() for c in nb.cells if c.cell_type == "markdown"
                for m in [re.search(r"^#+\s+(.+)$", c.source, re.M)] if m)
    title = next(headings, source.stem.replace("_", " ").capitalize())
    return _Inspected(nb.metadata.get("kernelspec", {}).get("name"), papermill.inspect_notebook(str(source)),
                      needs, title)


def plan(schedule_name: str, period_text: str | None = None, only: list[str] | None = None,
         rep: str | None = None, overrides: dict[str, Any] | None = None) -> tuple[Period, list[Job]]:
    """The period and the jobs a run would execute; PlanError lists every problem found. `overrides`
    (`revbook run -p name=value`) replace the schedule's parameters for this run, in every notebook
    that declares them, checked as the schedule's are."""
    try:
        sched = settings.schedule(schedule_name)
        assert sched.period is not None  # settings.schedule fills it in
        period = periods.resolve(sched.period, period_text)
        settings.company()  # every report reads it: a typo is found here, not in each kernel
        settings.warehouse()
    except (settings.SettingsError, periods.PeriodError, clock.ClockError) as exc:
        raise PlanError(str(exc)) from None
    reserved = sorted({"period", "rep_id"} & set(overrides or {}))  # the run's own options set these
    problems = [f"-p {name}: set it with --{name.split('_')[0]}" for name in reserved]
    overrides = {k: v for k, v in (overrides or {}).items() if k not in ("period", "rep_id")}
    used: set[str] = set()  # the overrides some notebook declares
    selected = [j for j in sched.jobs
                if not only or j.notebook.split("/")[0] in only or j.notebook in only]
    if only and not selected:
        known = sorted({j.notebook for j in sched.jobs} | {j.notebook.split("/")[0] for j in sched.jobs})
        raise PlanError(f"--only {','.join(only)} matches no job of the {schedule_name} schedule; "
                        f"it has: {', '.join(known) or 'no jobs'}")
    jobs: list[Job] = []
    reps: pd.DataFrame | None = None
    kernels = find_kernel_specs()
    inspected: dict[Path, _Inspected] = {}  # a notebook fanned out is read once
    for spec in selected:
        if rep is not None and not spec.per_rep:
            continue  # --rep renders personal reports only
        where = f"{settings.schedule_file(schedule_name).name} job {spec.notebook}"
        source = paths.notebooks_dir() / f"{spec.notebook}.ipynb"
        if not source.is_file():
            problems.append(f"{where}: no notebook {source}")
            continue
        if source not in inspected:
            inspected[source] = _inspect(source)
        kernel, declared, needs, title = inspected[source]
        parameters = {**spec.parameters, **{k: v for k, v in overrides.items() if k in declared}}
        used |= parameters.keys() & overrides.keys()
        unknown_tables = [t for t in needs if t not in contract.TABLES_BY_NAME]
        if unknown_tables:
            problems.append(f"{where}: the notebook's metadata revbook.needs names {', '.join(unknown_tables)}, "
                            f"which are not contract tables")
        if kernel not in kernels:
            problems.append(f"{where}: the notebook's kernel {kernel!r} is not installed (have "
                            f"{', '.join(sorted(kernels))}); run `make setup`")
            continue
        wanted = {"period", *parameters, *(["rep_id"] if spec.per_rep else [])}
        for name in sorted(wanted - declared.keys()):
            problems.append(f"{where}: unknown parameter {name!r}; the notebook's parameters cell "
                            f"declares {', '.join(sorted(declared)) or 'nothing'}")
        for name, value in parameters.items():
            if name in declared:
                problems.extend(_check_value(where, name, value, declared[name]))
        if not spec.per_rep and "rep_id" not in parameters:
            jobs.append(Job(spec.notebook, dict(parameters), needs=needs, title=title))
            continue
        if reps is None:
            with connect() as wh:
                reps = wh.mart("reps")
        if spec.per_rep:
            team = sorted(reps.loc[(reps["team"] == spec.per_rep) & reps["active"], "rep_id"])
            chosen = team if rep is None else [rep]
            problems.extend(f"{where}: unknown rep {r!r}: not an active {spec.per_rep} rep "
                            f"(active: {', '.join(team) or 'none'})" for r in chosen if r not in team)
            names = dict(zip(reps["rep_id"], reps["name"], strict=True))
            jobs.extend(Job(spec.notebook, dict(parameters), r, needs, title, names.get(r)) for r in chosen)
        else:
            if parameters["rep_id"] not in set(reps["rep_id"]):
                problems.append(f"{where}: unknown rep {parameters['rep_id']!r} (not in the reps table)")
            jobs.append(Job(spec.notebook, dict(parameters), needs=needs, title=title))
    problems += [f"-p {name}: no notebook of the {schedule_name} schedule declares it"
                 for name in sorted(overrides.keys() - used)]
    if rep is not None and not jobs and not problems:
        problems.append(f"--rep {rep}: the {schedule_name} schedule has no personal (per_rep) reports")
    if problems:
        raise PlanError("\n".join(problems))
    return period, jobs


# ---------------------------------------------------------------- execution (worker side)


_stopping = False  # set in a worker once it is told to stop: queued reports are then skipped
_in_report = False  # true in a worker while a report executes: the one place a stop may raise


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM or SIGHUP as Ctrl-C in the runner: unwind through `finally` blocks (workers told, manifest written)."""
    raise KeyboardInterrupt


def _stop_worker(signum: int, frame: object) -> None:
    """Ctrl-C or SIGTERM in a worker: stop the running report (papermill shuts its kernel down) and
    skip the queued ones. It raises once, and only while a report runs: Ctrl-C reaches a worker and
    then the runner's SIGTERM, and a KeyboardInterrupt raised while the worker hands its result back
    would leave the pool's result queue locked and the whole run hung."""
    global _stopping
    if _in_report and not _stopping:
        _stopping = True
        raise KeyboardInterrupt
    _stopping = True


def _quiet_worker(log_path: str, runner_pid: int) -> None:
    """Send worker and kernel stderr (kernel start-up chatter, warnings) to the run log; stop on
    SIGTERM, SIGHUP and Ctrl-C the same way, once, so papermill shuts the kernel down instead of
    orphaning it; die with the runner if it is killed outright (SIGKILL: no one is left to take a
    result, and the kernel parent and kernels follow). Start the worker's kernel parent, which
    imports the notebooks' heavy modules once."""
    kernels.die_with(runner_pid)
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.fchmod(fd, 0o600)  # tracebacks quote data: not for a web server to serve
    os.dup2(fd, 2)
    os.close(fd)
    logging.basicConfig(level=logging.WARNING, force=True)
    signal.signal(signal.SIGTERM, _stop_worker)
    signal.signal(signal.SIGHUP, _stop_worker)
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:  # started with Ctrl-C ignored (nohup &): keep it so
        signal.signal(signal.SIGINT, _stop_worker)
    kernels.ForkedKernelManager.parent_process = kernels.KernelParent()


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_ARROW = re.compile(r"^-+> *\d+ (.*)$", re.M)  # IPython marks the line that raised: "---> 16 x = f()"


def _error_summary(exc: BaseException, out: Path) -> str:
    """One line for the run summary and the index: the cell, the line of it that failed, the exception;
    or that the report's files could not be written in `out`."""
    if isinstance(exc, OSError) and exc.errno in CANNOT_WRITE:
        return f"cannot write its files in {out}: {exc.strerror} (a full or read-only disk?)"
    if isinstance(exc, papermill.PapermillExecutionError):
        arrows = (_ARROW.search(_ANSI.sub("", frame)) for frame in exc.traceback)  # the cell's frame first
        arrow = next((a for a in arrows if a), None)
        line = arrow.group(1) if arrow else next((li for li in exc.source.splitlines() if li.strip()), "")
        return f"cell {exc.exec_count} ({line.strip()[:80]}): {exc.ename}: {exc.evalue}"
    return f"{type(exc).__name__}: {exc}"


def execute(job: Job, period: str, out_dir: str, banner: dict[str, Any], shared_marts: str = "") -> Result:
    """Run one job's notebook and, if it succeeds, publish its HTML and metrics atomically. Mart
    results go to `shared_marts` for the run's other reports (none if empty)."""
    global _in_report
    started = time.perf_counter()
    out = Path(out_dir)
    executed = private_dir(out / "_executed") / job.department / f"{job.name}.ipynb"
    executed.parent.mkdir(parents=True, exist_ok=True)
    params = {"period": period, **job.parameters, **({"rep_id": job.rep_id} if job.rep_id else {})}
    query_log = executed.with_suffix(".queries.jsonl")
    query_log.unlink(missing_ok=True)
    # the kernel inherits these: the warehouse logs each mart call, BigQuery labels its jobs
    os.environ.update({QUERY_LOG_ENV: str(query_log), REPORT_ENV: job.key, PERIOD_ENV: period,
                       MART_CACHE_ENV: shared_marts})
    result = Result.of(job, "failed", parameters=params, data_fingerprint=banner["fingerprint"],
                       code_version=banner["code_version"])
    if _stopping:
        result.status, result.error = "interrupted", "the run was stopped before this report started"
        return result
    kernels.ForkedKernelManager.peaks.clear()
    try:
        _in_report = True
        nb = papermill.execute_notebook(
            str(job.source), str(executed), parameters=params, cwd=str(job.source.parent),
            progress_bar=False, log_output=False, request_save_on_cell_execute=False,
            kernel_manager_class=kernels.ForkedKernelManager,
        )
        html_path = out / job.department / f"{job.name}.html"
        metrics_path = html_path.with_suffix(".metrics.json")
        attachments = render.attachments(nb)
        files = {name: f"{job.name}.{name}.csv" for name in attachments}
        page = render.html(nb, {**banner, **index.banner_links(job.notebook, job.rep_id is not None, banner["pages"]),
                                "title": job.title + (f" — {job.rep_name or job.rep_id}" if job.rep_id else ""),
                                "index_href": "../index.html", "not_loaded": _not_loaded(query_log, banner),
                                "rendered_at": clock.stamp(), "took": f"{time.perf_counter() - started:.1f}s"},
                           files)
        for name, csv in attachments.items():  # utf-8 with BOM: Excel reads Japanese right
            write_atomic(html_path.with_name(files[name]), csv, encoding="utf-8-sig")
        write_atomic(metrics_path, json.dumps(render.metrics(nb), ensure_ascii=False, indent=2))
        write_atomic(html_path, page)
        result.status = "ok"
        result.html = str(html_path.relative_to(out))
        result.metrics = str(metrics_path.relative_to(out))
        result.files = [str(html_path.with_name(f).relative_to(out)) for f in files.values()]
    except KeyboardInterrupt:  # stopped mid-report: its kernel is shut down, its last good page kept
        result.status, result.error = "interrupted", "the run was stopped while this report ran"
    except Exception as exc:  # a failed report is a result, not a crash
        result.error = _error_summary(exc, out)
        if not isinstance(exc, papermill.PapermillExecutionError):
            traceback.print_exc()  # to the run log
    finally:
        _in_report = False
    if query_log.exists():
        result.queries = [json.loads(line) for line in query_log.read_text(encoding="utf-8").splitlines() if line]
        billed = [q["bytes_billed"] for q in result.queries if q.get("bytes_billed") is not None]
        result.bytes_billed = sum(billed) if billed else None
    result.kernel_peak_rss = max(kernels.ForkedKernelManager.peaks, default=None)
    result.duration_s = round(time.perf_counter() - started, 2)
    result.finished_at = clock.stamp()
    return result


def _not_loaded(query_log: Path, banner: dict[str, Any]) -> str:
    """The banner's note on the tables this report's marts read that hold no data, and the optional
    columns they read that hold no values ('' if none)."""
    marts = {json.loads(line)["mart"] for line in query_log.read_text(encoding="utf-8").splitlines() if line} \
        if query_log.exists() else set()
    tables = set().union(*(mart_tables(m) for m in marts))
    columns = set().union(*(mart_columns(m) for m in marts))
    absent = [t for t in contract.TABLES if t.name in tables and t.name in banner["absent"].split(",")]
    empty = [c for c in banner["empty_columns"].split(",") if c and c.partition(".")[0] in tables
             and c.partition(".")[2] in columns]
    return report.not_loaded_note(absent, empty) if absent or empty else ""


# ---------------------------------------------------------------- orchestration


def code_version() -> str:
    """git revision of the checkout (+"-dirty" with local changes), else the package version."""
    root = paths.project_root()
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True,
                             text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, check=True).stdout.strip()
        return f"{rev}-dirty" if dirty else rev
    except (OSError, subprocess.CalledProcessError):
        from revbook import __version__
        return __version__


def _skipped(job: Job, banner: dict[str, Any]) -> Result:
    """A report none of whose tables holds data: neither failed nor rendered empty."""
    tables = [contract.table(t) for t in job.needs]
    reason = f"needs {' or '.join(t.label for t in tables)} ({', '.join(t.name for t in tables)}); none is loaded"
    return Result.of(job, "skipped", error=reason, finished_at=clock.stamp(), data_fingerprint=banner["fingerprint"],
                     code_version=banner["code_version"])


def _write_manifest(out: Path, schedule: str, period: Period, results: list[Result],
                    run_info: dict[str, Any], scheduled: set[str] | None = None) -> dict[str, Any]:
    """Merge a run's results into the period's manifest. `scheduled`, the keys of the whole schedule
    when the run covered it, retires the entries of reports no longer in it (a rep who left)."""
    path = out / index.MANIFEST
    manifest = index.read_manifest(out) or {"reports": {}}
    previous_schedule = manifest.get("schedule")
    manifest.update(schedule=schedule, period=period.label, last_run=run_info)
    if scheduled is not None:
        for key, entry in manifest["reports"].items():
            if key not in scheduled and entry.get("schedule", previous_schedule) == schedule \
                    and entry.get("status") != "retired":
                entry.update(status="retired", error=f"no longer in the {schedule} schedule (last run "
                                                     f"{entry.get('finished_at') or '?'}, {entry.get('status')})")
    current = run_info.get("data_fingerprint")
    for r in results:
        entry = asdict(r)
        previous = manifest["reports"].get(r.key) or {}
        good_from = previous.get("last_good_fingerprint") or previous.get("data_fingerprint")
        if r.status == "ok":
            entry["last_good_at"], entry["last_good_fingerprint"] = r.finished_at, r.data_fingerprint
        elif previous.get("html") and r.status != "skipped" and good_from == current:
            # keep pointing at the last good page, which is still on disk and shows the same data
            entry["html"], entry["metrics"] = previous.get("html"), previous.get("metrics")
            entry["files"] = previous.get("files", [])
            entry["last_good_at"] = previous.get("last_good_at") or previous.get("finished_at")
            entry["last_good_fingerprint"] = good_from
        elif previous.get("html"):
            # a page of other data (or of a report now skipped) would pass for this data's: removed
            for name in [previous["html"], previous.get("metrics"), *previous.get("files", [])]:
                if name:
                    (out / name).unlink(missing_ok=True)
            if r.status != "skipped":
                entry["error"] = (f"{r.error}; the last good page was of other data (fingerprint {good_from}) "
                                  "and is removed")
        manifest["reports"][r.key] = {**entry, "schedule": schedule}
    write_atomic(path, json.dumps(manifest, ensure_ascii=False, indent=2))
    return manifest


def run(schedule_name: str, period_text: str | None = None, only: list[str] | None = None,
        rep: str | None = None, workers: int | None = None, console: Console | None = None,
        dry_run: bool = False, only_failed: bool = False, overrides: dict[str, Any] | None = None) -> int:
    """Plan and run a schedule; 0 if every report rendered, 1 if any failed, 2 if nothing ran.
    On BigQuery the bytes each report would scan are printed first; `dry_run` stops there.
    `only_failed` re-runs just the reports whose last run in the period failed."""
    console = console or Console(file=quiet_stderr(), soft_wrap=True)
    recorded_as = settings.schedule_name(schedule_name)  # a schedule file of one's own: its stem
    try:
        period, jobs = plan(schedule_name, period_text, only, rep, overrides)
    except PlanError as exc:
        console.print(f"[bold red]revbook run {schedule_name}: nothing was run[/]\n{escape(str(exc))}")
        return 2
    with contextlib.ExitStack() as held:
        if not dry_run:  # one run per outputs folder; no load replaces the warehouse under its reports
            what, say = f"revbook run {recorded_as} {period.label}", console.print
            held.enter_context(locks.hold(locks.outputs_lock(paths.outputs_dir()), what, say))
            if settings.warehouse().engine == "duckdb":
                held.enter_context(locks.hold(locks.warehouse_lock(paths.warehouse_path()), what, say))
        if only_failed:
            failed_before = failed_keys(period)
            jobs = [j for j in jobs if j.key in failed_before]
            if not jobs:
                console.print(f"{recorded_as} {period.label}: no failed reports to re-run")
                return 0
        complete = not (only or rep or only_failed)  # the whole schedule: what is not in it is retired
        return _run_planned(schedule_name, period, jobs, workers, console, dry_run, complete)


def execution_order(jobs: list[Job]) -> list[Job]:
    """Team reports first, then the many short personal ones (which reuse the team page's marts), so
    that no long report starts last and runs alone while the other workers idle."""
    return sorted(jobs, key=lambda j: j.rep_id is not None)


def _run_planned(schedule_name: str, period: Period, jobs: list[Job], workers: int | None, console: Console,
                 dry_run: bool, complete: bool) -> int:
    """`run` once the plan holds and the locks are held."""
    scheduled = {j.key for j in jobs} if complete else None
    recorded_as = settings.schedule_name(schedule_name)
    with connect() as wh:
        if dry_run or wh.dialect == "bigquery":
            config = settings.warehouse().bigquery
            estimates = costs.estimate(wh, [j.key for j in jobs], paths.outputs_dir(), recorded_as)
            costs.show(console, estimates, wh.dialect, config.price_per_tib if config else None)
        if dry_run:
            return 0
        banner: dict[str, Any] = {
            "period": period.label, "schedule": index.schedule_label(recorded_as),
            "fingerprint": wh.fingerprint(), "code_version": code_version(), "generated_at": clock.stamp(),
            "absent": ",".join(t.name for t in contract.TABLES if not wh.has(t.name)),
            "empty_columns": ",".join(f"{h.table.name}.{c}" for h in coverage.holdings(wh) if h.rows
                                      for c in h.empty_columns)}
        skipped = [_skipped(j, banner) for j in jobs if j.needs and not any(wh.has(t) for t in j.needs)]
    jobs = [j for j in jobs if j.key not in {r.key for r in skipped}]
    out = paths.outputs_dir() / period.label
    out.mkdir(parents=True, exist_ok=True)
    banner["pages"] = index.team_pages(out, [(j.key, j.title) for j in jobs if not j.rep_id])
    for r in skipped:
        console.print(f"  [yellow]skipped[/] {r.key}: {escape(r.error or '')}")
    if not jobs:
        if skipped:
            _write_manifest(out, recorded_as, period, skipped, {"finished_at": clock.stamp(), "jobs": len(skipped),
                                                                  "data_fingerprint": banner["fingerprint"],
                                                                  "code_version": banner["code_version"]},
                            scheduled)
        else:
            console.print(f"{recorded_as} {period.label}: no jobs scheduled in {settings.schedule_file(schedule_name)}")
        index.build(paths.outputs_dir())
        return 0
    workers = max(1, min(workers or os.cpu_count() or 1, len(jobs)))
    console.print(f"[bold]{recorded_as} {period.label}[/]: {len(jobs)} report(s) on {workers} "
                  f"worker(s), data {banner['fingerprint']}, code {banner['code_version']}")
    started, results = time.perf_counter(), list(skipped)
    log_path = out / "run.log"
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=console, transient=True)
    # fork keeps the parent's imports (papermill, nbconvert); each worker starts its own kernels.
    # All jobs are submitted (so all workers forked) before the progress display starts its thread.
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                               initializer=_quiet_worker, initargs=(str(log_path), os.getpid()))
    shared_marts = tempfile.TemporaryDirectory(prefix="revbook-marts-")  # mart results, for this run only
    previous = {signum: signal.signal(signum, _interrupt) for signum in (signal.SIGTERM, signal.SIGHUP)}
    futures: list[Future[Result]] = []
    ordered = execution_order(jobs)  # the order futures are in
    try:
        # the workers fork at the first submit; frozen, the parent's objects are never collected in a worker,
        # where freeing one that held an engine's handles (DuckDB's threads do not survive a fork) can crash it
        gc.freeze()
        try:
            futures += [pool.submit(execute, j, period.label, str(out), banner, shared_marts.name)
                        for j in ordered]
        finally:
            gc.unfreeze()
        with progress:
            task = progress.add_task("rendering", total=len(jobs))
            for future in as_completed(futures):
                r = future.result()
                results.append(r)
                mark = "[green]ok[/]" if r.status == "ok" else "[bold red]FAILED[/]"
                line = f"  {mark} {r.key} ({r.duration_s:.1f}s)"
                if r.error:
                    line += f"\n     {escape(r.error)}"
                progress.console.print(line, markup=True, highlight=False)
                progress.advance(task)
    except KeyboardInterrupt:
        console.print("[yellow]interrupted: stopping the running reports; finished ones are kept, nothing is "
                      "half-written[/]")
        for pid in list(getattr(pool, "_processes", {}) or {}):  # workers stop their kernels, then exit
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        shared_marts.cleanup()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        seen = {r.key for r in results}
        for job, f in zip(ordered, futures):
            if job.key in seen:
                continue
            if f.done() and not f.cancelled() and f.exception() is None:
                results.append(f.result())
            else:  # never started, or lost with its worker: recorded so --only-failed picks it up
                results.append(Result.of(job, "interrupted", parameters={},
                                         error="the run was stopped before this report finished"))
        results.sort(key=lambda r: r.key)
        failed = [r for r in results if r.status not in ("ok", "skipped")]
        run_info = {"started_at": banner["generated_at"], "finished_at": clock.stamp(),
                    "wall_s": round(time.perf_counter() - started, 2), "workers": workers,
                    "jobs": len(jobs) + len(skipped), "finished": len(results), "failed": len(failed),
                    "skipped": len(skipped),
                    "data_fingerprint": banner["fingerprint"], "code_version": banner["code_version"]}
        _write_manifest(out, recorded_as, period, results, run_info, scheduled)
        index.build(paths.outputs_dir())
    skips = f", {len(skipped)} skipped" if skipped else ""
    console.print(f"{len(results) - len(failed) - len(skipped)} ok{skips}, {len(failed)} failed "
                  f"in {run_info['wall_s']:.1f}s → {out / 'index.html'}")
    for r in failed:
        kept = " (the last good report is kept)" if (out / f"{r.key}.html").exists() else ""
        console.print(f"[bold red]failed[/] {r.key}: {escape(r.error or '')}{kept}")
    return 1 if failed else 0
