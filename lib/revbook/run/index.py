"""Index pages: outputs/<period>/index.html (that period's reports) and outputs/index.html.

Built from each period's manifest.json. Both open with each department's headline numbers (from
<report>.metrics.json, formatted and coloured as the reports do), in the order of The Model. A failed
report shows as failed, with its error, next to a link to the last good page when there is one, and a
skipped one says which data it needs; neither lends the headlines a number. Render details (times,
data fingerprint, code version) sit in a footer. Beside them, outputs/definitions.html says what every
headline number means (revbook.pages.definitions); each headline label and report footer links to it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import logging
import os
from collections import defaultdict
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2

from revbook import periods
from revbook.departments.headlines import Headline
from revbook.files import write_atomic
from revbook.pages import definitions, fonts, report

MANIFEST = "manifest.json"
#: The definitions page, once for every period: definitions belong to the code, not to a period, and
#: one address lets every page of every period link to the same anchors.
DEFINITIONS = "definitions.html"
#: Departments in the order of The Model, as a revenue team reads them (others follow, by name).
MODEL_ORDER = ("sales_ops", "marketing", "inside_sales", "field_sales", "customer_success")
#: The numbers the index pages open with: per department (in Model order) the report and its
#: headline keys (see each department's HEADLINES), three to five of them.
HEADLINES: dict[str, tuple[str, ...]] = {
    "sales_ops/revenue_overview": ("ending_mrr", "new_mrr", "nrr", "nrr_t12m", "customer_churn_rate"),
    "marketing/campaign_roi": ("spend", "leads", "cac", "roas"),
    "inside_sales/funnel": ("calls", "connect_rate_inbound", "connect_rate_outbound", "sqls", "hot_leads"),
    "field_sales/pipeline": ("won_deals", "new_mrr", "win_rate", "weighted_pipeline"),
    "customer_success/churn_drivers": ("customer_churn_rate", "grr", "grr_t12m", "nrr", "upsell_rate"),
}
#: How the index names each schedule's reports.
SCHEDULE_LABELS = {"monthly": "monthly", "weekly": "weekly flash", "daily": "daily"}
#: Statuses that need no re-run: rendered, skipped for want of data, or retired (no longer scheduled).
SETTLED = ("ok", "skipped", "retired")
_log = logging.getLogger(__name__)


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """<folder>/manifest.json, None if there is none. A corrupt one (empty, cut short, not a manifest)
    is set aside as manifest.json.corrupt with a warning, and the period starts afresh: one bad file
    must not stop every later run."""
    path = folder / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(manifest, dict) and isinstance(manifest.get("reports"), dict):
            return manifest
    except FileNotFoundError:
        return None
    except (ValueError, UnicodeDecodeError):
        pass
    aside = path.with_name(MANIFEST + ".corrupt")
    os.replace(path, aside)
    _log.warning("%s is not a readable manifest: set aside as %s; the period's index starts afresh", path, aside.name)
    return None


def schedule_label(schedule: str) -> str:
    """"weekly flash" for the weekly schedule, "daily", "monthly"; a schedule of one's own by its name."""
    return SCHEDULE_LABELS.get(schedule, schedule)


def model_rank(key: str) -> tuple[int, str]:
    """Sort key for a report key or department: The Model's order, then by name."""
    department = key.split("/", 1)[0]
    return MODEL_ORDER.index(department) if department in MODEL_ORDER else len(MODEL_ORDER), key


def title(entry: dict, key: str) -> str:
    """A manifest entry's report title (its notebook's first heading; older entries: the name in words)."""
    return entry.get("title") or key.split("/", 1)[1].partition("--")[0].replace("_", " ").capitalize()


def _under_department(text: str, key: str) -> str:
    """A title as listed under its department's name: "Inside sales: funnel, …" → "Funnel, …"."""
    prefix = key.split("/", 1)[0].replace("_", " ") + ":"
    rest = text[len(prefix):].strip() if text.casefold().startswith(prefix.casefold()) else text
    return rest[:1].upper() + rest[1:] if rest else text


