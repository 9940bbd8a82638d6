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
import tempfile
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
    must follow, on every path.

    Each worker appends its results, one framed pickle per item, to a scratch file
    of its own as it goes, so what a worker has done can be read whether or not it
    finished."""

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
        self._workers = workers
        self._cost: Callable[[Any], int] | None = cost
        self._background = background
        self._children: dict[int, int] = {}  # pid -> its results file, while it runs
        # pid -> (stopped by us, exit status, its results file's bytes)
        self._ended: dict[int, tuple[bool, int, bytes]] = {}
        self._shares: list[tuple[int, list[int]]] = []  # (pid, item indexes)
        if workers < 2 or not CAN_FORK:
            return
        try:
            for share in _shares(items, workers, cost):
                pid, results_file = _start(work, items, share, background)
                self._children[pid] = results_file
                self._shares.append((pid, share))
        except OSError:  # no fork today (a process limit): the work runs here, later
            self.stop()
            self._shares = []

    def done(self) -> bool:
        """Whether every worker has finished (never waits)."""
        for pid in list(self._children):
            self._end(pid, os.WNOHANG)
        return not self._children

    def results(self) -> list[Any]:
        if not self._shares:
            return [self._work(item) for item in self._items]
        try:
            # Foreground workers are waited for. Background ones only had the cores
            # nobody else wanted, which on a busy machine can be next to nothing: what
            # they have not done yet is done now, at the caller's priority.
            for pid in list(self._children):
                if not self._background:
                    self._end(pid, 0)
                elif not self._end(pid, os.WNOHANG):
                    with contextlib.suppress(OSError):
                        os.kill(pid, signal.SIGKILL)
                    self._end(pid, 0, killed=True)
            results: list[Any] = [None] * len(self._items)
            rest: list[int] = []
            for pid, share in self._shares:
                killed, status, data = self._ended[pid]
                frames = _frames(data)
                if not killed and (status != 0 or len(frames) != len(share)):
                    raise _WorkerFailed
                with collector_paused():
                    for index, frame in zip(share, frames, strict=False):
                        results[index] = pickle.loads(frame)
                rest.extend(share[len(frames) :])
            if rest:
                todo = [self._items[index] for index in rest]
                workers = self._workers if len(rest) >= _REST_FORK_MIN else 1
                for index, value in zip(
                    rest, forked_map(self._work, todo, workers, cost=self._cost), strict=True
                ):
                    results[index] = value
            return results
        except _WorkerFailed:
            self.stop()
            return [self._work(item) for item in self._items]
        finally:
            self.stop()

    def stop(self) -> None:
        """Kill and reap the workers still running (their results are dropped)."""
        for pid, results_file in list(self._children.items()):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(OSError):
                os.close(results_file)
            with contextlib.suppress(OSError):
                os.waitpid(pid, 0)
            del self._children[pid]

    def _end(self, pid: int, flags: int, *, killed: bool = False) -> bool:
        """Reap `pid` (with WNOHANG, only if it has ended) and read its results file."""
        try:
            found, status = os.waitpid(pid, flags)
        except ChildProcessError:
            found, status = pid, -1
        if found == 0:
            return False
        results_file = self._children.pop(pid)
        try:
            data = _read_file(results_file)
        finally:
            os.close(results_file)
        self._ended[pid] = (killed, status, data)
        return True


# Fewer items left over than this are done in the caller rather than forked again.
_REST_FORK_MIN = 8


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
    results_file = _results_file()
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
            for index in share:
                data = pickle.dumps(work(items[index]), protocol=5)
                _write_all(results_file, len(data).to_bytes(8, "little") + data)
            code = 0
        finally:
            os._exit(code)  # no atexit handlers, no flushing of the parent's buffers
    return pid, results_file


def _leave_when_orphaned(parent: int) -> None:
    """A parent killed outright (SIGKILL) cannot stop its workers: each notices on its
    own and leaves, rather than finish a share nobody will read (minutes, for a big
    tree) while holding what the parent held open."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.1)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _results_file() -> int:
    """An anonymous file for a worker's results: in memory where the kernel can."""
    try:
        return os.memfd_create("driftcheck-results", os.MFD_CLOEXEC)
    except (AttributeError, OSError):
        with tempfile.TemporaryFile() as handle:  # already unlinked
            return os.dup(handle.fileno())


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _read_file(fd: int) -> bytes:
    """The whole file from its start (the worker moved the shared offset)."""
    chunks = []
    offset = 0
    while chunk := os.pread(fd, 1 << 20, offset):
        chunks.append(chunk)
        offset += len(chunk)
    return b"".join(chunks)


def _frames(data: bytes) -> list[memoryview]:
    """The complete frames (8-byte length, then a pickle) at the start of `data`,
    without copying them; a worker killed mid-write leaves a partial one, which is
    dropped."""
    frames = []
    view = memoryview(data)
    offset = 0
    while offset + 8 <= len(data):
        size = int.from_bytes(data[offset : offset + 8], "little")
        if offset + 8 + size > len(data):
            break
        frames.append(view[offset + 8 : offset + 8 + size])
        offset += 8 + size
    return frames
