"""Hermetic git for every test: pinned identity, HOME, config and template dir."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

# Modules that run daemons, many hooks at once, fuzzers, real code bases, a browser or a
# type-checker: `pytest -m "not slow"` leaves them out for a quick check (README).
SLOW_MODULES = frozenset(
    {
        "test_daemon", "test_daemon_socket", "test_daemon_list", "test_load", "test_mcp",
        "test_fuzz_hooks",
        "test_fuzz_parsers", "test_hardening_bugs", "test_hardening_corpus",
        "test_hardening_deadline", "test_hardening_readonly", "test_real_codebase",
        "test_real_typescript", "test_judge_equivalence", "test_session_equivalence",
        "test_merge_equivalence", "test_plan_html", "test_plan_generated", "test_verify",
        "test_fixtures", "test_ci_workflow", "test_daemon_watches", "test_ci_sharded",
    }
)  # fmt: skip


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.stem in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def hermetic_git(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    home = tmp_path_factory.mktemp("home")
    template = tmp_path_factory.mktemp("git-template")
    config = home / ".gitconfig"
    config.write_text(
        "[init]\n\tdefaultBranch = main\n"
        "[advice]\n\tdetachedHead = false\n"
        '[protocol "file"]\n\tallow = always\n'
    )
    for name in list(__import__("os").environ):
        if name.startswith("GIT_"):
            monkeypatch.delenv(name, raising=False)
    env = {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "GIT_CONFIG_GLOBAL": str(config),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_TEMPLATE_DIR": str(template),
        "GIT_AUTHOR_NAME": "Test Author",
        "GIT_AUTHOR_EMAIL": "author@example.invalid",
        "GIT_COMMITTER_NAME": "Test Committer",
        "GIT_COMMITTER_EMAIL": "committer@example.invalid",
        "GIT_AUTHOR_DATE": "1700000000 +0000",
        "GIT_COMMITTER_DATE": "1700000000 +0000",
        "NO_COLOR": "1",
        # Hooks judge in their own process unless a test asks for the daemon.
        "DRIFTCHECK_DAEMON": "0",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    yield


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A folder to hold a repository and its sibling worktrees."""
    root = tmp_path / "ws"
    root.mkdir()
    return root
