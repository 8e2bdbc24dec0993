"""The product's one clock: the "today" every default period derives from, and the "now" that
future-dated events are checked against.

`REVBOOK_TODAY=YYYY-MM-DD` replaces the wall clock's UTC date, so a test, a re-run of a past
day or a replica's cron sees one fixed day. Nothing else in revbook reads the date for business
logic; only the timestamps a page or manifest records of its own making stay wall-clock.
"""

from __future__ import annotations

import datetime as dt
import os
import re

TODAY_ENV = "REVBOOK_TODAY"
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class ClockError(ValueError):
    """REVBOOK_TODAY is set but names no date."""


def pinned() -> dt.date | None:
    """The day REVBOOK_TODAY pins, or None when it is unset or empty."""
    text = os.environ.get(TODAY_ENV, "").strip()
    if not text:
        return None
    try:
        if not _DATE.fullmatch(text):
            raise ValueError("not in the form YYYY-MM-DD")
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise ClockError(f"{TODAY_ENV}={text!r} is not a date ({exc}): expected YYYY-MM-DD, "
                         f"e.g. 2026-12-01, or unset it to use today's UTC date") from None


def today() -> dt.date:
    """Today's UTC date, or the day REVBOOK_TODAY pins."""
    return pinned() or dt.datetime.now(dt.UTC).date()


def now() -> dt.datetime:
    """The current UTC time (naive, whole seconds); with REVBOOK_TODAY set, the pinned day's last
    second, so nothing dated that day counts as the future."""
    day = pinned()
    if day is None:
        return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    return dt.datetime.combine(day, dt.time(23, 59, 59))


def stamp() -> str:
    """The wall-clock UTC time, to the second, as ISO text: when revbook made something of its own (a
    page, a manifest entry, a load, a lock). Never pinned: it says when, not which day's data."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
