"""From a write in a worktree to `driftcheck watch` showing it, on the benchmark repository.

The issue's budget: a change in any worktree shows in the view within 1 s of the
write. This builds the benchmark workload (Django, bench/workload.py), starts the
repository's daemon, and runs the real view (Textual, headless, 80x24) fed by it.
Each sample writes a new stale call (the old arity of `get_text_list`, whose
signature worktree wt00 changed) into one of the other worktrees, and times until
the view lists that finding; then removes it and times until the view drops it.
The clock stops when the app has applied the snapshot (its next frame draws it).

    .venv/bin/python bench/watch_latency.py            # --worktrees 8 --repeat 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import DRIFTCHECK, _prune_to, _unpark
from workload import _ENV, CACHE, add_worktrees, build_base

from driftcheck.config import load_config
from driftcheck.daemon import client
from driftcheck.watch.app import WatchApp
from driftcheck.watch.snapshot import Snapshot
from driftcheck.watch.source import Feed
from driftcheck.workspace import git

STALE = (
    "from django.utils.text import get_text_list\n\n\n"
    "def bench_watch_{n}(items):\n    return get_text_list(items)\n"
)


def _warming_left(repo: Path) -> int:
    answer = client.ask(str(repo / ".git"), {"op": b"status"}, 30.0)
    return int(json.loads(answer["status"]).get("warming_pairs", 0))


def has_call(app: WatchApp, name: str) -> bool:
    return any(f.kind == "stale-caller" and name in (f.path or "") for f in app.rows)


async def until(check: Callable[[], bool], seconds: float = 30.0) -> float:
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > seconds:
            raise SystemExit(f"the view did not change within {seconds} s")
        await asyncio.sleep(0.005)
    return time.monotonic() - started


async def measure(repo: Path, worktrees: list[Path], repeat: int) -> dict[str, list[float]]:
    info = git.open_repo(repo)
    feed = Feed(repo, info, load_config(repo), trunk=None, refs=(), use_daemon=True)
    app = WatchApp(feed, root=repo, trunk=None, refs=())
    samples: dict[str, list[float]] = {"finding appears": [], "finding goes": []}
    # Where a write's time goes, from the wall clocks both processes share: the
    # watcher's event (changed_at), the scan's start and end (analysed_at less its
    # elapsed_ms), and the view applying the snapshot.
    phases: dict[str, list[float]] = {name: [] for name in PHASES}
    scans: list[int] = []  # snapshots from the write until it showed
    async with app.run_test(size=(80, 24)):
        await until(lambda: app.snapshots >= 1 and app.mode == "daemon", seconds=600)
        # A view left open: the daemon has worked out, while idle, what the pairs it
        # answered from the pair cache need (daemon/feed.py Warming).
        warmed = await until(lambda: _warming_left(repo) == 0, seconds=300)
        print(f"the daemon warmed up in {warmed:.1f} s after the first snapshot")
        others = worktrees[2:] or worktrees[1:]
        for n in range(repeat):
            wt = others[n % len(others)]
            rel = f"django/utils/bench_watch_{n}.py"
            target = wt / rel
            started, count = time.monotonic(), app.snapshots
            # Content new to every run: the persistent pair cache must not answer it.
            written = time.time()
            target.write_text(STALE.format(n=n) + f"# {time.time_ns()}\n")
            await until(lambda rel=rel: has_call(app, rel))  # type: ignore[misc]
            shown = time.time()
            samples["finding appears"].append(time.monotonic() - started)
            assert app.snapshot is not None
            _phases(phases, app.snapshot, wt, written, shown)
            scans.append(app.snapshots - count)
            await asyncio.sleep(0.5)  # the person looks at it
            started = time.monotonic()
            target.unlink()
            await until(lambda rel=rel: not has_call(app, rel))  # type: ignore[misc]
            samples["finding goes"].append(time.monotonic() - started)
            await asyncio.sleep(0.3)
        app.exit()
    samples.update(phases)
    print(f"snapshots from a write until the finding showed: {sorted(scans)}")
    scan_ms = [round(v * 1000) for v in phases["  the daemon's scan"]]
    print(f"the daemon's scan per write, in order (ms): {scan_ms}")
    return samples


PHASES = (
    "  write -> daemon's watcher event",
    "  event -> scan starts",
    "  the daemon's scan",
    "  scan done -> view shows it",
    "  write -> new result (daemon side)",
)


def _phases(
    phases: dict[str, list[float]], snapshot: Snapshot, wt: Path, written: float, shown: float
) -> None:
    """One sample's split (wall clock, seconds), the event read from the snapshot."""
    folder = wt.resolve()
    name = next(
        p.name for p in snapshot.result.participants if p.path and Path(p.path).resolve() == folder
    )
    event = snapshot.changed_at.get(name, written)
    ended = snapshot.analysed_at
    began = ended - snapshot.result.stats.get("elapsed_ms", 0) / 1000
    for label, value in zip(
        PHASES,
        (event - written, began - event, ended - began, shown - ended, ended - written),
        strict=True,
    ):
        phases[label].append(value)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worktrees", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--workdir", type=Path, default=CACHE / "work")
    args = parser.parse_args()

    print(f"building workload in {args.workdir} (first run downloads and commits Django)")
    repo = build_base(args.workdir)
    _unpark(repo)
    worktrees = add_worktrees(repo, args.worktrees)
    _prune_to(repo, worktrees[: args.worktrees])
    os.environ.update({**_ENV, "DRIFTCHECK_DAEMON": "1"})
    subprocess.run([*DRIFTCHECK, "daemon", "start", "--repo", str(repo)], check=True, cwd=repo)
    try:
        samples = asyncio.run(measure(repo, worktrees[: args.worktrees], args.repeat))
    finally:
        subprocess.run([*DRIFTCHECK, "daemon", "stop", "--repo", str(repo)], cwd=repo)
    print()
    print(
        f"{'write -> view (' + str(args.worktrees) + ' worktrees)':<36} {'n':>3} {'p50 ms':>8} "
        f"{'p95 ms':>8} {'max ms':>8}"
    )
    for name, values in samples.items():
        ms = [v * 1000 for v in values]
        print(
            f"{name:<36} {len(ms):>3} {statistics.median(ms):>8.0f} {p95(ms):>8.0f} {max(ms):>8.0f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
