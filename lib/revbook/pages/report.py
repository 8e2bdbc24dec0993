"""What a notebook shows: headline numbers, formatted tables and prose, escaped and consistent.

`headlines()` also hands the runner the numbers it displays (as a custom MIME bundle that HTML
ignores), so <report>.metrics.json always holds exactly what the page shows; `attachment()` hands it
a table to write as CSV beside the page.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from collections.abc import Collection, Sequence

import pandas as pd
from IPython.display import HTML, Markdown, display

from revbook import contract, settings
from revbook.data.warehouse import Warehouse
from revbook.departments.headlines import Headline, Unit, is_missing
from revbook.pages import columns

METRICS_MIME = "application/vnd.revbook.metrics+json"
ATTACHMENT_MIME = "application/vnd.revbook.attachment+json"


def fmt(value: float | dt.date | None, unit: Unit) -> str:
    """A value as the reports print it (never a signed zero): ¥1,234,567 / 12.3% / 1,234 (1.5 for a median or pro-rata
    count that is not whole) / 2026-10 / 3.20× / 4.5 months / a p-value 0.031 or <0.001; "n/a" when
    undefined."""
    if value is None or is_missing(value):
        return "n/a"
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m" if unit == "month" else "%Y-%m-%d")
    if unit == "money":
        amount = f"{abs(value):,.0f}"
        sign = "−" if value < 0 and amount.strip("0,") else ""  # −¥0 would be a loss no one made
        return f"{sign}{settings.company().currency_symbol}{amount}"
    if unit == "pct":
        return f"{value * 100:.1f}%".replace("-0.0%", "0.0%")
    if unit == "ratio":
        return f"{value:,.2f}×"
    if unit == "p":
        return "<0.001" if value < 0.001 else f"{value:.3f}"
    if unit == "months":
        return f"{value:,.1f} months"
    if unit == "days":
        return f"{value:,.1f} days"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def fmt_change(value: float | None, reference: float | None, unit: Unit) -> str:
    """Change from `reference`: points for rates (+0.4 pt), percent for amounts (+3.2%); a change that
    rounds to nothing has no sign (0.0 pt)."""
    if value is None or reference is None or is_missing(value) or is_missing(reference):
        return "n/a"
    if unit == "pct":
        text = f"{(value - reference) * 100:+.1f} pt"
    elif reference == 0:
        return "n/a"
    else:
        text = f"{(value - reference) / abs(reference) * 100:+.1f}%"
    return text if any(c in "123456789" for c in text) else text[1:]


def fmt_difference(value: float | None, reference: float | None, unit: Unit) -> str:
    """A change as a difference in the value's unit (+2, −¥12,000, ±0): for a reference too small for
    a percentage to mean anything; "n/a" when either is unknown."""
    if value is None or reference is None or is_missing(value) or is_missing(reference):
        return "n/a"
    diff = value - reference
    return ("+" if diff > 0 else "−" if diff < 0 else "±") + fmt(abs(diff), unit)


def change(item: Headline, reference: float | None, as_difference: bool = False) -> tuple[str, str]:
    """The change from `reference` as shown (a percentage or points, or `as_difference`), and its
    colour class: rb-good or rb-bad, rb-flat (grey) when there is none to show. The report's headline
    table and the index pages colour alike."""
    text = (fmt_difference if as_difference else fmt_change)(item.value, reference, item.unit)
    shown_as_zero = not any(c in "123456789" for c in text)  # "0.0 pt": no change worth a colour
    if text == "n/a" or item.value is None or reference is None or item.value == reference or shown_as_zero:
        return text, "rb-flat"
    good = (item.value > reference) == item.good_when_up
    return text, "rb-good" if good else "rb-bad"


def _change_cell(item: Headline, reference: float | None, as_difference: bool) -> str:
    text, colour = change(item, reference, as_difference)
    return f'<td class="{colour}">{text}</td>'


#: Per headline key, whether its change vs the previous period and vs the reference is told as a
#: difference rather than a percentage (see `headlines`).
Differences = tuple[Collection[str], Collection[str]]


def headlines(items: list[Headline], title: str = "Headline numbers", reference: str = "Target",
              differences: Differences = ((), ())) -> None:
    """Show the headline table (value, vs previous, vs `reference`: the target, or e.g. the team
    median) and emit the metrics for the runner. The keys in `differences` (vs previous, vs the
    reference) show their change as a difference: "+2" where a median of 0.5 would make "+400%"."""
    metrics = {i.key: {**i.clean(), "target_is": reference} for i in items}
    display({"text/html": headlines_html(items, title, reference, differences),
             METRICS_MIME: json.loads(json.dumps(metrics))}, raw=True)


def headlines_html(items: list[Headline], title: str = "Headline numbers", reference: str = "Target",
                   differences: Differences = ((), ())) -> str:
    """The headline table: per metric its value, the previous period's and the reference's, and the
    changes (as differences for the keys in `differences`), coloured good or bad (grey when there is
    none to show)."""
    rows = "".join(
        f'<tr><th>{html.escape(i.label)}</th><td class="rb-value">{fmt(i.value, i.unit)}</td>'
        f"<td>{fmt(i.previous, i.unit)}</td>{_change_cell(i, i.previous, i.key in differences[0])}"
        f"<td>{fmt(i.target, i.unit)}</td>{_change_cell(i, i.target, i.key in differences[1])}</tr>"
        for i in items
    )
    ref = html.escape(reference)
    return (
        f'<table class="rb-headlines"><caption>{html.escape(title)}</caption>'
        "<thead><tr><th>Metric</th><th>This period</th><th>Previous</th><th>vs previous</th>"
        f"<th>{ref}</th><th>vs {ref.lower()}</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def say(text: str) -> None:
    """A sentence of prose computed from the data (Markdown; wrap data values in `md()`)."""
    display(Markdown(text))


def absent(wh: Warehouse, sources: str | Sequence[str]) -> list[str]:
    """The sources among `sources` (tables, "table.column" or "table.column=value", see
    `Warehouse.has`) that hold no data in `wh`."""
    return [s for s in ([sources] if isinstance(sources, str) else sources) if not wh.has(s)]


def missing_sentence(missing: Sequence[str], what: str) -> str:
    """"No ad spend loaded (ad_spend_daily): needed for CPL, CAC and ROAS." for the sources `missing`;
    a column says "activities.connected holds no values", a value "no activities of type 'meeting'"."""
    tables = [contract.table(s) for s in missing if "." not in s]
    parts = [f"No {' or '.join(t.label for t in tables)} loaded ({', '.join(t.name for t in tables)})"] \
        if tables else []
    for source in (s for s in missing if "." in s):
        table, _, selector = source.partition(".")
        column, _, value = selector.partition("=")
        parts.append(f"no {table} of {column} '{value}'" if value else f"{table}.{column} holds no values")
    text = "; ".join(parts)
    return f"{text[:1].upper()}{text[1:]}: needed for {what}."


def not_loaded_note(tables: Sequence[contract.Table], empty_columns: Sequence[str] = ()) -> str:
    """The page banner's line for the tables a report reads that hold no data, and the optional
    columns it reads that hold no values ("activities.connected")."""
    parts = ([f"Not loaded: {', '.join(t.named for t in tables)}."] if tables else []) + \
        ([f"No values in {', '.join(empty_columns)}."] if empty_columns else [])
    many = len(tables) + len(empty_columns) > 1
    return " ".join(parts) + f" What needs {'them' if many else 'it'} says so on the page or shows n/a."


def needs(wh: Warehouse, sources: str | Sequence[str], what: str) -> bool:
    """Whether every source in `sources` (tables, or see `Warehouse.has`) holds data. If not, the
    section says so in one line, naming what would fill it, instead of showing zeros that mean "unknown"."""
    if missing := absent(wh, sources):
        say(f"*{missing_sentence(missing, what)}*")
        return False
    return True


#: Markdown punctuation, and ":" "@" too: escaped, they keep a URL, www. or e-mail address in the data from
#: becoming a live link (nbconvert's mistune links bare http(s)://, JupyterLab's GFM www. and e-mails too).
_MARKDOWN_SPECIALS = str.maketrans({c: "\\" + c for c in "\\`*_[]{}()#+-.!|~:@"})


def md(value: object) -> str:
    """A data value (campaign or rep name, ...) made safe to put in Markdown prose: HTML-escaped and
    with Markdown punctuation backslash-escaped, so it shows as written and never as markup or a link."""
    return html.escape(str(value).translate(_MARKDOWN_SPECIALS), quote=False)


def _cell(col: columns.Column, value: object) -> str:
    """One value as its column prints it (a number in its unit, a date, a display name), escaped."""
    if is_missing(value):
        return "n/a"
    if col.unit in ("text", "enum", "bool"):
        return html.escape(col.display(value))
    if col.unit == "time":
        return pd.Timestamp(value).strftime("%Y-%m-%d %H:%M")  # type: ignore[arg-type]
    if col.unit in ("date", "month"):
        return fmt(pd.Timestamp(value).date(), col.unit)  # type: ignore[arg-type]
    return fmt(float(value), "count" if col.unit == "number" else col.unit)  # type: ignore[arg-type]


def table_html(frame: pd.DataFrame, caption: str | None = None, sortable: bool = False) -> str:
    """`frame` as an HTML table in the vocabulary (pages/columns): each column under its label, its
    values in its unit, text left and numbers right, missing values as "n/a", everything escaped;
    `sortable` tables sort by a click on a header in the report."""
    cols = [columns.column(c) for c in frame.columns]
    head = "".join(f'<th class="rb-{c.align}" title="{html.escape(c.meaning)}">{html.escape(c.label)}</th>'
                   for c in cols)
    body = "".join(
        "<tr>" + "".join(f'<td class="rb-{c.align}{" rb-nowrap" if c.unit in ("date", "month", "time") else ""}">'
                         f"{_cell(c, v)}</td>" for c, v in zip(cols, row, strict=True)) + "</tr>"
        for row in frame.itertuples(index=False, name=None)
    )
    classes = "rb-table rb-sortable" if sortable else "rb-table"
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f'<table class="{classes}">{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def table(frame: pd.DataFrame, caption: str | None = None, *, top: int | None = None, csv: str | None = None,
          hide_zero: Sequence[str] = (), sortable: bool = False) -> None:
    """Show `frame` as a table (see `table_html`). Rows where every column in `hide_zero` is 0 or
    missing are left out, and at most `top` rows are shown (sort first); the page says how many it
    left out, and `csv` offers every row as <report>.<csv>.csv beside the page, under the same headers."""
    shown = frame
    notes = []
    if hide_zero:
        active = frame[list(hide_zero)].fillna(0).ne(0).any(axis=1)
        shown = frame[active]
        if hidden := int((~active).sum()):
            names = " or ".join(columns.label(c) for c in hide_zero)
            notes.append(f"{hidden:,} row{'s' if hidden > 1 else ''} with no {names} left out")
    if top is not None and len(shown) > top:
        notes.insert(0, f"the first {top:,} of {len(shown):,} rows shown")
        shown = shown.head(top)
    display(HTML(table_html(shown, caption, sortable)))
    if notes:
        text = "; ".join(notes) + ("; all rows are in the CSV below" if csv else "")
        say(f"*{text[:1].upper()}{text[1:]}.*")
    if csv:
        attachment(csv, frame.rename(columns=columns.label), f"{caption or 'The table above'}, every row")


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_text(frame: pd.DataFrame) -> str:
    """`frame` as CSV for spreadsheets: text cells that a spreadsheet would run as a formula
    (starting with = + - @) get a leading apostrophe; numbers are left alone."""
    safe = frame.copy()
    for col in safe.columns:
        if safe[col].dtype == object or isinstance(safe[col].dtype, pd.StringDtype):
            safe[col] = safe[col].map(lambda v: "'" + v if isinstance(v, str) and v.startswith(_FORMULA_START) else v)
    return safe.to_csv(index=False, lineterminator="\r\n")


def attachment(name: str, frame: pd.DataFrame, description: str) -> None:
    """Offer `frame` as a CSV file beside the report: the runner writes <report>.<name>.csv and the
    page links to it; in JupyterLab this shows one line."""
    if not re.fullmatch(r"[a-z0-9_]+", name):
        raise ValueError(f"attachment name {name!r}: use lowercase letters, digits and _")
    payload = {"name": name, "description": description, "rows": len(frame), "csv": csv_text(frame)}
    display({ATTACHMENT_MIME: payload,
             "text/plain": f"{description}: {len(frame)} rows (written as CSV beside the HTML report)"}, raw=True)


def setup_charts() -> None:
    """Seaborn theme with a font that has Japanese glyphs (IPAexGothic from matplotlib-fontja)."""
    import matplotlib
    import matplotlib_fontja  # noqa: F401  (registers IPAexGothic)
    import seaborn as sns

    sns.set_theme(style="whitegrid", font="IPAexGothic")
    matplotlib.rcParams.update({"figure.figsize": (9, 4), "figure.dpi": 100, "axes.titleweight": "bold"})
