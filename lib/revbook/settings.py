"""params/: business settings (company.yaml), schedules (monthly/weekly/daily.yaml) and the
warehouse (warehouse.yaml).

Both are validated with pydantic on load, so a typo'd key or a wrong type is an error that
names the file and the key, not a silent default.
"""

from __future__ import annotations

import os
import zoneinfo
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from revbook import contract, paths
from revbook.contract import CHANNELS, SEGMENTS, TEAMS
from revbook.periods import SCHEDULE_KINDS, Kind


class SettingsError(ValueError):
    """A params file that is missing, not YAML, or does not fit its schema."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Alerts(_Strict):
    no_login_days: int = Field(default=20, ge=1)
    usage_drop_pct: float = Field(default=40, gt=0, le=100)
    open_high_priority_days: int = Field(default=14, ge=1)
    feature_intro_score: float = Field(default=85, gt=0, le=100)  # healthy look-alikes of past upsells


class Health(_Strict):
    """The customer health score (0-100): bands, and optional weights that replace the fitted ones."""

    red_below: float = Field(default=40, gt=0, lt=100)
    green_from: float = Field(default=70, gt=0, lt=100)
    weights: dict[str, float] | None = None  # driver → churn log-odds per standard deviation
    onboarding_login_days: int = Field(default=10, ge=1)  # login days in the first 30 that complete onboarding

    def model_post_init(self, _: Any) -> None:
        if self.red_below >= self.green_from:
            raise ValueError(f"red_below ({self.red_below}) must be below green_from ({self.green_from})")


class HotLeads(_Strict):
    min_page_views: int = Field(default=5, ge=1)
    window_days: int = Field(default=14, ge=1)
    # which leads a period's hot-lead count holds: those that became hot during it, or those hot at its end
    count: Literal["became_hot", "hot_at_end"] = "became_hot"


#: Channels whose spend buys leads, by default: every contract channel but the unpaid ones.
UNPAID_CHANNELS = ("referral", "organic", "outbound")


class Company(_Strict):
    """params/company.yaml."""

    company_name: str
    currency: str = "JPY"
    currency_symbol: str = "¥"
    target_industries: list[str]
    gross_margin: float = Field(default=0.8, gt=0, le=1)
    fs_capacity_by_segment: dict[str, int]
    idle_deal_days: int = Field(default=30, ge=1)
    keep_interest_cap: int = Field(default=100, ge=0)
    budget_step: float = Field(default=0.5, gt=0, le=1)  # the budget view moves a channel's spend by at most this
    alerts: Alerts = Alerts()
    health: Health = Health()
    hot_leads: HotLeads = HotLeads()
    # Conventions: choices where vendors disagree (README, "Conventions"); each default is revbook's.
    timezone: str = "UTC"  # IANA name: months, weeks and days are cut in it; storage stays UTC
    # subscriptions.end_date: the first day no longer paid (exclusive), or the last day paid (inclusive)
    subscription_end: Literal["exclusive", "inclusive"] = "exclusive"
    same_month_new_and_churn: Literal["drop", "count_both"] = "drop"  # an account that starts and ends within one month
    # month-ends without MRR after which an account's return is reactivation, not new
    reactivation_after_months: int = Field(default=1, ge=1)
    paid_channels: list[str] = Field(default_factory=lambda: [c for c in CHANNELS if c not in UNPAID_CHANNELS],
                                     min_length=1)  # whose spend and revenue ROAS, ROI and CAC count
    # CAC adds the month's sales cost: targets metric sales_cost, else sales_cost_monthly
    cac_includes_sales_cost: bool = False
    sales_cost_monthly: float | None = Field(default=None, ge=0)  # sales cost a month, where targets hold none

    def model_post_init(self, _: Any) -> None:
        unknown = set(self.fs_capacity_by_segment) - set(SEGMENTS)
        if unknown:
            raise ValueError(f"fs_capacity_by_segment: unknown segments {sorted(unknown)}; use {SEGMENTS}")
        try:
            zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"timezone: {self.timezone!r} is not an IANA time zone (e.g. Asia/Tokyo, UTC)") from None


class BigQueryConfig(_Strict):
    """params/warehouse.yaml `bigquery:`: where the lake is and what a query may cost."""

    project: str = Field(min_length=1)
    dataset: str = Field(min_length=1)
    location: str = "US"
    maximum_bytes_billed: int = Field(default=10 * 1024**3, gt=0)  # per query; over it the query fails unbilled
    price_per_tib: float = Field(default=6.25, ge=0)  # on-demand USD per TiB scanned, for estimates
    tables: dict[str, str] = {}  # contract table → lake table, for tables named differently
    retry_initial_s: float = Field(default=1.0, gt=0)  # first back-off of a transient error; doubles
    retry_timeout_s: float = Field(default=120.0, gt=0)  # give up retrying after this long

    def model_post_init(self, _: Any) -> None:
        unknown = set(self.tables) - {t.name for t in contract.TABLES}
        if unknown:
            raise ValueError(f"tables: {sorted(unknown)} are not contract tables "
                             f"({', '.join(t.name for t in contract.TABLES)})")


class DuckDBConfig(_Strict):
    """The embedded engine's limits in each report's kernel."""

    memory_limit: str = Field(default="384MB", description="DuckDB's memory per connection; it spills to disk beyond")


class WarehouseConfig(_Strict):
    """params/warehouse.yaml: which engine the reports read."""

    engine: Literal["duckdb", "bigquery"] = "duckdb"
    duckdb: DuckDBConfig = DuckDBConfig()
    bigquery: BigQueryConfig | None = None

    def model_post_init(self, _: Any) -> None:
        if self.engine == "bigquery" and self.bigquery is None:
            raise ValueError("engine is bigquery but there is no `bigquery:` section (project, dataset)")


class Job(_Strict):
    """One scheduled notebook: notebooks/<notebook>.ipynb with extra parameters."""

    notebook: str
    parameters: dict[str, Any] = {}
    per_rep: str | None = Field(default=None, description=f"fan out to every active rep of this team: {TEAMS}")

    def model_post_init(self, _: Any) -> None:
        if self.per_rep is not None and self.per_rep not in TEAMS:
            raise ValueError(f"per_rep must be one of {TEAMS}, not {self.per_rep!r}")


class Schedule(_Strict):
    """params/<monthly|weekly|daily>.yaml, or a schedule file of one's own (`revbook run path/to/file.yaml`)."""

    period: Kind | None = None  # what the run's --period names: month, week or day (monthly.yaml … imply it)
    jobs: list[Job]


