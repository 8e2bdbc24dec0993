"""What a warehouse holds: rows per contract table and the optional columns left empty.

A real company's export is partial (a few of the contract's tables, some columns missing); this
says which tables hold data, so `revbook check` can list them and a load can record them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlglot import exp

from revbook import contract, settings
from revbook.data.warehouse import Warehouse, render


@dataclass(frozen=True)
class Holding:
    """One contract table as the warehouse has it: rows (None: absent), optional columns with no value."""

    table: contract.Table
    rows: int | None
    empty_columns: tuple[str, ...] = ()


def holdings(wh: Warehouse) -> list[Holding]:
    """Every contract table's holding, in contract order."""
    found = []
    for table in contract.TABLES:
        rows = wh.row_count(table.name)
        types = wh.table_columns(table.name) or {}
        optional = [c.name for c in table.columns if c.nullable and c.name in types]
        empty = tuple(c.name for c in table.columns if c.nullable and c.name not in types)
        if rows and optional:
            counts = wh.query(render(exp.select(*(exp.Count(this=exp.column(c, quoted=True)).as_(c, quoted=True)
                                                  for c in optional)).from_(exp.table_(table.name, quoted=True)),
                                     wh.dialect)).iloc[0]
            empty += tuple(c for c in optional if int(counts[c]) == 0)
        found.append(Holding(table, rows, tuple(c for c in table.column_names if c in empty)))
    return found


def summary(found: list[Holding]) -> list[str]:
    """Lines for `revbook check`: the tables with data (and their empty optional columns), then the rest."""
    lines = [f"{h.table.name}: {h.rows:,} rows" + (f" (no {', '.join(h.empty_columns)})" if h.empty_columns else "")
             for h in found if h.rows]
    missing = [h.table.name for h in found if not h.rows]
    if missing:
        lines.append(f"no data: {', '.join(missing)}: the reports say what each would show")
    return lines


def unknown_without(wh: Warehouse, frame: pd.DataFrame, sources: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """`frame` with the columns counted from each source that holds no data (`sources`: table, or see
    `Warehouse.has`, → columns) set to NaN: a count from what was not loaded is unknown ("n/a"), not 0."""
    unknown = [c for source, columns in sources.items() if not wh.has(source) for c in columns if c in frame]
    return frame.assign(**dict.fromkeys(unknown, np.nan)) if unknown else frame


def settings_warnings(wh: Warehouse) -> list[str]:
    """Settings in params/company.yaml that do not fit the loaded data: target industries no lead is
    in (every "target leads" figure would be 0), and the demo's currency kept for a real company."""
    company, found = settings.company(), []
    if wh.has("leads"):
        ever = wh.mart("lead_sources", start=dt.date(1900, 1, 1), end=dt.date(9999, 1, 1),
                       target_industries=list(company.target_industries))
        if int(ever["target_leads"].sum()) == 0:
            found.append(f"no lead's industry is in target_industries ({', '.join(company.target_industries)}): "
                         "every target-lead figure is 0; list your own target industries")
    if wh.meta().get("source") != "demo" and company.currency == settings.Company.model_fields["currency"].default:
        found.append(f"currency is {company.currency} ({company.currency_symbol}), the demo's default: set currency "
                     "and currency_symbol if your money is not in it")
    return found


def data_through(wh: Warehouse, dated: Mapping[str, Sequence[str]]) -> dt.date | None:
    """The last day the data reaches: the latest date in the `dated` columns of the loaded tables among
    them (table → columns; None when none is loaded), a local date in the company's time zone as the
    marts' (`Warehouse.sql`). The latest table's, not the earliest's: rare events (a small company's new
    subscriptions) stop days before a month's end in complete data, so only when even the latest date
    falls before the month's last day did the export stop there."""
    ends = []
    for table, names in dated.items():
        if not wh.has(table):
            continue
        latest = exp.select(*(exp.Max(this=exp.column(c, quoted=True)).as_(c, quoted=True) for c in names)).from_(
            exp.table_(table, quoted=True))
        values = pd.to_datetime(wh.query(wh.sql(latest)).iloc[0]).dropna()
        if not values.empty:
            ends.append(values.max().date())
    return max(ends) if ends else None
