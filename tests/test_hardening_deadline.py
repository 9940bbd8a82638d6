"""Deadlines and interruptions: whatever cuts a run short, driftcheck answers promptly,
leaves no temp folder in TMPDIR and no process behind (git, or what git started).

A clean filter that sleeps makes git itself hang, which is the hard case: the wait is
inside a git subprocess (or a worker thread's one), not in Python.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from corpus.harness import claude_write, codex_patch
from helpers import (
    add_worktree,
    command_lines,
    commit_all,
    eventually,
    git,
    init_repo,
    processes_with,
    run_cli,
    write,
)

SLEEP = 30  # seconds the stuck filter would hold git


@pytest.fixture
def tmpdir_env(tmp_path: Path) -> dict[str, str]:
    folder = tmp_path / "tmpdir"
    folder.mkdir()
    # The stuck filter hangs git only where driftcheck lets git run filters.
    return {"TMPDIR": str(folder), "DRIFTCHECK_GIT_FILTERS": "1"}


def assert_nothing_left(env: dict[str, str]) -> None:
    assert list(Path(env["TMPDIR"]).iterdir()) == []
    deadline = time.monotonic() + 5  # a killed process may take a moment to be reaped
    while processes_with(f"TMPDIR={env['TMPDIR']}") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert processes_with(f"TMPDIR={env['TMPDIR']}") == []


@pytest.fixture
def stuck(workspace: Path) -> Path:
    """Worktree `a` has an edited .bin file whose clean filter hangs for SLEEP seconds."""
    script = workspace / "stuck-filter.sh"
    script.write_text(f"#!/bin/sh\nsleep {SLEEP}\ncat\n")
    script.chmod(0o755)
    repo = init_repo(
        workspace / "repo",
        {".gitattributes": "*.bin filter=stuck\n", "blob.bin": "x\n", "notes.md": "n\n"},
    )
    git("config", "filter.stuck.clean", str(script), cwd=repo)
    a = add_worktree(repo, "a")
    write(a, {"blob.bin": "edited\n"})
    add_worktree(repo, "agent")
    return repo


def start(
    args: list[str], cwd: Path, env: dict[str, str], data: str | None = None
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "driftcheck", *args],
        cwd=cwd,
        env={**os.environ, "PYTHONSAFEPATH": "1", **env},
        stdin=subprocess.PIPE if data is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


@pytest.mark.parametrize(
    ("agent", "deadline"), [("claude", ["--deadline-ms", "300"]), ("claude", []), ("codex", [])]
)
def test_hook_deadline_while_git_hangs(
    stuck: Path, workspace: Path, tmpdir_env: dict[str, str], agent: str, deadline: list[str]
) -> None:
    wt = workspace / "agent"
    if agent == "claude":
        data = claude_write(wt / "notes.md", "agent\n", wt)
    else:
        data = codex_patch("*** Update File: notes.md\n@@\n-n\n+agent\n", wt)
    started = time.monotonic()
    proc = start(["hook", agent, *deadline], wt, tmpdir_env, data)
    out, err = proc.communicate(data.encode(), timeout=SLEEP + 30)
    elapsed = time.monotonic() - started
    assert proc.returncode == 0 and out == b""
    lines = err.decode().splitlines()
    assert len(lines) == 1 and "deadline" in lines[0], lines
    assert elapsed < 10, f"the hook answered after {elapsed:.1f} s"
    assert_nothing_left(tmpdir_env)


def _interrupt(
    args: list[str], cwd: Path, env: dict[str, str], sig: int, data: str | None = None
) -> tuple[int, str, float]:
    """Start driftcheck, wait until it has made its temp folder, then send `sig`."""
    proc = start(args, cwd, env, data)
    if data is not None:
        assert proc.stdin is not None
        proc.stdin.write(data.encode())
        proc.stdin.flush()
        proc.stdin.close()
        proc.stdin = None
    folder = Path(env["TMPDIR"])
    give_up = time.monotonic() + 30
    while not any(folder.iterdir()) and proc.poll() is None and time.monotonic() < give_up:
        time.sleep(0.01)
    time.sleep(0.3)  # well into the capture: git and the filter are running
    assert proc.poll() is None, "finished before it could be interrupted"
    sent = time.monotonic()
    proc.send_signal(sig)
    _out, err = proc.communicate(timeout=SLEEP + 30)
    return proc.returncode, err.decode(), time.monotonic() - sent


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_scan_interrupted(
    stuck: Path, tmpdir_env: dict[str, str], sig: signal.Signals, code: int
) -> None:
    returncode, err, after = _interrupt(["scan"], stuck, tmpdir_env, sig)
    assert returncode == code, err
    assert "Traceback" not in err and len(err.split()) and len(err.strip().splitlines()) == 1
    assert after < 10, f"exited {after:.1f} s after the signal"
    assert_nothing_left(tmpdir_env)


def test_ctrl_c_in_a_hook_still_allows(
    stuck: Path, workspace: Path, tmpdir_env: dict[str, str]
) -> None:
    wt = workspace / "agent"
    data = claude_write(wt / "notes.md", "agent\n", wt)
    args = ["hook", "claude", "--deadline-ms", "60000"]
    returncode, err, after = _interrupt(args, wt, tmpdir_env, signal.SIGINT, data)
    assert returncode == 0 and "Traceback" not in err, err
    assert after < 10
    assert_nothing_left(tmpdir_env)


def test_big_repository_scan_interrupted(workspace: Path, tmpdir_env: dict[str, str]) -> None:
    """No filter: a repository big enough that the scan is still running."""
    files: dict[str, str | bytes] = {
        f"pkg{d}/mod{n}.py": "".join(f"def f{n}_{k}(x):\n    return x + {k}\n" for k in range(40))
        for d in range(10)
        for n in range(60)
    }
    repo = init_repo(workspace / "repo", files)
    for name in ("a", "b", "c"):
        wt = add_worktree(repo, name)
        write(
            wt,
            {
                p: text.replace("return x", f"return {name} * x")
                for p, text in files.items()
                if isinstance(text, str)
            },
        )
        commit_all(wt, name)
    git("status", cwd=repo)
    returncode, err, _after = _interrupt(["scan", "--no-cache"], repo, tmpdir_env, signal.SIGINT)
    assert returncode == 130, err
    assert_nothing_left(tmpdir_env)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("command", ["hook", "scan"])
def test_sigkill_leaves_no_git_and_the_next_run_removes_its_folders(
    stuck: Path, workspace: Path, tmpdir_env: dict[str, str], command: str
) -> None:
    """SIGKILL runs no clean-up: git, the filter git started and the temp folders used
    to stay. git's groups now go with the process, and the next run sweeps the
    folders of owners that are gone."""
    marker = f"TMPDIR={tmpdir_env['TMPDIR']}"
    wt = workspace / "agent"
    if command == "hook":
        data: str | None = claude_write(wt / "notes.md", "agent\n", wt)
        proc = start(["hook", "claude", "--deadline-ms", "60000"], wt, tmpdir_env, data)
        assert proc.stdin is not None
        proc.stdin.write(data.encode())
        proc.stdin.close()
        proc.stdin = None
    else:
        proc = start(["scan"], stuck, tmpdir_env)

    def filter_running() -> bool:
        return any(c.startswith(f"sleep {SLEEP}") for c in command_lines(processes_with(marker)))

    eventually(filter_running, 30, "the stuck filter never started")
    assert proc.poll() is None
    proc.kill()
    proc.communicate(timeout=30)
    left = Path(tmpdir_env["TMPDIR"])
    assert any(left.iterdir()), "the killed run made no temp folder: nothing is tested"
    deadline = time.monotonic() + 10  # what the kill left notices it on its own
    while processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not processes_with(marker), f"left: {command_lines(processes_with(marker), stat=True)}"
    nothing = run_cli("hook", "claude", cwd=wt, input="{}", env=tmpdir_env)
    assert nothing.code == 0, nothing.stderr
    assert_nothing_left(tmpdir_env)


def test_temp_folders_go_on_error_exits(stuck: Path, workspace: Path, tmp_path: Path) -> None:
    """Input errors and internal errors after the scratch space exists clean up too."""
    env = {"TMPDIR": str(tmp_path / "t")}
    Path(env["TMPDIR"]).mkdir()
    git("config", "--unset", "filter.stuck.clean", cwd=stuck)
    wt = workspace / "agent"
    assert run_cli("scan", "--trunk", "no-such-ref", cwd=stuck, env=env).code == 2
    below = run_cli("check", "notes.md/x", "--content-file", "-", cwd=wt, input="x", env=env)
    assert below.code == 3, below.stderr
    bad = json.dumps(
        {"tool_name": "Write", "tool_input": {"file_path": str(wt / "notes.md/x"), "content": "x"}}
    )
    hooked = run_cli("hook", "claude", cwd=wt, input=bad, env=env)
    assert hooked.code == 0 and len(hooked.stderr.splitlines()) == 1
    assert run_cli("hook", "pre-commit", cwd=wt, env=env).code == 0
    assert_nothing_left(env)


def test_a_deadline_that_python_wraps_is_still_a_deadline(
    monkeypatch: pytest.MonkeyPatch, workspace: Path
) -> None:
    """A deadline that fires while a class is created (a lazy import under load) comes
    out as Python's RuntimeError("Error calling __set_name__ ..."): the hook must say
    it ran out of time, not that it failed."""
    from driftcheck.deadline import caused_by_deadline, deadline
    from driftcheck.engine import judge
    from driftcheck.integrations import agent_hook

    class Slow:
        def __set_name__(self, owner: type, name: str) -> None:
            time.sleep(5)  # the alarm goes off in here

    with pytest.raises(RuntimeError) as wrapped, deadline(0.05):
        type("Late", (), {"field": Slow()})
    assert caused_by_deadline(wrapped.value)

    def judge_while_importing(*_args: object, **_kwargs: object) -> None:
        type("Late", (), {"field": Slow()})

    repo = init_repo(workspace / "repo", {"a.py": "x = 1\n"})
    monkeypatch.setattr(judge, "judge", judge_while_importing)
    raw = claude_write(repo / "a.py", "x = 2\n", repo).encode()
    started = time.monotonic()
    answer = agent_hook.run("claude", raw, strict=None, deadline_ms=200)
    assert time.monotonic() - started < 3
    assert answer.stdout is None
    assert len(answer.stderr) == 1 and "deadline reached" in answer.stderr[0], answer.stderr
