"""What the parts of the demo share: the window, companies (industries, regions, names), growth and
seasonality, time units, the numpy helpers, the calendar, subscription records, and `State`, the
attributes one part sets and later parts read.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from revbook.demo import planted

WINDOW_MONTHS = 24
BURN_IN_MONTHS = 6

# --- companies -------------------------------------------------------------------------------
INDUSTRIES = ("情報通信業", "製造業", "金融業", "小売業", "建設業", "医療・福祉", "不動産業", "サービス業")
INDUSTRY_MIX = {  # relative frequency within the target / non-target group
    "情報通信業": 0.45, "製造業": 0.40, "金融業": 0.15,
    "小売業": 0.22, "建設業": 0.18, "医療・福祉": 0.15, "不動産業": 0.15, "サービス業": 0.30,
}
REGIONS = ("東京", "大阪", "愛知", "福岡", "北海道", "宮城", "広島")
REGION_MIX = (0.45, 0.17, 0.12, 0.08, 0.06, 0.06, 0.06)
COMPANY_STEMS = (
    "東和", "大和", "日本", "中央", "三協", "富士", "明治", "昭和", "光陽", "青葉", "北斗", "旭",
    "桜井", "丸山", "高砂", "千代田", "葵", "松風", "朝日", "若葉", "東邦", "大洋", "新星", "平和",
    "協和", "日進", "信和", "栄光", "山陽", "北陸", "瀬戸内", "みらい", "グローバル", "ネクスト",
    "アルファ", "サンライズ", "フロンティア", "テクノ", "アクシス", "ユニバーサル", "ブルースカイ",
    "エース", "ひかり", "若松", "八幡", "飛鳥", "武蔵", "相模", "浪速", "常盤", "双葉", "白鳥",
)
COMPANY_PATTERNS = {
    "情報通信業": ("株式会社{}システム", "{}ソフトウェア株式会社", "株式会社{}ネットワークス",
                 "{}情報サービス株式会社", "株式会社{}デジタル"),
    "製造業": ("株式会社{}製作所", "{}工業株式会社", "株式会社{}精機", "{}電機株式会社", "{}化学工業株式会社"),
    "金融業": ("{}信用金庫", "株式会社{}銀行", "{}証券株式会社", "{}リース株式会社", "{}キャピタル株式会社"),
    "小売業": ("株式会社{}商店", "{}ストア株式会社", "株式会社{}ドラッグ", "{}百貨店株式会社", "有限会社{}マート"),
    "建設業": ("{}建設株式会社", "株式会社{}組", "{}工務店", "株式会社{}ハウス", "{}建設工業株式会社"),
    "医療・福祉": ("医療法人社団{}会", "社会福祉法人{}福祉会", "株式会社{}メディカル", "{}ケアサービス株式会社"),
    "不動産業": ("{}不動産株式会社", "株式会社{}地所", "{}エステート株式会社", "株式会社{}ホーム"),
    "サービス業": ("{}商事株式会社", "株式会社{}コンサルティング", "{}物流株式会社", "株式会社{}企画",
                "有限会社{}サービス"),
}

# --- growth and seasonality ----------------------------------------------------------------
ANNUAL_GROWTH = 0.30
MONTH_SEASON = np.array([0.85, 1.0, 1.2, 0.95, 0.95, 1.0, 1.0, 0.75, 1.05, 1.05, 1.0, 0.9])  # Jan..Dec

# --- time ------------------------------------------------------------------------------------
DAY = np.timedelta64(1, "D")
SECOND = np.timedelta64(1, "s")
NS_PER_DAY = 86_400 * 10**9
UTC_OFFSET_HOURS = 9  # the company works in JST; timestamps are stored in UTC


# --- helpers ---------------------------------------------------------------------------------


def _td(days: np.ndarray | float) -> np.ndarray:
    """Float days → timedelta64[ns]."""
    return (np.asarray(days, dtype=float) * NS_PER_DAY).astype(np.int64).astype("timedelta64[ns]")


def _at(days: np.ndarray, local_hours: np.ndarray | float) -> np.ndarray:
    """UTC timestamps of the given local (JST) clock hours on the given local dates."""
    midnight = np.asarray(days, "datetime64[D]").astype("datetime64[ns]")
    return midnight + _td((np.asarray(local_hours) - UTC_OFFSET_HOURS) / 24)


def _days_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(b - a) in float days."""
    return (np.asarray(b, "datetime64[ns]") - np.asarray(a, "datetime64[ns]")) / np.timedelta64(1, "D")


