"""Make, list and release explicit claims for one worktree (the CLI and MCP doors)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from driftcheck.coordination.targets import parse_targets
from driftcheck.store.claims import DEFAULT_TTL_MINUTES, Claim, ClaimError, ClaimStore
from driftcheck.workspace import git
from driftcheck.workspace.worktrees import list_worktrees, short_ref


def owner_label(root: Path, repo: git.RepoInfo) -> str:
    """The worktree's branch, or its folder's name on a detached HEAD."""
    wanted = root.resolve()
    for entry in list_worktrees(repo):
        if Path(entry.path).resolve() == wanted and entry.branch_ref:
            return short_ref(entry.branch_ref)
    return root.name


def claim(
    root: Path,
    repo: git.RepoInfo,
    *,
    targets: Sequence[object],
    intent: object,
    ttl_minutes: object = DEFAULT_TTL_MINUTES,
) -> Claim:
    """A new claim of `targets` by worktree `root`; ClaimError for bad input."""
    if isinstance(targets, str) or not isinstance(targets, Sequence):
        raise ClaimError("bad-target", "targets must be a list of symbols or paths")
    if not isinstance(intent, str):
        raise ClaimError("bad-intent", "intent must be a string")
    if isinstance(ttl_minutes, bool) or not isinstance(ttl_minutes, int | float):
        raise ClaimError("bad-ttl", "ttl_minutes must be a number")
    parsed = parse_targets(targets, root)
    return ClaimStore(repo.cache_dir).add(
        worktree=str(root.resolve()),
        label=owner_label(root, repo),
        targets=parsed,
        intent=intent,
        ttl_minutes=float(ttl_minutes),
    )


def release(root: Path, repo: git.RepoInfo, claim_id: object) -> Claim:
    if not isinstance(claim_id, str):
        raise ClaimError("unknown-claim", "claim_id must be a string")
    return ClaimStore(repo.cache_dir).release(claim_id, worktree=str(root.resolve()))


def list_claims(root: Path, repo: git.RepoInfo) -> list[dict[str, Any]]:
    """Every open claim, each marked `mine` when `root` owns it."""
    now = time.time()
    own = str(root.resolve())
    found = ClaimStore(repo.cache_dir).active(now)
    return [{**c.to_json(now), "mine": c.worktree == own} for c in found]
