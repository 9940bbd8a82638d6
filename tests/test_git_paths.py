"""An edit of git's own files answers alike in the hook's process and through the daemon.

`.git/config`, a linked worktree's `.git` file and a nested repository's `.git/` are
not worktree files: the edit is allowed with one line saying so, never judged, and
the daemon (which finds the worktree from the folder without asking git) used to
allow it silently.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import run_cli, snapshot_repo
from test_daemon import ON, both, started
from test_hook_claude import Shop, build_shop, payload

from driftcheck.engine.judge import relative_to_root
from driftcheck.errors import UsageError


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Shop]:
    built = build_shop(tmp_path / "shop")
    yield built
    run_cli("daemon", "stop", "--repo", str(built.repo), cwd=built.repo, env=ON)


def _inside_git(shop: Shop) -> dict[str, Path]:
    return {
        "config": shop.repo / ".git" / "config",
        "a hook": shop.repo / ".git" / "hooks" / "pre-commit",
        "the worktree's .git file": shop.agent / ".git",
        "a nested repository": shop.agent / "vendor" / ".git" / "config",
    }


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the daemon needs Linux")
def test_git_files_answer_alike_alone_and_through_the_daemon(shop: Shop) -> None:
    started(shop)
    before = snapshot_repo(shop.repo)
    for name, path in _inside_git(shop).items():
        data = payload("Write", {"file_path": str(path), "content": "[core]\n"}, shop.agent)
        answer = both(data, shop)  # the daemon answered, and as the process alone does
        assert answer.code == 0 and answer.stdout == "", name
        assert (
            answer.stderr.strip() == f"driftcheck: allowing the edit: not inside a worktree: {path}"
        )
    assert snapshot_repo(shop.repo) == before


def test_one_check_refuses_every_git_path(tmp_path: Path) -> None:
    root = tmp_path.resolve()
    for inside in (".git/config", ".git", "sub/.git/HEAD", ".GIT/config"):
        with pytest.raises(UsageError, match="not inside a worktree"):
            relative_to_root(root / inside, root)
    assert relative_to_root(root / ".github" / "ci.yml", root) == ".github/ci.yml"
    assert relative_to_root(root / "a.git" / "x", root) == "a.git/x"
