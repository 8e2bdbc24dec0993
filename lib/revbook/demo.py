"""The deterministic demo company: a Japanese B2B SaaS organised as The Model.

`generate(scale, seed, end_month)` returns one DataFrame per contract table for the 24 months
ending with `end_month`, fully determined by its arguments; `write` writes the same tables as a
Parquet lake, each as soon as it is complete (usage in blocks), so scale 100 fits in a few GiB.
The company grows, follows the Japanese fiscal year (March peak, August and New-Year dips), is
noisy, and plants the effects declared in `revbook.planted`, which the reports must find.

Order of the simulation: reps → campaigns, ad spend and leads → SQLs, FS meetings and
opportunities → accounts and subscriptions (monthly churn, expansion, contraction and
reactivation driven by latent per-account traits and a latent dormant state) → product usage
and support tickets that follow those latents → activities and touchpoints → targets. The funnel
starts BURN_IN_MONTHS before the window so the window opens in steady state (those older leads,
deals and accounts are kept); product usage, tickets and customer-success activity cover the
window only.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from revbook import contract, periods, planted

WINDOW_MONTHS = 24
BURN_IN_MONTHS = 6

# --- people ----------------------------------------------------------------------------------
TEAM_SIZES = {"marketing": 4, "inside_sales": 12, "field_sales": 12, "customer_success": 12}
MAX_TEAM_SIZE = 98
TEAM_MINIMUM = {"marketing": 1, "inside_sales": 2, "field_sales": 3, "customer_success": 2}
TEAM_PREFIX = {"marketing": "MK", "inside_sales": "IS", "field_sales": "FS", "customer_success": "CS"}
SPECIAL_REP_NAMES = {
    "IS02": "Kim <b>Lee</b>", "FS02": "Dan O'Neil", "IS07": "Raj Patel", "CS05": "Emily Clark",
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
COUNTERPART_DEPARTMENTS = (
    "情報システム部", "経営企画部", "営業部", "営業企画部", "マーケティング部", "総務部", "DX推進室",
)
COUNTERPART_TITLES = ("代表取締役", "取締役", "部長", "課長", "係長", "主任", "担当")
RECYCLE_REASONS = ("予算確保できず", "時期尚早", "競合製品を導入済み", "担当者不在", "検討中止")
LOSS_REASONS = ("価格", "競合", "機能不足", "時期尚早", "予算凍結", "社内稟議否決")

# --- growth and seasonality ----------------------------------------------------------------
ANNUAL_GROWTH = 0.30
MONTH_SEASON = np.array([0.85, 1.0, 1.2, 0.95, 0.95, 1.0, 1.0, 0.75, 1.05, 1.05, 1.0, 0.9])  # Jan..Dec
CHURN_SEASON = np.array([0, 0, 0.35, 0, 0, 0, 0, 0, 0.1, 0, 0, 0])  # fiscal year / half-year ends
EXPANSION_SEASON = np.array([0, 0, 0, 0.3, 0.1, 0, 0, -0.2, 0, 0, 0, 0])  # new budgets in April

# --- marketing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Ad:
    """An ad campaign: per-month lead volume at the window's end (scale 1) and its economics."""

    campaign_id: str
    name: str
    channel: str
    platform: str
    leads_per_month: float
    cpc: float
    ctr: float
    cvr: float
    target_share: float
    employee_median: float = 80
    sql_weight: float = 1.0
    starts_months_before_end: int | None = None  # None: running since before the data starts
    ended_months_before_end: int | None = None  # None: still running


ADS = (
    _Ad("AD01", "リスティング_Google_指名検索", "listing_ads", "google_ads", 90, 320, 0.08, 0.05, 0.50),
    _Ad("AD02", "リスティング_Yahoo_一般キーワード", "listing_ads", "yahoo_ads", 70, 280, 0.03, 0.022, 0.45),
    _Ad("AD03", "ディスプレイ_Google_リターゲティング", "display_ads", "google_ads", 60, 95, 0.006, 0.012, 0.45),
    _Ad("AD04", "ディスプレイ_Yahoo_業種ターゲティング", "display_ads", "yahoo_ads", 40, 70, 0.004, 0.008, 0.40,
        ended_months_before_end=8),
    _Ad("AD05", "SNS_Facebook_製造業向け事例", "social_ads", "facebook_ads", 50, 140, 0.009, 0.015, 0.60),
    _Ad(planted.CHEAP_OFF_TARGET_CAMPAIGN, "SNS_X_ギフト券プレゼント", "social_ads", "x_ads", 120,
        planted.CHEAP_CAMPAIGN_CPC, 0.012, planted.CHEAP_CAMPAIGN_CVR, planted.CHEAP_CAMPAIGN_TARGET_SHARE,
        employee_median=15, sql_weight=planted.CHEAP_CAMPAIGN_SQL_WEIGHT, starts_months_before_end=15),
    _Ad("AD07", "メール広告_Yahoo_情報システム担当者", "email_ads", "yahoo_ads", 30, 180, 0.015, 0.02, 0.50),
    _Ad("AD08", "リスティング_Google_比較キーワード", "listing_ads", "google_ads", 50, 380, 0.05, 0.03, 0.45,
        starts_months_before_end=12),
)
CREATIVE_SHARE = (0.5, 0.3, 0.2)
CREATIVE_CTR = (1.0, 1.25, 0.8)
CREATIVE_CVR = (1.0, 0.85, 1.2)
ORGANIC_PER_MONTH, REFERRAL_PER_MONTH, OUTBOUND_PER_MONTH, WHITEPAPER_PER_MONTH = 330, 55, 340, 60
SEMINAR_LEADS, WEBINAR_LEADS, EXHIBITION_LEADS = 60, 75, 450
EXHIBITION_MONTHS = (5, 10)
WHITEPAPERS = (
    ("WP01", "ホワイトペーパー_営業DX入門", -6),  # release: months after the data starts
    ("WP02", "ホワイトペーパー_SaaS KPI大全", 5),
    ("WP03", "ホワイトペーパー_製造業の需要予測", 13),
    ("WP04", "ホワイトペーパー_インサイドセールス立ち上げガイド", 21),
)
SEMINAR_TOPICS = ("営業生産性向上", "The Model実践", "データドリブン経営", "カスタマーサクセス入門")
SOURCE_SQL_WEIGHT = {
    "document_request": 1.0, "trial": 1.4, "whitepaper": 0.6, "seminar": 1.0, "exhibition": 0.7,
    "contact_form": 1.6, "referral": 2.5, "list": 0.9,
}
WEB_SOURCES = ("document_request", "contact_form", "trial")
PAGES = ("/", "/pricing", "/features", "/features/analytics", "/features/api", "/case-studies",
         "/case-studies/manufacturing", "/blog/the-model", "/blog/sales-kpi", "/security")
SITE = "https://www.revbook-demo.jp"
UTM_TOUCHES = (("page_view", "AD03", 0.3), ("email_click", "AD07", 0.5))  # touch type, campaign, share tagged

# --- sales -------------------------------------------------------------------------------------
SQL_RATE = 0.042  # FS meetings per lead created ~20 days earlier
OPPORTUNITY_RATE = 0.85  # meetings that become an opportunity
ATTENDEE_MIX = (0.3, 0.3, 0.2, 0.12, 0.08)  # first_meeting_attendees 1..5
SEGMENT_EMPLOYEES = (100, 1000)  # smb < 100 ≤ mid < 1000 ≤ enterprise
DEAL_MEDIAN_MRR = (45_000, 110_000, 280_000)  # by segment
PRODUCTS = ("core", "analytics", "api")
PRODUCT_MIX = (0.7, 0.2, 0.1)
LOST_CYCLE_FACTOR = 0.8
LOST_AT_STAGE_MIX = (0.35, 0.40, 0.25)  # last stage reached by lost deals: qualification/proposal/negotiation
KEEP_INTEREST_SHARE = 0.3  # lost-bound deals parked in keep_interest instead
CONNECT_RATE = {"inbound": 0.45, "outbound": 0.12}

# --- customers -------------------------------------------------------------------------------
BASE_CUSTOMERS = 920  # paying accounts before the data starts (scale 1)
PLANS = ("starter", "standard", "pro", "enterprise")
PLAN_MRR_FLOORS = (40_000, 120_000, 300_000)  # starter < 40k ≤ standard < 120k ≤ pro < 300k ≤ enterprise
REACTIVATION_RATE = 0.01  # monthly, for accounts churned ≥ REACTIVATION_GAP months ago
REACTIVATION_GAP = 3
EVENT_TYPES = ("login", "active_user", "error", "feature_report", "feature_dashboard", planted.UPSELL_FEATURE)
ACTIVE_USER_RATE, OFF_DAY_USER_RATE = 0.45, 0.02
EXTRA_LOGIN_RATE, REPORT_RATE, DASHBOARD_RATE = 0.3, 0.06, 0.3
TICKETS_PER_MONTH = 0.35
TICKET_CATEGORIES = ("bug", "billing", "how_to", "feature_request", "outage")
TICKET_MIX = ((0.20, 0.13, 0.45, 0.19, 0.03), (0.52, 0.08, 0.25, 0.12, 0.03))  # normal, high-error
TICKET_PRIORITY = {  # low, medium, high, urgent
    "bug": (0.1, 0.5, 0.3, 0.1), "billing": (0.4, 0.6, 0, 0), "how_to": (0.6, 0.4, 0, 0),
    "feature_request": (0.8, 0.2, 0, 0), "outage": (0, 0, 0.5, 0.5),
}
RESOLVE_MEDIAN_HOURS = (90, 40, 16, 4)  # by priority
OUTAGE_MONTHS_BEFORE_END = (17, 5)
CS_TOUCHES_PER_MONTH = 0.6
PLAN_STRETCH = 0.05

