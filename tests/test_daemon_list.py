"""`driftcheck daemon list` and `daemon stop --all` (issue #20 item 11): every daemon
of this user, with its repository, age and memory; dead ones' files removed; every
way a daemon leaves said in its log. Real daemon processes on real repositories,
in a runtime folder of the test's own."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import eventually, run_cli
from test_daemon import ON, wait_for
from test_hook_claude import Shop, build_shop

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux daemons")


@pytest.fixture
def runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "run"
    monkeypatch.setenv("DRIFTCHECK_RUNTIME_DIR", str(folder))
    return folder


@pytest.fixture
def shops(runtime: Path, tmp_path: Path) -> Iterator[list[Shop]]:
    built = [build_shop(tmp_path / "one"), build_shop(tmp_path / "two")]
    yield built
    run_cli("daemon", "stop", "--all", cwd=tmp_path, env=ON)


def start(shop: Shop) -> int:
    result = run_cli("daemon", "start", "--repo", str(shop.repo), cwd=shop.repo, env=ON)
    assert result.code == 0, result.stderr
    found = wait_for(shop.repo, True)
    assert found is not None
    return int(found["pid"])


def listed(cwd: Path) -> list[dict[str, Any]]:
    result = run_cli("daemon", "list", "--json", cwd=cwd, env=ON)
    assert result.code == 0, result.stderr
    return result.json()["daemons"]


def common(shop: Shop) -> str:
    return os.path.realpath(shop.repo / ".git")


def log_of(shop: Shop) -> str:
    return (shop.repo / ".git" / "driftcheck" / "daemon.log").read_text()


def gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except OSError:
        return True


def test_every_daemon_is_listed_with_its_repository_age_and_memory(
    shops: list[Shop], tmp_path: Path
) -> None:
    pids = {common(shop): start(shop) for shop in shops}
    time.sleep(1.1)
    found = listed(tmp_path)
    assert {d["repository"]: d["pid"] for d in found} == pids
    for entry in found:
        assert entry["state"] == "running" and entry["uid"] == os.getuid()
        assert entry["age_s"] >= 1 and entry["memory_bytes"] > 1 << 20
    text = run_cli("daemon", "list", cwd=tmp_path, env=ON)
    assert text.code == 0
    for repository, pid in pids.items():
        row = next(line for line in text.stdout.splitlines() if line.startswith(f"{pid} "))
        assert "running" in row and "MiB" in row and row.endswith(repository)


def test_a_dead_daemons_files_are_shown_as_stale_and_removed(
    shops: list[Shop], runtime: Path, tmp_path: Path
) -> None:
    killed, kept = start(shops[0]), start(shops[1])
    os.kill(killed, signal.SIGKILL)
    eventually(lambda: gone(killed), 10, "the daemon did not die")
    before = daemon_files(runtime)
    assert len(before) == 6, before  # socket, lock and description of each
    found = listed(tmp_path)
    assert [(d["state"], d["removed"]) for d in found if d["pid"] is None] == [("stale", True)]
    assert [d["pid"] for d in found if d["state"] == "running"] == [kept]
    assert len(daemon_files(runtime)) == 3
    text = run_cli("daemon", "list", cwd=tmp_path, env=ON)
    assert str(kept) in text.stdout and str(killed) not in text.stdout


def test_stop_all_stops_every_daemon_and_each_log_says_why(
    shops: list[Shop], runtime: Path, tmp_path: Path
) -> None:
    pids = [start(shop) for shop in shops]
    stopped = run_cli("daemon", "stop", "--all", cwd=tmp_path, env=ON)
    assert stopped.code == 0, stopped.stderr
    for pid in pids:
        assert f"stopped daemon {pid} " in stopped.stdout
        assert gone(pid)
    assert listed(tmp_path) == [] and daemon_files(runtime) == []
    # The shared watch budget's lock stays for the next daemon; no daemon's share does.
    assert sorted(p.name for p in runtime.iterdir()) == ["watches.lock"]
    for shop, pid in zip(shops, pids, strict=True):
        log = log_of(shop)
        assert "told to stop (driftcheck daemon stop), leaving" in log
        assert f"stopped (pid {pid}, " in log
    again = run_cli("daemon", "list", cwd=tmp_path, env=ON)
    assert again.code == 0 and "no daemon runs" in again.stdout
    none = run_cli("daemon", "stop", "--all", cwd=tmp_path, env=ON)
    assert (none.code, none.stdout.strip()) == (0, "no daemon runs")


def test_a_signal_and_an_idle_timeout_are_said_in_the_log(shops: list[Shop]) -> None:
    pid = start(shops[0])
    os.kill(pid, signal.SIGTERM)
    eventually(lambda: gone(pid), 10, "SIGTERM did not stop the daemon")
    assert "stopped by signal SIGTERM, leaving" in log_of(shops[0])
    idle = run_cli("daemon", "start", "--repo", str(shops[1].repo), "--idle-minutes", "0.01",
                   cwd=shops[1].repo, env=ON)  # fmt: skip
    assert idle.code == 0, idle.stderr
    eventually(lambda: "idle for 1 s, leaving" in log_of(shops[1]), 30, "no idle exit logged")


def test_a_daemon_that_writes_no_description_is_listed_without_being_connected_to(
    runtime: Path, tmp_path: Path
) -> None:
    """An older driftcheck's daemon reads even a silent connection as a reason to
    leave: it is known by who holds its lock, never connected to."""
    runtime.mkdir(mode=0o700)
    name = "0123456789abcdef.sock"
    lock = os.open(runtime / f"{name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(lock, fcntl.LOCK_EX)
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(runtime / name))
    listener.listen(4)
    listener.setblocking(False)
    try:
        found = listed(tmp_path)
        assert [(d["socket"], d["state"], d["pid"]) for d in found] == [
            (name, "running", os.getpid())
        ]
        with pytest.raises(BlockingIOError):
            listener.accept()
    finally:
        listener.close()
        os.close(lock)


NOBODY = 65534


@pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("setpriv") or not Path("/usr/bin/python3").exists(),
    reason="needs root and setpriv to run a listener as another user",
)
def test_a_listener_of_another_user_is_listed_as_such_and_sent_nothing(
    runtime: Path, tmp_path: Path
) -> None:
    from test_daemon_socket import as_nobody, received

    runtime.mkdir(mode=0o700)
    name = "fedcba9876543210.sock"
    lock = os.open(runtime / f"{name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(lock, fcntl.LOCK_EX)
    (runtime / f"{name}.json").write_text(json.dumps({"pid": 1, "repository": "/planted"}))
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(runtime / name))
    try:
        impostor = as_nobody("fd", str(sock.fileno()), pass_fds=(sock.fileno(),))
    finally:
        sock.close()
    try:
        found = listed(tmp_path)
        assert [(d["state"], d["uid"], d["repository"]) for d in found] == [
            ("foreign", NOBODY, None)
        ]
        stopped = run_cli("daemon", "stop", "--all", cwd=tmp_path, env=ON)
        assert stopped.code == 0 and impostor.poll() is None  # never signalled
        text = run_cli("daemon", "list", cwd=tmp_path, env=ON)
        assert f"runs as uid {NOBODY}, not as you" in text.stdout and "/planted" not in text.stdout
    finally:
        assert received(impostor) == 0
        os.close(lock)


def daemon_files(runtime: Path) -> list[str]:
    """The runtime folder's files that belong to one daemon (not the shared watch budget's)."""
    return sorted(p.name for p in runtime.iterdir() if not p.name.startswith("watches."))
