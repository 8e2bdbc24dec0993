"""The embedded engine: the contract tables in one local DuckDB file (data/revbook.duckdb)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from revbook import paths
from revbook.data.warehouse import Warehouse, WarehouseError

#: The table `load` writes provenance into (source, fingerprint, built_at).
META_TABLE = "_revbook_meta"


class DuckDBWarehouse(Warehouse):
    """The embedded engine: one local DuckDB file, opened read-only unless building."""

    dialect = "duckdb"

    def __init__(self, path: Path | str | None = None, *, read_only: bool = True, memory_limit: str | None = None,
                 timezone: str | None = None):
        """`memory_limit` caps DuckDB's own memory (e.g. "512MB"); it spills to disk beyond. `timezone` (IANA)
        replaces the company's for the periods marts cut (`Warehouse.zone`)."""
        self.timezone = timezone
        self.path = Path(path) if path is not None else paths.warehouse_path()
        if read_only and not self.path.exists():
            raise WarehouseError(
                f"no warehouse at {self.path}: build the demo with `revbook demo` "
                "(or `make demo`), or load your exports with `revbook load DIR`"
            )
        config: dict[str, str | bool | int | float | list[str]] = {"memory_limit": memory_limit} if memory_limit else {}
        if read_only:  # spill files of concurrent readers (one per report kernel) must not collide
            config["temp_directory"] = os.path.join(tempfile.gettempdir(), f"revbook-duckdb-{os.getpid()}")
        try:
            self.con = duckdb.connect(str(self.path), read_only=read_only, config=config)
        except duckdb.Error as exc:
            if not read_only:  # building: a full disk is told from its cause (load._guarded)
                raise WarehouseError(f"cannot create a DuckDB warehouse at {self.path} ({exc})") from exc
            raise self._unreadable(exc) from None
        self.con.execute("SET TimeZone = 'UTC'")  # TIMESTAMP → TIMESTAMPTZ reads UTC (`warehouse.local_time`)

    def _unreadable(self, exc: duckdb.Error) -> WarehouseError:
        """A file DuckDB cannot open or read (truncated, corrupt, not DuckDB, locked by a writer), in
        words that say what to do instead of DuckDB's traceback."""
        if "Could not set lock" in str(exc):
            return WarehouseError(f"{self.path} is open for writing in another program ({exc}): close it there "
                                  "and try again")
        return WarehouseError(f"{self.path} is not a readable DuckDB warehouse ({exc}): load your data again with "
                              "`revbook load DIR` (or build the demo with `revbook demo`)")

    def query(self, sql: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
        try:
            return self.con.execute(sql, params or None).df()
        except duckdb.CatalogException as exc:
            raise WarehouseError(f"{exc} (warehouse {self.path})") from None
        except duckdb.IOException as exc:  # a truncated file opens, then fails on the first block it lacks
            raise self._unreadable(exc) from None

    def _rows(self, sql: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        try:
            return self.con.execute(sql, params).fetchall()
        except duckdb.IOException as exc:
            raise self._unreadable(exc) from None

    def table_columns(self, table: str) -> dict[str, str] | None:
        rows = self._rows("SELECT column_name, data_type FROM information_schema.columns "
                          "WHERE table_name = $t ORDER BY ordinal_position", {"t": table})
        return {name: type_ for name, type_ in rows} or None

    def fingerprint(self) -> str:
        return self.meta().get("fingerprint", "unknown")

    def describe(self) -> str:
        return str(self.path)

    def meta(self) -> dict[str, str]:
        """Provenance written when the warehouse was built (source, fingerprint, built_at)."""
        if self.table_columns(META_TABLE) is None:
            return {}
        return dict(self._rows(f"SELECT key, value FROM {META_TABLE}"))

    def close(self) -> None:
        self.con.close()
