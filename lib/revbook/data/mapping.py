"""Your export's names, mapped to the contract's: files, columns and picklist values.

A mapping file (params/mapping.yaml, or `revbook load DIR --map FILE`) says, per contract table,
which file holds it, which source column fills each contract column, and which source values mean
which contract values. What it does not name is read as the contract names it. Example:

```yaml
tables:
  opportunities:
    file: Opportunity                  # Opportunity.csv (or .csv.gz, .parquet)
    columns:
      opportunity_id: Id
      closed_at: {from: CloseDate, when: IsClosed}   # only where IsClosed is true
    values:
      stage: {"Closed Won": closed_won, "Closed Lost": closed_lost, "*": qualification}   # "*": any other
    constants:
      product: default                 # a column the export lacks, the same on every row
```
"""

from __future__ import annotations

import codecs
import gzip
import io
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from revbook import contract

_TRUE = {"true", "1", "yes", "t", "y"}
#: The longest CSV line (record) a load reads, in bytes. DuckDB's default, 2,000,000, is less than one
#: long memo or e-mail body; beyond this the load names the line instead. DuckDB reads in buffers of
#: twice that (set: its default, 16 lines' worth, is a 1 GiB block per file at this size).
MAX_LINE_BYTES = 16 * 2**20
#: How a CSV export is read: as text (the contract types are checked and cast later), header first.
CSV_READER = ("read_csv($path, header = true, all_varchar = true, "
              f"max_line_size = {MAX_LINE_BYTES}, buffer_size = {2 * MAX_LINE_BYTES})")


class ColumnSource(BaseModel):
    """A contract column filled from `from`, kept only where `when` (a boolean source column) is true
    and, with `prefix`, only where the value starts with it (Salesforce's WhatId: 006… is an opportunity)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    source: str = Field(alias="from")
    when: str | None = None
    prefix: str | None = None


class TableMapping(BaseModel):
    model_config = ConfigDict(extra="forbid")
    file: str | None = None  # the file's name without its suffix; default: the contract table's name
    columns: dict[str, str | ColumnSource] = {}  # contract column → source column
    values: dict[str, dict[str, Any]] = {}  # contract column → {source value: contract value, "*": otherwise}
    constants: dict[str, Any] = {}  # contract column → one value for every row


class ExportMapping(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tables: dict[str, TableMapping] = {}

    @model_validator(mode="after")
    def _contract_names(self) -> ExportMapping:
        for name, table in self.tables.items():
            if name not in contract.TABLES_BY_NAME:
                raise ValueError(f"tables: {name!r} is not a contract table ({', '.join(contract.TABLES_BY_NAME)})")
            known = set(contract.table(name).column_names)
            for part in ("columns", "values", "constants"):
                unknown = sorted(set(getattr(table, part)) - known)
                if unknown:
                    raise ValueError(f"tables.{name}.{part}: {', '.join(unknown)} not in the contract's {name} "
                                     f"columns ({', '.join(contract.table(name).column_names)})")
        return self


class MappingError(ValueError):
    """A mapping file that cannot be read, or that names a source column the export does not have."""


def read(path: Path) -> ExportMapping:
    """The mapping in `path`; MappingError names the file and what is wrong."""
    try:
        return ExportMapping.model_validate(yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {})
    except OSError as exc:
        raise MappingError(f"cannot read the mapping {path}: {exc.strerror}") from None
    except (yaml.YAMLError, ValidationError) as exc:
        raise MappingError(f"mapping {path}: {exc}") from None


def file_stem(mapping: ExportMapping | None, table: str) -> str:
    """The file name (without suffix) that holds contract table `table`."""
    found = mapping.tables.get(table) if mapping else None
    return found.file if found and found.file else table


def csv_problem(path: Path, exc: duckdb.Error) -> str:
    """DuckDB's error reading CSV `path`, in words a user can act on. A file not in UTF-8 or a line over
    MAX_LINE_BYTES gets where and what to do (DuckDB quotes the whole line and suggests options revbook
    has not got); any other error is DuckDB's, each of its lines cut to 300 characters."""
    text = str(exc)
    if "not utf-8 encoded" in text:
        return _not_utf8(path)
    if "Maximum line size" in text:
        line = _long_line(path)
        return (f"{f'line {line}' if line else 'a line'} is longer than {MAX_LINE_BYTES // 2**20} MB, the most "
                "revbook reads in one line: shorten that field (a memo, an e-mail body) in the export and load again")
    return "\n".join(part if len(part) <= 300 else part[:300] + "…" for part in text.splitlines())


