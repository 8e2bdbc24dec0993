"""Field sales: proposals, wins, pipeline and forecast, stage flow, and idle deals for inside sales.

Every frame comes from a mart run in the warehouse with one row per owner (or owner × stage, …),
so the same code makes the team report (all owners), a personal one (one owner) and the team
median a rep is compared with. The ratios come from metrics.py.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property

import pandas as pd

from revbook import metrics
from revbook.data.warehouse import Warehouse
from revbook.departments.headlines import Headline, HeadlineSpec, compare
from revbook.periods import Period
from revbook.settings import Company

#: The funnel a deal moves through, in order (keep_interest and closed_lost are exits).
STAGES = ("qualification", "proposal", "negotiation", "closed_won")
OPEN_STAGES = ("qualification", "proposal", "negotiation", "keep_interest")
#: The win-rate breakdowns by segment (fs_closed dimensions; `History.win_rates` names its first column by
#: the dimension). Inbound vs outbound, the fourth, has a table of its own (`History.by_direction`).
SEGMENTS = ("size_band", "industry", "lead_source")
SIZE_BANDS = ("1-30", "31-100", "101-300", "301-999", "1000+")
#: Months of history behind stage close rates, the forecast and the breakdowns.
HISTORY_MONTHS = 12
HEADLINES: tuple[HeadlineSpec, ...] = (
    ("proposals", "Proposals (accounts, last 30 days)", "count", True),
    ("won_deals", "New contracts", "count", True),
    ("new_mrr", "New contract MRR", "money", True),
    ("win_rate", "Win rate (won ÷ closed)", "pct", True),
    ("average_deal_size", "Average contract value (MRR)", "money", True),
    ("median_lead_time", "Median lead time", "days", False),
    ("weighted_pipeline", "Weighted pipeline (MRR)", "money", True),
    ("idle_deals", "Idle deals to return", "count", False),
)
#: The row label of the team's headline numbers.
TEAM = "(team)"
#: A change is told as a percentage only against a count of at least this many: against a team median
#: of 0.5 contracts one contract would be "+100%".
MIN_COUNT_TO_COMPARE = 3
#: The count behind each headline that is a count or a sum of deals; rates, averages, medians and the
#: weighted pipeline (hundreds of open deals) are compared as they are.
COUNTED_BY = {"proposals": "proposals", "won_deals": "won_deals", "new_mrr": "won_deals", "idle_deals": "idle_deals"}


def _owned(frame: pd.DataFrame, rep_id: str | None) -> pd.DataFrame:
    """The rows of one owner (all rows for the team)."""
    return frame if rep_id is None else frame[frame["owner_rep_id"] == rep_id]


def percent_comparable(reference: dict[str, float | None]) -> set[str]:
    """The headline keys whose change against `reference` (the previous month's numbers, the plan or
    the team median) means something as a percentage: a rate, an average or a median always; a count
    or a sum of deals when the reference's count behind it is at least MIN_COUNT_TO_COMPARE. Others
    are compared as a difference."""
    def enough(key: str) -> bool:
        count = reference.get(COUNTED_BY[key])
        return count is not None and not pd.isna(count) and count >= MIN_COUNT_TO_COMPARE
    return {key for key, *_ in HEADLINES if key not in COUNTED_BY or enough(key)}


def _months_before(end: dt.date, months: int) -> dt.date:
    return (pd.Timestamp(end) - pd.DateOffset(months=months)).date()


def idle_deals(wh: Warehouse, period: Period, company: Company, owners: list[str]) -> pd.DataFrame:
    """Deals of `owners` open at the period end with nothing done on them for company.idle_deal_days
    days: returned to inside sales. keep_interest deals are returned too when idle."""
    f = wh.mart("fs_idle_deals", asof=period.end, cutoff=metrics.idle_cutoff(period.end, company.idle_deal_days),
                owners=list(owners))
    f["days_idle"] = (pd.Timestamp(period.end) - pd.to_datetime(f["last_touch_at"])).dt.days
    return f


#: The columns of the idle deals shown on the page (the CSV has them all, with the lead and IS rep ids).
IDLE_SHOWN = ["opportunity_id", "account_name", "owner_name", "stage", "amount", "last_touch_at", "days_idle",
              "inside_sales_rep_name"]
#: The columns of the idle-deals list for inside sales (the CSV beside the page).
IDLE_COLUMNS = ["opportunity_id", "account_name", "owner_rep_id", "owner_name", "stage", "amount", "last_touch_at",
                "days_idle", "lead_id", "inside_sales_rep_id", "inside_sales_rep_name"]


def idle_list(idle: pd.DataFrame) -> pd.DataFrame:
    """The idle deals as inside sales gets them: longest idle first, then by deal id."""
    return idle.sort_values(["days_idle", "opportunity_id"], ascending=[False, True])[IDLE_COLUMNS]


def open_deals(wh: Warehouse, period: Period, owners: list[str]) -> pd.DataFrame:
    """Every deal of `owners` open at the period end, largest MRR first: account, owner, stage, MRR,
    when it entered the stage, its last touch and the days since. (The data contract holds no expected
    close date, so the stage's start stands in for how far along a deal is.)"""
    f = wh.mart("fs_idle_deals", asof=period.end, cutoff=dt.datetime.combine(period.end, dt.time()),
                owners=list(owners))
    f["days_since_touch"] = (pd.Timestamp(period.end) - pd.to_datetime(f["last_touch_at"])).dt.days
    f = f.sort_values(["amount", "opportunity_id"], ascending=[False, True]).reset_index(drop=True)
    return f[["opportunity_id", "account_name", "owner_name", "stage", "amount", "stage_since", "last_touch_at",
              "days_since_touch"]]


@dataclass(frozen=True)
class Snapshot:
    """A month's field-sales rows for every owner: proposals (rolling 30 days), deals closed, lead
    times of the deals won, the open pipeline at the 14 month starts up to the period end (for close
    rates, the forecast and its check) and the idle deals."""

    period: Period
    proposals: pd.DataFrame
    closed: pd.DataFrame
    lead_time: pd.DataFrame
    pipeline: pd.DataFrame
    idle: pd.DataFrame
    unknown: frozenset[str] = frozenset()  # headline keys whose tables were not loaded: n/a, not 0

    @cached_property
    def _at(self) -> pd.Series:
        """pipeline["at"] as timestamps."""
        return pd.to_datetime(self.pipeline["at"])

    @cached_property
    def _rates(self) -> dict[dt.date, pd.DataFrame]:
        """rates() by `before`, each computed once and shared (read-only)."""
        return {}

    def rates(self, before: dt.date) -> pd.DataFrame:
        """Per open stage, from the team's deals in it at the HISTORY_MONTHS month starts before
        `before`: close rate (P(won) among those closed since) and the share of MRR won within a month."""
        if before not in self._rates:
            at = self._at
            hist = self.pipeline[(at >= pd.Timestamp(_months_before(before, HISTORY_MONTHS)))
                                 & (at < pd.Timestamp(before))]
            g = hist.groupby("stage")[["mrr", "won_next_mrr", "won", "lost"]].sum().reindex(OPEN_STAGES, fill_value=0)
            self._rates[before] = pd.DataFrame({"close_rate": metrics.stage_close_rate(g["won"], g["lost"]),
                                                "month_rate": metrics.ratio(g["won_next_mrr"], g["mrr"])})
        return self._rates[before]

    def open_pipeline(self, at: dt.date | None = None, rep_id: str | None = None) -> pd.DataFrame:
        """Open deals by stage just before `at` (default the period end): deals, MRR, the stage's close
        rate and the weighted MRR, and the MRR expected to be won within the month after."""
        at = at or self.period.end
        rows = _owned(self.pipeline[self._at == pd.Timestamp(at)], rep_id)
        now = rows.groupby("stage")[["deals", "mrr", "won_next_mrr"]].sum().reindex(OPEN_STAGES, fill_value=0)
        now = now.join(self.rates(at))
        now["weighted_mrr"] = now["mrr"] * now["close_rate"].fillna(0.0)
        now["forecast_mrr"] = now["mrr"] * now["month_rate"].fillna(0.0)
        return now.rename_axis("stage").reset_index()

    def _headline_table(self, owners: list[str] | None) -> pd.DataFrame:
        """The headline numbers (NaN where undefined) per owner in `owners`, zero counts for an owner
        without rows; or of the team (None: one row, index TEAM)."""
        def owned(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
            """The rows of `frame` that count, and the owner (or TEAM) each counts for."""
            if owners is None:
                return frame, pd.Series(TEAM, index=frame.index)
            frame = frame[frame["owner_rep_id"].isin(owners)]
            return frame, frame["owner_rep_id"]

        def sums(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
            rows, owner = owned(frame)
            return rows.groupby(owner)[columns].sum()

        team_row = self.proposals["owner_rep_id"].isna()
        close_rate = self.rates(self.period.end)["close_rate"]
        idle, idle_owner = owned(self.idle)
        pipe, owner = owned(self.pipeline[self._at == pd.Timestamp(self.period.end)])
        open_mrr = (pipe.groupby([owner, pipe["stage"]])["mrr"].sum().unstack(fill_value=0.0)
                    .reindex(columns=close_rate.index, fill_value=0.0))
        f = pd.concat([
            sums(self.proposals[team_row] if owners is None else self.proposals, ["proposals"]),
            sums(self.closed[self.closed["dimension"] == "all"], ["won", "closed", "won_mrr"]),
            pd.Series({o: metrics.weighted_pipeline(mrr, close_rate) for o, mrr in open_mrr.iterrows()},
                      name="weighted_pipeline", dtype="float64"),
            idle.groupby(idle_owner).size().rename("idle_deals"),
        ], axis=1).reindex([TEAM] if owners is None else owners).fillna(0.0).astype("float64")
        f = f.rename(columns={"won": "won_deals", "won_mrr": "new_mrr"})
        f[sorted(self.unknown)] = float("nan")
        f["win_rate"] = metrics.win_rate(f["won_deals"], f["closed"])
        f["average_deal_size"] = metrics.ratio(f["new_mrr"], f["won_deals"])
        lead, owner = owned(self.lead_time)
        f["median_lead_time"] = pd.Series({o: metrics.weighted_median(g["days"], g["won"])
                                           for o, g in lead.groupby(owner)}, dtype="float64")
        return f[[key for key, *_ in HEADLINES]]

    def values(self, rep_id: str | None = None) -> dict[str, float | None]:
        """The headline numbers of one rep (None: the team)."""
        row = self._headline_table(None if rep_id is None else [rep_id]).iloc[0]
        return {k: None if pd.isna(v) else float(v) for k, v in row.items()}

    def by_rep(self, reps: pd.DataFrame, company: Company) -> pd.DataFrame:
        """Headline numbers per rep in `reps` (rep_id, name), with open and keep_interest deals
        against the per-rep cap (`over_cap` flags reps above it)."""
        pipe = self.pipeline[self._at == pd.Timestamp(self.period.end)]
        open_deals = pipe.groupby("owner_rep_id")["deals"].sum()
        keep = pipe[pipe["stage"] == "keep_interest"].groupby("owner_rep_id")["deals"].sum()
        rows = reps[["rep_id", "name"]].join(self._headline_table(list(reps["rep_id"])), on="rep_id")
        rows = rows.reset_index(drop=True)
        rows["open_deals"] = rows["rep_id"].map(open_deals).fillna(0)
        rows["keep_interest"] = rows["rep_id"].map(keep).fillna(0)
        rows["keep_interest_cap"] = float(company.keep_interest_cap)
        rows["over_cap"] = rows["keep_interest"] > rows["keep_interest_cap"]
        return rows


#: The per-rep views of `Snapshot.by_rep`: the month's results, and deals held against the cap.
RESULT_COLUMNS = ["rep_id", "name", "proposals", "won_deals", "new_mrr", "win_rate", "average_deal_size",
                  "median_lead_time", "weighted_pipeline"]
CAP_COLUMNS = ["rep_id", "name", "open_deals", "keep_interest", "keep_interest_cap", "over_cap", "idle_deals"]


def caps(by_rep: pd.DataFrame, rep_id: str | None = None) -> pd.DataFrame:
    """Open, keep_interest and idle deals against the keep_interest cap, per rep (one rep's row)."""
    return (by_rep if rep_id is None else by_rep[by_rep["rep_id"] == rep_id])[CAP_COLUMNS]


#: Headlines that are unknown (n/a, not 0) unless one of these tables holds data: "nothing done on a
#: deal" is told by its activities; a proposal by an activity or a proposal stage entry.
UNKNOWN_WITHOUT = {"idle_deals": ("activities",), "proposals": ("activities", "opportunity_stage_history"),
                   "weighted_pipeline": ("opportunity_stage_history",)}  # the open pipeline is told by stage history


def snapshot(wh: Warehouse, period: Period, company: Company, owners: list[str]) -> Snapshot:
    """The month's rows: everything per owner; the idle list for the owners in `owners`."""
    start, end = metrics.proposal_window(period.end)
    ats = [dt.datetime.combine(m.start, dt.time()) for m in period.shift(1).trailing(HISTORY_MONTHS + 2)]
    return Snapshot(
        period,
        wh.mart("fs_proposals", start=start, end=end),
        wh.mart("fs_closed", start=period.start, end=period.end),
        wh.mart("fs_lead_time", start=period.start, end=period.end),
        wh.mart("fs_pipeline", at=ats, asof=period.end),
        idle_deals(wh, period, company, owners),
        frozenset(key for key, needs in UNKNOWN_WITHOUT.items() if not any(wh.has(t) for t in needs)),
    )


def headlines(now: dict, before: dict, reference: dict) -> list[Headline]:
    """Headlines against the previous month and a reference (the plan, or the team median)."""
    return compare(HEADLINES, now, before, reference)


def team_median(by_rep: pd.DataFrame) -> dict[str, float | None]:
    """Each headline number's median over the reps in `by_rep` (what a personal report compares with)."""
    return {key: (None if pd.isna(v := by_rep[key].astype("float64").median()) else float(v))
            for key, *_ in HEADLINES}


# ---------------------------------------------------------------- history (trailing months)


@dataclass(frozen=True)
class History:
    """Deals closed and won over the HISTORY_MONTHS months to the period end, and the stage flow of
    the deals created then, per owner."""

    closed: pd.DataFrame
    lead_time: pd.DataFrame
    flow: pd.DataFrame

    def win_rates(self, dimension: str, rep_id: str | None = None) -> pd.DataFrame:
        """Closed, won, win rate and average contract value per value of an fs_closed dimension (the
        first column, named by it: size_band, industry, lead_source, direction): size bands in order,
        other values most closed first."""
        f = _owned(self.closed[self.closed["dimension"] == dimension], rep_id)
        g = f.groupby("value")[["closed", "won", "won_mrr"]].sum()
        if dimension == "size_band":
            g = g.reindex([b for b in SIZE_BANDS if b in g.index])
        else:
            g = g.assign(_key=g.index).sort_values(["closed", "_key"], ascending=[False, True]).drop(columns="_key")
        g["win_rate"] = metrics.win_rate(g["won"], g["closed"])
        g["average_deal_size"] = metrics.ratio(g["won_mrr"], g["won"])
        return g.drop(columns="won_mrr").rename_axis(dimension).reset_index()

    def lead_times(self, rep_id: str | None = None) -> pd.DataFrame:
        """Deals won (`won`) per direction and lead time in days (a histogram's rows)."""
        return _owned(self.lead_time, rep_id)[["direction", "days", "won"]].reset_index(drop=True)

    def by_direction(self, rep_id: str | None = None) -> pd.DataFrame:
        """Inbound vs outbound: win rate, average contract value and median lead time."""
        rates = self.win_rates("direction", rep_id).set_index("direction").sort_index()
        lead = self.lead_times(rep_id)
        rates["median_lead_time"] = pd.Series({d: metrics.weighted_median(g["days"], g["won"])
                                               for d, g in lead.groupby("direction")}, dtype="float64")
        return rates.reset_index()

    def stage_flow(self, rep_id: str | None = None) -> pd.DataFrame:
        """Per funnel stage: deals that entered it in any order and strictly in order, the
        stage-to-stage conversion of each, and the median and mean days spent in the stage."""
        f = _owned(self.flow, rep_id)
        rows = []
        for stage in STAGES:
            s = f[f["stage"] == stage]
            timed = s.dropna(subset=["days"])
            rows.append({"stage": stage, "entered_any": float(s["deals"].sum()),
                         "entered_strict": float(s.loc[s["strict"], "deals"].sum()),
                         "median_days": metrics.weighted_median(timed["days"], timed["deals"]),
                         "mean_days": metrics.ratio(float((timed["days"] * timed["deals"]).sum()),
                                                    float(timed["deals"].sum()))})
        out = pd.DataFrame(rows)
        out.insert(2, "conversion_any", metrics.step_conversion(out["entered_any"]))
        out["conversion_strict"] = metrics.step_conversion(out["entered_strict"])
        return out


def history(wh: Warehouse, period: Period) -> History:
    """The HISTORY_MONTHS months to the period end."""
    start = _months_before(period.end, HISTORY_MONTHS)
    return History(wh.mart("fs_closed", start=start, end=period.end),
                   wh.mart("fs_lead_time", start=start, end=period.end),
                   wh.mart("fs_stage_flow", start=start, end=period.end))


def quarter_win_rates(wh: Warehouse, period: Period, rep_id: str | None = None) -> tuple[float | None, float | None]:
    """The win rate (won ÷ closed) of the three months to the period end, and of the three before."""
    def rate(start: dt.date, end: dt.date) -> float | None:
        f = _owned(wh.mart("fs_closed", start=start, end=end), rep_id)
        f = f[f["dimension"] == "all"]
        return metrics.win_rate(float(f["won"].sum()), float(f["closed"].sum()))
    three, six = _months_before(period.end, 3), _months_before(period.end, 6)
    return rate(three, period.end), rate(six, three)
