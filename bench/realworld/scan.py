"""A window's scratch repository and driftcheck's scan of it.

The scratch repository is bare, borrows the mirror's objects through
`objects/info/alternates`, and holds only `refs/heads/<trunk>` (the window's trunk) and
`refs/pr/<N>` (the chosen pull requests). Whatever git or driftcheck writes (merged
trees, driftcheck's cache) stays in it; the mirror is never written.
"""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import gitio
from projects import Project
from windows import Window

SCAN_OK = (0, 1)  # 1: findings at or above --fail-on, a normal outcome


@dataclass
class Scan:
    """One run of `driftcheck scan`: its exit code and, when it worked, its document."""

    exit_code: int | None
    seconds: float
    document: dict | None = None
    stderr: str = ""
    timed_out: bool = False
    names: dict[str, str] = field(default_factory=dict)  # ref -> participant name

    @property
    def ok(self) -> bool:
        return self.document is not None

    @property
    def status(self) -> str:
        if self.timed_out:
            return "timeout"
        return "ok" if self.ok else f"failed (exit {self.exit_code})"


def window_dir(project: Project, window: Window) -> Path:
    return project.cache / window.name


def build_scratch(project: Project, window: Window) -> Path:
    """(Re)create the window's scratch refs; objects git wrote earlier are kept."""
    repo = window_dir(project, window) / "repo.git"
    if not (repo / "HEAD").is_file():
        repo.parent.mkdir(parents=True, exist_ok=True)
        gitio.run(repo, "init", "--quiet", "--bare", str(repo))
    alternates = repo / "objects" / "info" / "alternates"
    alternates.parent.mkdir(parents=True, exist_ok=True)
    alternates.write_text(f"{(project.mirror / 'objects').resolve()}\n")
    wanted = {f"refs/heads/{project.trunk}": window.trunk}
    for pr in window.chosen:
        wanted[f"refs/pr/{pr}"] = window.candidate(pr).head
    existing = gitio.lines(repo, "for-each-ref", "--format=%(refname)")
    commands = [f"delete {ref}" for ref in existing if ref not in wanted]
    commands += [f"update {ref} {sha}" for ref, sha in wanted.items()]
    proc = subprocess.run(
        ["git", f"--git-dir={repo}", "update-ref", "--stdin"],
        input="\n".join(commands) + "\n",
        env=gitio.ENV,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise gitio.GitError(f"update-ref: {proc.stderr.strip()}")
    gitio.run(repo, "symbolic-ref", "HEAD", f"refs/heads/{project.trunk}")
    return repo


def run_scan(project: Project, repo: Path, python: Path, output: Path, timeout: float) -> Scan:
    """`driftcheck scan` over the scratch repository; the raw JSON goes to `output`.

    `python -P` and a neutral folder keep `python -m driftcheck` to the interpreter's own
    driftcheck: otherwise the current folder comes first on sys.path, and a folder named
    driftcheck there (a checkout, or driftcheck's own cache inside the scratch repository)
    would shadow it.
    """
    command = [
        str(python),
        "-P",
        "-m",
        "driftcheck",
        "scan",
        "--repo",
        str(repo),
        "--refs",
        "refs/pr",
        "--trunk",
        project.trunk,
        "--format",
        "json",
        "--color",
        "never",
    ]
    env = {**gitio.ENV, "DRIFTCHECK_DAEMON": "0", "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTHONPATH", None)
    started = time.perf_counter()
    try:
        proc = subprocess.run(
            command,
            cwd=repo.parent,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return Scan(None, time.perf_counter() - started, timed_out=True)
    scan = Scan(proc.returncode, time.perf_counter() - started, stderr=proc.stderr[-4000:])
    output.write_text(proc.stdout)
    if proc.returncode in SCAN_OK:
        try:
            scan.document = json.loads(proc.stdout)
        except json.JSONDecodeError as error:
            scan.stderr += f"\n(unreadable JSON: {error})"
    if scan.document:
        for participant in scan.document.get("participants", []):
            if participant.get("ref"):
                scan.names[participant["ref"]] = participant["name"]
    return scan


def scan_meta(scan: Scan, python: Path, previous: Path) -> dict[str, object]:
    """What to keep of a run; `cold_seconds` is the last run with nothing from the cache."""
    stats = (scan.document or {}).get("stats") or {}
    cold = None
    if scan.ok and not stats.get("pairs_from_cache"):
        cold = round(scan.seconds, 2)
    elif previous.is_file():
        old = json.loads(previous.read_text())
        if old.get("driftcheck_python") == str(python):
            cold = old.get("cold_seconds")
            if cold is None and (old.get("stats") or {}).get("pairs_from_cache") == 0:
                cold = old.get("seconds")
    return {
        "cold_seconds": cold,
        "driftcheck_python": str(python),
        "exit_code": scan.exit_code,
        "status": scan.status,
        "seconds": round(scan.seconds, 2),
        "stderr": scan.stderr,
        "stats": (scan.document or {}).get("stats"),
        "warnings": (scan.document or {}).get("warnings"),
    }
