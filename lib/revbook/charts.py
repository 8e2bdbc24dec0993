"""Charts the reports share (matplotlib/seaborn), labelled in the company currency."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter

from revbook import settings


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
