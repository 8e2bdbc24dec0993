"""`make bench`: how fast and how big, for the current code on this machine.

1. The floor (as many empty parameterized notebooks as the monthly schedule has jobs, executed and
   rendered by the runner) against the monthly run at scale 1, and their ratio.
2. Per report: wall time and the kernel's peak resident memory.
3. The demo at each scale (default 1, 10, 100): generation time and peak memory, the monthly run's
   wall time and largest kernel, and each mart's query time (the distinct calls the run made).
4. A month's customer-success headlines by pandas over the raw Parquet files against revbook's
   marts (scale 10), with the ratio and a check that the numbers are identical.

It prints as it goes and writes bench/RESULTS.md. Warehouses, lakes and outputs go to bench/.data/
(git-ignored); `--reuse` keeps warehouses built earlier instead of generating them again.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import nbformat
import yaml

from bench import baseline
from revbook import periods, settings
from revbook.data.duckdb_engine import DuckDBWarehouse
from revbook.data.warehouse import decode_params
from revbook.run import index
from revbook.run.runner import code_version

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / ".data"
RESULTS = ROOT / "bench" / "RESULTS.md"
REVBOOK = str(Path(sys.executable).with_name("revbook"))
ROUNDS = 3  # floor and monthly runs at scale 1, alternating; medians are reported
SEED = 42
MIB = 2**20


def say(text: str) -> None:
    print(text, flush=True)


@dataclass
class Measured:
    """One child process: wall seconds and peak resident memory (its own, bytes)."""

    wall_s: float
    peak_rss: int


def measure(cmd: list[str], env: dict[str, str]) -> Measured:
    """Run `cmd` to completion; stop the benchmark if it fails."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env={**os.environ, **env}, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"bench: {' '.join(cmd)} failed ({proc.returncode}):\n{err[-3000:]}")
    return Measured(round(wall, 2), usage.ru_maxrss * 1024)


# ---------------------------------------------------------------- warehouses and runs


def warehouse(scale: float, reuse: bool) -> tuple[Path, Measured | None]:
    path = DATA / f"scale{scale:g}.duckdb"
    if reuse and path.exists():
        say(f"scale {scale:g}: reusing {path}")
        return path, None
    say(f"scale {scale:g}: generating the demo …")
    m = measure([REVBOOK, "demo", "--scale", str(scale), "--seed", str(SEED), "--out", str(path)], {})
    say(f"scale {scale:g}: generated in {m.wall_s:.1f} s, peak RSS {m.peak_rss / MIB:,.0f} MiB")
    return path, m


@dataclass
class Run:
    """One `revbook run monthly`: wall time and its manifest's reports."""

    wall_s: float
    reports: dict[str, dict[str, Any]]

    @property
    def largest_kernel(self) -> int:
        return max((r.get("kernel_peak_rss") or 0) for r in self.reports.values())


def monthly(db: Path, outputs: Path, root: Path = ROOT) -> Run:
    m = measure([REVBOOK, "run", "monthly"], {"REVBOOK_WAREHOUSE": str(db), "REVBOOK_OUTPUTS": str(outputs),
                                              "REVBOOK_ROOT": str(root)})
    manifest = next(outputs.glob(f"*/{index.MANIFEST}"))
    reports = json.loads(manifest.read_text(encoding="utf-8"))["reports"]
    failed = [k for k, r in reports.items() if r["status"] != "ok"]
    if failed:
        raise SystemExit(f"bench: reports failed: {', '.join(failed)} (see {manifest.parent / 'run.log'})")
    return Run(m.wall_s, reports)


def floor_project(jobs: int, folder: Path) -> Path:
    """A project whose monthly schedule runs `jobs` empty notebooks with a parameters cell."""
    (folder / "params").mkdir(parents=True, exist_ok=True)
    (folder / "notebooks" / "floor").mkdir(parents=True, exist_ok=True)
    for name in ("company.yaml", "warehouse.yaml"):
        (folder / "params" / name).write_text((ROOT / "params" / name).read_text(encoding="utf-8"), encoding="utf-8")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell('period: str = ""  # YYYY-MM', metadata={"tags": ["parameters"]})]
    nb.metadata["kernelspec"] = {"name": "revbook", "display_name": "Python (revbook)", "language": "python"}
    for i in range(1, jobs + 1):
        nbformat.write(nb, folder / "notebooks" / "floor" / f"empty_{i:02d}.ipynb")
    schedule = {"jobs": [{"notebook": f"floor/empty_{i:02d}"} for i in range(1, jobs + 1)]}
    (folder / "params" / "monthly.yaml").write_text(yaml.safe_dump(schedule), encoding="utf-8")
    return folder


