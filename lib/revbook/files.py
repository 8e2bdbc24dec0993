"""Writing output files so that readers never see half a file, under names data cannot subvert."""

from __future__ import annotations

import errno
import hashlib
import io
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import IO, cast

#: A disk that is full, over quota or past a file size limit, read-only, or not ours to write.
CANNOT_WRITE = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM})
#: An id that is already a fine file name: letters, digits, '.', '_' and '-', not starting with '.'.
_PLAIN = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}")


def safe_name(text: str) -> str:
    """A file name for an id taken from data (a rep id in a page's name): the id itself when it is
    plain, else a readable slug plus a short hash of the id, so that any id gives one bounded name
    that cannot leave its folder ('../x', '/', '#', '?', 300 characters) and two ids never share one."""
    if _PLAIN.fullmatch(text):
        return text
    slug = re.sub(r"[^A-Za-z0-9_-]+", "_", text).strip("_")[:40]
    return f"{slug or 'id'}-{hashlib.sha256(text.encode('utf-8')).hexdigest()[:10]}"


def public_mode() -> int:
    """The mode a new file gets from the umask (0644 under 022): pages a web server may serve."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def write_atomic(path: Path, content: str | bytes, encoding: str = "utf-8", private: bool = False) -> None:
    """Write `content` to `path` via a temp file + rename, so readers never see half a file. The file
    follows the umask (stakeholders' pages, served as they are), or is 0600 when `private` (row-level
    data, state)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o600 if private else public_mode())
        if isinstance(content, bytes):
            with os.fdopen(fd, "wb") as out:
                out.write(content)
        else:
            with os.fdopen(fd, "w", encoding=encoding, newline="") as fh:
                fh.write(content)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def private_dir(path: Path) -> Path:
    """`path` made (if need be) as a folder only its owner can enter (0700): executed notebooks and
    logs hold row-level data, and a web server serving outputs/ must not list or read them."""
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


class _ReaderMayLeave(io.TextIOBase):
    """sys.stderr (the console's), as it is at each write, going quiet rather than failing once its
    reader is gone: `revbook run 2>&1 | head -2` or a closed cron pipe must not stop a run half way;
    the manifest, the index and run.log still record it."""

    gone = False

    def write(self, text: str) -> int:
        if not self.gone:
            try:
                sys.stderr.write(text)
                sys.stderr.flush()
            except (BrokenPipeError, OSError, ValueError):  # reader gone, or the stream closed
                self.gone = True
        return len(text)

    def isatty(self) -> bool:
        return not self.gone and sys.stderr.isatty()

    def fileno(self) -> int:
        return sys.stderr.fileno()


def quiet_stderr() -> IO[str]:
    """sys.stderr for a console, going quiet once its reader is gone (see _ReaderMayLeave)."""
    return cast(IO[str], _ReaderMayLeave())
