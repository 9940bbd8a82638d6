"""Turns for the hooks that judge in their own process: one per core at a time.

With no daemon to answer (none started yet, one just killed, a squatter on its
socket name), every hook judges in its own process: it imports all of driftcheck
and captures every worktree. Thirty-two at once on two cores each get a sixteenth
of a core, so all of them run out of time, and end late (bench/stress.py). So a
hook first takes a turn: a lock on one of as many files as there are cores, in the
private runtime folder, named after the repository's daemon socket. A hook that
gets none before its deadline allows the edit then, having spent next to nothing,
and the hooks that have a turn get the machine. The kernel releases a turn when its
process ends, however it ends. Where no private folder can be had, hooks do not
wait for turns.

Imported on the way to judging alone, so it uses nothing but the interpreter.
"""

from __future__ import annotations

import os
import time

from driftcheck.daemon import client

_POLL_S = 0.02
_HELD: list[int] = []  # the turn's descriptor, open until the process ends


def turn_names(common_dir: str) -> list[str]:
    """The lock files' names (in the runtime folder) for the repository at `common_dir`."""
    base = client.socket_name(common_dir).removesuffix(".sock")
    return [f"{base}.turn{n}" for n in range(os.cpu_count() or 1)]


def take_turn(until: float) -> bool:
    """True once this process may judge (a turn is held, or there are no turns
    here); False if no turn came before `until` (time.monotonic())."""
    try:
        import fcntl  # not on Windows: no turns there
    except ImportError:
        return True
    try:
        common = client.find_common_dir(os.getcwd())
    except OSError:  # the working folder is gone
        return True
    if common is None:
        return True
    try:
        folder = client.open_runtime_dir(create=True)
    except OSError:
        return True
    try:
        flags = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW
        fds = [os.open(name, flags, 0o600, dir_fd=folder) for name in turn_names(common)]
    except OSError:
        return True
    finally:
        os.close(folder)
    while True:
        for fd in fds:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue
            _HELD.append(fd)
            for other in fds:
                if other != fd:
                    os.close(other)
            return True
        if time.monotonic() + _POLL_S >= until:
            for fd in fds:
                os.close(fd)
            return False
        time.sleep(_POLL_S)
