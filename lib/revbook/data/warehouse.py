"""The warehouse interface: run mart SQL where the data lives, get small pandas frames back.

Mart SQL lives in lib/revbook/sql/<mart>.sql, written once in DuckDB's dialect with named
parameters (`$period_start`); engines bind the parameters, never format them into the text.
Engines implement `Warehouse`: DuckDB (`duckdb_engine`, embedded) and BigQuery (`bigquery_engine`,
which transpiles the same files with sqlglot, see `transpile`); `engines.connect()` picks one. This
module imports no engine. Timestamps are stored in UTC; outside UTC, marts read them as wall-clock time
in the company's time zone (`localise`), so every mart cuts days, weeks and months there.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import pickle
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Self

import pandas as pd
import sqlglot
from sqlglot import exp

from revbook import contract, settings
from revbook.files import write_atomic

#: When set (the runner sets it per report), every mart call is appended to this JSON-lines file:
#: mart, bound parameters, seconds, bytes billed. It feeds the manifest and `run --dry-run`.
QUERY_LOG_ENV = "REVBOOK_QUERY_LOG"
#: The report (job key) and period being run, set by the runner; engines tag their jobs with them.
REPORT_ENV, PERIOD_ENV = "REVBOOK_REPORT", "REVBOOK_PERIOD"
#: A folder where the reports of one scheduled run share mart results (set by the runner).
MART_CACHE_ENV = "REVBOOK_MART_CACHE"


class WarehouseError(RuntimeError):
    """A warehouse problem a user can act on (missing file, table, parameter)."""


@cache
def mart_sql(name: str) -> str:
    """The text of mart `name` (lib/revbook/sql/<name>.sql)."""
    path = resources.files("revbook") / "sql" / f"{name}.sql"
    if not path.is_file():
        known = ", ".join(mart_names())
        raise WarehouseError(f"no mart {name!r} in lib/revbook/sql/; known marts: {known}")
    return path.read_text(encoding="utf-8")


def mart_names() -> list[str]:
    folder = resources.files("revbook") / "sql"
    return sorted(p.name[:-4] for p in folder.iterdir() if p.name.endswith(".sql"))


@cache
def mart_tables(name: str) -> frozenset[str]:
    """The contract tables mart `name` reads: what a report that ran it lacks when one is not loaded."""
    statements = [e for e in sqlglot.parse(mart_sql(name), read="duckdb") if e is not None]
    ctes = {c.alias for e in statements for c in e.find_all(exp.CTE)}  # a CTE may shadow a table's name
    tables = {t.name for e in statements for t in e.find_all(exp.Table)}
    return frozenset((tables - ctes) & contract.TABLES_BY_NAME.keys())


@cache
def mart_columns(name: str) -> frozenset[str]:
    """The names of the columns mart `name` refers to (of any table): with `mart_tables`, which
    optional columns a report that ran it reads (an empty one makes what counts from it unknown)."""
    statements = [e for e in sqlglot.parse(mart_sql(name), read="duckdb") if e is not None]
    return frozenset(c.name for e in statements for c in e.find_all(exp.Column))


@cache
def mart_parameters(sql: str) -> set[str]:
    """Names of the `$name` parameters a mart's SQL binds (comments ignored)."""
    return {p.name for p in sqlglot.parse_one(sql, read="duckdb").find_all(exp.Placeholder)}


def _utc_timestamp(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.DataType) and node.this in (exp.DataType.Type.TIMESTAMP, exp.DataType.Type.TIMESTAMPNTZ):
        return exp.DataType.build("TIMESTAMPTZ")
    return node


def render(expression: exp.Expression, dialect: str, pretty: bool = False) -> str:
    """An expression written in DuckDB's terms as `dialect` SQL. revbook's TIMESTAMP is a UTC instant
    (DuckDB keeps it without a zone); in BigQuery that is TIMESTAMP, not DATETIME (a wall-clock
    time), which is what sqlglot would pick by default."""
    if dialect == "bigquery":
        expression = expression.transform(_utc_timestamp)
    return expression.sql(dialect, pretty=pretty, comments=False)


def local_time(column: exp.Expression, zone: str) -> exp.Expression:
    """TIMESTAMP `column` (a UTC instant) as the wall-clock time in `zone`, still a TIMESTAMP. In BigQuery
    (`render`) it reads TIMESTAMP(DATETIME(column, zone)): an instant whose UTC reading is the local time, so
    comparisons with TIMESTAMP parameters, DATE() and DATE_TRUNC cut local days there as in DuckDB."""
    return exp.AtTimeZone(this=exp.cast(column, "TIMESTAMPTZ"), zone=exp.Literal.string(zone))


