"""The monthly run and the rendered revenue overview: the numbers lib computes, no code, working links."""

import json
import re
from urllib.parse import urlparse

import pytest

from conftest import TEST_END
from pages import Page, assert_headlines, assert_stakeholder_page
from revbook import periods
from revbook.data.duckdb_engine import DuckDBWarehouse
from revbook.departments import sales_ops
from revbook.pages import revenue_overview


@pytest.fixture(scope="module")
def lib_overview(demo_warehouse):
    with DuckDBWarehouse(demo_warehouse) as wh:
        return sales_ops.overview(wh, periods.parse("month", TEST_END), 12)


def test_run_succeeds(monthly_run):
    code, out = monthly_run
    assert code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    entry = manifest["reports"]["sales_ops/revenue_overview"]
    assert entry["status"] == "ok" and entry["parameters"]["period"] == TEST_END
    assert manifest["last_run"]["data_fingerprint"] not in ("", "unknown")


def test_html_shows_the_headlines_lib_computes(monthly_run, lib_overview):
    _, out = monthly_run
    path = out / "sales_ops" / "revenue_overview.html"
    assert_headlines(path, lib_overview.headlines())
    summary = revenue_overview.summary(lib_overview).replace("**", "")
    assert summary.split(" (")[0] in re.sub(r"</?strong>", "", path.read_text())  # the opening sentence


def test_html_has_no_code_no_prompts_no_scripts(monthly_run):
    _, out = monthly_run
    assert_stakeholder_page(out / "sales_ops" / "revenue_overview.html")


def test_index_links_resolve(monthly_run):
    _, out = monthly_run
    top = out.parent / "index.html"
    reports = [out / "sales_ops" / "revenue_overview.html", out / "marketing" / "campaign_roi.html"]
    for index in (top, out / "index.html", *reports):
        links = [h for h in Page(index).links if not urlparse(h).scheme and not h.startswith("#")]
        assert links, index
        for href in links:
            assert (index.parent / href).resolve().is_file(), f"{index}: broken link {href}"
    index = (out / "index.html").read_text()
    assert "sales_ops/revenue_overview.html" in index and "marketing/campaign_roi.html" in index
