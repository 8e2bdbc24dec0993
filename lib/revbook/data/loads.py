"""Which warehouse files hold a company's own data, so that a missing one is an error, never the demo.

`revbook load` records the warehouse it wrote in .revbook/loads.json (paths.state_dir(), outside
data/ so that losing the warehouse, or all of data/, does not lose the record). The demo is built
in its place only on purpose (`revbook demo`, `make demo`), which clears the record; `make monthly`
on a fresh clone, where nothing was ever loaded, builds it as before.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from revbook import clock, paths
from revbook.files import write_atomic


def _file() -> Path:
    return paths.state_dir() / "loads.json"


def _read() -> dict[str, dict[str, Any]]:
    try:
        return json.loads(_file().read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):  # unreadable: treat as "something was loaded", the safe side
        return {"?": {"folder": f"(unreadable record {_file()})"}}


def _write(found: dict[str, dict[str, Any]]) -> None:
    write_atomic(_file(), json.dumps(found, ensure_ascii=False, indent=1) + "\n", private=True)


def record(warehouse: Path, folder: Path, fingerprint: str) -> None:
    """Note that `warehouse` now holds the data loaded from `folder`."""
    found = _read()
    found[str(warehouse.resolve())] = {"folder": str(folder.resolve()), "fingerprint": fingerprint,
                                       "loaded_at": clock.stamp()}
    _write(found)


def forget(warehouse: Path) -> None:
    """`warehouse` holds the demo now (built on purpose)."""
    found = _read()
    if found.pop(str(warehouse.resolve()), None) is not None:
        _write(found)


def loaded(warehouse: Path) -> dict[str, Any] | None:
    """The record of the load into `warehouse` (folder, fingerprint, loaded_at), None if none."""
    found = _read()
    return found.get(str(warehouse.resolve())) or found.get("?")


def gone_message(warehouse: Path) -> str | None:
    """What to do when `warehouse` is missing or unreadable although a company's data was loaded into
    it; None if nothing was ever loaded there (the demo may be built)."""
    if (entry := loaded(warehouse)) is None:
        return None
    return (f"{warehouse} held your data, loaded from {entry.get('folder', '?')} at {entry.get('loaded_at', '?')}, "
            f"and it is missing or unreadable: load it again with `revbook load {entry.get('folder', 'DIR')}`. "
            "The demo company is not built in its place; `make demo` does that on purpose.")
