"""The production engine: the same marts on Google BigQuery, with bound parameters and a cost guard.

Mart SQL is transpiled from DuckDB's dialect by sqlglot (`Warehouse.mart_query`); `$name`
parameters become `@name` query parameters typed from their Python values. Every query carries
`maximum_bytes_billed` from params/warehouse.yaml and job labels (report, period, mart), so a query
over the cap fails instead of billing and teams can trace spend. Table names in the SQL resolve in
the configured dataset, through the optional mapping for lake tables named differently.
Credentials come from Application Default Credentials (or GOOGLE_APPLICATION_CREDENTIALS), never
from params; BIGQUERY_EMULATOR_HOST points the client at a local stand-in with no credentials.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import sqlglot
from google.api_core import exceptions as gexc
from google.api_core.retry import Retry
from google.cloud import bigquery
from google.cloud.bigquery.retry import DEFAULT_RETRY
from sqlglot import exp

from revbook import contract
from revbook.data.warehouse import PERIOD_ENV, REPORT_ENV, Warehouse, WarehouseError
from revbook.settings import BigQueryConfig

#: Environment variables the runner sets for each report, copied into job labels.
LABEL_ENV = {"report": REPORT_ENV, "period": PERIOD_ENV}
EMULATOR_ENV = "BIGQUERY_EMULATOR_HOST"
AUTH_HELP = ("run `gcloud auth application-default login`, or set GOOGLE_APPLICATION_CREDENTIALS to a "
             "service-account key file; the account needs BigQuery Data Viewer on the dataset and "
             "BigQuery Job User on the project")


def label_value(text: str) -> str:
    """A BigQuery label value: lowercase letters, digits, _ and -, at most 63 characters."""
    return re.sub(r"[^a-z0-9_-]", "_", text.lower())[:63]


def parameter(name: str, value: Any) -> bigquery.ScalarQueryParameter | bigquery.ArrayQueryParameter:
    """A query parameter typed from its Python value; lists become ARRAY parameters."""
    if isinstance(value, (list, tuple, np.ndarray, pd.Series)):
        values = [_scalar(name, v) for v in value]
        kind = values[0][0] if values else "STRING"
        if any(k != kind for k, _ in values):
            raise WarehouseError(f"parameter {name!r}: a list must hold values of one type")
        return bigquery.ArrayQueryParameter(name, kind, [v for _, v in values])
    kind, converted = _scalar(name, value)
    return bigquery.ScalarQueryParameter(name, kind, converted)


def _scalar(name: str, value: Any) -> tuple[str, Any]:
    if isinstance(value, (bool, np.bool_)):
        return "BOOL", bool(value)
    if isinstance(value, (int, np.integer)):
        return "INT64", int(value)
    if isinstance(value, (float, np.floating)):
        return "FLOAT64", float(value)
    if isinstance(value, str):
        return "STRING", value
    if isinstance(value, (dt.datetime, pd.Timestamp)):  # revbook timestamps are UTC instants
        ts = pd.Timestamp(value)
        return "TIMESTAMP", (ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")).to_pydatetime()
    if isinstance(value, dt.date):
        return "DATE", value
    raise WarehouseError(f"parameter {name!r}: cannot bind a {type(value).__name__} ({value!r})")


def like_duckdb(frame: pd.DataFrame) -> pd.DataFrame:
    """BigQuery's result dtypes as the DuckDB engine returns them, so reports see one shape: DATE and
    TIMESTAMP as zone-less datetime64 (UTC), NUMERIC as float, INT64 and BOOL without nulls as plain
    int64 and bool."""
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if str(series.dtype) == "dbdate":
            out[column] = series.astype("datetime64[us]")
        elif isinstance(series.dtype, pd.DatetimeTZDtype):
            out[column] = series.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[us]")
        elif str(series.dtype) == "boolean" and not series.isna().any():
            out[column] = series.astype(bool)
        elif str(series.dtype) == "Int64" and not series.isna().any():
            out[column] = series.astype("int64")
        elif series.dtype == object and series.map(lambda v: v.__class__.__name__ == "Decimal").any():
            out[column] = series.astype(float)
    return out


class BigQueryWarehouse(Warehouse):
    """The contract tables in one BigQuery dataset (params/warehouse.yaml `bigquery:`)."""

    dialect = "bigquery"

    def __init__(self, config: BigQueryConfig, client: bigquery.Client | None = None,
                 environ: Mapping[str, str] | None = None, timezone: str | None = None):
        """`timezone` (IANA) replaces the company's for the periods marts cut (`Warehouse.zone`)."""
        self.config = config
        self.timezone = timezone
        self.environ = os.environ if environ is None else environ
        self.client = client or self._client()
        self.retry = Retry(predicate=DEFAULT_RETRY._predicate, initial=config.retry_initial_s, maximum=30.0,
                           multiplier=2.0, timeout=config.retry_timeout_s)

    # ------------------------------------------------------------- connection

    def _client(self) -> bigquery.Client:
        if self.environ.get(EMULATOR_ENV):
            from google.auth.credentials import AnonymousCredentials

            return bigquery.Client(project=self.config.project, credentials=AnonymousCredentials(),
                                   location=self.config.location,
                                   client_options={"api_endpoint": self.environ[EMULATOR_ENV]})
        import google.auth
        from google.auth.exceptions import DefaultCredentialsError

        try:
            credentials, _ = google.auth.default(scopes=["https://www.googleapis.com/auth/bigquery"])
        except DefaultCredentialsError:
            raise WarehouseError(f"BigQuery: no Google credentials found: {AUTH_HELP}") from None
        return bigquery.Client(project=self.config.project, credentials=credentials, location=self.config.location)

    def describe(self) -> str:
        return f"BigQuery {self.dataset}"

    @property
    def dataset(self) -> str:
        return f"{self.config.project}.{self.config.dataset}"

    def table_name(self, table: str) -> str:
        """The lake table holding contract table `table` (the mapping, else the same name)."""
        return self.config.tables.get(table, table)

    def _mapping_note(self) -> str:
        if not self.config.tables:
            return "no table mapping in params/warehouse.yaml"
        return "table mapping: " + ", ".join(f"{k} → {v}" for k, v in sorted(self.config.tables.items()))

    def qualify(self, sql: str) -> str:
        """`sql` with every table that is not a CTE named in full: project.dataset.<mapped name>."""
        tree = sqlglot.parse_one(sql, read="bigquery")
        ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
        for table in tree.find_all(exp.Table):
            if table.name and not table.args.get("db") and table.name not in ctes and isinstance(table.this,
                                                                                                  exp.Identifier):
                mapped = self.table_name(table.name)
                table.set("this", exp.to_identifier(mapped, quoted=True))
                table.set("db", exp.to_identifier(self.config.dataset, quoted=True))
                table.set("catalog", exp.to_identifier(self.config.project, quoted=True))
        return tree.sql("bigquery")

    def labels(self, mart: str | None = None) -> dict[str, str]:
        labels = {"app": "revbook"}
        for key, var in LABEL_ENV.items():
            if self.environ.get(var):
                labels[key] = label_value(self.environ[var])
        if mart:
            labels["mart"] = label_value(mart)
        return labels

    # ------------------------------------------------------------- queries

    def _job_config(self, params: Mapping[str, Any] | None, mart: str | None, dry_run: bool
                    ) -> bigquery.QueryJobConfig:
        return bigquery.QueryJobConfig(
            query_parameters=[parameter(k, v) for k, v in (params or {}).items()],
            maximum_bytes_billed=self.config.maximum_bytes_billed, labels=self.labels(mart),
            dry_run=dry_run, use_query_cache=not dry_run)

    def _run(self, sql: str, params: Mapping[str, Any] | None, mart: str | None, dry_run: bool
             ) -> bigquery.QueryJob:
        what = f"mart {mart}" if mart else "query"
        def attempt() -> bigquery.QueryJob:
            # job_retry=None: the client's own job retry ignores our timeout (600 s); ours wraps the job
            job = self.client.query(self.qualify(sql), job_config=self._job_config(params, mart, dry_run),
                                    location=self.config.location, retry=self.retry, job_retry=None)
            if not dry_run:
                job.result(retry=self.retry, job_retry=None)
            return job

        try:
            return self.retry(attempt)()
        except gexc.NotFound as exc:
            raise WarehouseError(f"BigQuery: {what}: not found in {self.dataset} ({_reason(exc)}); "
                                 f"{self._mapping_note()}") from None
        except gexc.Forbidden as exc:
            if "bytesBilledLimitExceeded" in str(exc) or _has_reason(exc, "bytesBilledLimitExceeded"):
                raise self._over_cap(sql, params, mart) from None
            raise WarehouseError(f"BigQuery: {what}: permission denied on {self.dataset} ({_reason(exc)}); "
                                 f"{AUTH_HELP}") from None
        except gexc.BadRequest as exc:
            if _has_reason(exc, "bytesBilledLimitExceeded"):
                raise self._over_cap(sql, params, mart) from None
            raise WarehouseError(f"BigQuery: {what} was rejected: {_reason(exc)}") from None
        except (gexc.RetryError, gexc.ServerError, gexc.TooManyRequests, ConnectionError) as exc:
            raise WarehouseError(f"BigQuery: {what} still failing after retries for "
                                 f"{self.config.retry_timeout_s:g} s: {_reason(exc)}") from None

    def _over_cap(self, sql: str, params: Mapping[str, Any] | None, mart: str | None) -> WarehouseError:
        report = self.environ.get(LABEL_ENV["report"], "this run")
        try:
            estimate = f"a dry run estimates {human_bytes(self._run(sql, params, mart, True).total_bytes_processed)}"
        except WarehouseError:
            estimate = "no dry-run estimate available"
        return WarehouseError(
            f"BigQuery: {report}: {f'mart {mart}' if mart else 'a query'} would bill more than "
            f"maximum_bytes_billed ({human_bytes(self.config.maximum_bytes_billed)}); {estimate}. Raise the cap "
            "in params/warehouse.yaml if that is expected.")

    def query(self, sql: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
        return self._frame(self._run(sql, params, None, False))

    def run_mart(self, name: str, params: Mapping[str, Any]) -> pd.DataFrame:
        job = self._run(self.mart_query(name), params, name, False)
        self.last_bytes_billed = int(job.total_bytes_billed or 0)
        return self._frame(job)

    def estimate(self, name: str, **params: Any) -> int:
        """Bytes mart `name` would scan with `params`, from a BigQuery dry run (free)."""
        self.check_parameters(name, params)
        return int(self._run(self.mart_query(name), params, name, True).total_bytes_processed or 0)

    def _frame(self, job: bigquery.QueryJob) -> pd.DataFrame:
        rows = job.result(retry=self.retry, job_retry=None)
        with warnings.catch_warnings():  # 3.x suggests pandas-gbq; this client call is what it wraps
            warnings.simplefilter("ignore", PendingDeprecationWarning)
            return like_duckdb(rows.to_dataframe(create_bqstorage_client=_storage_api_installed()))

    # ------------------------------------------------------------- metadata

    def table_columns(self, table: str) -> dict[str, str] | None:
        try:
            found = self.client.get_table(f"{self.dataset}.{self.table_name(table)}", retry=self.retry)
        except gexc.NotFound:
            self._check_dataset()
            return None
        except gexc.Forbidden as exc:
            raise WarehouseError(f"BigQuery: permission denied reading {self.dataset}.{self.table_name(table)} "
                                 f"({_reason(exc)}); {AUTH_HELP}") from None
        return {f.name: f.field_type for f in found.schema}

    def _check_dataset(self) -> None:
        """A missing table is a contract problem; a missing dataset is a configuration one: say which."""
        try:
            self.client.get_dataset(self.dataset, retry=self.retry)
        except gexc.NotFound:
            raise WarehouseError(f"BigQuery: dataset {self.dataset} not found (location {self.config.location}): "
                                 "check project, dataset and location in params/warehouse.yaml") from None

    def fingerprint(self) -> str:
        """A short id from each contract table's row count and last modification."""
        parts = []
        for table in contract.TABLES:
            try:
                t = self.client.get_table(f"{self.dataset}.{self.table_name(table.name)}", retry=self.retry)
                parts.append(f"{table.name}:{t.num_rows}:{t.modified.isoformat() if t.modified else ''}")
            except gexc.NotFound:
                parts.append(f"{table.name}:missing")
            except gexc.GoogleAPIError:
                return "unknown"
        return hashlib.sha256("|".join(parts).encode()).hexdigest()[:12]

    def close(self) -> None:
        self.client.close()


def human_bytes(n: int | float | None) -> str:
    """1,234,567,890 → "1.15 GiB"."""
    if n is None:
        return "unknown"
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:,.0f} {unit}" if unit == "B" else f"{value:,.2f} {unit}"
        value /= 1024
    return f"{value:,.2f} TiB"


def _storage_api_installed() -> bool:
    try:
        import google.cloud.bigquery_storage  # noqa: F401
    except ImportError:
        return False
    return True


def _has_reason(exc: gexc.GoogleAPIError, reason: str) -> bool:
    return any(e.get("reason") == reason for e in getattr(exc, "errors", None) or [])


def _reason(exc: BaseException) -> str:
    """The API's own words (its first error message), without the request URL the client prepends."""
    errors = getattr(exc, "errors", None) or []
    if errors and isinstance(errors[0], dict) and errors[0].get("message"):
        return str(errors[0]["message"])
    if isinstance(exc, gexc.RetryError) and exc.cause is not None:
        return _reason(exc.cause)
    text = str(getattr(exc, "message", None) or exc).split("\n")[0]
    return re.sub(r"^(GET|POST|PUT|PATCH|DELETE) \S+: ", "", text) or type(exc).__name__
