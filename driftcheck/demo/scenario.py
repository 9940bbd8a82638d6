"""Build a repository with parallel worktrees from a scenario described as data.

One builder serves `driftcheck demo` and the golden fixtures under `fixtures/`, so
both exercise exactly the same kinds of repository state: committed, staged, unstaged
and untracked work in each worktree, a trunk that moved after the worktrees forked,
detached worktrees.

The builder is hermetic: inherited ``GIT_*`` variables are dropped (it works from
inside a git hook), the user's global and system git config are not read, and
identity and dates are fixed, so the same scenario always yields the same commits.
"""

from __future__ import annotations

import os
import subprocess
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Literal

Stage = Literal["committed", "staged", "unstaged", "untracked"]
# Application order inside one worktree: each stage builds on the previous ones.
STAGES: tuple[Stage, ...] = ("committed", "staged", "unstaged", "untracked")
Content = str | bytes

TRUNK = "main"
REPO_DIR = "repo"
BASE_DATE = 1_700_000_000


class ScenarioError(ValueError):
    """A scenario or fixture case that cannot be built as written."""


@dataclass(frozen=True)
class Change:
    """One edit: write `path`, delete `path`, or rename `path` to `to`."""

    op: Literal["write", "delete", "rename"]
    path: str
    stage: Stage
    content: Content | None = None
    to: str | None = None


def write(path: str, content: Content, stage: Stage) -> Change:
    return Change("write", path, stage, content=content)


def delete(path: str, stage: Stage) -> Change:
    return Change("delete", path, stage)


def rename(old: str, new: str, stage: Stage) -> Change:
    return Change("rename", old, stage, to=new)


@dataclass
class Worktree:
    """A linked worktree: `name` is its branch (or, when detached, its folder)."""

    name: str
    changes: list[Change] = field(default_factory=list)
    detached: bool = False
    folder: str = ""

    def __post_init__(self) -> None:
        if not self.folder:
            self.folder = self.name.replace("/", "-")


@dataclass
class Scenario:
    base: Mapping[str, Content]
    worktrees: list[Worktree] = field(default_factory=list)
    # Committed on main after the worktrees forked ("trunk moved"); any stage works.
    trunk: list[Change] = field(default_factory=list)
    description: str = ""
    # Scan options a fixture case asks for.
    only: tuple[str, ...] = ()
    committed_only: bool = False

    def scan_args(self) -> list[str]:
        """The `driftcheck scan` flags this scenario asks for."""
        args: list[str] = []
        if self.only:
            args += ["--only", ",".join(self.only)]
        if self.committed_only:
            args.append("--committed-only")
        return args


# ---------------------------------------------------------------- building


class _Git:
    """git with a scrubbed environment, pinned identity and a commit clock."""

    SETTINGS = (
        "user.name=driftcheck scenario",
        "user.email=scenario@driftcheck.invalid",
        "commit.gpgsign=false",
        "init.defaultBranch=main",
        "core.autocrlf=false",
        "core.fsmonitor=false",
        "gc.auto=0",
        "maintenance.auto=false",
        "advice.detachedHead=false",
        # A global excludes or attributes file would change what `add -A` records.
        f"core.excludesFile={os.devnull}",
        f"core.attributesFile={os.devnull}",
    )
    CONFIG = tuple(arg for setting in SETTINGS for arg in ("-c", setting))

    def __init__(self) -> None:
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        self.env.update(
            GIT_CONFIG_NOSYSTEM="1",
            GIT_CONFIG_GLOBAL=os.devnull,
            GIT_TERMINAL_PROMPT="0",
            # Paths are file names, never globs or pathspec magic.
            GIT_LITERAL_PATHSPECS="1",
            LC_ALL="C",
        )
        self.commits = 0

    def __call__(self, *args: str, cwd: Path) -> str:
        proc = subprocess.run(
            ["git", *self.CONFIG, *args],
            cwd=cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            check=False,
        )
        if proc.returncode != 0:
            err = proc.stderr.decode("utf-8", "replace").strip()
            raise ScenarioError(f"git {' '.join(args[:3])} failed in {cwd}: {err}")
        return proc.stdout.decode("utf-8", "surrogateescape")

    def commit(self, message: str, cwd: Path) -> None:
        # One minute per commit keeps `git log` readable and commit ids reproducible.
        date = f"{BASE_DATE + 60 * self.commits} +0000"
        self.commits += 1
        self.env["GIT_AUTHOR_DATE"] = self.env["GIT_COMMITTER_DATE"] = date
        self("commit", "-q", "--no-verify", "--allow-empty", "-m", message, cwd=cwd)


