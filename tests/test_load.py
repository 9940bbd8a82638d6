"""Under load: 16 agent hooks at once on one repository with a cold cache, and a cache
file that is garbage or cut short. Every hook answers as a single run does (or, under
the default deadline, fails open), nothing deadlocks, and the cache stays usable."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from corpus.harness import claude_write, run_main
from helpers import add_worktree, commit_all, git, init_repo, run_cli, write

HOOKS = 16
LIB = "def total(items: list[int]) -> int:\n    return sum(items)\n"
LIB_CHANGED = "def total(items: list[int], tax: float) -> float:\n    return sum(items) * tax\n"
REPORT = "from lib import total\n\n\ndef report(items: list[int]) -> str:\n"
REPORT += "    return f'{total(items)}'\n"


@pytest.fixture
def repo(workspace: Path) -> Path:
    """Worktree `a` changes `total`'s signature; the agent proposes a stale call to it."""
    files: dict[str, str | bytes] = {
        "lib.py": LIB,
        "notes.md": "".join(f"n{i}\n" for i in range(20)),
    }
    files.update(
        {f"pkg/m{i}.py": f"def helper{i}(x: int) -> int:\n    return x + {i}\n" for i in range(30)}
    )
    repo = init_repo(workspace / "repo", files)
    a = add_worktree(repo, "a")
    write(a, {"lib.py": LIB_CHANGED})
    commit_all(a, "a changes total")
    add_worktree(repo, "agent")
    return repo


def proposal(workspace: Path) -> str:
    agent = workspace / "agent"
    return claude_write(agent / "report.py", REPORT, agent)


def start_hooks(cwd: Path, data: str, count: int, *args: str) -> list[subprocess.Popen[bytes]]:
    """`count` hook processes started back to back, each reading `data` from a file."""
    env = {**os.environ, "PYTHONSAFEPATH": "1"}
    command = [sys.executable, "-m", "driftcheck", "hook", "claude", *args]
    payload = cwd.parent / "payload.json"
    payload.write_text(data)
    procs = []
    for _ in range(count):
        with payload.open("rb") as stdin:
            procs.append(
                subprocess.Popen(
                    command,
                    cwd=cwd,
                    env=env,
                    stdin=stdin,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                )
            )
    return procs


def finish(procs: list[subprocess.Popen[bytes]], timeout: float) -> list[tuple[int, str, str]]:
    results = []
    try:
        for proc in procs:
            out, err = proc.communicate(timeout=timeout)
            results.append((proc.returncode, out.decode(), err.decode()))
    except subprocess.TimeoutExpired:
        for proc in procs:
            proc.kill()
            proc.wait()
        pytest.fail("a hook never finished: deadlock or runaway")
    return results


def decision(stdout: str) -> tuple[str | None, str]:
    output = json.loads(stdout)["hookSpecificOutput"]
    return output.get("permissionDecision"), output["additionalContext"]


def assert_cache_healthy(repo: Path) -> None:
    info = run_cli("cache", "info", cwd=repo)
    assert info.code == 0, info.stderr
    details = json.loads(info.stdout)
    assert "error" not in details and details["entries"], details
    with (repo / ".git" / "driftcheck" / "cache.sqlite3").open("rb") as handle:
        assert handle.read(16) == b"SQLite format 3\x00"


def test_sixteen_hooks_at_once_with_a_cold_cache(repo: Path, workspace: Path) -> None:
    data = proposal(workspace)
    single = run_main(
        "hook", "claude", "--deadline-ms", "60000", cwd=workspace / "agent", input=data
    )
    expected = decision(single.stdout)
    assert expected[0] == "ask" and "stale-caller" in expected[1], single.stdout

    import shutil

    shutil.rmtree(repo / ".git" / "driftcheck")
    procs = start_hooks(workspace / "agent", data, HOOKS, "--deadline-ms", "60000")
    for code, out, err in finish(procs, timeout=240):
        assert code == 0 and "Traceback" not in err, err
        assert decision(out) == expected, (out, err)
    assert_cache_healthy(repo)
    after = run_cli("scan", "--format", "json", cwd=repo)
    assert after.code == 0, after.stderr  # nothing in the worktrees drifts yet


def test_sixteen_hooks_at_once_under_the_default_deadline(repo: Path, workspace: Path) -> None:
    import shutil

    data = proposal(workspace)
    shutil.rmtree(repo / ".git" / "driftcheck", ignore_errors=True)
    procs = start_hooks(workspace / "agent", data, HOOKS)
    for code, out, err in finish(procs, timeout=240):
        assert code == 0 and "Traceback" not in err, err
        assert len(err.splitlines()) <= 1, err
        if out:
            assert decision(out)[0] == "ask", out
        else:  # ran out of time on a busy machine: the edit is allowed, and it says so
            assert "deadline" in err, err
    assert run_cli("cache", "info", cwd=repo).code == 0
    assert run_cli("scan", cwd=repo).code == 0


@pytest.mark.parametrize("damage", ["garbage", "truncated", "garbage-wal", "empty"])
def test_damaged_cache_is_rebuilt(repo: Path, workspace: Path, damage: str) -> None:
    warm = run_cli("scan", "--format", "json", cwd=repo)
    assert warm.code == 0, warm.stderr
    agent = workspace / "agent"
    git("status", cwd=agent)
    cache = repo / ".git" / "driftcheck" / "cache.sqlite3"
    assert cache.is_file()
    if damage == "garbage":
        cache.write_bytes(os.urandom(4096) * 8)
    elif damage == "truncated":
        data = cache.read_bytes()
        cache.write_bytes(data[: max(100, len(data) // 3)])
    elif damage == "garbage-wal":
        Path(f"{cache}-wal").write_bytes(b"not a wal file" * 500)
    else:
        cache.write_bytes(b"")

    again = run_cli("scan", "--format", "json", cwd=repo)
    assert again.code == 0, again.stderr
    assert again.json()["findings"] == warm.json()["findings"]
    hooked = run_main(
        "hook", "claude", "--deadline-ms", "60000", cwd=agent, input=proposal(workspace)
    )
    assert decision(hooked.stdout)[0] == "ask", hooked.stderr
    assert_cache_healthy(repo)
