"""The product's one clock: the "today" every default period derives from, and the "now" that
future-dated events are checked against.

"Today" is the date in the company's time zone (params/company.yaml `timezone`), where its months,
weeks and days are cut. `REVBOOK_TODAY=YYYY-MM-DD` replaces the wall clock's date, so a test, a
re-run of a past day or a replica's cron sees one fixed day. Nothing else in revbook reads the
date for business logic; only the timestamps a page or manifest records of its own making stay
wall-clock (UTC).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import zoneinfo

import yaml

from revbook import paths

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
                         f"e.g. 2026-12-01, or unset it to use today's date") from None


def zone() -> zoneinfo.ZoneInfo:
    """The company's time zone: params/company.yaml `timezone` (UTC without one). Read here, not through
    revbook.settings, which validates it and imports this module; a name that is no zone is an error."""
    path = paths.params_dir() / "company.yaml"
    try:
        name = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("timezone") or "UTC"
    except (OSError, yaml.YAMLError, AttributeError):
        return zoneinfo.ZoneInfo("UTC")  # settings.company() reports the file's problem
    try:
        return zoneinfo.ZoneInfo(str(name))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ClockError(f"{path}: timezone: {name!r} is not an IANA time zone (e.g. Asia/Tokyo, UTC)") from None


def today() -> dt.date:
    """Today's date in the company's time zone, or the day REVBOOK_TODAY pins."""
    return pinned() or dt.datetime.now(zone()).date()


def now() -> dt.datetime:
    """The current UTC time (naive, whole seconds), what stored timestamps are compared with; with
    REVBOOK_TODAY set, the last second of the pinned day in the company's time zone, so nothing dated
    that day counts as the future."""
    day = pinned()
    if day is None:
        return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    end = dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=zone())
    return end.astimezone(dt.UTC).replace(tzinfo=None)


def stamp() -> str:
    """The wall-clock UTC time, to the second, as ISO text: when revbook made something of its own (a
    page, a manifest entry, a load, a lock). Never pinned: it says when, not which day's data."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
