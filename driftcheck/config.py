"""`[tool.driftcheck]` in pyproject.toml, or `.driftcheck.toml` (which wins).

Configuration is data only: nothing in it is imported or executed. Every key, its
default, and which worktree's file applies: docs/configuration.md.

    [tool.driftcheck]
    trunk = "main"                     # default for --trunk
    fail-on = "error"                  # default for --fail-on
    disable = ["duplicate"]            # finding kinds to turn off
    ignore-paths = ["docs/**", "*.md"] # fnmatch patterns; findings there are dropped
    strict = false                     # agent hooks deny instead of ask
    hook-deadline-ms = 1500
    daemon = true                      # agent hooks start a daemon (see daemon/server.py)
    daemon-idle-minutes = 30           # it exits after this long without a request
    claims = "warn"                    # "strict": an edit to a claimed symbol is an error
    git-filters = false                # let git run the repository's filter drivers (LFS)

    [tool.driftcheck.severity]         # by kind or by code
    duplicate = "info"
    DC303 = "warning"

    [tool.driftcheck.duplicate]
    min-statements = 3                 # smaller bodies are never duplicates
    similarity = 0.85                  # 0..1, near-duplicate threshold
"""

from __future__ import annotations

import fnmatch
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from driftcheck.errors import UsageError
from driftcheck.model import KINDS, PRE_EDIT_KINDS, VERIFY_KINDS, Finding, Severity

_SEVERITIES = {s.value for s in Severity}
# Files `driftcheck install` writes into each worktree, and driftcheck's own config:
# two worktrees whose settings differ are not drift anyone needs to hear about.
OWN_FILES = frozenset(
    {".claude/settings.json", ".claude/settings.local.json", ".mcp.json", ".driftcheck.toml"}
)


@dataclass(frozen=True)
class Config:
    trunk: str | None = None
    fail_on: str | None = None
    disable: frozenset[str] = frozenset()
    ignore_paths: tuple[str, ...] = ()
    severity: dict[str, Severity] = field(default_factory=dict)
    strict: bool = False
    hook_deadline_ms: int = 1500
    daemon: bool = True
    daemon_idle_minutes: float = 30.0
    claims: str = "warn"
    git_filters: bool = False
    duplicate_min_statements: int = 3
    duplicate_similarity: float = 0.85
    ignore_ids: frozenset[str] = frozenset()  # finding ids (JSON `id`) to drop
    # `scan --verify` checkers run on every pair's merge (presets or argv commands)
    verify: tuple[str, ...] = ()
    verify_pattern: str | None = None
    source: str | None = None

    def apply(self, finding: Finding) -> Finding | None:
        """The finding as configured, or None when configuration silences it."""
        if finding.kind in self.disable or finding.id in self.ignore_ids:
            return None
        if finding.path and self.path_ignored(finding.path):
            return None
        severity = self.severity.get(finding.code) or self.severity.get(finding.kind)
        if severity and severity != finding.severity:
            return replace(finding, severity=severity)
        return finding

    def path_ignored(self, path: str) -> bool:
        if path in OWN_FILES:
            return True  # driftcheck's own settings, which `install` writes per worktree
        return any(fnmatch.fnmatchcase(path, pattern) for pattern in self.ignore_paths)


def load_config(folder: Path | None) -> Config:
    """The configuration for a run from the worktree root `folder`: the main
    worktree's when it has one, so every worktree and hook of a repository judges by
    the same rules whichever folder it runs from; else `folder`'s own; else defaults."""
    if folder is None:
        return Config()
    main = main_worktree(folder)
    for root in dict.fromkeys((main, folder)):
        found = _config_in(root)
        if found is not None:
            return found
    return Config()


def main_worktree(folder: Path) -> Path:
    """The repository's main worktree, read from `folder/.git` without running git
    (hooks read configuration on every edit); `folder` itself when it is the main
    worktree or the layout is not the usual one (a bare repository's worktrees)."""
    dot_git = folder / ".git"
    try:
        text = dot_git.read_text(encoding="utf-8").strip() if dot_git.is_file() else ""
    except (OSError, UnicodeDecodeError):
        return folder
    if not text.startswith("gitdir:"):
        return folder
    gitdir = (folder / text.removeprefix("gitdir:").strip()).resolve()
    common = gitdir.parent.parent  # <common dir>/worktrees/<name>
    if gitdir.parent.name == "worktrees" and common.name == ".git" and common.is_dir():
        return common.parent
    return folder


