"""Find the participants of a scan: every worktree (its state captured as a git tree),
the refs asked for, and the trunk.

Naming rule (documented in the README):
- a worktree on a branch is named by the branch's short name (`feat/a`);
- a worktree on a detached HEAD is named by its folder's base name (`agent-3`);
- a ref is named by its short name (`origin/pr/12`);
- a name already taken gets a `#2`, `#3`, ... suffix, in discovery order.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from driftcheck.errors import GitError, UsageError
from driftcheck.model import Participant
from driftcheck.workspace import git
from driftcheck.workspace.capture import State, StateOverride, capture, head_trees_of
from driftcheck.workspace.live_states import LiveStates
from driftcheck.workspace.state_store import StateStore
from driftcheck.workspace.worktrees import WorktreeEntry, list_worktrees, short_ref


@dataclass
class Discovery:
    participants: list[Participant]
    trunk: str | None
    trunk_name: str | None
    warnings: list[str] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    main_path: str | None = None  # the main worktree's folder, as git lists it
    kept_states: int = 0  # worktrees captured through the kept states (state_store)


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{name}#{n}"
    taken.add(candidate)
    return candidate


def discover(
    repo: git.RepoInfo,
    scratch: git.Scratch,
    *,
    ref_patterns: Sequence[str] = (),
    trunk: str | None = None,
    committed_only: bool = False,
    overrides: Mapping[str, StateOverride] | None = None,
    keep_states: bool = False,
    live: LiveStates | None = None,
) -> Discovery:
    """Every worktree's state, plus refs matching `ref_patterns`, plus the trunk.
    With `keep_states`, worktree states are kept between runs (see state_store);
    with `live`, a long-lived process supplies the states it knows (live_states)."""
    cwd = repo.common_dir
    git.guard_filters(cwd)  # git merge-tree may renormalize through a filter
    trunk_commit = trunk_full = None
    if trunk:
        trunk_commit = git.resolve_commit(trunk, cwd=cwd)
        if trunk_commit is None:
            raise UsageError(f"unknown ref for --trunk: {trunk}")
        trunk_full = git.full_ref_name(trunk, cwd=cwd) or trunk_commit

    result = Discovery(participants=[], trunk=trunk_full, trunk_name=None)
    taken: set[str] = set()
    checked_out: dict[str, str] = {}
    entries = live.worktrees() if live is not None else list_worktrees(repo)
    result.main_path = entries[0].path if entries else None
    # git lists linked worktrees in directory order, which differs between file
    # systems; sort them by path (main first) so names and sides are stable.
    entries = entries[:1] + sorted(entries[1:], key=lambda e: e.path)
    live_entries: list[WorktreeEntry] = []
    for entry in entries:
        if entry.bare:
            continue
        if entry.prunable or not Path(entry.path).is_dir():
            result.warnings.append(
                f"skipped worktree {entry.path}: its folder is gone "
                "(`git worktree prune` makes git forget it)"
            )
            result.skipped.append({"path": entry.path, "reason": "folder is gone"})
            continue
        live_entries.append(entry)
    store = None
    if keep_states and live_entries and not committed_only:
        store = StateStore.open(repo.cache_dir, scratch.env["GIT_ALTERNATE_OBJECT_DIRECTORIES"])
        if store is not None:
            scratch.add_alternate(store.objects)
    captured = _capture_all(live_entries, scratch, committed_only, overrides or {}, store, live)
    result.kept_states = len(store.captured) if store is not None else 0
    for entry, state in zip(live_entries, captured, strict=True):
        if isinstance(state, BaseException):
            result.warnings.append(f"skipped worktree {entry.path}: {state}")
            result.skipped.append({"path": entry.path, "reason": str(state)})
            continue
        tree, dirty, state_commit = state
        branch = short_ref(entry.branch_ref) if entry.branch_ref else None
        name = _unique(branch or Path(entry.path).name, taken)
        if entry.branch_ref:
            checked_out[entry.branch_ref] = name
        result.participants.append(
            Participant(
                name=name,
                kind="worktree",
                path=entry.path,
                branch=branch,
                head=entry.head,
                tree=tree,
                state_commit=state_commit,
                dirty=dirty,
                ref=entry.branch_ref,
                detached=entry.detached,
                locked=entry.locked,
            )
        )

    unreadable = [s for s in result.skipped if s["reason"] != "folder is gone"]
    if unreadable and not result.participants:
        # Every worktree failed: a scan of nothing must not pass a CI gate silently.
        raise UsageError(f"cannot read any worktree: {unreadable[0]['reason']}")
    refs: list[tuple[str, str]] = []
    if trunk_full and trunk_commit:
        if trunk_full in checked_out:
            result.trunk_name = checked_out[trunk_full]
        else:
            refs.append((trunk_full, trunk_commit))
    matched: dict[str, str] = {}
    for pattern in ref_patterns:
        found = _matching_refs(pattern, cwd=cwd)
        if not found:
            result.warnings.append(f"no refs match --refs {pattern}")
        matched.update(found)
    refs += sorted(matched.items())
    seen_refs = set(checked_out)
    for full, commit in refs:
        if full in seen_refs:
            continue
        seen_refs.add(full)
        name = _unique(short_ref(full) if full.startswith("refs/") else full[:12], taken)
        if full == trunk_full:
            result.trunk_name = name
        result.participants.append(
            Participant(
                name=name,
                kind="ref",
                path=None,
                branch=None,
                head=commit,
                tree=git.tree_of(commit, cwd=cwd),
                state_commit=commit,
                dirty=False,
                ref=full if full.startswith("refs/") else None,
            )
        )
    result.warnings += _hints(result)
    return result


def _hints(result: Discovery) -> list[str]:
    """What to do when there is nothing to compare yet."""
    if result.participants and all(p.head is None for p in result.participants):
        return [
            "the repository has no commits yet: commit a first version, then give each "
            "agent a worktree (`git worktree add ../agent-1 -b agent-1`)"
        ]
    if len(result.participants) < 2:
        return [
            "only one participant, so nothing to compare: give each agent its own "
            "worktree (`git worktree add ../agent-1 -b agent-1`), or name branches with "
            "--refs or --trunk"
        ]
    return []


def _capture_all(
    entries: list[WorktreeEntry],
    scratch: git.Scratch,
    committed_only: bool,
    overrides: Mapping[str, StateOverride],
    store: StateStore | None,
    live: LiveStates | None = None,
) -> list[State | BaseException]:
    """Every worktree's state; git does the work, so threads run it in parallel."""

    try:
        if live is not None and not committed_only:
            head_trees = live.head_trees(entries)
        else:
            head_trees = head_trees_of(entries, scratch.repo.common_dir)
    except GitError:
        head_trees = {}

    def one(entry: WorktreeEntry) -> State | BaseException:
        override = overrides.get(str(Path(entry.path).resolve()))
        try:
            head_tree = head_trees.get(entry.head or "")
            if entry.head and head_tree is None:
                head_tree = git.tree_of(entry.head, cwd=entry.path)
            if live is not None and not committed_only:
                return live.capture(entry, scratch, override, head_tree, store)
            return capture(entry, scratch, committed_only, override, head_tree, store)
        except (GitError, OSError) as exc:
            return exc

    if len(entries) < 2:
        return [one(e) for e in entries]
    pool = ThreadPoolExecutor(max_workers=min(4, (os.cpu_count() or 2) * 2))
    try:
        return list(pool.map(one, entries))
    except BaseException:
        # A deadline or Ctrl-C: queued work is dropped and running git calls are
        # killed, so the workers end now instead of when git would have.
        with git.stopping():
            pool.shutdown(wait=True, cancel_futures=True)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _matching_refs(pattern: str, *, cwd: Path) -> dict[str, str]:
    """full ref -> commit for refs matching `pattern`, by git's own matching rules."""
    fmt = "%(refname)%00%(objectname)%00%(*objectname)%00%(objecttype)%00%(*objecttype)"
    out = git.run_git(["for-each-ref", f"--format={fmt}", "--", pattern], cwd=cwd).stdout
    found: dict[str, str] = {}
    for line in out.decode("utf-8", "surrogateescape").splitlines():
        name, oid, peeled, otype, ptype = line.split("\0")
        commit = peeled if ptype == "commit" else oid if otype == "commit" else None
        if commit:
            found[name] = commit
    return found
