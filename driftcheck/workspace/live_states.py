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

A capture can change the worktree it captures: a clean filter that touches or
rewrites its file (`git-filters = true`) runs whenever git hashes that file, and
the change it makes is an event like any other, which asked for another capture,
which ran the filter again: about three captures a second, forever, in an idle
daemon (and a live view scanning as fast as it could). So each capture notes
whether its own worktree changed while it ran: events are drained just before
and just after it, and whatever git's run caused is queued by then. Once two
captures in a row were called for by nothing but such changes (whatever they
found: a filter may write a new log each time), the worktree is "self-changing"
and the changes its own captures make are an echo. They still make the next
request capture it (a real edit made during a capture looks the same), but they
no longer call for a capture while nobody asks, nor wake a live view. Its changes
seen at any other time are real ones, as anywhere; a capture they call for, or
one that changes nothing, ends that.

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
from collections.abc import Iterator
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
# Captures in a row called for by nothing but changes made during the one before:
# from this many on, a worktree's changes during its captures are taken for theirs.
_ECHOES = 2


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
        self.changes = 0  # how many times the watcher reported something
        self._captured: set[str] = set()  # since the last take_captured()
        # Bumped whenever the watcher reports a change: a live view waits on it
        # (wait_for_change) instead of asking git again and again.
        self.generation = 0
        self.changed_at: dict[str, float] = {}  # worktree folder -> wall time of its last event
        self._change = threading.Condition()
        # Worktrees changed by nothing but their last capture, and per worktree how
        # many captures in a row were called for by that alone.
        self._echo_only: set[str] = set()
        self._echoes: dict[str, int] = {}
        # Captures run on worker threads (participants.py): the watcher is drained
        # under this lock, and a change seen while a worktree's capture runs, by
        # whichever thread drains, is that capture's to judge.
        self._lock = threading.RLock()
        self._capturing: set[str] = set()
        self._changed_while_captured: set[str] = set()
        if watcher is not None:
            watcher.watch(ADMIN, str(repo.common_dir), _skip_admin)

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def refresh(self) -> None:
        """Forget what the watcher says has changed since the last call."""
        with self._lock:
            self._refresh()

    def _refresh(self) -> None:
        if self.watcher is None:
            self._known.clear()
            self._entries = None
            return
        events = self.watcher.events()
        if events:
            self.changes += 1
        echoing = self.self_changing()
        news = False  # a change worth telling a live view about
        for event in events:
            self._settled = False
            label = event.label
            if label in self._capturing:
                self._changed_while_captured.add(label)
            else:
                self._echo_only.discard(label)
            # An echo is still forgotten below: the next request captures again.
            if not (label in self._capturing and label in echoing):
                news = True
                if label != ADMIN:
                    self.changed_at[label] = time.time()
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
        if news:
            with self._change:
                self.generation += 1
                self._change.notify_all()

    def self_changing(self) -> set[str]:
        """Worktrees whose own captures change them (see the module's notes)."""
        return {path for path, count in self._echoes.items() if count >= _ECHOES}

    def _capture_starts(self, path: str) -> bool:
        """Before a capture of `path`: whether nothing but the last capture's own
        changes called for it."""
        with self._lock:
            self._refresh()  # changes made before the capture are not its own
            self._capturing.add(path)
            self._changed_while_captured.discard(path)
            return path in self._echo_only

    def _capture_ends(self, path: str, echo_called: bool | None) -> None:
        """After a capture of `path` (`echo_called`: None if it failed): whether
        the worktree changed while it ran, which is all git's run did to it."""
        with self._lock:
            self._refresh()
            self._capturing.discard(path)
            changed = path in self._changed_while_captured
            self._changed_while_captured.discard(path)
            if echo_called is None:
                return
            if changed:
                self._known.pop(path, None)  # seen, maybe, before the state was kept
                self._echoes[path] = self._echoes.get(path, 0) + 1 if echo_called else 0
                self._echo_only.add(path)
            else:  # a capture that changes nothing: nothing to tell apart
                self._echoes.pop(path, None)
                self._echo_only.discard(path)

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
        unwatched = self.watcher.broken() | (self.self_changing() & self._echo_only)
        return any(
            e.path not in self._known and e.path not in unwatched
            for e in self._entries
            if not e.bare and not e.prunable
        )

    def take_captured(self) -> set[str]:
        """The worktrees captured since the last call."""
        taken, self._captured = self._captured, set()
        return taken

    def settle(self, since: int) -> None:
        """Everything was captured that could be, as of `changes` was `since`: not
        stale until the next change (a worktree that cannot be captured is left to
        the requests). Changes seen since, during the captures, still count."""
        if self.changes == since:
            self._settled = True

    def forget(self) -> None:
        """Capture everything again next time."""
        self._known.clear()
        self._echo_only.clear()  # those captures are not called for by an echo
        self._entries = None

    def _forget_worktree(self, path: str | None) -> None:
        if path is None:
            self._known.clear()
            self._echo_only.clear()
        else:
            self._known.pop(path, None)
            self._echo_only.discard(path)
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
            with self._window(entry.path):
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
        with self._window(entry.path):
            tree = store.capture(entry.path, own_index, entry.head, partial)
            os.replace(partial, index)  # a capture cut short leaves the last good one
            known = _Known(entry.head, state_of(entry, tree, head_tree, scratch), index)
            with self._lock:
                self._known[entry.path] = known
                self.captures += 1
                self._captured.add(entry.path)
        return known

    @contextlib.contextmanager
    def _window(self, path: str) -> Iterator[None]:
        """A capture of `path` runs inside: what changes there meanwhile is
        judged when it ends (see the module's notes)."""
        if self.watcher is None:
            yield
            return
        echo_called = self._capture_starts(path)
        try:
            yield
        except BaseException:
            self._capture_ends(path, None)
            raise
        self._capture_ends(path, echo_called)

    def _watch(self, entries: list[WorktreeEntry]) -> None:
        if self.watcher is None:
            return
        wanted = {e.path for e in entries if not e.bare and not e.prunable}
        for label in self.watcher.labels() - wanted - {ADMIN}:
            self.watcher.unwatch(label)
            self._known.pop(label, None)
            self._echoes.pop(label, None)
            self._echo_only.discard(label)
        for path in sorted(wanted - self.watcher.labels()):
            self._watch_worktree(path)

    def _watch_worktree(self, path: str) -> None:
        assert self.watcher is not None
        self._known.pop(path, None)
        ignored = _ignored_folders(path)
        self.watcher.watch(path, path, lambda rel: rel in ignored or _is_git_folder(rel))

    def retry_starved(self) -> None:
        """Watch again the trees that found no watches left, if some were freed
        since (another daemon left); changes made meanwhile went unseen, so
        what is kept of them is forgotten."""
        if self.watcher is None:
            return
        for label in sorted(self.watcher.starved()):  # the repository's own first
            if not self.watcher.has_room():
                return
            if label == ADMIN:
                self.watcher.watch(ADMIN, str(self.repo.common_dir), _skip_admin)
                self.forget()
            else:
                self._watch_worktree(label)

    def _named(self, labels: set[str]) -> list[str]:
        return sorted(str(self.repo.common_dir) if label == ADMIN else label for label in labels)

    def watcher_summary(self) -> str:
        if self.watcher is None:
            return "no watcher"
        broken, starved = self.watcher.broken(), self.watcher.starved()
        summary = f"{self.watcher.watches} folders watched"
        if broken - starved:
            summary += f", {len(broken - starved)} trees not fully watched"
        if starved:
            summary += (
                f", {len(starved)} not watched: out of the inotify watches all your daemons"
                " share (captured on every request)"
            )
        return summary

    def status(self) -> dict[str, object]:
        return {
            "worktrees": sorted(self._known),
            "captures": self.captures,
            "reused": self.reused,
            "watches": self.watcher.watches if self.watcher else 0,
            "unwatched": sorted(self.watcher.broken()) if self.watcher else [],
            # Not watched for want of watches (the shared budget): captured on every request.
            "over_budget": self._named(self.watcher.starved()) if self.watcher else [],
            # Changed by their own captures (a filter that writes): captured on every request.
            "self_changing": sorted(self.self_changing()),
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
