"""The daemon, as users run it: real hook processes, a real daemon process, real edits.

Each test compares the daemon's answer with the answer of a hook judging in its own
process (DRIFTCHECK_DAEMON=0), and checks through `driftcheck daemon status` that
the daemon, not a fallback, answered.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import CliResult, eventually, run_cli, snapshot_repo
from test_hook_claude import STALE_REPORT, Shop, build_shop, payload

from driftcheck.daemon import client as daemon_client
from driftcheck.demo import shop as demo

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux inotify")

ON = {"DRIFTCHECK_DAEMON": "1"}
OFF = {"DRIFTCHECK_DAEMON": "0"}


def hook(data: str | bytes, cwd: Path, env: dict[str, str]) -> CliResult:
    return run_cli("hook", "claude", "--deadline-ms", "60000", cwd=cwd, input=data, env=env)


def status(repo: Path) -> dict[str, Any] | None:
    result = run_cli("daemon", "status", "--repo", str(repo), cwd=repo, env=ON)
    return result.json() if result.code == 0 else None


def wait_for(repo: Path, running: bool, seconds: float = 60) -> dict[str, Any] | None:
    def check() -> tuple[dict[str, Any] | None] | None:
        found = status(repo)
        return (found,) if (found is not None) == running else None

    what = f"the daemon did not {'start' if running else 'stop'} in time"
    return eventually(check, seconds, what, every=0.2)[0]


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Shop]:
    built = build_shop(tmp_path / "shop")
    yield built
    run_cli("daemon", "stop", "--repo", str(built.repo), cwd=built.repo, env=ON)


def started(shop: Shop) -> dict[str, Any]:
    result = run_cli("daemon", "start", "--repo", str(shop.repo), cwd=shop.repo, env=ON)
    assert result.code == 0, result.stderr
    found = status(shop.repo)
    assert found is not None
    return found


def stale_write(shop: Shop) -> str:
    tool_input = {"file_path": shop.file("orders/report.py"), "content": STALE_REPORT}
    return payload("Write", tool_input, shop.agent)


def both(data: str | bytes, shop: Shop) -> CliResult:
    """The daemon's answer, checked against a hook judging in its own process."""
    before = wait_for(shop.repo, True)
    assert before is not None
    through = hook(data, shop.agent, ON)
    after = status(shop.repo)
    assert after is not None and after["requests"] == before["requests"] + 1, "not answered"
    alone = hook(data, shop.agent, OFF)
    assert (through.code, through.stdout) == (alone.code, alone.stdout)
    assert through.stderr == alone.stderr
    return through


def test_the_daemon_answers_as_the_hook_process_would(shop: Shop) -> None:
    started(shop)
    stale = both(stale_write(shop), shop)
    assert "DC204" in stale.stdout and '"ask"' in stale.stdout
    clean = payload("Write", {"file_path": shop.file("README.md"), "content": "x\n"}, shop.agent)
    assert both(clean, shop).stdout == ""
    malformed = both(b'{"tool_name": "Write", ', shop)
    assert "malformed hook JSON" in malformed.stderr
    elsewhere = payload("Write", {"file_path": "/etc/hostname", "content": "x"}, shop.agent)
    assert "not a git repository" in both(elsewhere, shop).stderr


def test_the_first_hook_starts_a_daemon_and_the_next_ones_use_it(shop: Shop) -> None:
    assert status(shop.repo) is None
    first = hook(stale_write(shop), shop.agent, ON)
    assert "DC204" in first.stdout
    wait_for(shop.repo, True)
    assert "DC204" in both(stale_write(shop), shop).stdout


def test_edits_in_other_worktrees_reach_the_daemon(shop: Shop) -> None:
    """feat/pricing moved `calculate_total`; moving it back on disk (not committed)
    removes the drift, and the daemon sees that at once."""
    started(shop)
    assert "DC204" in both(stale_write(shop), shop).stdout
    before = status(shop.repo)
    assert before is not None
    (shop.pricing / "orders" / "processor.py").write_text(demo.BASE["orders/processor.py"])
    (shop.pricing / "orders" / "pricing.py").unlink()
    # Once the worktrees are quiet, the daemon captures the changed one unasked.
    deadline = time.monotonic() + 30
    while (found := status(shop.repo)) and found["captures"] == before["captures"]:
        assert time.monotonic() < deadline, "the changed worktree was not captured"
        time.sleep(0.1)
    assert both(stale_write(shop), shop).stdout == ""
    after = status(shop.repo)
    assert after is not None
    # Only the edited worktree was looked at again.
    assert after["captures"] == before["captures"] + 1


