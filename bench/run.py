"""driftcheck benchmark: `python bench/run.py` prints a table.

Measures, as median and p95 over repeated runs:
- `driftcheck scan` cold (driftcheck's cache removed first) and warm;
- the floor: a plain loop of `git merge-tree --write-tree` over the same pairs,
  including building each worktree's tree, timed in the same run;
- `driftcheck hook claude` latency with a real Edit payload, cold and warm, judged
  in the hook's own process;
- the same hook answered by the daemon (`driftcheck daemon`): warm, and just after
  and one second after an edit in another worktree; and how long the daemon takes
  to start;
- a scan right after an edit in one worktree (its pairs analysed again, the rest
  answered from the cache);
- the hook's floor: `git status` in every worktree, 4 at a time, which any exact
  answer pays without a file watcher;
- peak RSS of the driftcheck process;
- scan time for 2, 4, 8, 16 and 32 worktrees.

driftcheck's bytecode is compiled first, as `pip install` does: otherwise every
timed process would compile its modules again.

Options: --worktrees N (default 8), --repeat N (default 5), --scaling 2,4,8,16,32,
--quick (fewer repeats, scaling up to 8), --workdir DIR (default bench/.cache/work),
--daemon-only (only the rows of the hook answered by the daemon, after one hook judged
in its own process on a cleared cache, as in the full run).
"""

from __future__ import annotations

import argparse
import compileall
import itertools
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from workload import _ENV, CACHE, add_worktrees, build_base, git

from driftcheck.daemon import client as daemon_client
from driftcheck.workspace.git import open_repo

DRIFTCHECK = [sys.executable, "-m", "driftcheck"]


# Hooks judge in their own process unless a row says "daemon".
ALONE = {**_ENV, "DRIFTCHECK_DAEMON": "0"}
DAEMON = {**_ENV, "DRIFTCHECK_DAEMON": "1"}


def timed(
    cmd: list[str], *, cwd: Path, stdin: bytes | None = None, env: dict[str, str] = ALONE
) -> tuple[float, int, int]:
    """(seconds, exit code, peak RSS in KiB) of one process."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        env=env,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    if stdin is not None:
        assert proc.stdin is not None
        proc.stdin.write(stdin)
        proc.stdin.close()
    _pid, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if proc.stderr is not None:
        proc.stderr.read()
        proc.stderr.close()
    return elapsed, os.waitstatus_to_exitcode(status), usage.ru_maxrss


def clear_cache(repo: Path) -> None:
    shutil.rmtree(open_repo(repo).cache_dir, ignore_errors=True)


def floor_once(repo: Path, worktrees: list[Path]) -> float:
    """What a merge-only tool pays: every worktree's tree, then merge-tree per pair."""
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-floor-") as tmp:
        objects = Path(tmp) / "objects"
        objects.mkdir()
        common = Path(git("rev-parse", "--path-format=absolute", "--git-common-dir", cwd=repo))
        env = {
            **_ENV,
            "GIT_OBJECT_DIRECTORY": str(objects),
            "GIT_ALTERNATE_OBJECT_DIRECTORIES": str(common / "objects"),
        }
        commits = []
        for n, wt in enumerate([repo, *worktrees]):
            index = Path(tmp) / f"index{n}"
            gitdir = Path(git("rev-parse", "--absolute-git-dir", cwd=wt))
            shutil.copy2(gitdir / "index", index)
            wenv = {**env, "GIT_INDEX_FILE": str(index)}
            subprocess.run(["git", "add", "-A"], cwd=wt, env=wenv, check=True)
            tree = subprocess.run(
                ["git", "write-tree"], cwd=wt, env=wenv, capture_output=True, text=True
            ).stdout.strip()
            head = git("rev-parse", "HEAD", cwd=wt)
            commit = subprocess.run(
                ["git", "commit-tree", tree, "-p", head, "-m", "state"],
                cwd=wt,
                env=wenv,
                capture_output=True,
                text=True,
            ).stdout.strip()
            commits.append(commit)
        for a, b in itertools.combinations(commits, 2):
            subprocess.run(
                ["git", "merge-tree", "--write-tree", a, b],
                cwd=repo,
                env=env,
                stdout=subprocess.DEVNULL,
                check=False,
            )
    return time.perf_counter() - start


