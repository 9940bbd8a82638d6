"""Real daemons and the user's inotify watches (#19 items 6 and 8).

Two daemons on two repositories share one budget of watches, counted by the
kernel, and the one left without enough still answers right. A clean filter
that touches its own file does not keep an idle daemon capturing.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import add_worktree, eventually, git, init_repo, inotify_watches, run_cli, write
from test_daemon import hook, stale_write
from test_hook_claude import Shop, build_shop, payload

from driftcheck.daemon import client as daemon_client
from driftcheck.demo import shop as demo

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux inotify")

ON = {"DRIFTCHECK_DAEMON": "1"}
OFF = {"DRIFTCHECK_DAEMON": "0"}


@pytest.fixture
def runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A runtime folder of the test's own: no other daemon of this user shares it."""
    folder = tmp_path / "runtime"
    folder.mkdir(mode=0o700)
    monkeypatch.setenv("DRIFTCHECK_RUNTIME_DIR", str(folder))
    return folder


@pytest.fixture
def daemons(runtime: Path) -> Iterator[list[Path]]:
    """Repositories whose daemons the test starts; each is stopped afterwards."""
    repos: list[Path] = []
    yield repos
    for repo in repos:
        run_cli("daemon", "stop", "--repo", str(repo), cwd=repo, env=ON)


def status(repo: Path) -> dict[str, Any]:
    result = run_cli("daemon", "status", "--repo", str(repo), cwd=repo, env=ON)
    assert result.code == 0, result.stderr
    found: dict[str, Any] = result.json()
    return found


def start(repo: Path, daemons: list[Path], env: dict[str, str]) -> dict[str, Any]:
    daemons.append(repo)
    result = run_cli("daemon", "start", "--repo", str(repo), cwd=repo, env={**ON, **env})
    assert result.code == 0, result.stderr
    return status(repo)


def stop(repo: Path) -> None:
    run_cli("daemon", "stop", "--repo", str(repo), cwd=repo, env=ON)
    eventually(lambda: run_cli("daemon", "status", cwd=repo, env=ON).code == 1, 60, "not stopped")


def through_daemon(data: str, shop: Shop) -> str:
    """The daemon's answer to a hook, checked against a hook judging alone."""
    before = status(shop.repo)["requests"]
    answer = hook(data, shop.agent, ON)
    assert status(shop.repo)["requests"] == before + 1, "the daemon did not answer"
    alone = hook(data, shop.agent, OFF)
    assert (answer.code, answer.stdout) == (alone.code, alone.stdout)
    return answer.stdout


def test_two_daemons_share_one_budget_and_the_second_still_answers_right(
    workspace: Path, daemons: list[Path]
) -> None:
    other = init_repo(workspace / "other", {f"pkg{n}/sub/m.py": f"X = {n}\n" for n in range(8)})
    add_worktree(other, "other-wt")
    shop = build_shop(workspace / "shop")
    # feat/pricing's move of calculate_total is undone on disk: no drift, for now.
    (shop.pricing / "orders" / "processor.py").write_text(demo.BASE["orders/processor.py"])
    (shop.pricing / "orders" / "pricing.py").unlink()

    # What the first daemon needs, when it has all it wants.
    alone = start(other, daemons, {})
    needed = alone["watches"]
    stop(other)

    # A budget the first daemon fills (with its few spare watches): none left.
    budget = {"DRIFTCHECK_WATCH_BUDGET": str(needed + 8)}
    first = start(other, daemons, budget)
    second = start(shop.repo, daemons, budget)
    held = inotify_watches(first["pid"]) + inotify_watches(second["pid"])
    assert first["watches"] == needed
    assert held <= needed + 8, f"{held} watches held together"
    assert first["watches_reserved"] + second["watches_reserved"] <= needed + 8
    # The second says which trees it cannot watch: all of them, captured on every request.
    assert str(shop.pricing) in second["over_budget"]
    assert str(shop.repo / ".git") in second["over_budget"]

    assert "DC204" not in through_daemon(stale_write(shop), shop)
    # The drift comes back, written in a worktree nobody watches: still found.
    (shop.pricing / "orders" / "processor.py").write_text(demo.PROCESSOR_AFTER_PRICING)
    (shop.pricing / "orders" / "pricing.py").write_text(demo.PRICING)
    assert "DC204" in through_daemon(stale_write(shop), shop)
    # And undone again.
    (shop.pricing / "orders" / "processor.py").write_text(demo.BASE["orders/processor.py"])
    (shop.pricing / "orders" / "pricing.py").unlink()
    assert "DC204" not in through_daemon(stale_write(shop), shop)


