"""Payloads that never end and daemons that never answer (issue #19, items 2 and 3).

A hook must answer within its deadline whatever it is asked to read and whoever
answers its socket: an Edit of a FIFO, a committed symlink to /dev/zero, a MultiEdit
whose edits double the file forty times, a daemon that accepts and says nothing or
trickles its answer. Each case ran for tens of seconds (or gigabytes) before.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import CliResult, add_worktree, commit_all, init_repo, run_cli, write

from driftcheck.daemon import client as daemon_client

# Well above what a judgement of these tiny repositories takes, well below what the
# unbounded cases took: a hook that ends before this has kept its deadline.
DEADLINE_MS = 1500
SLACK_S = 1.0  # process start-up and a loaded CI machine


def hook(payload: dict, cwd: Path, env: dict[str, str], *args: str) -> tuple[CliResult, float]:
    started = time.monotonic()
    result = run_cli("hook", "claude", *args, cwd=cwd, input=json.dumps(payload), env=env)
    return result, time.monotonic() - started


def edit(path: Path, cwd: Path, old: str = "a", new: str = "b") -> dict:
    return {
        "session_id": "s",
        "hook_event_name": "PreToolUse",
        "tool_name": "Edit",
        "tool_input": {"file_path": str(path), "old_string": old, "new_string": new},
        "cwd": str(cwd),
    }


@pytest.fixture
def agent(workspace: Path) -> Path:
    repo = init_repo(workspace / "repo", {"notes.md": "n\n", "lib.py": "def f(a):\n    return a\n"})
    other = add_worktree(repo, "other")
    write(other, {"lib.py": "def f(a, b):\n    return a\n"})
    return add_worktree(repo, "agent")


@pytest.fixture(params=["alone", "daemon"])
def mode(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    env = {
        "DRIFTCHECK_DAEMON": "0" if request.param == "alone" else "1",
        "DRIFTCHECK_RUNTIME_DIR": str(tmp_path / "run"),
    }
    yield env


def stop_daemon(agent: Path, env: dict[str, str]) -> None:
    run_cli("daemon", "stop", "--repo", str(agent), cwd=agent, env=env)


def test_an_edit_of_a_fifo_is_allowed_at_once(agent: Path, mode: dict[str, str]) -> None:
    fifo = agent / "pipe.py"
    os.mkfifo(fifo)
    try:
        for _ in range(2):  # the second one through a daemon the first one started
            result, spent = hook(edit(fifo, agent), agent, mode, "--deadline-ms", str(DEADLINE_MS))
            assert result.code == 0 and result.stdout == ""
            assert "not a regular file" in result.stderr
            assert spent < DEADLINE_MS / 1000 + SLACK_S
        # And the daemon (if any) still answers the next, ordinary edit.
        normal = edit(agent / "lib.py", agent, "return a", "return a + 1")
        result, _ = hook(normal, agent, mode, "--deadline-ms", "30000")
        assert result.code == 0 and "DC201" not in result.stderr
    finally:
        stop_daemon(agent, mode)


def test_a_committed_symlink_to_dev_zero_is_not_read(workspace: Path, mode: dict[str, str]) -> None:
    repo = init_repo(workspace / "repo", {"notes.md": "n\n"})
    (repo / "zero.py").symlink_to("/dev/zero")
    commit_all(repo)
    try:
        result, spent = hook(edit(repo / "zero.py", repo), repo, mode, "--deadline-ms", "1500")
        assert result.code == 0 and "not a regular file" in result.stderr
        assert spent < 1.5 + SLACK_S
    finally:
        stop_daemon(repo, mode)


def test_a_multiedit_that_doubles_the_file_forty_times(agent: Path, mode: dict[str, str]) -> None:
    target = agent / "big.py"
    target.write_text("a" * 1000 + "\n")
    edits = [{"old_string": "a", "new_string": "aa", "replace_all": True}] * 40
    payload = {
        "session_id": "s",
        "hook_event_name": "PreToolUse",
        "tool_name": "MultiEdit",
        "tool_input": {"file_path": str(target), "edits": edits},
        "cwd": str(agent),
    }
    try:
        result, spent = hook(payload, agent, mode, "--deadline-ms", str(DEADLINE_MS))
        assert result.code == 0 and "would be larger than" in result.stderr
        assert spent < DEADLINE_MS / 1000 + SLACK_S
    finally:
        stop_daemon(agent, mode)


class FakeDaemon:
    """Listens where the hook looks for its daemon, as the hook's own user, and
    never answers properly: `silent` accepts and waits, `trickle` sends a byte now
    and then, forever."""

    def __init__(self, common_dir: Path, behaviour: str) -> None:
        path = daemon_client.socket_path(common_dir)
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.bind(path)
        self.sock.listen(8)
        self.behaviour = behaviour
        self.stopped = threading.Event()
        self.accepted = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        held = []
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            held.append(conn)
            if self.behaviour == "trickle":
                threading.Thread(target=self._trickle, args=(conn,), daemon=True).start()

    def _trickle(self, conn: socket.socket) -> None:
        while not self.stopped.is_set():
            try:
                conn.sendall(b"1")
            except OSError:
                return
            time.sleep(0.2)

    def close(self) -> None:
        self.stopped.set()
        self.sock.close()


@pytest.mark.parametrize("behaviour", ["silent", "trickle"])
@pytest.mark.parametrize("configured", [False, True])
def test_a_daemon_that_does_not_answer_cannot_hold_the_hook(
    agent: Path, tmp_path: Path, behaviour: str, configured: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole exchange fits in the deadline: the flag's, or `hook-deadline-ms`
    from the configuration when there is no flag (before: 35 s against a silent
    daemon, 70 s against a trickling one, whatever the configuration said)."""
    monkeypatch.setenv("DRIFTCHECK_RUNTIME_DIR", str(tmp_path / "run"))
    env = {"DRIFTCHECK_DAEMON": "1"}
    common = (agent.parent / "repo" / ".git").resolve()
    fake = FakeDaemon(common, behaviour)
    args: tuple[str, ...] = ("--deadline-ms", "800")
    if configured:
        (agent / ".driftcheck.toml").write_text("hook-deadline-ms = 800\n")
        args = ()
    try:
        result, spent = hook(
            edit(agent / "lib.py", agent, "return a", "return 1"), agent, env, *args
        )
    finally:
        fake.close()
    assert fake.accepted == 1
    assert result.code == 0 and result.stdout == ""
    assert result.stderr.strip() == (
        "driftcheck: allowing the edit: the daemon did not answer within the deadline"
    )
    assert spent < 0.8 + SLACK_S
