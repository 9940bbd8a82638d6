"""Check one state (a tree) with a checker, in a private copy, once per tree.

The copy is written from git's objects into driftcheck's own folder (no checkout, no
filter runs, nothing in a worktree changes). The worktree's ignored dependency
folders are linked in, read-only in effect: the checker sees the environment the
worktree sees without a copy of it. Each worker slot keeps one copy folder and one
checker cache, so a checker's incremental cache carries over from state to state.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from threading import Lock

from driftcheck.store.cache import Cache
from driftcheck.store.codec import Codec, Invalid, pack_plain, register, unpack_plain
from driftcheck.verify.checkers import Checker, CheckError, untracked
from driftcheck.workspace import git

# Folders a checker needs from the worktree but that git does not track.
DEPENDENCY_FOLDERS = (".venv", "node_modules")
NAMESPACE = "verify"
_TIMEOUT_S = 900
_BATCH = 2000  # blobs read per git call
_RETRIES = 40  # runs of one state, each leaving out the files mypy stopped at


@dataclass(frozen=True)
class State:
    """A tree to check, with files put in place of its own: git's merge with each
    conflicted file as the left side has it, so the rest can still be checked."""

    tree: str
    overrides: tuple[tuple[str, str | None], ...] = ()  # path -> blob id (None: absent)

    @property
    def key(self) -> str:
        if not self.overrides:
            return self.tree
        spelled = "\0".join(f"{path}\0{oid or ''}" for path, oid in self.overrides)
        return f"{self.tree}+{hashlib.sha1(spelled.encode()).hexdigest()}"


@dataclass(frozen=True)
class StateResult:
    """What the checker said about one tree: its errors, or why it could not run."""

    errors: tuple[CheckError, ...]
    failure: str | None = None  # the checker crashed on this state


class StateChecker:
    """Checks trees with one checker. Safe to call from several threads: each call
    gets its own slot (copy folder and checker cache)."""

    def __init__(self, checker: Checker, repo: git.RepoInfo, scratch: git.Scratch) -> None:
        self.checker, self.repo, self.scratch = checker, repo, scratch
        self.root = repo.cache_dir / "verify"
        self.runs = 0  # checker runs made (cached states are not run)
        self._lock = Lock()

    def check(self, state: State, worktree: Path | None, slot: int) -> StateResult:
        with self._lock:
            self.runs += 1
        return self._run(state, worktree, slot)

    def _run(self, state: State, worktree: Path | None, slot: int) -> StateResult:
        copy = self.root / f"work-{slot}"
        checker_cache = self.root / f"cache-{slot}"
        checker_cache.mkdir(parents=True, exist_ok=True)
        self._write_tree(state, copy)
        _link_dependencies(worktree, copy)
        argv = [*self.checker.argv(worktree, copy, checker_cache)]  # never a shell string
        for _attempt in range(_RETRIES):
            try:
                proc = subprocess.run(
                    argv,
                    cwd=copy,
                    capture_output=True,
                    timeout=_TIMEOUT_S,
                    check=False,
                    env={**os.environ, "NO_COLOR": "1"},
                )
            except (OSError, subprocess.TimeoutExpired) as exc:
                return StateResult((), f"{self.checker.name} did not run: {exc}")
            said = (proc.stdout + proc.stderr).decode("utf-8", "replace")
            more = self.checker.retry_arguments(said, proc.returncode)
            if proc.returncode in self.checker.ok_codes or not more or more[-1] in argv:
                break
            cut = len(argv) - (argv[-1] == ".")  # options go before the files to check
            argv = [*argv[:cut], *more, *argv[cut:]]
        output = (proc.stdout + b"\n" + proc.stderr).decode("utf-8", "replace")
        errors = tuple(self.checker.parse(output))
        if proc.returncode not in self.checker.ok_codes or (proc.returncode and not errors):
            last = next((x for x in reversed(output.strip().splitlines()) if x.strip()), "")
            return StateResult((), f"{self.checker.name} exited {proc.returncode}: {last[:200]}")
        return StateResult(errors)

    def _write_tree(self, state: State, copy: Path) -> None:
        """The state's regular files under `copy`, straight from git's objects."""
        if copy.exists():
            shutil.rmtree(copy)
        copy.mkdir(parents=True)
        env = self.scratch.env
        cwd = str(self.repo.common_dir)
        listing: dict[str, str | None] = dict(git.ls_tree(state.tree, cwd=cwd, env=env))
        listing.update(state.overrides)
        items = sorted((path, oid) for path, oid in listing.items() if oid is not None)
        for start in range(0, len(items), _BATCH):
            chunk = items[start : start + _BATCH]
            blobs = git.read_blobs([oid for _path, oid in chunk], cwd=cwd, env=env)
            for path, oid in chunk:
                target = copy / path
                if ".." in Path(path).parts or target.is_symlink():
                    continue  # never write outside the copy
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(blobs.get(oid, b""))


def cached(cache: Cache, checker: Checker, keys: list[str]) -> dict[str, StateResult]:
    """The states (by `State.key`) checked by an earlier run: keyed by tree ids,
    results never go stale. Read in the caller's thread, as the cache's connection
    wants."""
    stored = cache.get_many(NAMESPACE, [_cache_key(checker, key) for key in keys])
    found = {}
    for key in keys:
        result = stored.get(_cache_key(checker, key))
        if isinstance(result, StateResult):
            found[key] = result
    return found


def remember(cache: Cache, checker: Checker, results: dict[str, StateResult]) -> None:
    """Keep the states a checker ran through; a crash is not kept (it may pass later)."""
    for key, result in results.items():
        if result.failure is None:
            cache.put(NAMESPACE, _cache_key(checker, key), _encode(result))


def _cache_key(checker: Checker, state_key: str) -> str:
    return f"{checker.name}\0{state_key}"


def _link_dependencies(worktree: Path | None, copy: Path) -> None:
    if worktree is None:
        return
    for name in DEPENDENCY_FOLDERS:
        source = worktree / name
        if source.is_dir() and not (copy / name).exists() and untracked(worktree, name):
            (copy / name).symlink_to(source, target_is_directory=True)


def _encode(result: StateResult) -> list[list[object]]:
    return [[e.path, e.line, e.message] for e in result.errors]


def _unpack(blob: bytes) -> StateResult:
    decoded = _decode(unpack_plain(blob))
    if decoded is None:
        raise Invalid("expected a checker's errors")
    return decoded


def _decode(stored: object) -> StateResult | None:
    """A cached state's errors; anything malformed is a miss."""
    if not isinstance(stored, list | tuple):
        return None
    errors = []
    for item in stored:
        if not (isinstance(item, list | tuple) and len(item) == 3):
            return None
        path, line, message = item
        if not (isinstance(path, str) and isinstance(line, int) and isinstance(message, str)):
            return None
        errors.append(CheckError(path, line, message))
    return StateResult(tuple(errors))


register(NAMESPACE, Codec(pack_plain, _unpack))
