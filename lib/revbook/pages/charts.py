"""Charts the reports share (matplotlib/seaborn), labelled in the company currency."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from revbook import settings
from revbook.pages import columns


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


def money_label(value: float) -> str:
    """A short money label like ¥12.3M or −¥450k (axis ticks, bar labels)."""
    symbol = settings.company().currency_symbol
    sign = "−" if value < 0 else ""
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{sign}{symbol}{abs(value) / size:.1f}{suffix}"
    return f"{sign}{symbol}{abs(value):.0f}"


def money_axis(ax: Axes, axis: str = "y") -> None:
    """Tick labels like ¥12.3M on the given axis."""
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(FuncFormatter(lambda v, _: money_label(v)))


def waterfall(steps: Sequence[str], amounts: Sequence[float], title: str, net_label: str = "Net change") -> Figure:
    """A bridge from a first total to a last one (`steps[0]`, `steps[-1]`) through signed movements,
    in two panels so that neither misleads: the totals as bars on an axis from 0, in their true
    proportion, and the movements at their own scale, each floating from the running change since
    the first total and ending with the net change (a bar from 0). A single cut axis would make a
    2% change look like a doubling."""
    labels, values = list(steps), [float(v) for v in amounts]
    fig, (totals, moves) = plt.subplots(1, 2, figsize=(11, 4), width_ratios=(1, 2.6))
    totals.bar([labels[0], labels[-1]], [values[0], values[-1]], color="#4c72b0")
    totals.set_ylim(bottom=0)
    totals.set_title("Totals (axis from 0)", fontsize="medium")
    running, bottoms, heights, colors = 0.0, [], [], []
    for amount in values[1:-1]:
        bottoms.append(running + min(amount, 0.0))
        heights.append(abs(amount))
        colors.append("#55a868" if amount >= 0 else "#c44e52")
        running += amount
    net = values[-1] - values[0]
    bars = moves.bar([*labels[1:-1], net_label], [*heights, abs(net)], bottom=[*bottoms, min(net, 0.0)],
                     color=[*colors, "#4c72b0"])
    moves.bar_label(bars, [("+" if v > 0 else "") + money_label(v) for v in (*values[1:-1], net)], fontsize="small")
    moves.axhline(0, color="black", linewidth=0.8)
    moves.margins(y=0.15)
    moves.set_title("Movements in the month (own scale, from 0)", fontsize="medium")
    for ax in (totals, moves):
        money_axis(ax)
        ax.set_xlabel("")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def trend(frame: pd.DataFrame, x: str, keys: Sequence[str], title: str, unit: str = "money") -> Figure:
    """Lines over time, one per column in `keys`, named by the vocabulary; `unit` "money" or "pct"
    labels the axis, and a pct axis that crosses 0 gets a line at 0."""
    fig, ax = plt.subplots()
    for key in keys:
        ax.plot(frame[x], frame[key], marker="o", label=columns.label(key))
    if unit == "money":
        money_axis(ax)
    else:
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.1%}"))
        if (frame[list(keys)] < 0).any().any():
            ax.axhline(0, color="grey", linewidth=0.8)
    ax.set_title(title)
    ax.legend()
    return fig


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
