"""Every report of the monthly schedule on partial data: the small demo with each contract table
removed in turn, exports of the shapes real companies have (tests/partial_lakes.py), and a
Salesforce export loaded with the shipped mapping (tests/salesforce_export.py).

No report may fail; a report none of whose tables is loaded is skipped with its reason; a page
never prints nan, inf or a conversion over 100%, and names every absent table its marts read.
"""

from __future__ import annotations

import json
import re
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest

import partial_lakes
import salesforce_export
from conftest import ROOT, TEST_END
from revbook import cli, contract
from revbook.data import load, mapping
from revbook.data.duckdb_engine import DuckDBWarehouse
from revbook.data.warehouse import mart_tables
from revbook.run import runner

LAKES = [f"without_{t.name}" for t in contract.TABLES] + list(partial_lakes.SHAPES)

#: A column (or headline row) holding a conversion or share, which can never exceed 100%; retention
#: with expansion (NRR), returns (ROI), utilisation over capacity, changes and the funnel conversion (won ÷
#: opportunities created: two flows of one month, not a cohort) can.
_RATE = re.compile(r"rate|conversion|CVR|CTR|share|→", re.I)
_MAY_EXCEED = re.compile(r"NRR|retention|ROI|ROAS|utilisation|change|vs |funnel conversion", re.I)


