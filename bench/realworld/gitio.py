"""Every git call of the replay: one runner with a clean environment.

Inherited `GIT_*` variables are dropped (a hook or a parent git would otherwise point
commands at another repository), system config is ignored, and paths are printed
unquoted (`core.quotePath=false`) so they can be compared with driftcheck's.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ENV = {
    **{k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_TERMINAL_PROMPT": "0",
}


class GitError(RuntimeError):
    pass


def run(
    git_dir: Path,
    *args: str,
    env: dict[str, str] | None = None,
    ok: tuple[int, ...] = (0,),
    timeout: float | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run git on `git_dir`; an exit code outside `ok` raises GitError."""
    proc = subprocess.run(
        ["git", f"--git-dir={git_dir}", "-c", "core.quotePath=false", *args],
        env={**ENV, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
    if proc.returncode not in ok:
        raise GitError(f"git {' '.join(args)}: exit {proc.returncode}: {proc.stderr.strip()}")
    return proc


def out(git_dir: Path, *args: str) -> str:
    return run(git_dir, *args).stdout.strip()


def lines(git_dir: Path, *args: str) -> list[str]:
    return [line for line in run(git_dir, *args).stdout.splitlines() if line]


def merge_bases(git_dir: Path, a: str, b: str) -> list[str]:
    """Every merge base of a and b (several in a criss-cross history, none if unrelated)."""
    return run(git_dir, "merge-base", "--all", a, b, ok=(0, 1)).stdout.split()


def merge_base(git_dir: Path, a: str, b: str) -> str | None:
    found = run(git_dir, "merge-base", a, b, ok=(0, 1)).stdout.strip()
    return found or None


def commit_time(git_dir: Path, sha: str) -> int:
    return int(out(git_dir, "show", "-s", "--format=%ct", sha))


def changed_paths(git_dir: Path, base: str, side: str) -> list[str]:
    """Paths that differ between two commits or trees; a rename counts as both its paths."""
    return lines(git_dir, "diff", "--name-only", "--no-renames", base, side)


def tree_of(git_dir: Path, commit: str) -> str:
    return out(git_dir, "rev-parse", f"{commit}^{{tree}}")
