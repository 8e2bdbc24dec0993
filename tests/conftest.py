"""Shared fixtures: a small demo warehouse and a monthly run rendered from it, built once.

The suite is pinned in time: "today" (REVBOOK_TODAY, which every default period derives from) and
the demo's last month are fixed, so it sees the same data on every day of the year. The
planted-truth matrix (`make planted`) moves them with REVBOOK_TEST_TODAY and REVBOOK_TEST_SEED.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from revbook import clock, periods

ROOT = Path(__file__).resolve().parents[1]
TEST_SCALE = 0.05
#: The suite's "today", a mid-month Wednesday; set for the kernels and workers every run starts too.
TEST_TODAY = dt.date.fromisoformat(os.environ.get("REVBOOK_TEST_TODAY") or "2026-11-18")
os.environ[clock.TODAY_ENV] = TEST_TODAY.isoformat()
#: revbook's records of loads (paths.state_dir) go to a folder of the suite's own, never the checkout's.
os.environ["REVBOOK_STATE"] = tempfile.mkdtemp(prefix="revbook-test-state-")
#: The demos end at the last complete month, so notebooks run as-is on their default period.
TEST_END = periods.last_complete("month", TEST_TODAY).label
#: Seeds of the scale-0.05 demo most tests read and of the scale-1 demo planted truths are measured on.
SMALL_SEED, FULL_SEED = (int(os.environ["REVBOOK_TEST_SEED"]),) * 2 if os.environ.get("REVBOOK_TEST_SEED") else (7, 42)


@pytest.fixture(scope="session")
def demo_frames() -> dict[str, pd.DataFrame]:
    from revbook import demo

    return demo.generate(scale=TEST_SCALE, seed=SMALL_SEED, end_month=TEST_END)


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory: pytest.TempPathFactory, demo_frames) -> Path:
    """A scale-0.05 demo warehouse file, ending with the last complete month."""
    from revbook.data import load

    path = tmp_path_factory.mktemp("wh") / "demo.duckdb"
    load.build_warehouse(demo_frames, path, {"source": "demo", "seed": str(SMALL_SEED), "scale": str(TEST_SCALE)})
    return path


@pytest.fixture()
def use_warehouse(monkeypatch: pytest.MonkeyPatch, demo_warehouse: Path) -> Path:
    monkeypatch.setenv("REVBOOK_WAREHOUSE", str(demo_warehouse))
    return demo_warehouse


def make_db(path: Path, tables: dict[str, pd.DataFrame]) -> Path:
    """A DuckDB file holding just `tables` (for mart tests on hand-made fixtures)."""
    con = duckdb.connect(str(path))
    for name, frame in tables.items():
        con.register("frame", frame)
        con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM frame')
        con.unregister("frame")
    con.close()
    return path


@pytest.fixture(autouse=True)
def _no_user_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never touch the user's warehouse or outputs by accident."""
    for var in ("REVBOOK_WAREHOUSE", "REVBOOK_OUTPUTS", "REVBOOK_ROOT"):
        if var in os.environ:
            monkeypatch.delenv(var)


@pytest.fixture(scope="session")
def monthly_run(tmp_path_factory: pytest.TempPathFactory, demo_warehouse: Path):
    """`revbook run monthly` (default period) on the demo warehouse, into a temp outputs folder."""
    from revbook.run import runner

    outputs = tmp_path_factory.mktemp("outputs")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REVBOOK_WAREHOUSE", str(demo_warehouse))
        mp.setenv("REVBOOK_OUTPUTS", str(outputs))
        code = runner.run("monthly")
    return code, outputs / TEST_END


@pytest.fixture(scope="session")
def scale1_frames() -> dict[str, pd.DataFrame]:
    """The full-size demo company (scale 1): planted effects are measured at this size."""
    from revbook import demo

    return demo.generate(scale=1.0, seed=FULL_SEED, end_month=TEST_END)


@pytest.fixture(scope="session")
def scale1_warehouse(tmp_path_factory: pytest.TempPathFactory, scale1_frames) -> Path:
    from revbook.data import load

    path = tmp_path_factory.mktemp("scale1") / "demo.duckdb"
    load.build_warehouse(scale1_frames, path, {"source": "demo", "seed": str(FULL_SEED), "scale": "1"})
    return path


@pytest.fixture(scope="session")
def scale3_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo company three times the full size: the planted effects measured on a year of deals or
    a 3-month hold-out of churns (about 85) need this many to be told from chance with margin."""
    from revbook import demo
    from revbook.data import load

    path = tmp_path_factory.mktemp("scale3") / "demo.duckdb"
    load.build_warehouse(demo.generate(scale=3.0, seed=FULL_SEED, end_month=TEST_END), path,
                         {"source": "demo", "seed": str(FULL_SEED), "scale": "3"})
    return path


@pytest.fixture
def webhook():
    """A stand-in Slack webhook on 127.0.0.1 (see webhook.py)."""
    from webhook import serve

    with serve() as hook:
        yield hook
