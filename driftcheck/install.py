"""`driftcheck install claude|pre-commit`: wire driftcheck into an agent or git.

These are the only commands that write into a repository, and only where the user
asked: `.claude/settings.json`, or the shared git hooks folder. `--dry-run` shows
what would change and writes nothing.
"""

from __future__ import annotations

import difflib
import json
import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from driftcheck import git
from driftcheck.errors import UsageError

CLAUDE_MATCHER = "Write|Edit|MultiEdit"
CLAUDE_COMMAND = "driftcheck hook claude"
SHIM_MARKER = "# installed by driftcheck"
CHAINED_SUFFIX = ".before-driftcheck"


@dataclass
class Planned:
    path: Path
    old: str | None
    new: str
    message: str
    mode: int | None = None

    @property
    def changes(self) -> bool:
        return self.old != self.new

    def diff(self) -> str:
        old = (self.old or "").splitlines(keepends=True)
        new = self.new.splitlines(keepends=True)
        label = str(self.path)
        return "".join(
            difflib.unified_diff(old, new, f"a/{label}" if self.old else "/dev/null", f"b/{label}")
        )

    def apply(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".driftcheck-tmp")
        tmp.write_text(self.new, encoding="utf-8")
        if self.mode is not None:
            tmp.chmod(self.mode)
        os.replace(tmp, self.path)


def plan_claude(root: Path) -> Planned:
    """Merge the PreToolUse entry into `.claude/settings.json`, keeping everything else."""
    path = root / ".claude" / "settings.json"
    old = path.read_text(encoding="utf-8") if path.is_file() else None
    try:
        settings: Any = json.loads(old) if old and old.strip() else {}
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path} is not valid JSON ({exc}); fix it first") from exc
    if not isinstance(settings, dict):
        raise UsageError(f"{path} does not hold a JSON object")
    hooks = settings.setdefault("hooks", {})
    entries = hooks.setdefault("PreToolUse", []) if isinstance(hooks, dict) else None
    if not isinstance(entries, list):
        raise UsageError(f"{path}: hooks.PreToolUse is not a list")
    present = any(
        isinstance(e, dict)
        and any(
            isinstance(h, dict) and str(h.get("command", "")).startswith(CLAUDE_COMMAND)
            for h in e.get("hooks", []) or []
        )
        for e in entries
    )
    if not present:
        entries.append(
            {
                "matcher": CLAUDE_MATCHER,
                "hooks": [{"type": "command", "command": CLAUDE_COMMAND, "timeout": 10}],
            }
        )
    new = json.dumps(settings, indent=2) + "\n"
    if present:
        new = old or new
    message = "already installed" if present else "PreToolUse hook added"
    return Planned(path, old, new, f"{path}: {message}")


def hooks_dir(root: Path) -> Path:
    """The hooks folder every worktree shares; honours core.hooksPath."""
    out = git.git_out(["rev-parse", "--path-format=absolute", "--git-path", "hooks"], cwd=root)
    return Path(out)


def shim_text(chained: Path | None) -> str:
    python = sys.executable
    lines = [
        "#!/bin/sh",
        f"{SHIM_MARKER}: judges the staged tree against the other worktrees.",
        "# Skip once with DRIFTCHECK_SKIP=1 git commit ...; remove with: rm this file.",
    ]
    if chained is not None:
        lines += [f'"{chained}" "$@" || exit $?']
    lines += [
        f'if [ -x "{python}" ]; then',
        f'  exec "{python}" -m driftcheck hook pre-commit',
        "elif command -v driftcheck >/dev/null 2>&1; then",
        "  exec driftcheck hook pre-commit",
        "fi",
        'echo "driftcheck: not found; commit allowed" >&2',
        "exit 0",
    ]
    return "\n".join(lines) + "\n"


def plan_pre_commit(root: Path, *, force: bool, chain: bool) -> list[Planned]:
    folder = hooks_dir(root)
    target = folder / "pre-commit"
    old = target.read_text(encoding="utf-8", errors="replace") if target.is_file() else None
    mode = stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH
    if old is not None and SHIM_MARKER not in old and not force:
        if not chain:
            raise UsageError(
                f"{target} already exists and is not driftcheck's; rerun with --chain to "
                "run it first and then driftcheck, or --force to replace it"
            )
        kept = target.with_name("pre-commit" + CHAINED_SUFFIX)
        return [
            Planned(kept, None, old, f"{kept}: your hook, kept and run first", mode),
            Planned(target, old, shim_text(kept), f"{target}: driftcheck shim (chains)", mode),
        ]
    chained = target.with_name("pre-commit" + CHAINED_SUFFIX)
    keep_chain = old is not None and SHIM_MARKER in old and chained.is_file()
    new = shim_text(chained if keep_chain else None)
    message = "already installed" if old == new else "driftcheck shim written"
    return [Planned(target, old, new, f"{target}: {message}", mode)]
