"""The portal: index pages open with each department's headline numbers in the order of The Model,
each label linked to its definition, reports carry human titles and rep names, periods link to their
neighbours, report banners to their siblings, and render details sit in footers beside a link to the
report's definitions."""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path

from conftest import TEST_END
from pages import Page, index_headlines, shown_headlines
from revbook.run import index


def _departments(page: str) -> list[str]:
    return re.findall(r'<span class="rb-department">(.*?)</span>', page)


def test_both_index_pages_open_with_each_departments_headline_numbers_in_model_order(monthly_run):
    code, out = monthly_run
    assert code == 0
    expected = index_headlines(out)
    assert [d for d in dict.fromkeys(row[0] for row in expected)] == list(index.MODEL_ORDER)
    assert all(3 <= len(keys) <= 5 for keys in index.HEADLINES.values())
    for page in (out / "index.html", out.parent / "index.html"):
        text = page.read_text(encoding="utf-8")
        assert shown_headlines(text) == expected, page
        assert _departments(text) == [d.replace("_", " ") for d in index.MODEL_ORDER]
        assert text.index('class="rb-headlines"') < text.index('class="rb-listing"')  # the numbers first
    top = (out.parent / "index.html").read_text(encoding="utf-8")
    assert f"Headline numbers, {TEST_END} (monthly)" in top  # which period the numbers are of
    # each headline label links to its definition, an anchored entry of outputs/definitions.html
    anchors = set(re.findall(r'<div class="rb-def" id="([^"]+)">', (out.parent / "definitions.html").read_text()))
    for page, root in ((out / "index.html", "../"), (out.parent / "index.html", "")):
        table = re.search(r'<table class="rb-headlines">.*?</table>', page.read_text(encoding="utf-8"), re.S).group(0)
        links = re.findall(r'<th><a href="([^"#]+)#([^"]+)">', table)
        assert links == [(f"{root}definitions.html", f"{k}.{key}") for k, keys in index.HEADLINES.items()
                         for key in keys]
        assert {anchor for _, anchor in links} <= anchors
    assert f'<a href="{TEST_END}/sales_ops/revenue_overview.html">Revenue overview</a>' in top


def _write_period(folder: Path, schedule: str, reports: dict[str, dict]) -> None:
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps({
        "period": folder.name, "schedule": schedule, "reports": reports,
        "last_run": {"finished_at": "2026-11-01T06:00:00+00:00", "wall_s": 12.5, "data_fingerprint": "fp0123",
                     "code_version": "abc1234"}}), encoding="utf-8")


def _entry(key: str, status: str = "ok", **fields) -> dict:
    return {"status": status, "finished_at": "2026-11-01T05:59:00+00:00", "duration_s": 3.25,
            "data_fingerprint": "fp0123", "code_version": "abc1234", "rep_id": None, "schedule": "monthly",
            "html": f"{key}.html" if status == "ok" else None,
            "metrics": f"{key}.metrics.json" if status == "ok" else None, **fields}