def _config_in(root: Path) -> Config | None:
    dedicated = root / ".driftcheck.toml"
    if dedicated.is_file():
        table = _read(dedicated)
        if "tool" in table:
            raise UsageError(
                f"{dedicated}: a [tool...] table here is not read; put the keys of "
                "[tool.driftcheck] at the top level of .driftcheck.toml"
            )
        return _parse(table, str(dedicated))
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        table = _read(pyproject).get("tool", {}).get("driftcheck")
        if isinstance(table, dict):
            return _parse(table, str(pyproject))
    return None


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"cannot read configuration {path}: {exc}") from exc


# Every key and table [tool.driftcheck] knows (docs/configuration.md describes each).
KEYS = frozenset(
    {
        "trunk", "fail-on", "disable", "ignore-paths", "ignore-ids", "strict",
        "hook-deadline-ms", "daemon", "daemon-idle-minutes", "claims", "severity",
        "duplicate", "verify", "verify-pattern", "git-filters",
    }
)  # fmt: skip
_DUPLICATE_KEYS = frozenset({"min-statements", "similarity"})


def _parse(table: dict[str, Any], source: str) -> Config:
    def bad(key: str, why: str) -> UsageError:
        return UsageError(f"{source}: [tool.driftcheck] {key}: {why}")

    unknown = sorted(set(table) - KEYS)
    if unknown:
        raise bad(unknown[0], f"unknown key (known: {', '.join(sorted(KEYS))})")
    duplicate_table = table.get("duplicate") or {}
    if not isinstance(duplicate_table, dict):
        raise bad("duplicate", "expected a table")
    unknown = sorted(set(duplicate_table) - _DUPLICATE_KEYS)
    if unknown:
        raise bad(f"duplicate.{unknown[0]}", "unknown key (known: min-statements, similarity)")
    if not isinstance(table.get("severity") or {}, dict):
        raise bad("severity", "expected a table of kind or code = severity")
    ids = table.get("ignore-ids", [])
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise bad("ignore-ids", "expected a list of finding ids")

    fail_on = table.get("fail-on")
    if fail_on is not None and fail_on not in (*_SEVERITIES, "never"):
        raise bad("fail-on", f"expected error, warning, info or never, got {fail_on!r}")
    disable = table.get("disable", [])
    kinds = (*KINDS, *PRE_EDIT_KINDS, *VERIFY_KINDS)
    if not isinstance(disable, list) or not set(disable) <= set(kinds):
        raise bad("disable", f"expected a list of kinds from {', '.join(kinds)}")
    claims = table.get("claims", "warn")
    if claims not in ("warn", "strict"):
        raise bad("claims", f"expected warn or strict, got {claims!r}")
    ignore = table.get("ignore-paths", [])
    if not isinstance(ignore, list) or not all(isinstance(p, str) for p in ignore):
        raise bad("ignore-paths", "expected a list of glob patterns")
    severity: dict[str, Severity] = {}
    for key, value in (table.get("severity") or {}).items():
        if value not in _SEVERITIES:
            raise bad(f"severity.{key}", f"expected error, warning or info, got {value!r}")
        severity[key] = Severity(value)
    duplicate = table.get("duplicate") or {}
    try:
        min_statements = int(duplicate.get("min-statements", 3))
        similarity = float(duplicate.get("similarity", 0.85))
        deadline = int(table.get("hook-deadline-ms", 1500))
        idle = float(table.get("daemon-idle-minutes", 30))
    except (TypeError, ValueError) as exc:
        raise bad("a numeric setting", f"expected a number ({exc})") from exc
    if not idle > 0:
        raise bad("daemon-idle-minutes", "expected a positive number")
    if not 0.0 < similarity <= 1.0:
        raise bad("duplicate.similarity", "expected a number in (0, 1]")
    verify = table.get("verify", [])
    if isinstance(verify, str):
        verify = [verify]
    if not isinstance(verify, list) or not all(isinstance(v, str) and v.strip() for v in verify):
        raise bad("verify", "expected a list of checkers (mypy, tsc, go vet, or a command)")
    pattern = table.get("verify-pattern")
    if pattern is not None and not isinstance(pattern, str):
        raise bad("verify-pattern", "expected a regular expression")
    trunk = table.get("trunk")
    git_filters = table.get("git-filters", False)
    if not isinstance(git_filters, bool):
        raise bad("git-filters", f"expected true or false, got {git_filters!r}")
    return Config(
        ignore_ids=frozenset(ids),
        verify=tuple(verify),
        verify_pattern=pattern,
        trunk=trunk if isinstance(trunk, str) else None,
        fail_on=fail_on,
        disable=frozenset(disable),
        ignore_paths=tuple(ignore),
        severity=severity,
        strict=bool(table.get("strict", False)),
        hook_deadline_ms=deadline,
        daemon=bool(table.get("daemon", True)),
        daemon_idle_minutes=idle,
        claims=claims,
        git_filters=git_filters,
        duplicate_min_statements=min_statements,
        duplicate_similarity=similarity,
        source=source,
    )
