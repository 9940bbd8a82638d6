"""The git processes this process started and is still waiting for: killed with
their children on a deadline, Ctrl-C or a hard stop (git.start_git registers them)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Iterator

from driftcheck.workspace import warden


def forget(child: subprocess.Popen[bytes]) -> None:
    with RUNNING.lock:
        RUNNING.children.discard(child)
        if child.returncode is not None:  # reaped: its group id may be reused now
            warden.release(child.pid)


def kill(child: subprocess.Popen[bytes]) -> None:
    """Kill git and whatever it started, and reap it."""
    kill_group(child)
    forget(child)


class Running:
    """The git processes this process started and is still waiting for."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.children: set[subprocess.Popen[bytes]] = set()
        self.halted = 0


RUNNING = Running()


def kill_group(child: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(OSError):
        os.killpg(child.pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        child.kill()
    child.wait()


@contextlib.contextmanager
def stopping() -> Iterator[None]:
    """While inside, no git starts and every running one is killed with its children:
    worker threads still in git calls give up at once (a deadline, Ctrl-C)."""
    with RUNNING.lock:
        RUNNING.halted += 1
        children = list(RUNNING.children)
    try:
        for child in children:
            with contextlib.suppress(OSError):
                os.killpg(child.pid, signal.SIGKILL)
        yield
    finally:
        with RUNNING.lock:
            RUNNING.halted -= 1


def halt() -> None:
    """Kill every running git call with its children, and start none from now on
    (the process is about to end: a hard stop at the hook's deadline)."""
    with RUNNING.lock:
        RUNNING.halted += 1
        children = list(RUNNING.children)
    for child in children:
        with contextlib.suppress(OSError):
            os.killpg(child.pid, signal.SIGKILL)
    warden.dismiss()  # nothing left for it to kill; os._exit would leave it a moment
