"""The checkers `--verify` runs: presets for mypy, tsc and go vet, or any argv command.

A checker is run with a private copy of one tree as its working folder and reports
errors as lines of text; each is parsed into (path, line, message). A preset knows
where the worktree's own tool lives (its `.venv`, its `node_modules`) and which exit
codes mean "ran and found errors" rather than "crashed".
"""

from __future__ import annotations

import functools
import re
import shlex
import shutil
import sys
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from driftcheck.errors import DriftcheckError, UsageError
from driftcheck.workspace import git

# `path:line[:col]: message`, the shape most compilers and linters print.
DEFAULT_PATTERN = r"^(?P<path>[^:\s][^:]*?):(?P<line>\d+)(?::(?P<col>\d+))?:\s*(?P<message>.+)$"
# tsc --pretty false: `src/a.ts(3,5): error TS2345: ...`
_TSC_PATTERN = r"^(?P<path>[^(\s][^(]*)\((?P<line>\d+),(?P<col>\d+)\):\s*(?P<message>error .+)$"
# go vet prints `vet: ./a.go:3:2: ...` or `./a.go:3:2: ...` under `# package` headers
_GO_PATTERN = (
    r"^(?:vet: )?(?:\./)?(?P<path>[^:\s]+\.go):(?P<line>\d+)(?::(?P<col>\d+))?:\s*(?P<message>.+)$"
)
# mypy: `a.py:3: error: ... [code]`; notes belong to the error before them
_DUPLICATE = re.compile(r"^(?:\./)?([^:\n]+): error: Duplicate module named", re.M)
_BLOCKING = re.compile(r"^(?:\./)?([^:\n]+\.pyi?)(?::\d+)?(?::\d+)?: error: ", re.M)
_MYPY_PATTERN = (
    r"^(?P<path>[^:\s][^:]*\.pyi?):(?P<line>\d+)(?::(?P<col>\d+))?: error: (?P<message>.+)$"
)


@dataclass(frozen=True)
class CheckError:
    path: str
    line: int
    message: str


@dataclass(frozen=True)
class Checker:
    """What to run in a tree's copy, and how to read what it prints."""

    name: str  # the preset's name or the command as given
    preset: str | None
    pattern: str
    ok_codes: frozenset[int]  # exit codes of a run that worked (errors found or not)
    languages: tuple[str, ...]  # file suffixes whose changes it checks

    def argv(self, worktree: Path | None, copy: Path, cache: Path) -> list[str]:
        """The command for one tree's `copy`, using `worktree`'s environment."""
        if self.preset == "mypy":
            python = _worktree_python(worktree)
            argv = [python, "-m", "mypy", "--no-error-summary", "--no-pretty"]
            argv += ["--show-column-numbers", "--hide-error-context", "--no-color-output"]
            argv += ["--cache-dir", str(cache / "mypy")]
            if _mypy_files_configured(copy):
                return argv
            # The whole tree, each module named by its path from the top (or the
            # project's mypy_path): two `conftest.py` in different folders, or a file
            # under two names, do not stop mypy before it checks anything.
            return [*argv, "--explicit-package-bases", "."]
        if self.preset == "tsc":
            argv = [_worktree_tsc(worktree), "--noEmit", "--pretty", "false"]
            return [*argv, "--incremental", "--tsBuildInfoFile", str(cache / "tsc.tsbuildinfo")]
        if self.preset == "go vet":
            return [_require("go"), "vet", "./..."]
        return shlex.split(self.name)

    def retry_arguments(self, output: str, exit_code: int) -> list[str]:
        """What to add to a run that stopped before checking. mypy stops (exit 2) at a
        module name two files share (two `conftest.py` outside packages) and at a
        file it cannot analyse (test data written to be invalid, as black's is): the
        errors it printed name those files, and leaving them out lets it check the
        rest, as a project's CI does with `exclude`."""
        if self.preset != "mypy" or exit_code != 2:
            return []
        paths = [m.group(1) for m in _DUPLICATE.finditer(output)]
        paths += [m.group(1) for m in _BLOCKING.finditer(output)]
        excluded = []
        for path in dict.fromkeys(paths):
            excluded += ["--exclude", f"^{re.escape(path)}$"]
        return excluded

    def parse(self, output: str) -> list[CheckError]:
        pattern = re.compile(self.pattern)
        found = []
        for raw in output.splitlines():
            matched = pattern.match(raw.strip())
            if matched is None:
                continue
            path = matched.group("path").strip().removeprefix("./")
            message = " ".join(matched.group("message").split())
            found.append(CheckError(path, int(matched.group("line")), message))
        return found


