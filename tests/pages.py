"""Checks on rendered stakeholder pages, shared by the report tests."""

from __future__ import annotations

import json
import re
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

from revbook.departments.headlines import Headline
from revbook.pages import report


class Page(HTMLParser):
    """A rendered report: its text, links and script count."""

    def __init__(self, path: Path):
        super().__init__()
        self.path, self.links, self.scripts = path, [], 0
        self.text = path.read_text(encoding="utf-8")
        self.body = re.sub(r"<style.*?</style>", "", self.text, flags=re.S)  # the lab CSS mentions prompts
        self.feed(self.text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        if tag == "script":
            self.scripts += 1


def assert_stakeholder_page(path: Path) -> Page:
    """No code, prompts or foreign scripts; images inline; nothing fetched from the network."""
    page = Page(path)
    # markdown cells render inside jp-InputArea; code would be highlighted source with prompts
    assert not re.search(r'class="[^"]*(hl-ipython3|jp-InputPrompt|jp-OutputPrompt|jp-Editor)', page.body)
    assert not re.search(r"In&nbsp;\[|Out\[|\bimport revbook\b|from revbook|wh\.mart\(", page.body)
    assert page.scripts == 1  # only revbook's own inline table sorter
    assert re.search(r"<script>\s*/\* Sortable tables", page.body)
    assert "data:image/png;base64," in page.text  # charts inline: one self-contained file
    assert not re.search(r"""(src|href)=["']https?://""", page.text)
    return page


def assert_headlines(html_path: Path, headlines: list[Headline], reference: str = "Target") -> None:
    """Every headline value, as the report formats it, is on the page and in <report>.metrics.json,
    with its `reference` (the target, or e.g. the team median)."""
    text = html_path.read_text(encoding="utf-8")
    for h in headlines:
        assert f'<th>{h.label}</th><td class="rb-value">{report.fmt(h.value, h.unit)}</td>' in text, h.key
        assert report.fmt(h.target, h.unit) in text
    saved = json.loads(html_path.with_suffix(".metrics.json").read_text(encoding="utf-8"))
    assert saved == {h.key: {**h.clean(), "target_is": reference} for h in headlines}


def index_headlines(period_dir: Path) -> list[tuple]:
    """The headline rows an index page must show for the period in `period_dir`, in Model order: per
    chosen key of each department's report (revbook.run.index.HEADLINES), its department, label (saying
    when there is no value), value, previous, change (text, colour), target and change vs target, from
    <report>.metrics.json as the report formats and colours them."""
    from revbook.run import index

    rows = []
    for notebook, keys in index.HEADLINES.items():
        saved = json.loads((period_dir / f"{notebook}.metrics.json").read_text(encoding="utf-8"))
        for key in keys:
            h = Headline(**{k: v for k, v in saved[key].items() if k != "target_is"})
            label = h.label + (" (no value this period)" if h.value is None else "")
            rows.append((notebook.split("/")[0], label, report.fmt(h.value, h.unit), report.fmt(h.previous, h.unit),
                         report.change(h, h.previous), report.fmt(h.target, h.unit), report.change(h, h.target)))
    return rows


def shown_headlines(page: str) -> list[tuple]:
    """The headline rows an index page shows, in page order, as `index_headlines` lists them."""
    table = re.search(r'<table class="rb-headlines">.*?</table>', page, re.S)
    assert table, "no headline table"
    rows, department = [], ""
    for tr in re.findall(r"<tr\b.*?</tr>", table.group(0), re.S):
        if 'class="rb-dept"' in tr:
            department = re.search(r'<span class="rb-department">(.*?)</span>', tr).group(1).replace(" ", "_")
        elif 'class="rb-value"' in tr:
            cells = [(unescape(re.sub(r"<[^>]+>", "", text)).strip(), css)
                     for css, text in re.findall(r'<t[hd](?: class="([^"]*)")?>(.*?)</t[hd]>', tr, re.S)]
            label, value, previous, vs_previous, target, vs_target = cells
            rows.append((department, label[0], value[0], previous[0], vs_previous, target[0], vs_target))
    return rows
