"""Helpers for tests that start real revbook processes: signals as a terminal sends them, a disk that
fills, and the processes a run leaves behind."""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path


def ctrl_c_as_in_a_terminal() -> None:
    """A suite started in the background (`make test &`, nohup) ignores SIGINT, and so would the child."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def file_size_limit(limit: int) -> Callable[[], None]:
    """A preexec_fn: the child may write no file past `limit` bytes (ulimit -f); a write past it fails
    with EFBIG, as on a full disk, instead of killing the process (SIGXFSZ ignored)."""
    def cap() -> None:
        import resource

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return cap


def processes_with(marker: str) -> list[str]:
    """Command lines of live processes whose environment holds `marker` (the run's kernels included)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and marker.encode() in (proc / "environ").read_bytes():
                found.append((proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
        except OSError:
            continue
    return found
