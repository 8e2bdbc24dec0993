"""The CLI's bad-input messages: clear, one line per problem, no traceback, nothing changed."""

import hashlib

import pytest

from conftest import TEST_END
from revbook import cli
from tinylake import tiny_lake, write_csv_folder


def run_cli(capsys, *argv: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_:
        cli.main(list(argv))
    return exit_.value.code, capsys.readouterr().err


def _drop_mrr(lake):
    lake["subscriptions"] = lake["subscriptions"].drop(columns="mrr")


def _duplicate_lead(lake):
    lake["leads"].loc[1, "lead_id"] = lake["leads"].loc[0, "lead_id"]


def _negative_mrr(lake):
    lake["subscriptions"].loc[0, "mrr"] = -100.0


def _dangling_account(lake):
    lake["opportunities"].loc[0, "account_id"] = "A404"


@pytest.mark.parametrize("breaks, message", [
    (_drop_mrr, "subscriptions.mrr [missing_column]"),
    (_duplicate_lead, "leads.lead_id [unique_key]"),
    (_negative_mrr, "subscriptions.mrr [non_negative]"),
    (_dangling_account, "opportunities.account_id [foreign_key]"),
])
def test_bad_export_is_refused_and_the_warehouse_kept(tmp_path, capsys, breaks, message):
    target = tmp_path / "wh.duckdb"
    assert run_cli(capsys, "load", str(write_csv_folder(tiny_lake(), tmp_path / "good")), "--out", str(target))[0] == 0
    before = hashlib.sha256(target.read_bytes()).hexdigest()
    lake = tiny_lake()
    breaks(lake)
    code, err = run_cli(capsys, "load", str(write_csv_folder(lake, tmp_path / "bad")), "--out", str(target))
    assert code == 2 and message in err and "Traceback" not in err
    assert hashlib.sha256(target.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file() and p.suffix != ".lock") == ["wh.duckdb"]


def test_empty_folder(tmp_path, capsys):
    (tmp_path / "exports").mkdir()
    code, err = run_cli(capsys, "load", str(tmp_path / "exports"), "--out", str(tmp_path / "wh.duckdb"))
    assert code == 2 and "exports" in err and "leads.csv" in err
    assert not (tmp_path / "wh.duckdb").exists()


def test_check_reports_a_clean_warehouse(demo_warehouse, capsys):
    code, err = run_cli(capsys, "check", "--warehouse", str(demo_warehouse))
    assert code == 0 and "0 error(s)" in err


def test_missing_warehouse_says_how_to_build_one(tmp_path, capsys):
    code, err = run_cli(capsys, "check", "--warehouse", str(tmp_path / "none.duckdb"))
    assert code == 2 and "revbook demo" in err and "revbook load" in err


def test_check_lists_what_a_partial_export_holds_and_settings_that_do_not_fit(tmp_path, capsys):
    lake = {name: frame for name, frame in tiny_lake().items() if name in ("leads", "campaigns", "reps")}
    lake["leads"]["industry"] = ["Retail", "Retail", None]  # none of params/company.yaml's target industries
    target = tmp_path / "wh.duckdb"
    code, err = run_cli(capsys, "load", str(write_csv_folder(lake, tmp_path / "exports")), "--out", str(target))
    assert code == 0 and "warning accounts [missing_table]" in err and "loaded" in err
    code, err = run_cli(capsys, "check", "--warehouse", str(target))
    assert code == 0 and "0 error(s)" in err
    assert "reps: 3 rows" in err and "campaigns: 2 rows" in err
    assert "leads: 3 rows (no recycle_reason)" in err  # an optional column the export left empty
    assert "no data: ad_spend_daily, accounts, touchpoints" in err and "[empty_table]" not in err
    assert "no lead's industry is in target_industries (情報通信業, 製造業, 金融業)" in err
    assert "currency is JPY (¥), the demo's default" in err


def test_run_parameters_for_one_run_are_checked_like_the_schedules(use_warehouse, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("REVBOOK_OUTPUTS", str(tmp_path))
    code, err = run_cli(capsys, "run", "monthly", "--only", "marketing", "-p", "attribution=last_click",
                        "-p", "nonsense=1", "-p", "period=2026-01", "--dry-run")
    assert code == 2 and "Traceback" not in err
    assert "parameter 'attribution' must be one of first_touch, linear, position_based, got 'last_click'" in err
    assert "-p nonsense: no notebook of the monthly schedule declares it" in err
    assert "-p period: set it with --period" in err
    code, err = run_cli(capsys, "run", "monthly", "--only", "marketing", "-p", "window_months=3",
                        "-p", "attribution=linear")
    assert code == 0
    manifest = (tmp_path / TEST_END / "manifest.json").read_text()
    assert '"window_months": 3' in manifest and '"attribution": "linear"' in manifest
