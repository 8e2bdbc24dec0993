"""`connect()`: the configured engine behind the `Warehouse` interface (params/warehouse.yaml)."""

from __future__ import annotations

from pathlib import Path

from revbook import settings
from revbook.data.duckdb_engine import DuckDBWarehouse
from revbook.data.warehouse import Warehouse


def connect(path: Path | str | None = None) -> Warehouse:
    """The configured warehouse, read-only: params/warehouse.yaml's engine (REVBOOK_ENGINE overrides);
    the embedded DuckDB file by default, or `path` when given."""
    config = settings.warehouse()
    if path is not None or config.engine == "duckdb":
        return DuckDBWarehouse(path, memory_limit=config.duckdb.memory_limit)
    from revbook.data.bigquery_engine import BigQueryWarehouse

    assert config.bigquery is not None  # checked by settings
    return BigQueryWarehouse(config.bigquery)
