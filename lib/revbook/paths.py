"""Where revbook's files live: project root, params, warehouse file, outputs.

Each can be moved with an environment variable (REVBOOK_ROOT, REVBOOK_WAREHOUSE,
REVBOOK_OUTPUTS, REVBOOK_STATE) so tests and cron jobs can point at their own copies.
"""

from __future__ import annotations

import os
from pathlib import Path


def project_root() -> Path:
    """The checkout holding params/ and notebooks/ (REVBOOK_ROOT overrides)."""
    if env := os.environ.get("REVBOOK_ROOT"):
        return Path(env).resolve()
    here = Path(__file__).resolve().parents[2]  # lib/revbook/paths.py -> checkout
    if (here / "params").is_dir():
        return here
    return Path.cwd()


def params_dir() -> Path:
    return project_root() / "params"


def notebooks_dir() -> Path:
    return project_root() / "notebooks"


def outputs_dir() -> Path:
    if env := os.environ.get("REVBOOK_OUTPUTS"):
        return Path(env).resolve()
    return project_root() / "outputs"


def warehouse_path() -> Path:
    """The embedded DuckDB warehouse file (git-ignored)."""
    if env := os.environ.get("REVBOOK_WAREHOUSE"):
        return Path(env).resolve()
    return project_root() / "data" / "revbook.duckdb"


def state_dir() -> Path:
    """revbook's own records about this checkout, kept apart from data/ and outputs/ so that losing
    either is noticed (git-ignored .revbook/; REVBOOK_STATE overrides)."""
    if env := os.environ.get("REVBOOK_STATE"):
        return Path(env).resolve()
    return project_root() / ".revbook"
