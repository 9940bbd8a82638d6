"""A wall-clock deadline for the hooks, with clean-up on every way out.

SIGALRM interrupts whatever runs (a git subprocess is killed by `subprocess.run`
when the exception passes through it); `DeadlineExceeded` derives from
BaseException so no broad `except Exception` on the way can swallow it.
"""

from __future__ import annotations

import shutil
import signal
import tempfile
import threading
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
    folder = tempfile.mkdtemp(prefix=prefix)
    tempfile.tempdir = folder
    try:
        yield folder
    finally:
        with alarms_held():
            tempfile.tempdir = previous
            shutil.rmtree(folder, ignore_errors=True)
