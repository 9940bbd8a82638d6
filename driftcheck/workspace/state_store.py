"""Worktree states kept between runs, so a capture re-hashes only what changed.

Capturing a worktree means recording the tree `git add -A` would: with a fresh copy
of the worktree's index that is a full `git add -A` every time. Here each worktree
keeps a private index under `.git/driftcheck/states/`, with git's untracked cache,
and its blobs and trees go to an object store beside it. A capture then asks
`git status` what differs from that index, hashes just those files into it with
`git update-index` and writes the tree: `git add -A`'s answer, at a fraction of
the cost once the index is warm.

The private index is re-seeded from the worktree's own index whenever that index
or HEAD changes (a commit, a checkout, a `git add`, new sparse-checkout rules), so
what only the worktree's index knows (skip-worktree and intent-to-add entries) is
always current. Nothing here touches the worktree's own index or objects.

The store is bounded: past MAX_STORE_BYTES it is emptied and rebuilt by the next
runs. Anything unexpected (a lock held by a concurrent run, a split index, an
unreadable file) makes the caller fall back to a throwaway `git add -A`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import stat
import time
from pathlib import Path

from driftcheck.workspace import git
from driftcheck.workspace.object_reader import MAX_BLOB_BYTES, stand_in

DIRECTORY = "states"
MAX_STORE_BYTES = 512 * 1024 * 1024
# Measuring the store walks its objects; once an hour is enough to keep it bounded.
_CHECK_EVERY_S = 3600
_STALE_LOCK_S = 60
# Untracked files one by one (as `git add -A` sees them), through the untracked
# cache, which serves that mode only when it is configured rather than asked for.
_STATUS = (
    *("-c", "core.untrackedCache=true", "-c", "status.showUntrackedFiles=all"),
    *("-c", "core.splitIndex=false", "status", "--porcelain=v2", "-z", "--no-renames"),
    "--ignore-submodules=all",  # never look inside one (see participants)
)
_UPDATE = ("-c", "core.splitIndex=false", "update-index", "--add")
_FROM_STDIN = ("-z", "--stdin")  # must come last


class StateStore:
    def __init__(self, cache_dir: Path, alternates: str) -> None:
        self.root = cache_dir / DIRECTORY
        self.objects = self.root / "objects"
        self.alternates = alternates  # the repository's own object stores
        self.captured: list[str] = []  # worktrees captured this way (list.append is atomic)

    @classmethod
    def open(cls, cache_dir: Path, alternates: str) -> StateStore | None:
        """The store, or None when it cannot be had (read-only `.git`, say)."""
        store = cls(cache_dir, alternates)
        try:
            store._make_folders()
            store._bound()
        except OSError:
            return None
        return store

    def capture(
        self, worktree: str, own_index: Path, head: str | None, work_index: Path | None
    ) -> str:
        """The tree `git add -A` would record in `worktree` now; with `work_index`,
        an index holding that state is left there too. Raises GitError or OSError
        when this way cannot tell; the caller then takes the slow one.

        Only the worktree's edits to tracked files go into the kept index. Untracked
        files, deletions and unmerged paths are applied to a copy each time, so the
        kept index never tracks what the worktree's own index does not (a file that
        is untracked now may be ignored later)."""
        git.guard_filters(worktree)  # before git status may hash a file
        index = self._seeded(worktree, own_index, head)
        _clear_stale_lock(index)
        env = self._env(index)
        env["GIT_OPTIONAL_LOCKS"] = "1"  # our own index may be refreshed, and cached
        edited, rest = _worktree_changes(git.run_git(_STATUS, cwd=worktree, env=env).stdout)
        large = _large_files(worktree, [*edited, *rest])
        if large:  # never stored: stand-ins go into the copy below, not the kept index
            edited = [p for p in edited if p not in large]
            rest = [p for p in rest if p not in large]
        if edited:
            git.run_git([*_UPDATE, *_FROM_STDIN], cwd=worktree, env=env, input=_paths(edited))
        if not rest and not large and work_index is None:
            tree = git.git_out(["write-tree"], cwd=worktree, env=env)
            self.captured.append(worktree)
            return tree
        target = work_index or index.with_suffix(f".{os.getpid()}.work")
        shutil.copy2(index, target)
        try:
            work = self._env(target)
            if rest:
                args = [*_UPDATE, "--remove", *_FROM_STDIN]
                git.run_git(args, cwd=worktree, env=work, input=_paths(rest))
            if large:
                _record_stand_ins(worktree, work, large)
            tree = git.git_out(["write-tree"], cwd=worktree, env=work)
        finally:
            if work_index is None:
                target.unlink(missing_ok=True)
        self.captured.append(worktree)
        return tree

    def _env(self, index: Path) -> dict[str, str]:
        return {
            "GIT_INDEX_FILE": str(index),
            "GIT_OBJECT_DIRECTORY": str(self.objects),
            "GIT_ALTERNATE_OBJECT_DIRECTORIES": self.alternates,
        }

    def _index_path(self, worktree: str) -> Path:
        name = hashlib.sha1(os.fsencode(worktree)).hexdigest()[:20]
        return self.root / "index" / name

    def _seeded(self, worktree: str, own_index: Path, head: str | None) -> Path:
        index = self._index_path(worktree)
        stamp = index.with_suffix(".seed")
        try:
            st = own_index.stat()
            seed = f"{head}:{st.st_mtime_ns}:{st.st_size}:{st.st_ino}"
        except FileNotFoundError:
            seed = f"{head}:none"
        with contextlib.suppress(OSError):
            if index.is_file() and stamp.read_text() == seed:
                return index
        # Re-seed atomically: a concurrent run may be reading the old copy.
        partial = index.with_suffix(f".{os.getpid()}.tmp")
        if seed.endswith(":none"):
            index.unlink(missing_ok=True)  # git starts from an empty index
        else:
            shutil.copy2(own_index, partial)  # keeps mtime: git's racy check needs it
            os.replace(partial, index)
        stamp.write_text(seed)
        return index

    def _bound(self) -> None:
        marker = self.root / "checked"
        try:
            if time.time() - marker.stat().st_mtime < _CHECK_EVERY_S:
                return
        except FileNotFoundError:
            pass
        marker.touch()
        if _size(self.objects) > MAX_STORE_BYTES:
            for child in ("objects", "index"):
                shutil.rmtree(self.root / child, ignore_errors=True)
            self._make_folders()

    def _make_folders(self) -> None:
        (self.objects / "info").mkdir(parents=True, exist_ok=True)
        (self.objects / "pack").mkdir(exist_ok=True)
        (self.root / "index").mkdir(exist_ok=True)


def _clear_stale_lock(index: Path) -> None:
    """A lock on a kept index that a run killed mid-write left behind: git holds one
    for milliseconds, so an old one is nobody's, and would turn every later capture
    into the slow way."""
    lock = index.with_name(index.name + ".lock")
    with contextlib.suppress(OSError):
        if time.time() - lock.stat().st_mtime > _STALE_LOCK_S:
            lock.unlink()


def _worktree_changes(status: bytes) -> tuple[list[bytes], list[bytes]]:
    """From `git status --porcelain=v2 -z`: (tracked files whose content or type
    changed in the worktree, every other path `git add -A` would touch: deleted,
    unmerged or untracked). Changes only in the index are in the index already."""
    edited, rest = [], []
    for record in status.split(b"\0"):
        if record.startswith(b"1 "):
            fields = record.split(b" ", 8)
            if len(fields) != 9 or fields[1][1:2] == b".":
                continue
            (edited if fields[1][1:2] in (b"M", b"T") else rest).append(fields[8])
        elif record.startswith(b"u "):
            fields = record.split(b" ", 10)
            if len(fields) == 11:
                rest.append(fields[10])
        elif record.startswith(b"? "):
            rest.append(record[2:])
    return edited, rest


def _large_files(worktree: str, paths: list[bytes]) -> dict[bytes, tuple[int, str]]:
    """path -> (size, mode) of the regular files among `paths` too large to analyse."""
    found = {}
    for path in paths:
        with contextlib.suppress(OSError):
            st = os.lstat(os.path.join(os.fsencode(worktree), path))
            if stat.S_ISREG(st.st_mode) and st.st_size > MAX_BLOB_BYTES:
                found[path] = (st.st_size, "100755" if st.st_mode & 0o111 else "100644")
    return found


def _record_stand_ins(
    worktree: str, env: dict[str, str], large: dict[bytes, tuple[int, str]]
) -> None:
    """A small stand-in blob for each large file in the index `env` names, so its
    change still shows (and the same content gives the same stand-in) while the
    store never holds a copy of it (a 200 MB binary put 191 MB into it)."""
    entries = []
    for path, (size, mode) in sorted(large.items()):
        # Hashed, not written: git reads the file, the store stays small.
        real = git.git_out(["hash-object", "--", os.fsdecode(path)], cwd=worktree, env=env)
        args = ["hash-object", "-w", "--stdin"]
        oid = git.run_git(args, cwd=worktree, env=env, input=stand_in(real, size)).stdout
        entries.append(b"%s %s\t%s\0" % (mode.encode(), oid.strip(), path))
    index_info = ["update-index", "-z", "--index-info"]
    git.run_git(index_info, cwd=worktree, env=env, input=b"".join(entries))


def _paths(paths: list[bytes]) -> bytes:
    return b"\0".join(paths) + b"\0"


def _size(folder: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, name)).st_size
    return total
