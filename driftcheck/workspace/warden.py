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
import os, signal
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
"""


class _Warden:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.fd: int | None = None  # the write end of the warden's pipe
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
                with contextlib.suppress(OSError):
                    os.close(self.fd)
                self.fd = self.process = None
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
                self.failed = True
                return None
            finally:
                os.close(read_end)
            # A stuck warden must never hold git up: a full pipe drops the message.
            os.set_blocking(write_end, False)
            self.fd, self.owner = write_end, os.getpid()
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
            with contextlib.suppress(OSError):
                os.close(self.fd)
            self.fd = None


_WARDEN = _Warden()
atexit.register(_WARDEN.retire)


def retire() -> None:
    """What a normal exit does (atexit), for a process about to leave by os._exit."""
    _WARDEN.retire()


def dismiss() -> None:
    """End the warden now: every group it guards was just killed (git.halt)."""
    _WARDEN.announced.clear()
    _WARDEN.retire()


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
