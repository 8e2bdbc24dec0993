"""`connect()`: the configured engine behind the `Warehouse` interface (params/warehouse.yaml)."""

from __future__ import annotations

from pathlib import Path

from revbook import paths, settings
from revbook.data import loads
from revbook.data.duckdb_engine import DuckDBWarehouse
from revbook.data.warehouse import Warehouse, WarehouseError


def connect(path: Path | str | None = None) -> Warehouse:
    """The configured warehouse, read-only: params/warehouse.yaml's engine (REVBOOK_ENGINE overrides);
    the embedded DuckDB file by default, or `path` when given."""
    config = settings.warehouse()
    if path is not None or config.engine == "duckdb":
        target = Path(path) if path is not None else paths.warehouse_path()
        try:
            return DuckDBWarehouse(target, memory_limit=config.duckdb.memory_limit)
        except WarehouseError:  # missing or unreadable: say so in terms of the user's own load, if there was one
            if gone := loads.gone_message(target):
                raise WarehouseError(gone) from None
            raise
    from revbook.data.bigquery_engine import BigQueryWarehouse

    assert config.bigquery is not None  # checked by settings
    return BigQueryWarehouse(config.bigquery)
