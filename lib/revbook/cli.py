"""`revbook demo | load | check | run`: the commands the Makefile and cron call.

Errors a user can fix print one clear message (no traceback) and exit 2.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from revbook import paths
from revbook.files import CANNOT_WRITE, quiet_stderr

console = Console(file=quiet_stderr(), highlight=False, soft_wrap=True)


def _demo(args: argparse.Namespace) -> int:
    from revbook import contract, demo, periods
    from revbook.data import load, loads
    from revbook.data.duckdb_engine import DuckDBWarehouse

    end = args.end or periods.last_complete("month").label
    target = Path(args.out) if args.out else paths.warehouse_path()
    if args.unless_loaded and (gone := loads.gone_message(target)):
        console.print(f"[bold red]revbook demo:[/] {escape(gone)}")
        return 2
    started = time.perf_counter()
    console.print(f"generating the demo company: scale {args.scale}, seed {args.seed}, 24 months to {end}")
    meta = {"source": "demo", "scale": str(args.scale), "seed": str(args.seed), "end_month": end}
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".demo-", dir=target.parent) as lake:  # a Parquet lake, then loaded
        # generated in a child process, whose memory is given back before DuckDB builds the warehouse
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as pool:
            sources = pool.submit(demo.write, Path(lake), args.scale, args.seed, end).result()
        console.print(f"generated in {time.perf_counter() - started:.1f}s; loading and validating")
        warnings = load.build_warehouse(dict(sources), target, meta)
    for w in warnings:
        console.print(f"[yellow]warning[/] {escape(str(w))}")
    with DuckDBWarehouse(target) as wh:
        counts = {t.name: len(wh.con.table(t.name)) for t in contract.TABLES}
    loads.forget(target)  # the demo, built on purpose, holds it now
    rows = ", ".join(f"{name} {n:,}" for name, n in counts.items())
    console.print(f"wrote {target} in {time.perf_counter() - started:.1f}s ({rows})")
    return 0


def _load(args: argparse.Namespace) -> int:
    from revbook.data import load, loads, mapping
    from revbook.data.duckdb_engine import DuckDBWarehouse

    target = Path(args.out) if args.out else paths.warehouse_path()
    map_file = Path(args.map) if args.map else paths.params_dir() / "mapping.yaml"
    names = mapping.read(map_file) if args.map or map_file.is_file() else None
    if names is not None:
        console.print(f"mapping names with {map_file}")
    try:  # progress is written past rich's buffer, which would print a line Ctrl-C cut short again
        warnings = load.load_folder(Path(args.folder), target, names, lambda line: print(line, file=console.file))
    except load.LoadInterrupted as exc:  # Ctrl-C: one line, not DuckDB's "Query interrupted" traceback
        console.print(f"[bold red]revbook load:[/] {escape(str(exc))}")
        return 130
    for w in warnings:
        console.print(f"[yellow]warning[/] {escape(str(w))}")
    with DuckDBWarehouse(target) as wh:  # from now on a missing warehouse is an error, never the demo
        loads.record(target, Path(args.folder), wh.fingerprint())
    console.print(f"loaded {args.folder} into {target}")
    return 0


def _check(args: argparse.Namespace) -> int:
    from revbook.data import coverage
    from revbook.data.engines import connect
    from revbook.data.validate import Violation, validate

    with connect(args.warehouse) as wh:
        violations = validate(wh)
        held = coverage.summary(coverage.holdings(wh))
        violations = [v for v in violations if v.rule != "empty_table"]  # the summary below lists them
        violations += [Violation("params/company.yaml", None, "settings", 0, (), w, "warning")
                       for w in coverage.settings_warnings(wh)]
    errors = [v for v in violations if v.severity == "error"]
    for v in violations:
        console.print(f"[{'red' if v.severity == 'error' else 'yellow'}]{v.severity}[/] {escape(str(v))}")
    for line in held:
        console.print(f"  {escape(line)}")
    console.print(f"{wh.describe()}: {len(errors)} error(s), {len(violations) - len(errors)} warning(s)")
    return 1 if errors else 0


def _run(args: argparse.Namespace) -> int:
    import yaml

    from revbook.run import runner

    only = [o for part in args.only or [] for o in part.split(",") if o]
    overrides = {}
    for item in args.param or []:
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            console.print(f"[bold red]revbook run:[/] -p {escape(item)}: write NAME=VALUE, e.g. -p window_months=18")
            return 2
        overrides[name.strip()] = yaml.safe_load(text) if text.strip() else ""  # 18 → int, true → bool, as in YAML
    return runner.run(args.schedule, args.period, only or None, args.rep, args.jobs, console, args.dry_run,
                      args.only_failed, overrides)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="revbook", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("demo", help="build the demo company's warehouse")
    d.add_argument("--scale", type=float, default=1.0, help="size factor (1 ≈ 30k leads; 0.05 for tests)")
    d.add_argument("--seed", type=int, default=42)
    d.add_argument("--end", help="last month of the 24, YYYY-MM (default: last complete month)")
    d.add_argument("--out", help="warehouse file (default: data/revbook.duckdb or $REVBOOK_WAREHOUSE)")
    d.add_argument("--unless-loaded", action="store_true",
                   help="refuse (exit 2) where your own data was loaded: make monthly builds the demo only where "
                        "nothing ever was")
    d.set_defaults(func=_demo)

    ld = sub.add_parser("load", help="validate a folder of <table>.csv/.parquet exports, then replace the warehouse")
    ld.add_argument("folder")
    ld.add_argument("--out", help="warehouse file (default: data/revbook.duckdb or $REVBOOK_WAREHOUSE)")
    ld.add_argument("--map", help="a mapping of your files, columns and picklist values to the contract's "
                                  "(default: params/mapping.yaml if it exists; params/mappings/salesforce.yaml "
                                  "for a Salesforce export)")
    ld.set_defaults(func=_load)

    c = sub.add_parser("check", help="validate the warehouse against the data contract")
    c.add_argument("--warehouse", help="a DuckDB warehouse file (default: the engine in params/warehouse.yaml)")
    c.set_defaults(func=_check)

    r = sub.add_parser("run", help="render a schedule's reports into outputs/<period>/")
    r.add_argument("schedule", help="monthly, weekly or daily (params/<schedule>.yaml), or a schedule file of your own")
    r.add_argument("--period", help="YYYY-MM, YYYY-Www or YYYY-MM-DD (default: last complete)")
    r.add_argument("--only", action="append", help="departments or notebooks to run (comma-separated)")
    r.add_argument("--rep", help="render personal reports for this rep only")
    r.add_argument("-p", "--param", action="append", metavar="NAME=VALUE",
                   help="a report parameter for this run (e.g. -p window_months=18), checked as the schedule's are")
    r.add_argument("--jobs", type=int, help="worker processes (default: one per core)")
    r.add_argument("--only-failed", action="store_true",
                   help="re-run only the reports whose last run in this period failed")
    r.add_argument("--dry-run", action="store_true",
                   help="print the bytes each report would scan (BigQuery dry runs) and the total; run nothing")
    r.set_defaults(func=_run)
    return p


def main(argv: list[str] | None = None) -> None:
    from revbook import clock
    from revbook.data.load import LoadError
    from revbook.data.mapping import MappingError
    from revbook.data.warehouse import WarehouseError
    from revbook.periods import PeriodError
    from revbook.settings import SettingsError

    args = parser().parse_args(argv)
    try:
        if (day := clock.pinned()) is not None:  # say so: default periods follow it, not the calendar
            console.print(f"today is {day} ({clock.TODAY_ENV})")
        code = args.func(args)
    except (clock.ClockError, LoadError, MappingError, PeriodError, SettingsError, WarehouseError) as exc:
        console.print(f"[bold red]revbook {args.command}:[/] {escape(str(exc))}")
        code = 2
    except KeyboardInterrupt:  # Ctrl-C, or SIGTERM in `run`: what finished is kept and recorded
        console.print(f"[bold red]revbook {args.command}: interrupted[/]")
        code = 130
    except OSError as exc:  # a full or read-only disk: said in a line; what was written is whole (write_atomic)
        if exc.errno not in CANNOT_WRITE:
            raise
        console.print(f"[bold red]revbook {args.command}:[/] cannot write {escape(str(exc.filename or 'a file'))}: "
                      f"{exc.strerror}; free some space there (or make it writable) and run again")
        code = 2
    sys.exit(code)
if __name__ == "__main__":
    main()
