"""`driftcheck install claude|pre-commit`: wire driftcheck into an agent or git.

These are the only commands that write into a repository, and only where the user
asked: `.claude/settings.json`, or the shared git hooks folder. `--dry-run` shows
what would change and writes nothing.
"""

from __future__ import annotations

import difflib
import json
import os
import shlex
import shutil
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from driftcheck.errors import UsageError
from driftcheck.workspace import git

CLAUDE_MATCHER = "Write|Edit|MultiEdit"
CLAUDE_COMMAND = "driftcheck hook claude"
# The digest of the other worktrees, as context when a session starts and with
# every prompt (coordination/digest.py).
CONTEXT_COMMAND = "driftcheck context --hook"
CONTEXT_EVENTS = ("SessionStart", "UserPromptSubmit")
MCP_SERVER = {"command": "driftcheck", "args": ["mcp"]}
SHIM_MARKER = "# installed by driftcheck"
CHAINED_SUFFIX = ".before-driftcheck"


@dataclass
class Planned:
    """One file to write (or, with `move_from`, to move into place), shown as a diff."""

    path: Path
    old: str | None
    new: str
    message: str
    mode: int | None = None
    move_from: Path | None = None

    @property
    def changes(self) -> bool:
        return self.old != self.new or self.move_from is not None

    def diff(self) -> str:
        old = (self.old or "").splitlines(keepends=True)
        new = self.new.splitlines(keepends=True)
        before = str(self.move_from or self.path) if self.old is not None else "/dev/null"
        lines = list(difflib.unified_diff(old, new, before, str(self.path)))
        if self.move_from is not None and not lines:
            lines = [f"rename {self.move_from} -> {self.path}\n"]
        return "".join(line if line.endswith("\n") else line + "\n" for line in lines)

    def apply(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.move_from is not None:
            # A move keeps the file as it is: bytes, mode, or a symlink.
            os.replace(self.move_from, self.path)
            return
        tmp = self.path.with_name(self.path.name + ".driftcheck-tmp")
        tmp.write_text(self.new, encoding="utf-8")
        if self.mode is not None:
            tmp.chmod(self.mode)
        os.replace(tmp, self.path)


def _is_ours(command: object, words: str = "hook claude") -> bool:
    text = str(command or "")
    return "driftcheck" in text and words in text


def _has(entries: list[Any], words: str) -> bool:
    return any(
        isinstance(e, dict)
        and isinstance(e.get("hooks"), list)
        and any(isinstance(h, dict) and _is_ours(h.get("command"), words) for h in e["hooks"])
        for e in entries
    )


def command_line(words: str) -> str:
    """How an agent's hook runs this driftcheck: the bare `driftcheck` when PATH finds
    this very install (a settings file that can be shared), else this interpreter by
    its full path, so a venv that is not on the agent's PATH still answers."""
    if on_path_is_this_install():
        return f"driftcheck {words}"
    return f"{shlex.quote(sys.executable)} -P -m driftcheck {words}"


def on_path_is_this_install() -> bool:
    found = shutil.which("driftcheck")
    return found is not None and Path(found).parent == Path(sys.executable).parent


PINNED_WARNING = (
    "warning: `driftcheck` on PATH is not this install, so the hooks run {python} by "
    "its full path; that path exists on this machine only: keep these files out of "
    "commits, or put driftcheck on the agents' PATH and install again"
)


def plan_claude(root: Path) -> Planned:
    """Merge the PreToolUse entry into `.claude/settings.json`, keeping everything else."""
    path = root / ".claude" / "settings.json"
    try:
        old = path.read_text(encoding="utf-8") if path.is_file() else None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from exc
    try:
        settings: Any = json.loads(old) if old and old.strip() else {}
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path} is not valid JSON ({exc}); fix it first") from exc
    if not isinstance(settings, dict):
        raise UsageError(f"{path} does not hold a JSON object")
    hooks = settings.setdefault("hooks", {})
    if not isinstance(hooks, dict):
        raise UsageError(f"{path}: hooks is not an object")
    added = []
    hook, context = command_line("hook claude"), command_line("context --hook")
    wanted = [("PreToolUse", "hook claude", CLAUDE_MATCHER, hook, 10)]
    wanted += [(event, "context", None, context, 5) for event in CONTEXT_EVENTS]
    for event, words, matcher, command, timeout in wanted:
        entries = hooks.setdefault(event, [])
        if not isinstance(entries, list):
            raise UsageError(f"{path}: hooks.{event} is not a list")
        if _has(entries, words):
            continue
        entry: dict[str, Any] = {"matcher": matcher} if matcher else {}
        entry["hooks"] = [{"type": "command", "command": command, "timeout": timeout}]
        entries.append(entry)
        added.append(event)
    if not added:
        assert old is not None
        return Planned(path, old, old, f"{path}: already installed")
    new = json.dumps(settings, indent=2, ensure_ascii=False) + "\n"
    message = f"{path}: {', '.join(added)} hook(s) added"
    if not on_path_is_this_install():
        message += "\n" + PINNED_WARNING.format(python=sys.executable)
    return Planned(path, old, new, message)