def localise(expression: exp.Expression, zone: str, timestamps: Callable[[str], Sequence[str]]) -> exp.Expression:
    """`expression` reading each lake table with TIMESTAMP columns (`timestamps(table)`) through
    a subquery that replaces them by their `local_time` in `zone`, under the table's own name or alias: a
    mart's `created_at >= $start` and date_trunc('month', created_at) then cut local days and months. A
    CTE's name is never a lake table (mrr_movements' `accounts`)."""
    tree = expression.copy()
    ctes = {c.alias for c in tree.find_all(exp.CTE)}
    for table in list(tree.find_all(exp.Table)):
        columns = timestamps(table.name) if table.name not in ctes and not table.args.get("db") else ()
        if not columns:
            continue
        star = exp.Star(replace=[exp.alias_(local_time(exp.column(c, quoted=True), zone), c, quoted=True)
                                 for c in columns])
        alias = table.args.get("alias") or exp.TableAlias(this=exp.to_identifier(table.name, quoted=True))
        lake = table.copy()
        lake.set("alias", None)
        table.replace(exp.Subquery(this=exp.select(star).from_(lake), alias=alias))
    return tree


def transpile(sql: str, dialect: str) -> str:
    """The mart SQL (DuckDB dialect) in another engine's dialect, e.g. "bigquery"."""
    return ";\n".join(render(e, dialect, pretty=True) for e in sqlglot.parse(sql, read="duckdb")
                       if isinstance(e, exp.Expression))


@cache
def mart_text(name: str, dialect: str) -> str:
    """Mart `name` as SQL for `dialect` (the file itself for DuckDB)."""
    return mart_sql(name) if dialect == "duckdb" else transpile(mart_sql(name), dialect)


