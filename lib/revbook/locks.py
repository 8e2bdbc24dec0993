"""One run at a time per outputs folder, and no load under a running report.

File locks (flock, through filelock) that the kernel releases when their process dies, so a lock a
killed run left behind is never stale. Who holds a lock is written beside it, for the message of
whoever waits for it.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from filelock import FileLock, Timeout

from revbook import clock
from revbook.files import write_atomic


def _holder_file(lock: Path) -> Path:
    return lock.with_name(lock.name + ".holder")


def holder(lock: Path) -> str | None:
    """Who holds (or last held) `lock`: "revbook run monthly 2026-10 (pid 123, since …)"."""
    try:
        found = json.loads(_holder_file(lock).read_text(encoding="utf-8"))
        return f"{found['what']} (pid {found['pid']}, since {found['since']})"
    except (OSError, ValueError, KeyError):
        return None


@contextlib.contextmanager
def hold(lock: Path, what: str, say: Callable[[str], None]) -> Iterator[None]:
    """Hold `lock` for `what` ("revbook run monthly 2026-10"); if another process holds it, `say` so
    and wait until it is free (a second run waits for the first, a load for the run reading)."""
    lock.parent.mkdir(parents=True, exist_ok=True)
    held = FileLock(lock, is_singleton=False)
    try:
        held.acquire(timeout=0)
    except Timeout:
        say(f"waiting for {holder(lock) or 'another revbook process'} to finish ({lock} is locked)")
        held.acquire()
    try:
        write_atomic(_holder_file(lock), json.dumps({"what": what, "pid": os.getpid(),
                                                     "since": clock.stamp()}))
        yield
    finally:
        _holder_file(lock).unlink(missing_ok=True)
        held.release()


def outputs_lock(outputs: Path) -> Path:
    """The lock of an outputs folder: one run writes its pages, manifests and index at a time."""
    return outputs / ".revbook.lock"


def warehouse_lock(warehouse: Path) -> Path:
    """The lock of a DuckDB warehouse file: a run holds it while its reports read, a load or a demo
    build while it replaces the file, so no page mixes two datasets."""
    return warehouse.with_name(warehouse.name + ".lock")
