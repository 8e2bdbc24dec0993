"""Build the DuckDB warehouse from lake sources: stage, validate, type, swap in atomically.

The new warehouse is written to a temporary file next to the target. Sources are staged
as they are (CSV as all-VARCHAR text, Parquet and DataFrames with their own types), the
contract is validated on the staged tables, and only a clean lake becomes typed tables
(contract columns, order and types) plus provenance in META_TABLE. The finished file then
replaces the target with one os.replace(); on any error, a full disk or Ctrl-C the target is left
untouched, and each says so in a sentence (LoadError, LoadInterrupted).
"""

from __future__ import annotations

import errno
import hashlib
import os
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TypeAlias

import duckdb
import pandas as pd
import sqlglot
from sqlglot import exp

from revbook import clock, contract, locks
from revbook.data.duckdb_engine import META_TABLE, DuckDBWarehouse
from revbook.data.mapping import CSV_READER, ExportMapping, MappingError, apply, csv_problem, file_stem
from revbook.data.validate import Violation, cast_to_contract, same_type, validate

Source: TypeAlias = Path | pd.DataFrame
#: File names load_folder reads for a contract table: <table><suffix>.
SUFFIXES = (".csv", ".csv.gz", ".parquet")
_FRAME_VIEW = "_revbook_frame"
#: DuckDB's memory while building (it spills to disk beyond): sorting 150M usage rows stays in a few GiB.
BUILD_MEMORY_LIMIT = "2GB"
#: A full disk, a full quota, and a file size limit (ulimit -f): the build cannot write the new warehouse.
_NO_SPACE = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


class LoadError(RuntimeError):
    """The lake was not loaded and the previous warehouse is unchanged.

    `violations` holds the error-severity contract violations, one per message line
    (empty when the problem is not a contract rule, e.g. an unreadable file).
    """

    def __init__(self, message: str, violations: Sequence[Violation] = ()):
        super().__init__(message)
        self.violations = list(violations)


class LoadInterrupted(KeyboardInterrupt):
    """Ctrl-C (SIGINT) stopped a load before it replaced the warehouse, which is unchanged."""


def _causes(exc: BaseException | None) -> Iterator[BaseException]:
    while exc is not None:
        yield exc
        exc = exc.__cause__


def _interrupted(exc: BaseException) -> bool:
    """Ctrl-C as Python (KeyboardInterrupt) or DuckDB (a query it interrupted) reports it."""
    return isinstance(exc, (KeyboardInterrupt, duckdb.InterruptException)) or (
        type(exc) is RuntimeError and str(exc) == "Query interrupted")


def _no_space(exc: BaseException) -> str | None:
    """The system's words for a full disk, if that is what `exc` is (DuckDB gives them as text)."""
    if isinstance(exc, OSError):
        return exc.strerror if exc.errno in _NO_SPACE else None
    if isinstance(exc, duckdb.Error):
        return next((os.strerror(e) for e in _NO_SPACE if os.strerror(e) in str(exc)), None)
    return None


@contextmanager
def _guarded(target: Path) -> Iterator[None]:
    """Ctrl-C and a full disk, wherever in a load they strike (in Python or in DuckDB, maybe inside a
    LoadError "cannot read the source …"), become LoadInterrupted and a LoadError that name them."""
    try:
        yield
    except BaseException as exc:
        chain = list(_causes(exc))
        if any(map(_interrupted, chain)):
            raise LoadInterrupted(f"interrupted; the warehouse {target} is unchanged") from exc
        if reason := next(filter(None, map(_no_space, chain)), None):
            raise LoadError(f"no space left on device while writing the new warehouse in {target.parent} "
                            f"({reason}); {target} is unchanged: free some space there and load again") from exc
        raise


def build_warehouse(sources: Mapping[str, Source], target: Path, meta: Mapping[str, str],
                    progress: Callable[[str], None] = lambda line: None) -> list[Violation]:
    """Build a validated warehouse from `sources` (contract table -> file or frame) at `target`.

    Any subset of the contract's tables may be given: an absent table is built empty, an absent
    optional column is left empty, so every mart runs and every report says what it lacks. `meta`
    is stored in META_TABLE with 'fingerprint' (sha256 of the sources unless given), 'built_at',
    'contract_tables' and 'tables_with_data'. `progress` is told each step as it starts. Returns the
    warnings; raises LoadError, leaving `target` byte-identical, when any contract rule is broken or the
    disk is full, and LoadInterrupted on Ctrl-C.
    """
    for name in sources:
        contract.table(name)  # a KeyError names the known tables
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        with _guarded(target), DuckDBWarehouse(temp, read_only=False, memory_limit=BUILD_MEMORY_LIMIT) as wh:
            for name, source in sources.items():
                progress(f"reading {_describe(source)} (table {name})")
                _stage(wh.con, name, source)
            progress("validating against the data contract")
            violations = validate(wh)
            errors = [v for v in violations if v.severity == "error"]
            if errors:
                raise LoadError(
                    f"warehouse not built: {len(errors)} contract violation(s); "
                    f"{target} is unchanged\n" + "\n".join(f"  {v}" for v in errors),
                    errors,
                )
            progress("writing the typed tables")
            for table in contract.TABLES:
                _type_table(wh, table)
            violations += _created_from_history(wh) + _closed_against_history(wh)
            stamp = {"built_at": clock.stamp(),
                     "contract_tables": ",".join(t.name for t in contract.TABLES),
                     "tables_with_data": ",".join(t.name for t in contract.TABLES if wh.has(t.name)), **meta}
            stamp.setdefault("fingerprint", fingerprint(sources))
            _write_meta(wh.con, stamp)
            wh.con.execute("CHECKPOINT")
        with locks.hold(locks.warehouse_lock(target), f"revbook load into {target}", progress):
            os.replace(temp, target)  # never under a running report: it waits for the run to end
    finally:
        for leftover in (temp, temp.with_name(temp.name + ".wal")):
            leftover.unlink(missing_ok=True)
    return violations


