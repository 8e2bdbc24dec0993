"""Safe to leave running (issue 18): Ctrl-C, a full disk, a broken warehouse and awkward exports end in
one clear message and the old warehouse intact; data that looks like a link never becomes one."""

from __future__ import annotations

import hashlib
import html
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import nbformat
import pandas as pd
import pytest
from IPython.core.formatters import DisplayFormatter
from IPython.display import HTML, Markdown

from processes import ctrl_c_as_in_a_terminal, file_size_limit
from revbook.data.duckdb_engine import DuckDBWarehouse
from revbook.data.load import LoadError, build_warehouse, load_folder
from revbook.data.mapping import MAX_LINE_BYTES, ExportMapping, TableMapping
from revbook.pages import report
from revbook.run import render
from tinylake import tiny_lake, write_csv_folder


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture()
def old(tmp_path: Path) -> tuple[Path, str]:
    """A warehouse already in place, and its sha256."""
    target = tmp_path / "data" / "revbook.duckdb"
    build_warehouse(tiny_lake(), target, {"source": "old"})
    return target, sha256(target)


def revbook(*argv: str, **popen) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "revbook.cli", *argv], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, **popen)


def unchanged(target: Path, digest: str) -> bool:
    """`target` is byte-identical and no temporary file of the build is left beside it (its lock file,
    which runs and loads share, stays)."""
    return sha256(target) == digest and [p.name for p in target.parent.iterdir() if p.suffix != ".lock"] == [
        target.name]


def test_ctrl_c_while_a_load_validates_exits_130_in_one_line_and_keeps_the_warehouse(tmp_path, old):
    target, before = old
    folder = write_csv_folder(tiny_lake(), tmp_path / "lake")
    duckdb.connect().execute(  # 4M usage rows: validating them takes a few seconds
        "COPY (SELECT DATE '2025-01-01' + (i % 600)::INT AS date, 'A' || (i // 600) AS account_id, "
        "'login' AS event_type, i % 17 AS count FROM range(4000000) t(i)) TO $path (HEADER)",
        {"path": str(folder / "product_usage_daily.csv")})
    load = revbook("load", str(folder), "--out", str(target), start_new_session=True,
                   preexec_fn=ctrl_c_as_in_a_terminal)
    assert load.stderr is not None
    for line in load.stderr:
        if line.startswith("validating against the data contract"):
            break
    os.killpg(load.pid, signal.SIGINT)  # Ctrl-C reaches the whole process group
    try:
        rest = load.communicate(timeout=120)[1]
    except subprocess.TimeoutExpired:
        os.killpg(load.pid, signal.SIGKILL)
        raise
    assert load.returncode == 130, rest
    assert rest.splitlines() == [f"revbook load: interrupted; the warehouse {target} is unchanged"]
    assert unchanged(target, before)


