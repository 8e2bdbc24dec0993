"""The `timezone` setting: months, weeks and days are cut in the company's time zone, on both engines.

Storage stays UTC; the marts read each lake table's TIMESTAMP columns as wall-clock time in the zone
(`Warehouse.sql`), DATE columns as they are. One hand-made lake near midnight UTC/JST (Asia/Tokyo is
UTC+9, without daylight saving) shows where each event counts under UTC and under Asia/Tokyo.
"""

from __future__ import annotations

import datetime as dt
import types

import pandas as pd
import pytest
from sqlglot import exp

from bq_stand_ins import DATASET, PROJECT, emulator, load_lake
from revbook import clock, contract, periods, settings
from revbook.data import coverage, load
from revbook.data.bigquery_engine import EMULATOR_ENV, BigQueryWarehouse
from revbook.data.duckdb_engine import DuckDBWarehouse
from revbook.data.warehouse import mart_names, mart_sql, mart_text, render
from revbook.departments import field_sales, sales_ops
from tinylake import tiny_lake

TOKYO = "Asia/Tokyo"
SEP, OCT, NOV = periods.month(2026, 9), periods.month(2026, 10), periods.month(2026, 11)


def midnight_lake() -> dict[str, pd.DataFrame]:
    """The tiny lake, its leads and deals moved next to month and week boundaries:
    - lead L1 created 2026-09-30T15:30Z = 2026-10-01 00:30 JST; L2 2026-09-30T14:30Z = 23:30 JST (September
      either way); L3 2026-10-04T15:30Z, a Sunday in UTC, = Monday 2026-10-05 00:30 JST;
    - deal O1 (from L1) created 2026-10-04T15:30Z (Sunday UTC, Monday JST), won 2026-10-31T16:00Z =
      2026-11-01 01:00 JST; O2 lost 2026-09-30T17:30Z = 2026-10-01 02:30 JST; O3 won 2026-09-10T03:00Z
      (noon JST, September either way);
    - call AC1 2026-10-04T15:30Z: 4 October in UTC, 5 October in Tokyo."""
    lake = tiny_lake()
    lake["leads"] = lake["leads"].assign(
        created_at=["2026-09-30T15:30:00Z", "2026-09-30T14:30:00Z", "2026-10-04T15:30:00Z"],
        status=["qualified", "new", "working"], qualified_at=["2026-10-02 09:00:00", None, None],
        opportunity_id=["O1", None, None])
    lake["touchpoints"] = lake["touchpoints"].assign(occurred_at=["2026-10-01 08:00:00", "2026-10-01 09:00:00"])
    lake["activities"] = lake["activities"].assign(
        occurred_at=["2026-10-04T15:30:00Z", "2026-10-06 10:00:00", "2026-10-10 14:00:00"])
    lake["opportunities"] = pd.DataFrame({
        "opportunity_id": ["O1", "O2", "O3"], "account_id": ["A1", "A2", "A2"], "lead_id": ["L1", None, None],
        "owner_rep_id": ["R2", "R2", "R2"],
        "created_at": ["2026-10-04T15:30:00Z", "2026-09-20 09:00:00", "2026-09-01 09:00:00"],
        "stage": ["closed_won", "closed_lost", "closed_won"], "amount": [50000.0, 30000.0, 20000.0],
        "product": ["Standard", "Pro", "Standard"],
        "closed_at": ["2026-10-31T16:00:00Z", "2026-09-30T17:30:00Z", "2026-09-10T03:00:00Z"],
        "is_won": [True, False, True], "loss_reason": [None, "price", None],
        "first_meeting_attendees": pd.array([3, None, 2], dtype="Int64"),
    })
    lake["opportunity_stage_history"] = pd.DataFrame({
        "opportunity_id": ["O1", "O1", "O2", "O2", "O3", "O3"],
        "stage": ["qualification", "closed_won", "qualification", "closed_lost", "qualification", "closed_won"],
        "entered_at": ["2026-10-04T15:30:00Z", "2026-10-31T16:00:00Z", "2026-09-20 09:00:00",
                       "2026-09-30T17:30:00Z", "2026-09-01 09:00:00", "2026-09-10T03:00:00Z"],
    })
    return lake