def test_the_daemon_leaves_the_repository_untouched(shop: Shop) -> None:
    snapshot = snapshot_repo(shop.repo)
    started(shop)
    for _ in range(3):
        both(stale_write(shop), shop)
    run_cli("daemon", "stop", "--repo", str(shop.repo), cwd=shop.repo, env=ON)
    wait_for(shop.repo, False)
    assert snapshot_repo(shop.repo) == snapshot


def test_a_killed_daemon_is_replaced_and_no_answer_is_lost(shop: Shop) -> None:
    pid = started(shop)["pid"]
    os.kill(pid, signal.SIGKILL)
    answer = hook(stale_write(shop), shop.agent, ON)
    assert "DC204" in answer.stdout
    replaced = wait_for(shop.repo, True)
    assert replaced is not None and replaced["pid"] != pid


@pytest.mark.parametrize("how", ["cache clear", "removed by hand"])
def test_a_cleared_cache_does_not_mislead_the_daemon(shop: Shop, how: str) -> None:
    started(shop)
    assert "DC204" in both(stale_write(shop), shop).stdout
    if how == "cache clear":  # stops the daemon first
        cleared = run_cli("cache", "clear", "--repo", str(shop.repo), cwd=shop.repo, env=ON)
        assert cleared.code == 0, cleared.stderr  # it used to crash asking the daemon
        assert not (shop.repo / ".git" / "driftcheck" / "cache.sqlite3").exists()
        wait_for(shop.repo, False)
        assert "DC204" in hook(stale_write(shop), shop.agent, ON).stdout
    else:  # a daemon of another installation keeps running: it starts afresh
        shutil.rmtree(shop.repo / ".git" / "driftcheck")
    wait_for(shop.repo, True)
    assert "DC204" in both(stale_write(shop), shop).stdout


