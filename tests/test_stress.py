"""A reduced run of issue #19's stress (bench/stress.py has the full one, on Django).

Hook processes as an agent starts them, the daemon switched on: 8 at once through a
warm daemon, 8 at once while the daemon is SIGKILLed, 4 at once against a listener
of our own user squatting the daemon's socket name and never answering, 4 Edits of
a FIFO. Every hook must exit 0 within its deadline plus MARGIN_S.

MARGIN_S is a correctness bound, not a speed target (bench/stress.py measures
against deadline + 200 ms): it is wide enough for a loaded CI machine, and far below
what an unbounded hook took (the FIFO read forever; hooks falling back after a
killed daemon answered 3-5 s after a 1.5 s deadline under the full stress).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import add_worktree, init_repo, run_cli, write

from driftcheck.daemon import client as daemon_client

pytestmark = pytest.mark.slow

DEADLINE_MS = 1500
MARGIN_S = 1.5


@pytest.fixture
def shop(workspace: Path, tmp_path: Path) -> Iterator[tuple[Path, list[Path], dict[str, str]]]:
    files = {f"pkg/m{n}.py": f"def helper{n}(x):\n    return x + {n}\n" for n in range(20)}
    repo = init_repo(workspace / "repo", {"lib.py": "def f(a):\n    return a\n", **files})
    other = add_worktree(repo, "other")
    write(other, {"lib.py": "def f(a, b):\n    return a\n"})
    agents = [add_worktree(repo, f"agent{n}") for n in range(4)]
    runtime = tmp_path / "run"
    env = {"DRIFTCHECK_DAEMON": "1", daemon_client.RUNTIME_DIR_VARIABLE: str(runtime)}
    yield repo, agents, env
    run_cli("daemon", "stop", "--repo", str(repo), cwd=repo, env=env)


def payload(agent: Path, target: Path | None = None) -> bytes:
    path = target or agent / "lib.py"
    return json.dumps(
        {
            "hook_event_name": "PreToolUse",
            "tool_name": "Edit",
            "tool_input": {"file_path": str(path), "old_string": "a", "new_string": "b"},
            "cwd": str(agent),
        }
    ).encode()


def hooks_at_once(
    calls: list[tuple[Path, bytes]], env: dict[str, str]
) -> list[tuple[float, int, str]]:
    """(seconds from launch to exit, exit code, stderr) of one hook process per call."""
    found: list[tuple[float, int, str]] = []

    def one(cwd: Path, data: bytes) -> None:
        started = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "-m", "driftcheck", "hook", "claude"],
            cwd=cwd,
            input=data,
            capture_output=True,
            env={**os.environ, "PYTHONSAFEPATH": "1", **env},
            check=False,
        )
        found.append((time.monotonic() - started, proc.returncode, proc.stderr.decode()))

    threads = [threading.Thread(target=one, args=call) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return found


def assert_bounded(results: list[tuple[float, int, str]], count: int) -> None:
    assert len(results) == count
    for spent, code, stderr in results:
        assert code == 0 and "Traceback" not in stderr, stderr
        assert spent < DEADLINE_MS / 1000 + MARGIN_S, (spent, stderr)


def alive(pid: int) -> bool:
    """Running, and not a zombie nobody has reaped yet."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


def start_daemon(repo: Path, env: dict[str, str]) -> int:
    assert run_cli("daemon", "start", "--repo", str(repo), cwd=repo, env=env).code == 0
    status = run_cli("daemon", "status", "--repo", str(repo), cwd=repo, env=env)
    pid: int = json.loads(status.stdout)["pid"]
    return pid


def test_hooks_keep_their_deadline_under_stress(
    shop: tuple[Path, list[Path], dict[str, str]],
) -> None:
    repo, agents, env = shop
    (repo / ".driftcheck.toml").write_text(f"hook-deadline-ms = {DEADLINE_MS}\n")
    for agent in agents:
        (agent / ".driftcheck.toml").write_text(f"hook-deadline-ms = {DEADLINE_MS}\n")
    calls = [(agents[n % 4], payload(agents[n % 4])) for n in range(8)]

    start_daemon(repo, env)
    assert_bounded(hooks_at_once(calls, env), 8)

    pid = start_daemon(repo, env)
    killer = threading.Timer(0.15, os.kill, args=(pid, signal.SIGKILL))
    killer.start()
    assert_bounded(hooks_at_once(calls, env), 8)
    killer.join()
    deadline = time.monotonic() + 5
    while alive(pid) and time.monotonic() < deadline:  # SIGKILL lands in a moment
        time.sleep(0.05)
    assert not alive(pid)
    run_cli("daemon", "stop", "--repo", str(repo), cwd=repo, env=env)

    fifos = []
    for agent in agents:
        fifo = agent / "pipe.py"
        os.mkfifo(fifo)
        fifos.append((agent, payload(agent, fifo)))
    results = hooks_at_once(fifos, env)
    assert_bounded(results, 4)
    assert all("not a regular file" in stderr for _, _, stderr in results)
    run_cli("daemon", "stop", "--repo", str(repo), cwd=repo, env=env)

    # A same-user listener at the daemon's name that accepts and never answers.
    path = Path(env[daemon_client.RUNTIME_DIR_VARIABLE])
    path.mkdir(mode=0o700, exist_ok=True)
    common = (repo / ".git").resolve()
    os.environ[daemon_client.RUNTIME_DIR_VARIABLE] = str(path)
    try:
        name = daemon_client.socket_path(common)
    finally:
        del os.environ[daemon_client.RUNTIME_DIR_VARIABLE]
    Path(name).unlink(missing_ok=True)
    with socket.socket(socket.AF_UNIX) as squatter:
        squatter.bind(name)
        squatter.listen(16)
        results = hooks_at_once(calls[:4], env)
    assert_bounded(results, 4)
    assert all("did not answer within the deadline" in stderr for _, _, stderr in results)