def build(scenario: Scenario, root: Path) -> Path:
    """Create `root/repo` (main) and one sibling folder per worktree; return the repo."""
    validate(scenario)
    root = Path(root).resolve()
    repo = root / REPO_DIR
    if repo.exists() and any(repo.iterdir()):
        raise ScenarioError(f"{repo} already exists and is not empty")
    root.mkdir(parents=True, exist_ok=True)
    git = _Git()
    # An empty --template keeps sample hooks and info/exclude out of the repository.
    git("init", "-q", "--template=", "-b", TRUNK, str(repo), cwd=root)
    _write_files(repo, scenario.base)
    git("add", "-A", cwd=repo)
    git.commit("base", cwd=repo)
    for wt in scenario.worktrees:
        if wt.detached:
            git("worktree", "add", "-q", "--detach", f"../{wt.folder}", cwd=repo)
        else:
            git("worktree", "add", "-q", "-b", wt.name, f"../{wt.folder}", cwd=repo)
    for wt in scenario.worktrees:
        _apply(git, root / wt.folder, wt.changes, set(scenario.base), label=wt.name)
    _apply(git, repo, scenario.trunk, set(scenario.base), label="trunk")
    return repo


def _apply(git: _Git, cwd: Path, changes: Sequence[Change], tracked: set[str], label: str) -> None:
    """Apply `changes` stage by stage; `tracked` follows what the index knows."""
    for stage in STAGES:
        batch = [c for c in changes if c.stage == stage]
        if not batch:
            continue
        touched: list[str] = []
        new_paths: list[str] = []
        for change in batch:
            for path in (change.path, change.to):
                if path and path not in touched:
                    touched.append(path)
            if change.op == "write":
                if change.path in tracked and stage == "untracked":
                    raise ScenarioError(
                        f"{label}: {change.path} is tracked, so it cannot be 'untracked'"
                    )
                if change.path not in tracked and stage != "untracked":
                    new_paths.append(change.path)
                _write_files(cwd, {change.path: change.content or b""})
            elif change.op == "delete":
                _require_file(cwd, change.path, label)
                (cwd / change.path).unlink()
                tracked.discard(change.path)
            else:
                assert change.to is not None
                _require_file(cwd, change.path, label)
                target = cwd / change.to
                target.parent.mkdir(parents=True, exist_ok=True)
                (cwd / change.path).rename(target)
                tracked.discard(change.path)
                new_paths.append(change.to)
        if stage in ("committed", "staged"):
            git("add", "-A", "--", *touched, cwd=cwd)
            tracked.update(new_paths)
            if stage == "committed":
                git.commit(f"{label}: work in progress", cwd=cwd)
        elif stage == "unstaged" and new_paths:
            # A new file that is "unstaged" is tracked with intent-to-add: git knows
            # the path but none of its content is staged.
            git("add", "--intent-to-add", "--", *new_paths, cwd=cwd)
            tracked.update(new_paths)


def _require_file(cwd: Path, path: str, label: str) -> None:
    if not (cwd / path).is_file():
        raise ScenarioError(f"{label}: cannot delete or rename {path}: no such file")


def _write_files(root: Path, files: Mapping[str, Content]) -> None:
    for rel, content in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        # Bytes, never text mode: no newline translation on any platform.
        target.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)


def validate(scenario: Scenario) -> None:
    """Reject what git would refuse or what would silently build something else."""
    for path in scenario.base:
        _check_path(path, "base")
    folders: set[str] = {REPO_DIR}
    names: set[str] = {TRUNK}
    for wt in scenario.worktrees:
        if wt.folder in folders:
            raise ScenarioError(f"worktree folder {wt.folder!r} is used twice")
        if not wt.detached and wt.name in names:
            raise ScenarioError(f"branch {wt.name!r} is used twice")
        if "/" in wt.folder or wt.folder in ("", ".", ".."):
            raise ScenarioError(f"bad worktree folder {wt.folder!r}")
        folders.add(wt.folder)
        names.add(wt.name)
        _check_changes(wt.changes, wt.name)
    _check_changes(scenario.trunk, "trunk")


def _check_changes(changes: Iterable[Change], label: str) -> None:
    for change in changes:
        if change.stage not in STAGES:
            raise ScenarioError(f"{label}: unknown stage {change.stage!r} for {change.path}")
        if change.op != "write" and change.stage == "untracked":
            raise ScenarioError(f"{label}: a {change.op} of {change.path} cannot be 'untracked'")
        if change.op == "rename" and not change.to:
            raise ScenarioError(f"{label}: rename of {change.path} has no target")
        _check_path(change.path, label)
        if change.to:
            _check_path(change.to, label)