ACTIVITY_ID_WIDTH = 7
ASSEMBLY_MEMORY_LIMIT = "1GB"  # DuckDB's memory for sorting the activities parts into one table
LATER_READ = ("opportunities", "ad_spend_daily")  # tables later steps read back
USAGE_BLOCK_CELLS = 1_000_000  # accounts × days counted at once (≈250 MB); scale 1 (≈1.2k accounts) is one block
DAY = np.timedelta64(1, "D")
SECOND = np.timedelta64(1, "s")
NS_PER_DAY = 86_400 * 10**9
UTC_OFFSET_HOURS = 9  # the company works in JST; timestamps are stored in UTC


def generate(scale: float = 1.0, seed: int = 42, end_month: str | None = None) -> dict[str, pd.DataFrame]:
    """One DataFrame per contract table (contract column order) for the 24 months ending with
    `end_month` (default: the last complete month before `clock.today()`). Deterministic in
    (scale, seed, end_month); scale 1 ≈ 40 reps, 30k leads, 2k accounts and 1.5M usage rows."""
    frames = _Demo(scale, seed, end_month).build()
    return {name: frame for name, frame in frames.items() if isinstance(frame, pd.DataFrame)}


def write(folder: Path, scale: float = 1.0, seed: int = 42, end_month: str | None = None) -> dict[str, Path]:
    """The same tables as Parquet files in `folder` (<table>.parquet), each written as soon as it
    is complete and product usage (≈1.5M rows per unit of scale) block by block: what `revbook
    demo` loads, so scale 100 (≈150M usage rows) is built in a few GiB."""
    Path(folder).mkdir(parents=True, exist_ok=True)
    files = _Demo(scale, seed, end_month, Path(folder)).build()
    return {name: path for name, path in files.items() if isinstance(path, Path)}


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