class _Tables(HTMLParser):
    """Each <table> of a page as rows of cell texts, header row first."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self.tables and self.tables[-1]:
            self.tables[-1][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _percent(cell: str) -> float | None:
    m = re.fullmatch(r"(\d[\d,]*(?:\.\d+)?)%", cell)
    return float(m.group(1).replace(",", "")) if m else None


def rates_over_100(html: str) -> list[str]:
    """Cells over 100% in a rate column, or in a headline row that is a rate."""
    parser = _Tables()
    parser.feed(html)
    found = []
    for rows in parser.tables:
        rows = [r for r in rows if r]
        if not rows:
            continue
        header = rows[0]
        for row in rows[1:]:
            for i, cell in enumerate(row):
                column = header[i] if i < len(header) else ""
                label = column if i else ""
                if i and _RATE.search(row[0]) and not _RATE.search(column):
                    label = row[0]  # a headline row: "Win rate" | 40.0% | …
                value = _percent(cell)
                if value is not None and value > 100 and _RATE.search(label) and not _MAY_EXCEED.search(label):
                    found.append(f"{label} {cell} (row {row[0]!r})")
    return found


def visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S | re.I)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def page_problems(html: str, absent: set[str]) -> list[str]:
    """What a page gets wrong on partial data: nan/inf shown, a rate over 100%, an absent table its
    marts read that the page does not name."""
    text = visible_text(html)
    problems = [f"shows {m.group(0)!r}: …{text[max(0, m.start() - 80):m.end()]}"
                for m in re.finditer(r"\b(nan|NaN|inf|-inf|Infinity)\b", text)]
    problems += [f"a rate over 100%: {cell}" for cell in rates_over_100(html)]
    problems += [f"does not name the absent table {t}" for t in sorted(absent) if t not in text]
    return problems


@pytest.fixture(scope="module")
def lakes(demo_frames) -> dict[str, dict]:
    built = {f"without_{t.name}": {n: f for n, f in demo_frames.items() if n != t.name} for t in contract.TABLES}
    return built | {name: make() for name, make in partial_lakes.SHAPES.items()}


@pytest.mark.parametrize("lake", LAKES)
def test_every_monthly_report_renders_truthfully(lake, lakes, tmp_path, monkeypatch):
    frames = lakes[lake]
    warehouse = tmp_path / "warehouse.duckdb"
    load.build_warehouse(frames, warehouse, {"source": lake})
    monkeypatch.setenv("REVBOOK_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("REVBOOK_OUTPUTS", str(tmp_path / "out"))
    assert runner.run("monthly", TEST_END) == 0
    out = tmp_path / "out" / TEST_END
    reports = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["reports"]
    absent = {t.name for t in contract.TABLES if t.name not in frames or frames[t.name].empty}
    problems = []
    for key, entry in reports.items():
        if entry["status"] == "skipped":
            assert "none is loaded" in entry["error"], (key, entry["error"])
            continue
        assert entry["status"] == "ok", (key, entry.get("error"))
        read = set().union(*(mart_tables(q["mart"]) for q in entry["queries"]))
        html = Path(out / entry["html"]).read_text(encoding="utf-8")
        problems += [f"{key}: {p}" for p in page_problems(html, absent & read)]
    assert not problems, "\n".join(problems)
    statuses = [e["status"] for e in reports.values()]
    print(f"{lake}: {len(statuses)} reports, {statuses.count('ok')} ok, {statuses.count('skipped')} skipped")


def test_the_page_checks_catch_what_they_look_for():
    table = ("<table><tr><th>Stage</th><th>Conversion</th><th>ROI</th></tr>"
             "<tr><td>proposal</td><td>1588.0%</td><td>240.0%</td></tr></table>")
    assert page_problems(table, set()) == ["a rate over 100%: Conversion 1588.0% (row 'proposal')"]
    headlines = "<table><tr><th>Metric</th><th>This period</th></tr><tr><th>Win rate</th><td>150.0%</td></tr>" \
                "<tr><th>Net revenue retention (NRR)</th><td>101.2%</td></tr></table><p>Opp rate nan</p>"
    assert page_problems(headlines, {"activities"}) == [
        "shows 'nan': …Metric This period Win rate 150.0% Net revenue retention (NRR) 101.2% Opp rate nan",
        "a rate over 100%: Win rate 150.0% (row 'Win rate')", "does not name the absent table activities"]
    assert page_problems("<p>No sales activities loaded (activities): needed for meetings.</p>", {"activities"}) == []
    assert mart_tables("funnel_monthly") == {"leads", "activities", "opportunities"}


def test_a_salesforce_export_loads_with_the_shipped_mapping_and_every_report_renders(tmp_path, monkeypatch, capsys):
    folder = salesforce_export.write(tmp_path / "export")
    warehouse = tmp_path / "warehouse.duckdb"
    with pytest.raises(SystemExit) as exit_:
        cli.main(["load", str(folder), "--out", str(warehouse), "--map", str(ROOT / "params/mappings/salesforce.yaml")])
    err = capsys.readouterr().err
    assert exit_.value.code == 0, err
    assert "'Cold Call' ×" in err  # a lead source the mapping leaves as it is: kept, counted once
    with DuckDBWarehouse(warehouse) as wh:
        stages = set(wh.query("SELECT DISTINCT stage FROM opportunities")["stage"])
        won = wh.query("SELECT COUNT(*) AS n FROM opportunities WHERE is_won AND closed_at IS NOT NULL")["n"].iloc[0]
        leads = wh.query("SELECT lead_source, direction, status FROM leads")
    assert stages <= set(contract.STAGES) and "closed_won" in stages and won > 0  # "Closed Won" → closed_won
    assert {"document_request", "referral"} <= set(leads["lead_source"])  # "Web", "Partner Referral"
    assert set(leads.loc[leads["lead_source"] == "Cold Call", "direction"]) == {"outbound"}
    assert set(leads["status"]) <= set(contract.LEAD_STATUSES)
    monkeypatch.setenv("REVBOOK_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("REVBOOK_OUTPUTS", str(tmp_path / "out"))
    assert runner.run("monthly", TEST_END) == 0
    out = tmp_path / "out" / TEST_END
    reports = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["reports"]
    assert {k for k, e in reports.items() if e["status"] == "skipped"} == {"customer_success/churn_drivers"}
    assert sum(e["status"] == "ok" for e in reports.values()) == 7  # team pages and three personal pages
    for key, entry in reports.items():
        if entry["status"] == "ok":
            assert not page_problems(Path(out / entry["html"]).read_text(encoding="utf-8"), set()), key
    # a Task export has no call outcomes and no meetings (Salesforce keeps those as Events): unknown, not 0
    funnel = (out / "inside_sales/funnel.html").read_text(encoding="utf-8")
    assert headline(funnel, "Calls") not in ("n/a", "0")
    assert {headline(funnel, f"Connect rate, {d} calls") for d in ("inbound", "outbound")} == {"n/a"}
    assert re.search(r"No values in ([\w.]+, )*activities\.connected[,.]", visible_text(funnel))  # the banner says why
    overview = (out / "sales_ops/revenue_overview.html").read_text(encoding="utf-8")
    assert headline(overview, "Meetings") == "n/a" and headline(overview, "Opportunities") != "n/a"
    assert "No activities of type 'meeting': needed for" in visible_text(overview)


def headline(html: str, label: str) -> str:
    """This period's value of the headline row `label`."""
    parser = _Tables()
    parser.feed(html)
    return next(row[1] for rows in parser.tables if rows and rows[0][:2] == ["Metric", "This period"]
                for row in rows[1:] if row and row[0] == label)


def test_a_mapping_names_what_the_export_lacks(tmp_path):
    folder = salesforce_export.write(tmp_path / "export")
    names = mapping.read(ROOT / "params/mappings/salesforce.yaml")
    names.tables["accounts"].columns["region"] = "ShippingState"
    with pytest.raises(load.LoadError, match=r"Account.csv \(table accounts\) has no column ShippingState; it has "
                                             r"Id, Name, Industry"):
        load.load_folder(folder, tmp_path / "w.duckdb", names)
    bad = tmp_path / "bad.yaml"
    bad.write_text("tables:\n  lead:\n    file: Lead\n", encoding="utf-8")
    with pytest.raises(mapping.MappingError, match="'lead' is not a contract table"):
        mapping.read(bad)