def _stoch_round(rng: np.random.Generator, x: np.ndarray | float) -> np.ndarray:
    """Round to an integer up or down at random, unbiased."""
    x = np.asarray(x, dtype=float)
    low = np.floor(x)
    return (low + (rng.random(x.shape) < x - low)).astype(np.int64)

def _weighted_pick(rng: np.random.Generator, pool: np.ndarray, k: int | np.ndarray, weight: np.ndarray) -> np.ndarray:
    """k distinct items of pool, chosen with probability ∝ weight (sorted)."""
    k = min(int(k), len(pool))
    if k == 0:
        return pool[:0]
    return np.sort(rng.choice(pool, size=k, replace=False, p=weight / weight.sum()))


def _choice(rng: np.random.Generator, options: tuple | np.ndarray, n: int,
            p: tuple[float, ...] | None = None) -> np.ndarray:
    """n picks of options as an object array."""
    return np.asarray(options, dtype=object)[rng.choice(len(options), size=n, p=p)]


def _ids(prefix: str, n: int, width: int) -> np.ndarray:
    """prefix0001, prefix0002, ... as an object array."""
    return np.array([f"{prefix}{i:0{width}d}" for i in range(1, n + 1)], dtype=object)


def _labels(values: np.ndarray) -> np.ndarray:
    """Text as an object array holding one str per distinct value (None kept): 8 bytes a row, where
    astype(object) would make a new str for every row."""
    codes, uniques = pd.factorize(values)
    out = np.asarray(uniques, dtype=object)[codes]
    out[codes < 0] = None
    return out


def _nullable(values: np.ndarray, missing: np.ndarray) -> np.ndarray:
    """values as an object array with None where `missing`."""
    out = np.asarray(values, dtype=object).copy()
    out[missing] = None
    return out

def _company_names(rng: np.random.Generator, industry: np.ndarray) -> np.ndarray:
    """Japanese company names suited to each industry index."""
    rows = [[p.format(s) for p in COMPANY_PATTERNS[ind] for s in COMPANY_STEMS] for ind in INDUSTRIES]
    table = np.full((len(rows), max(map(len, rows))), "", dtype=object)
    for i, row in enumerate(rows):
        table[i, : len(row)] = row
    sizes = np.array([len(r) for r in rows])
    return table[industry, (rng.random(len(industry)) * sizes[industry]).astype(np.int64)]


def _industries(rng: np.random.Generator, target_share: np.ndarray) -> np.ndarray:
    """Industry index per row: a target industry with probability target_share."""
    target = [INDUSTRIES.index(i) for i in planted.TARGET_INDUSTRIES]
    other = [i for i in range(len(INDUSTRIES)) if i not in target]

    def mix(idx: list[int]) -> np.ndarray:
        w = np.array([INDUSTRY_MIX[INDUSTRIES[i]] for i in idx])
        return w / w.sum()

    n = len(target_share)
    return np.where(
        rng.random(n) < target_share,
        np.asarray(target)[rng.choice(len(target), n, p=mix(target))],
        np.asarray(other)[rng.choice(len(other), n, p=mix(other))],
    )


