"""Protection on a large setup (issue #19 item 4): many worktrees, hooks through the daemon.

Builds a synthetic repository under bench/.cache/recovery-<N>/ with N worktrees
of F small Python files each (every worktree with one unstaged edit), then times,
with the hook's default deadline (1500 ms):
- the first hook with no daemon running (it judges alone), and how long until a
  daemon answers (`daemon status`): a hook that misses its deadline must still
  start one;
- hooks answered by the warm daemon;
- after a forced deadline miss in the daemon (a proposed `*.slow` file, which git
  passes through a clean filter that sleeps 3 s), how long until the daemon
  answers again, and then each of the next hooks: answered in time, or missed.

    .venv/bin/python bench/recovery.py --worktrees 150 --files 400
    PYTHONPATH=/path/to/older/checkout .venv/bin/python bench/recovery.py   # the same, older code
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

CACHE = Path(__file__).resolve().parent / ".cache"
DRIFTCHECK = [sys.executable, "-m", "driftcheck"]
ENV = {
    **{k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
    "DRIFTCHECK_DAEMON": "1",
    "DRIFTCHECK_GIT_FILTERS": "1",  # the slow filter forces the miss
}
SLOW_S = 3


def git(*args: str, cwd: Path) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, env=ENV, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"git {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout.strip()


def build(worktrees: int, files: int, dirty_every: int = 1) -> tuple[Path, list[Path]]:
    root = CACHE / f"recovery-{worktrees}-{files}-{dirty_every}"
    repo = root / "repo"
    names = [root / f"wt{n:04d}" for n in range(worktrees)]
    if (names[-1] / ".git").exists():
        return repo, names
    repo.mkdir(parents=True, exist_ok=True)
    git("init", "-q", "-b", "main", cwd=repo)
    for n in range(files):
        body = "".join(f"def f{n}_{k}(x):\n    return x + {k}\n\n\n" for k in range(8))
        (repo / "pkg" / f"m{n // 50}").mkdir(parents=True, exist_ok=True)
        (repo / "pkg" / f"m{n // 50}" / f"mod{n}.py").write_text(body)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "base", cwd=repo)
    for n, folder in enumerate(names):
        git("worktree", "add", "-q", "-b", f"b{n}", str(folder), cwd=repo)
        if n % dirty_every:
            continue
        k = n % files
        target = folder / "pkg" / f"m{k // 50}" / f"mod{k}.py"
        target.write_text(target.read_text() + f"\n\ndef edited_{n}():\n    return {n}\n")
    return repo, names


def hook(cwd: Path, path: Path, content: str) -> tuple[float, str]:
    data = {
        "session_id": "bench",
        "hook_event_name": "PreToolUse",
        "tool_name": "Write",
        "tool_input": {"file_path": str(path), "content": content},
        "cwd": str(cwd),
    }
    began = time.monotonic()
    done = subprocess.run(
        [*DRIFTCHECK, "hook", "claude"],
        cwd=cwd,
        env=ENV,
        input=json.dumps(data).encode(),
        capture_output=True,
    )
    return time.monotonic() - began, done.stderr.decode().strip()


def daemon(*args: str, repo: Path) -> dict[str, object] | None:
    done = subprocess.run(
        [*DRIFTCHECK, "daemon", *args, "--repo", str(repo)],
        cwd=repo,
        env=ENV,
        capture_output=True,
        text=True,
    )
    if args[0] != "status" or done.returncode:
        return None
    found: dict[str, object] = json.loads(done.stdout)
    return found


def daemon_process(repo: Path) -> bool:
    """Whether a `driftcheck daemon run` for `repo` runs (Linux /proc)."""
    wanted = f"daemon\0run\0--repo\0{repo}/.git".encode()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if wanted in (entry / "cmdline").read_bytes():
                    return True
            except OSError:
                continue
    return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worktrees", type=int, default=150)
    parser.add_argument("--files", type=int, default=400)
    parser.add_argument("--hooks", type=int, default=8)
    parser.add_argument("--dirty-every", type=int, default=1, help="1: every worktree edited")
    args = parser.parse_args()
    repo, names = build(args.worktrees, args.files, args.dirty_every)
    script = repo.parent / "slow-filter.sh"
    script.write_text(f"#!/bin/sh\nsleep {SLOW_S}\ncat\n")
    script.chmod(0o755)
    git("config", "filter.slow.clean", str(script), cwd=repo)
    (repo / ".git" / "info").mkdir(exist_ok=True)
    (repo / ".git" / "info" / "attributes").write_text("*.slow filter=slow\n")
    agent = names[0]
    target = agent / "pkg" / "m0" / "mod1.py"
    content = target.read_text() + "\n\ndef proposed():\n    return 1\n"
    edited = len(range(0, args.worktrees, args.dirty_every))
    print(f"{args.worktrees} worktrees of {args.files} files, {edited} edited; {DRIFTCHECK_CODE}")

    daemon("stop", repo=repo)
    time.sleep(1)
    began = time.monotonic()
    spent, said = hook(agent, target, content)
    print(f"first hook, no daemon: {spent * 1000:.0f} ms  {said[:70]!r}")
    served = running = None
    while time.monotonic() - began < 180:
        if running is None and daemon_process(repo):
            running = time.monotonic() - began
        if daemon("status", repo=repo) is not None:
            served = time.monotonic() - began
            break
        time.sleep(0.5)
    print("a daemon runs", "never" if running is None else f"after {running:.1f} s", end=", ")
    print("answers", "never (180 s)" if served is None else f"after {served:.1f} s")
    if served is None:
        subprocess.run([*DRIFTCHECK, "daemon", "start", "--repo", str(repo)], cwd=repo, env=ENV)

    warm = [hook(agent, target, content) for _ in range(args.hooks)]
    late = sum("deadline" in said for _, said in warm)
    print(
        f"warm daemon: p50 {statistics.median(s for s, _ in warm) * 1000:.0f} ms, "
        f"max {max(s for s, _ in warm) * 1000:.0f} ms, {late}/{len(warm)} missed"
    )

    spent, said = hook(agent, agent / "data.slow", "x\n")
    missed_at = time.monotonic()
    print(f"forced miss: {spent * 1000:.0f} ms  {said[:70]!r}")
    after = [hook(agent, target, content) for _ in range(args.hooks)]
    first = next((n for n, (_, said) in enumerate(after) if "deadline" not in said), None)
    for n, (spent, said) in enumerate(after):
        missed = " MISSED" if "deadline" in said else ""
        print(f"  hook {n + 1} after the miss: {spent * 1000:.0f} ms{missed}")
    if first is None:
        print(f"not recovered after {len(after)} hooks ({time.monotonic() - missed_at:.1f} s)")
    else:
        recovered = sum(s for s, _ in after[: first + 1])
        print(f"recovered: hook {first + 1} after the miss answered in time, {recovered:.1f} s on")
    log = (repo / ".git" / "driftcheck" / "daemon.log").read_text().splitlines()
    print("daemon log:", next((x for x in reversed(log) if "warm again" in x), "no rebuild"))
    status = daemon("status", repo=repo)
    if status is not None:
        print(f"daemon: {status.get('captures')} captures, misses {status.get('deadline_misses')}")
    daemon("stop", repo=repo)
    return 0


DRIFTCHECK_CODE = os.environ.get("PYTHONPATH") or "this checkout"

if __name__ == "__main__":
    sys.exit(main())