def load_folder(folder: Path, target: Path, mapping: ExportMapping | None = None,
                progress: Callable[[str], None] = lambda line: None) -> list[Violation]:
    """Build the warehouse at `target` from <table>.csv / .csv.gz / .parquet files in `folder`.

    Files not named after a contract table (or, with `mapping`, the file it names) are returned as
    warnings (rule extra_file), and so are contract tables without a file (missing_table: built
    empty); a folder with none is an error. `mapping` renames and recodes the files it covers.
    `progress` and the errors are build_warehouse's.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise LoadError(f"no folder {folder} to load")
    files = {p.name: p for p in sorted(folder.iterdir())
             if p.is_file() and not p.name.startswith(".")}
    sources: dict[str, Source] = {}
    used: set[str] = set()
    with _guarded(target):
        for table in contract.TABLES:
            stem = file_stem(mapping, table.name)
            found = [files[n] for n in (stem + s for s in SUFFIXES) if n in files]
            if len(found) > 1:
                raise LoadError(f"{folder} has {' and '.join(p.name for p in found)} for table "
                                f"{table.name}: keep one file per table")
            if found:
                used.add(found[0].name)
                spec = mapping.tables.get(table.name) if mapping else None
                if spec:
                    progress(f"mapping {found[0]} to table {table.name}")
                try:
                    sources[table.name] = apply(table.name, spec, found[0]) if spec else found[0]
                except (MappingError, duckdb.Error) as exc:
                    raise LoadError(f"cannot map {found[0]} to table {table.name}: {exc}") from exc
    if not sources:
        expected = ", ".join(f"{t.name}.csv or {t.name}.parquet" for t in contract.TABLES)
        seen = f"; found only {', '.join(files)}" if files else " (the folder is empty)"
        raise LoadError(f"no lake files in {folder}: expected {expected} "
                        f"(.csv.gz also read){seen}")
    extra = [Violation(name, None, "extra_file", 0, (),
                       f"{name} in {folder} is not named after a contract table (nor mapped to one); ignored",
                       "warning")
             for name in files if name not in used]
    return extra + build_warehouse(sources, target, {"source": "load", "folder": str(folder)}, progress)


def fingerprint(sources: Mapping[str, Source]) -> str:
    """First 12 hex digits of a sha256 over the sources' names and content."""
    digest = hashlib.sha256()
    for name in sorted(sources):
        source = sources[name]
        digest.update(name.encode() + b"\0")
        if isinstance(source, pd.DataFrame):
            digest.update("\0".join(map(str, source.columns)).encode() + b"\0")
            digest.update(pd.util.hash_pandas_object(source, index=False).to_numpy().tobytes())
        else:
            with open(source, "rb") as f:
                while chunk := f.read(1 << 20):
                    digest.update(chunk)
    return digest.hexdigest()[:12]


def _ident(name: str) -> str:
    return exp.to_identifier(name, quoted=True).sql("duckdb")


def _stage(con: duckdb.DuckDBPyConnection, name: str, source: Source) -> None:
    """Copy `source` as is into table `name`: CSV as all-VARCHAR text, others typed."""
    create = f"CREATE TABLE {_ident(name)} AS SELECT * FROM "
    reader = ""
    try:
        if isinstance(source, pd.DataFrame):
            con.register(_FRAME_VIEW, source)
            try:
                con.execute(create + _FRAME_VIEW)
            finally:
                con.unregister(_FRAME_VIEW)
            return
        path = Path(source)
        if path.name.endswith(".parquet"):
            reader = "read_parquet($path)"
        elif path.name.endswith((".csv", ".csv.gz")):
            reader = CSV_READER  # sniffs BOM, gzip
        else:
            raise LoadError(f"cannot read {path} for table {name}: expected "
                            f"{' or '.join(SUFFIXES)}")
        con.execute(create + reader, {"path": str(path)})
    except duckdb.Error as exc:
        if reader == CSV_READER:
            raise LoadError(f"{source} (table {name}): {csv_problem(Path(source), exc)}") from exc
        raise LoadError(f"cannot read the source of table {name} ({_describe(source)}): "
                        f"{exc}") from exc


