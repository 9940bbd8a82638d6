"""Worktree states a long-lived process keeps, captured again only after a change.

A capture asks `git status` in every worktree: ~35 ms each on a large repository,
which alone would spend a pre-edit hook's budget. The daemon instead watches every
worktree and the repository's own files (watcher.py) and keeps, per worktree, the
last captured tree and an index holding it. A worktree is captured again when:
- something happened inside it (any write, create, delete or rename);
- its own index changed (`git add`, a checkout, a refresh by `git status`);
- its HEAD moved (seen when the worktree list is read again);
- repository-wide settings changed (`config`, `info/exclude`, sparse rules);
- its watch is incomplete (out of inotify watches): then every time.

A proposed edit is applied to a copy of the kept index, so judging it costs the
few git calls that hash and place the proposed content, not a capture.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from driftcheck.deadline import owned_tempdir
from driftcheck.errors import GitError
from driftcheck.workspace import git
from driftcheck.workspace.capture import (
    State,
    StateOverride,
    apply_files,
    hash_proposed,
    head_trees_of,
    state_of,
    worktree_tree,
)
from driftcheck.workspace.state_store import StateStore
from driftcheck.workspace.tree_edit import CannotEdit, ReadTrees, edit_tree
from driftcheck.workspace.watcher import Watcher
from driftcheck.workspace.worktrees import WorktreeEntry, git_dir, list_worktrees

ADMIN = "\0git"  # the watcher's label for the repository's own folder
# Never watched: objects come with ref updates, and driftcheck's cache is ours.
_ADMIN_SKIP = frozenset({"objects", "driftcheck", "logs", "hooks", "lfs", "modules", "rr-cache"})


@dataclass
class _Known:
    head: str | None
    state: State
    index: Path  # an index file holding this state


class LiveStates:
    def __init__(self, repo: git.RepoInfo, watcher: Watcher | None) -> None:
        self.repo = repo
        self.watcher = watcher
        self.folder = Path(owned_tempdir("driftcheck-live-"))
        self.captures = 0  # worktree captures done (for `daemon status` and tests)
        self.reused = 0  # worktree states served without a capture
        self._entries: list[WorktreeEntry] | None = None
        self._known: dict[str, _Known] = {}
        self._head_trees: dict[str, str] = {}
        self._admin_names: dict[str, str] = {}  # worktrees/<name> -> worktree folder
        self._rewatch: set[str] = set()
        # Reads objects in-process (the session's reader): a proposal is then put into
        # the kept tree directly (tree_edit), not through a copy of the kept index.
        self.read_trees: ReadTrees | None = None
        self._settled = False
        self._captured: set[str] = set()  # since the last take_captured()
        # Bumped whenever the watcher reports a change: a live view waits on it
        # (wait_for_change) instead of asking git again and again.
        self.generation = 0
        self.changed_at: dict[str, float] = {}  # worktree folder -> wall time of its last event
        self._change = threading.Condition()
        if watcher is not None:
            watcher.watch(ADMIN, str(repo.common_dir), _skip_admin)

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def refresh(self) -> None:
        """Forget what the watcher says has changed since the last call."""
        if self.watcher is None:
            self._known.clear()
            self._entries = None
            return
        events = self.watcher.events()
        for event in events:
            self._settled = False
            if event.label != ADMIN:
                self.changed_at[event.label] = time.time()
            if event.label == ADMIN:
                self._admin_event(event.path)
                continue
            self._known.pop(event.label, None)
            if event.path.rpartition("/")[2] == ".gitignore":
                self._rewatch.add(event.label)  # folders ignored before may count now
        for label in self.watcher.broken():
            if label == ADMIN:
                self._entries = None
                self._known.clear()
            self._known.pop(label, None)
        if events:
            with self._change:
                self.generation += 1
                self._change.notify_all()

    def wait_for_change(self, since: int, timeout: float) -> int:
        """The generation once it differs from `since`, or after `timeout` seconds
        (from any thread: the daemon's loop calls refresh() as events arrive)."""
        with self._change:
            self._change.wait_for(lambda: self.generation != since, timeout)
            return self.generation

    def _admin_event(self, path: str) -> None:
        parts = path.split("/")
        if parts[0] in ("config", "info") or "info" in parts[2:3]:
            # Ignore rules, sparse-checkout rules or settings `git add` obeys.
            self._known.clear()
            if self.watcher is not None:
                self._rewatch.update(self.watcher.labels() - {ADMIN})
            self._entries = None
        elif parts[0].startswith("index"):
            self._forget_worktree(self._entries[0].path if self._entries else None)
        elif parts[0] == "worktrees" and len(parts) > 2 and parts[2].startswith("index"):
            self._forget_worktree(self._admin_names.get(parts[1]))
        else:  # HEAD, refs, packed-refs, worktrees added or removed
            self._entries = None

    def stale(self) -> bool:
        """Whether something changed since the last `settle()` that the next
        judgement would capture again (never without a watcher: then always)."""
        if self.watcher is None or self._settled:
            return False
        if self._entries is None:
            return True
        unwatched = self.watcher.broken()
        return any(
            e.path not in self._known and e.path not in unwatched
            for e in self._entries
            if not e.bare and not e.prunable
        )

    def take_captured(self) -> set[str]:
        """The worktrees captured since the last call."""
        taken, self._captured = self._captured, set()
        return taken

    def settle(self) -> None:
        """Everything was captured that could be: not stale until the next change
        (a worktree that cannot be captured is left to the requests)."""
        self._settled = True

    def forget(self) -> None:
        """Capture everything again next time."""
        self._known.clear()
        self._entries = None

    def _forget_worktree(self, path: str | None) -> None:
        if path is None:
            self._known.clear()
        else:
            self._known.pop(path, None)
            self.changed_at[path] = time.time()  # staged, committed or checked out

    def worktrees(self) -> list[WorktreeEntry]:
        if self._entries is None:
            # Cleared first: a change while git lists them is seen next time.
            entries = list_worktrees(self.repo)
            self._admin_names = _admin_names(self.repo.common_dir)
            # Kept only once all are watched: a deadline half-way lists them again, so
            # no worktree is ever kept without a watch (its changes would go unseen).
            self._watch(entries)
            self._entries = entries
        for label in self._rewatch & {e.path for e in self._entries}:
            self._watch_worktree(label)
        self._rewatch.clear()
        return list(self._entries)

    def head_trees(self, entries: list[WorktreeEntry]) -> dict[str, str]:
        missing = [e for e in entries if e.head and e.head not in self._head_trees]
        if missing:
            self._head_trees.update(head_trees_of(missing, self.repo.common_dir))
        return {e.head: self._head_trees[e.head] for e in entries if e.head in self._head_trees}

    def capture(
        self,
        entry: WorktreeEntry,
        scratch: git.Scratch,
        override: StateOverride | None,
        head_tree: str | None,
        store: StateStore | None,
    ) -> State:
        known = None
        if (
            store is not None
            and (override is None or override.staged_index is None)
            and not (Path(entry.path) / ".gitmodules").exists()
        ):
            known = self._known.get(entry.path)
            if known is None or known.head != entry.head or not known.index.is_file():
                try:
                    known = self._capture(entry, scratch, head_tree, store)
                except (GitError, OSError):
                    known = None  # the kept way cannot tell: the throwaway one below
            else:
                self.reused += 1
        if known is None:  # as a run without a daemon captures it
            tree = worktree_tree(entry, scratch, committed_only=False, override=override)
            return state_of(entry, tree, head_tree, scratch)
        if override is None or not override.files:
            return known.state
        if self.read_trees is not None:
            blobs = {
                path: None if data is None else hash_proposed(entry.path, scratch.env, path, data)
                for path, data in override.files.items()
            }
            objects = Path(scratch.env["GIT_OBJECT_DIRECTORY"])
            with contextlib.suppress(CannotEdit):
                tree = edit_tree(known.state[0], blobs, self.read_trees, objects)
                return state_of(entry, tree, head_tree, scratch)
        env = scratch.index_env()
        shutil.copy2(known.index, env["GIT_INDEX_FILE"])
        apply_files(entry.path, env, override.files)
        tree = git.git_out(["write-tree"], cwd=entry.path, env=env)
        return state_of(entry, tree, head_tree, scratch)

    def _capture(
        self, entry: WorktreeEntry, scratch: git.Scratch, head_tree: str | None, store: StateStore
    ) -> _Known:
        name = hashlib.sha1(os.fsencode(entry.path)).hexdigest()[:20]
        index = self.folder / name
        partial = index.with_suffix(".partial")
        own_index = git_dir(entry.path) / "index"
        tree = store.capture(entry.path, own_index, entry.head, partial)
        os.replace(partial, index)  # a capture cut short leaves the last good one
        known = _Known(entry.head, state_of(entry, tree, head_tree, scratch), index)
        self._known[entry.path] = known
        self.captures += 1
        self._captured.add(entry.path)
        return known

    def _watch(self, entries: list[WorktreeEntry]) -> None:
        if self.watcher is None:
            return
        wanted = {e.path for e in entries if not e.bare and not e.prunable}
        for label in self.watcher.labels() - wanted - {ADMIN}:
            self.watcher.unwatch(label)
            self._known.pop(label, None)
        for path in sorted(wanted - self.watcher.labels()):
            self._watch_worktree(path)

    def _watch_worktree(self, path: str) -> None:
        assert self.watcher is not None
        self._known.pop(path, None)
        ignored = _ignored_folders(path)
        self.watcher.watch(path, path, lambda rel: rel in ignored or _is_git_folder(rel))

    def watcher_summary(self) -> str:
        if self.watcher is None:
            return "no watcher"
        broken = self.watcher.broken()
        return f"{self.watcher.watches} folders watched" + (
            f", {len(broken)} trees not fully watched" if broken else ""
        )

    def status(self) -> dict[str, object]:
        return {
            "worktrees": sorted(self._known),
            "captures": self.captures,
            "reused": self.reused,
            "watches": self.watcher.watches if self.watcher else 0,
            "unwatched": sorted(self.watcher.broken()) if self.watcher else [],
        }


def _is_git_folder(relative: str) -> bool:
    return relative.rpartition("/")[2] == ".git"


def _skip_admin(relative: str) -> bool:
    return relative.split("/", 1)[0] in _ADMIN_SKIP


def _admin_names(common_dir: Path) -> dict[str, str]:
    """worktrees/<name> -> the linked worktree's folder, from its `gitdir` file."""
    found: dict[str, str] = {}
    with contextlib.suppress(OSError):
        for admin in (common_dir / "worktrees").iterdir():
            with contextlib.suppress(OSError):
                target = (admin / "gitdir").read_text(errors="surrogateescape").strip()
                found[admin.name] = str(Path(target).parent)
    return found


def _ignored_folders(worktree: str) -> set[str]:
    """Folders whose whole content git ignores: changes there never reach a state."""
    args = ["ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--directory"]
    try:
        out = git.run_git(args, cwd=worktree).stdout
    except GitError:
        return set()
    return {item.rstrip("/") for item in git.iter_nul(out) if item.endswith("/")}