PRESETS: dict[str, Checker] = {
    "mypy": Checker("mypy", "mypy", _MYPY_PATTERN, frozenset({0, 1}), (".py", ".pyi")),
    "tsc": Checker("tsc", "tsc", _TSC_PATTERN, frozenset({0, 1, 2}), (".ts", ".tsx", ".mts")),
    # go vet exits 2 when the package does not type-check; its errors say so
    "go vet": Checker("go vet", "go vet", _GO_PATTERN, frozenset({0, 1, 2}), (".go",)),
}
# `--verify 'go vet ./...'` is the preset too.
_ALIASES = {"go vet ./...": "go vet", "govet": "go vet", "tsc --noEmit": "tsc"}


def checker_for(spec: str, pattern: str | None = None) -> Checker:
    """The checker `--verify SPEC` names: a preset, or an argv command (no shell)."""
    name = " ".join(spec.split())
    preset = PRESETS.get(_ALIASES.get(name, name))
    if preset is not None:
        return preset
    try:
        argv = shlex.split(spec)
    except ValueError as exc:
        raise UsageError(f"--verify {spec!r}: {exc}") from exc
    if not argv:
        raise UsageError("--verify needs a preset (mypy, tsc, go vet) or a command")
    pattern = pattern or DEFAULT_PATTERN
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise UsageError(f"--verify-pattern {pattern!r}: {exc}") from exc
    missing = {"path", "line", "message"} - set(compiled.groupindex)
    if missing:
        raise UsageError(f"--verify-pattern needs the groups {', '.join(sorted(missing))}")
    return Checker(name, None, pattern, frozenset({0, 1}), ())


def require_available(checker: Checker, worktrees: Sequence[Path | None]) -> None:
    """A checker that cannot start is the user's to fix: one line, exit 2."""
    if checker.preset == "mypy":
        python = _worktree_python(next((w for w in worktrees if w is not None), None))
        import subprocess

        probe = subprocess.run(
            [python, "-c", "import mypy"], capture_output=True, timeout=60, check=False
        )
        if probe.returncode != 0:
            raise UsageError(f"--verify mypy: mypy is not installed for {python}")
    elif checker.preset == "tsc":
        _worktree_tsc(next((w for w in worktrees if w is not None), None))
    elif checker.preset == "go vet":
        _require("go")
    else:
        _require(shlex.split(checker.name)[0])


def _require(program: str) -> str:
    found = shutil.which(program)
    if found is None:
        raise UsageError(f"--verify: {program} is not installed or not on PATH")
    return found


def _worktree_python(worktree: Path | None) -> str:
    """The worktree's own interpreter (its ignored `.venv`), else the one running
    driftcheck."""
    candidate = worktree / ".venv" / "bin" / "python" if worktree else None
    if candidate is not None and candidate.exists() and untracked(worktree, ".venv"):
        return str(candidate)
    return sys.executable


def _worktree_tsc(worktree: Path | None) -> str:
    local = worktree / "node_modules" / ".bin" / "tsc" if worktree else None
    if local is not None and local.exists() and untracked(worktree, "node_modules"):
        return str(local)
    return _require("tsc")


@functools.cache
def untracked(worktree: Path | None, folder: str) -> bool:
    """Whether git tracks nothing under `folder`: an environment the user made (and
    git ignores), not programs a repository could carry in and have run."""
    if worktree is None:
        return False
    try:
        listed = git.run_git(["ls-files", "-z", "--", folder], cwd=worktree).stdout
    except DriftcheckError:
        return False
    return not listed


def _mypy_files_configured(copy: Path) -> bool:
    """Whether the tree's own mypy configuration says which files to check."""
    for name in ("mypy.ini", ".mypy.ini", "setup.cfg"):
        path = copy / name
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            if re.search(r"^\[mypy\][^\[]*^files\s*=", text, re.M | re.S):
                return True
    pyproject = copy / "pyproject.toml"
    if pyproject.is_file():
        try:
            table = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            return False
        return bool(table.get("tool", {}).get("mypy", {}).get("files"))
    return False
