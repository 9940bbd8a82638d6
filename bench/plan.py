"""`driftcheck plan` against a warm `driftcheck scan` on the benchmark workload.

The issue's budget: a plan over 8 worktrees of the benchmark repository (Django,
bench/workload.py) costs no more than a warm scan plus 20%. Both commands run as
separate processes, warmed once, then timed alternately so a busy machine slows
both alike. The plan names a trunk (the main worktree's branch), which changes
what each pair's cached findings are keyed by; `scan --trunk main` is timed too,
so the plan's own cost shows apart from the trunk's.

    .venv/bin/python bench/plan.py            # --worktrees 8 --repeat 7
"""

from __future__ import annotations

import argparse
import compileall
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import DRIFTCHECK, _prune_to, _unpark, stats, timed
from workload import CACHE, add_worktrees, build_base


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worktrees", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--workdir", type=Path, default=CACHE / "work")
    args = parser.parse_args()

    package = Path(__file__).resolve().parent.parent / "driftcheck"
    compileall.compile_dir(str(package), quiet=1)
    print(f"building workload in {args.workdir} (first run downloads and commits Django)")
    repo = build_base(args.workdir)
    _unpark(repo)
    worktrees = add_worktrees(repo, args.worktrees)
    _prune_to(repo, worktrees[: args.worktrees])

    commands = {
        "scan warm": [*DRIFTCHECK, "scan", "--format", "json"],
        "scan --trunk main warm": [*DRIFTCHECK, "scan", "--trunk", "main", "--format", "json"],
        "plan warm": [*DRIFTCHECK, "plan", "--format", "json", "--fail-on", "never"],
    }
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for command in commands.values():
        timed(command, cwd=repo)  # warm the cache for exactly this command
    for _ in range(args.repeat):
        for name, command in commands.items():
            seconds, code, _rss = timed(command, cwd=repo)
            if code not in (0, 1):
                raise SystemExit(f"{name} exited {code}")
            samples[name].append(seconds)

    print()
    print(f"{'measure (' + str(args.worktrees) + ' worktrees)':<40} {'p50 ms':>8} {'p95 ms':>8}")
    for name, values in samples.items():
        print(f"{name:<40} {stats(values)}")
    plan = statistics.median(samples["plan warm"])
    for base in ("scan warm", "scan --trunk main warm"):
        ratio = plan / statistics.median(samples[base])
        print(f"{'plan / ' + base:<40} {ratio:8.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
