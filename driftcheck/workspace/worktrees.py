"""The worktrees git lists for a repository, and where each one's own git dir is."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from driftcheck.workspace import git

ZERO_OID = "0" * 40


@dataclass(frozen=True)
class WorktreeEntry:
    path: str
    head: str | None
    branch_ref: str | None
    detached: bool
    bare: bool
    locked: bool
    prunable: bool


def list_worktrees(repo: git.RepoInfo) -> list[WorktreeEntry]:
    out = git.run_git(["worktree", "list", "--porcelain", "-z"], cwd=repo.common_dir).stdout
    entries: list[WorktreeEntry] = []
    record: dict[str, str] = {}
    for item in git.iter_nul(out):
        if item:
            key, _, value = item.partition(" ")
            record[key] = value
            continue
        if record:
            entries.append(_entry(record))
            record = {}
    if record:
        entries.append(_entry(record))
    return entries


def _entry(record: dict[str, str]) -> WorktreeEntry:
    head = record.get("HEAD")
    return WorktreeEntry(
        path=record["worktree"],
        head=None if not head or head == ZERO_OID else head,
        branch_ref=record.get("branch"),
        detached="detached" in record,
        bare="bare" in record,
        locked="locked" in record,
        prunable="prunable" in record,
    )


def short_ref(ref: str) -> str:
    for prefix in ("refs/heads/", "refs/remotes/", "refs/tags/", "refs/"):
        if ref.startswith(prefix):
            return ref[len(prefix) :]
    return ref


def git_dir(worktree: str) -> Path:
    """The worktree's own git dir: `.git` itself, or where its `.git` file points."""
    dot_git = Path(worktree) / ".git"
    if dot_git.is_dir():
        return dot_git
    try:
        text = dot_git.read_text(encoding="utf-8", errors="surrogateescape").strip()
    except OSError:
        text = ""
    if text.startswith("gitdir: "):
        target = Path(text[len("gitdir: ") :])
        return target if target.is_absolute() else (Path(worktree) / target)
    return Path(git.git_out(["rev-parse", "--absolute-git-dir"], cwd=worktree))