def mart_times(db: Path, run: Run) -> dict[str, tuple[int, float]]:
    """Each mart's distinct calls in `run`, replayed on `db`: (calls, seconds in all)."""
    calls = {(q["mart"], json.dumps(q["params"], sort_keys=True)) for r in run.reports.values() for q in r["queries"]}
    times: dict[str, tuple[int, float]] = {}
    with DuckDBWarehouse(db, memory_limit=settings.warehouse().duckdb.memory_limit) as wh:
        for mart, params in sorted(calls):
            started = time.perf_counter()
            wh.run_mart(mart, decode_params(json.loads(params)))
            n, total = times.get(mart, (0, 0.0))
            times[mart] = (n + 1, total + time.perf_counter() - started)
    return times


def usage_rows(db: Path) -> int:
    with DuckDBWarehouse(db) as wh:
        return int(wh.query("SELECT count(*) AS n FROM product_usage_daily")["n"][0])


# ---------------------------------------------------------------- the report


@dataclass
class Scale:
    scale: float
    rows: int
    generated: Measured | None
    run: Run
    marts: dict[str, tuple[int, float]] = field(default_factory=dict)

    @property
    def mart_calls(self) -> int:
        return sum(n for n, _ in self.marts.values())

    @property
    def mart_seconds(self) -> float:
        return sum(t for _, t in self.marts.values())


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem = next(int(line.split()[1]) * 1024 for line in Path("/proc/meminfo").read_text().splitlines()
               if line.startswith("MemTotal"))
    libs = ", ".join(f"{p} {version(p)}" for p in ("duckdb", "pandas", "papermill", "nbconvert", "ipykernel"))
    return f"{cpu}, {os.cpu_count()} cores, {mem / 2**30:.1f} GiB RAM; Python {platform.python_version()}; {libs}"


def gib(n: int) -> str:
    return f"{n / 2**30:.2f} GiB" if n >= 2**30 else f"{n / MIB:,.0f} MiB"


def markdown(floors: list[float], runs: list[Run], scales: list[Scale], cmp: baseline.Comparison | None,
             period: str) -> str:
    floor, month = statistics.median(floors), statistics.median(r.wall_s for r in runs)
    jobs = len(runs[-1].reports)
    out = [
        "# revbook benchmarks", "",
        f"`make bench` on {dt.date.today().isoformat()}, code {code_version()}, period {period}.", "",
        f"Machine: {machine()}.", "",
        "Targets (issue 9): monthly ≤ 1.3 × the floor at scale 1; every kernel < 1 GiB at scale 100; "
        "marts ≥ 10 × faster than pandas at scale 10 with identical numbers; demo generation at scale 100 "
        "< 15 min and < 4 GiB.", "",
        "## 1. The monthly run against the floor (scale 1)", "",
        f"Wall time of `revbook run monthly`, median of {len(floors)} alternating runs.", "",
        "| run | median | runs |", "|---|---:|---|",
        f"| floor: {jobs} empty parameterized notebooks | {floor:.1f} s | {', '.join(f'{x:.1f}' for x in floors)} |",
        f"| monthly: {jobs} reports | {month:.1f} s | {', '.join(f'{r.wall_s:.1f}' for r in runs)} |",
        f"| **ratio** | **{month / floor:.2f} ×** | target ≤ 1.3 × |", "",
        "## 2. Per report (scale 1, the last monthly run)", "",
        "| report | wall | kernel peak RSS |", "|---|---:|---:|",
    ]
    for key, r in sorted(runs[-1].reports.items()):
        out.append(f"| {key} | {r['duration_s']:.1f} s | {gib(r.get('kernel_peak_rss') or 0)} |")
    out += ["", "## 3. Scales", "",
            "| | " + " | ".join(f"scale {s.scale:g}" for s in scales) + " |",
            "|---|" + "---:|" * len(scales),
            "| product_usage_daily rows | " + " | ".join(f"{s.rows:,}" for s in scales) + " |",
            "| demo generation (wall) | " + " | ".join(f"{s.generated.wall_s:.0f} s" if s.generated else "reused"
                                                      for s in scales) + " |",
            "| demo generation (peak RSS) | " + " | ".join(gib(s.generated.peak_rss) if s.generated else "reused"
                                                          for s in scales) + " |",
            "| monthly reports | " + " | ".join(str(len(s.run.reports)) for s in scales) + " |",
            "| monthly run (wall) | " + " | ".join(f"{s.run.wall_s:.1f} s" for s in scales) + " |",
            "| largest kernel peak RSS | " + " | ".join(gib(s.run.largest_kernel) for s in scales) + " |",
            "| marts: distinct calls, seconds in all | "
            + " | ".join(f"{s.mart_calls}, {s.mart_seconds:.2f} s" for s in scales) + " |",
            "", "Each mart's distinct calls in that scale's monthly run, replayed in turn on one connection:", "",
            "| mart | " + " | ".join(f"scale {s.scale:g}" for s in scales) + " |",
            "|---|" + "---:|" * len(scales)]
    for mart in sorted({m for s in scales for m in s.marts}):
        cells = [f"{s.marts[mart][1] * 1000:,.0f} ms ({s.marts[mart][0]})" if mart in s.marts else "–" for s in scales]
        out.append(f"| {mart} | " + " | ".join(cells) + " |")
    if cmp is not None:
        out += ["", f"## 4. Marts against pandas (scale 10, {period})", "",
                "An analyst without revbook reads subscriptions.parquet and product_usage_daily.parquet with "
                "pandas, filters and groups (bench/baseline.py); revbook runs `customer_success.month_values` on "
                "the warehouse (its marts, plus the LTV's year of movements). Each side starts cold.", "",
                "| headline | pandas | revbook |", "|---|---:|---:|"]
        out += [f"| {k} | {cmp.pandas[k]!r} | {cmp.revbook[k]!r} |" for k in baseline.KEYS]
        out += [f"| **time** | {cmp.pandas_s:.2f} s | {cmp.revbook_s:.2f} s |", "",
                f"Numbers identical: **{'yes' if cmp.identical else 'NO'}**; revbook is **{cmp.ratio:.1f} ×** faster "
                "(target ≥ 10 ×)."]
    return "\n".join(out) + "\n"


