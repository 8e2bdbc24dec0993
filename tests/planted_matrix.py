"""The planted-truth matrix: the tests marked `planted`, for several demo seeds × fake todays.

Each cell is one `pytest -m planted` with REVBOOK_TEST_SEED and REVBOOK_TEST_TODAY set (conftest
builds both demo companies from that seed, ending at that today's last complete month). Prints
each test's pass count over the cells and the cells that failed; exits 1 if any did.

    python tests/planted_matrix.py [--seeds 1-10] [--todays 2026-11-18,2026-12-01,...] [--jobs 2]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TODAYS = "2026-11-18,2026-12-01,2027-01-04,2028-03-01"


def seeds(text: str) -> list[int]:
    """'1-10' or '1,5,42'."""
    if "-" in text:
        first, last = map(int, text.split("-"))
        return list(range(first, last + 1))
    return [int(s) for s in text.split(",")]


def cell(seed: int, today: str, work: Path) -> tuple[int, str, dict[str, str], float]:
    """Run the planted tests for one seed and today: each test's outcome (passed, failed, error, skipped)."""
    junit = work / f"{seed}-{today}.xml"
    env = {**os.environ, "REVBOOK_TEST_SEED": str(seed), "REVBOOK_TEST_TODAY": today}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pytest", "-m", "planted", "-q", "-p", "no:cacheprovider",
                    f"--basetemp={work / f'tmp-{seed}-{today}'}", f"--junitxml={junit}"],
                   cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    outcomes = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        name = f"{case.get('classname', '').rsplit('.', 1)[-1]}::{case.get('name')}"
        tags = {child.tag for child in case}
        outcomes[name] = next((t for t in ("failure", "error", "skipped") if t in tags), "passed")
    return seed, today, outcomes, time.perf_counter() - started


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", default="1-10")
    p.add_argument("--todays", default=TODAYS)
    p.add_argument("--jobs", type=int, default=2)
    args = p.parse_args()
    grid = [(s, t) for s in seeds(args.seeds) for t in args.todays.split(",")]
    passes: dict[str, int] = defaultdict(int)
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="planted-") as tmp, ThreadPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(cell, s, t, Path(tmp)) for s, t in grid]
        for done, future in enumerate(futures, 1):
            seed, today, outcomes, seconds = future.result()
            bad = {n: o for n, o in outcomes.items() if o != "passed"}
            print(f"[{done}/{len(grid)}] seed {seed}, today {today}: {len(outcomes) - len(bad)}/{len(outcomes)} "
                  f"passed in {seconds:.0f}s" + "".join(f"\n    {o}: {n}" for n, o in bad.items()), flush=True)
            for name, outcome in outcomes.items():
                passes[name] += outcome == "passed"
            failures += [f"seed {seed}, today {today}: {o} {n}" for n, o in bad.items()]
            if not outcomes:
                failures.append(f"seed {seed}, today {today}: no test ran")
    print(f"\n{len(passes)} planted-truth tests × {len(grid)} cells (seeds {args.seeds}; todays {args.todays})")
    for name in sorted(passes):
        print(f"  {passes[name]:>3}/{len(grid)}  {name}")
    print(f"{len(failures)} failure(s)" + "".join(f"\n  {f}" for f in failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
