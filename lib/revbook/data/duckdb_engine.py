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

    def __init__(self, path: Path | str | None = None, *, read_only: bool = True, memory_limit: str | None = None):
        """`memory_limit` caps DuckDB's own memory (e.g. "512MB"); it spills to disk beyond."""
        self.path = Path(path) if path is not None else paths.warehouse_path()
        if read_only and not self.path.exists():
            raise WarehouseError(
                f"no warehouse at {self.path}: build the demo with `revbook demo` "
                "(or `make demo`), or load your exports with `revbook load DIR`"
            )
        config: dict[str, str | bool | int | float | list[str]] = {"memory_limit": memory_limit} if memory_limit else {}
        if read_only:  # spill files of concurrent readers (one per report kernel) must not collide
            config["temp_directory"] = os.path.join(tempfile.gettempdir(), f"revbook-duckdb-{os.getpid()}")
        self.con = duckdb.connect(str(self.path), read_only=read_only, config=config)
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

    def describe(self) -> str:
        return str(self.path)

    def meta(self) -> dict[str, str]:
        """Provenance written when the warehouse was built (source, fingerprint, built_at)."""
        if self.table_columns(META_TABLE) is None:
            return {}
        return dict(self.con.execute(f"SELECT key, value FROM {META_TABLE}").fetchall())

    def close(self) -> None:
        self.con.close()
