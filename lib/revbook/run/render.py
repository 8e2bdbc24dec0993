"""Executed notebook → stakeholder HTML (code hidden, one self-contained file) and its metrics."""

from __future__ import annotations

import copy
import html as html_text
from functools import cache
from importlib import resources
from typing import Any

import nbformat
from nbconvert import HTMLExporter

from revbook.pages import fonts
from revbook.pages.report import ATTACHMENT_MIME, METRICS_MIME


@cache
def _exporter() -> HTMLExporter:
    templates = resources.files("revbook.pages") / "templates"
    return HTMLExporter(
        template_name="revbook",
        extra_template_basedirs=[str(templates)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )


def html(nb: nbformat.NotebookNode, banner: dict[str, Any], files: dict[str, str] | None = None) -> str:
    """The report page for an executed notebook; `banner` fills the header (title, period, links to
    the period index, team page and siblings) and the footer (render details), and
    each attachment (revbook.pages.report.attachment) becomes a link to its file name in `files`."""
    nb = copy.deepcopy(nb)
    for output in _outputs(nb, ATTACHMENT_MIME):
        a = output["data"][ATTACHMENT_MIME]
        href = html_text.escape((files or {}).get(a["name"], ""))
        output["data"] = {"text/html": f'<p class="rb-attachment">{html_text.escape(a["description"])}: '
                                       f'<a href="{href}" download>{href}</a> ({a["rows"]:,} rows, CSV)</p>'}
    body, _ = _exporter().from_notebook_node(
        nb, resources={"metadata": {"name": banner.get("title", "report")}, "revbook": banner}
    )
    return fonts.embed(body)


def _outputs(nb: nbformat.NotebookNode, mime: str) -> list[dict]:
    return [o for cell in nb.cells for o in cell.get("outputs", []) if mime in o.get("data", {})]


def metrics(nb: nbformat.NotebookNode) -> dict:
    """The headline numbers the notebook displayed (revbook.pages.report.headlines), merged in order."""
    found: dict = {}
    for output in _outputs(nb, METRICS_MIME):
        found.update(output["data"][METRICS_MIME])
    return found


def attachments(nb: nbformat.NotebookNode) -> dict[str, str]:
    """The tables the notebook offered as files (revbook.pages.report.attachment): name → CSV text."""
    found = (o["data"][ATTACHMENT_MIME] for o in _outputs(nb, ATTACHMENT_MIME))
    return {a["name"]: a["csv"] for a in found}
