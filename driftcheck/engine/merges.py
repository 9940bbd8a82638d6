"""git's merges of the pairs an analysis is about to look at, a few at a time.

Each simulated merge is its own git processes (`merge-tree`, and for a conflict a
listing and a read of the conflicted blobs), independent of every other pair's.
After a write in one worktree, the daemon's scan analyses again that worktree's
pairs, and their merges were the largest part of that work when run one after the
other; run side by side, they take about as long as the slowest. Each result is
handed to its pair's context (detectors/context.py), which merges by itself any
pair made ahead without success, so an error surfaces where it always did.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from driftcheck.detectors.context import SharedFacts, state_commit
from driftcheck.model import Participant
from driftcheck.workspace import git, merge

# Merges run at once, at most: git processes that mostly read trees and blobs.
MAX_WORKERS = 4


def merge_ahead(
    shared: SharedFacts,
    pairs: Iterable[tuple[Participant, Participant]],
    *,
    scratch: git.Scratch,
    cwd: str,
) -> None:
    """Simulate the merges of `pairs` (whose paths can meet) side by side, into
    `shared.merges`. Does nothing for fewer than two."""
    wanted: list[tuple[str, str]] = []
    for left, right in pairs:
        commits = (
            state_commit(shared, left, scratch, cwd),
            state_commit(shared, right, scratch, cwd),
        )
        if commits[0] and commits[1] and commits not in shared.merges:
            wanted.append((commits[0], commits[1]))
    wanted = list(dict.fromkeys(wanted))
    workers = min(len(wanted), MAX_WORKERS, max(2, os.cpu_count() or 2))
    if workers < 2:
        return
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="driftcheck-merge")
    try:
        jobs = {
            commits: pool.submit(merge.simulate, *commits, cwd=cwd, scratch=scratch)
            for commits in wanted
        }
        for commits, job in jobs.items():
            try:
                shared.merges[commits] = job.result()
            except Exception:  # the pair merges again by itself, and says why
                continue
    except BaseException:
        # A deadline (or Ctrl-C) stops the analysis now: the merges not begun are
        # dropped, and those under way end on their own, unread.
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
