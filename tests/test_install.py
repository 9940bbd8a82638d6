"""`driftcheck install claude|pre-commit`: merge, never clobber; `--dry-run` writes nothing.

Also checks the ready-made configurations under hooks/ against what install writes.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers import git, init_repo, run_cli, snapshot_repo

ROOT = Path(__file__).resolve().parent.parent
READY = ROOT / "hooks"
# PATH as an agent set up per the README has it: this install's `driftcheck` on it.
ON_PATH = {"PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])}


@pytest.fixture
def repo(workspace: Path) -> Path:
    return init_repo(workspace / "repo", {"a.py": "x = 1\n"})


def settings_of(repo: Path) -> Any:
    return json.loads((repo / ".claude" / "settings.json").read_text())


def our_entries(settings: Any) -> list[Any]:
    return [
        entry
        for entry in settings["hooks"]["PreToolUse"]
        if any("driftcheck hook claude" in h.get("command", "") for h in entry["hooks"])
    ]


def one_line_error(result: Any) -> None:
    assert result.code == 2, (result.code, result.stderr)
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr


# --- install claude -----------------------------------------------------------------


def test_a_driftcheck_not_on_path_is_pinned_with_a_warning(repo: Path, tmp_path: Path) -> None:
    """Installed from a venv the agent's PATH does not have: the bare command would
    fail under Claude Code unnoticed, so the hooks and the MCP server run this
    interpreter by its full path, and install says why that path is machine-local."""
    bare_path = {"PATH": "/usr/bin:/bin"}
    result = run_cli("install", "claude", cwd=repo, env=bare_path)
    assert result.code == 0, result.stderr
    assert "warning: `driftcheck` on PATH is not this install" in result.stderr
    hooks = settings_of(repo)["hooks"]
    command = hooks["PreToolUse"][0]["hooks"][0]["command"]
    assert command.startswith(sys.executable) and command.endswith("-m driftcheck hook claude")
    server = json.loads((repo / ".mcp.json").read_text())["mcpServers"]["driftcheck"]
    assert server == {"command": sys.executable, "args": ["-P", "-m", "driftcheck", "mcp"]}
    # the pinned command really answers a hook, with the agent's bare PATH
    payload = json.dumps({"hook_event_name": "PreToolUse", "tool_name": "Read", "tool_input": {}})
    proc = subprocess.run(
        command, shell=True, input=payload.encode(), capture_output=True, cwd=repo,
        env={**os.environ, **bare_path}, check=False, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr


def test_fresh_install_writes_the_ready_made_entry(repo: Path) -> None:
    result = run_cli("install", "claude", cwd=repo, env=ON_PATH)
    assert result.code == 0, result.stderr
    settings = settings_of(repo)
    (entry,) = our_entries(settings)
    assert entry["matcher"] == "Write|Edit|MultiEdit"
    assert entry["hooks"][0]["type"] == "command"
    assert settings == json.loads((READY / "claude" / "settings.json").read_text())


def test_existing_keys_are_kept(repo: Path) -> None:
    existing = {
        "permissions": {"allow": ["Bash(npm test)"]},
        "model": "some-model",
        "hooks": {
            "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "x"}]}],
            "Stop": [{"hooks": [{"type": "command", "command": "y"}]}],
        },
    }
    (repo / ".claude").mkdir()
    (repo / ".claude" / "settings.json").write_text(json.dumps(existing))
    assert run_cli("install", "claude", cwd=repo, env=ON_PATH).code == 0
    settings = settings_of(repo)
    assert settings["permissions"] == existing["permissions"]
    assert settings["model"] == "some-model"
    assert settings["hooks"]["Stop"] == existing["hooks"]["Stop"]
    assert settings["hooks"]["PreToolUse"][0] == existing["hooks"]["PreToolUse"][0]
    assert len(our_entries(settings)) == 1


def test_second_install_changes_nothing(repo: Path) -> None:
    assert run_cli("install", "claude", cwd=repo, env=ON_PATH).code == 0
    path = repo / ".claude" / "settings.json"
    first = path.read_bytes()
    again = run_cli("install", "claude", cwd=repo, env=ON_PATH)
    assert again.code == 0
    assert path.read_bytes() == first
    dry = run_cli("install", "claude", "--dry-run", cwd=repo)
    assert dry.code == 0 and "---" not in dry.stdout


def test_an_existing_entry_with_another_spelling_counts(repo: Path) -> None:
    command = "/opt/venv/bin/driftcheck hook claude --strict"
    entry = {"matcher": "Edit", "hooks": [{"type": "command", "command": command}]}
    (repo / ".claude").mkdir()
    path = repo / ".claude" / "settings.json"
    path.write_text(json.dumps({"hooks": {"PreToolUse": [entry]}}))
    assert run_cli("install", "claude", cwd=repo, env=ON_PATH).code == 0
    settings = settings_of(repo)
    assert settings["hooks"]["PreToolUse"] == [entry]  # kept, not doubled
    # The digest hooks are added beside it, once.
    assert run_cli("install", "claude", cwd=repo, env=ON_PATH).code == 0
    for event in ("SessionStart", "UserPromptSubmit"):
        (added,) = settings_of(repo)["hooks"][event]
        assert added["hooks"][0]["command"] == "driftcheck context --hook"


def test_install_registers_the_mcp_server_and_keeps_others(repo: Path) -> None:
    path = repo / ".mcp.json"
    path.write_text(json.dumps({"mcpServers": {"other": {"command": "x"}}}))
    assert run_cli("install", "claude", cwd=repo, env=ON_PATH).code == 0
    servers = json.loads(path.read_text())["mcpServers"]
    assert servers["other"] == {"command": "x"}
    assert (
        servers["driftcheck"]
        == json.loads((READY / "claude" / "mcp.json").read_text())["mcpServers"]["driftcheck"]
    )
    first = path.read_bytes()
    assert run_cli("install", "claude", cwd=repo, env=ON_PATH).code == 0
    assert path.read_bytes() == first
    path.write_text("{broken")
    one_line_error(run_cli("install", "claude", cwd=repo, env=ON_PATH))


def test_dry_run_prints_a_diff_and_writes_nothing(repo: Path) -> None:
    before = snapshot_repo(repo)
    result = run_cli("install", "claude", "--dry-run", cwd=repo)
    assert result.code == 0, result.stderr
    assert "+++" in result.stdout and "driftcheck hook claude" in result.stdout
    assert not (repo / ".claude").exists()
    assert snapshot_repo(repo) == before


def test_dry_run_over_existing_settings_shows_only_additions(repo: Path) -> None:
    (repo / ".claude").mkdir()
    path = repo / ".claude" / "settings.json"
    path.write_text(json.dumps({"model": "m"}, indent=2) + "\n")
    before = path.read_bytes()
    result = run_cli("install", "claude", "--dry-run", cwd=repo)
    assert result.code == 0
    removed = [
        line for line in result.stdout.splitlines() if line.startswith("-") and line[:3] != "---"
    ]
    assert all(line.strip() in ('-  "model": "m"',) for line in removed)  # only re-punctuated
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    "content",
    ["{not json", "[]", '{"hooks": []}', '{"hooks": {"PreToolUse": {}}}', "\xff"],
)
def test_unusable_settings_are_one_line_errors(repo: Path, content: str) -> None:
    (repo / ".claude").mkdir()
    path = repo / ".claude" / "settings.json"
    path.write_bytes(content.encode("latin-1"))
    one_line_error(run_cli("install", "claude", cwd=repo, env=ON_PATH))
    assert path.read_bytes() == content.encode("latin-1")


def test_install_outside_a_repository(tmp_path: Path) -> None:
    one_line_error(run_cli("install", "claude", cwd=tmp_path))
    one_line_error(run_cli("install", "pre-commit", cwd=tmp_path))


# --- install pre-commit (the commit behaviour is in test_hook_pre_commit.py) ----------


def hook_path(repo: Path) -> Path:
    return Path(git("rev-parse", "--path-format=absolute", "--git-path", "hooks", cwd=repo))


def test_pre_commit_dry_run_writes_nothing(repo: Path) -> None:
    before = snapshot_repo(repo)
    result = run_cli("install", "pre-commit", "--dry-run", cwd=repo)
    assert result.code == 0, result.stderr
    assert "+++" in result.stdout and "hook pre-commit" in result.stdout
    assert snapshot_repo(repo) == before
    assert not (hook_path(repo) / "pre-commit").exists()


def test_pre_commit_install_is_idempotent_and_executable(repo: Path) -> None:
    assert run_cli("install", "pre-commit", cwd=repo).code == 0
    shim = hook_path(repo) / "pre-commit"
    first = shim.read_bytes()
    assert shim.stat().st_mode & stat.S_IXUSR
    assert run_cli("install", "pre-commit", cwd=repo).code == 0
    assert shim.read_bytes() == first
    assert sorted(p.name for p in shim.parent.iterdir()) == ["pre-commit"]


def test_foreign_hook_dry_run_chain_writes_nothing(repo: Path) -> None:
    shim = hook_path(repo) / "pre-commit"
    shim.parent.mkdir(parents=True, exist_ok=True)
    shim.write_text("#!/bin/sh\nexit 0\n")
    before = snapshot_repo(repo)
    result = run_cli("install", "pre-commit", "--chain", "--dry-run", cwd=repo)
    assert result.code == 0, result.stderr
    assert snapshot_repo(repo) == before


# --- the ready-made configurations --------------------------------------------------


def test_ready_made_claude_settings() -> None:
    settings = json.loads((READY / "claude" / "settings.json").read_text())
    (entry,) = settings["hooks"]["PreToolUse"]
    assert set(entry["matcher"].split("|")) == {"Write", "Edit", "MultiEdit"}
    (command,) = entry["hooks"]
    assert command["type"] == "command" and command["command"] == "driftcheck hook claude"


def test_ready_made_codex_hooks() -> None:
    settings = json.loads((READY / "codex" / "hooks.json").read_text())
    (entry,) = settings["hooks"]["PreToolUse"]
    assert "apply_patch" in entry["matcher"].split("|")
    (command,) = entry["hooks"]
    assert command["type"] == "command" and command["command"] == "driftcheck hook codex"


def test_ready_made_git_shim(tmp_path: Path) -> None:
    shim = READY / "git" / "pre-commit"
    assert shim.stat().st_mode & stat.S_IXUSR
    text = shim.read_text()
    assert text.startswith("#!/bin/sh\n") and "# installed by driftcheck" in text
    subprocess.run(["sh", "-n", str(shim)], check=True)
    # Without driftcheck on PATH it lets the commit through.
    env = {**os.environ, "PATH": str(tmp_path)}
    proc = subprocess.run(["/bin/sh", str(shim)], env=env, capture_output=True, check=False)
    assert proc.returncode == 0 and len(proc.stderr.splitlines()) == 1