def _describe(source: Source) -> str:
    return f"a DataFrame of {len(source)} rows" if isinstance(source, pd.DataFrame) else str(source)


def _type_table(wh: DuckDBWarehouse, table: contract.Table) -> None:
    """Replace the staged table with contract columns, in contract order and types, sorted by
    the table's cluster_by columns.

    A staged table that already is exactly that (e.g. a frame from the demo generator) and needs
    no sorting is kept as is, which saves copying millions of rows.
    """
    types = wh.table_columns(table.name)
    if types is None:  # not in the export: built empty, so the marts run and reports say it is absent
        wh.con.execute(f"CREATE TABLE {_ident(table.name)} "
                       f"({', '.join(f'{_ident(c.name)} {c.sql_type}' for c in table.columns)})")
        return
    if not table.cluster_by and list(types) == table.column_names and all(
            same_type(types[c.name], c, "duckdb") for c in table.columns):
        return
    raw = f"_raw_{table.name}"
    select = sqlglot.select(*(
        (cast_to_contract(exp.column(c.name, quoted=True), c, types[c.name], "duckdb", safe=False)
         if c.name in types else exp.Cast(this=exp.Null(), to=exp.DataType.build(c.sql_type, dialect="duckdb")))
        .as_(c.name, quoted=True)
        for c in table.columns
    )).from_(exp.table_(raw, quoted=True))
    if table.cluster_by:
        select = select.order_by(*(exp.column(c, quoted=True) for c in table.cluster_by))
    wh.con.execute(f"ALTER TABLE {_ident(table.name)} RENAME TO {_ident(raw)}")
    wh.con.execute(f"CREATE TABLE {_ident(table.name)} AS {select.sql('duckdb')}")
    wh.con.execute(f"DROP TABLE {_ident(raw)}")


def _created_from_history(wh: DuckDBWarehouse) -> list[Violation]:
    """Opportunities exported without a created date get their first stage entry's (a warning says
    how many); those with no stage history either stay undated and count in no month's new pipeline."""
    missing = wh.con.execute("SELECT opportunity_id FROM opportunities WHERE created_at IS NULL "
                             "ORDER BY opportunity_id").fetchall()
    if not missing:
        return []
    wh.con.execute("""
        UPDATE opportunities AS o SET created_at = h.first_entered
        FROM (SELECT opportunity_id, MIN(entered_at) AS first_entered FROM opportunity_stage_history
              GROUP BY opportunity_id) AS h
        WHERE o.opportunity_id = h.opportunity_id AND o.created_at IS NULL""")
    undated = wh.con.execute("SELECT COUNT(*) FROM opportunities WHERE created_at IS NULL").fetchone()
    left = int(undated[0]) if undated else 0
    examples = tuple(f"opportunity_id={r[0]}" for r in missing[:5])
    detail = (f"{len(missing):,} opportunities have no created_at: their first stage entry is used"
              + (f"; {left:,} have no stage history and stay undated (counted in no month's new pipeline)"
                 if left else ""))
    return [Violation("opportunities", "created_at", "filled", len(missing), examples, detail, "warning")]


def _closed_against_history(wh: DuckDBWarehouse) -> list[Violation]:
    """Deals whose is_won / closed_at and last stage-history entry tell different stories (closed but
    still in proposal, won but closed_lost): a warning with examples; the reports believe the deal's
    own fields."""
    rows = wh.con.execute("""
        WITH last AS (SELECT opportunity_id, arg_max(stage, entered_at) AS stage
                      FROM opportunity_stage_history GROUP BY opportunity_id)
        SELECT o.opportunity_id FROM opportunities AS o JOIN last AS l ON l.opportunity_id = o.opportunity_id
        WHERE (o.closed_at IS NOT NULL) <> (l.stage IN ('closed_won', 'closed_lost'))
           OR (o.is_won AND l.stage = 'closed_lost') OR (NOT o.is_won AND l.stage = 'closed_won')
        ORDER BY o.opportunity_id""").fetchall()
    if not rows:
        return []
    return [Violation("opportunities", "is_won, closed_at", "history", len(rows),
                      tuple(f"opportunity_id={r[0]}" for r in rows[:5]),
                      f"{len(rows):,} opportunities whose is_won / closed_at disagree with their last stage-history "
                      "entry: the reports believe is_won and closed_at", "warning")]


def _write_meta(con: duckdb.DuckDBPyConnection, meta: Mapping[str, str]) -> None:
    con.execute(f"CREATE TABLE {_ident(META_TABLE)} (key VARCHAR, value VARCHAR)")
    con.executemany(f"INSERT INTO {_ident(META_TABLE)} VALUES (?, ?)",
                    [(k, str(v)) for k, v in meta.items()])
