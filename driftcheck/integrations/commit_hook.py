"""`driftcheck hook pre-commit`: judge the staged tree before the commit is made.

It fails open like every hook: an internal error lets the commit through with one
line on stderr. It judges what the commit adds: only findings that involve this
worktree, and of those only the ones its HEAD does not have already (drift that
predates the commit is mentioned, never a reason to stop it). Only findings at or
above `--fail-on` stop it.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from driftcheck.deadline import owned_tempdir
from driftcheck.model import ExitCode, fails
from driftcheck.workspace import git


@dataclass
class CommitVerdict:
    code: int
    report: str
    notes: list[str]


def staged_index(root: Path, inherited: str | None) -> Path:
    """The index git is committing: `GIT_INDEX_FILE` in a hook (`commit -a` and
    `commit <paths>` use a temporary one), else the worktree's own index."""
    if inherited:
        path = Path(inherited)
        return path if path.is_absolute() else (root / path)
    args = ["rev-parse", "--path-format=absolute", "--git-path", "index"]
    return Path(git.git_out(args, cwd=root))


def run(*, cwd: Path, warn_only: bool, fail_on: str | None) -> CommitVerdict:
    if os.environ.get("DRIFTCHECK_SKIP") == "1":
        return CommitVerdict(0, "", ["driftcheck: skipped (DRIFTCHECK_SKIP=1)"])
    # Read before anything else: driftcheck's own git calls strip GIT_* variables.
    inherited = os.environ.get("GIT_INDEX_FILE")
    try:
        from driftcheck.engine.judge import judge, open_worktree
        from driftcheck.report.hooks import concise

        root, repo = open_worktree(cwd)
        judgement = judge(root, staged_index=staged_index(root, inherited), repo=repo)
    except Exception as exc:  # never block a commit on our bug (DriftcheckError included)
        why = " ".join(str(exc).split())
        return CommitVerdict(0, "", [f"driftcheck: commit allowed, check failed: {why}"[:400]])
    if judgement.current is None:
        why = " ".join("; ".join(judgement.result.warnings).split()) or "worktree not found"
        return CommitVerdict(0, "", [f"driftcheck: commit allowed, not judged: {why}"[:400]])
    current = judgement.current.name
    findings = [f for f in judgement.result.findings if current in f.participants]
    earlier = _ids_at_head(root, repo) if findings else set()
    older = [f for f in findings if f.id in earlier]
    findings = [f for f in findings if f.id not in earlier]
    threshold = fail_on or judgement.config.fail_on or "error"
    failing = any(fails(f.severity, threshold) for f in findings)
    notes = []
    if older:
        notes.append(
            f"driftcheck: {len(older)} finding(s) predate this commit (HEAD has them "
            "too): not a reason to stop it; `driftcheck scan` lists them"
        )
    if failing and warn_only:
        notes.append("driftcheck: --warn-only, so the commit goes ahead")
    elif failing:
        notes.append("driftcheck: commit stopped; fix the drift or commit with DRIFTCHECK_SKIP=1")
    code = ExitCode.FINDINGS if failing and not warn_only else ExitCode.CLEAN
    return CommitVerdict(code, concise(findings, current) if findings else "", notes)


def _ids_at_head(root: Path, repo: git.RepoInfo) -> set[str]:
    """The ids of the findings this worktree's HEAD already has: judged from an index
    of HEAD in a private temp file (git's own index, locked by the commit under
    way, is not touched)."""
    from driftcheck.engine.judge import judge

    folder = owned_tempdir("driftcheck-head-")
    try:
        index = Path(folder) / "index"
        env = git.clean_env({"GIT_INDEX_FILE": str(index)})
        try:
            git.run_git(["read-tree", "HEAD"], cwd=root, env=env)
        except Exception:  # no commit yet: everything staged is new
            return set()
        before = judge(root, staged_index=index, repo=repo)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {f.id for f in before.result.findings}