def _open(path: Path) -> io.BufferedIOBase:
    return gzip.open(path, "rb") if path.name.endswith(".gz") else open(path, "rb")


def _not_utf8(path: Path) -> str:
    """Where `path` first breaks UTF-8 and, if that line reads as cp932, that it is Excel's Japanese CSV."""
    decoder, lines = codecs.getincrementaldecoder("utf-8")(), 0
    with _open(path) as f:
        while chunk := f.read(2**20):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                data, at = exc.object, exc.start  # a partial character held over from the last chunk, then this one
                start, end = data.rfind(b"\n", 0, at) + 1, data.find(b"\n", at)
                guess = _looks_like(data[start:end if end >= 0 else None])
                line = lines + 1 + data.count(b"\n", 0, at)
                return f"not UTF-8 ({guess}first at line {line}); save it as UTF-8 (CSV UTF-8 in Excel) and load again"
            lines += chunk.count(b"\n")
    return "not UTF-8; save it as UTF-8 (CSV UTF-8 in Excel) and load again"


def _looks_like(line: bytes) -> str:
    try:
        codecs.getincrementaldecoder("cp932")().decode(line)  # not final: a character cut at a chunk's end is fine
    except UnicodeDecodeError:
        return ""
    return "it looks like Shift-JIS/cp932, as Excel saves Japanese CSVs; "


def _long_line(path: Path) -> int | None:
    """The number of the first line of `path` (1: the header) longer than MAX_LINE_BYTES, read in
    chunks (the line may be any size); None when only a quoted record spanning lines is."""
    line, length = 1, 0
    with _open(path) as f:
        while chunk := f.read(2**20):
            *ended, rest = chunk.split(b"\n")
            for part in ended:
                if length + len(part) + 1 > MAX_LINE_BYTES:  # DuckDB counts the newline
                    return line
                line, length = line + 1, 0
            length += len(rest)
            if length > MAX_LINE_BYTES:
                return line
    return None


def _read_source(path: Path) -> pd.DataFrame:
    """A source file as text columns (CSV) or as its own types (Parquet)."""
    parquet = path.name.endswith(".parquet")
    con = duckdb.connect()
    try:
        return con.execute(f"SELECT * FROM {'read_parquet($path)' if parquet else CSV_READER}",
                           {"path": str(path)}).df()
    except duckdb.Error as exc:
        if parquet:
            raise
        raise MappingError(csv_problem(path, exc)) from exc
    finally:
        con.close()


def apply(table: str, spec: TableMapping, path: Path) -> pd.DataFrame:
    """Contract table `table` from the source file `path`, renamed, recoded and completed by `spec`.
    Source columns named as contract columns and not mapped are kept; others are left out."""
    raw = _read_source(path)
    names = contract.table(table).column_names
    wanted = ({c.source if isinstance(c, ColumnSource) else c for c in spec.columns.values()}
              | {c.when for c in spec.columns.values() if isinstance(c, ColumnSource) and c.when})
    missing = sorted(wanted - set(raw.columns))
    if missing:
        raise MappingError(f"{path.name} (table {table}) has no column {', '.join(missing)}; "
                           f"it has {', '.join(map(str, raw.columns))}")
    out = pd.DataFrame(index=raw.index)
    for column in names:
        source = spec.columns.get(column, column if column in raw.columns else None)
        if isinstance(source, ColumnSource):
            values = raw[source.source].where(raw[source.source].notna(), None)
            if source.when:
                values = values.where(raw[source.when].astype(str).str.strip().str.lower().isin(_TRUE), None)
            if source.prefix:
                values = values.where(values.astype(str).str.startswith(source.prefix), None)
            out[column] = values
        elif source is not None:
            out[column] = raw[source]
    for column, recode in spec.values.items():
        if column in out:
            default = recode.get("*")
            out[column] = out[column].map(lambda v, r=recode, d=default: v if v is None or pd.isna(v)
                                          else r.get(str(v).strip(), v if d is None else d))
    for column, value in spec.constants.items():
        out[column] = value
    return out[[c for c in names if c in out]]
