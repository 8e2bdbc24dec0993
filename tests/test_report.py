"""Report helpers: formatting, escaping and Japanese text in charts."""

import datetime as dt
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from revbook.pages import report  # noqa: E402


@pytest.mark.parametrize("value, unit, text", [
    (1234567.4, "money", "¥1,234,567"), (-2500, "money", "−¥2,500"), (0.0123, "pct", "1.2%"),
    (-0.02, "pct", "-2.0%"), (1234, "count", "1,234"), (1.5, "count", "1.5"), (2.0, "count", "2"),
    (dt.date(2026, 3, 1), "month", "2026-03"),
    (dt.date(2026, 3, 8), "date", "2026-03-08"), (pd.Timestamp("2026-03-08"), "date", "2026-03-08"),
    (None, "pct", "n/a"), (float("nan"), "money", "n/a"), (float("inf") * 0, "count", "n/a"),
])
def test_fmt(value, unit, text):
    assert report.fmt(value, unit) == text


def test_changes_are_points_for_rates_and_percent_for_amounts():
    assert report.fmt_change(0.012, 0.010, "pct") == "+0.2 pt"
    assert report.fmt_change(110, 100, "money") == "+10.0%"
    assert report.fmt_change(5, 0, "count") == "n/a" and report.fmt_change(5, None, "count") == "n/a"


def test_table_escapes_data():
    frame = pd.DataFrame({"Rep": ["Kim <b>Lee</b>", "Dan O'Neil"], "MRR": [1000.0, None]})
    page = report.table_html(frame, {"MRR": "money"})
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
