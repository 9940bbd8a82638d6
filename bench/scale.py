"""Scale benchmark (issue #21): many open pull requests, unsharded and in shards.

Builds a scratch bare repository under bench/.cache/scale/ whose objects are
borrowed from a mirror (nothing is written to the mirror): `refs/heads/main` and the
N most recently pushed pull request heads as `refs/pr/<number>`. Then, cold (no
cache) and each in its own process, it times:
- the unsharded scan, with its peak RSS and pairs enumerated/pruned/analysed;
- `--shard K/8` for every K (each shard's time and peak RSS; the critical path is
  the slowest shard), and whether `merge-reports` of the shards equals the
  unsharded report apart from `elapsed_ms`;
- the unsharded scan for each size in --sizes.

    .venv/bin/python bench/scale.py                      # pytest, 150 refs, 8 shards
    .venv/bin/python bench/scale.py --refs 50 --sizes 25,50 --driftcheck /path/to/python
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MIRRORS = {
    "pytest": Path("/work/.mirror/pytest-dev+pytest/repo"),
    "black": Path("/work/.mirror/psf+black/repo"),
}


def git(*args: str, git_dir: Path, input: str | None = None) -> str:
    return subprocess.run(
        ["git", "--git-dir", str(git_dir), *args],
        input=input,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def build(project: str, refs: int) -> Path:
    """A bare repository borrowing the mirror's objects, with `refs` PR heads."""
    mirror = MIRRORS[project]
    target = ROOT / "bench" / ".cache" / "scale" / f"{project}-{refs}.git"
    if not target.exists():
        git("init", "-q", "--bare", str(target), git_dir=target)
        (target / "objects" / "info" / "alternates").write_text(f"{mirror}/objects\n")
        main = git("rev-parse", "refs/heads/main", git_dir=mirror).strip()
        listed = git(
            "for-each-ref",
            "--sort=-committerdate",
            f"--count={refs}",
            "--format=%(objectname) %(refname)",
            "refs/pull/*/head",
            git_dir=mirror,
        )
        lines = [f"update refs/heads/main {main}"]
        for line in listed.splitlines():
            oid, ref = line.split()
            lines.append(f"update refs/pr/{int(ref.split('/')[2]):05d} {oid}")
        git("update-ref", "--stdin", git_dir=target, input="\n".join(lines) + "\n")
    return target


def run(python: str, repo: Path, out: Path, *extra: str) -> tuple[float, float, float]:
    """One cold scan in its own process: wall seconds, peak RSS in MB, CPU seconds.

    The CPU time (user and system, the scan's parse workers included) is what the
    scan costs whatever else the machine runs; wall time on a shared machine is not."""
    args = [python, "-m", "driftcheck", "scan", "--repo", str(repo), "--refs", "refs/pr/*"]
    args += ["--trunk", "main", "--no-cache", "--format", "json", "--fail-on", "never"]
    started = time.monotonic()
    child = subprocess.Popen([*args, "--output", str(out), *extra], stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.monotonic() - started
    assert child.stderr is not None
    error = child.stderr.read().decode()
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode not in (0, 1):
        sys.exit(f"scan failed ({child.returncode}): {error}")
    return elapsed, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--project", choices=sorted(MIRRORS), default="pytest")
    parser.add_argument("--refs", type=int, default=150)
    parser.add_argument("--shards", type=int, default=8)
    parser.add_argument("--sizes", default="25,50,100,150", help="refs to time unsharded")
    parser.add_argument("--driftcheck", default=sys.executable, help="the Python to run")
    parser.add_argument(
        "--work",
        type=Path,
        default=ROOT / "bench" / ".cache" / "scale" / "out",
        help="where the reports go (two runs at once need two folders)",
    )
    args = parser.parse_args(argv)
    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    python = args.driftcheck

    repo = build(args.project, args.refs)
    whole = work / f"whole-{args.refs}.json"
    seconds, rss, cpu = run(python, repo, whole)
    stats = json.loads(whole.read_text())["stats"]
    print(f"## {args.project}, {args.refs} refs ({stats['pairs']} pairs)")
    print(
        "| run | time (s) | CPU (s) | peak RSS (MB) | pairs |\n| --- | ---: | ---: | ---: | ---: |"
    )
    print(f"| unsharded | {seconds:.1f} | {cpu:.1f} | {rss:.0f} | {stats['pairs_enumerated']} |")
    keys = ("pairs_enumerated", "pairs_pruned", "pairs_analysed", "merge_simulations")
    counts = ", ".join(f"{k} {stats.get(k)}" for k in keys)
    shards: list[Path] = []
    shard_times: list[float] = []
    shard_cpu: list[float] = []
    for k in range(1, args.shards + 1):
        out = work / f"shard-{args.refs}-{k}.json"
        took, peak, used = run(python, repo, out, "--shard", f"{k}/{args.shards}")
        shards.append(out)
        mine = json.loads(out.read_text())["stats"]["shard"]["pairs"]
        print(
            f"| shard {k}/{args.shards} | {took:.1f} | {used:.1f} | {peak:.0f} | {mine} |",
            flush=True,
        )
        shard_times.append(took)
        shard_cpu.append(used)
    if shards:
        merged = subprocess.run(
            [python, "-m", "driftcheck", "merge-reports", *map(str, shards), "--format", "json"],
            capture_output=True,
            text=True,
            check=False,
        )
        got, expected = json.loads(merged.stdout), json.loads(whole.read_text())
        for document in (got, expected):
            document["stats"].pop("elapsed_ms", None)
        path, path_cpu = max(shard_times), max(shard_cpu)
        print(f"\ncritical path (slowest shard) {path:.1f} s = 1/{seconds / path:.1f} of unsharded")
        print(f"in CPU time: {path_cpu:.1f} s = 1/{cpu / path_cpu:.1f} of unsharded")
        print(f"merged report equals the unsharded one: {got == expected}")
    print(f"stats: {counts}\n")
    # Linear in the overlapping pairs means a steady cost per analysed pair.
    print("| refs | pairs | enumerated | analysed | time (s) | CPU (s) | CPU ms / analysed pair |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for size in [int(s) for s in args.sizes.split(",") if s]:
        if size == args.refs:  # the unsharded run above
            out, took, used = whole, seconds, cpu
        else:
            out = work / f"size-{size}.json"
            took, _peak, used = run(python, build(args.project, size), out)
        s = json.loads(out.read_text())["stats"]
        per_pair = 1000 * used / max(1, s["pairs_analysed"])
        print(
            f"| {size} | {s['pairs']} | {s.get('pairs_enumerated', s['pairs'])} | "
            f"{s['pairs_analysed']} | {took:.1f} | {used:.1f} | {per_pair:.0f} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