def test_sixteen_hooks_at_once_all_get_the_answer(shop: Shop) -> None:
    started(shop)
    data = stale_write(shop).encode()
    command = [sys.executable, "-m", "driftcheck", "hook", "claude", "--deadline-ms", "60000"]
    env = {**os.environ, **ON}
    procs = [
        subprocess.Popen(
            command, cwd=shop.agent, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        for _ in range(16)
    ]
    outputs = [proc.communicate(data, timeout=300)[0] for proc in procs]
    assert all(b"DC204" in out for out in outputs)
    found = status(shop.repo)
    assert found is not None and found["requests"] >= 16


def test_an_older_protocol_is_sent_back_to_judge_alone(shop: Shop) -> None:
    started(shop)
    common = str(shop.repo / ".git")
    answer = daemon_client.ask(common, {"v": b"999", "op": b"status"}, timeout=10)
    assert answer == {"retry": b"1"}
    wait_for(shop.repo, False)  # it leaves: the caller runs other code
    assert "DC204" in hook(stale_write(shop), shop.agent, ON).stdout
    wait_for(shop.repo, True)  # the hook started a fresh one, which the fixture stops


def test_an_idle_daemon_leaves(tmp_path: Path) -> None:
    built = build_shop(tmp_path / "shop")
    command = [sys.executable, "-m", "driftcheck", "daemon", "run", "--idle-minutes", "0.02"]
    proc = subprocess.run(command, cwd=built.repo, env={**os.environ, **ON}, timeout=120)
    assert proc.returncode == 0


def test_status_and_stop_without_a_daemon(shop: Shop) -> None:
    result = run_cli("daemon", "status", "--repo", str(shop.repo), cwd=shop.repo, env=ON)
    assert result.code == 1 and result.json() == {"running": False}
    result = run_cli("daemon", "stop", "--repo", str(shop.repo), cwd=shop.repo, env=ON)
    assert result.code == 0 and "no daemon" in result.stdout


def test_switched_off_the_hook_never_starts_one(shop: Shop) -> None:
    assert "DC204" in hook(stale_write(shop), shop.agent, OFF).stdout
    time.sleep(1)
    assert status(shop.repo) is None


def test_messages_carry_any_bytes_and_garbage_is_refused() -> None:
    fields = {"payload": b"\x00:12:\xff" * 3, "cwd": "/tmp/ä:1".encode(), "empty": b""}
    assert daemon_client.unpack(daemon_client.pack(fields)) == fields
    for garbage in (b"x", b"5:ab", b"3:abc9:x", b"99999999999999999999999:", b"-1:"):
        with pytest.raises(ValueError):
            daemon_client.unpack(garbage)


@pytest.mark.parametrize("where", ["before judging", "while judging"])
def test_a_hook_that_misses_its_deadline_still_starts_a_daemon(
    shop: Shop, tmp_path: Path, where: str
) -> None:
    """On a large repository judging alone misses the deadline every time: the
    daemon it should have started is the only way out (it used to start one only
    after a judgement that finished in time, so no daemon ever ran there)."""
    assert status(shop.repo) is None
    if where == "before judging":
        env, deadline, data = ON, "1", stale_write(shop)
    else:  # git passes the proposed file through a filter that outlasts the deadline
        slow_filter(shop, tmp_path)
        env, deadline = {**ON, "DRIFTCHECK_GIT_FILTERS": "1"}, "700"
        data = payload("Write", {"file_path": shop.file("new.slow"), "content": "x\n"}, shop.agent)
    late = run_cli("hook", "claude", "--deadline-ms", deadline, cwd=shop.agent, input=data, env=env)
    assert late.code == 0 and late.stdout == "", late.stderr
    assert "deadline reached" in late.stderr
    wait_for(shop.repo, True)
    assert "DC204" in both(stale_write(shop), shop).stdout


SLOW_FILTER_S = 2


def slow_filter(shop: Shop, tmp_path: Path) -> None:
    """Git runs a clean filter that takes SLOW_FILTER_S on every `*.slow` file."""
    script = tmp_path / "slow-filter.sh"
    script.write_text(f"#!/bin/sh\nsleep {SLOW_FILTER_S}\ncat\n")
    script.chmod(0o755)
    git_dir = shop.repo / ".git"
    (git_dir / "info").mkdir(exist_ok=True)
    (git_dir / "info" / "attributes").write_text("*.slow filter=slow\n")
    subprocess.run(["git", "config", "filter.slow.clean", str(script)], cwd=shop.repo, check=True)


@pytest.fixture
def slow_shop(shop: Shop, tmp_path: Path) -> Shop:
    """The pricing worktree holds a `*.slow` file: capturing it takes longer than a
    hook's default deadline (as capturing every worktree of a large repository does)."""
    slow_filter(shop, tmp_path)
    (shop.pricing / "data.slow").write_text("pricing data\n")
    return shop


def test_the_daemon_answers_in_time_again_after_a_deadline_miss(slow_shop: Shop) -> None:
    """A miss used to drop every kept worktree state: the next request captured all
    of them again, missed too, dropped them again, and so on for good."""
    shop, filters = slow_shop, {**ON, "DRIFTCHECK_GIT_FILTERS": "1"}
    result = run_cli("daemon", "start", "--repo", str(shop.repo), cwd=shop.repo, env=filters)
    assert result.code == 0, result.stderr

    def timely() -> CliResult:  # the default deadline, 1500 ms
        return run_cli("hook", "claude", cwd=shop.agent, input=stale_write(shop), env=filters)

    warm = timely()
    assert "DC204" in warm.stdout, warm.stderr
    before = status(shop.repo)
    assert before is not None
    # The miss: a proposal git must pass through the slow filter, on a short deadline.
    slow = payload("Write", {"file_path": shop.file("new.slow"), "content": "x\n"}, shop.agent)
    missed = run_cli(
        "hook", "claude", "--deadline-ms", "700", cwd=shop.agent, input=slow, env=filters
    )
    assert "deadline reached" in missed.stderr, missed.stderr
    missed_at = time.monotonic()
    assert status(shop.repo) is not None  # answered once the daemon has rebuilt
    rebuilt = time.monotonic() - missed_at
    for _ in range(3):
        answer = timely()
        assert "DC204" in answer.stdout and "deadline" not in answer.stderr, answer.stderr
    after = status(shop.repo)
    assert after is not None and after["requests"] == before["requests"] + 4, "not answered"
    # The worktree states were kept: nothing was captured again.
    assert after["captures"] == before["captures"], (before, after)
    assert after["deadline_misses"] == 1
    print(f"rebuilt {rebuilt:.2f} s after the miss was answered")
