"""Forked workers: results in order, failures fall back, nothing outlives a call."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from driftcheck.parallel import CAN_FORK, Forked, forked_map


def _square(n: int) -> int:
    return n * n


def _dies_in_a_worker(n: int) -> int:
    if n == 3 and os.getpid() != PARENT:
        os._exit(7)
    return n


PARENT = os.getpid()


def test_results_come_back_in_order() -> None:
    items = list(range(101))
    assert forked_map(_square, items, 3) == [n * n for n in items]


def test_results_shared_by_cost_come_back_in_order() -> None:
    items = [7, 1, 50, 3, 3, 90, 0, 12, 5]
    assert forked_map(_square, items, 2, cost=lambda n: n) == [n * n for n in items]


def test_a_worker_that_dies_means_doing_it_here() -> None:
    assert forked_map(_dies_in_a_worker, list(range(10)), 2) == list(range(10))


def _children() -> set[str]:
    found: set[str] = set()
    for task in Path("/proc/self/task").iterdir():
        found |= set((task / "children").read_text().split())
    return found


@pytest.mark.skipif(not CAN_FORK, reason="no fork here: the work runs in this process")
def test_no_worker_is_left_behind() -> None:
    before = _children()
    forked_map(_square, list(range(50)), 4)
    assert _children() <= before


def test_background_workers_give_the_same_results() -> None:
    items = list(range(77))
    running = Forked(_square, items, 2, cost=lambda n: n, background=True)
    assert running.results() == [n * n for n in items]


def _slow(n: int) -> int:
    time.sleep(30)
    return n


@pytest.mark.skipif(not CAN_FORK, reason="no fork here: the work runs in this process")
def test_stopping_background_work_leaves_no_worker() -> None:
    before = _children()
    running = Forked(_slow, list(range(4)), 2, background=True)
    assert len(_children() - before) == 2
    started = time.monotonic()
    running.stop()
    assert _children() <= before
    assert time.monotonic() - started < 5


def _niceness_then_stall(item: tuple[int, str]) -> tuple[int, int]:
    """(n squared, the niceness it was computed at); a lower-priority worker stalls
    (as on a machine busy with others) from n = 2 on, saying so in a file."""
    n, folder = item
    niceness = os.nice(0)
    if niceness > PARENT_NICENESS and n >= 2:
        (Path(folder) / f"stalled-{os.getpid()}").touch()
        time.sleep(60)
    return n * n, niceness


PARENT_NICENESS = os.nice(0)


@pytest.mark.skipif(not CAN_FORK, reason="workers are forked on Linux only")
def test_background_work_not_done_yet_is_done_at_the_callers_priority(tmp_path: Path) -> None:
    """A busy machine gives lower-priority workers next to no time: asked for the
    results, the caller takes what they finished and does the rest itself."""
    items = [(n, str(tmp_path)) for n in range(12)]
    running = Forked(_niceness_then_stall, items, 2, background=True)
    deadline = time.monotonic() + 30
    while len(list(tmp_path.glob("stalled-*"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(list(tmp_path.glob("stalled-*"))) == 2
    started = time.monotonic()
    results = running.results()
    assert [value for value, _ in results] == [n * n for n in range(12)]
    # Round robin: items 0 and 1 were done in the background before the stall.
    assert [niceness for _, niceness in results[:2]] == [PARENT_NICENESS + 10] * 2
    assert {niceness for _, niceness in results[2:]} == {PARENT_NICENESS}
    assert time.monotonic() - started < 30  # the stalled workers were not waited for
    assert running.done()  # every worker reaped


@pytest.mark.skipif(not CAN_FORK, reason="workers are forked on Linux only")
def test_finished_background_work_is_not_done_again(tmp_path: Path) -> None:
    items = [(n, str(tmp_path)) for n in (0, 1)]
    running = Forked(_niceness_then_stall, items, 2, background=True)
    deadline = time.monotonic() + 30
    while not running.done() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert running.done()
    assert running.results() == [(0, PARENT_NICENESS + 10), (1, PARENT_NICENESS + 10)]


_KILLED_PARENT = """
import os, sys, time
from driftcheck.parallel import Forked

def slow(item):
    time.sleep(120)
    return item

running = Forked(slow, list(range(4)), 2)
print(" ".join(str(pid) for pid in running._children), flush=True)
time.sleep(600)
"""


@pytest.mark.skipif(not CAN_FORK, reason="workers are forked on Linux only")
def test_workers_of_a_parent_killed_outright_leave() -> None:
    """SIGKILL gives the parent no chance to stop its workers: they notice on their
    own instead of finishing a share nobody will read."""
    parent = subprocess.Popen(
        [sys.executable, "-c", _KILLED_PARENT], stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    workers = [int(pid) for pid in parent.stdout.readline().split()]
    assert len(workers) == 2
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in workers)


def _alive(pid: int) -> bool:
    """Whether `pid` runs (a worker reparented to init is reaped by it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"
