"""A wall-clock deadline for the hooks, with clean-up on every way out.

SIGALRM interrupts whatever runs (a git subprocess is killed by `subprocess.run`
when the exception passes through it); `DeadlineExceeded` derives from
BaseException so no broad `except Exception` on the way can swallow it.

Only SIGKILL gets past every clean-up. So each temp folder driftcheck makes is
named after the process that owns it (`owned_tempdir`), and the next run removes
those whose owner is gone (`sweep_stale_tempdirs`).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


class DeadlineExceeded(BaseException):
    """The hook ran out of time; it must allow the edit and say so."""


def caused_by_deadline(exc: BaseException) -> bool:
    """Whether `exc` is, or was raised while handling, a DeadlineExceeded: Python
    wraps an exception raised at some points (a class body's `__set_name__` during
    an import, say) in a RuntimeError of its own."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, DeadlineExceeded):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    usable = (
        seconds > 0
        and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
    )
    if not usable:
        yield
        return

    def expire(_signum: int, _frame: object) -> None:
        raise DeadlineExceeded

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextmanager
def alarms_held() -> Iterator[None]:
    """Hold SIGALRM back while clean-up runs, so a deadline cannot cut it short."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


@contextmanager
def private_tempdir(prefix: str = "driftcheck-hook-") -> Iterator[str]:
    """Send every temp folder made inside to one private folder, removed on the way out.

    A deadline can strike while a temp folder is being made or removed; whatever it
    leaves lands in this folder, which goes as a whole once the clock is stopped.
    """
    previous = tempfile.tempdir
    folder = owned_tempdir(prefix)
    tempfile.tempdir = folder
    try:
        yield folder
    finally:
        with alarms_held():
            tempfile.tempdir = previous
            shutil.rmtree(folder, ignore_errors=True)


# <prefix><pid>-<pid namespace>-<random>: the owner, told apart from a process of
# the same number in another pid namespace that shares the temp folder.
_OWNED = re.compile(r"driftcheck-(?:[a-z]+-)?(\d+)-(\d+)-[A-Za-z0-9_]+")


def owned_tempdir(prefix: str = "driftcheck-") -> str:
    """`tempfile.mkdtemp` under a name that says which process owns the folder."""
    return tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-{_pid_namespace()}-")


def sweep_stale_tempdirs(where: str | None = None, budget_s: float = 0.05) -> int:
    """Remove the temp folders of driftcheck processes that are gone (killed with
    SIGKILL, say); how many. Only this user's folders, only real folders (a link is
    never followed), only owners in this pid namespace known to be dead: a live
    owner, one of another user or one we cannot tell about keeps its folder. Stops
    after `budget_s` (a hook's deadline is running): the next run goes on."""
    folder = where or tempfile.gettempdir()
    ours, namespace, removed = os.getuid(), _pid_namespace(), 0
    until = time.monotonic() + budget_s
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        if removed and time.monotonic() > until:
            break  # one at least: every run makes progress
        found = _OWNED.fullmatch(entry.name)
        if found is None or int(found[2]) != namespace or _alive(int(found[1])):
            continue
        try:
            if not entry.is_dir(follow_symlinks=False):
                continue
            if entry.stat(follow_symlinks=False).st_uid != ours:
                continue
        except OSError:
            continue
        # rmtree refuses a link at the top and never follows one below it; in a
        # sticky temp folder nobody else can swap the entry for a link meanwhile.
        with contextlib.suppress(OSError):
            shutil.rmtree(entry.path)
            removed += 1
    return removed


def _alive(pid: int) -> bool:
    if pid <= 0:
        return True  # not a process we could have been: leave it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # another user's process: alive
    return True


def _pid_namespace() -> int:
    """An id of this process's pid namespace (Linux), else 0."""
    try:
        return os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return 0
