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
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import NoReturn


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
    _FOLDERS.add(folder)
    tempfile.tempdir = folder
    try:
        yield folder
    finally:
        with alarms_held():
            tempfile.tempdir = previous
            shutil.rmtree(folder, ignore_errors=True)
            _FOLDERS.discard(folder)


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


# The private temp folders in use: a hard stop removes them on its way out.
_FOLDERS: set[str] = set()


class HardStop:
    """Ends the process at `at` (on time.monotonic()'s clock) with exit 0 and the
    hook's "deadline reached" line, whatever the main thread is doing: importing
    on a starved machine, cleaning up after the deadline, tearing the interpreter
    down. SIGALRM cannot do that (it waits for the main thread), so a thread does:
    it kills the git processes still running and removes the private temp folders
    first. The main thread `claim`s the exit before it writes its answer, and
    `leave`s without the interpreter's teardown (an agent waits for the exit)."""

    def __init__(self, at: float, started: float) -> None:
        self._started = started
        self._owner = threading.RLock()  # whoever holds it ends the process
        self._cancelled = threading.Event()
        global _ACTIVE
        _ACTIVE = self
        threading.Thread(target=self._wait, args=(at,), daemon=True).start()

    def claim(self) -> None:
        """From here on the main thread ends the process; blocks for good if the
        stop is already under way."""
        self._owner.acquire()
        self._cancelled.set()

    def leave(self, code: int) -> NoReturn:
        self.claim()
        with suppress(Exception):  # atexit's work, which os._exit skips
            retire = getattr(sys.modules.get("driftcheck.workspace.warden"), "retire", None)
            if retire is not None:
                retire()
        for stream in (sys.stdout, sys.stderr):
            with suppress(Exception):  # an agent that went away: nothing to tell
                stream.flush()
        os._exit(code)

    def _wait(self, at: float) -> None:
        if self._cancelled.wait(max(0.0, at - time.monotonic())):
            return
        if not self._owner.acquire(blocking=False):
            return  # the main thread is writing its answer and leaving
        # Nothing below may keep the process alive: the main thread now waits for
        # good in `claim`. A module half imported (the main thread was importing it)
        # can lack what is used here, and a lock can be held: so every step may
        # fail, and the process ends anyway, at the latest _LAST_S from now.
        threading.Thread(target=_exit_after, args=(_LAST_S,), daemon=True).start()
        try:
            with suppress(Exception):
                halt = getattr(sys.modules.get("driftcheck.workspace.git"), "halt", None)
                if halt is not None:
                    halt()
            spent = round((time.monotonic() - self._started) * 1000)
            line = f"driftcheck: allowing the edit: deadline reached after {spent} ms, not judged\n"
            with suppress(OSError):
                os.write(2, line.encode())
            for folder in list(_FOLDERS):
                shutil.rmtree(folder, ignore_errors=True)
            for last in list(_LAST_WORDS):
                with suppress(Exception):
                    last()
        finally:
            os._exit(0)


def _exit_after(seconds: float) -> NoReturn:
    time.sleep(seconds)
    os._exit(0)


_LAST_S = 0.2
_ACTIVE: HardStop | None = None
# What a hard stop still does before the process ends (start a daemon, say).
_LAST_WORDS: list[Callable[[], object]] = []


def on_hard_stop(action: Callable[[], object]) -> None:
    _LAST_WORDS.append(action)


def claim_exit() -> None:
    """The main thread is about to answer: a hard stop, if any, must not cut in."""
    if _ACTIVE is not None:
        _ACTIVE.claim()