TOUCHY = {
    ".gitattributes": "*.py filter=touchy\n",
    "pyproject.toml": "[tool.driftcheck]\ngit-filters = true\n",
    "shop.py": "def total(a):\n    return a\n",
}


def _settled_captures(repo: Path, seconds: float = 30) -> int:
    """The daemon's capture count once it stayed the same for 3 s (or after
    `seconds`, whatever it is then)."""
    until = time.monotonic() + seconds
    last, since = status(repo)["captures"], time.monotonic()
    while time.monotonic() < until and time.monotonic() - since < 3:
        time.sleep(1)
        now = status(repo)["captures"]
        if now != last:
            last, since = now, time.monotonic()
    return int(last)


def _view(repo: Path, since: int, wait_ms: int) -> dict[str, bytes]:
    """What `driftcheck watch` asks: a scan once the generation is past `since`."""
    request = {"op": b"watch", "since": b"%d" % since, "wait_ms": b"%d" % wait_ms}
    request["root"] = os.fsencode(repo)
    return daemon_client.ask(str(repo / ".git"), request, timeout=60)


def test_a_filter_that_touches_its_file_does_not_keep_an_idle_daemon_capturing(
    workspace: Path, daemons: list[Path]
) -> None:
    repo = init_repo(workspace / "repo", TOUCHY)
    # The filter runs whenever git hashes a .py file (one changed, or racily clean
    # after a checkout), and touches it: git hashes it again next time. Dated an
    # hour ahead, the file stays racily clean, so git never trusts its stat again.
    touch = "touch -d @$(($(date +%s) + 3600)) %f; cat"
    git("config", "filter.touchy.clean", touch, cwd=repo)
    worktrees = [repo, add_worktree(repo, "edited"), add_worktree(repo, "agent")]
    write(worktrees[1], {"shop.py": "def total(a):\n    return a + 1\n"})

    start(repo, daemons, {})
    settled = _settled_captures(repo)
    time.sleep(3)  # idle: nobody asks, nothing is edited
    idle = status(repo)
    assert idle["captures"] == settled, f"{idle['captures'] - settled} captures in 3 s of idling"

    # A live view (`driftcheck watch`) waits for a change: the echo of the captures
    # its scans make never wakes it.
    generation = int(_view(repo, -1, 0)["generation"])  # a scan
    scanned = status(repo)["captures"]
    waited = time.monotonic()
    woke = _view(repo, generation, 3000)
    assert int(woke["generation"]) == generation and "scan" not in woke, "the view woke up"
    assert time.monotonic() - waited >= 2.5
    assert status(repo)["captures"] == scanned

    # The daemon says which worktrees change when captured.
    noisy_ones = status(repo)["self_changing"]
    assert noisy_ones, "no worktree was ever changed by its own capture"
    assert set(noisy_ones) <= {str(w) for w in worktrees}

    # A real change in such a worktree wakes the view, and is seen by the next request.
    noisy = Path(noisy_ones[0])
    asking = next(w for w in worktrees if w != noisy)
    write(noisy, {"shop.py": "def total(a, b):\n    return a + b\n"})
    waited = time.monotonic()
    assert int(_view(repo, generation, 30_000)["generation"]) > generation
    assert time.monotonic() - waited < 20
    content = "from shop import total\n\ntotal(1)\n"
    use = payload("Write", {"file_path": str(asking / "use.py"), "content": content}, asking)
    requests = status(repo)["requests"]
    answer = hook(use, asking, ON)
    assert status(repo)["requests"] == requests + 1, "the daemon did not answer"
    alone = hook(use, asking, OFF)
    assert "total(a, b)" in answer.stdout
    assert (answer.code, answer.stdout) == (alone.code, alone.stdout)

    # ... after which the daemon goes quiet again.
    settled = _settled_captures(repo)
    time.sleep(3)
    assert status(repo)["captures"] == settled
