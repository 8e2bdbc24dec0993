"""The rep roster (the reps lake table): who is on which team and still active."""

from __future__ import annotations

import pandas as pd

from revbook.data.warehouse import Warehouse


def active(wh: Warehouse, team: str) -> pd.DataFrame:
    """Active reps of `team` (rep_id, name), by rep_id."""
    reps = wh.mart("reps")
    keep = (reps["team"] == team) & reps["active"]
    return reps.loc[keep, ["rep_id", "name"]].reset_index(drop=True)
