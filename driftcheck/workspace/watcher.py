"""Which folders changed since we last looked: Linux inotify through ctypes.

The daemon keeps every worktree's captured state and only captures again a
worktree in which something happened. Telling that without asking `git status`
needs the kernel's help: inotify queues an event for every write, create, delete
or rename as it happens, so when a request arrives, draining the queue tells
exactly which watched trees changed before it.

Each watched tree has a label. A watch per folder is added at once, and for new
folders when their creation is seen (anything created inside before that is seen
anyway: the capture that follows the event looks at the whole worktree). When
the kernel drops events (queue overflow) or a watch cannot be added, the labels
concerned are reported as changed every time: slower, never wrong.

Watches come from a per-user limit (`fs.inotify.max_user_watches`) that editors
need too, so they are reserved before they are added (`Reserve`): a daemon
shares one budget with the user's other daemons (daemon/budget.py); elsewhere
the process keeps to half of the limit alone. A tree that does not fit is not
watched at all (a partial watch would hold watches that tell nothing) and is
"starved": the daemon tries it again later, when watches may have been freed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import struct
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

_IN_MODIFY = 0x002
_IN_ATTRIB = 0x004
_IN_CLOSE_WRITE = 0x008
_IN_MOVED_FROM = 0x040
_IN_MOVED_TO = 0x080
_IN_CREATE = 0x100
_IN_DELETE = 0x200
_IN_DELETE_SELF = 0x400
_IN_MOVE_SELF = 0x800
_IN_Q_OVERFLOW = 0x4000
_IN_IGNORED = 0x8000
_IN_ONLYDIR = 0x01000000
_IN_DONT_FOLLOW = 0x02000000
_IN_EXCL_UNLINK = 0x04000000
_IN_ISDIR = 0x40000000
_IN_NONBLOCK = os.O_NONBLOCK
_IN_CLOEXEC = 0o2000000

_MASK = (
    _IN_MODIFY
    | _IN_ATTRIB
    | _IN_CLOSE_WRITE
    | _IN_MOVED_FROM
    | _IN_MOVED_TO
    | _IN_CREATE
    | _IN_DELETE
    | _IN_DELETE_SELF
    | _IN_MOVE_SELF
    | _IN_ONLYDIR
    | _IN_DONT_FOLLOW
    | _IN_EXCL_UNLINK
)
_HEADER = struct.Struct("iIII")

# Decides, per tree, which sub-folders are not worth a watch (relative path -> skip).
Skip = Callable[[str], bool]


class WatchUnavailable(Exception):
    """No inotify here (not Linux, or no libc symbol)."""


def _libc() -> ctypes.CDLL:
    if not sys.platform.startswith("linux"):
        raise WatchUnavailable("file watching needs Linux inotify")
    name = ctypes.util.find_library("c") or "libc.so.6"
    try:
        libc = ctypes.CDLL(name, use_errno=True)
        libc.inotify_init1.argtypes = [ctypes.c_int]
        libc.inotify_add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
        libc.inotify_rm_watch.argtypes = [ctypes.c_int, ctypes.c_int]
    except (OSError, AttributeError) as exc:
        raise WatchUnavailable(f"no inotify: {exc}") from exc
    return libc


# The total watches all of a user's daemons may hold, instead of half the limit.
BUDGET_VARIABLE = "DRIFTCHECK_WATCH_BUDGET"
# Watches are reserved this many at a time while a tree is added...
_CHUNK = 256
# ... and what is left over is given back past this many spare ones.
_SPARE = 8


def user_budget() -> int:
    """How many watches driftcheck may hold in all, for this user: half of the
    kernel's per-user limit, or $DRIFTCHECK_WATCH_BUDGET. ValueError when that
    variable is not a positive whole number."""
    chosen = os.environ.get(BUDGET_VARIABLE, "").strip()
    if chosen:
        if not (chosen.isascii() and chosen.isdigit() and len(chosen) <= 9 and int(chosen)):
            raise ValueError(f"{BUDGET_VARIABLE}={chosen[:20]!r} is not a positive whole number")
        return int(chosen)
    return kernel_half()


def kernel_half() -> int:
    try:
        with open("/proc/sys/fs/inotify/max_user_watches", encoding="ascii") as handle:
            return max(1, int(handle.read(32)) // 2)
    except (OSError, ValueError):
        return 4096  # half of the smallest default


class Reserve(Protocol):
    def __call__(self, wanted: int, *, at_least: int) -> int:
        """Hold `wanted` watches in all if they are free (never fewer than
        `at_least`, the ones held already); how many are held now."""
        ...


class LocalBudget:
    """A budget kept by this process alone (no daemon: nobody to share with)."""

    def __init__(self, total: int | None = None) -> None:
        if total is None:
            try:
                total = user_budget()
            except ValueError:
                total = kernel_half()
        self.total = total

    def __call__(self, wanted: int, *, at_least: int) -> int:
        return max(at_least, min(wanted, self.total))


@dataclass
class Event:
    """Something changed in tree `label` at `path` (relative; "" for the top)."""

    label: str
    path: str


@dataclass
class _Tree:
    top: str
    skip: Skip
    broken: bool = False  # a watch is missing: changes may go unseen
    starved: bool = False  # not watched at all: no watches were left for it
    descriptors: set[int] = field(default_factory=set)


class Watcher:
    def __init__(self, reserve: Reserve | None = None) -> None:
        self._reserve: Reserve = reserve or LocalBudget()
        self._libc = _libc()
        fd = self._libc.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC)
        if fd < 0:
            raise WatchUnavailable(f"inotify_init1: {os.strerror(ctypes.get_errno())}")
        self.fd = fd
        self._trees: dict[str, _Tree] = {}
        self._folders: dict[int, tuple[str, str]] = {}  # descriptor -> (label, relative)
        self.budget = 0  # watches reserved (see Reserve)

    def close(self) -> None:
        os.close(self.fd)  # the kernel drops every watch with it
        self._folders.clear()
        self.budget = self._reserve(0, at_least=0)

    @property
    def watches(self) -> int:
        return len(self._folders)

    def labels(self) -> set[str]:
        return set(self._trees)

    def broken(self) -> set[str]:
        """Trees some of whose folders have no watch: treat them as always changed."""
        return {label for label, tree in self._trees.items() if tree.broken}

    def starved(self) -> set[str]:
        """Trees not watched for want of watches (worth trying again later)."""
        return {label for label, tree in self._trees.items() if tree.starved}

    def watch(self, label: str, top: str, skip: Skip = lambda _p: False) -> None:
        """Watch every folder under `top` (not following links), except skipped ones."""
        self.unwatch(label)
        tree = self._trees[label] = _Tree(top=top, skip=skip)
        try:
            self._add_tree(tree, label, "")
        except BaseException:  # a deadline: folders left unwatched, changes unseen
            tree.broken = True
            raise
        finally:
            self._give_back()

    def unwatch(self, label: str) -> None:
        tree = self._trees.pop(label, None)
        if tree is None:
            return
        self._drop_watches(tree)
        self._give_back()

    def _drop_watches(self, tree: _Tree) -> None:
        for wd in tree.descriptors:
            self._folders.pop(wd, None)
            self._libc.inotify_rm_watch(self.fd, wd)
        tree.descriptors.clear()

    def _starve(self, tree: _Tree) -> None:
        """No watches left for `tree`: it holds none (those it has would tell
        nothing the capture on every request does not)."""
        self._drop_watches(tree)
        tree.broken = tree.starved = True
        self._give_back()

    def _more(self) -> bool:
        """Whether one more watch may be added, reserving a chunk if needed."""
        held = len(self._folders)
        if held < self.budget:
            return True
        self.budget = self._reserve(held + _CHUNK, at_least=held)
        return held < self.budget

    def has_room(self) -> bool:
        """Whether another watch could be added now."""
        return self._more()

    def _give_back(self) -> None:
        held = len(self._folders)
        if self.budget > held + _SPARE:
            self.budget = self._reserve(held + _SPARE, at_least=held)

    def _add_tree(self, tree: _Tree, label: str, relative: str) -> None:
        if tree.starved:
            return
        stack = [relative]
        while stack:
            rel = stack.pop()
            folder = os.path.join(tree.top, rel) if rel else tree.top
            if not self._more():
                self._starve(tree)
                return
            wd = self._libc.inotify_add_watch(self.fd, os.fsencode(folder), _MASK)
            if wd < 0:
                err = ctypes.get_errno()
                if err == errno.ENOSPC:  # the kernel's limit itself: others took the rest
                    self._starve(tree)
                    return
                # Gone already (its deletion is an event of its own), or not a folder.
                if err not in (errno.ENOENT, errno.ENOTDIR):
                    tree.broken = True  # EACCES: unreadable
                continue
            tree.descriptors.add(wd)
            self._folders[wd] = (label, rel)
            try:
                with os.scandir(folder) as entries:
                    children = [e.name for e in entries if e.is_dir(follow_symlinks=False)]
            except OSError:
                continue
            for name in children:
                child = f"{rel}/{name}" if rel else name
                if not tree.skip(child):
                    stack.append(child)

    def events(self) -> list[Event]:
        """Every event queued since the last call (never blocks). New folders get
        their watches before this returns."""
        found: list[Event] = []
        while True:
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                break
            except InterruptedError:
                continue
            found.extend(self._decode(data))
        if found:
            self._give_back()  # new folders may have taken a chunk
        return found

    def _decode(self, data: bytes) -> Iterable[Event]:
        offset = 0
        while offset + _HEADER.size <= len(data):
            wd, mask, _cookie, length = _HEADER.unpack_from(data, offset)
            raw = data[offset + _HEADER.size : offset + _HEADER.size + length]
            offset += _HEADER.size + length
            if mask & _IN_Q_OVERFLOW:
                yield from (Event(label, "") for label in self._trees)
                continue
            where = self._folders.get(wd)
            if where is None:
                continue
            label, rel = where
            if mask & _IN_IGNORED:  # the folder is gone, and its watch with it
                self._folders.pop(wd, None)
                if label in self._trees:
                    self._trees[label].descriptors.discard(wd)
                continue
            name = os.fsdecode(raw.rstrip(b"\0"))
            path = f"{rel}/{name}" if rel and name else rel or name
            tree = self._trees.get(label)
            new_folder = mask & _IN_ISDIR and mask & (_IN_CREATE | _IN_MOVED_TO)
            if tree is not None and new_folder and not tree.skip(path):
                self._add_tree(tree, label, path)
            yield Event(label, path)
