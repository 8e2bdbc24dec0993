"""Report periods: months (YYYY-MM), ISO weeks (YYYY-Www) and days (YYYY-MM-DD).

A schedule reports on one complete period; the default is the last complete one before
`clock.today()` (the date in the company's time zone, or the day REVBOOK_TODAY pins).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

from revbook import clock

Kind = Literal["month", "week", "day"]
SCHEDULE_KINDS: dict[str, Kind] = {"monthly": "month", "weekly": "week", "daily": "day"}
_FORMATS: dict[Kind, tuple[re.Pattern[str], str]] = {
    "month": (re.compile(r"(\d{4})-(\d{2})"), "YYYY-MM, e.g. 2026-09"),
    "week": (re.compile(r"(\d{4})-W(\d{2})"), "YYYY-Www (ISO week), e.g. 2026-W38"),
    "day": (re.compile(r"(\d{4})-(\d{2})-(\d{2})"), "YYYY-MM-DD, e.g. 2026-09-30"),
}


class PeriodError(ValueError):
    """A period that is malformed, impossible or not complete yet."""


@dataclass(frozen=True)
class Period:
    """A half-open date range [start, end) with its label."""

    kind: Kind
    start: dt.date
    end: dt.date

    @property
    def label(self) -> str:
        if self.kind == "month":
            return self.start.strftime("%Y-%m")
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        return self.start.isoformat()

    @property
    def last_day(self) -> dt.date:
        return self.end - dt.timedelta(days=1)

    def shift(self, n: int) -> Period:
        """The period n steps later (negative: earlier)."""
        if self.kind == "month":
            index = self.start.year * 12 + self.start.month - 1 + n
            return month(index // 12, index % 12 + 1)
        days = 7 if self.kind == "week" else 1
        start = self.start + dt.timedelta(days=days * n)
        return Period(self.kind, start, start + dt.timedelta(days=days))

    def previous(self) -> Period:
        return self.shift(-1)

    def trailing(self, count: int) -> list[Period]:
        """The `count` periods ending with this one, oldest first."""
        return [self.shift(-i) for i in range(count - 1, -1, -1)]

    def __str__(self) -> str:
        return self.label


def month_to_date(period: Period) -> Period:
    """From the first day of the month the period ends in, to the period's end (a week's month so far)."""
    return Period("month", period.last_day.replace(day=1), period.end)


def month(year: int, month_: int) -> Period:
    start = dt.date(year, month_, 1)
    end = dt.date(year + month_ // 12, month_ % 12 + 1, 1)
    return Period("month", start, end)


def parse(kind: Kind, text: str) -> Period:
    """The period `text` names, in the format of `kind`; PeriodError says what is wrong."""
    pattern, expected = _FORMATS[kind]
    match = pattern.fullmatch(text.strip())
    if not match:
        raise PeriodError(f"malformed {kind} period {text!r}: expected {expected}")
    try:
        parts = [int(g) for g in match.groups()]
        if kind == "month":
            return month(*parts)
        if kind == "week":
            return containing("week", dt.date.fromisocalendar(parts[0], parts[1], 1))
        return containing("day", dt.date(*parts))
    except ValueError as exc:
        raise PeriodError(f"impossible {kind} period {text!r} ({exc}): expected {expected}") from None


def kind_of(text: str) -> Kind:
    """The kind of period a label names: 2026-W38 a week, 2026-09-30 a day, else a month."""
    if "W" in text:
        return "week"
    return "day" if text.count("-") == 2 else "month"


def containing(kind: Kind, day: dt.date) -> Period:
    """The period of `kind` that `day` falls in (a week is the ISO week, Monday to Sunday)."""
    if kind == "month":
        return month(day.year, day.month)
    if kind == "week":
        start = day - dt.timedelta(days=day.weekday())
        return Period("week", start, start + dt.timedelta(days=7))
    return Period("day", day, day + dt.timedelta(days=1))


def last_complete(kind: Kind, today: dt.date | None = None) -> Period:
    """The most recent period of `kind` that ended before `today` (default: `clock.today()`)."""
    return containing(kind, today or clock.today()).previous()


def resolve(kind: Kind, text: str | None, today: dt.date | None = None) -> Period:
    """`text` parsed (default: the last complete period); a period not yet over is an error."""
    latest = last_complete(kind, today)
    if not text:
        return latest
    period = parse(kind, text)
    if period.start > latest.start:
        raise PeriodError(
            f"{kind} period {period.label} is not complete yet; the latest complete one is {latest.label}"
        )
    return period
