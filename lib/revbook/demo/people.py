"""People and companies: the reps of each team (and the rep who left), and the accounts, the
customers from before the data and one company per opportunity.
"""

from __future__ import annotations

import math

import numpy as np

from revbook import contract
from revbook.demo import planted
from revbook.demo.common import DAY, INDUSTRIES, REGION_MIX, REGIONS, State, _at, _company_names, _ids, _industries

TEAM_SIZES = {"marketing": 4, "inside_sales": 12, "field_sales": 12, "customer_success": 12}
MAX_TEAM_SIZE = 98
TEAM_MINIMUM = {"marketing": 1, "inside_sales": 2, "field_sales": 3, "customer_success": 2}
TEAM_PREFIX = {"marketing": "MK", "inside_sales": "IS", "field_sales": "FS", "customer_success": "CS"}
#: A few non-Japanese names, as real teams have (realistic only: names carrying markup or quotes that
#: pages must escape belong in the tests' lakes, e.g. tests/test_browser.py, not in the demo a prospect sees).
SPECIAL_REP_NAMES = {
    "IS02": "Kim Lee", "FS02": "Dan O'Neil", "IS07": "Raj Patel", "CS05": "Emily Clark",
}
INACTIVE_REP_MONTHS = 9  # the last IS rep (when there are ≥ 4) left this many months before the end
SURNAMES = (
    "佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤", "吉田", "山田",
    "佐々木", "山口", "松本", "井上", "木村", "林", "斎藤", "清水", "山崎", "森", "池田", "橋本",
    "阿部", "石川", "山下", "中島", "石井", "小川", "前田", "岡田", "長谷川", "藤田", "後藤", "近藤",
)
GIVEN_NAMES = (
    "花子", "太郎", "翔太", "美咲", "健太", "陽菜", "大輔", "結衣", "拓也", "彩", "直樹", "愛",
    "亮", "真由美", "誠", "恵", "悠斗", "さくら", "和也", "由美", "蓮", "葵", "隆", "千尋",
    "修", "麻衣", "剛", "奈々", "浩二", "舞", "智也", "香織", "達也", "優子", "学", "里奈",
)

BASE_CUSTOMERS = 920  # paying accounts before the data starts (scale 1)