def _read(path: Path) -> Any:
    if not path.is_file():
        raise SettingsError(f"{path} does not exist")
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise SettingsError(f"{path} is not valid YAML: {exc}") from None


def _model(model: type[BaseModel], path: Path) -> Any:
    return _validate(model, _read(path) or {}, str(path))


def _validate(model: type[BaseModel], data: Any, where: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}" for e in exc.errors()
        )
        raise SettingsError(f"{where}: {problems}") from None


@cache
def company() -> Company:
    """The business settings in params/company.yaml."""
    return _model(Company, paths.params_dir() / "company.yaml")


ENGINE_ENV = "REVBOOK_ENGINE"


def warehouse() -> WarehouseConfig:
    """params/warehouse.yaml (absent: the embedded DuckDB); REVBOOK_ENGINE=duckdb|bigquery overrides
    its engine."""
    path = paths.params_dir() / "warehouse.yaml"
    data = (_read(path) or {}) if path.is_file() else {}
    if engine := os.environ.get(ENGINE_ENV):
        data = {**data, "engine": engine}
    return _validate(WarehouseConfig, data, f"{path}" + (f" with {ENGINE_ENV}={engine}" if engine else ""))


def schedule_file(name: str) -> Path:
    """The file of schedule `name`: params/<name>.yaml for monthly, weekly or daily, else `name` itself
    when it is a .yaml file."""
    if name in SCHEDULE_KINDS:
        return paths.params_dir() / f"{name}.yaml"
    if name.endswith((".yaml", ".yml")):
        return Path(name)
    raise SettingsError(f"unknown schedule {name!r}: choose one of {', '.join(SCHEDULE_KINDS)}, "
                        "or name a schedule file (path/to/schedule.yaml)")


def schedule_name(name: str) -> str:
    """How a run of schedule `name` is recorded: monthly, weekly, daily or the schedule file's stem."""
    return Path(name).stem if name not in SCHEDULE_KINDS else name


def schedule(name: str) -> Schedule:
    """Schedule `name` (see `schedule_file`), its `period` kind filled in: a schedule file of one's own
    names it; monthly.yaml, weekly.yaml and daily.yaml imply it."""
    path = schedule_file(name)
    sched = _model(Schedule, path)
    implied = SCHEDULE_KINDS.get(path.stem)
    if sched.period is None and implied is None:
        raise SettingsError(f"{path}: say which period it covers, e.g. 'period: month' (month, week or day)")
    if sched.period is not None and implied is not None and sched.period != implied:
        raise SettingsError(f"{path}: period: {sched.period} does not fit a schedule named {path.stem} ({implied})")
    return sched.model_copy(update={"period": sched.period or implied})