def _systematic(rng: np.random.Generator, p: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Bernoulli(p) draws by systematic sampling along `order`: every run of consecutive items
    gets within one of its expected number of successes."""
    cum = np.floor(np.concatenate([[0.0], np.cumsum(p[order])]) + rng.random())
    hit = np.empty(len(p), bool)
    hit[order] = np.diff(cum) > 0
    return hit


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


def _ratio(mean: float, values: np.ndarray) -> float:
    """mean ÷ the mean of values (1 when there are none)."""
    return mean / values.mean() if len(values) else 1.0


def _plan(mrr: np.ndarray) -> np.ndarray:
    """Plan name of each MRR."""
    return np.asarray(PLANS, dtype=object)[np.searchsorted(PLAN_MRR_FLOORS, mrr, side="right")]


def _quotas(n: int, cap: np.ndarray, over: int | None, over_quota: int) -> np.ndarray:
    """Meetings per FS rep in a month of n: proportional to capacity and none above it, except
    rep `over`, which takes `over_quota` first and any overflow."""
    q = np.zeros(len(cap), np.int64)
    share = cap.astype(float)
    limit = cap.copy()
    if over is not None:
        q[over] = min(over_quota, n)
        share[over] = 0.0
        limit[over] = np.iinfo(np.int64).max
    ideal = (n - q.sum()) * share / share.sum()
    q += np.floor(ideal).astype(np.int64)
    q[np.argsort(np.floor(ideal) - ideal, kind="stable")[: n - q.sum()]] += 1
    excess = int(np.maximum(q - limit, 0).sum())
    q = np.minimum(q, limit)
    for _ in range(excess):
        q[int(np.argmax(limit - q))] += 1
    return q


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


class _UsageRows:
    """Usage blocks kept in memory, joined into the product_usage_daily columns at the end."""

    def __init__(self, account_ids: np.ndarray) -> None:
        self.account_ids = account_ids
        self.blocks: list[tuple[np.ndarray, ...]] = []

    def add(self, date: np.ndarray, account: np.ndarray, code: np.ndarray, count: np.ndarray) -> None:
        self.blocks.append((date, account, code, count))

    def finish(self, demo: _Demo) -> None:
        date, account, code, count = (np.concatenate(x) for x in zip(*self.blocks))
        demo.tables["product_usage_daily"] = {
            "date": date, "account_id": self.account_ids[account],
            "event_type": np.asarray(EVENT_TYPES, dtype=object)[code], "count": count,
        }


class _UsageParquet:
    """Usage blocks written as row groups of one Parquet file (ids dictionary-encoded)."""

    SCHEMA = pa.schema([("date", pa.date32()), ("account_id", pa.dictionary(pa.int32(), pa.string())),
                        ("event_type", pa.dictionary(pa.int8(), pa.string())), ("count", pa.int64())])

    def __init__(self, path: Path, account_ids: np.ndarray) -> None:
        self.path = path
        self.accounts = pa.array(account_ids, pa.string())
        self.events = pa.array(EVENT_TYPES, pa.string())
        self.writer = pq.ParquetWriter(path, self.SCHEMA)

    def add(self, date: np.ndarray, account: np.ndarray, code: np.ndarray, count: np.ndarray) -> None:
        self.writer.write_table(pa.table([
            pa.array(date.astype("datetime64[D]")),
            pa.DictionaryArray.from_arrays(pa.array(account, pa.int32()), self.accounts),
            pa.DictionaryArray.from_arrays(pa.array(code, pa.int8()), self.events),
            pa.array(count, pa.int64()),
        ], schema=self.SCHEMA))

    def finish(self, demo: _Demo) -> None:
        self.writer.close()
        demo.files["product_usage_daily"] = self.path


class _Demo:
    """Builds the tables step by step; attributes carry the latent state between steps."""

    def __init__(self, scale: float, seed: int, end_month: str | None, folder: Path | None = None) -> None:
        if not scale > 0:
            raise ValueError(f"scale must be positive, got {scale}")
        self.scale = scale
        self.folder = folder  # write the tables there as Parquet (None: keep them in memory)
        self.files: dict[str, Path] = {}
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.cal = _Calendar(end_month or periods.last_complete("month").label)
        self.tables: dict[str, dict[str, np.ndarray]] = {}
        self.activities: list[dict[str, np.ndarray]] = []  # batches, in memory …
        self.activity_files: list[Path] = []  # … or as Parquet parts when writing files

    def build(self) -> dict[str, pd.DataFrame | Path]:
        """Run every step in dependency order; one DataFrame (or file) per contract table."""
        for step in (self._reps, self._marketing, self._funnel, self._opportunities, self._accounts,
                     self._customers, self._usage, self._tickets, self._lead_activities,
                     self._customer_success, self._touchpoints, self._reps_table, self._targets):
            step()
            self._spill(keep=LATER_READ)
        self._activities_table()
        self._spill(keep=())
        return {t.name: self.files.get(t.name) or _frame(t, self.tables[t.name]) for t in contract.TABLES}

    def _spill(self, keep: tuple[str, ...]) -> None:
        """When writing files: write the finished tables (but `keep`) as Parquet and let their
        arrays go, so a large company never holds all its tables at once."""
        if self.folder is None:
            return
        for name in [n for n in self.tables if n not in keep]:
            path = self.folder / f"{name}.parquet"
            _frame(contract.table(name), self.tables.pop(name)).to_parquet(path, index=False)
            self.files[name] = path

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

    # --- campaigns, ad spend, leads -----------------------------------------------------------

    def _marketing(self) -> None:
        """Every campaign with its leads (and daily spend for ads)."""
        cal = self.cal
        self.campaigns: list[dict] = []
        self.spend: list[dict[str, np.ndarray]] = []
        self.batches: list[dict[str, np.ndarray]] = []
        for ad in ADS:
            self._ad_campaign(ad)
        data_start = cal.ms[0]
        self._steady_channel("OG01", "オーガニック検索", "organic", ORGANIC_PER_MONTH, 0.45, 100, data_start)
        self._steady_channel("RF01", "パートナー紹介", "referral", REFERRAL_PER_MONTH, 0.55, 150, data_start)
        for cid, name, release in WHITEPAPERS:
            start = (pd.Timestamp(data_start) + pd.DateOffset(months=release)).to_datetime64()
            self._steady_channel(cid, name, "whitepaper", WHITEPAPER_PER_MONTH, 0.40, 150, start, budget=800_000)
        self._outbound()
        for t in range(cal.T):
            self._event(t, "seminar")
            self._event(t, "webinar")
            if cal.moy[t] in EXHIBITION_MONTHS:
                self._event(t, "exhibition")
        self._leads()

    def _add_campaign(self, cid: str, name: str, channel: str, platform: str | None,
                      start: np.datetime64, end: np.datetime64 | None, budget: float | None) -> None:
        self.campaigns.append({"campaign_id": cid, "name": name, "channel": channel, "platform": platform,
                               "start_date": start, "end_date": end, "budget": budget})

    def _add_leads(self, created: np.ndarray, source: np.ndarray | str, campaign: str | None,
                   target_share: float, employee_median: float, sql_weight: float = 1.0,
                   creative: np.ndarray | None = None, event: np.datetime64 | np.ndarray | None = None) -> None:
        n = len(created)
        self.batches.append({
            "created": np.asarray(created, "datetime64[ns]"),
            "source": np.broadcast_to(np.asarray(source, dtype=object), (n,)),
            "campaign": np.full(n, campaign, dtype=object),
            "creative": np.full(n, None, dtype=object) if creative is None else creative,
            "target_share": np.full(n, target_share), "employee_median": np.full(n, float(employee_median)),
            "sql_weight": np.full(n, sql_weight),
            "event": np.full(n, np.datetime64("NaT") if event is None else event, "datetime64[ns]"),
        })

    def _web_times(self, days: np.ndarray) -> np.ndarray:
        """Times of web form submissions on the given days (mostly 8:00-20:00 JST)."""
        n = len(days)
        return _at(days, np.where(self.rng.random(n) < 0.8, 8 + 12 * self.rng.random(n), 24 * self.rng.random(n)))

    def _ad_campaign(self, ad: _Ad) -> None:
        """Daily impressions, clicks and cost per creative, and the leads the clicks bring."""
        cal, rng = self.cal, self.rng
        start = cal.ms[cal.T - ad.starts_months_before_end] if ad.starts_months_before_end else cal.ms[0] - 365 * DAY
        end = cal.ms[cal.T - ad.ended_months_before_end] if ad.ended_months_before_end else cal.end
        live_from = max(start, cal.ms[0])
        cost_total = 0.0
        for k, share in enumerate(CREATIVE_SHARE):
            lo = live_from + (end - live_from) * 2 // 5 if k == 2 else live_from
            days = cal.span(lo, end)
            leads_expected = (ad.leads_per_month * self.scale / 30.4 * share * cal.volume(days)
                              * cal.day_factor(days, 0.6, 0.5))
            ctr, cvr = ad.ctr * CREATIVE_CTR[k], ad.cvr * CREATIVE_CVR[k]
            impressions = rng.poisson(leads_expected / cvr / ctr)
            clicks = rng.binomial(impressions, ctr)
            cost = np.round(clicks * ad.cpc * rng.lognormal(0, 0.1, len(days)))
            leads = rng.binomial(clicks, cvr)
            creative = f"{ad.campaign_id}-C{k + 1}"
            self.spend.append({"date": days, "campaign_id": np.full(len(days), ad.campaign_id, dtype=object),
                               "creative_id": np.full(len(days), creative, dtype=object),
                               "impressions": impressions, "clicks": clicks, "cost": cost})
            cost_total += cost.sum()
            created = self._web_times(np.repeat(days, leads))
            source = _choice(rng, WEB_SOURCES, len(created), p=(0.6, 0.25, 0.15))
            self._add_leads(created, source, ad.campaign_id, ad.target_share, ad.employee_median, ad.sql_weight,
                            creative=np.full(len(created), creative, dtype=object))
        budget = round(cost_total * rng.uniform(1.0, 1.15), -4)
        self._add_campaign(ad.campaign_id, ad.name, ad.channel, ad.platform, start,
                           end - DAY if ad.ended_months_before_end else None, budget)

    def _steady_channel(self, cid: str, name: str, channel: str, per_month: float, target_share: float,
                        employee_median: float, start: np.datetime64, budget: float | None = None) -> None:
        """A campaign with leads every day (organic, referral, whitepaper)."""
        cal, rng = self.cal, self.rng
        days = cal.span(max(start, cal.ms[0]), cal.end)
        lam = per_month * self.scale / 30.4 * cal.volume(days) * cal.day_factor(days, 0.35, 0.25)
        created = self._web_times(np.repeat(days, rng.poisson(lam)))
        n = len(created)
        if channel == "organic":
            source = _choice(rng, WEB_SOURCES, n, p=(0.45, 0.35, 0.20))
            # a fifth of organic leads arrive without any campaign attribution
            self._add_leads(created[rng.random(n) < 0.2], "contact_form", None, target_share, employee_median)
            keep = rng.random(n) >= 0.2
            created, source = created[keep], source[keep]
        else:
            source = np.full(n, "referral" if channel == "referral" else "whitepaper", dtype=object)
        self._add_leads(created, source, cid, target_share, employee_median)
        self._add_campaign(cid, name, channel, None, start, None, budget)

    def _outbound(self) -> None:
        """List leads imported by inside sales on business days: outbound direction."""
        cal, rng = self.cal, self.rng
        created = []
        for t in range(cal.T):
            n = rng.poisson(OUTBOUND_PER_MONTH * self.scale * cal.volume(cal.ms[t:t + 1])[0])
            created.append(cal.business_times(rng, np.full(n, cal.ms[t]), np.full(n, cal.ms[t + 1] - SECOND)))
        self._add_leads(np.sort(np.concatenate(created)), "list", "OB01", 0.55, 450)
        self._add_campaign("OB01", "アウトバウンド_企業リスト", "outbound", None, cal.ms[0] - 365 * DAY, None,
                           2_400_000)

    def _event(self, t: int, kind: str) -> None:
        """A seminar, webinar or exhibition in month t with its registrations as leads."""
        cal, rng = self.cal, self.rng
        month = pd.Timestamp(cal.ms[t])
        first_bd = np.searchsorted(cal.business_days, (cal.ms[t] + {"seminar": 16, "webinar": 8, "exhibition": 10}[kind]
                                                       * DAY).astype("datetime64[D]"))
        day = cal.business_days[first_bd]
        volume = cal.volume(np.array([day]))[0]
        label = f"{month.year}年{month.month}月"
        if kind == "exhibition":
            days = cal.business_days[first_bd:first_bd + 3]
            season = "春" if month.month < 7 else "秋"
            n = rng.poisson(EXHIBITION_LEADS / 3 * self.scale * volume / MONTH_SEASON[month.month - 1], size=3)
            created = _at(np.repeat(days, n), 10 + 7 * rng.random(n.sum()))
            cid = f"EX-{month:%Y%m}"
            self._add_leads(created, "exhibition", cid, 0.45, 300)
            self._add_campaign(cid, f"展示会_DX総合展{season}{month.year}", "exhibition", None,
                               day - 60 * DAY, days[-1], round(rng.uniform(3.5e6, 5e6), -4))
            return
        per_event, target, emp, budget, prefix, title = {
            "seminar": (SEMINAR_LEADS, 0.50, 200, 300_000, "SE", f"自社セミナー_{label}_{SEMINAR_TOPICS[t % 4]}"),
            "webinar": (WEBINAR_LEADS, 0.45, 120, 120_000, "WB", f"ウェビナー_{label}_{SEMINAR_TOPICS[(t + 2) % 4]}"),
        }[kind]
        n = rng.poisson(per_event * self.scale * volume)
        created = self._web_times(day - rng.integers(1, 22, n) * DAY)
        event = _at(day, 14)
        cid = f"{prefix}-{month:%Y%m}"
        self._add_leads(created, "seminar", cid, target, emp, event=event)
        self._add_campaign(cid, title, kind, None, day - 30 * DAY, day, float(budget))

    def _leads(self) -> None:
        """Lead attributes, campaigns and ad spend tables; SQLs come from `_funnel`, status, owner
        and links from `_lead_activities`."""
        rng = self.rng
        b = {k: np.concatenate([x[k] for x in self.batches]) for k in self.batches[0]}
        order = np.argsort(b["created"], kind="stable")
        b = {k: v[order] for k, v in b.items()}
        n = len(order)
        self.n_leads = n
        self.lead_id = _ids("LD", n, 6)
        self.lead_created = b["created"]
        self.lead_source = b["source"]
        self.lead_campaign = b["campaign"]
        self.lead_creative = b["creative"]
        self.lead_event = b["event"]
        self.lead_outbound = self.lead_source == "list"
        self.lead_industry = _industries(rng, b["target_share"])
        self.lead_target = np.isin(self.lead_industry, [INDUSTRIES.index(i) for i in planted.TARGET_INDUSTRIES])
        self.lead_employees = np.clip(np.round(np.exp(np.log(b["employee_median"]) + rng.normal(0, 0.9, n))), 2, 50_000)
        web = np.isin(self.lead_source, WEB_SOURCES)
        self.lead_employees_known = ~(web & (rng.random(n) < 0.06))
        self.lead_region = rng.choice(len(REGIONS), n, p=REGION_MIX)
        self.lead_region_known = ~(web & (rng.random(n) < 0.04))
        self.lead_company = _company_names(rng, self.lead_industry)
        counterpart_known = rng.random(n) >= 0.12
        self.lead_department = _nullable(_choice(rng, COUNTERPART_DEPARTMENTS, n), ~counterpart_known)
        self.lead_title = _nullable(_choice(rng, COUNTERPART_TITLES, n), ~counterpart_known)
        self.lead_weight = (np.where(self.lead_target, planted.TARGET_CONVERSION_MULTIPLIER, 1.0)
                            * np.vectorize(SOURCE_SQL_WEIGHT.get)(self.lead_source) * b["sql_weight"])
        campaigns = pd.DataFrame(self.campaigns)
        self.tables["campaigns"] = {c: campaigns[c].to_numpy() for c in campaigns}
        spend = {k: np.concatenate([x[k] for x in self.spend]) for k in self.spend[0]}
        order = np.lexsort((spend["creative_id"].astype(str), spend["date"]))
        self.tables["ad_spend_daily"] = {k: v[order] for k, v in spend.items()}

    # --- SQLs and FS meetings -----------------------------------------------------------------

    def _funnel(self) -> None:
        """Month by month: how many FS meetings (planned from lead volume, bounded by FS
        capacity), which leads become SQLs for them (∝ lead weight, recent leads first), when
        they qualify, and which FS rep takes each meeting."""
        cal, rng, T = self.cal, self.rng, self.cal.T
        created = self.lead_created
        lagged = np.searchsorted(created, cal.ms - 20 * DAY)
        expected = SQL_RATE * np.diff(lagged)  # months 0..T
        base = np.array([planted.SQL_CAPACITY_BY_SEGMENT[s] for s in self.fs_segment], dtype=float)
        factor = expected[T - 1] / (planted.FS_TARGET_UTILISATION * base.sum())
        cap = np.maximum(1, np.round(base * factor)).astype(np.int64)
        self.fs_capacity = cap
        over = int(np.flatnonzero(self.fs_reps == planted.OVER_CAPACITY_FS_REP)[0])
        over_quota = max(int(cap[over]) + 1, math.ceil(planted.OVER_CAPACITY_RATIO * cap[over]))
        planned = _stoch_round(rng, expected * rng.lognormal(0, 0.1, len(expected)))
        over_from = T - planted.OVER_CAPACITY_MONTHS
        planned[:over_from] = np.minimum(planned[:over_from], round(0.9 * cap.sum()))
        planned[over_from:T] = np.clip(planned[over_from:T], over_quota, over_quota + cap.sum() - cap[over])
        seg_rank = np.array([contract.SEGMENTS.index(s) for s in self.fs_segment])
        fs_order = np.argsort(seg_rank, kind="stable")
        employees = np.where(self.lead_employees_known, self.lead_employees, 100)

        self.lead_qualified = np.full(self.n_leads, np.datetime64("NaT"), "datetime64[ns]")
        used = np.zeros(self.n_leads, bool)
        meetings: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        for t in range(T + 1):
            lo, hi = cal.ms[t], cal.ms[t + 1]
            window = slice(np.searchsorted(created, lo - 90 * DAY),
                           np.searchsorted(created, min(hi, cal.end) - 3 * DAY))
            pool = np.arange(window.start, window.stop)[~used[window]]
            age = np.maximum(_days_between(created[pool], np.full(len(pool), lo)), 0)
            pick = _weighted_pick(rng, pool, planned[t], self.lead_weight[pool] * np.exp(-age / 25))
            c = created[pick]
            meet = cal.business_times(rng, np.maximum(lo, c + 2 * DAY), np.full(len(pick), hi - SECOND))
            qualified = cal.business_times(rng, np.maximum(c + _td(0.5), meet - 14 * DAY), meet - DAY)
            if t == T:  # qualified before the end, meeting next month: an SQL awaiting its meeting
                pick, qualified = pick[qualified < cal.end], qualified[qualified < cal.end]
            else:
                q = _quotas(len(pick), cap, over if t >= over_from else None, over_quota)
                seq = np.repeat(fs_order, q[fs_order])
                for g in range(3):
                    block = seg_rank[seq] == g
                    seq[block] = rng.permutation(seq[block])
                rep = np.empty(len(pick), np.int64)
                rep[np.argsort(employees[pick], kind="stable")] = seq
                meetings.append((pick, meet, rep))
            used[pick] = True
            self.lead_qualified[pick] = qualified
        self.meet_lead = np.concatenate([m[0] for m in meetings])
        self.meet_time = np.concatenate([m[1] for m in meetings])
        self.meet_rep = np.concatenate([m[2] for m in meetings])

    # --- opportunities ------------------------------------------------------------------------

    def _opportunities(self) -> None:
        """Deals from meetings: outcome (win probability by direction, industry and attendees),
        size, cycle, stage history, the planted idle deals, and FS activity on each deal."""
        cal, rng = self.cal, self.rng
        is_opp = rng.random(len(self.meet_lead)) < OPPORTUNITY_RATE
        self.meet_opp = np.full(len(self.meet_lead), -1)
        self.meet_opp[is_opp] = np.arange(is_opp.sum())
        lead, created, owner = self.meet_lead[is_opp], self.meet_time[is_opp], self.meet_rep[is_opp]
        n = len(lead)
        self.opp_lead, self.opp_created, self.opp_owner = lead, created, owner
        outbound, target = self.lead_outbound[lead], self.lead_target[lead]
        attendees = rng.choice(5, n, p=ATTENDEE_MIX) + 1
        lift = (np.where(target, planted.TARGET_CONVERSION_MULTIPLIER, 1.0)
                * np.asarray(planted.ATTENDEE_WIN_MULTIPLIERS)[attendees - 1])
        p_win = np.zeros(n)
        for flag, rate in ((False, planted.INBOUND_WIN_RATE), (True, planted.OUTBOUND_WIN_RATE)):
            m = outbound == flag
            if m.any():
                p_win[m] = rate * lift[m] / lift[m].mean()
        won = _systematic(rng, np.minimum(p_win, 0.95), np.lexsort((attendees, target, outbound)))

        employees = np.where(self.lead_employees_known[lead], self.lead_employees[lead], 100)
        segment = np.searchsorted(SEGMENT_EMPLOYEES, employees, side="right")
        product = rng.choice(len(PRODUCTS), n, p=PRODUCT_MIX)
        amount = (np.asarray(DEAL_MEDIAN_MRR)[segment] * rng.lognormal(0, 0.35, n)
                  * np.where(outbound, planted.OUTBOUND_DEAL_SIZE_MULTIPLIER, 1.0) * (1 + 0.15 * (product > 0)))
        amount = np.maximum(np.round(amount, -3), 10_000)

        median = np.where(outbound, planted.OUTBOUND_MEDIAN_CYCLE_DAYS, planted.INBOUND_MEDIAN_CYCLE_DAYS)
        cycle = np.where(won, median * rng.lognormal(0, 0.45, n), median * LOST_CYCLE_FACTOR * rng.lognormal(0, 0.6, n))
        close = created + _td(np.maximum(cycle, 10))
        # fiscal year-end rush: half the deals due to close in April close in late March instead
        mi = np.clip(cal.month_index(close), 0, cal.T)
        rush = won & (close < cal.end) & (cal.moy[mi] == 4) & (rng.random(n) < 0.5)
        rush &= cal.ms[mi] - 17 * DAY > created + 10 * DAY
        close = np.where(rush, cal.ms[mi] - _td(1 + 15 * rng.random(n)), close)
        span = _days_between(created, close)
        proposal = cal.business_times(rng, created + _td(0.15 * span), created + _td(0.35 * span))
        negotiation = cal.business_times(rng, created + _td(0.5 * span), created + _td(0.75 * span))
        close = cal.business_times(rng, created + _td(0.88 * span), close)

        last_stage = np.where(won, 2, rng.choice(3, n, p=LOST_AT_STAGE_MIX))
        parked = rng.random(n) < KEEP_INTEREST_SHARE
        final = np.where(won, "closed_won", np.where(parked, "keep_interest", "closed_lost"))
        reached = np.stack([np.ones(n, bool), last_stage >= 1, last_stage >= 2, np.ones(n, bool)])
        times = np.stack([created, proposal, negotiation, close])
        reached &= times < cal.end
        closed = reached[3] & (final != "keep_interest")

        eligible = np.flatnonzero(~closed & (created < cal.end - 60 * DAY))
        n_idle = max(1, round(planted.IDLE_DEAL_SHARE * len(eligible))) if len(eligible) else 0
        idle = np.sort(rng.choice(eligible, size=n_idle, replace=False))
        stall = np.full(n, cal.end)
        stall[idle] = cal.business_times(rng, np.maximum(created[idle] + DAY, cal.end - 90 * DAY),
                                         np.full(n_idle, cal.end - (planted.IDLE_DEAL_DAYS + 8) * DAY))
        reached &= times <= stall
        stage_names = np.stack([np.full(n, "qualification"), np.full(n, "proposal"), np.full(n, "negotiation"), final])
        current = stage_names[3 - np.argmax(reached[::-1], axis=0), np.arange(n)]

        self.opp_id = _ids("OP", n, 6)
        self.opp_won_close = np.where(closed & won, close, np.datetime64("NaT"))
        self.opp_amount = amount
        self.tables["opportunities"] = {
            "opportunity_id": self.opp_id, "lead_id": self.lead_id[lead], "owner_rep_id": self.fs_reps[owner],
            "created_at": created, "stage": _labels(current), "amount": amount,
            "product": np.asarray(PRODUCTS, dtype=object)[product],
            "closed_at": np.where(closed, close, np.datetime64("NaT")), "is_won": closed & won,
            "loss_reason": _nullable(_choice(rng, LOSS_REASONS, n), ~(closed & ~won)),
            "first_meeting_attendees": attendees,
        }
        k, i = np.nonzero(reached)
        self.tables["opportunity_stage_history"] = {
            "opportunity_id": self.opp_id[i], "stage": _labels(stage_names[k, i]), "entered_at": times[k, i],
        }
        # activities on the deal: one per stage change, regular touches, the idle deals' last
        # touch when they stall, and a touch in the last 20 days for every other open deal
        stage_type = np.stack([np.full(n, "meeting"), np.where(rng.random(n) < 0.3, "demo", "meeting"),
                               np.where(rng.random(n) < 0.5, "meeting", "call"),
                               np.select([final == "closed_won", final == "closed_lost"], ["meeting", "call"],
                                         "email")])
        sk, si = k[k > 0], i[k > 0]
        last = np.minimum(np.where(closed, close, cal.end - SECOND), stall)
        n_touch = rng.poisson(np.maximum(_days_between(created, last), 0) / 14)
        ti = np.repeat(np.arange(n), n_touch)
        touch = cal.business_times(rng, created[ti], last[ti])
        recent = np.flatnonzero(~closed & (stall == cal.end) & (created < cal.end - 20 * DAY))
        when = np.concatenate([times[sk, si], touch, stall[idle],
                               cal.business_times(rng, np.full(len(recent), cal.end - 20 * DAY),
                                                  np.full(len(recent), cal.end - SECOND))])
        opp = np.concatenate([si, ti, idle, recent])
        kind = _labels(np.concatenate([stage_type[sk, si],
                                       _choice(rng, ("email", "call", "demo"), len(ti), p=(0.5, 0.4, 0.1)),
                                       np.full(n_idle, "email"), _choice(rng, ("email", "call"), len(recent))]))
        self._deal_activities(opp, when, kind)

    def _deal_activities(self, opp: np.ndarray, when: np.ndarray, kind: np.ndarray) -> None:
        """FS activities on opportunities (account ids are attached once accounts exist)."""
        rng = self.rng
        n = len(opp)
        call = kind == "call"
        self.deal_acts = {
            "occurred_at": when, "rep_id": self.fs_reps[self.opp_owner[opp]], "lead_id": np.full(n, None, dtype=object),
            "opportunity_id": self.opp_id[opp], "opp_index": opp, "type": kind,
            "direction": _labels(np.where((kind == "email") & (rng.random(n) < 0.15), "inbound", "outbound")),
            "connected": _nullable(rng.random(n) < 0.65, ~call),
        }

    # --- accounts and subscriptions -----------------------------------------------------------

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
        # latent customer traits
        a = self.n_accounts
        self.acc_high_error = rng.random(a) < planted.HIGH_ERROR_SHARE
        self.acc_api_heavy = rng.random(a) < planted.API_HEAVY_SHARE
        self.acc_error_rate = np.where(self.acc_high_error, rng.uniform(*planted.HIGH_ERROR_RATE, a),
                                       rng.uniform(*planted.NORMAL_ERROR_RATE, a))
        self.acc_engagement = rng.uniform(0.6, 1.0, a)
        self.acc_cs_rep = rng.integers(len(self.cs_reps), size=a)

    def _customers(self) -> None:
        """Monthly simulation of churn, expansion, contraction, reactivation and new customers.

        Each month's churn/expansion/contraction counts are the planted rates × paying accounts
        (with seasonality and noise that averages out over each year), and who is chosen ∝ the
        planted per-account multipliers, so realised rates track the planted means closely.
        """
        cal, rng, T = self.cal, self.rng, self.cal.T
        a = self.n_accounts
        subs = _Subscriptions(a)
        subs.open(np.arange(self.n_base), self.base_mrr, self.base_start)
        won = np.flatnonzero(~np.isnat(self.opp_won_close))
        won_day = self.opp_won_close[won].astype("datetime64[D]")
        won_month = cal.month_index(won_day)
        # latent dormant state: Markov chain per account and month
        dormant = np.zeros((a, T), bool)
        stay, entry = planted.DORMANT_STAY_RATE, planted.DORMANT_ENTRY_RATE
        dormant[:, 0] = rng.random(a) < entry / (entry + 1 - stay)
        for t in range(1, T):
            dormant[:, t] = rng.random(a) < np.where(dormant[:, t - 1], stay, entry)

        def calibrated_noise(season: np.ndarray, sd: float) -> np.ndarray:
            e = season[cal.moy[:T] - 1] + rng.normal(0, sd, T)
            for part in (slice(0, T - 12), slice(T - 12, T)):
                e[part] -= e[part].mean()
            return 1 + e

        churn_level = calibrated_noise(CHURN_SEASON, 0.15)
        expansion_level = calibrated_noise(EXPANSION_SEASON, 0.2)
        contraction_level = calibrated_noise(np.zeros(12), 0.2)
        active_end = np.zeros((a, T), bool)
        churned_month = np.full(a, 10**6)  # month of the last churn
        reactivated = np.zeros(a, bool)
        last_mrr = np.zeros(a)
        for t in range(T):
            paying = np.flatnonzero(subs.current_mrr > 0)
            book_mean = subs.current_mrr[paying].mean() if len(paying) else 0.0
            was_dormant = dormant[paying, t - 1] if t else np.zeros(len(paying), bool)
            hazard = (np.where(self.acc_target[paying], planted.TARGET_CHURN_MULTIPLIER, 1.0)
                      * np.where(was_dormant, planted.NO_LOGIN_CHURN_MULTIPLIER, 1.0)
                      * np.where(self.acc_high_error[paying], planted.ERROR_CHURN_MULTIPLIER, 1.0))
            k = _stoch_round(rng, planted.MONTHLY_CUSTOMER_CHURN * len(paying) * churn_level[t])
            churn = _weighted_pick(rng, paying, k, hazard)
            rest = ~np.isin(paying, churn)
            upsell = (np.where(self.acc_api_heavy[paying], planted.UPSELL_MULTIPLIER, 1.0)
                      * np.where(was_dormant, 0.3, 1.0))
            k = _stoch_round(rng, planted.EXPANSION_RATE * len(paying) * expansion_level[t])
            expand = _weighted_pick(rng, paying[rest], k, upsell[rest])
            rest &= ~np.isin(paying, expand)
            downsell = np.where(was_dormant, 2.0, 1.0) * np.where(self.acc_high_error[paying], 1.5, 1.0)
            k = _stoch_round(rng, planted.CONTRACTION_RATE * len(paying) * contraction_level[t])
            contract_ = _weighted_pick(rng, paying[rest], k, downsell[rest])

            last_mrr[churn] = subs.current_mrr[churn]
            subs.close(churn, cal.month_days(rng, t, len(churn), 1.0 if cal.moy[t] == 3 else 0.6))
            churned_month[churn] = t
            # sizes relative to the average account, so upgrades add EXPANSION_RATE × EXPANSION_SIZE
            # of the book even though heavy API users (often already upgraded) are picked more
            m = subs.current_mrr[expand]
            grow = planted.EXPANSION_SIZE * rng.gamma(2.0, 0.5, len(expand)) * _ratio(book_mean, m)
            subs.change(expand, np.maximum(np.round(m * (1 + grow), -3), m + 1000),
                        cal.month_days(rng, t, len(expand), 0))
            m = subs.current_mrr[contract_]
            shrink = np.minimum(planted.CONTRACTION_SIZE * rng.uniform(0.4, 1.6, len(contract_)) * _ratio(book_mean, m),
                                0.7)
            new_mrr = np.minimum(np.maximum(np.round(m * (1 - shrink), -3), 5000), m - 1000)
            subs.change(contract_, new_mrr, cal.month_days(rng, t, len(contract_), 0))
            back = np.flatnonzero((churned_month <= t - REACTIVATION_GAP) & ~reactivated & (subs.current_mrr == 0))
            back = back[rng.random(len(back)) < REACTIVATION_RATE]
            reactivated[back] = True
            subs.open(back, np.maximum(np.round(last_mrr[back] * rng.uniform(0.6, 1.0, len(back)), -3), 10_000),
                      cal.month_days(rng, t, len(back), 0))
            new = won[won_month == t]
            subs.open(self.n_base + new, self.opp_amount[new], won_day[won_month == t])
            dormant[np.concatenate([back, self.n_base + new]), t] = False  # nobody is dormant in month one
            active_end[:, t] = subs.current_mrr > 0

        self.subs = subs
        self.dormant = dormant & active_end
        self.active_end = active_end
        first_mrr = np.zeros(a)  # seats follow the first subscription's MRR
        customers, first = np.unique(subs.account, return_index=True)
        first_mrr[customers] = subs.mrr[first]
        self.acc_users = np.clip(np.round(first_mrr / 9000 * rng.uniform(0.7, 1.3, a)), 3, 300)
        order = np.lexsort((subs.account, subs.start))
        self.tables["subscriptions"] = {
            "subscription_id": _ids("SB", len(order), 6), "account_id": self.acc_id[subs.account[order]],
            "plan": _plan(subs.mrr[order]), "mrr": subs.mrr[order], "start_date": subs.start[order],
            "end_date": subs.end[order],
        }

    # --- product usage ------------------------------------------------------------------------

    def _usage(self) -> None:
        """Daily usage per paying account in the window, silent while the latent dormant state
        says so: the last 22-28 days of a month turning dormant, whole months while staying
        dormant, and the first days of the month it recovers. Counted in blocks of accounts, each
        block handed to the sink (memory, or a Parquet file at large scales)."""
        cal, rng, T, w0 = self.cal, self.rng, self.cal.T, BURN_IN_MONTHS
        days = cal.span(cal.window_start, cal.end)
        nd = len(days)
        sink = (_UsageRows(self.acc_id) if self.folder is None
                else _UsageParquet(self.folder / "product_usage_daily.parquet", self.acc_id))
        subs = self.subs
        s = np.clip(np.searchsorted(days, subs.start), 0, nd)
        e = np.where(np.isnat(subs.end), nd, np.searchsorted(days, subs.end))
        keep = e > s
        accounts = np.unique(subs.account[keep])
        row = np.searchsorted(accounts, subs.account[keep])
        active = self._intervals(len(accounts), nd, row, s[keep], e[keep])

        rows, lo, hi = [], [], []
        dormant, paying = self.dormant[accounts], self.active_end[accounts]
        for t in range(w0, T):
            i0, i1 = int((cal.ms[t] - cal.window_start) / DAY), int((cal.ms[t + 1] - cal.window_start) / DAY)
            dim = i1 - i0
            before, now = dormant[:, t - 1], dormant[:, t]
            whole = np.flatnonzero(now & before | before & ~paying[:, t])
            tail = np.flatnonzero(now & ~before)
            head = np.flatnonzero(before & ~now & paying[:, t])
            rows += [whole, tail, head]
            lo += [np.full(len(whole), i0), i1 - rng.integers(22, min(28, dim) + 1, len(tail)), np.full(len(head), i0)]
            hi += [np.full(len(whole), i1), np.full(len(tail), i1), i0 + rng.integers(1, dim - 20, len(head))]
        silent = self._intervals(len(accounts), nd, np.concatenate(rows), np.concatenate(lo), np.concatenate(hi))
        on = active & ~silent

        business = cal.business[cal.day_index(days)]
        heavy = self.acc_api_heavy[accounts]
        rows_per_block = max(1, USAGE_BLOCK_CELLS // nd)
        for b0 in range(0, len(accounts), rows_per_block):
            block = slice(b0, b0 + rows_per_block)
            r, d, code, count = self._usage_counts(accounts[block], business, on[block], heavy[block])
            sink.add(days[d], accounts[block][r], code, count)
        sink.finish(self)
        self.usage_accounts, self.usage_days, self.usage_active = accounts, days, active

    def _usage_counts(self, accounts: np.ndarray, business: np.ndarray, on: np.ndarray,
                      heavy: np.ndarray) -> tuple[np.ndarray, ...]:
        """One block of accounts' non-zero daily counts as (row, day, event code, count), sorted by
        day, account and event."""
        rng = self.rng
        users = self.acc_users[accounts][:, None].astype(np.int64)
        p_user = (np.where(business, ACTIVE_USER_RATE, OFF_DAY_USER_RATE)[None, :]
                  * self.acc_engagement[accounts][:, None])
        active_users = rng.binomial(users, p_user) * on
        logins = active_users + rng.binomial(active_users, EXTRA_LOGIN_RATE)
        errors = rng.poisson(logins * self.acc_error_rate[accounts][:, None])
        reports = rng.binomial(active_users, REPORT_RATE)
        dashboards = rng.binomial(active_users, DASHBOARD_RATE)
        light = ~heavy & (rng.random(len(accounts)) < 0.35)
        api_rate = users[:, 0] * np.select([heavy, light], [rng.uniform(2, 6, len(accounts)), 0.15], 0.0)
        api = rng.poisson(api_rate[:, None] * np.where(business, 1.0, 0.3)[None, :]) * on
        parts = []
        for i, counts in enumerate((logins, active_users, errors, reports, dashboards, api)):
            r, d = np.nonzero(counts)
            parts.append((r, d, counts[r, d], np.full(len(r), i, np.int8)))
        r, d, count, code = (np.concatenate(x) for x in zip(*parts))
        order = np.lexsort((code, accounts[r], d))
        return r[order], d[order], code[order], count[order].astype(np.int64)

    @staticmethod
    def _intervals(n_rows: int, n_days: int, row: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Boolean (n_rows, n_days) matrix, True on [lo, hi) of each row's intervals."""
        diff = np.zeros((n_rows, n_days + 1), np.int16)  # overlapping intervals per cell: a handful
        np.add.at(diff, (row, lo), 1)
        np.add.at(diff, (row, hi), -1)
        return np.cumsum(diff, axis=1, dtype=np.int16)[:, :n_days] > 0

    def _random_days(self, mask: np.ndarray, per_row: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """per_row random (row, day) cells of each row among its True cells of mask (found a block of
        rows at a time, so a large mask's cells are never all listed at once)."""
        counts = mask.sum(axis=1)
        per_row = np.where(counts > 0, per_row, 0)
        row = np.repeat(np.arange(len(counts)), per_row)
        nth = (self.rng.random(len(row)) * counts[row]).astype(np.int64)  # which True cell of its row
        day = np.empty(len(row), np.int64)
        step = max(1, USAGE_BLOCK_CELLS // mask.shape[1])
        for lo in range(0, len(counts), step):
            block = mask[lo:lo + step]
            first = np.concatenate([[0], np.cumsum(counts[lo:lo + step])[:-1]])
            i0, i1 = np.searchsorted(row, [lo, lo + step])
            day[i0:i1] = np.flatnonzero(block)[first[row[i0:i1] - lo] + nth[i0:i1]] % mask.shape[1]
        return row, day

    # --- support tickets ------------------------------------------------------------------------

    def _tickets(self) -> None:
        """Support tickets of paying accounts (more, and more bugs, for high-error accounts) and two
        outages."""
        cal, rng = self.cal, self.rng
        accounts, days, active = self.usage_accounts, self.usage_days, self.usage_active
        high = self.acc_high_error[accounts]
        lam = (TICKETS_PER_MONTH * active.sum(axis=1) / 30.4 * np.sqrt(self.acc_users[accounts] / 6)
               * np.where(high, 2.5, 1.0))
        row, day = self._random_days(active, rng.poisson(lam))
        created = _at(days[day], 8 + 12 * rng.random(len(row)))
        mix = np.cumsum(np.asarray(TICKET_MIX)[high[row].astype(int)], axis=1)
        category = np.asarray(TICKET_CATEGORIES, dtype=object)[(rng.random(len(row))[:, None] > mix).sum(axis=1)]
        outage_rows, outage_created = [], []
        for k in OUTAGE_MONTHS_BEFORE_END:
            i = int((cal.ms[cal.T - k] - cal.window_start) / DAY) + 9
            hit = np.flatnonzero(active[:, i] & (rng.random(len(accounts)) < 0.25))
            outage_rows.append(hit)
            outage_created.append(_at(np.full(len(hit), days[i]), 9 + 2 * rng.random(len(hit))))
        row = np.concatenate([row, *outage_rows])
        created = np.concatenate([created, *outage_created])
        category = np.concatenate([category, np.full(len(row) - len(category), "outage", dtype=object)])
        priority = np.zeros(len(row), np.int64)
        for cat, p in TICKET_PRIORITY.items():
            m = category == cat
            priority[m] = rng.choice(4, m.sum(), p=p)
        resolved = created + _td(np.asarray(RESOLVE_MEDIAN_HOURS)[priority] * rng.lognormal(0, 0.9, len(row)) / 24)
        resolved = np.where((resolved >= cal.end) | (rng.random(len(row)) < 0.02), np.datetime64("NaT"), resolved)
        order = np.argsort(created, kind="stable")
        self.tables["support_tickets"] = {
            "ticket_id": _ids("TK", len(row), 6), "account_id": self.acc_id[accounts[row[order]]],
            "created_at": created[order], "category": category[order],
            "priority": np.asarray(contract.PRIORITIES, dtype=object)[priority[order]], "resolved_at": resolved[order],
        }

    # --- leads: status, ownership and inside-sales work ------------------------------------------

    def _lead_activities(self) -> None:
        """Lead status and owner as of the end, IS calls and emails, marketing invitations, FS lead
        meetings, and the leads table."""
        cal, rng = self.cal, self.rng
        n = self.n_leads
        created, qualified = self.lead_created, self.lead_qualified
        sql = ~np.isnat(qualified)
        age = _days_between(created, np.full(n, cal.end))
        direction = _labels(np.where(self.lead_outbound, "outbound", "inbound"))

        # status as of the end of the window
        later = rng.choice(4, n, p=(0.25, 0.45, 0.20, 0.10))  # disqualified/nurturing/recycled/working
        recent = rng.choice(3, n, p=(0.8, 0.1, 0.1))  # working/disqualified/nurturing
        status = np.select(
            [sql, age <= 3, age <= 30],
            ["qualified", "new", np.asarray(("working", "disqualified", "nurturing"), dtype=object)[recent]],
            np.asarray(("disqualified", "nurturing", "recycled", "working"), dtype=object)[later],
        ).astype(object)
        recycled, nurturing = status == "recycled", status == "nurturing"
        approach = (created.astype("datetime64[D]") + rng.integers(60, 240, n) * DAY)
        has_approach = recycled | (nurturing & (rng.random(n) < 0.4))

        # owners: an IS rep who was still there; 'new' leads are half unassigned
        owner = rng.integers(len(self.is_reps), size=n)
        leave = self.is_leave[owner]
        moved = (created >= leave - 60 * DAY) | (sql & (qualified >= leave))
        others = rng.integers(len(self.is_reps) - 1, size=n)
        owner = np.where(moved, others + (others >= owner), owner)
        assigned = ~((status == "new") & (rng.random(n) < 0.5))

        # calls and emails: SQLs get a connected qualifying call just before qualified_at
        worked = np.flatnonzero(assigned & (status != "new"))
        horizon = np.where(sql[worked], qualified[worked] - np.timedelta64(1, "h"),
                           np.minimum(created[worked] + 45 * DAY, cal.end - SECOND))
        horizon = np.maximum(horizon, created[worked])
        calls = rng.poisson(np.where(sql[worked], 1.2, np.where(self.lead_outbound[worked], 3.0, 1.8)))
        emails = rng.poisson(1.2, len(worked))
        i = np.concatenate([np.repeat(worked, calls), np.repeat(worked, emails), np.flatnonzero(sql)])
        hz = np.concatenate([np.repeat(horizon, calls), np.repeat(horizon, emails)])
        when = np.concatenate([cal.business_times(rng, created[i[:len(hz)]], hz),
                               np.maximum(qualified[sql] - _td((5 + 35 * rng.random(sql.sum())) / 1440), created[sql])])
        kind = np.concatenate([np.full(calls.sum(), "call"), np.full(emails.sum(), "email"),
                               np.full(sql.sum(), "call")])
        connected = np.where(kind == "call", rng.random(len(i)) < np.where(self.lead_outbound[i],
                             CONNECT_RATE["outbound"], CONNECT_RATE["inbound"]), False)
        connected[len(hz):] = True
        keep = when < self.is_leave[owner[i]]
        i, when, kind, connected = i[keep], when[keep], kind[keep], connected[keep]
        self._activity({
            "occurred_at": when, "rep_id": self.is_reps[owner[i]], "lead_id": self.lead_id[i],
            "opportunity_id": np.full(len(i), None, dtype=object), "account_id": np.full(len(i), None, dtype=object),
            "type": _labels(kind), "direction": direction[i], "connected": _nullable(connected, kind != "call"),
        })

        # marketing's seminar invitations to nurtured and recycled leads
        pool = np.flatnonzero((nurturing | recycled) & (created < cal.end - 8 * DAY))
        j = np.repeat(pool, rng.poisson(1.2, len(pool)))
        self._activity({
            "occurred_at": cal.business_times(rng, created[j] + 7 * DAY, np.full(len(j), cal.end - SECOND)),
            "rep_id": self.mk_reps[rng.integers(len(self.mk_reps), size=len(j))], "lead_id": self.lead_id[j],
            "opportunity_id": np.full(len(j), None, dtype=object), "account_id": np.full(len(j), None, dtype=object),
            "type": np.full(len(j), "seminar_invite", dtype=object),
            "direction": np.full(len(j), "outbound", dtype=object),
            "connected": np.full(len(j), None, dtype=object),
        })

        # FS lead meetings (and the opportunities created at them)
        m = self.meet_lead
        has_opp = self.meet_opp >= 0
        opp_ids = _nullable(np.where(has_opp, self.opp_id[np.maximum(self.meet_opp, 0)], ""), ~has_opp)
        acc_ids = _nullable(np.where(has_opp, self.acc_id[self.n_base + np.maximum(self.meet_opp, 0)], ""), ~has_opp)
        self._activity({
            "occurred_at": self.meet_time, "rep_id": self.fs_reps[self.meet_rep], "lead_id": self.lead_id[m],
            "opportunity_id": opp_ids, "account_id": acc_ids, "type": np.full(len(m), "meeting", dtype=object),
            "direction": direction[m], "connected": np.full(len(m), None, dtype=object),
        })
        self._activity(self.deal_acts)

        lead_opp = np.full(n, None, dtype=object)
        lead_acc = np.full(n, None, dtype=object)
        lead_opp[self.opp_lead] = self.opp_id
        lead_acc[self.opp_lead] = self.acc_id[self.n_base:]
        recycle_reason = _nullable(_choice(rng, RECYCLE_REASONS, n), ~recycled)
        self.tables["leads"] = {
            "lead_id": self.lead_id, "created_at": created, "account_id": lead_acc, "company_name": self.lead_company,
            "industry": np.asarray(INDUSTRIES, dtype=object)[self.lead_industry],
            "employee_count": _nullable(self.lead_employees.astype(np.int64), ~self.lead_employees_known),
            "region": _nullable(np.asarray(REGIONS, dtype=object)[self.lead_region], ~self.lead_region_known),
            "lead_source": self.lead_source, "campaign_id": self.lead_campaign, "creative_id": self.lead_creative,
            "direction": direction, "owner_rep_id": _nullable(self.is_reps[owner], ~assigned), "status": status,
            "recycle_reason": recycle_reason,
            "next_approach_date": np.where(has_approach, approach, np.datetime64("NaT")),
            "qualified_at": qualified, "opportunity_id": lead_opp,
            "counterpart_department": self.lead_department, "counterpart_title": self.lead_title,
        }

    def _customer_success(self) -> None:
        """CS check-ins (calls, emails, meetings) with paying accounts on business days."""
        rng = self.rng
        accounts, days, active = self.usage_accounts, self.usage_days, self.usage_active
        mask = active & self.cal.business[self.cal.day_index(days)][None, :]
        row, day = self._random_days(mask, rng.poisson(CS_TOUCHES_PER_MONTH * mask.sum(axis=1) / 21))
        n = len(row)
        kind = _choice(rng, ("call", "email", "meeting"), n, p=(0.35, 0.4, 0.25))
        self._activity({
            "occurred_at": _at(days[day], 9 + 9 * rng.random(n)),
            "rep_id": self.cs_reps[self.acc_cs_rep[accounts[row]]], "lead_id": np.full(n, None, dtype=object),
            "opportunity_id": np.full(n, None, dtype=object), "account_id": self.acc_id[accounts[row]], "type": kind,
            "direction": _labels(np.where(rng.random(n) < 0.2, "inbound", "outbound")),
            "connected": _nullable(rng.random(n) < 0.7, kind != "call"),
        })

    def _activity(self, part: dict[str, np.ndarray]) -> None:
        """Keep a batch of activities; when writing files, as a Parquet part of its own right away."""
        if self.folder is None:
            self.activities.append(part)
            return
        path = self.folder / f".activities-{len(self.activity_files)}.parquet"
        table = contract.table("activities")
        columns = {c: _arrow(part[c], table.column(c).type) for c in part}
        part_no = pa.array(np.full(len(part["occurred_at"]), len(self.activity_files), np.int32))
        pq.write_table(pa.table({**columns, "part": part_no}), path)
        self.activity_files.append(path)

    def _activities_table(self) -> None:
        """All activities in time order (ties in the order they were made) with ids AT0000001, …"""
        if self.folder is None:
            parts, self.activities = self.activities, []
            order = np.argsort(np.concatenate([a["occurred_at"] for a in parts]), kind="stable")
            ids = np.char.add("AT", np.char.zfill(np.arange(1, len(order) + 1).astype(str), ACTIVITY_ID_WIDTH))
            self.tables["activities"] = {"activity_id": ids, **{k: np.concatenate([a.pop(k) for a in parts])[order]
                                                                for k in list(parts[0])}}
            return
        # the same order and ids from the Parquet parts, sorted by DuckDB within a memory cap
        path = self.folder / "activities.parquet"
        columns = ", ".join("date_trunc('second', occurred_at) AS occurred_at" if c == "occurred_at" else c
                            for c in contract.table("activities").column_names if c != "activity_id")
        by = "occurred_at, part, file_row_number"
        number = f"CAST(row_number() OVER (ORDER BY {by}) AS VARCHAR)"
        activity_id = f"'AT' || lpad({number}, CAST(greatest($width, length({number})) AS INTEGER), '0')"
        with duckdb.connect(config={"memory_limit": ASSEMBLY_MEMORY_LIMIT}) as con:
            con.sql(f"SELECT {activity_id} AS activity_id, {columns} "
                    f"FROM read_parquet($files, union_by_name = true, file_row_number = true) ORDER BY {by}",
                    params={"files": [str(f) for f in self.activity_files], "width": ACTIVITY_ID_WIDTH},
                    ).write_parquet(str(path))
        for f in self.activity_files:
            f.unlink()
        self.files["activities"] = path

    # --- touchpoints ------------------------------------------------------------------------------

    def _touchpoints(self) -> None:
        """Web and email behaviour of a subset of inbound leads (all SQLs), plus seminar attendance."""
        cal, rng = self.cal, self.rng
        n = self.n_leads
        created = self.lead_created
        sql = ~np.isnat(self.lead_qualified)
        tracked = sql | (~self.lead_outbound & (rng.random(n) < 0.6))
        k = np.where(tracked, 1 + rng.poisson(np.where(sql, 5.0, 2.0)), 0)
        i = np.repeat(np.arange(n), k)
        until = np.minimum(np.where(sql, self.lead_qualified, created + 40 * DAY), cal.end - SECOND)[i]
        when = np.minimum(created[i] - 10 * DAY + _td(rng.random(len(i)) * _days_between(created[i] - 10 * DAY, until)),
                          until)
        demo_p = np.where(sql[i], 0.2, 0.05)
        u = rng.random(len(i))
        kind = _labels(np.select([u < demo_p, u < demo_p + 0.2, u < demo_p + 0.3],
                         ["demo_link_click", "email_open", "email_click"],
                         "page_view"))
        pages = _choice(rng, tuple(SITE + page for page in PAGES), len(i))
        url = np.select([kind == "demo_link_click", kind == "email_open"],
                        [np.full(len(i), f"{SITE}/demo", dtype=object), np.full(len(i), None, dtype=object)], pages)
        url = self._utm_tagged(url, kind)
        attend = np.flatnonzero(~np.isnat(self.lead_event) & (self.lead_event < cal.end) & (rng.random(n) < 0.65))
        order = np.argsort(np.concatenate([when, self.lead_event[attend]]), kind="stable")
        self.tables["touchpoints"] = {
            "occurred_at": np.concatenate([when, self.lead_event[attend]])[order],
            "lead_id": self.lead_id[np.concatenate([i, attend])][order],
            "type": np.concatenate([kind, np.full(len(attend), "seminar_attend", dtype=object)])[order],
            "url": np.concatenate([url, np.full(len(attend), None, dtype=object)])[order],
        }

    def _utm_tagged(self, url: np.ndarray, kind: np.ndarray) -> np.ndarray:
        """Tag some touches with the campaign that brought them (utm_campaign), the way web analytics
        records them: retargeting page views and e-mail ad clicks. Multi-touch attribution reads these.
        Its own random stream, so the rest of the demo is the same with or without it."""
        rng = np.random.default_rng([self.seed, 7])
        url = url.copy()
        for touch, campaign, share in UTM_TOUCHES:
            hit = (kind == touch) & (rng.random(len(url)) < share)
            url[hit] = url[hit] + f"?utm_source=ads&utm_campaign={campaign}"
        return url

    # --- targets ------------------------------------------------------------------------------------

    def _targets(self) -> None:
        """A plan per department and metric: the actuals' linear trend over the window, stretched a
        little in the desirable direction, so some months meet it and some miss."""
        cal = self.cal
        months = cal.ms[BURN_IN_MONTHS:cal.T + 1]

        def per_month(times: np.ndarray, values: np.ndarray | None = None) -> np.ndarray:
            idx = np.searchsorted(months, np.asarray(times, "datetime64[ns]"), side="right") - 1
            ok = (idx >= 0) & (idx < WINDOW_MONTHS)
            w = None if values is None else np.asarray(values, float)[ok]
            return np.bincount(idx[ok], weights=w, minlength=WINDOW_MONTHS)

        opps = self.tables["opportunities"]
        won = opps["is_won"]
        won_deals = per_month(opps["closed_at"][won])
        new_mrr = per_month(opps["closed_at"][won], opps["amount"][won])
        ad = np.isin(self.lead_campaign, [a.campaign_id for a in ADS])
        spend = self.tables["ad_spend_daily"]
        mrr = self.subs.mrr_at(cal.ms[BURN_IN_MONTHS:cal.T + 1] - DAY, self.n_accounts)  # month ends
        prev, cur = mrr[:, :-1], mrr[:, 1:]
        base = prev.sum(axis=0)
        paying = prev > 0
        churned = paying & (cur == 0)
        diff = np.where(paying & ~churned, cur - prev, 0)
        lost = (prev * churned).sum(axis=0) - np.minimum(diff, 0).sum(axis=0)
        gained = np.maximum(diff, 0).sum(axis=0)
        customer_churn = churned.sum(axis=0) / paying.sum(axis=0)
        nrr = 1 - (lost - gained) / base
        leads = per_month(self.lead_created)
        actual = {
            "new_leads": leads, "meetings": per_month(self.meet_time), "opportunities": per_month(opps["created_at"]),
            "won_deals": won_deals, "average_deal_size": new_mrr / np.maximum(won_deals, 1), "new_mrr": new_mrr,
            "ending_mrr": cur.sum(axis=0), "customer_churn_rate": customer_churn,
            "net_revenue_churn_rate": 1 - nrr, "grr": 1 - lost / base, "nrr": nrr,
            "target_leads": per_month(self.lead_created[self.lead_target]),
            "cpl": per_month(spend["date"], spend["cost"]) / np.maximum(per_month(self.lead_created[ad]), 1),
            "sqls": per_month(self.lead_qualified[~np.isnat(self.lead_qualified)]),
        }
        plan = [
            ("sales_ops", m, m) for m in ("new_leads", "meetings", "opportunities", "won_deals", "average_deal_size",
                                          "new_mrr", "ending_mrr", "customer_churn_rate", "net_revenue_churn_rate",
                                          "grr", "nrr")
        ] + [("marketing", "leads", "new_leads"), ("marketing", "target_leads", "target_leads"),
             ("marketing", "cpl", "cpl"),
             ("inside_sales", "sqls", "sqls"), ("field_sales", "won_deals", "won_deals"),
             ("field_sales", "new_mrr", "new_mrr"), ("customer_success", "customer_churn_rate", "customer_churn_rate"),
             ("customer_success", "nrr", "nrr")]
        x = np.arange(WINDOW_MONTHS)
        cols: dict[str, list] = {"month": [], "department": [], "metric": [], "target": []}
        for department, metric, source in plan:
            trend = np.polyval(np.polyfit(x, actual[source], 1), x)
            if metric in ("customer_churn_rate", "net_revenue_churn_rate"):
                target = np.round(trend - 0.001, 4)
            elif metric in ("grr", "nrr"):
                target = np.round(trend + 0.001, 4)
            elif metric == "cpl":
                target = np.round(trend * (1 - PLAN_STRETCH), -1)
            elif metric in ("average_deal_size", "new_mrr", "ending_mrr"):
                target = np.round(trend * (1 + PLAN_STRETCH), -3)
            else:
                target = np.round(trend * (1 + PLAN_STRETCH))
            cols["month"] += list(months[:WINDOW_MONTHS])
            cols["department"] += [department] * WINDOW_MONTHS
            cols["metric"] += [metric] * WINDOW_MONTHS
            cols["target"] += list(target)
        self.tables["targets"] = {k: np.asarray(v) for k, v in cols.items()}


def _arrow(values: np.ndarray, type_: str) -> pa.Array:
    """One column as Arrow, typed as the contract says (text and nullable flags may be objects)."""
    kind = {"string": pa.string(), "bool": pa.bool_(), "int": pa.int64(), "float": pa.float64()}.get(type_)
    return pa.array(values, type=kind) if kind is not None else pa.array(values)


def _frame(table: contract.Table, data: dict[str, np.ndarray]) -> pd.DataFrame:
    """The contract table as a DataFrame with contract column order and dtypes."""
    out = {}
    for col in table.columns:
        values = data[col.name]
        if col.type == "string":  # fixed-width numpy text goes to Arrow without Python objects
            text = values if values.dtype.kind == "U" else np.asarray(values, dtype=object)
            out[col.name] = pd.array(text, dtype="str")
        elif col.type == "int":
            out[col.name] = pd.array(values, dtype="Int64") if col.nullable else np.asarray(values, np.int64)
        elif col.type == "float":
            out[col.name] = np.asarray(values, np.float64)
        elif col.type == "bool":
            out[col.name] = pd.array(values, dtype="boolean") if col.nullable else np.asarray(values, bool)
        else:
            ts = pd.to_datetime(pd.Series(values)).astype("datetime64[ns]")
            out[col.name] = ts.dt.normalize() if col.type == "date" else ts.dt.floor("s")
    return pd.DataFrame(out, columns=table.column_names)
