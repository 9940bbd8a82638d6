"""Build one case as a real git repository with two linked worktrees, hermetically.

Layout of `cases/<case-id>/`: `repo/` is the main worktree (branch `main`, the base
commit), `a/` and `b/` are linked worktrees (`git worktree add`) holding side A's and
side B's work, and `case.json` describes the case. Identity and dates are fixed and the
user's git config is never read, as in `driftcheck/demo/scenario.py`, so the same case
always yields the same commits.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from common import Edits, Files, hermetic_env

STAGES = ("committed", "staged", "unstaged", "untracked")
BASE_DATE = 1_700_000_000
SETTINGS = (
    "user.name=refactoring bench",
    "user.email=bench@driftcheck.invalid",
    "commit.gpgsign=false",
    "init.defaultBranch=main",
    "core.autocrlf=false",
    "core.fsmonitor=false",
    "gc.auto=0",
    "maintenance.auto=false",
    "advice.detachedHead=false",
    "core.excludesFile=/dev/null",
    "core.attributesFile=/dev/null",
)
CONFIG = [arg for setting in SETTINGS for arg in ("-c", setting)]


class Git:
    def __init__(self) -> None:
        self.env = hermetic_env()
        self.commits = 0

    def __call__(self, *args: str, cwd: Path, env: dict[str, str] | None = None) -> str:
        proc = subprocess.run(
            ["git", *CONFIG, *args],
            cwd=cwd,
            env=env or self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            check=False,
        )
        if proc.returncode != 0:
            err = proc.stderr.decode("utf-8", "replace").strip()
            raise RuntimeError(f"git {' '.join(args[:3])} failed in {cwd}: {err}")
        return proc.stdout.decode("utf-8", "surrogateescape")

    def commit(self, message: str, cwd: Path) -> None:
        date = f"{BASE_DATE + 60 * self.commits} +0000"
        self.commits += 1
        self.env["GIT_AUTHOR_DATE"] = self.env["GIT_COMMITTER_DATE"] = date
        self("commit", "-q", "--no-verify", "-m", message, cwd=cwd)


def write_files(root: Path, files: Files) -> None:
    for path, text in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


def build_case(
    folder: Path,
    base: Files,
    a_branch: str,
    a_edits: Edits,
    a_stage: str,
    b_branch: str,
    b_edits: Edits,
    b_stage: str,
    messages: tuple[str, str],
) -> Path:
    """Create the case's repository and worktrees; return the main worktree's path."""
    repo = folder / "repo"
    git = Git()
    folder.mkdir(parents=True, exist_ok=True)
    git("init", "-q", "--template=", "-b", "main", str(repo), cwd=folder)
    write_files(repo, base)
    git("add", "-A", cwd=repo)
    git.commit("base: real source at the mirror's main", cwd=repo)
    git("worktree", "add", "-q", "-b", a_branch, "../a", cwd=repo)
    git("worktree", "add", "-q", "-b", b_branch, "../b", cwd=repo)
    _apply(git, folder / "a", a_edits, a_stage, set(base), messages[0])
    _apply(git, folder / "b", b_edits, b_stage, set(base), messages[1])
    return repo


def _apply(git: Git, cwd: Path, edits: Edits, stage: str, tracked: set[str], message: str) -> None:
    if stage not in STAGES:
        raise ValueError(stage)
    new_paths = [p for p, text in edits.items() if text is not None and p not in tracked]
    if stage == "untracked" and len(new_paths) != len(edits):
        raise ValueError("only new files can be left untracked")
    for path, text in sorted(edits.items()):
        if text is None:
            (cwd / path).unlink()
        else:
            write_files(cwd, {path: text})
    paths = sorted(edits)
    if stage in ("committed", "staged"):
        git("add", "-A", "--", *paths, cwd=cwd)
        if stage == "committed":
            git.commit(message, cwd=cwd)
    elif stage == "unstaged" and new_paths:
        # A new file git knows about but whose content is not staged (`git add -N`).
        git("add", "-N", "--", *new_paths, cwd=cwd)
