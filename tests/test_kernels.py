"""Kernels forked from a warm parent: a report's kernel is a child of it, and a lost parent costs
only speed."""

from __future__ import annotations

import os

import nbformat
import papermill
import psutil
import pytest

from revbook.run import kernels


def _notebook(path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import os\nprint(os.getppid(), 6 * 7)")]
    nb.metadata["kernelspec"] = {"name": "revbook", "display_name": "Python (revbook)", "language": "python"}
    nbformat.write(nb, path)
    return path


def _run(path, tmp_path) -> tuple[int, int]:
    out = papermill.execute_notebook(str(path), str(tmp_path / "out.ipynb"), progress_bar=False,
                                     kernel_manager_class=kernels.ForkedKernelManager)
    parent, answer = out.cells[0].outputs[0]["text"].split()
    return int(parent), int(answer)


@pytest.fixture()
def parent(monkeypatch):
    process = kernels.KernelParent()
    monkeypatch.setattr(kernels.ForkedKernelManager, "parent_process", process)
    monkeypatch.setattr(kernels.ForkedKernelManager, "peaks", [])
    yield process
    process.close()


def test_a_reports_kernel_is_forked_from_the_warm_parent(parent, tmp_path):
    ppid, answer = _run(_notebook(tmp_path / "nb.ipynb"), tmp_path)
    assert answer == 42 and ppid == parent.process.pid
    # the parent imported pandas and statsmodels before forking: the kernel starts with them loaded
    assert kernels.ForkedKernelManager.peaks and kernels.ForkedKernelManager.peaks[0] > 100 * 2**20


def test_a_lost_parent_falls_back_to_starting_kernels_the_usual_way(parent, tmp_path):
    parent.process.kill()
    parent.process.wait()
    ppid, answer = _run(_notebook(tmp_path / "nb.ipynb"), tmp_path)
    assert answer == 42 and ppid == os.getpid()  # spawned by jupyter_client in this process
    assert kernels.ForkedKernelManager.parent_process is None
    assert not [c for c in psutil.Process().children(recursive=True) if "ipykernel" in " ".join(c.cmdline())]