def plan_mcp(root: Path) -> Planned:
    """Register `driftcheck mcp` in the project's `.mcp.json`, keeping other servers."""
    path = root / ".mcp.json"
    try:
        old = path.read_text(encoding="utf-8") if path.is_file() else None
        config: Any = json.loads(old) if old and old.strip() else {}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"cannot use {path} ({exc}); fix it first") from exc
    if not isinstance(config, dict) or not isinstance(config.setdefault("mcpServers", {}), dict):
        raise UsageError(f"{path}: expected an object with an mcpServers object")
    if isinstance(config["mcpServers"].get("driftcheck"), dict):
        assert old is not None
        return Planned(path, old, old, f"{path}: driftcheck MCP server already registered")
    server: dict[str, Any] = dict(MCP_SERVER)
    if not on_path_is_this_install():
        server = {"command": sys.executable, "args": ["-P", "-m", "driftcheck", "mcp"]}
    config["mcpServers"]["driftcheck"] = server
    new = json.dumps(config, indent=2, ensure_ascii=False) + "\n"
    return Planned(path, old, new, f"{path}: driftcheck MCP server registered")


def hooks_dir(root: Path) -> Path:
    """The hooks folder every worktree shares; honours core.hooksPath."""
    args = ["rev-parse", "--path-format=absolute", "--git-path", "hooks"]
    out = git.run_git(args, cwd=root, user_hooks_path=True).stdout
    return Path(out.decode("utf-8", "surrogateescape").rstrip("\n"))


def shim_text(chained: Path | None) -> str:
    """A POSIX shell shim. It fails open: without a working driftcheck it lets the
    commit through. `-P` keeps the worktree's own folders off sys.path."""
    lines = [
        "#!/bin/sh",
        f"{SHIM_MARKER}: judges the staged tree against the other worktrees.",
        "# Skip once with DRIFTCHECK_SKIP=1 git commit ...; remove with: rm this file.",
    ]
    if chained is not None:
        kept = shlex.quote(str(chained))
        lines += [f'if [ -x {kept} ]; then {kept} "$@" || exit $?; fi']
    lines += [
        f"python={shlex.quote(sys.executable)}",
        'if [ -x "$python" ] && "$python" -P -c "import driftcheck.cli" 2>/dev/null; then',
        '  exec "$python" -P -m driftcheck hook pre-commit',
        "elif command -v driftcheck >/dev/null 2>&1; then",
        "  exec driftcheck hook pre-commit",
        "fi",
        'echo "driftcheck: not found; commit allowed" >&2',
        "exit 0",
    ]
    return "\n".join(lines) + "\n"


def _read_hook(path: Path) -> str | None:
    """A hook's text (None when there is none); a broken symlink counts as a hook."""
    if not (path.is_file() or path.is_symlink()):
        return None
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def plan_pre_commit(root: Path, *, force: bool, chain: bool) -> list[Planned]:
    folder = hooks_dir(root)
    target = folder / "pre-commit"
    kept = target.with_name("pre-commit" + CHAINED_SUFFIX)
    old = _read_hook(target)
    mode = stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH
    foreign = old is not None and SHIM_MARKER not in old
    if foreign and chain:
        assert old is not None
        if _read_hook(kept) is not None:
            raise UsageError(
                f"{kept} already exists, so {target} cannot be kept there; "
                "move one of them away first"
            )
        return [
            Planned(kept, old, old, f"{kept}: your hook, kept and run first", move_from=target),
            Planned(target, old, shim_text(kept), f"{target}: driftcheck shim (chains)", mode),
        ]
    if foreign and not force:
        raise UsageError(
            f"{target} already exists and is not driftcheck's; rerun with --chain to "
            "run it first and then driftcheck, or --force to replace it"
        )
    keep_chain = not foreign and _read_hook(kept) is not None
    new = shim_text(kept if keep_chain else None)
    message = "already installed" if old == new else "driftcheck shim written"
    return [Planned(target, old, new, f"{target}: {message}", mode)]
