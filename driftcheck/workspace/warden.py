"""git's processes end with the driftcheck process that started them, even one
killed with SIGKILL.

Every git runs in a process group of its own, so that a deadline or Ctrl-C kills
git together with what git started (a clean filter, `git-*` helpers). But nothing
ties such a group to its parent: a parent killed outright leaves git and its
filters running. `PR_SET_PDEATHSIG` would reach git alone, never the filter git
started, and it must be set between fork and exec (a `preexec_fn`, unsafe in a
process with threads, and it rules out vfork). So the first git a process starts
also starts a warden: a small interpreter in its own session that reads a pipe.
Each group is announced there when it starts ("+pgid") and again once it was
reaped ("-pgid"). When the pipe closes (the process ended, however it ended) the
warden kills every group still announced and leaves. A process that ends normally
with no git left running ends its warden itself, so nothing outlives it even for
the moment a fresh interpreter takes to start.

A kill can also land while git is being started, before its group was announced:
the child then runs on with nobody to end it. So every git also inherits the read
end of the warden's pipe (a descriptor it never touches), and so does all it
starts. Once the pipe closes, the warden also kills each process still holding that
end, found through /proc: a child half-way through its start included.

The warden runs `python -I -S` with this module's script and nothing imported
from anywhere: it reads nothing but its pipe and signals nothing but the groups
named there, which only this user's processes could have written.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import subprocess
import sys
import threading

# What the warden runs: read announcements until end of file, then kill the rest.
_SCRIPT = """
import os, signal, time
signal.signal(signal.SIGINT, signal.SIG_IGN)
groups, pending = set(), b""
while True:
    try:
        chunk = os.read(0, 65536)
    except InterruptedError:
        continue
    if not chunk:
        break
    pending += chunk
    *lines, pending = pending.split(b"\\n")
    for line in lines:
        if line[1:].isdigit():
            (groups.add if line[:1] == b"+" else groups.discard)(int(line[1:]))
for group in groups:
    try:
        os.killpg(group, signal.SIGKILL)
    except OSError:
        pass
mark, me = "pipe:[%d]" % os.fstat(0).st_ino, os.getpid()
for _ in range(100):
    holders = []
    for name in os.listdir("/proc") if os.path.isdir("/proc") else ():
        if name.isdigit() and int(name) != me:
            try:
                fds = os.listdir("/proc/%s/fd" % name)
            except OSError:
                continue
            for fd in fds:
                try:
                    if os.readlink("/proc/%s/fd/%s" % (name, fd)) == mark:
                        holders.append(int(name))
                        break
                except OSError:
                    pass
    if not holders:
        break
    for pid in holders:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    time.sleep(0.01)
"""


class _Warden:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.fd: int | None = None  # the write end of the warden's pipe
        self.mark: int | None = None  # its read end, which every git inherits
        self.process: subprocess.Popen[bytes] | None = None
        self.owner = 0  # the pid that started it: a forked worker starts its own
        self.failed = False
        self.announced: set[int] = set()  # groups not yet released

    def ensure(self) -> int | None:
        """The pipe to this process's warden, started on first use (and again if it
        died); None when none can run here: git's groups are then on their own."""
        with self.lock:
            if self.fd is not None and self.owner == os.getpid():
                assert self.process is not None
                if self.process.poll() is None:
                    return self.fd
            if self.fd is not None:  # a dead warden's pipe, or the copy a fork inherited
                self._close()
                self.process = None
            if self.failed or not sys.executable:
                return None
            read_end, write_end = os.pipe()
            try:
                self.process = subprocess.Popen(
                    [sys.executable, "-I", "-S", "-c", _SCRIPT],
                    stdin=read_end,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,  # outlives a kill of our process group
                    close_fds=True,
                    cwd="/",
                )
            except OSError:
                os.close(write_end)
                os.close(read_end)
                self.failed = True
                return None
            # A stuck warden must never hold git up: a full pipe drops the message.
            os.set_blocking(write_end, False)
            self.fd, self.mark, self.owner = write_end, read_end, os.getpid()
            self.announced = set()
            return write_end

    def retire(self) -> None:
        """At a normal exit: with nothing left to kill, end the warden now rather
        than when it notices; otherwise close its pipe and let it do its work."""
        with self.lock:
            if self.fd is None or self.owner != os.getpid() or self.process is None:
                return
            if not self.announced:
                with contextlib.suppress(OSError):
                    self.process.kill()
                    self.process.wait()
            self._close()

    def _close(self) -> None:
        # The read end first: the warden is not to find this process among its holders.
        for fd in (self.mark, self.fd):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.fd = self.mark = None

    def forget_inherited(self) -> None:
        """In a child just forked: the parent's pipe and lock are not ours. Holding
        that pipe open would keep the parent's warden waiting after the parent died,
        and its git groups alive with it."""
        self.lock = threading.Lock()  # another thread may have held it at the fork
        self._close()
        self.process = None
        self.announced = set()


_WARDEN = _Warden()
atexit.register(_WARDEN.retire)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_WARDEN.forget_inherited)


def retire() -> None:
    """What a normal exit does (atexit), for a process about to leave by os._exit."""
    _WARDEN.retire()


def dismiss() -> None:
    """End the warden now: every group it guards was just killed (git.halt)."""
    _WARDEN.announced.clear()
    _WARDEN.retire()


def prepare() -> tuple[int, ...]:
    """Start this process's warden now (if none runs), before the group it is to
    guard: the descriptors that git is to inherit (its mark), none if no warden runs."""
    _WARDEN.ensure()
    mark = _WARDEN.mark
    return () if mark is None else (mark,)


def guard(pgid: int) -> None:
    """Kill process group `pgid` if this process dies before `release(pgid)`."""
    _send(b"+%d\n" % pgid)
    _WARDEN.announced.add(pgid)


def release(pgid: int) -> None:
    """`pgid`'s leader was reaped: nothing of it is left for the warden to kill."""
    _WARDEN.announced.discard(pgid)
    _send(b"-%d\n" % pgid)


def _send(message: bytes) -> None:
    fd = _WARDEN.ensure()
    if fd is None:
        return
    with contextlib.suppress(OSError):  # a warden gone or behind: best effort
        os.write(fd, message)