def status_floor(repo: Path, worktrees: list[Path]) -> float:
    """`git status` of every worktree, 4 at a time (driftcheck captures 4 at a time)."""
    from concurrent.futures import ThreadPoolExecutor

    def status(wt: Path) -> None:
        subprocess.run(
            ["git", "status", "--porcelain", "-uall"], cwd=wt, env=_ENV, capture_output=True
        )

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(status, [repo, *worktrees]))
    return time.perf_counter() - start


def edit_payload(wt: Path) -> bytes:
    path = wt / "django/utils/text.py"
    text = path.read_text()
    old = "def capfirst(x):"
    assert old in text
    return json.dumps(
        {
            "tool_name": "Edit",
            "cwd": str(wt),
            "tool_input": {
                "file_path": str(path),
                "old_string": old,
                "new_string": "def capfirst(x):\n    # bench edit",
            },
        }
    ).encode()


def stats(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"{statistics.median(ordered) * 1000:8.0f} {p95 * 1000:8.0f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worktrees", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--scaling", default="2,4,8,16,32")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--workdir", type=Path, default=CACHE / "work")
    parser.add_argument("--daemon-only", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.repeat, args.scaling = 3, "2,4,8"
    scaling = [int(n) for n in args.scaling.split(",") if n]
    most = args.worktrees if args.daemon_only else max([args.worktrees, *scaling])

    package = Path(__file__).resolve().parent.parent / "driftcheck"
    compileall.compile_dir(str(package), quiet=1)
    print(f"building workload in {args.workdir} (first run downloads and commits Django)")
    repo = build_base(args.workdir)
    _unpark(repo)  # an interrupted run may have left worktrees parked
    worktrees = add_worktrees(repo, most)
    main_set = worktrees[: args.worktrees]
    _prune_to(repo, main_set)
    rows: list[tuple[str, str]] = []
    hook = [*DRIFTCHECK, "hook", "claude", "--deadline-ms", "60000"]
    payload = edit_payload(main_set[0])
    if args.daemon_only:
        clear_cache(repo)
        timed(hook, cwd=main_set[0], stdin=payload)
        print_rows(daemon_rows(repo, main_set, hook, payload, max(20, 4 * args.repeat)))
        return 0

    scan = [*DRIFTCHECK, "scan", "--format", "json"]
    cold, warm, floor, rss = [], [], [], []
    for _ in range(args.repeat):
        clear_cache(repo)
        seconds, _code, peak = timed(scan, cwd=repo)
        cold.append(seconds)
        rss.append(peak)
        seconds, _code, peak = timed(scan, cwd=repo)
        warm.append(seconds)
        rss.append(peak)
        floor.append(floor_once(repo, main_set))
    edited = main_set[0] / "django/utils/html.py"
    original = edited.read_text()
    after_edit = []
    try:
        for n in range(args.repeat):
            edited.write_text(original + f"\n\ndef bench_added_{n}(value):\n    return value\n")
            after_edit.append(timed(scan, cwd=repo)[0])
    finally:
        edited.write_text(original)
    timed(scan, cwd=repo)
    rows += [
        (f"scan cold ({args.worktrees} worktrees)", stats(cold)),
        (f"scan warm ({args.worktrees} worktrees)", stats(warm)),
        ("scan after an edit in one worktree", stats(after_edit)),
        ("floor: trees + merge-tree loop", stats(floor)),
    ]
    ratio_warm = statistics.median(warm) / statistics.median(floor)
    ratio_cold = statistics.median(cold) / statistics.median(floor)

    hook_cold, hook_warm = [], []
    for _ in range(args.repeat):
        clear_cache(repo)
        hook_cold.append(timed(hook, cwd=main_set[0], stdin=payload)[0])
        for _ in range(3):
            seconds, _code, peak = timed(hook, cwd=main_set[0], stdin=payload)
            hook_warm.append(seconds)
            rss.append(peak)
    hook_floor = [status_floor(repo, main_set) for _ in range(args.repeat)]
    rows += [
        ("hook claude cold, in its own process", stats(hook_cold)),
        ("hook claude warm, in its own process", stats(hook_warm)),
        ("hook floor: git status of every worktree", stats(hook_floor)),
    ]
    rows += daemon_rows(repo, main_set, hook, payload, max(20, 4 * args.repeat))

    scale_rows = []
    for count in scaling:
        _prune_to(repo, worktrees[:count])
        timed(scan, cwd=repo)  # warm it
        samples = [timed(scan, cwd=repo)[0] for _ in range(max(2, args.repeat // 2))]
        scale_rows.append((f"scan warm, {count} worktrees", stats(samples)))
    _prune_to(repo, worktrees)

    print_rows(rows + scale_rows)
    print(f"{'scan/floor ratio, warm':<40} {ratio_warm:8.2f}")
    print(f"{'scan/floor ratio, cold':<40} {ratio_cold:8.2f}")
    print(f"{'peak RSS of driftcheck (MiB)':<40} {max(rss) / 1024:8.1f}")
    return 0


def print_rows(rows: list[tuple[str, str]]) -> None:
    print()
    print(f"{'measure':<40} {'p50 ms':>8} {'p95 ms':>8}")
    for name, value in rows:
        print(f"{name:<40} {value}")


def daemon_rows(
    repo: Path, worktrees: list[Path], hook: list[str], payload: bytes, samples: int
) -> list[tuple[str, str]]:
    """The hook answered by the daemon: how long it takes to start (watch and
    capture every worktree), then the hook warm, and after another worktree
    changed: at once (the hook captures that worktree again), and a second later
    (the daemon has done it while the worktrees were quiet); and beside a client
    that connected first and never sends its request (it must hold nobody up)."""
    daemon = [*DRIFTCHECK, "daemon"]
    subprocess.run([*daemon, "stop"], cwd=repo, env=DAEMON, capture_output=True, check=False)
    start = [timed([*daemon, "start"], cwd=repo, env=DAEMON)[0] for _ in range(1)]
    for _ in range(3):  # the first answers load the symbol tables of the pairs
        timed(hook, cwd=worktrees[0], stdin=payload, env=DAEMON)
    warm = [timed(hook, cwd=worktrees[0], stdin=payload, env=DAEMON)[0] for _ in range(samples)]
    other = worktrees[1] / "django" / "utils" / "functional.py"
    original = other.read_text()
    after_edit: dict[float, list[float]] = {0.0: [], 1.0: []}
    try:
        for n in range(samples):
            for pause, times in after_edit.items():
                other.write_text(original + f"\n# edited by another agent {n} {pause}\n")
                time.sleep(pause)
                times.append(timed(hook, cwd=worktrees[0], stdin=payload, env=DAEMON)[0])
    finally:
        other.write_text(original)
    beside_silent = []
    for _ in range(max(3, samples // 4)):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as silent:
            silent.connect(daemon_client.socket_path(open_repo(repo).common_dir))
            beside_silent.append(timed(hook, cwd=worktrees[0], stdin=payload, env=DAEMON)[0])
    status = subprocess.run(
        [*daemon, "status"], cwd=repo, env=DAEMON, capture_output=True, text=True, check=False
    )
    subprocess.run([*daemon, "stop"], cwd=repo, env=DAEMON, capture_output=True, check=False)
    answered = json.loads(status.stdout or "{}").get("requests", 0)
    expected = 3 * samples + len(beside_silent)
    if answered < expected:  # else a row would time the fallback, not the daemon
        raise SystemExit(f"the daemon answered {answered} of {expected + 3} hooks")
    return [
        ("daemon start: watch + capture all", stats(start)),
        ("hook claude warm, daemon", stats(warm)),
        ("hook, daemon, just after another's edit", stats(after_edit[0.0])),
        ("hook, daemon, 1 s after another's edit", stats(after_edit[1.0])),
        ("hook, daemon, beside a silent client", stats(beside_silent)),
    ]


def _unpark(repo: Path) -> None:
    for parked in sorted(repo.parent.glob("parked-wt*")):
        parked.rename(parked.with_name(parked.name.removeprefix("parked-")))


def _prune_to(repo: Path, keep: list[Path]) -> None:
    """Let only `keep` take part: the other worktrees' folders are renamed aside, so
    driftcheck sees them as gone (prunable) and skips them; renaming back restores
    them. git itself prunes nothing meanwhile (worktree pruning waits months)."""
    keep_names = {p.name for p in keep}
    for wt in sorted(repo.parent.glob("wt*")):
        parked = wt.with_name("parked-" + wt.name)
        if wt.name not in keep_names:
            wt.rename(parked)
    for parked in sorted(repo.parent.glob("parked-wt*")):
        name = parked.name.removeprefix("parked-")
        if name in keep_names:
            parked.rename(parked.with_name(name))


if __name__ == "__main__":
    raise SystemExit(main())
