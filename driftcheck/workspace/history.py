"""What history says about a participant, for the merge plan: how far it is ahead
of and behind the trunk, whether the trunk reached it through a merge, when its
fork point was made, which branch tracks which ref, and what a worktree's own
index stages. Every call here only reads: no index refresh (GIT_OPTIONAL_LOCKS=0
comes with `git.clean_env`), no ref or object is written.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from driftcheck.errors import GitError
from driftcheck.workspace import git


def ahead_behind(head: str, trunk: str, *, cwd: str | Path) -> tuple[int, int]:
    """(commits `head` has that `trunk` lacks, commits `trunk` has that `head` lacks)."""
    out = git.git_out(["rev-list", "--left-right", "--count", f"{head}...{trunk}"], cwd=cwd)
    ahead, behind = out.split()
    return int(ahead), int(behind)


def on_first_parent_line(commit: str, tip: str, *, within: int, cwd: str | Path) -> bool:
    """True when `commit` is one of the last `within` commits on `tip`'s first-parent
    line: the trunk grew from it directly, rather than merging it in from a branch."""
    out = git.git_out(["rev-list", "--first-parent", f"--max-count={within + 1}", tip], cwd=cwd)
    return commit in out.split()


def commit_times(commits: Iterable[str], *, cwd: str | Path) -> dict[str, int]:
    """Committer time (seconds since the epoch) of each commit, in one call."""
    wanted = sorted(set(commits))
    if not wanted:
        return {}
    out = git.git_out(["show", "-s", "--no-walk=unsorted", "--format=%H %ct", *wanted], cwd=cwd)
    found = (line.split() for line in out.splitlines() if line.strip())
    return {commit: int(seconds) for commit, seconds in found}


def trees_of(commits: Iterable[str], *, cwd: str | Path) -> dict[str, str]:
    """Commit -> its tree, for many commits in one call."""
    wanted = sorted(set(commits))
    if not wanted:
        return {}
    out = git.git_out(["rev-parse", *(f"{c}^{{tree}}" for c in wanted)], cwd=cwd)
    return dict(zip(wanted, out.splitlines(), strict=True))


def upstreams(*, cwd: str | Path) -> dict[str, str]:
    """Branch ref -> the ref it tracks (`refs/heads/feat` -> `refs/remotes/origin/feat`)."""
    out = git.git_out(["for-each-ref", "--format=%(refname)%00%(upstream)", "refs/heads"], cwd=cwd)
    pairs = (line.split("\0", 1) for line in out.splitlines() if "\0" in line)
    return {branch: upstream for branch, upstream in pairs if upstream}


def staged(worktree: str, head: str | None) -> dict[str, str | None]:
    """Path -> the blob the worktree's own index stages for it (None: staged as
    deleted), for every path where the index differs from HEAD. The index is only
    read: `diff-index --cached` never looks at (or refreshes for) the files."""
    if head is None:
        return {}
    try:
        out = git.run_git(
            ["diff-index", "--cached", "-z", "--no-renames", "--raw", "--abbrev=40", head],
            cwd=worktree,
        ).stdout
    except GitError:
        return {}  # an unreadable index: nothing known to be staged
    parts = out.split(b"\0")
    found: dict[str, str | None] = {}
    for meta, path in zip(parts[0::2], parts[1::2], strict=False):
        fields = meta.decode().lstrip(":").split()
        if len(fields) == 5:
            found[path.decode("utf-8", "surrogateescape")] = (
                None if fields[4].startswith("D") else fields[3]
            )
    return found
