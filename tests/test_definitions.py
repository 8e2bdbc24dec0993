"""The definitions page: every headline number of every report (every key its metrics.json can hold)
has an entry in pages/definitions.yaml naming settings, marts and tests that exist, and
outputs/definitions.html shows them by department in Model order, anchored for the links to them."""

from __future__ import annotations

import ast
import json
import re
from functools import cache
from html import unescape
from pathlib import Path

import pytest

from conftest import ROOT
from revbook import settings
from revbook.pages import definitions
from revbook.run import index


@cache
def _test_names(path: Path) -> frozenset[str]:
    """The test functions a test file defines at its top level."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return frozenset(n.name for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_"))


def missing_tests(entries: list[definitions.Definition]) -> list[str]:
    """The tests named by `entries` (tests/<file>.py::<test>) that do not exist in the checkout."""
    wrong = []
    for d in entries:
        for name in d.tests:
            file, _, test = name.partition("::")
            if not (ROOT / file).is_file() or test not in _test_names(ROOT / file):
                wrong.append(f"{d.anchor}: {name}")
    return wrong


def test_every_headline_key_of_every_report_has_an_entry_and_every_entry_a_headline():
    assert definitions.problems() == []
    # the keys found statically: each report's department HEADLINES, which its metrics.json holds
    for report, entries in definitions.raw().items():
        assert set(entries) == {key for key, *_ in definitions.headline_specs(report)}, report
    assert len(definitions.definitions()) == sum(len(definitions.headline_specs(r)) for r in definitions.REPORTS)


def test_every_notebook_is_a_report_whose_headlines_come_from_its_declared_department():
    notebooks = {str(p.relative_to(ROOT / "notebooks").with_suffix("")) for p in (ROOT / "notebooks").glob("*/*.ipynb")}
    assert notebooks == set(definitions.REPORTS)  # a new report must say where its headline numbers come from
    for report, module in definitions.REPORTS.items():
        cells = json.loads((ROOT / "notebooks" / f"{report}.ipynb").read_text(encoding="utf-8"))["cells"]
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        shows = "report.headlines(" in code or ".headlines(" in code
        assert shows == (module is not None), report
        if module:
            assert re.search(rf"from revbook\.departments import [^\n]*\b{module}\b", code), (report, module)


def test_every_named_mart_and_test_exists():
    entries = definitions.definitions()
    assert missing_tests(entries) == []
    assert all((ROOT / "lib" / "revbook" / "sql" / f"{m}.sql").is_file() for d in entries for m in d.sql)
    unpinned = [d.anchor for d in entries if not d.tests]
    assert "inside_sales/funnel.calls" in unpinned  # said as "none" on the page, not left out


def test_the_checks_name_each_wrong_entry(monkeypatch):
    good = definitions.raw()
    bad = {**good, "sales_ops/revenue_overview": {
        **{k: v for k, v in good["sales_ops/revenue_overview"].items() if k != "meetings"},  # meetings: no entry
        "ending_mrr": {**good["sales_ops/revenue_overview"]["ending_mrr"],
                       "conventions": ["timezone", "fiscal_year_start"], "sql": ["mrr_movements", "mrr_moves"],
                       "tests": ["tests/test_marts.py::test_no_such_test", "test_marts.py"]},
        "gross_bookings": {"formula": "x", "period": "monthly"}},  # no such headline
        "marketing/cheap_leads": {}}
    bad["customer_success/churn_drivers"] = {**good["customer_success/churn_drivers"],
                                             "grr": {"same_as": "marketing/campaign_roi"}}
    monkeypatch.setattr(definitions, "raw", lambda: bad)
    found = definitions.problems()
    for expected in ("marketing/cheap_leads: not a report",
                     "sales_ops/revenue_overview.meetings: no entry in pages/definitions.yaml",
                     "sales_ops/revenue_overview.gross_bookings: not a headline number of sales_ops/revenue_overview",
                     "sales_ops/revenue_overview.ending_mrr: convention 'fiscal_year_start' is not a setting",
                     "sales_ops/revenue_overview.ending_mrr: no mart lib/revbook/sql/mrr_moves.sql",
                     "sales_ops/revenue_overview.ending_mrr: test 'test_marts.py' is not tests/<file>.py::<test>",
                     "customer_success/churn_drivers.grr: same_as marketing/campaign_roi, which has no grr"):
        assert any(line.startswith(expected) for line in found), (expected, found)
    ending = next(d for d in definitions.definitions() if d.anchor == "sales_ops/revenue_overview.ending_mrr")
    assert missing_tests([ending]) == ["sales_ops/revenue_overview.ending_mrr: tests/test_marts.py::test_no_such_test",
                                       "sales_ops/revenue_overview.ending_mrr: test_marts.py"]


def test_a_shared_definition_is_written_once_and_shown_under_each_report():
    by = {d.anchor: d for d in definitions.definitions()}
    so, cs = by["sales_ops/revenue_overview.grr"], by["customer_success/churn_drivers.grr"]
    assert (cs.formula, cs.sql, cs.tests) == (so.formula, so.sql, so.tests) and cs.label == so.label
    assert "monthly" == cs.period and "not a year's" in cs.note  # GRR is a month's, said so
    # the same key in two reports with different meanings keeps both: bookings vs subscription MRR
    assert by["field_sales/pipeline.new_mrr"].sql == ("fs_closed",)
    assert by["sales_ops/revenue_overview.new_mrr"].sql == ("mrr_movements",)


def _anchors(page: str) -> list[str]:
    return re.findall(r'<div class="rb-def" id="([^"]+)">', page)


def test_the_page_groups_by_department_in_model_order_anchors_each_entry_and_shows_the_settings(
        tmp_path, monkeypatch):
    company = settings.company().model_copy(update={"timezone": "Asia/Tokyo", "idle_deal_days": 21})
    monkeypatch.setattr(settings, "company", lambda: company)
    period = tmp_path / "2026-11"
    period.mkdir()
    (period / "manifest.json").write_text(json.dumps({"period": "2026-11", "schedule": "monthly", "reports": {
        "field_sales/pipeline": {"status": "ok", "title": "Field sales: pipeline, contracts and idle deals",
                                 "rep_id": None, "html": None, "metrics": None}}}), encoding="utf-8")
    index.build(tmp_path)
    page = (tmp_path / "definitions.html").read_text(encoding="utf-8")
    assert _anchors(page) == [d.anchor for d in definitions.definitions()]
    departments = re.findall(r'<h2 class="rb-department" id="([^"]+)">', page)
    assert departments == list(index.MODEL_ORDER)
    reports = re.findall(r'<section class="rb-report" id="([^"]+)">\s*<h3>(.*?) <code>', page)
    assert ("field_sales/pipeline", "Pipeline, contracts and idle deals") in reports  # the title its run recorded
    assert ("customer_success/early_alerts", "Early alerts") in reports  # a report with no headline numbers
    text = re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", page)))
    assert "timezone Asia/Tokyo" in text  # the settings in force
    idle = page[page.index('id="field_sales/pipeline.idle_deals"'):]
    idle = re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", idle[:idle.index("</div>")])))
    assert "Idle deals to return idle_deals" in idle  # the report's own label
    assert "Unit count Period month-end Settings idle_deal_days (21), timezone (Asia/Tokyo)" in idle
    assert "Mart lib/revbook/sql/fs_idle_deals.sql" in idle
    assert "Pinned by tests/test_field_sales.py::test_idle_rule_boundaries_keep_interest_and_owner_binding" in idle
    calls = page[page.index('id="inside_sales/funnel.calls"'):]
    assert "Pinned by</dt><dd>none" in calls[:calls.index("</div>")]
    for folder in (period, tmp_path):  # both indexes link the page
        assert '">Definitions of the headline numbers</a>' in (folder / "index.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("anchor, root, expected", [
    ("sales_ops/revenue_overview.ending_mrr", "", "definitions.html#sales_ops/revenue_overview.ending_mrr"),
    ("field_sales/pipeline", "../../", "../../definitions.html#field_sales/pipeline"),
    ("x/y.a b", "../", "../definitions.html#x/y.a%20b"),
])
def test_links_to_a_definition(anchor, root, expected):
    assert index.definitions_href(anchor, root) == expected
    assert index.banner_links("field_sales/pipeline", True, [])["definitions"] == \
        "../../definitions.html#field_sales/pipeline"  # a personal page links its team page's definitions