def encode_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Mart parameters as JSON that `decode_params` turns back into the same Python values."""
    return {name: _encode(value) for name, value in params.items()}


def _encode(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return {"list": [_encode(v) for v in value]}
    if isinstance(value, (dt.datetime, pd.Timestamp)):
        return {"timestamp": pd.Timestamp(value).isoformat()}
    if isinstance(value, dt.date):
        return {"date": value.isoformat()}
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def decode_params(encoded: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _decode(value) for name, value in encoded.items()}


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if "list" in value:
            return [_decode(v) for v in value["list"]]
        if "timestamp" in value:
            return pd.Timestamp(value["timestamp"]).to_pydatetime()
        if "date" in value:
            return dt.date.fromisoformat(value["date"])
    return value


class Warehouse(ABC):
    """What reports need from a warehouse: bound queries, marts and a data fingerprint."""

    dialect: str
    #: The IANA time zone marts cut days, weeks and months in; None until first needed, then the company's.
    timezone: str | None = None

    @abstractmethod
    def query(self, sql: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
        """Run `sql` (this engine's dialect) with bound `params`; return a DataFrame."""

    @abstractmethod
    def table_columns(self, table: str) -> dict[str, str] | None:
        """Column name -> engine type of `table`, or None if the table is missing."""

    @abstractmethod
    def fingerprint(self) -> str:
        """A short id of the data the warehouse holds (changes when the data changes)."""

    @abstractmethod
    def describe(self) -> str:
        """Where the data is, for messages ("data/revbook.duckdb", "BigQuery proj.dataset")."""

    def close(self) -> None:
        """Release the connection (engines that hold one override this)."""

    def meta(self) -> dict[str, str]:
        """Provenance recorded when the warehouse was built (source, fingerprint, ...); none by default."""
        return {}

    def row_count(self, table: str) -> int | None:
        """Rows in `table`, None where the warehouse has no such table; counted once per connection."""
        cache: dict[str, int | None] = self.__dict__.setdefault("_row_counts", {})
        if table not in cache:
            count = exp.select(exp.Count(this=exp.Star())).from_(exp.table_(table, quoted=True))
            cache[table] = None if self.table_columns(table) is None else int(
                self.query(render(count, self.dialect)).iloc[0, 0])
        return cache[table]

    def has(self, source: str) -> bool:
        """Whether `source` holds data: a table ("activities"), a column with any value
        ("activities.connected") or rows with one value ("activities.type=meeting"). A partial export
        leaves tables absent, columns empty and kinds of row out; what counts from them is unknown,
        and a report section that needs one says so instead of showing zeros."""
        table, _, selector = source.partition(".")
        if not self.row_count(table) or not selector:
            return bool(self.row_count(table))
        cache: dict[str, bool] = self.__dict__.setdefault("_has", {})
        if source not in cache:
            column, _, value = selector.partition("=")
            if column not in (self.table_columns(table) or {}):
                raise WarehouseError(f"{source!r}: table {table} has no column {column!r}")
            field = exp.column(column, quoted=True)
            where = field.eq(exp.Placeholder(this="value")) if value else exp.Not(this=field.is_(exp.null()))
            count = exp.select(exp.Count(this=exp.Star())).from_(exp.table_(table, quoted=True)).where(where)
            found = self.query(render(count, self.dialect), {"value": value} if value else None)
            cache[source] = int(found.iloc[0, 0]) > 0
        return cache[source]

    @property
    def zone(self) -> str:
        """The time zone marts read timestamps in: the one the warehouse was opened with, else
        params/company.yaml `timezone`. In UTC, the lake's own, marts read the tables as they are."""
        if self.timezone is None:
            self.timezone = settings.company().timezone
        return self.timezone

    def timestamp_columns(self, table: str) -> tuple[str, ...]:
        """The TIMESTAMP columns of `table` (a contract table) the warehouse holds; () for any other table."""
        cache: dict[str, tuple[str, ...]] = self.__dict__.setdefault("_timestamps", {})
        if table not in cache:
            spec = contract.TABLES_BY_NAME.get(table)
            stamps = [c.name for c in spec.columns if c.type == "timestamp"] if spec else []
            held = (self.table_columns(table) or {}) if stamps else {}
            cache[table] = tuple(c for c in stamps if c in held)
        return cache[table]

    def sql(self, expression: exp.Expression, pretty: bool = False) -> str:
        """`expression` (DuckDB terms) as this engine's SQL, reading the lake's timestamps as wall-clock time
        in `zone` (`localise`), so periods are cut there."""
        if self.zone != "UTC":
            expression = localise(expression, self.zone, self.timestamp_columns)
        return render(expression, self.dialect, pretty)

    def mart_query(self, name: str) -> str:
        """Mart `name` as this engine runs it: `mart_text` in UTC, else localised (`sql`), once per connection."""
        if self.zone == "UTC":
            return mart_text(name, self.dialect)
        cache: dict[str, str] = self.__dict__.setdefault("_mart_queries", {})
        if name not in cache:
            cache[name] = ";\n".join(self.sql(e, pretty=True) for e in sqlglot.parse(mart_sql(name), read="duckdb")
                                     if isinstance(e, exp.Expression))
        return cache[name]

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    #: Bytes the last mart call billed (engines that bill set it).
    last_bytes_billed: int | None = None

    def mart(self, name: str, **params: Any) -> pd.DataFrame:
        """Run mart `name` with its parameters bound; every `$param` it uses must be given. Within
        a scheduled run (MART_CACHE_ENV set) a result another report already fetched is reused."""
        self.check_parameters(name, params)
        started = time.perf_counter()
        encoded = encode_params(params)
        shared = self._shared_result(name, encoded)
        reused = shared is not None and shared.exists()
        if reused:
            frame, billed = pd.read_pickle(shared), None
        else:
            frame = self.run_mart(name, params)
            billed = self.last_bytes_billed
            if shared is not None:
                write_atomic(shared, pickle.dumps(frame, protocol=pickle.HIGHEST_PROTOCOL))
        if log := os.environ.get(QUERY_LOG_ENV):
            seconds = round(time.perf_counter() - started, 3)
            entry = {"mart": name, "params": encoded, "rows": len(frame), "seconds": seconds, "bytes_billed": billed,
                     "reused": reused}
            with open(log, "a", encoding="utf-8") as f:
                f.write(json.dumps(entry, ensure_ascii=False) + "\n")
        return frame

    def _shared_result(self, name: str, encoded: dict[str, Any]) -> Path | None:
        """Where this run keeps mart `name`'s result for these parameters, if results are shared:
        the personal reports of a team ask the warehouse the same team-wide questions."""
        folder = os.environ.get(MART_CACHE_ENV)
        if not folder:
            return None
        data = self.__dict__.setdefault("_fingerprint", self.fingerprint())  # the data, not just its place
        key = json.dumps([self.dialect, self.describe(), data, self.zone, name, encoded], sort_keys=True,
                         ensure_ascii=False)
        return Path(folder) / f"{name}-{hashlib.sha256(key.encode()).hexdigest()[:20]}.pickle"

    def run_mart(self, name: str, params: Mapping[str, Any]) -> pd.DataFrame:
        """Run mart `name` (parameters already checked); engines with more to do override this."""
        return self.query(self.mart_query(name), dict(params))

    @staticmethod
    def check_parameters(name: str, params: Mapping[str, Any]) -> None:
        wanted = mart_parameters(mart_sql(name))
        missing = wanted - params.keys()
        extra = params.keys() - wanted
        if missing or extra:
            raise WarehouseError(
                f"mart {name!r} takes parameters {sorted(wanted)}; "
                f"missing {sorted(missing)}, unexpected {sorted(extra)}"
            )
