"""The demo company built step by step: `_Demo` joins the parts (mixins sharing `State`, one per
area) and runs their steps in dependency order on one random generator, so the same arguments draw
the same numbers in the same order.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from revbook import contract, periods
from revbook.demo.common import _Calendar
from revbook.demo.customers import Customers
from revbook.demo.lake import _frame
from revbook.demo.marketing import Marketing
from revbook.demo.people import People
from revbook.demo.sales import Sales
from revbook.demo.targets import Targets

LATER_READ = ("opportunities", "ad_spend_daily")  # tables later steps read back


class _Demo(People, Marketing, Sales, Customers, Targets):
    """Builds the tables step by step; attributes carry the latent state between steps."""

    def __init__(self, scale: float, seed: int, end_month: str | None, folder: Path | None = None) -> None:
        if not scale > 0:
            raise ValueError(f"scale must be positive, got {scale}")
        self.scale = scale
        self.folder = folder
        self.files = {}
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.cal = _Calendar(end_month or periods.last_complete("month").label)
        self.tables = {}
        self.activities = []
        self.activity_files = []

    def build(self) -> dict[str, pd.DataFrame | Path]:
        """Run every step in dependency order; one DataFrame (or file) per contract table."""
        for step in (self._reps, self._marketing, self._funnel, self._opportunities, self._accounts,
                     self._traits, self._customers, self._usage, self._tickets, self._lead_activities,
                     self._customer_success, self._touchpoints, self._reps_table, self._targets):
            step()
            self._spill(keep=LATER_READ)
        self._activities_table()
        self._spill(keep=())
        return {t.name: self.files.get(t.name) or _frame(t, self.tables[t.name]) for t in contract.TABLES}
