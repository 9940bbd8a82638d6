"""The inotify budget all of a user's daemons share (driftcheck/daemon/budget.py).

Other daemons are real processes holding a real reservation in a private runtime
folder; the watcher adds real inotify watches, counted by the kernel.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import add_worktree, init_repo, inotify_watches

from driftcheck.daemon.budget import PREFIX, SharedBudget, start_time
from driftcheck.workspace import git as dgit
from driftcheck.workspace.live_states import LiveStates
from driftcheck.workspace.watcher import BUDGET_VARIABLE, LocalBudget, Watcher, user_budget

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux inotify")

_HOLDER = (
    "import sys\n"
    "from driftcheck.daemon.budget import SharedBudget\n"
    "budget = SharedBudget(int(sys.argv[1]))\n"
    "print(budget.reserve(int(sys.argv[2]), at_least=0), flush=True)\n"
    "sys.stdin.read()\n"
)


@pytest.fixture
def runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "runtime"
    folder.mkdir(mode=0o700)
    monkeypatch.setenv("DRIFTCHECK_RUNTIME_DIR", str(folder))
    return folder


class Holder:
    """Another daemon of the same user, as far as the budget goes: a process that
    reserved watches and keeps them until it is killed."""

    def __init__(self, total: int, wanted: int) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _HOLDER, str(total), str(wanted)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        self.granted = int(self.proc.stdout.readline())

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)  # no goodbye: its file stays behind
        self.proc.wait(timeout=30)


@pytest.fixture
def holders() -> Iterator[list[Holder]]:
    started: list[Holder] = []
    yield started
    for holder in started:
        if holder.proc.poll() is None:
            holder.kill()


def test_daemons_share_one_budget_and_a_dead_ones_share_is_freed(
    runtime: Path, holders: list[Holder]
) -> None:
    holders.append(Holder(50, 40))
    assert holders[0].granted == 40
    mine = SharedBudget(50)
    assert mine.reserve(30, at_least=0) == 10  # what the other left
    assert mine.others == 40
    record = runtime / f"{PREFIX}{os.getpid()}"
    assert record.read_text() == f"{os.getpid()} {start_time(os.getpid())} 10\n"
    assert record.stat().st_mode & 0o777 == 0o600
    assert mine.reserve(5, at_least=0) == 5  # giving back
    holders[0].kill()
    assert mine.reserve(30, at_least=0) == 30
    assert not (runtime / f"{PREFIX}{holders[0].proc.pid}").exists()
    mine.close()
    assert not record.exists()


def test_what_is_in_use_is_never_taken_back(runtime: Path, holders: list[Holder]) -> None:
    mine = SharedBudget(50)
    assert mine.reserve(20, at_least=0) == 20
    holders.append(Holder(50, 50))
    assert holders[0].granted == 30
    assert mine.reserve(40, at_least=20) == 20
    mine.close()


def test_files_that_are_not_a_live_daemons_count_for_nothing(
    runtime: Path, holders: list[Holder]
) -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=-1)
    try:
        pid = sleeper.pid
        planted = {
            # A live process, but not the one that wrote this (its pid was reused).
            f"{PREFIX}{pid}": f"{pid} 1 40\n",
            # A pid that is not the file's own.
            f"{PREFIX}{os.getppid()}": f"{pid} {start_time(pid)} 40\n",
            # Cut short, too long, or not numbers.
            f"{PREFIX}1": "1 ",
            f"{PREFIX}2": "2 0 " + "9" * 100_000 + "\n",
            f"{PREFIX}3": "three 0 40\n",
        }
        for name, text in planted.items():
            (runtime / name).write_text(text)
        (runtime / f"{PREFIX}4").symlink_to(runtime / f"{PREFIX}{pid}")
        (runtime / f"{PREFIX}5").mkdir()
        (runtime / "watches.v2.6").write_text("6 0 40\n")  # another format: not ours to judge
        mine = SharedBudget(50)
        assert mine.reserve(50, at_least=0) == 50
        left = sorted(p.name for p in runtime.iterdir())
        # Malformed and dead files were removed, except the folder and the unknown format.
        kept = [f"{PREFIX}5", f"{PREFIX}{os.getpid()}", "watches.lock", "watches.v2.6"]
        assert left == sorted(kept)
        mine.close()
    finally:
        sleeper.kill()
        sleeper.wait()


def test_the_budget_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(BUDGET_VARIABLE, "123")
    assert user_budget() == 123
    for bad in ("0", "-5", "lots", "1e9", "9" * 5000, "٣"):
        monkeypatch.setenv(BUDGET_VARIABLE, bad)
        with pytest.raises(ValueError, match=BUDGET_VARIABLE):
            user_budget()
    assert LocalBudget().total > 0  # a bad value: half of the kernel's limit


def test_a_tree_that_does_not_fit_holds_no_watches_and_is_tried_again(
    runtime: Path, holders: list[Holder], workspace: Path
) -> None:
    repo = init_repo(workspace / "repo", {f"p{n}/q/m.py": "x = 1\n" for n in range(4)})
    add_worktree(repo, "wt")
    budget = SharedBudget(60)
    alone = Watcher(budget)
    LiveStates(dgit.open_repo(repo), alone).worktrees()
    needed = alone.watches  # the repository's own folders and both worktrees
    assert alone.starved() == set()
    alone.close()
    assert budget.held == 0

    # Another daemon leaves room for the repository's folders and one worktree.
    holders.append(Holder(60, 60 - needed + 6))
    watcher = Watcher(budget)
    live = LiveStates(dgit.open_repo(repo), watcher)
    entries = live.worktrees()
    status = live.status()
    assert status["over_budget"] == [str(workspace / "wt")]
    assert str(workspace / "wt") in watcher.broken()  # captured on every request
    assert 0 < watcher.watches < needed
    assert inotify_watches(os.getpid(), watcher.fd) == watcher.watches
    assert holders[0].granted + budget.held <= 60

    holders[0].kill()
    live.retry_starved()
    assert watcher.starved() == set() and watcher.broken() == set()
    assert watcher.watches == needed == inotify_watches(os.getpid(), watcher.fd)
    assert [e.path for e in live.worktrees()] == [e.path for e in entries]
    watcher.close()
    budget.close()
