"""`driftcheck hook pre-commit` behind a real `git commit`, installed with `install pre-commit`.

The staged tree of the committing worktree is judged against every other participant:
findings at or above fail-on stop the commit; DRIFTCHECK_SKIP=1 and --warn-only let it
through; anything that goes wrong inside lets it through too.
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest
from helpers import git, run_cli, snapshot_repo
from test_hook_claude import CLEAN_REPORT, STALE_REPORT, Shop, build_shop

REPORT = "orders/report.py"


@pytest.fixture
def shop(tmp_path: Path) -> Shop:
    return build_shop(tmp_path / "shop")


@pytest.fixture
def installed(shop: Shop) -> Shop:
    result = run_cli("install", "pre-commit", cwd=shop.agent)
    assert result.code == 0, result.stderr
    return shop


def commit(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "commit", "-q", "-m", "work", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
    )


def head(cwd: Path) -> str:
    return git("rev-parse", "HEAD", cwd=cwd)


def stage(cwd: Path, content: str, path: str = REPORT) -> None:
    (cwd / path).write_text(content)
    git("add", path, cwd=cwd)


def hooks_dir(cwd: Path) -> Path:
    return Path(git("rev-parse", "--path-format=absolute", "--git-path", "hooks", cwd=cwd))


def test_clean_commit_passes_and_drifting_commit_stops(installed: Shop) -> None:
    agent = installed.agent
    stage(agent, CLEAN_REPORT)
    first = head(agent)
    done = commit(agent)
    assert done.returncode == 0, done.stderr
    assert head(agent) != first

    stage(agent, STALE_REPORT)
    second = head(agent)
    stopped = commit(agent)
    assert stopped.returncode != 0
    assert "DC204" in stopped.stderr and "feat/pricing" in stopped.stderr
    assert head(agent) == second
    assert git("diff", "--cached", "--name-only", cwd=agent) == REPORT  # still staged


def test_commit_all_judges_the_temporary_index(installed: Shop) -> None:
    agent = installed.agent
    (agent / REPORT).write_text(STALE_REPORT)  # not staged: only `commit -a` sees it
    before = head(agent)
    stopped = commit(agent, "-a")
    assert stopped.returncode != 0
    assert "DC204" in stopped.stderr
    assert head(agent) == before
    assert git("diff", "--cached", "--name-only", cwd=agent) == ""
    # The same unstaged change does not stop a commit of something else.
    stage(agent, "# notes\n", "docs/extra.md")
    assert commit(agent).returncode == 0
    (agent / REPORT).write_text(CLEAN_REPORT)
    assert commit(agent, "-a").returncode == 0


def test_commit_of_named_paths(installed: Shop) -> None:
    agent = installed.agent
    (agent / REPORT).write_text(STALE_REPORT)
    assert commit(agent, "--", REPORT).returncode != 0
    (agent / REPORT).write_text(CLEAN_REPORT)
    assert commit(agent, "--", REPORT).returncode == 0


def test_skip_variable_lets_the_commit_through(installed: Shop) -> None:
    stage(installed.agent, STALE_REPORT)
    done = commit(installed.agent, env={"DRIFTCHECK_SKIP": "1"})
    assert done.returncode == 0, done.stderr
    assert "DRIFTCHECK_SKIP" in done.stderr


def test_warn_only_and_fail_on(shop: Shop) -> None:
    stage(shop.agent, STALE_REPORT)
    before = snapshot_repo(shop.repo)
    stopped = run_cli("hook", "pre-commit", cwd=shop.agent)
    assert stopped.code == 1
    assert "DC204" in stopped.stderr
    warned = run_cli("hook", "pre-commit", "--warn-only", cwd=shop.agent)
    assert warned.code == 0
    assert "DC204" in warned.stderr
    assert run_cli("hook", "pre-commit", "--fail-on", "never", cwd=shop.agent).code == 0
    assert snapshot_repo(shop.repo) == before


def test_clean_staged_tree_is_quiet(shop: Shop) -> None:
    stage(shop.agent, CLEAN_REPORT)
    result = run_cli("hook", "pre-commit", cwd=shop.agent)
    assert (result.code, result.stdout, result.stderr) == (0, "", "")


def test_outside_a_repository_the_commit_is_allowed(tmp_path: Path) -> None:
    result = run_cli("hook", "pre-commit", cwd=tmp_path)
    assert result.code == 0
    assert len(result.stderr.splitlines()) == 1


# --- installing next to other hooks --------------------------------------------------


def foreign_hook(folder: Path, log: Path, code: int = 0) -> Path:
    hook = folder / "pre-commit"
    hook.parent.mkdir(parents=True, exist_ok=True)
    hook.write_text(f'#!/bin/sh\necho "foreign ran" >> "{log}"\nexit {code}\n')
    hook.chmod(hook.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return hook


def test_foreign_hook_is_never_overwritten_without_force(shop: Shop, tmp_path: Path) -> None:
    hook = foreign_hook(hooks_dir(shop.agent), tmp_path / "log")
    original = hook.read_bytes()
    refused = run_cli("install", "pre-commit", cwd=shop.agent)
    assert refused.code == 2
    assert len(refused.stderr.strip().splitlines()) == 1
    assert "--chain" in refused.stderr and "--force" in refused.stderr
    assert hook.read_bytes() == original
    forced = run_cli("install", "pre-commit", "--force", cwd=shop.agent)
    assert forced.code == 0, forced.stderr
    assert "installed by driftcheck" in hook.read_text()


def test_chain_runs_both_hooks(shop: Shop, tmp_path: Path) -> None:
    log = tmp_path / "log"
    hook = foreign_hook(hooks_dir(shop.agent), log)
    original = hook.read_bytes()
    result = run_cli("install", "pre-commit", "--chain", cwd=shop.agent)
    assert result.code == 0, result.stderr
    kept = hook.with_name("pre-commit.before-driftcheck")
    assert kept.read_bytes() == original and kept.stat().st_mode & stat.S_IXUSR
    # Installing again keeps the chain as it is.
    assert run_cli("install", "pre-commit", cwd=shop.agent).code == 0
    assert run_cli("install", "pre-commit", "--chain", cwd=shop.agent).code == 0
    assert kept.read_bytes() == original

    stage(shop.agent, CLEAN_REPORT)
    assert commit(shop.agent).returncode == 0
    assert log.read_text().count("foreign ran") == 1
    stage(shop.agent, STALE_REPORT)
    stopped = commit(shop.agent)
    assert stopped.returncode != 0 and "DC204" in stopped.stderr
    assert log.read_text().count("foreign ran") == 2


def test_a_failing_chained_hook_stops_the_commit_first(shop: Shop, tmp_path: Path) -> None:
    log = tmp_path / "log"
    foreign_hook(hooks_dir(shop.agent), log, code=1)
    assert run_cli("install", "pre-commit", "--chain", cwd=shop.agent).code == 0
    stage(shop.agent, CLEAN_REPORT)
    stopped = commit(shop.agent)
    assert stopped.returncode != 0
    assert "foreign ran" in log.read_text()
    assert "driftcheck" not in stopped.stderr


def test_core_hooks_path_is_honoured(shop: Shop, tmp_path: Path) -> None:
    shared = tmp_path / "shared-hooks"
    git("config", "core.hooksPath", str(shared), cwd=shop.repo)
    result = run_cli("install", "pre-commit", cwd=shop.agent)
    assert result.code == 0, result.stderr
    assert (shared / "pre-commit").is_file()
    assert not (shop.repo / ".git" / "hooks" / "pre-commit").exists()
    stage(shop.agent, STALE_REPORT)
    assert commit(shop.agent).returncode != 0


def test_every_worktree_shares_the_shim(installed: Shop) -> None:
    # Installed from the agent's worktree, it guards feat/pricing's commits too.
    pricing, agent = installed.pricing, installed.agent
    assert hooks_dir(pricing) == hooks_dir(agent)
    notes = (agent / "docs/notes.md").read_text()
    (agent / "docs/notes.md").write_text(notes.replace("note 5\n", "agent note\n"))
    git("add", "docs/notes.md", cwd=pricing)  # pricing's own line 5
    stopped = commit(pricing)
    assert stopped.returncode != 0 and "DC101" in stopped.stderr
    (agent / "docs/notes.md").write_text(notes)
    assert commit(pricing).returncode == 0


def test_shim_fails_open_without_a_working_driftcheck(installed: Shop, tmp_path: Path) -> None:
    shim = hooks_dir(installed.agent) / "pre-commit"
    lines = shim.read_text().splitlines()
    broken = [f"python={tmp_path / 'no-python'}" if x.startswith("python=") else x for x in lines]
    shim.write_text("\n".join(broken) + "\n")
    stage(installed.agent, STALE_REPORT)
    env = {**os.environ, "PATH": str(tmp_path)}  # no driftcheck on PATH either
    proc = subprocess.run(
        ["/bin/sh", str(shim)], cwd=installed.agent, env=env, capture_output=True, check=False
    )
    assert proc.returncode == 0
    assert len(proc.stderr.splitlines()) == 1


def test_drift_the_head_already_has_does_not_stop_an_unrelated_commit(installed: Shop) -> None:
    """The stale call is committed already (with DRIFTCHECK_SKIP); a later commit of
    an unrelated file used to be stopped by it. It is drift, but not this commit's:
    the commit goes ahead, and the hook says the drift predates it."""
    agent = installed.agent
    stage(agent, STALE_REPORT)
    assert commit(agent, env={"DRIFTCHECK_SKIP": "1"}).returncode == 0
    stage(agent, "# notes\n", "docs/extra.md")
    before = head(agent)
    done = commit(agent)
    assert done.returncode == 0, done.stderr
    assert head(agent) != before
    assert "predate this commit" in done.stderr
    assert "DC204" not in done.stderr