class _Calendar:
    """Months, business days and the growth/seasonality curve of the simulated period.

    Month t (0..T-1) spans [ms[t], ms[t+1]); the window is t ≥ BURN_IN_MONTHS; ms[T] is the end
    of end_month (exclusive) and month T is a virtual month after it.
    """

    def __init__(self, end_month: str) -> None:
        if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", end_month):
            raise ValueError(f"end_month must look like 'YYYY-MM', got {end_month!r}")
        last = pd.Period(end_month, freq="M")
        self.T = WINDOW_MONTHS + BURN_IN_MONTHS
        periods = pd.period_range(last - (self.T - 1), last + 2, freq="M")
        self.ms = periods.to_timestamp().to_numpy().astype("datetime64[ns]")
        self.moy = np.asarray(periods.month)
        self.end = self.ms[self.T]
        self.window_start = self.ms[BURN_IN_MONTHS]
        self.prehistory = (periods[0] - 30).to_timestamp().to_datetime64().astype("datetime64[ns]")
        self.days = np.arange(self.prehistory.astype("datetime64[D]"), self.ms[-1].astype("datetime64[D]"))
        idx = pd.DatetimeIndex(self.days)
        self.holiday = np.asarray(
            ((idx.month == 1) & (idx.day <= 3)) | ((idx.month == 12) & (idx.day >= 29))
            | ((idx.month == 8) & (idx.day >= 13) & (idx.day <= 16))
            | ((idx.month == 4) & (idx.day >= 29)) | ((idx.month == 5) & (idx.day <= 5))
        )
        self.business = (np.asarray(idx.day_of_week) < 5) & ~self.holiday
        self.business_days = self.days[self.business]

    def span(self, lo: np.datetime64, hi: np.datetime64) -> np.ndarray:
        """Calendar days in [lo, hi) as datetime64[D]."""
        return self.days[(self.days >= lo) & (self.days < hi)]

    def day_index(self, days: np.ndarray) -> np.ndarray:
        return (np.asarray(days, "datetime64[D]") - self.days[0]).astype(np.int64)

    def month_index(self, x: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.ms, np.asarray(x, "datetime64[ns]"), side="right") - 1

    def volume(self, x: np.ndarray) -> np.ndarray:
        """Relative business volume at times x: growth × month-of-year seasonality."""
        x = np.asarray(x, "datetime64[ns]")
        years = _days_between(self.end, x) / 365.25
        return (1 + ANNUAL_GROWTH) ** years * MONTH_SEASON[pd.DatetimeIndex(x).month - 1]

    def day_factor(self, days: np.ndarray, weekend: float, holiday: float) -> np.ndarray:
        i = self.day_index(days)
        return np.where(self.business[i], 1.0, np.where(self.holiday[i], holiday, weekend))

    def business_times(self, rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Random times in [lo, hi], on a business day between 9:00 and 19:00 JST when one fits."""
        lo = np.asarray(lo, "datetime64[ns]")
        hi = np.asarray(hi, "datetime64[ns]")
        bd = self.business_days
        first = np.searchsorted(bd, lo.astype("datetime64[D]"), side="left")
        count = np.searchsorted(bd, hi.astype("datetime64[D]"), side="right") - first
        pick = np.minimum(first + (rng.random(lo.shape) * np.maximum(count, 1)).astype(np.int64), len(bd) - 1)
        t = _at(bd[pick], 9 + 10 * rng.random(lo.shape))
        anywhere = lo + _td(rng.random(lo.shape) * _days_between(lo, hi))
        return np.minimum(np.maximum(np.where(count > 0, t, anywhere), lo), hi)

    def month_days(self, rng: np.random.Generator, t: int, n: int, month_end_share: float) -> np.ndarray:
        """n dates in month t: the month's last day with probability month_end_share, else a
        random business day of the month."""
        lo, hi = self.ms[t].astype("datetime64[D]"), self.ms[t + 1].astype("datetime64[D]")
        bd = self.business_days[(self.business_days >= lo) & (self.business_days < hi)]
        return np.where(rng.random(n) < month_end_share, hi - DAY, bd[rng.integers(len(bd), size=n)])


class _Subscriptions:
    """Growable subscription records; each account has at most one current subscription."""

    def __init__(self, n_accounts: int) -> None:
        self.account = np.zeros(0, np.int64)
        self.mrr = np.zeros(0)
        self.start = np.zeros(0, "datetime64[D]")
        self.end = np.zeros(0, "datetime64[D]")
        self.current = np.full(n_accounts, -1)
        self.current_mrr = np.zeros(n_accounts)

    def open(self, accounts: np.ndarray, mrr: np.ndarray, start: np.ndarray) -> None:
        ids = len(self.account) + np.arange(len(accounts))
        self.account = np.concatenate([self.account, accounts])
        self.mrr = np.concatenate([self.mrr, mrr])
        self.start = np.concatenate([self.start, np.asarray(start, "datetime64[D]")])
        self.end = np.concatenate([self.end, np.full(len(accounts), np.datetime64("NaT"), "datetime64[D]")])
        self.current[accounts] = ids
        self.current_mrr[accounts] = mrr

    def close(self, accounts: np.ndarray, day: np.ndarray) -> None:
        self.end[self.current[accounts]] = day
        self.current_mrr[accounts] = 0.0

    def change(self, accounts: np.ndarray, mrr: np.ndarray, day: np.ndarray) -> None:
        """Plan change: end the current subscription on `day`, start the new one that day."""
        self.close(accounts, day)
        self.open(accounts, mrr, day)

    def mrr_at(self, dates: np.ndarray, n_accounts: int) -> np.ndarray:
        """MRR per account (rows) at each date (columns): start ≤ date < end."""
        d = np.asarray(dates, "datetime64[D]")[None, :]
        live = (self.start[:, None] <= d) & (np.isnat(self.end)[:, None] | (self.end[:, None] > d))
        out = np.zeros((n_accounts, d.shape[1]))
        np.add.at(out, self.account, live * self.mrr[:, None])
        return out


class State:
    """The state the parts share, declared once: `_Demo.__init__` sets the first block, and each step
    the attributes under its name, which later steps (of other parts) read."""

    # _Demo.__init__
    scale: float
    seed: int
    rng: np.random.Generator
    cal: _Calendar
    folder: Path | None  # write the tables there as Parquet (None: keep them in memory)
    files: dict[str, Path]  # tables written to folder
    tables: dict[str, dict[str, np.ndarray]]  # finished tables held in memory, column by column
    activities: list[dict[str, np.ndarray]]  # activity batches, in memory …
    activity_files: list[Path]  # … or as Parquet parts when writing files
    # People._reps: the rep ids of each team, FS segments, and when each IS rep leaves
    is_reps: np.ndarray
    fs_reps: np.ndarray
    cs_reps: np.ndarray
    mk_reps: np.ndarray
    fs_segment: np.ndarray
    is_leave: np.ndarray
    # Marketing._leads: one entry per lead, in order of creation
    n_leads: int
    lead_id: np.ndarray
    lead_created: np.ndarray
    lead_source: np.ndarray
    lead_campaign: np.ndarray
    lead_creative: np.ndarray
    lead_outbound: np.ndarray
    lead_industry: np.ndarray  # index into INDUSTRIES
    lead_target: np.ndarray
    lead_employees: np.ndarray
    lead_employees_known: np.ndarray
    lead_region: np.ndarray  # index into REGIONS
    lead_region_known: np.ndarray
    lead_company: np.ndarray
    lead_department: np.ndarray
    lead_title: np.ndarray
    lead_weight: np.ndarray  # relative chance of becoming an SQL
    # Sales._funnel and Sales._opportunities
    fs_capacity: np.ndarray
    lead_qualified: np.ndarray  # NaT: never an SQL
    meet_time: np.ndarray
    opp_lead: np.ndarray
    opp_created: np.ndarray
    opp_won_close: np.ndarray  # NaT: not won (yet)
    opp_amount: np.ndarray
    deal_acts: dict[str, np.ndarray]  # FS activities on deals, given account ids by People._accounts
    # People._accounts: the paying accounts from before the data, then one per opportunity
    n_base: int
    base_start: np.ndarray
    base_mrr: np.ndarray
    n_accounts: int
    acc_id: np.ndarray
    acc_target: np.ndarray
    # Customers._customers
    subs: _Subscriptions
