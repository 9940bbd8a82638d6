"""The inventory: one row per participant, where it stands against the trunk.

Ahead and behind count commits; the uncommitted work is split into staged,
unstaged and untracked paths; a participant with no change of its own since it
forked is empty, one whose changes the trunk holds already is merged (a merge, a
squash or a rebase: the trunk has the same content at every path it changed).
Both are safe to delete. A base is stale when the trunk moved on a lot since the
fork. A worktree and the ref of its pull request are linked, so a plan can say
when the worktree holds work the pull request lacks.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from driftcheck.engine.bases import MergeBase, merge_bases, tree_changes
from driftcheck.engine.scan import Scanned
from driftcheck.model import InventoryRow, Participant
from driftcheck.workspace import history

# The trunk moved on this much since a participant forked: its base is stale.
STALE_BEHIND_COMMITS = 50
STALE_AFTER_DAYS = 30

T = TypeVar("T")


@dataclass
class Inventory:
    rows: list[InventoryRow]
    trunk: Participant | None
    # participant name -> where it forked from the trunk, and what it changed since
    forks: dict[str, MergeBase] = field(default_factory=dict)
    own_changes: dict[str, dict[str, str]] = field(default_factory=dict)

    def row(self, name: str) -> InventoryRow:
        return next(r for r in self.rows if r.name == name)

    def deletable(self) -> set[str]:
        return {r.name for r in self.rows if r.safe_to_delete}


@dataclass
class _Facts:
    """What git says about one participant, gathered in a worker thread."""

    ahead: int | None = None
    behind: int | None = None
    on_trunk_line: bool = True
    staged: dict[str, str | None] = field(default_factory=dict)
    head_tree: str | None = None  # HEAD's tree, for a dirty worktree


def take_inventory(scanned: Scanned) -> Inventory:
    session, trunk = scanned.session, scanned.trunk
    participants = scanned.result.participants
    cwd = str(scanned.repo.common_dir)
    inventory = Inventory(rows=[], trunk=trunk)
    if trunk is not None and trunk.head:
        sides = [(p, trunk) for p in participants if p is not trunk and p.head]
        bases = merge_bases(sides, cwd=cwd, cache=session.cache)
        for side, _ in sides:
            found = bases.get(":".join(sorted((side.head or "", trunk.head))))
            if found is not None:
                inventory.forks[side.name] = found
    facts = _parallel(lambda p: _git_facts(p, trunk, cwd), participants)
    links = _pull_requests(participants, trunk, cwd)
    heads = [p.head for p in participants if p.head and (p.dirty or p is trunk)]
    head_trees = history.trees_of(heads, cwd=cwd)
    trunk_tree = head_trees.get(trunk.head) if trunk and trunk.head else None
    times = history.commit_times(
        [f.commit for f in inventory.forks.values()]
        + ([trunk.head] if trunk and trunk.head else []),
        cwd=cwd,
    )
    for participant, fact in zip(participants, facts, strict=True):
        fact.head_tree = head_trees.get(participant.head or "")
        inventory.rows.append(_row(scanned, inventory, participant, fact, links, trunk_tree, times))
    inventory.rows += _missing(scanned, {r.name for r in inventory.rows})
    return inventory


def _parallel(work: Callable[[Participant], T], items: list[Participant]) -> list[T]:
    """git does the work: threads run it side by side."""
    if len(items) < 2:
        return [work(p) for p in items]
    with ThreadPoolExecutor(max_workers=min(4, (os.cpu_count() or 2) * 2)) as pool:
        return list(pool.map(work, items))


def _git_facts(participant: Participant, trunk: Participant | None, cwd: str) -> _Facts:
    fact = _Facts()
    if trunk is not None and trunk.head and participant.head and participant is not trunk:
        ahead, behind = history.ahead_behind(participant.head, trunk.head, cwd=cwd)
        fact.ahead, fact.behind = ahead, behind
        if ahead == 0 and behind > 0:
            fact.on_trunk_line = history.on_first_parent_line(
                participant.head, trunk.head, within=behind, cwd=cwd
            )
    if participant.dirty and participant.path:
        fact.staged = history.staged(participant.path, participant.head)
    return fact


def _row(
    scanned: Scanned,
    inventory: Inventory,
    participant: Participant,
    fact: _Facts,
    links: dict[str, str],
    trunk_tree: str | None,
    times: dict[str, int],
) -> InventoryRow:
    session, trunk, name = scanned.session, inventory.trunk, participant.name
    cwd, env = str(scanned.repo.common_dir), scanned.session.scratch.env
    status: list[str] = []
    empty = merged = False
    staged = unstaged = untracked = 0
    if participant is trunk:
        status.append("trunk")
    elif trunk is not None:
        fork = inventory.forks.get(name)
        if fork is None:
            status.append("no-merge-base")
        else:
            own = {
                path: change[0]
                for path, change in tree_changes(
                    fork.tree, participant.tree, cwd=cwd, env=env, cache=session.cache
                ).items()
            }
            inventory.own_changes[name] = own
            if own and trunk_tree is not None:
                against_trunk = tree_changes(
                    trunk_tree, participant.tree, cwd=cwd, env=env, cache=session.cache
                )
                merged = not (own.keys() & against_trunk.keys())
            elif not own:
                # Nothing of its own since the fork: reached by a merge (merged), or
                # never started (empty: the trunk grew straight from it).
                merged = fact.ahead == 0 and not fact.on_trunk_line
                empty = not merged
            if fork.commit in times and trunk and trunk.head in times:
                days = (times[trunk.head] - times[fork.commit]) / 86400
                if (fact.behind or 0) >= STALE_BEHIND_COMMITS or (
                    (fact.behind or 0) > 0 and days >= STALE_AFTER_DAYS
                ):
                    status.append("stale-base")
    if participant.dirty:
        staged, unstaged, untracked = _work_kinds(scanned, participant, fact)
    pr = links.get(name)
    worktree = next((w for w, ref in links.items() if ref == name), None)
    # The inventory's words, in the order they are documented.
    status += [
        word
        for word, present in (
            ("ahead", fact.ahead),
            ("behind", fact.behind),
            ("uncommitted", participant.dirty),
            ("staged", staged),
            ("unstaged", unstaged),
            ("untracked", untracked),
            ("empty", empty),
            ("merged", merged),
            ("safe-to-delete", (empty or merged) and participant is not trunk),
            ("has-pr", pr),
            ("uncommitted-not-in-pr", pr and participant.dirty),
            ("detached", participant.detached),
            ("locked", participant.locked),
        )
        if present
    ]
    return InventoryRow(
        name=name,
        kind=participant.kind,
        status=tuple(status),
        ahead=fact.ahead,
        behind=fact.behind,
        dirty=participant.dirty,
        empty=empty,
        merged=merged,
        path=participant.path,
        branch=participant.branch,
        staged=staged,
        unstaged=unstaged,
        untracked=untracked,
        pr=pr,
        worktree=worktree,
    )


def _work_kinds(scanned: Scanned, participant: Participant, fact: _Facts) -> tuple[int, int, int]:
    """(staged, unstaged, untracked) path counts of a dirty worktree: its state
    against HEAD, split by what its own index stages."""
    staged = fact.staged
    if fact.head_tree is None:
        return len(staged), 0, 0
    cwd, session = str(scanned.repo.common_dir), scanned.session
    state = tree_changes(
        fact.head_tree, participant.tree, cwd=cwd, env=session.scratch.env, cache=session.cache
    )
    untracked = sum(1 for path, c in state.items() if c[0] == "A" and path not in staged)
    unstaged = sum(1 for path, c in state.items() if c[0] != "A" and path not in staged)
    # Staged, then edited again (or reverted) in the files.
    unstaged += sum(
        1 for path, blob in staged.items() if path not in state or state[path][2] != blob
    )
    return len(staged), unstaged, untracked


def _pull_requests(
    participants: list[Participant], trunk: Participant | None, cwd: str
) -> dict[str, str]:
    """Worktree name -> the ref taking part that is its pull request: a ref at the
    worktree's HEAD, or the ref its branch tracks."""
    refs = [p for p in participants if p.kind == "ref" and p is not trunk]
    worktrees = [p for p in participants if p.kind == "worktree" and p is not trunk and p.head]
    if not refs or not worktrees:
        return {}
    tracked = history.upstreams(cwd=cwd)
    links: dict[str, str] = {}
    for worktree in worktrees:
        upstream = tracked.get(worktree.ref or "")
        for ref in refs:
            if ref.head == worktree.head or (upstream and ref.ref == upstream):
                links[worktree.name] = ref.name
                break
    return links


def _missing(scanned: Scanned, taken: set[str]) -> list[InventoryRow]:
    """Worktrees git lists whose folder is gone or unreadable: rows, never steps."""
    rows = []
    for skipped in scanned.found.skipped:
        name, n = Path(skipped["path"]).name, 1
        while name in taken:
            n += 1
            name = f"{Path(skipped['path']).name}#{n}"
        taken.add(name)
        gone = skipped["reason"] == "folder is gone"
        rows.append(
            InventoryRow(
                name=name,
                kind="worktree",
                status=("missing",) if gone else ("unreadable",),
                ahead=None,
                behind=None,
                dirty=False,
                empty=False,
                merged=False,
                path=skipped["path"],
            )
        )
    return rows
