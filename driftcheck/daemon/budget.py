"""One budget of inotify watches for all of a user's daemons.

The kernel counts watches per user (`fs.inotify.max_user_watches`), and the
user's editors, file managers and build tools draw on the same count: an editor
that finds none left cannot follow a file. So driftcheck's daemons together hold
at most half of it ($DRIFTCHECK_WATCH_BUDGET sets another total), however many
repositories they serve.

Each daemon records what it holds in a file of its own in the user's private
runtime folder, `watches.v1.<pid>`, holding `<pid> <start time> <watches>`. To
hold more, a daemon takes the lock (`watches.lock`), adds up the other files and
takes what is left; it records its new count before it adds a single watch. A
file whose process is gone, or is now another process (the start time differs),
is removed: the kernel freed that daemon's watches with it. Every read and write
happens under the lock, so a file is never seen half-written except from a daemon
killed while writing, whose process is gone.

The folder is private to the user, but its files are still read as untrusted:
names and contents are parsed strictly, reads are bounded, counts are clamped,
and anything malformed is removed rather than believed.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import stat
import time
from collections.abc import Iterator

from driftcheck.daemon import client

PREFIX = "watches.v1."
LOCK = "watches.lock"
_NAME = re.compile(r"watches\.v1\.([1-9][0-9]{0,9})")
_CONTENT = re.compile(rb"([1-9][0-9]{0,9}) ([0-9]{1,20}) ([0-9]{1,10})\n")
_MAX_FILES = 4096  # more files than any user has daemons: the rest are not looked at
_LOCK_WAIT_S = 2.0  # a holder reads a few tiny files: this is very long


class SharedBudget:
    """This daemon's share of the user's watches; `reserve` is a watcher.Reserve."""

    def __init__(self, total: int) -> None:
        """DaemonUnavailable (an OSError) when the runtime folder is not private."""
        self.total = total
        self.held = 0
        self.others = 0  # what the other daemons held when last looked at
        self._folder = client.open_runtime_dir(create=True)
        self._pid = os.getpid()
        self._name = f"{PREFIX}{self._pid}"
        self._started = start_time(self._pid) or "0"

    def reserve(self, wanted: int, *, at_least: int) -> int:
        """Hold `wanted` watches in all if the others leave that many (never fewer
        than `at_least`, those in use); how many are held now. Without the lock
        it can only give back."""
        with self._locked() as locked:
            if not locked:
                return max(at_least, min(wanted, self.held))
            self.others = self._count_others()
            granted = max(at_least, min(wanted, self.total - self.others))
            if granted != self.held or not self._recorded():
                try:
                    self._record(granted)
                except OSError:  # not recorded: others cannot see it, so take no more
                    return max(at_least, min(wanted, self.held))
            self.held = granted
        return granted

    __call__ = reserve

    def close(self) -> None:
        if self._folder < 0:
            return
        with contextlib.suppress(OSError):
            os.unlink(self._name, dir_fd=self._folder)
        os.close(self._folder)
        self._folder = -1
        self.held = 0

    @contextlib.contextmanager
    def _locked(self) -> Iterator[bool]:
        """The lock on the budget, or False if it could not be had in time."""
        until = time.monotonic() + _LOCK_WAIT_S
        while True:
            flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
            try:
                fd = os.open(LOCK, flags, 0o600, dir_fd=self._folder)
            except OSError:
                yield False
                return
            try:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    if time.monotonic() >= until:
                        yield False
                        return
                    time.sleep(0.005)
                    continue
                if _inode(self._folder, LOCK) == os.fstat(fd).st_ino:
                    yield True
                    return
                # The file was replaced (a cleaned folder) while we waited: lock the new one.
            finally:
                os.close(fd)

    def _count_others(self) -> int:
        total = seen = 0
        try:
            names = os.listdir(self._folder)
        except OSError:
            return self.total  # cannot tell what others hold: take nothing more
        for name in names:
            found = _NAME.fullmatch(name)
            if found is None or int(found[1]) == self._pid:
                continue
            seen += 1
            if seen > _MAX_FILES:
                break
            held = self._read(name, int(found[1]))
            if held is None:
                with contextlib.suppress(OSError):
                    os.unlink(name, dir_fd=self._folder)  # a dead daemon's, or garbage
                continue
            total += held
        return min(total, self.total)

    def _read(self, name: str, pid: int) -> int | None:
        """The watches a live daemon's file records; None when the file is
        malformed or its daemon is gone."""
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        try:
            fd = os.open(name, flags, dir_fd=self._folder)
        except OSError:
            return None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return None
            data = os.read(fd, 64)
        except OSError:
            return None
        finally:
            os.close(fd)
        found = _CONTENT.fullmatch(data)
        if found is None or int(found[1]) != pid:
            return None
        if start_time(pid) != found[2].decode():
            return None  # gone, or the pid now belongs to another process
        return min(int(found[3]), self.total)

    def _recorded(self) -> bool:
        return _inode(self._folder, self._name) is not None

    def _record(self, held: int) -> None:
        flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = os.open(self._name, flags, 0o600, dir_fd=self._folder)
        try:
            os.ftruncate(fd, 0)
            os.write(fd, f"{self._pid} {self._started} {held}\n".encode())
        finally:
            os.close(fd)


def start_time(pid: int) -> str | None:
    """When process `pid` started (clock ticks since boot), None if there is none:
    with the pid it names one process, even after the pid is reused."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            data = handle.read(4096)
    except OSError:
        return None
    fields = data.rpartition(b")")[2].split()  # the name before it may hold anything
    if len(fields) < 20 or not fields[19].isdigit():
        return None
    return fields[19].decode()


def _inode(folder: int, name: str) -> int | None:
    try:
        return os.stat(name, dir_fd=folder, follow_symlinks=False).st_ino
    except OSError:
        return None