def test_a_department_without_numbers_shows_na_with_the_reason_never_zero(tmp_path):
    period = tmp_path / "2026-10"
    _write_period(period, "monthly", {
        "sales_ops/revenue_overview": _entry("sales_ops/revenue_overview"),
        "marketing/campaign_roi": _entry("marketing/campaign_roi", "failed", error="cell 4 (x = f()): ValueError: boom",
                                         html="marketing/campaign_roi.html", last_good_at="2026-10-31"),
        "inside_sales/funnel": _entry("inside_sales/funnel", "skipped",
                                      error="needs activities (activities); none is loaded"),
        "customer_success/churn_drivers": _entry("customer_success/churn_drivers", "retired",
                                                 error="no longer in the monthly schedule"),
    })
    (period / "sales_ops").mkdir()
    (period / "sales_ops" / "revenue_overview.metrics.json").write_text(json.dumps({
        "ending_mrr": {"key": "ending_mrr", "label": "Ending MRR", "value": None, "unit": "money", "previous": 5.0,
                       "target": None, "good_when_up": True, "target_is": "Target"}}), encoding="utf-8")
    index.build(tmp_path)
    for page, every in ((period / "index.html", False), (tmp_path / "index.html", True)):
        text = page.read_text(encoding="utf-8")
        table = re.search(r'<table class="rb-headlines">.*?</table>', text, re.S).group(0)
        shown = re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", table)))
        assert "Ending MRR (no value this period) n/a ¥5 n/a n/a n/a" in shown
        assert "New mrr (not among its headline numbers) n/a" in shown
        assert "n/a — failed: cell 4 (x = f()): ValueError: boom" in shown
        assert "n/a — skipped: needs activities (activities); none is loaded" in shown
        assert "n/a — retired: no longer in the monthly schedule" in shown
        assert ("n/a — no report in 2026-10" in shown) is every  # the top index names every department
        assert not re.search(r'class="rb-value">[¥]?0', table)
    listing = (period / "index.html").read_text(encoding="utf-8")
    assert "ValueError: boom — showing the last good report (2026-10-31)" in listing  # as before
    assert '<td class="skipped">skipped</td>' in listing and '<td class="retired">retired</td>' in listing


def test_personal_pages_are_listed_by_rep_name_under_their_team_page(monthly_run, demo_frames):
    _, out = monthly_run
    reports = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["reports"]
    team = reports["field_sales/pipeline"]
    assert team["title"] == "Field sales: pipeline, contracts and idle deals" and team["rep_name"] is None
    assert reports["marketing/campaign_roi"]["title"] == "Campaign & channel ROI"
    names = dict(zip(demo_frames["reps"]["rep_id"], demo_frames["reps"]["name"], strict=True))
    personal = {e["rep_id"]: e for e in reports.values() if e["rep_id"]}
    assert personal and all(e["rep_name"] == names[r] and e["title"] == team["title"] for r, e in personal.items())
    text = (out / "index.html").read_text(encoding="utf-8")
    section = text[text.index("<h3>field sales</h3>"):text.index("<h3>customer success</h3>")]
    rows = re.findall(r'<tr( class="rb-personal")?>\s*<td><a href="([^"]+)">(.*?)</a>'
                      r'(?: <span class="rb-id">(.*?)</span>)?', section)
    assert rows[0] == ("", "field_sales/pipeline.html", "Pipeline, contracts and idle deals", "")  # the team page first
    by_name = sorted(personal.values(), key=lambda e: e["rep_name"].casefold())
    assert [(unescape(label), unescape(rep)) for _, _, label, rep in rows[1:]] == \
        [(e["rep_name"], e["rep_id"]) for e in by_name]
    assert all(mark for mark, *_ in rows[1:])  # indented under the team page
    mine = by_name[0]
    page = (out / mine["html"]).read_text(encoding="utf-8")
    assert f"<title>{team['title']} — {mine['rep_name']}</title>" in unescape(page)
    assert 'Team page: <a href="../field_sales/pipeline.html">' in page


def test_period_indexes_link_the_periods_of_their_kind_before_and_after(tmp_path):
    for label, schedule in (("2026-09", "monthly"), ("2026-10", "monthly"), ("2026-11", "monthly"),
                            ("2026-W44", "weekly"), ("2026-11-30", "daily")):
        _write_period(tmp_path / label, schedule, {})

    def nav(label: str) -> dict[str, str]:
        text = (tmp_path / label / "index.html").read_text(encoding="utf-8")
        return {rel: href for href, rel in re.findall(r'<a href="([^"]+)" rel="(prev|next)"', text)}

    index.build(tmp_path)
    assert nav("2026-10") == {"prev": "../2026-09/index.html", "next": "../2026-11/index.html"}
    assert nav("2026-09") == {"next": "../2026-10/index.html"} and nav("2026-11") == {"prev": "../2026-10/index.html"}
    assert nav("2026-W44") == {} and nav("2026-11-30") == {}  # no other week or day
    top = (tmp_path / "index.html").read_text(encoding="utf-8")
    listed = re.findall(r'<a href="([^"/]+)/index.html">\1</a></td>\s*<td class="ok">ok</td>\s*<td>([^<]*)</td>', top)
    assert listed == [("2026-11-30", "daily"), ("2026-11", "monthly"), ("2026-W44", "weekly flash"),
                      ("2026-10", "monthly"), ("2026-09", "monthly")]  # newest first, each schedule named
    assert "<title>2026-W44 · weekly flash reports</title>" in (tmp_path / "2026-W44" / "index.html").read_text()


