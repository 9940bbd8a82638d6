"""driftcheck never changes the user's repository: `.git` (minus `.git/driftcheck/`) and
every worktree stay byte-identical, and so do the index, refs, status and object store."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from helpers import add_worktree, commit_all, git, init_repo, run_cli, snapshot_repo, write

BASE = "".join(f"line {n}\n" for n in range(1, 41))


def quiet_git(*args: str, cwd: Path) -> str:
    """git that never takes optional locks, so observing cannot refresh an index."""
    proc = subprocess.run(
        ["git", *args],
        cwd=str(cwd),
        capture_output=True,
        env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"},
        check=True,
    )
    return proc.stdout.decode("utf-8", "surrogateescape")


def git_path(name: str, *, cwd: Path) -> Path:
    out = quiet_git("rev-parse", "--path-format=absolute", "--git-path", name, cwd=cwd)
    return Path(out.strip())


def worktrees(repo: Path) -> list[Path]:
    out = quiet_git("worktree", "list", "--porcelain", cwd=repo)
    return [Path(line[9:]) for line in out.splitlines() if line.startswith("worktree ")]


def object_store(common: Path) -> tuple[int, list[str]]:
    objects = common / "objects"
    loose = sum(
        1 for d in objects.iterdir() if len(d.name) == 2 and d.is_dir() for _ in d.iterdir()
    )
    packs = sorted(p.name for p in (objects / "pack").iterdir())
    return loose, packs


def observe(repo: Path) -> dict[str, Any]:
    """Everything a user could notice, gathered without writing anything."""
    common = Path(
        quiet_git("rev-parse", "--path-format=absolute", "--git-common-dir", cwd=repo).strip()
    )
    state: dict[str, Any] = {
        "snapshot": snapshot_repo(repo),
        "refs": quiet_git("for-each-ref", "--format=%(refname) %(objectname)", cwd=repo),
        "objects": object_store(common),
        "worktrees": quiet_git("worktree", "list", "--porcelain", cwd=repo),
    }
    for wt in worktrees(repo):
        if not wt.is_dir():
            continue
        index = git_path("index", cwd=wt)
        state[str(wt)] = {
            "status": quiet_git("status", "--porcelain=v2", "--branch", "-uall", cwd=wt),
            "head": quiet_git("rev-parse", "HEAD", cwd=wt),
            "index": index.read_bytes() if index.exists() else None,
        }
    return state


def assert_untouched(repo: Path, *args: str, expect: tuple[int, ...] = (0, 1)) -> Any:
    before = observe(repo)
    result = run_cli("scan", *args, cwd=repo)
    assert result.code in expect, result.stderr
    after = observe(repo)
    assert after["snapshot"] == before["snapshot"]
    for key in before:
        assert after[key] == before[key], key
    return result


@pytest.fixture
def busy(workspace: Path) -> Path:
    """A repository whose worktrees hold every kind of uncommitted work."""
    repo = init_repo(
        workspace / "repo",
        {"f.txt": BASE, "g.txt": BASE, "pkg/m.py": "X = 1\n", ".gitignore": "*.log\n"},
    )
    git("gc", "-q", cwd=repo)  # a pack as well as loose objects
    a, b, c = (add_worktree(repo, n) for n in ("a", "b", "c"))
    write(a, {"f.txt": BASE.replace("line 5\n", "a five!\n"), "new.txt": "untracked a\n"})
    write(b, {"f.txt": BASE.replace("line 5\n", "b five!\n"), "new.txt": "untracked b\n"})
    git("add", "f.txt", cwd=b)  # staged
    write(b, {"g.txt": BASE + "unstaged\n", "debug.log": "ignored\n"})
    write(c, {"pkg/m.py": "X = 22\n"})
    commit_all(c, "c commits")
    write(c, {"pkg/m.py": "X = 333\n", "pkg/extra.py": "Y = 1\n"})
    (c / "g.txt").unlink()
    write(repo, {"g.txt": BASE.replace("line 1\n", "main one!\n")})
    git("add", "g.txt", cwd=repo)
    return repo


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_scan_leaves_everything_untouched(busy: Path, fmt: str) -> None:
    result = assert_untouched(busy, "--format", fmt, expect=(1,))
    assert "f.txt" in result.stdout


def test_scan_with_refs_and_trunk_leaves_everything_untouched(busy: Path) -> None:
    git("update-ref", "refs/remotes/origin/pr/1", "c", cwd=busy)
    git("update-ref", "refs/remotes/origin/main", "main", cwd=busy)
    result = assert_untouched(
        busy,
        "--format",
        "json",
        "--refs",
        "refs/remotes/origin/pr/*",
        "--trunk",
        "origin/main",
        expect=(1,),
    )
    assert any(p["kind"] == "ref" for p in result.json()["participants"])


def test_committed_only_leaves_everything_untouched(busy: Path) -> None:
    assert_untouched(busy, "--committed-only", "--format", "json", expect=(0, 1))


def test_output_file_is_the_only_write(busy: Path, tmp_path: Path) -> None:
    target = tmp_path / "out" / "report.json"
    target.parent.mkdir()
    assert_untouched(busy, "--format", "json", "--output", str(target), expect=(1,))
    assert target.is_file()


def test_stale_index_lock_is_left_alone(busy: Path) -> None:
    lock = busy / ".git" / "index.lock"
    lock.write_bytes(b"stale")
    wt_lock = git_path("index.lock", cwd=busy.parent / "a")
    wt_lock.write_bytes(b"stale too")
    result = assert_untouched(busy, "--format", "json", expect=(1,))
    assert lock.read_bytes() == b"stale"
    assert wt_lock.read_bytes() == b"stale too"
    # The scan still saw the uncommitted work behind the locks.
    paths = {f["path"] for f in result.json()["findings"]}
    assert "f.txt" in paths


def test_worktree_in_the_middle_of_a_conflicted_merge(busy: Path) -> None:
    a = busy.parent / "a"
    d = add_worktree(busy, "d")
    write(d, {"f.txt": BASE.replace("line 30\n", "d thirty!\n")})
    commit_all(d)
    write(a, {"f.txt": BASE.replace("line 30\n", "a thirty?!\n")})
    commit_all(a)
    merge = subprocess.run(["git", "merge", "-q", "d"], cwd=a, capture_output=True, check=False)
    assert merge.returncode != 0  # conflicted, MERGE_HEAD and unmerged entries in place
    assert quiet_git("ls-files", "--unmerged", cwd=a).strip()
    result = assert_untouched(busy, "--format", "json", expect=(1,))
    assert "a" in {p["name"] for p in result.json()["participants"]}
    assert git_path("MERGE_HEAD", cwd=a).is_file()


def test_locked_and_detached_worktrees_untouched(busy: Path) -> None:
    agent = add_worktree(busy, "agent", detach=True)
    write(agent, {"h.txt": "new\n"})
    git("worktree", "lock", str(busy.parent / "c"), cwd=busy)
    assert_untouched(busy, "--format", "json", expect=(1,))


def test_missing_worktree_folder_is_not_pruned(busy: Path) -> None:
    import shutil

    gone = add_worktree(busy, "gone")
    shutil.rmtree(gone)
    result = assert_untouched(busy, "--format", "json", expect=(1,))
    assert "gone" in result.stderr
    assert (busy / ".git" / "worktrees" / "gone").is_dir()


def test_scratch_space_is_cleaned_up(busy: Path, tmp_path: Path) -> None:
    scratch = tmp_path / "tmpdir"
    scratch.mkdir()
    result = run_cli("scan", cwd=busy, env={"TMPDIR": str(scratch)})
    assert result.code == 1
    assert list(scratch.iterdir()) == []


def test_inherited_git_variables_cannot_redirect_writes(busy: Path, tmp_path: Path) -> None:
    """A hook's GIT_INDEX_FILE / GIT_DIR must not point driftcheck at the user's files."""
    a = busy.parent / "a"
    index = git_path("index", cwd=a)
    env = {
        "GIT_INDEX_FILE": str(index),
        "GIT_DIR": str(busy / ".git"),
        "GIT_WORK_TREE": str(busy),
        "GIT_OBJECT_DIRECTORY": str(busy / ".git" / "objects"),
    }
    before = observe(busy)
    result = run_cli("scan", "--format", "json", cwd=busy, env=env)
    after = observe(busy)
    assert result.code == 1, result.stderr
    assert after == before
    assert {p["name"] for p in result.json()["participants"]} == {"main", "a", "b", "c"}
