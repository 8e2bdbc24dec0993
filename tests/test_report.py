"""Report helpers: formatting, escaping and Japanese text in charts."""

import base64
import datetime as dt
import io
import re
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from fontTools.ttLib import TTFont  # noqa: E402

from revbook.pages import columns, fonts, report  # noqa: E402


@pytest.mark.parametrize("value, unit, text", [
    (1234567.4, "money", "¥1,234,567"), (-2500, "money", "−¥2,500"), (0.0123, "pct", "1.2%"),
    (-0.02, "pct", "-2.0%"), (1234, "count", "1,234"), (1.5, "count", "1.5"), (2.0, "count", "2"),
    (dt.date(2026, 3, 1), "month", "2026-03"),
    (dt.date(2026, 3, 8), "date", "2026-03-08"), (pd.Timestamp("2026-03-08"), "date", "2026-03-08"),
    (-0.0004, "pct", "0.0%"), (-0.4, "money", "¥0"),  # no signed zero
    (None, "pct", "n/a"), (float("nan"), "money", "n/a"), (float("inf") * 0, "count", "n/a"),
])
def test_fmt(value, unit, text):
    assert report.fmt(value, unit) == text


def test_changes_are_points_for_rates_and_percent_for_amounts():
    assert report.fmt_change(0.012, 0.010, "pct") == "+0.2 pt"
    assert report.fmt_change(1.0049, 1.005, "pct") == "0.0 pt" and report.fmt_change(100, 100.01, "money") == "0.0%"
    assert report.fmt_change(110, 100, "money") == "+10.0%"
    assert report.fmt_change(5, 0, "count") == "n/a" and report.fmt_change(5, None, "count") == "n/a"


def test_table_escapes_data():
    frame = pd.DataFrame({"name": ["Kim <b>Lee</b>", "Dan O'Neil"], "mrr": [1000.0, None]})
    page = report.table_html(frame)
    assert "<b>Lee" not in page and "&lt;b&gt;Lee&lt;/b&gt;" in page
    assert "¥1,000" in page and "n/a" in page


def test_japanese_labels_render_with_the_bundled_font():
    report.setup_charts()
    fig, ax = plt.subplots()
    ax.bar(["情報通信業", "製造業"], [3, 4])
    ax.set_title("業種別の商談化率")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing from font" would raise
        fig.canvas.draw()
    plt.close(fig)


def test_a_page_embeds_the_glyphs_of_its_own_japanese_text_and_no_more():
    css = fonts.style("<html><head></head><body><p>山田商事 café</p><script>var x = '隠';</script></body></html>")
    data = re.search(r"url\(data:font/woff;base64,([A-Za-z0-9+/=]+)\)", css).group(1)
    glyphs = set(map(chr, TTFont(io.BytesIO(base64.b64decode(data))).getBestCmap()))
    assert set("山田商事") <= glyphs and "隠" not in glyphs and "é" not in glyphs
    assert fonts.FONT_STACK in css and "IPAexGothic" in fonts.FONT_STACK and "Noto Sans JP" in fonts.FONT_STACK
    plain = fonts.style("<p>Only Latin text</p>")
    assert "@font-face" not in plain and fonts.FONT_STACK in plain


def test_a_change_that_shows_as_zero_is_neutral_not_good_or_bad():
    from revbook.departments.headlines import Headline

    items = [Headline("win_rate", "Win rate", 0.40001, "pct", 0.4, 0.39, True),  # 0.0 pt vs previous
             Headline("calls", "Calls", 120.0, "count", 100.0, None, True)]
    win, calls = report.headlines_html(items).split("</tr>")[1:3]
    assert '<td class="rb-flat">0.0 pt</td>' in win and '<td class="rb-good">+1.0 pt</td>' in win
    assert '<td class="rb-good">+20.0%</td>' in calls


def test_a_table_speaks_the_vocabulary_text_left_numbers_right_enums_and_bools_as_words():
    frame = pd.DataFrame({"channel": ["listing_ads", "email_ads", "new_thing"], "target": [True, False, True],
                          "cost": [1234.0, None, 0.0], "day": pd.to_datetime(["2026-09-03"] * 3)})
    page = report.table_html(frame)
    assert re.search(r'<th class="rb-left"( title="[^"]+")?>Channel</th>', page)
    assert re.search(r'<th class="rb-right"( title="[^"]+")?>Spend</th>', page)
    cells = re.findall(r'<td class="([^"]+)">(.*?)</td>', page)
    assert cells[:4] == [("rb-left", "Listing ads"), ("rb-left", "Target"), ("rb-right", "¥1,234"),
                         ("rb-left rb-nowrap", "2026-09-03")]
    assert [c for _, c in cells[4:8]] == ["E-mail ads", "Other", "n/a", "2026-09-03"]
    assert cells[8][1] == "New thing"  # a picklist value the file does not name: spaces and a capital


def test_a_column_outside_the_vocabulary_is_an_error_naming_it():
    with pytest.raises(columns.UnknownColumn, match="'spend_ratio' is not in the vocabulary"):
        report.table_html(pd.DataFrame({"spend_ratio": [1.0]}))
    assert columns.label("use:feature_api") == "feature_api use per active user"  # a family of keys


def test_every_key_is_defined_once_with_a_known_unit(tmp_path, monkeypatch):
    assert len(columns.vocabulary()) > 100
    (tmp_path / "columns").mkdir()
    (tmp_path / "columns" / "a.yaml").write_text("mrr: {label: MRR, unit: money, meaning: Monthly revenue.}\n")
    (tmp_path / "columns" / "b.yaml").write_text("mrr: {label: Monthly revenue, unit: money, meaning: Same.}\n")
    monkeypatch.setattr(columns.resources, "files", lambda _: tmp_path)
    columns.vocabulary.cache_clear()
    try:
        with pytest.raises(ValueError, match="b.yaml: mrr is also defined in pages/columns/a.yaml"):
            columns.vocabulary()
        for entry in ("arr: {label: ARR, unit: yen, meaning: Annual.}", "arr: {label: ARR, unit: money}"):
            (tmp_path / "columns" / "b.yaml").write_text(entry + "\n")
            with pytest.raises(ValueError, match="b.yaml: arr needs a label, a meaning and a unit"):
                columns.vocabulary()
    finally:
        columns.vocabulary.cache_clear()


def test_top_rows_and_zero_rows_are_left_out_with_a_note_and_kept_in_the_csv(monkeypatch):
    shown = []
    monkeypatch.setattr(report, "display", lambda obj, **kw: shown.append(obj))
    frame = pd.DataFrame({"campaign_id": [f"C{i}" for i in range(6)], "cost": [5.0, 4, 3, 0, 0, 1],
                          "leads": [1, 1, 1, 0, 0, 0]})
    report.table(frame, "Campaigns", top=3, csv="campaigns", hide_zero=["cost", "leads"])
    page, note, csv = shown[0].data, shown[1].data, shown[2]
    assert re.findall(r"<td class=\"rb-left\">(C\d)</td>", page) == ["C0", "C1", "C2"]
    assert note == ("*The first 3 of 4 rows shown; 2 rows with no Spend or Leads left out; "
                    "all rows are in the CSV below.*")
    payload = csv[report.ATTACHMENT_MIME]
    assert payload["rows"] == 6 and payload["csv"].startswith("Campaign,Spend,Leads\r\nC0,5.0,1")
