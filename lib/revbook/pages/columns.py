"""The one vocabulary of the columns reports show: label, unit, meaning and display names of values.

Defined once in pages/columns/<department>.yaml (and common.yaml for what several departments show),
so a table, a chart axis and a CSV header say the same thing, and a change of wording is one edit.
A key may be defined in one file only; a report showing a column the vocabulary lacks is an error
that names the column, not a header printed as the raw key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Literal, get_args

import yaml

#: How a column's values print: a number unit (as revbook.pages.report.fmt prints it), or
#: text (as written in the data), enum (a picklist value shown by its display name), bool (as words),
#: date, month or time (a timestamp to the minute).
Kind = Literal["money", "pct", "count", "days", "months", "ratio", "p", "number",
               "text", "enum", "bool", "date", "month", "time"]
#: Units aligned left (words and dates), the rest are numbers, aligned right.
TEXT_KINDS = ("text", "enum", "bool", "date", "month", "time")


@dataclass(frozen=True)
class Column:
    """One column: header `label`, `unit`, what it means, and display names for its values."""

    key: str
    label: str
    unit: Kind
    meaning: str
    values: dict[str, str] = field(default_factory=dict)

    @property
    def align(self) -> str:
        return "left" if self.unit in TEXT_KINDS else "right"

    def display(self, value: object) -> str:
        """A text, enum or bool value as a reader sees it: listing_ads → "Listing ads" (a name in
        `values`, else the key with spaces and a capital), True → "Yes" (or the file's words)."""
        if isinstance(value, bool) or self.unit == "bool":
            return self.values.get(str(bool(value)).lower(), "Yes" if value else "No")
        text = str(value)
        if self.unit != "enum":
            return text
        return self.values.get(text) or (text[:1].upper() + text[1:]).replace("_", " ")


class UnknownColumn(KeyError):
    """A report shows a column that pages/columns/*.yaml does not define."""

    def __str__(self) -> str:
        return (f"column {self.args[0]!r} is not in the vocabulary (lib/revbook/pages/columns/*.yaml): "
                "add its label, unit and meaning there")


@cache
def vocabulary() -> dict[str, Column]:
    """Every column of every file in pages/columns/, by key; a key in two files, or an entry without
    a label or a meaning or with an unknown unit, is an error naming the file and key."""
    found: dict[str, tuple[str, Column]] = {}
    folder = resources.files("revbook.pages") / "columns"
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if not entry.name.endswith(".yaml"):
            continue
        for key, spec in (yaml.safe_load(entry.read_text("utf-8")) or {}).items():
            where = f"pages/columns/{entry.name}: {key}"
            if key in found:
                raise ValueError(f"{where} is also defined in pages/columns/{found[key][0]}: define it once")
            if not isinstance(spec, dict) or not spec.get("label") or not spec.get("meaning") \
                    or spec.get("unit") not in get_args(Kind):
                raise ValueError(f"{where} needs a label, a meaning and a unit (one of {', '.join(get_args(Kind))})")
            values = {str(k).lower() if isinstance(k, bool) else str(k): str(v)
                      for k, v in (spec.get("values") or {}).items()}
            found[key] = (entry.name, Column(key, str(spec["label"]), spec["unit"], str(spec["meaning"]), values))
    return {key: column for key, (_, column) in found.items()}


def column(key: object) -> Column:
    """The vocabulary's entry for `key` (UnknownColumn if it has none). A key named by the data, like
    "use:feature_api", takes its family's entry ("use:*", whose label has a {} for the name)."""
    key = str(key)
    words = vocabulary()
    if key in words:
        return words[key]
    family, _, name = key.partition(":")
    if name and (f"{family}:*") in words:
        entry = words[f"{family}:*"]
        return Column(key, entry.label.format(name), entry.unit, entry.meaning, entry.values)
    raise UnknownColumn(key)


def label(key: str) -> str:
    """The header a column is shown under (tables, chart axes and legends, CSV files)."""
    return column(key).label


def display_names(key: str, values: object) -> list[str]:
    """`values` of column `key` as a reader sees them (e.g. a chart's tick labels)."""
    col = column(key)
    return [col.display(v) for v in values]  # type: ignore[attr-defined]
