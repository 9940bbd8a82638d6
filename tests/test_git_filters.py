"""No filter driver from the repository's config runs unless driftcheck is told to.

`filter.<driver>.clean` / `.process` in `.git/config`, or in a file it includes
(`includeIf` too), would run whenever git hashes a worktree file: during `scan`,
`check` and the hooks. By default driftcheck hashes the raw file instead;
`git-filters = true` in `[tool.driftcheck]` (or `DRIFTCHECK_GIT_FILTERS=1`) lets
git run them, as `git add` would.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
from corpus.harness import claude_write
from helpers import add_worktree, commit_all, git, init_repo, run_cli, snapshot_repo, write

BASE = {".gitattributes": "*.py filter=trap\n", "shop.py": "def total(a):\n    return a\n"}


def _trapped(workspace: Path, extra: dict[str, str], *, how: str) -> tuple[Path, Path, Path]:
    """Worktrees whose .py files git would clean through a driver that leaves a marker."""
    marker = workspace / "ran"
    repo = init_repo(workspace / "repo", {**BASE, **extra})
    a = add_worktree(repo, "a")
    write(a, {"shop.py": "def total(a, b):\n    return a\n"})
    commit_all(a)
    write(a, {"shop.py": "def total(a, b):\n    return a + b\n", "new.py": "X = 1\n"})
    agent = add_worktree(repo, "agent")
    write(agent, {"use.py": "from shop import total\n\ntotal(1)\n"})
    command = f"touch '{marker}'; cat"
    if how == "config":
        git("config", "filter.trap.clean", command, cwd=repo)
    elif how == "process":
        git("config", "filter.trap.process", f"touch '{marker}'", cwd=repo)
        git("config", "filter.trap.required", "true", cwd=repo)
    else:  # a file the config includes where the git dir matches
        included = workspace / "included.cfg"
        included.write_text(f'[filter "trap"]\n\tclean = {command}\n\trequired = true\n')
        git("config", f"includeIf.gitdir:{workspace}/.path", str(included), cwd=repo)
    marker.unlink(missing_ok=True)
    return repo, agent, marker


def _every_entry_point(repo: Path, agent: Path) -> None:
    scan = run_cli("scan", "--format", "json", cwd=repo)
    assert scan.code in (0, 1), scan.stderr
    assert run_cli("scan", "--no-cache", cwd=repo).code in (0, 1)
    payload = claude_write(agent / "shop.py", "def total(a, c):\n    return c\n", agent)
    answer = run_cli("hook", "claude", "--deadline-ms", "60000", cwd=agent, input=payload)
    assert answer.code == 0 and "Traceback" not in answer.stderr, answer.stderr
    check = run_cli("check", "use.py", "--content-file", "-", cwd=agent, input="total(2)\n")
    assert check.code in (0, 1), check.stderr


@pytest.mark.parametrize("how", ["config", "process", "includeIf"])
def test_no_configured_filter_runs_by_default(workspace: Path, how: str) -> None:
    repo, agent, marker = _trapped(workspace, {}, how=how)
    before = snapshot_repo(repo)
    _every_entry_point(repo, agent)
    assert not marker.exists()
    assert snapshot_repo(repo) == before
    # The raw file is hashed: a's edit is still seen (a stale caller of total).
    found = run_cli("scan", "--format", "json", cwd=repo).json()["findings"]
    assert any(f["kind"] == "stale-caller" for f in found), found


def test_the_option_lets_git_run_them(workspace: Path) -> None:
    option = {"pyproject.toml": "[tool.driftcheck]\ngit-filters = true\n"}
    repo, _agent, marker = _trapped(workspace, option, how="config")
    assert run_cli("scan", cwd=repo).code in (0, 1)
    assert marker.exists()
    marker.unlink()
    # The environment wins over the file, either way.
    assert run_cli("scan", "--no-cache", cwd=repo, env={"DRIFTCHECK_GIT_FILTERS": "0"}).code == 1
    assert not marker.exists()


def test_a_bad_option_value_is_a_usage_error(workspace: Path) -> None:
    repo = init_repo(
        workspace / "repo", {"pyproject.toml": '[tool.driftcheck]\ngit-filters = "yes"\n'}
    )
    result = run_cli("scan", cwd=repo)
    assert result.code == 2 and "git-filters" in result.stderr and "Traceback" not in result.stderr


def test_driver_names_are_read_whole() -> None:
    from driftcheck.workspace.filters import drivers_in

    listing = b"filter.lfs.clean\ngit-lfs clean -- %f\0filter.a.b=c.process\nx\0filter.x\n\0"
    assert drivers_in(listing) == {"lfs", "a.b=c"}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the daemon needs Linux")
def test_the_daemon_runs_none_after_a_plain_edit(workspace: Path) -> None:
    repo, agent, marker = _trapped(workspace, {}, how="config")
    on = {"DRIFTCHECK_DAEMON": "1"}
    try:
        assert run_cli("daemon", "start", "--repo", str(repo), cwd=repo, env=on).code == 0
        payload = claude_write(agent / "use.py", "from shop import total\n\ntotal(2)\n", agent)
        for n in range(3):  # edits it sees, captures, and a hook it answers after each
            write(workspace / "a", {"shop.py": f"def total(a, b):\n    return a + b + {n}\n"})
            time.sleep(0.5)
            answer = run_cli("hook", "claude", cwd=agent, input=payload, env=on)
            assert answer.code == 0, answer.stderr
        status = run_cli("daemon", "status", "--repo", str(repo), cwd=repo, env=on).json()
        assert status["requests"] >= 3  # the daemon, not a fallback, answered
    finally:
        run_cli("daemon", "stop", "--repo", str(repo), cwd=repo, env=on)
    assert not marker.exists()