def href(path: str | None, up: str = "") -> str | None:
    """A link to a file of the period, URL-encoded ('#' or '?' in a name must not cut the link), from
    a page `up` ("../", "2026-11/") away."""
    return up + quote(path) if path else None


def team_pages(folder: Path, planned: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The period's team (not personal) pages a report's banner links to, as (key, title) in Model
    order: those `planned` by this run and those of earlier runs still on disk."""
    manifest = read_manifest(folder) or {"reports": {}}
    pages = {k: title(e, k) for k, e in manifest["reports"].items()
             if e.get("html") and not e.get("rep_id") and e.get("status") != "retired"}
    pages.update(planned)
    return sorted(pages.items(), key=lambda page: model_rank(page[0]))


def banner_links(notebook: str, personal: bool, pages: list[tuple[str, str]]) -> dict[str, Any]:
    """A report's banner links from its page in <period>/<department>/: a personal page's team page,
    and the period's other team pages (`pages`: key, title)."""
    links = {k: (href(f"{k}.html", "../"), t) for k, t in pages}
    return {"team": links.get(notebook) if personal else None,
            "siblings": [link for k, link in links.items() if k != notebook],
            "definitions": definitions_href(notebook, "../../")}


def definitions_href(anchor: str, root: str = "") -> str:
    """A link to `anchor` (a report, or <report>.<key>) on the definitions page, from a page `root`
    ("../", "../../") below outputs/."""
    return f"{root}{DEFINITIONS}#{quote(anchor)}"


@cache
def _template(name: str = "index.html.j2") -> jinja2.Template:
    folder = resources.files("revbook.pages") / "templates"
    env = jinja2.Environment(loader=jinja2.FunctionLoader(lambda n: (folder / n).read_text("utf-8")),
                             autoescape=True, undefined=jinja2.StrictUndefined)
    return env.get_template(name)


def _saved(folder: Path, entry: dict | None, period: str) -> tuple[dict, str | None]:
    """A report's saved headline numbers, or why there are none to show (never zeros)."""
    if entry is None:
        return {}, f"no report in {period}"
    if entry["status"] != "ok":
        status = entry["status"] if entry["status"] in SETTLED else "failed"
        return {}, f"{status}: {entry.get('error') or status}"
    with contextlib.suppress(OSError, ValueError):
        if entry.get("metrics"):
            return json.loads((folder / entry["metrics"]).read_text(encoding="utf-8")), None
    return {}, "its headline numbers (metrics.json) are missing or unreadable"


def _headline_row(key: str, saved: dict, definition: str) -> dict:
    """One headline as the report shows it: value, previous, target, and the coloured changes; its label
    links to its `definition`."""
    if key in saved:
        h = Headline(**{f.name: saved[key][f.name] for f in dataclasses.fields(Headline)})
        reason = None if h.value is not None else "no value this period"
    else:
        h, reason = Headline(key, key.replace("_", " ").capitalize(), None, "count"), "not among its headline numbers"
    return {"label": h.label, "definition": definition, "reason": reason, "value": report.fmt(h.value, h.unit),
            "previous": report.fmt(h.previous, h.unit), "vs_previous": report.change(h, h.previous),
            "target": report.fmt(h.target, h.unit), "vs_target": report.change(h, h.target)}


def _headlines(folder: Path, manifest: dict, up: str, root: str, every: bool) -> list[dict]:
    """Each department's headline numbers (HEADLINES) in The Model's order, linked from a page `up`
    away from the period's folder and `root` away from outputs/; a department without a rendered report
    shows why. `every`: also the departments the period has no report of."""
    groups = []
    for notebook, keys in HEADLINES.items():
        entry = manifest.get("reports", {}).get(notebook)
        if entry is None and not every:
            continue
        saved, reason = _saved(folder, entry, manifest["period"])
        groups.append({"department": notebook.split("/", 1)[0].replace("_", " "),
                       "title": _under_department(title(entry or {}, notebook), notebook),
                       "href": None if reason else href((entry or {}).get("html"), up), "reason": reason,
                       "rows": [] if reason else [_headline_row(k, saved, definitions_href(f"{notebook}.{k}", root))
                                                  for k in keys]})
    return groups


def _report_row(key: str, entry: dict) -> dict:
    status = entry["status"] if entry["status"] in SETTLED else "failed"
    note = "" if status == "ok" else entry.get("error") or status
    if status == "failed" and entry.get("html"):
        note += f" — showing the last good report ({entry.get('last_good_at')})"
    rep_id, rep_name = entry.get("rep_id"), entry.get("rep_name")  # as in the data; the file name is its safe form
    schedule = entry.get("schedule", "")
    return {"label": rep_name or rep_id or _under_department(title(entry, key), key),
            "id": rep_id if rep_name else None, "personal": rep_id is not None, "href": href(entry.get("html")),
            "status": status,
            "tag": schedule_label(schedule) if schedule not in ("", "monthly") else None,
            "cells": [(note, "")], "files": [(f.rsplit("/", 1)[-1], href(f)) for f in entry.get("files") or []]}


def _report_sections(manifest: dict) -> list[tuple[str | None, list[dict]]]:
    """The period's reports by department in Model order; each team page followed by its personal pages
    by rep name."""
    def order(item: tuple[str, dict]) -> tuple:
        key, entry = item
        return key.partition("--")[0], entry.get("rep_id") is not None, \
            str(entry.get("rep_name") or entry.get("rep_id") or "").casefold(), key
    groups: dict[str, list[dict]] = defaultdict(list)
    for key, entry in sorted(manifest.get("reports", {}).items(), key=order):
        groups[key.split("/", 1)[0]].append(_report_row(key, entry))
    return [(department.replace("_", " "), rows) for department, rows in sorted(groups.items(),
                                                                              key=lambda g: model_rank(g[0]))]


def _run_line(manifest: dict) -> str:
    run = manifest.get("last_run", {})
    took = f" in {run['wall_s']:.1f}s" if "wall_s" in run else ""
    return (f"{schedule_label(manifest.get('schedule', ''))} run finished {run.get('finished_at', '?')}{took} · "
            f"data {run.get('data_fingerprint', '?')} · code {run.get('code_version', '?')}")


def _period(folder: Path) -> periods.Period | None:
    try:
        return periods.parse(periods.kind_of(folder.name), folder.name)
    except periods.PeriodError:
        return None


def _newest_first(folders: list[Path]) -> list[Path]:
    def when(folder: Path) -> tuple:
        p = _period(folder)
        return (p.last_day, p.start) if p else (dt.date.min,) * 2, folder.name
    return sorted(folders, key=when, reverse=True)


def _page(folder: Path, **values: Any) -> None:
    write_atomic(folder / "index.html", fonts.embed(_template().render(**values)))


def build_period(folder: Path, earlier: str | None = None, later: str | None = None) -> dict:
    """Write <folder>/index.html from its manifest, linking the periods of its kind just `earlier` and
    `later` (folder names); return the manifest."""
    manifest = read_manifest(folder) or {"reports": {}, "period": folder.name}
    reports = manifest["reports"]
    details = [[title(e, k) + (f" — {e.get('rep_name') or e['rep_id']}" if e.get("rep_id") else ""),
                e.get("finished_at") or "?", f"{e.get('duration_s') or 0:.1f}s", e.get("data_fingerprint") or "?",
                e.get("code_version") or "?"] for k, e in sorted(reports.items(), key=lambda kv: model_rank(kv[0]))]
    _page(folder, title=f"{manifest['period']} · {schedule_label(manifest.get('schedule', ''))} reports",
          up="../index.html", earlier=earlier and f"../{quote(earlier)}/index.html", earlier_label=earlier,
          later=later and f"../{quote(later)}/index.html", later_label=later, definitions=f"../{DEFINITIONS}",
          headlines=_headlines(folder, manifest, "", "../", every=False), headlines_of=manifest["period"],
          headlines_heading=f"Headline numbers, {manifest['period']}", listing="Reports",
          headers=["Report", "Status", "Notes"], groups=_report_sections(manifest), footer=_run_line(manifest),
          details_headers=["Report", "Rendered", "Took", "Data", "Code"], details=details)
    return manifest


def build(outputs: Path) -> None:
    """Rebuild every period's index (linked to the periods of its kind before and after) and the top
    index: the latest month's headline numbers, then the periods newest first."""
    folders = _newest_first([p for p in outputs.iterdir() if (p / MANIFEST).is_file()])
    by_kind: dict[str, list[Path]] = defaultdict(list)
    for folder in folders:
        by_kind[periods.kind_of(folder.name)].append(folder)
    manifests: dict[Path, dict] = {}
    for same in by_kind.values():
        for i, folder in enumerate(same):
            later, earlier = same[i - 1].name if i else None, same[i + 1].name if i + 1 < len(same) else None
            manifests[folder] = build_period(folder, earlier, later)
    rows = []
    for folder in folders:
        manifest = manifests[folder]
        reports = [r for r in manifest["reports"].values() if r.get("status") != "retired"]
        failed = sum(r["status"] not in SETTLED for r in reports)
        rows.append({"label": folder.name, "id": None, "personal": False, "href": f"{quote(folder.name)}/index.html",
                     "status": f"{failed} failed" if failed else "ok", "tag": None, "files": [],
                     "cells": [(schedule_label(manifest.get("schedule", "")), ""), (f"{len(reports)}", "num")]})
    month = next((f for f in folders if periods.kind_of(f.name) == "month"  # a month with a headline report
                  and manifests[f]["reports"].keys() & HEADLINES.keys()), None)
    _page(outputs, title="revbook reports", up=None, earlier=None, later=None, earlier_label=None, later_label=None,
          definitions=DEFINITIONS,
          headlines=_headlines(month, manifests[month], f"{quote(month.name)}/", "", every=True) if month else [],
          headlines_of=month.name if month else None,
          headlines_heading=month and f"Headline numbers, {month.name} "
                                      f"({schedule_label(manifests[month].get('schedule', ''))})",
          listing="Periods, newest first", headers=["Period", "Status", "Schedule", "Reports"],
          groups=[(None, rows)] if rows else [],
          footer=f"Newest period {folders[0].name}: {_run_line(manifests[folders[0]])}" if folders else None,
          details_headers=["Period", "Last run"], details=[[f.name, _run_line(manifests[f])] for f in folders])
    titles = {k: title(e, k) for m in manifests.values() for k, e in m["reports"].items() if not e.get("rep_id")}
    build_definitions(outputs, titles, _run_line(manifests[folders[0]]) if folders else None)


def _setting_text(value: object) -> str:
    """A company.yaml value as the definitions page shows it."""
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items()) or "(none)"
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value)) or "(none)"
    return "not set" if value is None else str(value).lower() if isinstance(value, bool) else str(value)


