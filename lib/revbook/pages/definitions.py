"""What every headline number means, from pages/definitions.yaml: its formula in words, period,
conventions (the company.yaml settings that change it), marts and the tests that pin it.

The label and unit are the report's own: its department's HEADLINES, which are also the keys of its
metrics.json, so the definitions page names each number as the report does and a new headline key
without an entry is found (`problems`) before any report runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml
from pydantic import BaseModel

from revbook import settings
from revbook.departments.headlines import HeadlineSpec

#: Each report's department module: its HEADLINES are the report's metrics.json keys (a personal page
#: shares its team page's). A report without headline numbers maps to None.
REPORTS: dict[str, str | None] = {
    "sales_ops/revenue_overview": "sales_ops",
    "marketing/campaign_roi": "marketing",
    "inside_sales/funnel": "inside_sales",
    "field_sales/pipeline": "field_sales",
    "customer_success/churn_drivers": "customer_success",
    "customer_success/early_alerts": None,
}
FIELDS = ("formula", "period", "conventions", "sql", "tests")
#: How each unit reads on the page.
UNIT_WORDS = {"money": "money", "pct": "percent", "count": "count", "days": "days", "ratio": "ratio (×)",
              "months": "months", "p": "p-value", "date": "date", "month": "month"}


@dataclass(frozen=True)
class Definition:
    """One headline number of one report, as the report names it and as the YAML defines it."""

    report: str
    key: str
    label: str
    unit: str
    formula: str
    period: str
    conventions: tuple[str, ...]
    sql: tuple[str, ...]
    tests: tuple[str, ...]
    note: str = ""

    @property
    def anchor(self) -> str:
        """The id of its entry on the definitions page: <report>.<key>."""
        return f"{self.report}.{self.key}"


def report_of(key: str) -> str:
    """A manifest's report key as the definitions name it: a personal page is its team page's report."""
    return key.partition("--")[0]


def headline_specs(report: str) -> tuple[HeadlineSpec, ...]:
    """The headline numbers `report` shows (its department's HEADLINES; none for an unknown report)."""
    import importlib  # the departments load statsmodels: only when a page asks

    module = REPORTS.get(report)
    return importlib.import_module(f"revbook.departments.{module}").HEADLINES if module else ()


@cache
def raw() -> dict[str, dict[str, dict]]:
    """pages/definitions.yaml as written."""
    return yaml.safe_load((resources.files("revbook.pages") / "definitions.yaml").read_text("utf-8")) or {}


def _entry(report: str, key: str) -> dict:
    """The YAML entry of `key` in `report`, with a `same_as` report's fields filled in under its own."""
    entry = dict(raw().get(report, {}).get(key) or {})
    if same := entry.pop("same_as", None):
        entry = {**_entry(same, key), **entry}
    return entry


def definitions() -> list[Definition]:
    """Every headline number of every report, in REPORTS' order (The Model's) and each report's."""
    found = []
    for report in REPORTS:
        for key, label, unit, _ in headline_specs(report):
            e = _entry(report, key)
            found.append(Definition(report, key, label, unit, str(e.get("formula", "")), str(e.get("period", "")),
                                    tuple(e.get("conventions") or ()), tuple(e.get("sql") or ()),
                                    tuple(e.get("tests") or ()), str(e.get("note") or "")))
    return found


def setting(name: str) -> object:
    """The value of a company.yaml setting by its dotted name (hot_leads.count); KeyError if there is none."""
    value: object = settings.company()
    for part in name.split("."):
        if not isinstance(value, BaseModel) or part not in type(value).model_fields:
            raise KeyError(name)
        value = getattr(value, part)
    return value


def problems() -> list[str]:
    """What is wrong with definitions.yaml, one line each: a headline without an entry (or with a
    field missing), an entry no report shows, a `same_as` to nothing, a setting or mart that does
    not exist. (Whether each named test exists is for the test suite to check: tests/ is not packaged.)"""
    marts = {p.name.removesuffix(".sql") for p in (resources.files("revbook") / "sql").iterdir()}
    shown = {(d.report, d.key) for d in definitions()}
    out = [f"{report}: not a report (definitions.REPORTS)" for report in raw() if report not in REPORTS]
    for report, entries in raw().items():
        for key, entry in (entries or {}).items():
            where = f"{report}.{key}"
            if (report, key) not in shown:
                out.append(f"{where}: not a headline number of {report}; remove it")
            same = (entry or {}).get("same_as")
            if same and key not in raw().get(same, {}):
                out.append(f"{where}: same_as {same}, which has no {key}")
    for d in definitions():
        where, entry = d.anchor, _entry(d.report, d.key)
        if not entry:
            out.append(f"{where}: no entry in pages/definitions.yaml")
            continue
        out += [f"{where}: no {f}" for f in FIELDS if f not in entry]
        if not (d.formula and d.period):
            out.append(f"{where}: its formula and period are empty")
        for name in d.conventions:
            try:
                setting(name)
            except KeyError:
                out.append(f"{where}: convention {name!r} is not a setting of params/company.yaml")
        out += [f"{where}: no mart lib/revbook/sql/{m}.sql" for m in d.sql if m not in marts]
        out += [f"{where}: test {t!r} is not tests/<file>.py::<test>" for t in d.tests
                if not (t.startswith("tests/") and ".py::" in t)]
    return out