class People(State):
    """Steps `_reps` (first), `_accounts` (once the opportunities exist) and `_reps_table` (once the
    funnel has set the FS capacities)."""

    # --- reps ----------------------------------------------------------------------------------

    def _reps(self) -> None:
        """Team rosters (stable ids MK01, IS01, FS01, CS01, ...), names, FS segments, and the IS
        rep who left."""
        ids: list[str] = []
        teams: list[str] = []
        # above scale 1 teams grow with the square root of the business (reps get more productive);
        # ids stay two-digit, and FS99 is the planted former rep
        grow = self.scale if self.scale <= 1 else math.sqrt(self.scale)
        for team in contract.TEAMS:
            n = min(MAX_TEAM_SIZE, max(TEAM_MINIMUM[team], round(TEAM_SIZES[team] * grow)))
            ids += [f"{TEAM_PREFIX[team]}{i:02d}" for i in range(1, n + 1)]
            teams += [team] * n
        combos = self.rng.choice(len(SURNAMES) * len(GIVEN_NAMES), size=len(ids), replace=False)
        names = [
            SPECIAL_REP_NAMES.get(r, f"{SURNAMES[c // len(GIVEN_NAMES)]} {GIVEN_NAMES[c % len(GIVEN_NAMES)]}")
            for r, c in zip(ids, combos)
        ]
        self.rep_id = np.array(ids, dtype=object)
        self.rep_name = np.array(names, dtype=object)
        self.rep_team = np.array(teams, dtype=object)
        self.is_reps = self.rep_id[self.rep_team == "inside_sales"]
        self.fs_reps = self.rep_id[self.rep_team == "field_sales"]
        self.cs_reps = self.rep_id[self.rep_team == "customer_success"]
        self.mk_reps = self.rep_id[self.rep_team == "marketing"]
        self.fs_segment = np.array([contract.SEGMENTS[i % 3] for i in range(len(self.fs_reps))], dtype=object)
        self.is_leave = np.full(len(self.is_reps), np.datetime64("2200-01-01"), "datetime64[ns]")
        if len(self.is_reps) >= 4:
            self.is_leave[-1] = self.cal.ms[self.cal.T - INACTIVE_REP_MONTHS]

    def _reps_table(self) -> None:
        n = len(self.rep_id)
        segment = np.full(n, None, dtype=object)
        capacity = np.full(n, None, dtype=object)
        fs = np.flatnonzero(self.rep_team == "field_sales")
        segment[fs] = self.fs_segment
        capacity[fs] = self.fs_capacity
        inactive = set(self.is_reps[self.is_leave < self.cal.end])
        former = {"rep_id": planted.FORMER_FS_REP, "name": "山田 元", "team": "field_sales", "segment": "mid",
                  "monthly_sql_capacity": 7, "active": False}  # left before the window; owns nothing
        table = {
            "rep_id": self.rep_id, "name": self.rep_name, "team": self.rep_team, "segment": segment,
            "monthly_sql_capacity": capacity, "active": np.array([r not in inactive for r in self.rep_id]),
        }
        self.tables["reps"] = {k: np.append(v, np.array([former[k]], dtype=v.dtype)) for k, v in table.items()}

    # --- accounts ------------------------------------------------------------------------------

    def _accounts(self) -> None:
        """Paying accounts from before the data, then one account per opportunity."""
        cal, rng = self.cal, self.rng
        n_base = max(20, round(BASE_CUSTOMERS * self.scale))
        base_start = cal.prehistory.astype("datetime64[D]") + (
            rng.random(n_base) * (cal.ms[0] - cal.prehistory) / DAY).astype(np.int64) * DAY
        base_industry = _industries(rng, np.full(n_base, 0.5))
        lead = self.opp_lead
        self.n_base = n_base
        self.base_start = base_start
        self.base_mrr = np.maximum(np.round(70_000 * rng.lognormal(0, 0.7, n_base), -3), 10_000)
        industry = np.concatenate([base_industry, self.lead_industry[lead]])
        employees = np.concatenate([
            np.clip(np.round(np.exp(np.log(150) + rng.normal(0, 1.0, n_base))), 3, 50_000),
            np.where(self.lead_employees_known[lead], self.lead_employees[lead],
                     np.round(np.exp(np.log(100) + rng.normal(0, 0.9, len(lead))))),
        ])
        region = np.concatenate([rng.choice(len(REGIONS), n_base, p=REGION_MIX),
                                 np.where(self.lead_region_known[lead], self.lead_region[lead], 0)])
        created = np.concatenate([_at(base_start - rng.integers(14, 90, n_base) * DAY, 9 + 9 * rng.random(n_base)),
                                  self.opp_created])
        order = np.argsort(created, kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        self.n_accounts = len(order)
        self.acc_id = _ids("AC", self.n_accounts, 6)[rank]
        self.acc_target = np.isin(industry, [INDUSTRIES.index(i) for i in planted.TARGET_INDUSTRIES])
        names = np.concatenate([_company_names(rng, base_industry), self.lead_company[lead]])
        self.tables["accounts"] = {
            "account_id": self.acc_id[order], "name": names[order],
            "industry": np.asarray(INDUSTRIES, dtype=object)[industry][order],
            "employee_count": employees[order].astype(np.int64),
            "region": np.asarray(REGIONS, dtype=object)[region][order], "created_at": created[order],
        }
        opps = self.tables["opportunities"]
        opps["account_id"] = self.acc_id[n_base:]
        self.deal_acts["account_id"] = self.acc_id[n_base + self.deal_acts.pop("opp_index")]