def build_definitions(outputs: Path, titles: dict[str, str], newest_run: str | None = None) -> None:
    """Write outputs/definitions.html: per department in The Model's order, each report's headline
    numbers (`titles`: report key → title, else the key in words) with their definitions, and the
    company.yaml settings in force that change them."""
    entries = definitions.definitions()
    used = sorted({name for d in entries for name in d.conventions})
    departments: dict[str, list[dict]] = defaultdict(list)
    for key in sorted(definitions.REPORTS, key=model_rank):
        departments[key.split("/", 1)[0]].append({
            "id": key, "title": _under_department(title({"title": titles.get(key)}, key), key),
            "entries": [{"anchor": d.anchor, "key": d.key, "label": d.label, "formula": d.formula, "note": d.note,
                         "unit": definitions.UNIT_WORDS.get(d.unit, d.unit), "period": d.period, "sql": d.sql,
                         "tests": d.tests,
                         "conventions": [(n, _setting_text(definitions.setting(n))) for n in d.conventions]}
                        for d in entries if d.report == key]})
    source = "From lib/revbook/pages/definitions.yaml and params/company.yaml"
    write_atomic(outputs / DEFINITIONS, fonts.embed(_template("definitions.html.j2").render(
        title="Definitions of the headline numbers", up="index.html", earlier=None, later=None, definitions=None,
        settings=[(n, _setting_text(definitions.setting(n))) for n in used],
        departments=[{"id": d, "name": d.replace("_", " "), "reports": r} for d, r in departments.items()],
        footer=f"{source}; newest run: {newest_run}" if newest_run else source)))
