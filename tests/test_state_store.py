"""Kept worktree states: after any edit, the kept state is what a throwaway
`git add -A` records, and a run that cannot use it falls back to that."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest
from helpers import add_worktree, git, init_repo, snapshot_repo, write

from driftcheck.workspace import git as dgit
from driftcheck.workspace.participants import discover
from driftcheck.workspace.state_store import DIRECTORY


def _trees(repo: Path, *, keep: bool, kept: int | None = None) -> dict[str, str]:
    """Every worktree's state; `kept`: how many must come from the kept states
    (all of them by default when keeping)."""
    info = dgit.open_repo(repo)
    with dgit.Scratch(info) as scratch:
        found = discover(info, scratch, keep_states=keep)
    assert not found.skipped, found.skipped
    if kept is None:
        kept = len(found.participants) if keep else 0
    assert found.kept_states == kept
    return {p.name: p.tree for p in found.participants}


def _edit(rng: random.Random, wt: Path, step: int) -> str:
    files = sorted(p for p in wt.rglob("*.py") if ".git" not in p.parts)
    action = rng.choice(
        ["same-size", "append", "new", "delete", "stage", "ignore", "commit", "unignore"]
    )
    target = rng.choice(files) if files else None
    if action == "same-size" and target is not None:
        # Same length, same second: only git's racy-clean check can see this one.
        text = target.read_text()
        target.write_text(text[:-2] + f"{step % 10}\n" if len(text) > 2 else "x\n")
    elif action == "append" and target is not None:
        target.write_text(target.read_text() + f"value_{step} = {step}\n")
    elif action == "new":
        write(wt, {f"pkg/new_{step}.py": f"def made_{step}():\n    return {step}\n"})
    elif action == "delete" and target is not None:
        target.unlink()
    elif action == "stage":
        git("add", "-A", cwd=wt)
    elif action == "ignore":
        (wt / ".gitignore").write_text("pkg/new_*.py\n")
    elif action == "unignore":
        (wt / ".gitignore").unlink(missing_ok=True)
    elif action == "commit":
        git("add", "-A", cwd=wt)
        git("commit", "-q", "--allow-empty", "-m", f"step {step}", cwd=wt)
    return action


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kept_states_match_a_fresh_capture_after_every_edit(workspace: Path, seed: int) -> None:
    rng = random.Random(seed)
    repo = init_repo(
        workspace / "repo",
        {f"pkg/mod{n}.py": f"def f{n}(x):\n    return x + {n}\n" for n in range(6)},
    )
    worktrees = [repo, add_worktree(repo, "a"), add_worktree(repo, "b")]
    for step in range(30):
        wt = rng.choice(worktrees)
        action = _edit(rng, wt, step)
        before = snapshot_repo(repo)
        kept = _trees(repo, keep=True)
        assert snapshot_repo(repo) == before, "capturing changed the repository"
        assert kept == _trees(repo, keep=False), f"step {step} ({action} in {wt.name})"
    assert (repo / ".git" / "driftcheck" / DIRECTORY / "index").is_dir()


def test_a_locked_kept_index_falls_back(workspace: Path) -> None:
    repo = init_repo(workspace / "repo", {"a.py": "x = 1\n"})
    wt = add_worktree(repo, "w")
    write(wt, {"a.py": "x = 2\n", "b.py": "y = 1\n"})
    _trees(repo, keep=True)
    for index in (repo / ".git" / "driftcheck" / DIRECTORY / "index").iterdir():
        if not index.suffix:
            Path(str(index) + ".lock").write_text("held by another run")
    write(wt, {"a.py": "x = 3\n"})
    # git cannot write a locked index (not even write-tree's cache): both fall back.
    assert _trees(repo, keep=True, kept=0) == _trees(repo, keep=False)


def test_an_abandoned_lock_is_cleared(workspace: Path) -> None:
    """A run killed mid-write leaves its lock: once old, it no longer stops captures."""
    repo = init_repo(workspace / "repo", {"a.py": "x = 1\n"})
    wt = add_worktree(repo, "w")
    _trees(repo, keep=True)
    locks = []
    for index in (repo / ".git" / "driftcheck" / DIRECTORY / "index").iterdir():
        if not index.suffix:
            lock = Path(str(index) + ".lock")
            lock.write_text("left by a killed run")
            os.utime(lock, (1_600_000_000, 1_600_000_000))
            locks.append(lock)
    write(wt, {"a.py": "x = 3\n"})
    assert _trees(repo, keep=True) == _trees(repo, keep=False)
    assert not any(lock.exists() for lock in locks)


def test_no_cache_keeps_no_states(workspace: Path) -> None:
    repo = init_repo(workspace / "repo", {"a.py": "x = 1\n"})
    add_worktree(repo, "w")
    _trees(repo, keep=False)
    assert not (repo / ".git" / "driftcheck" / DIRECTORY).exists()
