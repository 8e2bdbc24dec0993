"""The rendered revenue overview: the numbers lib computes, no code, working links."""

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlparse

import pytest

from conftest import TEST_END
from revbook import periods, report, revenue
from revbook.warehouse import DuckDBWarehouse


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.scripts = [], 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        if tag == "script":
            self.scripts += 1


def _parse(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


@pytest.fixture(scope="module")
def lib_overview(demo_warehouse):
    with DuckDBWarehouse(demo_warehouse) as wh:
        return revenue.overview(wh, periods.parse("month", TEST_END), 12)


def test_run_succeeds(monthly_run):
    code, out = monthly_run
    assert code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    entry = manifest["reports"]["sales_ops/revenue_overview"]
    assert entry["status"] == "ok" and entry["parameters"]["period"] == TEST_END
    assert manifest["last_run"]["data_fingerprint"] not in ("", "unknown")


def test_html_shows_the_headlines_lib_computes(monthly_run, lib_overview):
    _, out = monthly_run
    page = (out / "sales_ops" / "revenue_overview.html").read_text(encoding="utf-8")
    for h in lib_overview.headlines():
        assert f'<th>{h.label}</th><td class="rb-value">{report.fmt(h.value, h.unit)}</td>' in page, h.key
        assert report.fmt(h.target, h.unit) in page
    summary = lib_overview.summary().replace("**", "")
    assert summary.split(" (")[0] in re.sub(r"</?strong>", "", page)  # the opening sentence
    saved = json.loads((out / "sales_ops" / "revenue_overview.metrics.json").read_text())
    assert saved == {h.key: h.clean() for h in lib_overview.headlines()}


def test_html_has_no_code_no_prompts_no_scripts(monthly_run):
    _, out = monthly_run
    path = out / "sales_ops" / "revenue_overview.html"
    page = path.read_text(encoding="utf-8")
    body = re.sub(r"<style.*?</style>", "", page, flags=re.S)  # the lab CSS mentions prompts
    # markdown cells render inside jp-InputArea; code would be highlighted source with prompts
    assert not re.search(r'class="[^"]*(hl-ipython3|jp-InputPrompt|jp-OutputPrompt|jp-Editor)', body)
    assert not re.search(r"In&nbsp;\[|Out\[|\bimport revbook\b|report\.headlines\(", body)
    assert _parse(path).scripts == 0
    assert "data:image/png;base64," in page  # charts inline: one self-contained file
    assert not re.search(r"""(src|href)=["']https?://""", page)


def test_index_links_resolve(monthly_run):
    _, out = monthly_run
    top = out.parent / "index.html"
    for index in (top, out / "index.html", out / "sales_ops" / "revenue_overview.html"):
        links = [h for h in _parse(index).links if not urlparse(h).scheme and not h.startswith("#")]
        assert links, index
        for href in links:
            assert (index.parent / href).resolve().is_file(), f"{index}: broken link {href}"
    assert "revenue_overview" in (out / "index.html").read_text()