SCALES_HEADING = "## 3. Scales"


def keep_scales(text: str, previous: str) -> str:
    """`text` of a scale-1-only bench (BENCH_SCALES=1) with the scale sections of the `previous`
    results kept, marked with the run they come from, so a quick re-measure of the floor ratio does
    not drop the scale 10 and 100 figures."""
    if SCALES_HEADING not in previous:
        return text
    source = previous.splitlines()[2] if len(previous.splitlines()) > 2 else ""
    kept = previous[previous.index(SCALES_HEADING):]
    note = f"Sections 3 and 4 are kept from the last full bench ({source.strip()}); this one ran scale 1 only.\n\n"
    return text[:text.index(SCALES_HEADING)] + note + kept


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", default=os.environ.get("BENCH_SCALES", "1,10,100"),
                        help="demo scales, comma-separated (default 1,10,100; 1 is always run)")
    parser.add_argument("--reuse", action="store_true", help="keep warehouses built by an earlier bench")
    args = parser.parse_args()
    sizes = sorted({1.0, *(float(s) for s in args.scales.split(","))})
    DATA.mkdir(parents=True, exist_ok=True)
    period = periods.resolve("month", None).label
    scales: list[Scale] = []
    floors: list[float] = []
    runs: list[Run] = []
    cmp = None
    with tempfile.TemporaryDirectory(prefix="revbook-bench-") as tmp:
        for scale in sizes:
            db, generated = warehouse(scale, args.reuse)
            out = Path(tmp) / f"scale{scale:g}"
            say(f"scale {scale:g}: monthly run …")
            run = monthly(db, out)
            say(f"scale {scale:g}: {len(run.reports)} reports in {run.wall_s:.1f} s, largest kernel "
                f"{gib(run.largest_kernel)}")
            if scale == 1.0:
                project = floor_project(len(run.reports), Path(tmp) / "floor")
                for i in range(ROUNDS):
                    floors.append(monthly(db, Path(tmp) / f"floor-out{i}", project).wall_s)
                    runs.append(monthly(db, Path(tmp) / f"monthly-out{i}"))
                    say(f"round {i + 1}: floor {floors[-1]:.1f} s, monthly {runs[-1].wall_s:.1f} s")
            entry = Scale(scale, usage_rows(db), generated, runs[-1] if scale == 1.0 else run)
            entry.marts = mart_times(db, run)
            say(f"scale {scale:g}: {entry.mart_calls} distinct mart calls in {entry.mart_seconds:.2f} s")
            scales.append(entry)
            if scale == 10.0:
                lake = DATA / "lake10"
                baseline.export_lake(db, lake)
                cmp = baseline.median([baseline.compare(db, lake, periods.resolve("month", period))
                                       for _ in range(ROUNDS)])
                say(f"scale 10: pandas {cmp.pandas_s:.2f} s, marts {cmp.revbook_s:.2f} s ({cmp.ratio:.1f} ×), "
                    f"identical: {cmp.identical}")
    text = markdown(floors, runs, scales, cmp, period)
    if sizes == [1.0] and RESULTS.exists():
        text = keep_scales(text, RESULTS.read_text(encoding="utf-8"))
    RESULTS.write_text(text, encoding="utf-8")
    say(f"\n{text}\nwrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
