"""Executed notebook → stakeholder HTML (code hidden, one self-contained file) and its metrics."""

from __future__ import annotations

import os
import tempfile
from functools import cache
from importlib import resources
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter

from revbook.report import METRICS_MIME


@cache
def _exporter() -> HTMLExporter:
    templates = resources.files("revbook") / "templates"
    return HTMLExporter(
        template_name="revbook",
        extra_template_basedirs=[str(templates)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )


def html(nb: nbformat.NotebookNode, banner: dict[str, str]) -> str:
    """The report page for an executed notebook; `banner` fills the header (title, period, …)."""
    body, _ = _exporter().from_notebook_node(
        nb, resources={"metadata": {"name": banner.get("title", "report")}, "revbook": banner}
    )
    return body


def metrics(nb: nbformat.NotebookNode) -> dict:
    """The headline numbers the notebook displayed (revbook.report.headlines), merged in order."""
    found: dict = {}
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if METRICS_MIME in data:
                found.update(data[METRICS_MIME])
    return found


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` via a temp file + rename, so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
