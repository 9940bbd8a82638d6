"""What `scan --verify mypy` costs on the benchmark workload (Django, 8 worktrees).

Cold: driftcheck's folder removed first (its cache and the checker's own incremental
cache with it). Warm: the same scan again, every state answered from the cache by
tree id. Also the plain scan, for comparison, and the counts `stats.verify` gives:
pairs verified and skipped, checker runs.

    .venv/bin/python bench/verify_cost.py          # --worktrees 8 --repeat 3
"""

from __future__ import annotations

import argparse
import compileall
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import ALONE, DRIFTCHECK, _prune_to, _unpark, clear_cache
from workload import CACHE, add_worktrees, build_base


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worktrees", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=CACHE / "work")
    args = parser.parse_args()
    package = Path(__file__).resolve().parent.parent / "driftcheck"
    compileall.compile_dir(str(package), quiet=1)
    repo = build_base(args.workdir)
    _unpark(repo)
    worktrees = add_worktrees(repo, args.worktrees)
    _prune_to(repo, worktrees[: args.worktrees])

    verify = [*DRIFTCHECK, "scan", "--verify", "mypy", "--format", "json"]
    plain = [*DRIFTCHECK, "scan", "--format", "json"]
    rows: dict[str, list[float]] = {"scan warm": [], "scan --verify mypy cold": []}
    rows["scan --verify mypy warm"] = []
    counts: dict[str, object] = {}
    for _ in range(args.repeat):
        clear_cache(repo)
        seconds, report = _run(verify, repo)
        rows["scan --verify mypy cold"].append(seconds)
        counts["cold"] = report["stats"].get("verify")
        seconds, report = _run(verify, repo)
        rows["scan --verify mypy warm"].append(seconds)
        counts["warm"] = report["stats"].get("verify")
        counts["pairs"] = report["stats"]["pairs"]
        counts["merge-break findings"] = sum(
            1 for f in report["findings"] if f["kind"] == "merge-break"
        )
        rows["scan warm"].append(_run(plain, repo)[0])
    print(f"{'measure (' + str(args.worktrees) + ' worktrees)':<32} {'median s':>9} {'max s':>7}")
    for name, values in rows.items():
        print(f"{name:<32} {statistics.median(values):>9.1f} {max(values):>7.1f}")
    print(json.dumps(counts, indent=2))
    return 0


def _run(command: list[str], repo: Path) -> tuple[float, dict]:
    started = time.perf_counter()
    proc = subprocess.run(command, cwd=repo, env=ALONE, capture_output=True, check=False)
    seconds = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} exited {proc.returncode}: {proc.stderr[-400:]!r}")
    return seconds, json.loads(proc.stdout)


if __name__ == "__main__":
    raise SystemExit(main())