def test_a_report_banner_links_its_period_index_and_its_siblings(monthly_run):
    _, out = monthly_run
    reports = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["reports"]
    team_pages = [k for k in sorted(reports, key=index.model_rank) if not reports[k]["rep_id"]]
    path = out / "sales_ops" / "revenue_overview.html"
    text = path.read_text(encoding="utf-8")
    banner = re.search(r'<header class="rb-banner">.*?</header>', text, re.S).group(0)
    links = [(href, unescape(label)) for href, label in re.findall(r'<a href="([^"]+)">(.*?)</a>', banner)]
    siblings = [k for k in team_pages if k != "sales_ops/revenue_overview"]
    assert links == [("../index.html", f"← all reports for {TEST_END}")] + [
        (f"../{k}.html", reports[k]["title"]) for k in siblings]
    assert all((path.parent / href).resolve().is_file() for href, _ in links)
    assert "<title>Revenue overview</title>" in text


def test_render_details_are_in_a_footer_not_a_column(monthly_run):
    _, out = monthly_run
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    run = manifest["last_run"]
    for page in (out / "index.html", out.parent / "index.html"):
        text = page.read_text(encoding="utf-8")
        body, footer = text.split("<footer>")
        assert "<th>Details</th>" not in body and run["data_fingerprint"] not in body and "rendered" not in body
        assert run["data_fingerprint"] in footer and run["code_version"] in footer and run["finished_at"] in footer
    footer = (out / "index.html").read_text(encoding="utf-8").split("<footer>")[1]
    entry = manifest["reports"]["marketing/campaign_roi"]
    assert f"<td>Campaign &amp; channel ROI</td><td>{entry['finished_at']}</td><td>{entry['duration_s']:.1f}s</td>" \
           in footer
    report = Page(out / "marketing" / "campaign_roi.html").text
    banner = re.search(r'<header class="rb-banner">.*?</header>', report, re.S).group(0)
    assert entry["data_fingerprint"] not in banner and entry["code_version"] not in banner
    details = unescape(re.sub(r"<[^>]+>", "", re.search(r'<footer class="rb-footer">(.*?)</footer>', report, re.S)[1]))
    assert re.fullmatch(rf"rendered \S+ in \d+\.\ds\s+· data {entry['data_fingerprint']} · "
                        rf"code {entry['code_version']} · Definitions of the headline numbers", details)
    for path in (out / "marketing" / "campaign_roi.html", out / reports_of(manifest, "field_sales", personal=True)):
        footer = re.search(r'<footer class="rb-footer">.*?</footer>', path.read_text(encoding="utf-8"), re.S).group(0)
        target, anchor = re.search(r'<a href="([^"#]+)#([^"]+)">Definitions', footer).groups()
        assert (path.parent / target).resolve() == (out.parent / "definitions.html").resolve()
        assert f'<section class="rb-report" id="{anchor}">' in (out.parent / "definitions.html").read_text()
        assert anchor == path.relative_to(out).with_suffix("").as_posix().partition("--")[0]  # the team's report


def reports_of(manifest: dict, department: str, personal: bool) -> str:
    """The html of one report of `department` in `manifest` (a personal one, or the team's)."""
    return next(e["html"] for k, e in sorted(manifest["reports"].items())
                if k.startswith(f"{department}/") and bool(e.get("rep_id")) is personal)
