"""What the other participants change: their files and symbols, against the merge
base with the asking worktree, committed or not. This is the implicit claim.

Everything read here is another worktree's text: it is returned as data (names,
signatures, diffs), never interpreted.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from driftcheck.coordination.targets import covers
from driftcheck.coordination.view import View
from driftcheck.engine.bases import heads_key, merge_bases, tree_changes
from driftcheck.model import Participant
from driftcheck.report.quoted import NOTE, kept
from driftcheck.store.claims import Claim, ClaimStore, clean_text
from driftcheck.symbols.changes import SymbolChange, classify_changes
from driftcheck.symbols.languages import frontend_for
from driftcheck.workspace import git

_DIFF_LINES = 60


@dataclass(frozen=True)
class SideWork:
    """One other participant's changes, against its merge base with the asker."""

    participant: Participant
    base_tree: str
    files: dict[str, str]  # path -> A/M/D/T
    uncommitted: frozenset[str]  # of those, the paths its worktree has not committed


def side_work(view: View, others: Iterable[Participant] | None = None) -> list[SideWork]:
    """The changes of every other participant (or of `others`) with a merge base."""
    current = view.current
    if current is None:
        return []
    chosen = list(view.others if others is None else others)
    cwd = str(view.repo.common_dir)
    cache, env = view.session.cache, view.session.scratch.env
    bases = merge_bases([(current, o) for o in chosen], cwd=cwd, cache=cache)
    found = []
    for other in chosen:
        base = bases.get(heads_key(current, other))
        if base is None:
            continue
        changed = tree_changes(base.tree, other.tree, cwd=cwd, env=env, cache=cache)
        # The blobs come with the diff: the index needs no ls-tree for them.
        view.session.index.learn(base.tree, {p: c[1] for p, c in changed.items()})
        view.session.index.learn(other.tree, {p: c[2] for p, c in changed.items()})
        uncommitted: frozenset[str] = frozenset()
        if other.dirty and other.head:
            # A commit's tree never changes: ask git once, not on every hook.
            head_tree = cache.get("commit-trees", other.head)
            if head_tree is None:
                head_tree = git.tree_of(other.head, cwd=cwd)
                cache.put("commit-trees", other.head, head_tree)
            own = tree_changes(head_tree, other.tree, cwd=cwd, env=env, cache=cache)
            uncommitted = frozenset(own)
        files = {p: c[0] for p, c in changed.items()}
        found.append(SideWork(other, base.tree, files, uncommitted))
    return found


def symbol_changes(view: View, work: SideWork, paths: Iterable[str]) -> list[SymbolChange]:
    """`work`'s symbol changes in `paths` (parsable files it changed)."""
    wanted = [p for p in paths if p in work.files and frontend_for(p) is not None]
    if not wanted:
        return []
    index = view.session.index
    before = index.tables(work.base_tree, [p for p in wanted if work.files[p] != "A"])
    after = index.tables(work.participant.tree, [p for p in wanted if work.files[p] != "D"])
    return classify_changes(before, after)


def touches(change: SymbolChange, symbol: str) -> bool:
    """Whether `change` is to `symbol`, inside it, or to the class holding it."""
    names = {change.qualname, change.new_qualname or change.qualname}
    return any(
        n == symbol or n.startswith(symbol + ".") or symbol.startswith(n + ".") for n in names
    )


def describe(view: View, work: SideWork, change: SymbolChange) -> dict[str, Any]:
    """One change as data: its kind, both signatures, and the diff on their side."""
    before, after = change.before, change.after
    old_text = view.session.index.definition_text(work.base_tree, before, 400) if before else ""
    new_text = (
        view.session.index.definition_text(work.participant.tree, after, 400) if after else ""
    )
    diff = list(
        difflib.unified_diff(
            old_text.splitlines(), new_text.splitlines(), "base", work.participant.name, lineterm=""
        )
    )
    # Someone else's text: comments and notes to agents are left out (report/quoted.py).
    diff = diff[:2] + [line for line in diff[2:] if line.startswith("@@") or kept(line[1:])]
    if len(diff) > _DIFF_LINES:
        diff = [*diff[:_DIFF_LINES], f"… {len(diff) - _DIFF_LINES} more diff lines"]
    return {
        "symbol": change.qualname,
        "change": change.kind,
        "new_symbol": change.new_qualname,
        "old_signature": _signature(before),
        "new_signature": _signature(after),
        "path": change.path,
        "line": after.start_line if after else None,
        "diff": "\n".join(diff),
        "diff_note": NOTE,
    }


def _signature(symbol: Any) -> str | None:
    if symbol is None or symbol.signature is None:
        return None
    return f"{symbol.name}{symbol.signature.render(annotations=True)}"


def claims_by_others(view: View) -> list[tuple[Claim, Participant]]:
    """Open claims of the other worktrees, with the participant that owns each.
    A claim whose worktree is gone counts no more."""
    own = str(view.root.resolve())
    found = []
    for claim in ClaimStore(view.repo.cache_dir).active():
        if claim.worktree == own:
            continue
        owner = view.worktree_participant(claim.worktree)
        if owner is not None:
            found.append((claim, owner))
    return found


def who_is_changing(view: View, path: str, symbol: str | None) -> dict[str, Any]:
    """Which other participants change `path` (or `symbol` in it) right now, and how;
    explicit claims included."""
    module = _module_of(path)
    entries: dict[str, dict[str, Any]] = {}
    for work in side_work(view):
        if path not in work.files:
            continue
        changes = symbol_changes(view, work, [path])
        if symbol is not None:
            changes = [c for c in changes if touches(c, symbol)]
            if not changes:
                continue
        entry = _entry(entries, work.participant)
        entry["file_status"] = work.files[path]
        entry["uncommitted"] = path in work.uncommitted
        entry["changes"] = [describe(view, work, c) for c in changes]
    for claim, owner in claims_by_others(view):
        if any(covers(t, path=path, qualname=symbol, module=module) for t in claim.targets):
            _entry(entries, owner)["claims"].append(claim.to_json())
    return {"path": path, "symbol": symbol, "participants": list(entries.values())}


def _entry(entries: dict[str, dict[str, Any]], who: Participant) -> dict[str, Any]:
    if who.name not in entries:
        entries[who.name] = {
            "participant": who.name,
            "kind": who.kind,
            "worktree": who.path,
            "branch": clean_text(who.branch or "", 120) or None,
            "file_status": None,
            "uncommitted": False,
            "changes": [],
            "claims": [],
        }
    return entries[who.name]


def _module_of(path: str) -> str | None:
    frontend = frontend_for(path)
    return frontend.module_name(path) if frontend is not None else None
