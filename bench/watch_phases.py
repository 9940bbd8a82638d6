"""Where the daemon's scan after one write spends its time, phase by phase.

`watch_latency.py` times a write end to end (watcher, wake-up, the daemon's scan,
the view). This splits the scan itself: it runs what the daemon runs for a live
view (a kept session, watched worktree states, `scan_in`) in this process, on the
benchmark repository, and wraps the stages in timers (in this process only). Each
sample writes a new file with a stale call into one worktree, scans, then removes
it and scans again (not timed). The first sample is also the first fresh analysis
of the session; the median leaves it out.

    .venv/bin/python bench/watch_phases.py            # --samples 8
"""

from __future__ import annotations

import argparse
import functools
import os
import select
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from workload import _ENV, CACHE

from driftcheck import detectors
from driftcheck.daemon.session import Session
from driftcheck.detectors import context, duplicates, semantics
from driftcheck.engine import merges, pairs, windows
from driftcheck.engine import scan as scan_module
from driftcheck.engine.options import ScanOptions
from driftcheck.symbols.graph import SymbolGraph
from driftcheck.symbols.index import SymbolIndex
from driftcheck.workspace import git, merge
from driftcheck.workspace.live_states import LiveStates
from driftcheck.workspace.watcher import Watcher

STALE = (
    "from django.utils.text import get_text_list\n\n\n"
    "def bench_phase_{n}(items):\n    return get_text_list(items)\n# {stamp}\n"
)
SPENT: dict[str, float] = defaultdict(float)


def timed(name: str, function: Callable[..., Any], *, consume: bool = False) -> Callable[..., Any]:
    """`function`, adding its wall time to SPENT[name] (a generator's once consumed)."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            out = function(*args, **kwargs)
            return list(out) if consume else out
        finally:
            SPENT[name] += time.perf_counter() - started

    return wrapper


def instrument() -> Callable[..., Any]:
    loaded = detectors.load

    def load(kind: str) -> Any:
        found = loaded(kind)
        return None if found is None else timed(f"  detector {kind}", found, consume=True)

    detectors.load = load
    LiveStates._capture = timed("  capture of the written worktree", LiveStates._capture)  # type: ignore[method-assign]
    scan_module.discover = timed("discover (worktree states)", scan_module.discover)
    pairs.merge_bases = timed("merge bases", pairs.merge_bases)
    pairs._prime_diffs = timed("diffs", pairs._prime_diffs)
    SymbolIndex.prefetch = timed("prefetch (tables)", SymbolIndex.prefetch)  # type: ignore[method-assign]
    windows.merge_ahead = timed("git's merges, side by side", merges.merge_ahead)
    pairs._analyse_pair = timed("pairs, one by one", pairs._analyse_pair)
    context.build_semantics = timed("    semantic facts of a pair", context.build_semantics)
    semantics.own_facts = timed("      a side's own facts", semantics.own_facts)
    SymbolGraph.add_modules = timed("      symbol graph", SymbolGraph.add_modules)  # type: ignore[method-assign]
    duplicates._existing_match = timed("    DC303 lookups", duplicates._existing_match)
    merge.simulate = timed("    merge simulations (summed)", merge.simulate)
    scan_module.build_result = timed("the result", scan_module.build_result)
    return timed("the whole scan", scan_module.scan_in)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=8)
    parser.add_argument("--workdir", type=Path, default=CACHE / "work")
    args = parser.parse_args()
    os.environ.update(_ENV)
    root = args.workdir / "repo"
    worktrees = sorted(args.workdir.glob("wt0*"))[2:]
    if not root.is_dir() or not worktrees:
        raise SystemExit(f"no benchmark repository in {args.workdir}: run watch_latency.py first")
    scan_in = instrument()
    repo = git.open_repo(root)
    watcher = Watcher()
    live = LiveStates(repo, watcher)
    session = Session(repo, live)
    options = ScanOptions(repo=str(root))
    rows: list[dict[str, float]] = []
    try:
        scan_in(session, options)
        for n in range(args.samples):
            target = worktrees[n % len(worktrees)] / f"django/utils/bench_phase_{n}.py"
            target.write_text(STALE.format(n=n, stamp=time.time_ns()))
            select.select([watcher.fd], [], [], 5)
            live.refresh()
            SPENT.clear()
            scan_in(session, options)
            rows.append(dict(SPENT))
            target.unlink()
            select.select([watcher.fd], [], [], 5)
            live.refresh()
            scan_in(session, options)
    finally:
        session.close()
        live.close()
        watcher.close()
    print(f"{'phase (ms)':<40}" + "".join(f"{n:>6}" for n in range(len(rows))) + "  median")
    for name in dict.fromkeys(k for row in rows for k in row):
        values = [1000 * row.get(name, 0.0) for row in rows]
        later = values[1:] or values
        print(
            f"{name:<40}"
            + "".join(f"{v:6.0f}" for v in values)
            + f"  {statistics.median(later):6.0f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
