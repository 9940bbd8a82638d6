"""Shared test helpers: real git repositories, the CLI as a subprocess, repo hashing."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CACHE_DIR_NAME = "driftcheck"


def git(*args: str, cwd: Path | str, check: bool = True, input: bytes | None = None) -> str:
    """Run git the way a user would (the hermetic env comes from conftest)."""
    proc = subprocess.run(
        ["git", *args], cwd=str(cwd), capture_output=True, input=input, check=False
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"git {' '.join(args)} failed ({proc.returncode}): {proc.stderr.decode()}"
        )
    return proc.stdout.decode("utf-8", "surrogateescape").strip()


def eventually(check: Callable[[], Any], seconds: float, what: str, every: float = 0.05) -> Any:
    """The first true value `check()` returns within `seconds`; AssertionError(`what`)
    when there is none."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(every)
    raise AssertionError(what)


def write(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, content in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content)


def init_repo(
    path: Path, files: dict[str, str | bytes] | None = None, branch: str = "main"
) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git("init", "-q", "-b", branch, cwd=path)
    if files:
        write(path, files)
        git("add", "-A", cwd=path)
        git("commit", "-q", "-m", "base", cwd=path)
    return path


def add_worktree(repo: Path, name: str, branch: str | None = None, *, detach: bool = False) -> Path:
    path = repo.parent / name
    if detach:
        git("worktree", "add", "-q", "--detach", str(path), cwd=repo)
    else:
        git("worktree", "add", "-q", "-b", branch or name, str(path), cwd=repo)
    return path


def commit_all(path: Path, message: str = "change") -> None:
    git("add", "-A", cwd=path)
    git("commit", "-q", "-m", message, cwd=path)


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def run_cli(
    *args: str, cwd: Path | str, input: str | bytes | None = None, env: dict[str, str] | None = None
) -> CliResult:
    """driftcheck as a real subprocess, exactly as a user or hook runs it."""
    data = input.encode() if isinstance(input, str) else input
    proc = subprocess.run(
        [sys.executable, "-m", "driftcheck", *args],
        cwd=str(cwd),
        capture_output=True,
        input=data,
        stdin=None if data is not None else subprocess.DEVNULL,
        # Safe path: a repo with a top-level `click/` must not shadow our imports.
        env={**os.environ, "PYTHONSAFEPATH": "1", **(env or {})},
        check=False,
        timeout=300,
    )
    return CliResult(
        proc.returncode,
        proc.stdout.decode("utf-8", "replace"),
        proc.stderr.decode("utf-8", "replace"),
    )


def _hash_tree(root: Path, skip: Iterable[Path] = ()) -> dict[str, str]:
    skipped = {p.resolve() for p in skip}
    digests: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if (here / d).resolve() not in skipped)
        for name in sorted(filenames):
            path = here / name
            rel = str(path.relative_to(root))
            if path.is_symlink():
                digests[rel] = "link:" + os.readlink(path)
            else:
                st = path.stat()
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                digests[rel] = f"{st.st_mode:o}:{digest}"
        for name in dirnames:
            digests[str((here / name).relative_to(root)) + "/"] = "dir"
    return digests


def snapshot_repo(repo: Path) -> dict[str, dict[str, str]]:
    """Content hashes of the common .git (minus driftcheck's cache) and every worktree."""
    common = Path(git("rev-parse", "--path-format=absolute", "--git-common-dir", cwd=repo))
    state = {"<git>": _hash_tree(common, skip=[common / CACHE_DIR_NAME])}
    porcelain = git("worktree", "list", "--porcelain", cwd=repo)
    for line in porcelain.splitlines():
        if line.startswith("worktree "):
            wt = Path(line[len("worktree ") :])
            if wt.is_dir() and wt.resolve() != common.resolve():
                state[str(wt)] = _hash_tree(wt, skip=[wt / ".git"])
    return state


def processes_with(marker: str) -> list[int]:
    """Processes whose environment holds `marker` (Linux /proc; [] elsewhere)."""
    found = []
    proc = Path("/proc")
    for entry in proc.iterdir() if proc.is_dir() else ():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if marker.encode() in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def command_lines(pids: list[int], stat: bool = False) -> list[str]:
    """Each running process's command line; with `stat`, after its /proc stat line
    (state, parent, group), which says who should have ended it."""
    found = []
    for pid in pids:
        try:
            line = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            if stat:
                line = Path(f"/proc/{pid}/stat").read_text().split(")")[-1][:40] + line
        except OSError:
            continue
        found.append(line)
    return found


def inotify_watches(pid: int, fd: int | None = None) -> int:
    """Inotify watches the kernel holds for process `pid` (from its descriptors'
    details); only those of descriptor `fd` when given (a test process may hold
    other tests' watchers)."""
    count = 0
    infos = (
        Path(f"/proc/{pid}/fdinfo").iterdir() if fd is None else [Path(f"/proc/{pid}/fdinfo/{fd}")]
    )
    for info in infos:
        try:
            count += sum(line.startswith("inotify wd:") for line in info.read_text().splitlines())
        except OSError:
            continue
    return count