@pytest.mark.parametrize("damage", ["truncated in its header", "truncated in its tables", "not DuckDB"])
def test_a_damaged_warehouse_is_named_with_what_to_do(tmp_path, old, damage):
    target, _ = old
    data = target.read_bytes()
    target.write_bytes({"truncated in its header": data[:100_000], "truncated in its tables": data[:len(data) * 3 // 4],
                        "not DuckDB": b"account_id,name\nA1,Acme\n"}[damage])
    env = {**os.environ, "REVBOOK_WAREHOUSE": str(target), "REVBOOK_OUTPUTS": str(tmp_path / "outputs")}
    for command in (["check"], ["run", "monthly"]):
        done = revbook(*command, env=env)
        err = done.communicate(timeout=300)[1]
        assert done.returncode == 2, err
        assert f"{target} is not a readable DuckDB warehouse (IO Error: " in err, err
        assert "load your data again with `revbook load DIR`" in err and "Traceback" not in err


def test_a_full_disk_during_a_load_says_so_and_keeps_the_warehouse(tmp_path, old):
    pytest.importorskip("resource", reason="a file size limit (ulimit -f) needs POSIX resource limits")
    target, before = old
    folder = write_csv_folder(tiny_lake(), tmp_path / "lake")
    duckdb.connect().execute(
        "COPY (SELECT TIMESTAMP '2026-01-01' + INTERVAL (i) SECOND AS occurred_at, 'L' || (i % 3 + 1) AS lead_id, "
        "'page_view' AS type, 'https://example.com/p/' || i AS url FROM range(400000) t(i)) TO $path (HEADER)",
        {"path": str(folder / "touchpoints.csv")})
    load = revbook("load", str(folder), "--out", str(target), preexec_fn=file_size_limit(2_000_000))
    err = load.communicate(timeout=120)[1]
    assert load.returncode == 2, err
    assert err.splitlines()[-1] == (f"revbook load: no space left on device while writing the new warehouse in "
                                    f"{target.parent} (File too large); {target} is unchanged: free some space there "
                                    "and load again")
    assert "cannot read the source" not in err and "Traceback" not in err
    assert unchanged(target, before)


def test_a_shift_jis_csv_is_named_and_told_to_be_saved_as_utf8(tmp_path, old):
    target, before = old
    lake = tiny_lake()
    lake["accounts"]["name"] = ["株式会社サンプル", "東京商事株式会社"]
    folder = write_csv_folder(lake, tmp_path / "lake")
    lake["accounts"].to_csv(folder / "accounts.csv", index=False, encoding="cp932")  # as Excel saves it
    load = revbook("load", str(folder), "--out", str(target))
    err = load.communicate(timeout=120)[1]
    assert load.returncode == 2, err
    assert err.splitlines()[-1] == (
        f"revbook load: {folder / 'accounts.csv'} (table accounts): not UTF-8 (it looks like Shift-JIS/cp932, as "
        "Excel saves Japanese CSVs; first at line 2); save it as UTF-8 (CSV UTF-8 in Excel) and load again")
    assert "encoding=" not in err
    assert unchanged(target, before)


def test_a_shift_jis_csv_read_through_a_mapping_is_named_too(tmp_path):
    folder = tmp_path / "export"
    folder.mkdir()
    tiny_lake()["accounts"].to_csv(folder / "Account.csv", index=False, encoding="cp932")
    with pytest.raises(LoadError) as caught:
        load_folder(folder, tmp_path / "wh.duckdb", ExportMapping(tables={"accounts": TableMapping(file="Account")}))
    assert str(caught.value) == (f"cannot map {folder / 'Account.csv'} to table accounts: not UTF-8 (it looks like "
                                 "Shift-JIS/cp932, as Excel saves Japanese CSVs; first at line 2); save it as UTF-8 "
                                 "(CSV UTF-8 in Excel) and load again")


def test_a_10_mb_field_loads_whole(tmp_path):
    lake = tiny_lake()
    memo = "長い備考" * (10 * 2**20 // 12 + 1)  # 3 bytes a character: over 10 MB in UTF-8
    lake["accounts"].loc[0, "name"] = memo
    target = tmp_path / "wh.duckdb"
    assert load_folder(write_csv_folder(lake, tmp_path / "lake"), target) == []
    with DuckDBWarehouse(target) as wh:
        assert wh.query("SELECT name FROM accounts WHERE account_id = 'A1'")["name"][0] == memo


def test_a_line_over_the_limit_is_named_by_file_line_and_limit(tmp_path, old):
    target, before = old
    folder = write_csv_folder(tiny_lake(), tmp_path / "lake")
    accounts = folder / "accounts.csv"
    header, first, second = accounts.read_text(encoding="utf-8").splitlines()
    accounts.write_text(f"{header}\n{first}\n{second.replace('Acme KK', 'x' * MAX_LINE_BYTES)}\n", encoding="utf-8")
    with pytest.raises(LoadError) as caught:
        load_folder(folder, target)
    assert str(caught.value) == (f"{accounts} (table accounts): line 3 is longer than 16 MB, the most revbook "
                                 "reads in one line: shorten that field (a memo, an e-mail body) in the export and "
                                 "load again")
    assert unchanged(target, before)


LINKS = ['=HYPERLINK("http://x","y")', "http://evil.example/a", "https://evil.example/b?q=1", "www.evil.example",
         "someone@evil.example", "<http://angle.example>", "[click](http://md.example)"]


def test_data_that_looks_like_a_link_shows_as_text_in_prose_and_tables():
    def output(obj) -> nbformat.NotebookNode:  # what display(obj) publishes, as report.say and report.table call it
        return nbformat.v4.new_output("display_data", data=DisplayFormatter().format(obj)[0])

    prose = [output(Markdown(f"Top account this month: {report.md(v)}, again.")) for v in LINKS]
    table = output(HTML(report.table_html(pd.DataFrame({"account_name": LINKS, "mrr": [1000.0] * len(LINKS)}))))
    page = render.html(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("", outputs=[*prose, table])]),
                       {"title": "t", "index_href": "index.html"})
    assert re.findall(r"<a\b[^>]*>", page) == ['<a href="index.html">']  # the banner's, and no other
    shown = re.findall(r"Top account this month: (.*?), again\.", page)
    cells = re.findall(r'<td class="rb-left">(.*?)</td>', page)
    assert [html.unescape(v) for v in shown] == [html.unescape(v) for v in cells] == LINKS  # as written