@pytest.fixture(scope="module")
def lake_path(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("tz") / "midnight.duckdb"
    load.build_warehouse(midnight_lake(), path, {"source": "test"})
    return path


@pytest.fixture(scope="module")
def duck(lake_path):
    """The midnight lake in DuckDB, read in UTC and in Tokyo time."""
    with DuckDBWarehouse(lake_path, timezone="UTC") as utc, DuckDBWarehouse(lake_path, timezone=TOKYO) as tokyo:
        yield {"UTC": utc, TOKYO: tokyo}


@pytest.fixture(scope="module")
def bigquery(duck):
    """The same lake (its UTC instants, as stored) on bqemulator, read in UTC and in Tokyo time."""
    frames = {t.name: duck["UTC"].query(f'SELECT * FROM "{t.name}"') for t in contract.TABLES}
    with emulator() as endpoint, pytest.MonkeyPatch.context() as mp:
        mp.setenv(EMULATOR_ENV, endpoint)
        config = settings.BigQueryConfig(project=PROJECT, dataset=DATASET, retry_initial_s=0.05, retry_timeout_s=1.0)
        utc, tokyo = BigQueryWarehouse(config, timezone="UTC"), BigQueryWarehouse(config, timezone=TOKYO)
        load_lake(utc.client, frames)
        yield {"UTC": utc, TOKYO: tokyo}


@pytest.fixture(params=["duck", "bigquery"])
def engine(request):
    """Each engine's pair of warehouses over the midnight lake."""
    return request.getfixturevalue(request.param)


def _months(wh, column: str) -> dict[str, int]:
    f = wh.mart("funnel_monthly", months=[p.start for p in (SEP, OCT, NOV)])
    return {pd.Timestamp(m).strftime("%Y-%m"): int(v) for m, v in zip(f["month"], f[column], strict=True)}


def _win_rates(wh) -> dict[str, float | None]:
    """The field-sales headline win rate (won ÷ closed) of each month."""
    rates = {}
    for p in (SEP, OCT, NOV):
        closed = wh.mart("fs_closed", start=p.start, end=p.end)
        closed = closed[closed["dimension"] == "all"]
        rates[p.label] = float(closed["won"].sum() / closed["closed"].sum()) if len(closed) else None
    return rates


#: Where the lake's events count, by hand from `midnight_lake`'s docstring.
EXPECTED = {
    "UTC": {
        "new_leads": {"2026-09": 2, "2026-10": 1, "2026-11": 0},  # L1, L2 | L3
        "won_deals": {"2026-09": 1, "2026-10": 1, "2026-11": 0},  # O3 | O1
        "win_rate": {"2026-09": 0.5, "2026-10": 1.0, "2026-11": None},  # O3 won, O2 lost: 1/2 | O1: 1/1 | none
        "opportunity_week": "2026-09-28",  # O1 on Sunday 4 October: the ISO week from Monday 28 September
        "call_day": "2026-10-04",
        "data_through": dt.date(2026, 10, 4),  # the latest lead, L3
    },
    TOKYO: {
        "new_leads": {"2026-09": 1, "2026-10": 2, "2026-11": 0},  # L2 | L1, L3
        "won_deals": {"2026-09": 1, "2026-10": 0, "2026-11": 1},  # O3 | - | O1
        "win_rate": {"2026-09": 1.0, "2026-10": 0.0, "2026-11": 1.0},  # O3: 1/1 | O2 lost: 0/1 | O1: 1/1
        "opportunity_week": "2026-10-05",  # Monday 5 October 00:30 JST
        "call_day": "2026-10-05",
        "data_through": dt.date(2026, 10, 5),
    },
}


def _assignments(wh) -> dict:
    weeks = wh.mart("source_outcomes", start=dt.date(2026, 9, 28), end=dt.date(2026, 10, 12))
    calls = wh.mart("is_activity_daily", start=dt.date(2026, 10, 1), end=dt.date(2026, 10, 8))
    return {
        "new_leads": _months(wh, "new_leads"),
        "won_deals": _months(wh, "won_deals"),
        "win_rate": _win_rates(wh),
        "opportunity_week": pd.Timestamp(weeks.loc[weeks["opportunities"] > 0, "week"].item()).date().isoformat(),
        "call_day": pd.Timestamp(calls.loc[calls["calls"] > 0, "day"].min()).date().isoformat(),
        "data_through": coverage.data_through(wh, {"leads": ("created_at",)}),
    }


@pytest.mark.parametrize("zone", ["UTC", TOKYO])
def test_months_weeks_and_days_are_cut_in_the_company_time_zone(engine, zone):
    assert _assignments(engine[zone]) == EXPECTED[zone]


@pytest.mark.parametrize("zone", ["UTC", TOKYO])
def test_headlines_follow_the_zone(engine, zone):
    """The revenue overview's new leads and the field-sales page's win rate for September and October."""
    company = settings.company()
    for p in (SEP, OCT):
        assert sales_ops.overview(engine[zone], p, trend_months=2).values()["new_leads"] == \
            EXPECTED[zone]["new_leads"][p.label]
        assert field_sales.snapshot(engine[zone], p, company, ["R2"]).values()["win_rate"] == \
            EXPECTED[zone]["win_rate"][p.label]


def test_on_bigquery_a_local_time_stays_a_timestamp(bigquery):
    """TIMESTAMP(DATETIME(ts, zone)): compared with TIMESTAMP parameters, never a DATETIME; in UTC the
    mart is its transpilation unchanged."""
    assert all(bigquery["UTC"].mart_query(name) == mart_text(name, "bigquery") for name in mart_names())
    local = "TIMESTAMP(DATETIME(CAST(`closed_at` AS TIMESTAMP), 'Asia/Tokyo'))"
    assert local in bigquery[TOKYO].mart_query("fs_closed")


def test_date_columns_are_local_dates_as_they_are(duck):
    """Subscriptions (start_date, end_date) give the same MRR movements whatever the zone."""
    months = [dt.date(2026, 1, 1), dt.date(2026, 2, 1)]
    pd.testing.assert_frame_equal(sales_ops.movements(duck["UTC"], months), sales_ops.movements(duck[TOKYO], months))


def test_timestamps_reach_lib_as_local_wall_clock_time(duck):
    """The lost deal's close (2026-09-30T17:30Z) as a mart returns it, e.g. a deal's stage_since: 02:30 JST."""
    history = exp.select(exp.column("entered_at")).from_(exp.table_("opportunity_stage_history"))
    assert pd.Timestamp("2026-10-01 02:30") in set(duck[TOKYO].query(duck[TOKYO].sql(history))["entered_at"])
    assert pd.Timestamp("2026-09-30 17:30") in set(duck["UTC"].query(duck["UTC"].sql(history))["entered_at"])
    assert pd.Timestamp("2026-09-30 17:30") in set(duck[TOKYO].query(render(history, "duckdb"))["entered_at"])


def test_in_utc_every_mart_is_its_file_unchanged(duck):
    """The default leaves each mart's SQL text as it was: the file itself on DuckDB."""
    assert all(duck["UTC"].mart_query(name) == mart_sql(name) for name in mart_names())


def test_a_zone_equal_to_utc_gives_the_same_rows(lake_path):
    """The rewritten marts (Etc/UTC converts, to the same wall-clock time) count what the files count."""
    with DuckDBWarehouse(lake_path, timezone="Etc/UTC") as same:
        assert "AT TIME ZONE 'Etc/UTC'" in same.mart_query("fs_closed")
        assert _assignments(same) == EXPECTED["UTC"]


def test_the_zone_comes_from_company_yaml_and_today_is_its_date(tmp_path, monkeypatch, lake_path):
    """params/company.yaml `timezone` is the warehouse's zone and the clock's. At 2026-11-30T20:00Z it
    is already 1 December in Tokyo: November is the last complete month there, October in UTC."""
    from conftest import ROOT

    (tmp_path / "params").mkdir()
    text = (ROOT / "params" / "company.yaml").read_text(encoding="utf-8")
    (tmp_path / "params" / "company.yaml").write_text(text.replace("timezone: UTC", f"timezone: {TOKYO}"),
                                                       encoding="utf-8")
    monkeypatch.setenv("REVBOOK_ROOT", str(tmp_path))
    settings.company.cache_clear()
    monkeypatch.delenv(clock.TODAY_ENV)

    class At(dt.datetime):  # the wall clock, fixed at 2026-11-30T20:00Z
        @classmethod
        def now(cls, tz=None):
            return dt.datetime(2026, 11, 30, 20, 0, tzinfo=dt.UTC).astimezone(tz)

    monkeypatch.setattr(clock, "dt", types.SimpleNamespace(**{**vars(dt), "datetime": At}))
    try:
        with DuckDBWarehouse(lake_path) as wh:
            assert wh.zone == TOKYO and _months(wh, "new_leads") == EXPECTED[TOKYO]["new_leads"]
        assert clock.today() == dt.date(2026, 12, 1)
        assert periods.last_complete("month").label == "2026-11"
        monkeypatch.setenv(clock.TODAY_ENV, "2026-12-01")  # a pinned day ends at its local midnight
        assert clock.now() == dt.datetime(2026, 12, 1, 14, 59, 59)
        (tmp_path / "params" / "company.yaml").write_text(text, encoding="utf-8")  # UTC
        monkeypatch.delenv(clock.TODAY_ENV)
        assert clock.today() == dt.date(2026, 11, 30) and periods.last_complete("month").label == "2026-10"
        monkeypatch.setenv(clock.TODAY_ENV, "2026-12-01")
        assert clock.now() == dt.datetime(2026, 12, 1, 23, 59, 59)
    finally:
        settings.company.cache_clear()