def _check_path(path: str, label: str) -> None:
    pure = PurePosixPath(path)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts or "\\" in path:
        raise ScenarioError(f"{label}: path must be relative and inside the repo: {path!r}")
    if pure.parts[0] == ".git":
        raise ScenarioError(f"{label}: path inside .git: {path!r}")


# ---------------------------------------------------------------- fixture cases

_SKIP_NAMES = frozenset({"__pycache__", ".DS_Store"})


def load_case(path: Path) -> Scenario:
    """Read a fixture case folder (see fixtures/README.md for the format)."""
    path = Path(path)
    try:
        case = tomllib.loads((path / "case.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ScenarioError(f"{path}: cannot read case.toml: {exc}") from exc
    _only_keys(case, {"description", "base", "worktrees", "trunk", "scan"}, f"{path}/case.toml")
    worktrees = []
    for folder, spec in case.get("worktrees", {}).items():
        label = f"{path.name}: worktrees.{folder}"
        _only_keys(spec, {"branch", "detached", "stage", "stages", "delete", "rename"}, label)
        detached = bool(spec.get("detached", False))
        if detached and "branch" in spec:
            raise ScenarioError(f"{label}: a detached worktree has no branch")
        name = folder if detached else spec.get("branch", folder)
        changes = _case_changes(path / "worktrees" / folder, spec, "unstaged", label)
        worktrees.append(Worktree(name=name, changes=changes, detached=detached, folder=folder))
    overlays = path / "worktrees"
    strays = sorted(
        d.name
        for d in (overlays.iterdir() if overlays.is_dir() else ())
        if d.is_dir() and d.name not in case.get("worktrees", {})
    )
    if strays:
        raise ScenarioError(f"{path.name}: worktrees/ folders missing from case.toml: {strays}")
    trunk_spec = case.get("trunk", {})
    _only_keys(trunk_spec, {"stage", "stages", "delete", "rename"}, f"{path.name}: trunk")
    trunk = _case_changes(path / "trunk", trunk_spec, "committed", f"{path.name}: trunk")
    scan = case.get("scan", {})
    _only_keys(scan, {"only", "committed_only"}, f"{path.name}: scan")
    scenario = Scenario(
        base=_read_tree(_base_folder(path, case)),
        worktrees=worktrees,
        trunk=trunk,
        description=str(case.get("description", "")),
        only=tuple(scan.get("only", ())),
        committed_only=bool(scan.get("committed_only", False)),
    )
    validate(scenario)
    return scenario


def _base_folder(path: Path, case: Mapping[str, Any]) -> Path:
    """The case's own `base/`, or the shared one `base = "<name>"` names in
    `fixtures/bases/` (many cases start from the same small project)."""
    shared = case.get("base")
    if shared is None:
        return path / "base"
    folder = path.parent / "bases" / str(shared)
    if (path / "base").exists():
        raise ScenarioError(f"{path.name}: has a base/ folder and names base = {shared!r}")
    if not folder.is_dir() or "/" in str(shared) or str(shared).startswith("."):
        raise ScenarioError(f"{path.name}: no shared base {shared!r} in {path.parent / 'bases'}")
    return folder


def _case_changes(overlay: Path, spec: Mapping[str, Any], default: str, label: str) -> list[Change]:
    """Renames first, then deletions, then the overlay's files (so a renamed file can
    also be edited). A rename takes its stage from its old path, a write from its path."""
    stage_of: dict[str, Any] = dict(spec.get("stages", {}))
    fallback = spec.get("stage", default)
    files = _read_tree(overlay)
    renames: dict[str, str] = dict(spec.get("rename", {}))
    deletes: list[str] = list(spec.get("delete", []))
    unknown = set(stage_of) - set(files) - set(renames) - set(deletes)
    if unknown:
        raise ScenarioError(f"{label}: stages given for unchanged paths: {sorted(unknown)}")
    changes = [rename(old, new, stage_of.get(old, fallback)) for old, new in renames.items()]
    changes += [delete(p, stage_of.get(p, fallback)) for p in deletes]
    changes += [write(p, data, stage_of.get(p, fallback)) for p, data in files.items()]
    return changes


def _read_tree(folder: Path) -> dict[str, Content]:
    """Every file below `folder` as bytes, keyed by its posix relative path."""
    if not folder.is_dir():
        return {}
    files: dict[str, Content] = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_NAMES)
        for name in sorted(filenames):
            if name in _SKIP_NAMES or name.endswith(".pyc"):
                continue
            full = Path(dirpath) / name
            files[full.relative_to(folder).as_posix()] = full.read_bytes()
    return files


def _only_keys(table: Mapping[str, Any], allowed: set[str], label: str) -> None:
    extra = sorted(set(table) - allowed)
    if extra:
        raise ScenarioError(f"{label}: unknown keys {extra} (allowed: {sorted(allowed)})")
