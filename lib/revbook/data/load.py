"""Build the DuckDB warehouse from lake sources: stage, validate, type, swap in atomically.

The new warehouse is written to a temporary file next to the target. Sources are staged
as they are (CSV as all-VARCHAR text, Parquet and DataFrames with their own types), the
contract is validated on the staged tables, and only a clean lake becomes typed tables
(contract columns, order and types) plus provenance in META_TABLE. The finished file then
replaces the target with one os.replace(); on any error the target is left untouched.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeAlias

import duckdb
import pandas as pd
import sqlglot
from sqlglot import exp

from revbook import contract
from revbook.data.duckdb_engine import META_TABLE, DuckDBWarehouse
from revbook.data.validate import Violation, cast_to_contract, same_type, validate

Source: TypeAlias = Path | pd.DataFrame
#: File names load_folder reads for a contract table: <table><suffix>.
SUFFIXES = (".csv", ".csv.gz", ".parquet")
_FRAME_VIEW = "_revbook_frame"
#: DuckDB's memory while building (it spills to disk beyond): sorting 150M usage rows stays in a few GiB.
BUILD_MEMORY_LIMIT = "2GB"


class LoadError(RuntimeError):
    """The lake was not loaded and the previous warehouse is unchanged.

    `violations` holds the error-severity contract violations, one per message line
    (empty when the problem is not a contract rule, e.g. an unreadable file).
    """

    def __init__(self, message: str, violations: Sequence[Violation] = ()):
        super().__init__(message)
        self.violations = list(violations)


def build_warehouse(sources: Mapping[str, Source], target: Path,
                    meta: Mapping[str, str]) -> list[Violation]:
    """Build a validated warehouse from `sources` (contract table -> file or frame) at `target`.

    `meta` is stored in META_TABLE with 'fingerprint' (sha256 of the sources unless given),
    'built_at' and 'contract_tables'. Returns the warnings; raises LoadError, leaving
    `target` byte-identical, when any contract rule is broken.
    """
    for name in sources:
        contract.table(name)  # a KeyError names the known tables
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        with DuckDBWarehouse(temp, read_only=False, memory_limit=BUILD_MEMORY_LIMIT) as wh:
            for name, source in sources.items():
                _stage(wh.con, name, source)
            violations = validate(wh)
            errors = [v for v in violations if v.severity == "error"]
            if errors:
                raise LoadError(
                    f"warehouse not built: {len(errors)} contract violation(s); "
                    f"{target} is unchanged\n" + "\n".join(f"  {v}" for v in errors),
                    errors,
                )
            for table in contract.TABLES:
                _type_table(wh, table)
            stamp = {"built_at": datetime.now(UTC).isoformat(timespec="seconds"),
                     "contract_tables": ",".join(t.name for t in contract.TABLES), **meta}
            stamp.setdefault("fingerprint", fingerprint(sources))
            _write_meta(wh.con, stamp)
            wh.con.execute("CHECKPOINT")
        os.replace(temp, target)
    finally:
        for leftover in (temp, temp.with_name(temp.name + ".wal")):
            leftover.unlink(missing_ok=True)
    return violations


def load_folder(folder: Path, target: Path) -> list[Violation]:
    """Build the warehouse at `target` from <table>.csv / .csv.gz / .parquet files in `folder`.

    Files not named after a contract table are returned as warnings (rule extra_file);
    contract tables without a file are errors (missing_table), as is a folder without any.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise LoadError(f"no folder {folder} to load")
    files = {p.name: p for p in sorted(folder.iterdir())
             if p.is_file() and not p.name.startswith(".")}
    sources: dict[str, Path] = {}
    for table in contract.TABLES:
        found = [files[n] for n in (table.name + s for s in SUFFIXES) if n in files]
        if len(found) > 1:
            raise LoadError(f"{folder} has {' and '.join(p.name for p in found)} for table "
                            f"{table.name}: keep one file per table")
        if found:
            sources[table.name] = found[0]
    if not sources:
        expected = ", ".join(f"{t.name}.csv or {t.name}.parquet" for t in contract.TABLES)
        seen = f"; found only {', '.join(files)}" if files else " (the folder is empty)"
        raise LoadError(f"no lake files in {folder}: expected {expected} "
                        f"(.csv.gz also read){seen}")
    used = {p.name for p in sources.values()}
    extra = [Violation(name, None, "extra_file", 0, (),
                       f"{name} in {folder} is not named after a contract table; ignored",
                       "warning")
             for name in files if name not in used]
    return extra + build_warehouse(sources, target, {"source": "load", "folder": str(folder)})


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
            reader = "read_csv($path, header = true, all_varchar = true)"  # sniffs BOM, gzip
        else:
            raise LoadError(f"cannot read {path} for table {name}: expected "
                            f"{' or '.join(SUFFIXES)}")
        con.execute(create + reader, {"path": str(path)})
    except duckdb.Error as exc:
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
    types = wh.table_columns(table.name) or {}
    if not table.cluster_by and list(types) == table.column_names and all(
            same_type(types[c.name], c, "duckdb") for c in table.columns):
        return
    raw = f"_raw_{table.name}"
    select = sqlglot.select(*(
        cast_to_contract(exp.column(c.name, quoted=True), c, types[c.name], "duckdb", safe=False)
        .as_(c.name, quoted=True)
        for c in table.columns
    )).from_(exp.table_(raw, quoted=True))
    if table.cluster_by:
        select = select.order_by(*(exp.column(c, quoted=True) for c in table.cluster_by))
    wh.con.execute(f"ALTER TABLE {_ident(table.name)} RENAME TO {_ident(raw)}")
    wh.con.execute(f"CREATE TABLE {_ident(table.name)} AS {select.sql('duckdb')}")
    wh.con.execute(f"DROP TABLE {_ident(raw)}")


def _write_meta(con: duckdb.DuckDBPyConnection, meta: Mapping[str, str]) -> None:
    con.execute(f"CREATE TABLE {_ident(META_TABLE)} (key VARCHAR, value VARCHAR)")
    con.executemany(f"INSERT INTO {_ident(META_TABLE)} VALUES (?, ?)",
                    [(k, str(v)) for k, v in meta.items()])
