"""Map a function over many items in forked worker processes.

Not `concurrent.futures`: its helper threads read results in the background, and a
deadline or Ctrl-C that lands mid-read can leave one blocked for good, so the
interpreter hangs at exit. Here the calling thread does all the reading; on any
interruption the workers are killed and reaped, and nothing is left to wait for.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import signal
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

# fork() is what makes this cheap (the items are already in the children's memory);
# where it is missing or unsafe, the work runs in this process.
CAN_FORK = hasattr(os, "fork") and sys.platform.startswith("linux")


def forked_map(
    work: Callable[[T], R],
    items: Sequence[T],
    workers: int,
    *,
    cost: Callable[[T], int] | None = None,
) -> list[R]:
    """`[work(i) for i in items]`, shared among `workers` processes: round-robin, or
    by `cost` when given. Falls back to this process when a worker fails for any
    reason of its own."""
    return Forked(work, items, workers, cost=cost).results()


class Forked:
    """A `forked_map` started now and collected later, so the caller can go on with
    other work meanwhile. `background` workers run at a lower priority: they take
    the cores the caller leaves idle, not the caller's own. `stop` (or `results`)
    must follow, on every path."""

    def __init__(
        self,
        work: Callable[[T], R],
        items: Sequence[T],
        workers: int,
        *,
        cost: Callable[[T], int] | None = None,
        background: bool = False,
    ) -> None:
        self._work: Callable[[Any], Any] = work
        self._items: Sequence[Any] = items
        self._children: dict[int, int] = {}  # pid -> read end of its pipe
        self._shares: list[list[int]] = []
        if workers < 2 or not CAN_FORK:
            return
        try:
            self._shares = _shares(items, workers, cost)
            for share in self._shares:
                pid, read_end = _start(work, items, share, background)
                self._children[pid] = read_end
        except OSError:  # no fork today (a process limit): the work runs here, later
            self.stop()
            self._shares = []

    def results(self) -> list[Any]:
        if not self._shares:
            return [self._work(item) for item in self._items]
        try:
            results: list[Any] = [None] * len(self._items)
            for share, (pid, read_end) in zip(
                self._shares, list(self._children.items()), strict=True
            ):
                data = _read_all(read_end)
                del self._children[pid]
                os.close(read_end)
                _pid, status = os.waitpid(pid, 0)
                if status != 0 or not data:
                    raise _WorkerFailed
                with collector_paused():
                    for index, result in zip(share, pickle.loads(data), strict=True):
                        results[index] = result
            return results
        except _WorkerFailed:
            self.stop()
            return [self._work(item) for item in self._items]
        finally:
            self.stop()

    def stop(self) -> None:
        """Kill and reap the workers still running (their results are dropped)."""
        _stop(self._children)


def _shares(items: Sequence[T], workers: int, cost: Callable[[T], int] | None) -> list[list[int]]:
    """Item indexes per worker. By cost, the costliest first, each to the worker with
    the least so far: a round-robin share can leave one worker with the big files
    while the other waits (up to 0.7 s a batch on the Django workload)."""
    if cost is None:
        return [list(range(n, len(items), workers)) for n in range(workers)]
    costs = [cost(item) for item in items]
    shares: list[list[int]] = [[] for _ in range(workers)]
    loads = [0] * workers
    for index in sorted(range(len(items)), key=costs.__getitem__, reverse=True):
        least = loads.index(min(loads))
        shares[least].append(index)
        loads[least] += costs[index]
    return shares


class _WorkerFailed(Exception):
    pass


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """For building many objects that make no cycles (unpickling or parsing tables,
    indexing them): the cyclic collector would run over and over, each time through
    everything this process holds (unpickling measured 4-6x slower)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def pack(value: Any) -> bytes:
    """`value` pickled and compressed, for a worker to send back a result the parent
    may never need: a few bytes held instead of thousands of objects."""
    return zlib.compress(pickle.dumps(value, protocol=5), 1)


def unpack(data: bytes) -> Any:
    """What `pack` made in a worker of this very process."""
    with collector_paused():
        return pickle.loads(zlib.decompress(data))


_HELD = {signal.SIGINT, signal.SIGTERM, signal.SIGALRM}


def _start(
    work: Callable[[T], R], items: Sequence[T], share: list[int], background: bool = False
) -> tuple[int, int]:
    read_end, write_end = os.pipe()
    parent = os.getpid()
    # A Ctrl-C or deadline landing inside fork's own hooks (logging's, the warden's)
    # is swallowed there as an "exception ignored": held back until fork is done.
    held = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
    pid = -1
    try:
        pid = os.fork()
    finally:
        if pid != 0:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
    if pid == 0:  # the worker: compute its share, send it, and leave at once
        code = 1
        try:
            os.close(read_end)
            _leave_when_orphaned(parent)
            # Ctrl-C goes to the whole process group; the parent does the clean-up.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
            if background:
                os.nice(10)
            # The cyclic collector would only scan (and so copy) the heap inherited
            # from the parent, and the parse makes no cycles: off, for this short life.
            gc.freeze()
            gc.disable()
            data = pickle.dumps([work(items[index]) for index in share], protocol=5)
            with os.fdopen(write_end, "wb") as out:
                out.write(data)
            code = 0
        finally:
            os._exit(code)  # no atexit handlers, no flushing of the parent's buffers
    os.close(write_end)
    return pid, read_end


def _leave_when_orphaned(parent: int) -> None:
    """A parent killed outright (SIGKILL) cannot stop its workers: each notices on its
    own and leaves, rather than finish a share nobody will read (minutes, for a big
    tree) while holding what the parent held open."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.1)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


def _stop(children: dict[int, int]) -> None:
    for pid, read_end in list(children.items()):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.close(read_end)
        with contextlib.suppress(OSError):
            os.waitpid(pid, 0)
        del children[pid]
