"""Where the finished tables go: kept in memory for `generate`, or written as the Parquet lake for
`write` as soon as each is complete (product usage block by block, activities in parts that DuckDB
sorts into one file at the end), so a large company never holds all its tables at once.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from revbook import contract
from revbook.demo import planted
from revbook.demo.common import State

ACTIVITY_ID_WIDTH = 7
ASSEMBLY_MEMORY_LIMIT = "1GB"  # DuckDB's memory for sorting the activities parts into one table
# product_usage_daily.event_type by the codes `Customers._usage_counts` gives them
EVENT_TYPES = ("login", "active_user", "error", "feature_report", "feature_dashboard", planted.UPSELL_FEATURE)


class _UsageRows:
    """Usage blocks kept in memory, joined into the product_usage_daily columns at the end."""

    def __init__(self, account_ids: np.ndarray) -> None:
        self.account_ids = account_ids
        self.blocks: list[tuple[np.ndarray, ...]] = []

    def add(self, date: np.ndarray, account: np.ndarray, code: np.ndarray, count: np.ndarray) -> None:
        self.blocks.append((date, account, code, count))

    def finish(self, demo: State) -> None:
        date, account, code, count = (np.concatenate(x) for x in zip(*self.blocks))
        demo.tables["product_usage_daily"] = {
            "date": date, "account_id": self.account_ids[account],
            "event_type": np.asarray(EVENT_TYPES, dtype=object)[code], "count": count,
        }


class _UsageParquet:
    """Usage blocks written as row groups of one Parquet file (ids dictionary-encoded)."""

    SCHEMA = pa.schema([("date", pa.date32()), ("account_id", pa.dictionary(pa.int32(), pa.string())),
                        ("event_type", pa.dictionary(pa.int8(), pa.string())), ("count", pa.int64())])

    def __init__(self, path: Path, account_ids: np.ndarray) -> None:
        self.path = path
        self.accounts = pa.array(account_ids, pa.string())
        self.events = pa.array(EVENT_TYPES, pa.string())
        self.writer = pq.ParquetWriter(path, self.SCHEMA)

    def add(self, date: np.ndarray, account: np.ndarray, code: np.ndarray, count: np.ndarray) -> None:
        self.writer.write_table(pa.table([
            pa.array(date.astype("datetime64[D]")),
            pa.DictionaryArray.from_arrays(pa.array(account, pa.int32()), self.accounts),
            pa.DictionaryArray.from_arrays(pa.array(code, pa.int8()), self.events),
            pa.array(count, pa.int64()),
        ], schema=self.SCHEMA))

    def finish(self, demo: State) -> None:
        self.writer.close()
        demo.files["product_usage_daily"] = self.path


class Lake(State):
    """Holding or writing the tables: `_spill` after each step, activities batch by batch."""

    def _spill(self, keep: tuple[str, ...]) -> None:
        """When writing files: write the finished tables (but `keep`) as Parquet and let their
        arrays go, so a large company never holds all its tables at once."""
        if self.folder is None:
            return
        for name in [n for n in self.tables if n not in keep]:
            path = self.folder / f"{name}.parquet"
            _frame(contract.table(name), self.tables.pop(name)).to_parquet(path, index=False)
            self.files[name] = path

    def _activity(self, part: dict[str, np.ndarray]) -> None:
        """Keep a batch of activities; when writing files, as a Parquet part of its own right away."""
        if self.folder is None:
            self.activities.append(part)
            return
        path = self.folder / f".activities-{len(self.activity_files)}.parquet"
        table = contract.table("activities")
        columns = {c: _arrow(part[c], table.column(c).type) for c in part}
        part_no = pa.array(np.full(len(part["occurred_at"]), len(self.activity_files), np.int32))
        pq.write_table(pa.table({**columns, "part": part_no}), path)
        self.activity_files.append(path)

    def _activities_table(self) -> None:
        """All activities in time order (ties in the order they were made) with ids AT0000001, …"""
        if self.folder is None:
            parts, self.activities = self.activities, []
            order = np.argsort(np.concatenate([a["occurred_at"] for a in parts]), kind="stable")
            ids = np.char.add("AT", np.char.zfill(np.arange(1, len(order) + 1).astype(str), ACTIVITY_ID_WIDTH))
            self.tables["activities"] = {"activity_id": ids, **{k: np.concatenate([a.pop(k) for a in parts])[order]
                                                                for k in list(parts[0])}}
            return
        # the same order and ids from the Parquet parts, sorted by DuckDB within a memory cap
        path = self.folder / "activities.parquet"
        columns = ", ".join("date_trunc('second', occurred_at) AS occurred_at" if c == "occurred_at" else c
                            for c in contract.table("activities").column_names if c != "activity_id")
        by = "occurred_at, part, file_row_number"
        number = f"CAST(row_number() OVER (ORDER BY {by}) AS VARCHAR)"
        activity_id = f"'AT' || lpad({number}, CAST(greatest($width, length({number})) AS INTEGER), '0')"
        with duckdb.connect(config={"memory_limit": ASSEMBLY_MEMORY_LIMIT}) as con:
            con.sql(f"SELECT {activity_id} AS activity_id, {columns} "
                    f"FROM read_parquet($files, union_by_name = true, file_row_number = true) ORDER BY {by}",
                    params={"files": [str(f) for f in self.activity_files], "width": ACTIVITY_ID_WIDTH},
                    ).write_parquet(str(path))
        for f in self.activity_files:
            f.unlink()
        self.files["activities"] = path


def _arrow(values: np.ndarray, type_: str) -> pa.Array:
    """One column as Arrow, typed as the contract says (text and nullable flags may be objects)."""
    kind = {"string": pa.string(), "bool": pa.bool_(), "int": pa.int64(), "float": pa.float64()}.get(type_)
    return pa.array(values, type=kind) if kind is not None else pa.array(values)


def _frame(table: contract.Table, data: dict[str, np.ndarray]) -> pd.DataFrame:
    """The contract table as a DataFrame with contract column order and dtypes."""
    out = {}
    for col in table.columns:
        values = data[col.name]
        if col.type == "string":  # fixed-width numpy text goes to Arrow without Python objects
            text = values if values.dtype.kind == "U" else np.asarray(values, dtype=object)
            out[col.name] = pd.array(text, dtype="str")
        elif col.type == "int":
            out[col.name] = pd.array(values, dtype="Int64") if col.nullable else np.asarray(values, np.int64)
        elif col.type == "float":
            out[col.name] = np.asarray(values, np.float64)
        elif col.type == "bool":
            out[col.name] = pd.array(values, dtype="boolean") if col.nullable else np.asarray(values, bool)
        else:
            ts = pd.to_datetime(pd.Series(values)).astype("datetime64[ns]")
            out[col.name] = ts.dt.normalize() if col.type == "date" else ts.dt.floor("s")
    return pd.DataFrame(out, columns=table.column_names)
