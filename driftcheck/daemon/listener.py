"""The daemon's socket: claimed once per repository, in the user's private folder.

Who owns the name is decided by a lock beside the socket (`<name>.lock`, held for
the daemon's life, released by the kernel even on SIGKILL), not by whether `bind`
succeeds: so a socket file a killed daemon left behind is removed and replaced,
and two daemons starting at once never both think they serve. A leaving daemon
removes both files; one that finds its lock file removed or its socket replaced
under it leaves too (`still_ours`), so a race can cost a daemon, never a hook.

Beside them, `<name>.json` says whose daemon it is (pid, repository, start time,
installation) for `driftcheck daemon list`: the socket's name is a checksum, and a
daemon of another protocol must not be asked anything.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import sys
import time

from driftcheck.daemon import client


class NameTaken(Exception):
    """Another daemon holds this repository's socket (or is starting up on it)."""


class Listener:
    def __init__(self, common_dir: str | os.PathLike[str]) -> None:
        """Claim the socket for `common_dir`; DaemonUnavailable when the runtime
        folder is not private, NameTaken when another daemon has it."""
        self.name = client.socket_name(common_dir)
        self.path = os.path.join(client.runtime_dir(), self.name)
        self._folder = client.open_runtime_dir(create=True)
        self._lock = -1
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            flags = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW
            self._lock = os.open(self.name + ".lock", flags, 0o600, dir_fd=self._folder)
            if not _take(self._lock):
                raise NameTaken(self.path)
            if self._lock_inode() != os.fstat(self._lock).st_ino:
                # A leaving daemon removed the file we locked: the name is whoever's
                # lock is at the path now.
                raise NameTaken(self.path)
            # Ours now: whatever is at the name is a dead daemon's leftover.
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.name, dir_fd=self._folder)
            self.sock.bind(client.through(self._folder, self.name))
            self._inode = self._stat_inode()
            self._describe(common_dir)
        except BaseException:
            self.close()
            raise

    def _describe(self, common_dir: str | os.PathLike[str]) -> None:
        """Write `<name>.json` (whole or not at all: written aside, then renamed)."""
        facts = {
            "pid": os.getpid(),
            "repository": os.path.realpath(common_dir),
            "started": time.time(),
            "version": client.__version__,
            "protocol": client.PROTOCOL,
            "python": os.path.realpath(sys.executable),
            "package": client.package_dir(),
        }
        aside = f"{self.name}.json.{os.getpid()}"
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC
        with contextlib.suppress(OSError):  # a listing without it says less, no more
            fd = os.open(aside, flags, 0o600, dir_fd=self._folder)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(facts, out)
            os.rename(aside, self.name + ".json", src_dir_fd=self._folder, dst_dir_fd=self._folder)

    def listen(self) -> None:
        """Let hooks in (until now a connect is refused: they judge alone)."""
        self.sock.listen(64)

    def still_ours(self) -> bool:
        """False once the socket or lock file was removed or replaced (a cleaned
        /tmp): no hook can reach this daemon any more, so it should leave."""
        return (
            self._stat_inode() == self._inode and self._lock_inode() == os.fstat(self._lock).st_ino
        )

    def _stat_inode(self, suffix: str = "") -> int | None:
        try:
            found = os.stat(self.name + suffix, dir_fd=self._folder, follow_symlinks=False)
        except OSError:
            return None
        return found.st_ino

    def _lock_inode(self) -> int | None:
        return self._stat_inode(".lock")

    def close(self) -> None:
        """Close the socket, remove its file if it is still ours, release the name."""
        if self._lock >= 0 and getattr(self, "_inode", None) is not None and self.still_ours():
            # Socket first, then the lock (still held): the next daemon finds neither.
            for leftover in (self.name, self.name + ".json", self.name + ".lock"):
                with contextlib.suppress(OSError):
                    os.unlink(leftover, dir_fd=self._folder)
        self.sock.close()
        for fd in (self._lock, self._folder):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._lock = self._folder = -1


def _take(lock: int) -> bool:
    """Whether the name's lock is ours. A hook looks whether a daemon holds it (a
    shared lock, released at once: client._claimed); that look is waited out."""
    for _ in range(5):
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            time.sleep(0.01)
    return False
