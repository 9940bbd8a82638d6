"""A worktree's state as a git tree: what `git add -A` would record, in a private
index, with a proposed edit or the staged tree in place of the files where asked.
Nothing here touches the worktree's own index or object store.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from driftcheck.errors import GitError
from driftcheck.model import Participant
from driftcheck.workspace import git
from driftcheck.workspace.state_store import StateStore
from driftcheck.workspace.worktrees import WorktreeEntry, git_dir


@dataclass(frozen=True)
class StateOverride:
    """How a worktree's state departs from `git add -A`: for the file an agent is
    about to write, or for the staged tree a pre-commit hook judges."""

    # repository-relative path -> proposed content (None: the file is deleted)
    files: Mapping[str, bytes | None] = field(default_factory=dict)
    # judge this index (the staged tree) instead of the working files
    staged_index: Path | None = None


def worktree_tree(
    entry: WorktreeEntry,
    scratch: git.Scratch,
    *,
    committed_only: bool,
    override: StateOverride | None = None,
    store: StateStore | None = None,
) -> str:
    """The tree `git add -A` would record in this worktree, built in a private index."""
    if override is None and committed_only:
        return _head_tree(entry, scratch)
    if (
        store is not None
        and not committed_only
        and (override is None or not override.staged_index)
        # git status would look inside submodules, and refresh their own indexes.
        and not (Path(entry.path) / ".gitmodules").exists()
    ):
        with contextlib.suppress(GitError, OSError):  # then the throwaway way below
            return _from_store(entry, scratch, store, override)
    env = scratch.index_env()
    if override is not None and override.staged_index is not None:
        shutil.copy2(override.staged_index, env["GIT_INDEX_FILE"])
    elif committed_only:
        _seed_from_head(entry, env)
    else:
        _add_all(entry, env)
    if override is not None and override.files:
        apply_files(entry.path, env, override.files)
    return git.git_out(["write-tree"], cwd=entry.path, env=env)


def _from_store(
    entry: WorktreeEntry, scratch: git.Scratch, store: StateStore, override: StateOverride | None
) -> str:
    own_index = git_dir(entry.path) / "index"
    if override is None or not override.files:
        return store.capture(entry.path, own_index, entry.head, None)
    env = scratch.index_env()
    store.capture(entry.path, own_index, entry.head, Path(env["GIT_INDEX_FILE"]))
    apply_files(entry.path, env, override.files)
    return git.git_out(["write-tree"], cwd=entry.path, env=env)


def _add_all(entry: WorktreeEntry, env: dict[str, str]) -> None:
    wt = entry.path
    git.guard_filters(wt)  # before git add hashes a file
    own_index = git_dir(wt) / "index"
    # Seeding from a copy of the worktree's index keeps its stat data, so `add -A`
    # only hashes files that changed; it also keeps sparse-checkout skip bits.
    seeded = False
    if own_index.is_file():
        try:
            # copy2 keeps the mtime: git's racy-clean check compares file times with
            # the index's own, and a fresh mtime would hide same-second edits.
            shutil.copy2(own_index, env["GIT_INDEX_FILE"])
            seeded = True
        except OSError:
            seeded = False
    add = ["-c", "core.splitIndex=false", "add", "-A", "--ignore-errors", "--", "."]
    try:
        if not seeded:
            _seed_from_head(entry, env)
        git.run_git(add, cwd=wt, env=env)
    except GitError:
        if not seeded:
            raise
        # A copied index can be unreadable on its own (split index); start from HEAD.
        Path(env["GIT_INDEX_FILE"]).unlink(missing_ok=True)
        _seed_from_head(entry, env)
        git.run_git(add, cwd=wt, env=env)


def apply_files(wt: str, env: dict[str, str], files: Mapping[str, bytes | None]) -> None:
    """Put proposed contents into the private index, as `git add` would record them."""
    for path, content in sorted(files.items()):
        if content is None:
            git.run_git(["update-index", "--force-remove", "--", path], cwd=wt, env=env)
            continue
        oid = hash_proposed(wt, env, path, content)
        staged = git.git_out(["ls-files", "-s", "--", f":(literal){path}"], cwd=wt, env=env)
        mode = staged.split()[0] if staged else "100644"
        if mode not in ("100644", "100755"):
            mode = "100644"
        git.run_git(
            ["update-index", "--add", "--cacheinfo", f"{mode},{oid},{path}"], cwd=wt, env=env
        )


def hash_proposed(wt: str, env: Mapping[str, str], path: str, content: bytes) -> str:
    """The blob `git add` would record for `content` at `path`, written to the store
    `env` names; --path applies the same eol conversion (and clean filters, where
    allowed: workspace/filters.py)."""
    git.guard_filters(wt)
    args = ["hash-object", "-w", "--stdin", f"--path={path}"]
    return git.run_git(args, cwd=wt, env=env, input=content).stdout.decode().strip()


def _seed_from_head(entry: WorktreeEntry, env: dict[str, str]) -> None:
    if entry.head:
        git.run_git(["read-tree", entry.head], cwd=entry.path, env=env)


def _head_tree(entry: WorktreeEntry, scratch: git.Scratch) -> str:
    if entry.head:
        return git.tree_of(entry.head, cwd=entry.path)
    return _empty_tree(entry.path, scratch)


State = tuple[str, bool, str | None]  # (tree, dirty, state commit)


def state_of(entry: WorktreeEntry, tree: str, head_tree: str | None, scratch: git.Scratch) -> State:
    dirty = tree != (head_tree or _empty_tree(entry.path, scratch))
    return tree, dirty, None if dirty else entry.head


def capture(
    entry: WorktreeEntry,
    scratch: git.Scratch,
    committed_only: bool,
    override: StateOverride | None,
    head_tree: str | None,
    store: StateStore | None,
) -> State:
    """The worktree's tree; the wrapper commit a merge needs is made only on demand
    (`ensure_state_commit`), since most pairs never reach a merge."""
    tree = worktree_tree(
        entry, scratch, committed_only=committed_only, override=override, store=store
    )
    return state_of(entry, tree, head_tree, scratch)


def ensure_state_commit(participant: Participant, scratch: git.Scratch, cwd: str) -> str | None:
    """A commit whose tree is the participant's state and whose parent is its HEAD."""
    if participant.state_commit or not participant.dirty:
        return participant.state_commit
    parents = [participant.head] if participant.head else []
    return git.commit_tree(participant.tree, parents, cwd=cwd, scratch=scratch)


def head_trees_of(entries: list[WorktreeEntry], cwd: Path) -> dict[str, str]:
    """HEAD's tree for every worktree, in one git call."""
    heads = sorted({e.head for e in entries if e.head})
    if not heads:
        return {}
    out = git.git_out(["rev-parse", *(f"{h}^{{tree}}" for h in heads)], cwd=cwd)
    return dict(zip(heads, out.splitlines(), strict=True))


def _empty_tree(cwd: str, scratch: git.Scratch) -> str:
    return git.git_out(["mktree"], cwd=cwd, env=scratch.env)
