"""The warehouse interface: run mart SQL where the data lives, get small pandas frames back.

Mart SQL lives in lib/revbook/sql/<mart>.sql, written once in DuckDB's dialect with named
parameters (`$period_start`); engines bind the parameters, never format them into the text.
DuckDB is the embedded engine; a BigQuery engine plugs in behind the same `Warehouse` class,
transpiling the same files with sqlglot (see `transpile`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Self

import duckdb
import pandas as pd
import sqlglot
from sqlglot import exp

from revbook import paths

META_TABLE = "_revbook_meta"


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


def mart_parameters(sql: str) -> set[str]:
    """Names of the `$name` parameters a mart's SQL binds (comments ignored)."""
    return {p.name for p in sqlglot.parse_one(sql, read="duckdb").find_all(exp.Placeholder)}


def transpile(sql: str, dialect: str) -> str:
    """The mart SQL (DuckDB dialect) in another engine's dialect, e.g. "bigquery"."""
    return ";\n".join(sqlglot.transpile(sql, read="duckdb", write=dialect, pretty=True))


class Warehouse(ABC):
    """What reports need from a warehouse: bound queries, marts and a data fingerprint."""

    dialect: str

    @abstractmethod
    def query(self, sql: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
        """Run `sql` (this engine's dialect) with bound `params`; return a DataFrame."""

    @abstractmethod
    def table_columns(self, table: str) -> dict[str, str] | None:
        """Column name -> engine type of `table`, or None if the table is missing."""

    @abstractmethod
    def fingerprint(self) -> str:
        """A short id of the data the warehouse holds (changes when the data changes)."""

    def close(self) -> None:
        """Release the connection (engines that hold one override this)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def mart(self, name: str, **params: Any) -> pd.DataFrame:
        """Run mart `name` with its parameters bound; every `$param` it uses must be given."""
        sql = mart_sql(name)
        wanted = mart_parameters(sql)
        missing = wanted - params.keys()
        extra = params.keys() - wanted
        if missing or extra:
            raise WarehouseError(
                f"mart {name!r} takes parameters {sorted(wanted)}; "
                f"missing {sorted(missing)}, unexpected {sorted(extra)}"
            )
        return self.query(sql, params)


class DuckDBWarehouse(Warehouse):
    """The embedded engine: one local DuckDB file, opened read-only unless building."""

    dialect = "duckdb"

    def __init__(self, path: Path | str | None = None, *, read_only: bool = True):
        self.path = Path(path) if path is not None else paths.warehouse_path()
        if read_only and not self.path.exists():
            raise WarehouseError(
                f"no warehouse at {self.path}: build the demo with `revbook demo` "
                "(or `make demo`), or load your exports with `revbook load DIR`"
            )
        self.con = duckdb.connect(str(self.path), read_only=read_only)
        self.con.execute("SET TimeZone = 'UTC'")

    def query(self, sql: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
        try:
            return self.con.execute(sql, params or None).df()
        except duckdb.CatalogException as exc:
            raise WarehouseError(f"{exc} (warehouse {self.path})") from None

    def table_columns(self, table: str) -> dict[str, str] | None:
        rows = self.con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = $t ORDER BY ordinal_position",
            {"t": table},
        ).fetchall()
        return {name: type_ for name, type_ in rows} or None

    def fingerprint(self) -> str:
        if self.table_columns(META_TABLE) is None:
            return "unknown"
        row = self.con.execute(
            f"SELECT value FROM {META_TABLE} WHERE key = 'fingerprint'"
        ).fetchone()
        return row[0] if row else "unknown"

    def meta(self) -> dict[str, str]:
        """Provenance written when the warehouse was built (source, fingerprint, built_at)."""
        if self.table_columns(META_TABLE) is None:
            return {}
        return dict(self.con.execute(f"SELECT key, value FROM {META_TABLE}").fetchall())

    def close(self) -> None:
        self.con.close()


def connect(path: Path | str | None = None) -> Warehouse:
    """The configured warehouse, read-only (the embedded DuckDB file by default)."""
    return DuckDBWarehouse(path)
