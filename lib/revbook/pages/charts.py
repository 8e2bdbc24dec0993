"""Charts the reports share (matplotlib/seaborn), labelled in the company currency."""

from __future__ import annotations

import base64
import io

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from revbook import settings


def show(alt: str, fig: Figure | None = None) -> None:
    """Show the chart (the current figure unless `fig`) with `alt` as its alt text, the sentence a
    reader who cannot see it needs: what it shows, e.g. "Leads per week, 12 weeks to 2026-W48"."""
    from IPython.display import display

    fig = fig or plt.gcf()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    plt.close(fig)
    display({"image/png": base64.b64encode(buffer.getvalue()).decode("ascii"), "text/plain": alt},
            metadata={"image/png": {"alt": alt}}, raw=True)


def money_axis(ax: Axes, axis: str = "y") -> None:
    """Tick labels like ¥12.3M on the given axis."""
    symbol = settings.company().currency_symbol

    def label(value: float, _: object) -> str:
        for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
            if abs(value) >= size:
                return f"{symbol}{value / size:.1f}{suffix}"
        return f"{symbol}{value:.0f}"

    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(FuncFormatter(label))


def waterfall(steps: pd.DataFrame, title: str) -> Axes:
    """A waterfall of signed `amount`s per `step`; the first and last rows are totals."""
    _, ax = plt.subplots()
    bottoms, heights, colors = [], [], []
    running = 0.0
    last = len(steps) - 1
    for i, amount in enumerate(steps["amount"]):
        if i in (0, last):
            bottoms.append(0.0)
            heights.append(amount)
            colors.append("#4c72b0")
            running = amount
        else:
            bottoms.append(running if amount >= 0 else running + amount)
            heights.append(abs(amount))
            colors.append("#55a868" if amount >= 0 else "#c44e52")
            running += amount
    ax.bar(steps["step"], heights, bottom=bottoms, color=colors)
    low = min(bottoms[1:last] or [0.0])
    ax.set_ylim(bottom=max(0.0, low - (max(heights[0], heights[last]) - low) * 0.5))
    money_axis(ax)
    ax.set_title(title)
    ax.set_xlabel("")
    return ax


def trend(frame: pd.DataFrame, x: str, columns: dict[str, str], title: str, money: bool = True) -> Axes:
    """Lines over time: `columns` maps a column to its legend label."""
    _, ax = plt.subplots()
    for col, label in columns.items():
        ax.plot(frame[x], frame[col], marker="o", label=label)
    if money:
        money_axis(ax)
    ax.set_title(title)
    ax.legend()
    return ax


def effects(table: pd.DataFrame, title: str,
            xlabel: str = "Odds ratio per standard deviation (familywise 95% interval)") -> Axes:
    """A forest plot: each row's `odds_ratio` with its `or_low`–`or_high` interval against 1 (no
    effect), labelled by `label`, first row on top; intervals that exclude 1 in colour."""
    rows = table.iloc[::-1]
    _, ax = plt.subplots(figsize=(8, 0.4 * len(rows) + 1.2))
    y = range(len(rows))
    clear = ((rows["or_low"] > 1) | (rows["or_high"] < 1)).to_numpy()
    colors = ["#c44e52" if c else "#8c8c8c" for c in clear]
    ax.hlines(list(y), rows["or_low"], rows["or_high"], colors=colors)
    ax.scatter(rows["odds_ratio"], list(y), color=colors, zorder=3)
    ax.axvline(1, color="black", linewidth=0.8, linestyle="--")
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:g}" if round(v, 1) in (0.5, 0.7, 1.5, 2) else ""))
    ax.set_yticks(list(y), rows["label"])
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    return ax


def heatmap(matrix: pd.DataFrame, title: str, ax: Axes, xlabel: str, ylabel: str) -> Axes:
    """A percentage heatmap (values 0-1) with each cell labelled, e.g. cohort retention."""
    sns.heatmap(matrix, ax=ax, annot=True, fmt=".0%", cmap="RdYlGn", vmin=max(0.0, float(matrix.min().min())),
                vmax=1.0, cbar=False, annot_kws={"fontsize": 8})
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return ax
