"""Periods and params files: formats, defaults and the errors a user sees."""

import datetime as dt

import pytest

from revbook import periods, settings
from revbook.periods import PeriodError

TODAY = dt.date(2026, 11, 23)  # a Monday in ISO week 48


@pytest.mark.parametrize("kind, label, start, end", [
    ("month", "2026-09", dt.date(2026, 9, 1), dt.date(2026, 10, 1)),
    ("month", "2026-12", dt.date(2026, 12, 1), dt.date(2027, 1, 1)),
    ("week", "2026-W01", dt.date(2025, 12, 29), dt.date(2026, 1, 5)),
    ("day", "2026-02-28", dt.date(2026, 2, 28), dt.date(2026, 3, 1)),
])
def test_parse(kind, label, start, end):
    p = periods.parse(kind, label)
    assert (p.start, p.end, p.label) == (start, end, label)


@pytest.mark.parametrize("kind, text, message", [
    ("month", "2026-13", "impossible month period '2026-13'"),
    ("month", "2026-9", "malformed month period '2026-9': expected YYYY-MM"),
    ("week", "2026-W54", "impossible week period"),
    ("day", "2026-02-30", "impossible day period"),
    ("day", "20260230", "expected YYYY-MM-DD"),
])
def test_bad_periods_say_what_is_expected(kind, text, message):
    with pytest.raises(PeriodError, match=message):
        periods.parse(kind, text)


def test_last_complete_periods_and_future():
    assert periods.last_complete("month", TODAY).label == "2026-10"
    assert periods.last_complete("week", TODAY).label == "2026-W47"
    assert periods.last_complete("day", TODAY).label == "2026-11-22"
    assert periods.resolve("month", "", TODAY).label == "2026-10"
    with pytest.raises(PeriodError, match="not complete yet; the latest complete one is 2026-10"):
        periods.resolve("month", "2026-11", TODAY)


def test_shift_and_trailing_cross_year():
    jan = periods.parse("month", "2026-01")
    assert jan.previous().label == "2025-12"
    assert [p.label for p in jan.trailing(3)] == ["2025-11", "2025-12", "2026-01"]
    assert periods.parse("week", "2026-W01").previous().label == "2025-W52"


def test_company_settings_load():
    company = settings.company()
    assert company.currency == "JPY" and "製造業" in company.target_industries
    assert company.fs_capacity_by_segment["enterprise"] == 30


def test_conventions_default_to_revbooks_and_reject_what_they_cannot_mean():
    base = {"company_name": "K.K.", "target_industries": ["製造業"], "fs_capacity_by_segment": {"smb": 60}}
    company = settings.Company.model_validate(base)
    assert (company.timezone, company.subscription_end) == ("UTC", "exclusive")
    assert company.same_month_new_and_churn == "drop" and company.reactivation_after_months == 1
    assert "organic" not in company.paid_channels and "listing_ads" in company.paid_channels
    assert settings.Company.model_validate({**base, "timezone": "Asia/Tokyo"}).timezone == "Asia/Tokyo"
    for bad, message in (({"timezone": "Tokyo"}, "'Tokyo' is not an IANA time zone"),
                         ({"subscription_end": "closed"}, "subscription_end"),
                         ({"hot_leads": {"count": "all"}}, "hot_leads.count"),
                         ({"reactivation_after_months": 0}, "reactivation_after_months"),
                         ({"paid_channels": []}, "paid_channels")):
        with pytest.raises(settings.SettingsError, match=message):
            settings._validate(settings.Company, {**base, **bad}, "company.yaml")


def test_unknown_schedule():
    with pytest.raises(settings.SettingsError, match="unknown schedule 'hourly': choose one of monthly, weekly, daily"):
        settings.schedule("hourly")


def test_schedule_yaml_errors_name_file_and_key(tmp_path, monkeypatch):
    monkeypatch.setenv("REVBOOK_ROOT", str(tmp_path))
    (tmp_path / "params").mkdir()
    (tmp_path / "params" / "monthly.yaml").write_text("jobs:\n  - notebook: a/b\n    paramters: {x: 1}\n")
    with pytest.raises(settings.SettingsError, match=r"monthly.yaml: jobs.0.paramters: Extra inputs"):
        settings.schedule("monthly")
    (tmp_path / "params" / "monthly.yaml").write_text("jobs: [\n")
    with pytest.raises(settings.SettingsError, match="monthly.yaml is not valid YAML"):
        settings.schedule("monthly")
