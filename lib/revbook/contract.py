"""The data contract: every lake table revbook reads, as DESIGN.md defines it.

One declaration drives validation (`revbook check`), loading (`revbook load`), the demo
generator's output schema and the warehouse DDL, so the four can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

ColumnType = Literal["string", "int", "float", "bool", "date", "timestamp"]

#: Warehouse type per contract type (DuckDB spelling; sqlglot maps them to BigQuery).
SQL_TYPES: dict[str, str] = {
    "string": "VARCHAR",
    "int": "BIGINT",
    "float": "DOUBLE",
    "bool": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
}

DEPARTMENTS = ("sales_ops", "marketing", "inside_sales", "field_sales", "customer_success")
TEAMS = ("marketing", "inside_sales", "field_sales", "customer_success")
SEGMENTS = ("smb", "mid", "enterprise")
CHANNELS = (
    "listing_ads", "display_ads", "social_ads", "email_ads", "exhibition", "seminar",
    "webinar", "whitepaper", "referral", "organic", "outbound",
)
LEAD_SOURCES = (
    "document_request", "trial", "whitepaper", "seminar", "exhibition", "contact_form",
    "referral", "list",
)
DIRECTIONS = ("inbound", "outbound")
LEAD_STATUSES = ("new", "working", "nurturing", "recycled", "qualified", "disqualified")
TOUCHPOINT_TYPES = ("page_view", "demo_link_click", "email_open", "email_click", "seminar_attend")
ACTIVITY_TYPES = ("call", "email", "meeting", "demo", "seminar_invite")
STAGES = ("qualification", "proposal", "negotiation", "keep_interest", "closed_won", "closed_lost")
PRIORITIES = ("low", "medium", "high", "urgent")


@dataclass(frozen=True)
class Column:
    """One contract column: type, nullability and the value rules checked on it."""

    name: str
    type: ColumnType
    nullable: bool = False
    enum: tuple[str, ...] | None = None
    open_enum: bool = False  # enum lists the known values; others are kept, with a warning (lead source, ...)
    non_negative: bool = False
    past: bool = False  # an event that happened: never after the time of the check
    references: str | None = None  # "table.column" this column must point into

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.type]


@dataclass(frozen=True)
class Table:
    """One contract table; `key` columns are unique together (empty = no key). A warehouse stores
    the rows sorted by `cluster_by`, so scans of a date range skip the rest of a large table."""

    name: str
    label: str  # what the table holds, for readers: "No ad spend loaded (ad_spend_daily)"
    columns: tuple[Column, ...]
    key: tuple[str, ...] = field(default=())
    cluster_by: tuple[str, ...] = field(default=())

    @property
    def named(self) -> str:
        """"ad spend (ad_spend_daily)": what the table holds, with its name where the two differ."""
        return self.name if self.label == self.name else f"{self.label} ({self.name})"

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def _c(name: str, type_: ColumnType = "string", **rules: Any) -> Column:
    """A column; every timestamp records something that happened, so it may not lie in the future."""
    rules.setdefault("past", type_ == "timestamp")
    return Column(name, type_, **rules)


TABLES: tuple[Table, ...] = (
    Table("reps", "reps", (
        _c("rep_id"), _c("name"), _c("team", enum=TEAMS),
        _c("segment", nullable=True, enum=SEGMENTS, open_enum=True),
        _c("monthly_sql_capacity", "int", nullable=True, non_negative=True),
        _c("active", "bool"),
    ), key=("rep_id", "team")),  # one row per rep and team: a rep may be on more than one
    Table("campaigns", "campaigns", (
        _c("campaign_id"), _c("name"), _c("channel", enum=CHANNELS, open_enum=True),
        _c("platform", nullable=True),  # open set: google_ads, yahoo_ads, facebook_ads, x_ads, ...
        _c("start_date", "date"), _c("end_date", "date", nullable=True),
        _c("budget", "float", nullable=True, non_negative=True),
    ), key=("campaign_id",)),
    Table("ad_spend_daily", "ad spend", (
        _c("date", "date", past=True), _c("campaign_id", references="campaigns.campaign_id"),
        _c("creative_id", nullable=True),
        _c("impressions", "int", non_negative=True), _c("clicks", "int", non_negative=True),
        _c("cost", "float", non_negative=True),
    ), key=("date", "campaign_id", "creative_id")),
    Table("accounts", "accounts", (
        _c("account_id"), _c("name", nullable=True), _c("industry", nullable=True),
        _c("employee_count", "int", nullable=True, non_negative=True), _c("region", nullable=True),
        _c("created_at", "timestamp"),
    ), key=("account_id",)),
    Table("leads", "leads", (
        _c("lead_id"), _c("created_at", "timestamp"),
        _c("account_id", nullable=True, references="accounts.account_id"),
        _c("company_name", nullable=True), _c("industry", nullable=True),
        _c("employee_count", "int", nullable=True, non_negative=True),
        _c("region", nullable=True), _c("lead_source", enum=LEAD_SOURCES, open_enum=True),
        _c("campaign_id", nullable=True, references="campaigns.campaign_id"),
        _c("creative_id", nullable=True), _c("direction", enum=DIRECTIONS),
        _c("owner_rep_id", nullable=True, references="reps.rep_id"),
        _c("status", enum=LEAD_STATUSES), _c("recycle_reason", nullable=True),
        _c("next_approach_date", "date", nullable=True),
        _c("qualified_at", "timestamp", nullable=True),
        _c("opportunity_id", nullable=True, references="opportunities.opportunity_id"),
        _c("counterpart_department", nullable=True), _c("counterpart_title", nullable=True),
    ), key=("lead_id",)),
    Table("touchpoints", "touchpoints", (
        _c("occurred_at", "timestamp"), _c("lead_id", references="leads.lead_id"),
        _c("type", enum=TOUCHPOINT_TYPES), _c("url", nullable=True),
    )),
    Table("activities", "sales activities", (
        _c("activity_id"), _c("occurred_at", "timestamp"),
        _c("rep_id", references="reps.rep_id"),
        _c("lead_id", nullable=True, references="leads.lead_id"),
        _c("opportunity_id", nullable=True, references="opportunities.opportunity_id"),
        _c("account_id", nullable=True, references="accounts.account_id"),
        _c("type", enum=ACTIVITY_TYPES), _c("direction", enum=DIRECTIONS),
        _c("connected", "bool", nullable=True),
    ), key=("activity_id",)),
    Table("opportunities", "opportunities", (
        _c("opportunity_id"), _c("account_id", references="accounts.account_id"),
        _c("lead_id", nullable=True, references="leads.lead_id"),
        _c("owner_rep_id", references="reps.rep_id"),
        _c("created_at", "timestamp", nullable=True),  # missing: its first stage entry (load)
        _c("stage", enum=STAGES), _c("amount", "float", non_negative=True), _c("product"),
        _c("closed_at", "timestamp", nullable=True), _c("is_won", "bool"),
        _c("loss_reason", nullable=True),
        _c("first_meeting_attendees", "int", nullable=True, non_negative=True),
    ), key=("opportunity_id",)),
    Table("opportunity_stage_history", "stage history", (
        _c("opportunity_id", references="opportunities.opportunity_id"),
        _c("stage", enum=STAGES), _c("entered_at", "timestamp"),
    ), key=("opportunity_id", "stage", "entered_at")),
    Table("subscriptions", "subscriptions", (
        _c("subscription_id"), _c("account_id", references="accounts.account_id"),
        _c("plan"), _c("mrr", "float", non_negative=True),
        _c("start_date", "date"), _c("end_date", "date", nullable=True),
    ), key=("subscription_id",)),
    Table("product_usage_daily", "product usage", (
        _c("date", "date", past=True), _c("account_id", references="accounts.account_id"),
        _c("event_type"),  # open set: login, active_user, error, feature_<name>, ...
        _c("count", "int", non_negative=True),
    ), key=("date", "account_id", "event_type"), cluster_by=("date", "account_id", "event_type")),
    Table("support_tickets", "support tickets", (
        _c("ticket_id"), _c("account_id", references="accounts.account_id"),
        _c("created_at", "timestamp"), _c("category"), _c("priority", enum=PRIORITIES),
        _c("resolved_at", "timestamp", nullable=True),
    ), key=("ticket_id",)),
    Table("targets", "plan targets", (
        _c("month", "date"), _c("department", enum=DEPARTMENTS), _c("metric"),
        _c("target", "float"),
    ), key=("month", "department", "metric")),
)

TABLES_BY_NAME: dict[str, Table] = {t.name: t for t in TABLES}


def table(name: str) -> Table:
    """The contract table called `name`; a KeyError names the known tables."""
    try:
        return TABLES_BY_NAME[name]
    except KeyError:
        raise KeyError(f"no contract table {name!r}; known: {', '.join(TABLES_BY_NAME)}") from None
