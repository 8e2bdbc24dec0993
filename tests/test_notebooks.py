"""Notebook hygiene: thin, typed parameters cell, no committed outputs, the project's kernel."""

from pathlib import Path

import nbformat
import papermill
import pytest
from jupyter_client.kernelspec import find_kernel_specs

from conftest import ROOT

#: The repo's notebooks, not the copies JupyterLab keeps in .ipynb_checkpoints/ beside them.
NOTEBOOKS = sorted(p for p in (ROOT / "notebooks").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def test_there_are_notebooks_and_the_kernel_is_installed():
    assert NOTEBOOKS
    assert "revbook" in find_kernel_specs()  # `make setup` installs it; `make lab` offers it


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT / "notebooks")))
def test_notebook_is_clean_and_parameterised(path: Path):
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata["kernelspec"]["name"] == "revbook"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), "commit without outputs"
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and tagged[0] is code[0], "one parameters cell, first code cell"
    declared = papermill.inspect_notebook(str(path))
    assert "period" in declared
    for name, info in declared.items():
        assert info["inferred_type_name"] != "None", f"{name} has no type annotation"
        assert info["help"], f"{name} has no comment saying what it is"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT / "notebooks")))
def test_notebook_runs_as_is_on_its_defaults(path: Path, use_warehouse, tmp_path):
    """What an analyst gets in `make lab`: run all cells without touching a parameter."""
    nb = papermill.execute_notebook(str(path), str(tmp_path / path.name), cwd=str(path.parent),
                                    progress_bar=False)
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
