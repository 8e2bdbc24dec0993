"""Index pages: outputs/<period>/index.html (that period's reports) and outputs/index.html.

Built from each period's manifest.json, so a failed report shows as failed, with its error,
next to a link to the last good page when there is one, and a skipped one says which data it needs.
"""

from __future__ import annotations

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

from revbook.files import write_atomic
from revbook.pages import fonts

MANIFEST = "manifest.json"
#: Departments in the order of The Model, as a revenue team reads them (others follow, by name).
MODEL_ORDER = ("sales_ops", "marketing", "inside_sales", "field_sales", "customer_success")
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


@cache
def _template() -> jinja2.Template:
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    return env.from_string((resources.files("revbook.pages") / "templates" / "index.html.j2").read_text("utf-8"))


def _href(path: str | None) -> str | None:
    """A link to a file of the period, URL-encoded ('#' or '?' in a name must not cut the link)."""
    return quote(path) if path else None


def _period_rows(manifest: dict) -> list[tuple[str, list[dict]]]:
    groups: dict[str, list[dict]] = defaultdict(list)
    for key, entry in sorted(manifest.get("reports", {}).items()):
        department, name = key.split("/", 1)
        ok, status = entry["status"] == "ok", entry["status"]
        if ok:
            detail = f"rendered {entry['finished_at']} in {entry['duration_s']:.1f}s"
        elif status in ("skipped", "retired"):
            detail = entry.get("error") or "skipped"
        else:
            detail = entry.get("error") or "failed"
            if entry.get("html"):
                detail += f" — showing the last good report ({entry.get('last_good_at')})"
        report = name.partition("--")[0]
        rep = entry.get("rep_id")  # the id as in the data; the file name is its safe form
        label = report.replace("_", " ").capitalize() + (f" — {rep}" if rep else "")
        groups[department].append({
            "label": label, "href": _href(entry.get("html")),
            "status": status if status in SETTLED else "failed",
            "status_class": status if status in SETTLED else "failed", "detail": detail,
            "files": [(f.rsplit("/", 1)[-1], _href(f)) for f in entry.get("files") or []],
        })
    return sorted(groups.items(), key=lambda g: (MODEL_ORDER.index(g[0]) if g[0] in MODEL_ORDER else len(MODEL_ORDER),
                                                 g[0]))


def build_period(folder: Path) -> dict:
    """Write <folder>/index.html from its manifest; return the manifest."""
    manifest = read_manifest(folder) or {"reports": {}, "period": folder.name}
    run = manifest.get("last_run", {})
    meta = (f"{manifest.get('schedule', '')} run finished {run.get('finished_at', '?')} · "
            f"data {run.get('data_fingerprint', '?')} · code {run.get('code_version', '?')}")
    page = _template().render(
        title=f"revbook reports — {manifest['period']}", up="../index.html", meta=meta,
        headers=["Report", "Status", "Details"], groups=_period_rows(manifest),
    )
    write_atomic(folder / "index.html", fonts.embed(page))
    return manifest


def build(outputs: Path) -> None:
    """Rebuild every period's index and the top index, newest period first."""
    rows: list[dict] = []
    for folder in sorted((p for p in outputs.iterdir() if (p / MANIFEST).is_file()), reverse=True):
        manifest = build_period(folder)
        reports = [r for r in manifest.get("reports", {}).values() if r.get("status") != "retired"]
        failed = sum(r["status"] not in SETTLED for r in reports)
        rows.append({
            "label": folder.name, "href": f"{folder.name}/index.html",
            "status": "ok" if not failed else f"{failed} failed",
            "status_class": "ok" if not failed else "failed",
            "detail": f"{len(reports)} report(s), {manifest.get('schedule', '')}", "files": [],
        })
    page = _template().render(title="revbook reports", up=None, meta=None,
                              headers=["Period", "Status", "Reports"],
                              groups=[("periods", rows)] if rows else [])
    write_atomic(outputs / "index.html", fonts.embed(page))
