"""`--verify`: the project's own checker on both sides of a pair and on git's merge.

For every pair whose changes can meet, the checker runs on the left state, the
right state and git's merge of the two. An error the merge has and neither side has
is a DC501 finding: the merge breaks what each side alone does not. Errors are told
apart by path, message and enclosing symbol, not by line: lines shift between states.
A checker that crashes on a state makes the pair a DC502 ("could not verify"),
never a silent pass; so does a file git's merge conflicts on, which no checker can
read.
"""

from __future__ import annotations

import os
import queue
import re
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from driftcheck.model import MERGE_BREAK, Finding, Participant, Severity
from driftcheck.store.cache import Cache
from driftcheck.symbols.index import SymbolIndex
from driftcheck.verify.checkers import Checker, CheckError, require_available
from driftcheck.verify.states import State, StateChecker, StateResult, cached, remember
from driftcheck.workspace import git, merge
from driftcheck.workspace.capture import ensure_state_commit

_WORD = re.compile(r"[A-Za-z_]\w+")
_LINE_IN_MESSAGE = re.compile(r"\bline \d+")


@dataclass
class PairPlan:
    left: Participant
    right: Participant
    base_tree: str
    changed: tuple[dict[str, str], dict[str, str]]  # each side's path -> status
    merged: merge.MergeResult | None = None


@dataclass
class VerifyOutcome:
    findings: list[Finding] = field(default_factory=list)
    stats: dict[str, object] = field(default_factory=dict)


def verify_pairs(
    repo: git.RepoInfo,
    scratch: git.Scratch,
    cache: Cache,
    index: SymbolIndex,
    pairs: Sequence[tuple[Participant, Participant]],
    checkers: Sequence[Checker],
) -> VerifyOutcome:
    outcome = VerifyOutcome()
    for checker in checkers:
        require_available(checker, [_folder(p) for pair in pairs for p in pair])
        plans, skipped = _plans(repo, scratch, index, pairs, checker)
        states = StateChecker(checker, repo, scratch)
        wanted = _states(plans)
        results = cached(cache, checker, list(wanted))
        fresh = _check_states(states, {k: w for k, w in wanted.items() if k not in results})
        remember(cache, checker, fresh)
        results.update(fresh)
        for plan in plans:
            outcome.findings += _judge(plan, results, checker, index)
        outcome.stats[checker.name] = {
            "pairs_verified": len(plans),
            "pairs_skipped_cannot_meet": skipped,
            "checker_runs": states.runs,
            "states_from_cache": len(wanted) - len(fresh),
        }
    return outcome


def _plans(
    repo: git.RepoInfo,
    scratch: git.Scratch,
    index: SymbolIndex,
    pairs: Sequence[tuple[Participant, Participant]],
    checker: Checker,
) -> tuple[list[PairPlan], int]:
    """The pairs whose changes can meet, with git's merge of each; and how many
    were skipped because they cannot."""
    cwd = str(repo.common_dir)
    plans, skipped = [], 0
    for left, right in pairs:
        bases = git.merge_bases(left.head, right.head, cwd=cwd) if left.head and right.head else []
        if not bases:
            skipped += 1
            continue
        base_tree = git.tree_of(bases[0], cwd=cwd)
        changed = tuple(
            {
                p: c[0]
                for p, c in git.changes(base_tree, side.tree, cwd=cwd, env=scratch.env).items()
            }
            for side in (left, right)
        )
        plan = PairPlan(left, right, base_tree, (changed[0], changed[1]))
        if not _can_meet(plan, checker, index):
            skipped += 1
            continue
        commits = [ensure_state_commit(side, scratch, cwd) for side in (left, right)]
        if None in commits:
            skipped += 1
            continue
        plan.merged = merge.simulate(commits[0] or "", commits[1] or "", cwd=cwd, scratch=scratch)
        plans.append(plan)
    return plans, skipped


def _can_meet(plan: PairPlan, checker: Checker, index: SymbolIndex) -> bool:
    """Whether one side's changes can reach the other's: a path both change, or a
    changed file of one side that names a module (file stem) the other changes."""
    sides = [
        {p for p in changed if not checker.languages or p.endswith(checker.languages)}
        for changed in plan.changed
    ]
    if not sides[0] or not sides[1]:
        return False
    if sides[0] & sides[1]:
        return True
    for mine, theirs, side in ((sides[0], sides[1], plan.left), (sides[1], sides[0], plan.right)):
        stems = {Path(p).stem for p in theirs} | {Path(p).parent.name for p in theirs}
        stems.discard("__init__")
        stems.discard("index")
        for path in mine:
            if stems & set(_WORD.findall("\n".join(index.lines(side.tree, path)))):
                return True
    return False


def _states(plans: list[PairPlan]) -> dict[str, tuple[State, Path | None]]:
    """Every distinct state of the plans (by key), with the worktree whose
    environment it uses."""
    wanted: dict[str, tuple[State, Path | None]] = {}
    for plan in plans:
        for state, folder in _pair_states(plan):
            wanted.setdefault(state.key, (state, folder))
    return wanted


def _pair_states(plan: PairPlan) -> list[tuple[State, Path | None]]:
    """Left, right and the merge; a conflicted file of the merge is read as the left
    side has it, so the rest of the merge can be checked. The merge sees the left
    side's environment."""
    states = [(State(plan.left.tree), _folder(plan.left))]
    states.append((State(plan.right.tree), _folder(plan.right)))
    merged = plan.merged
    if merged is not None and merged.tree:
        overrides = tuple(
            sorted((c.path, c.stages[2][1] if 2 in c.stages else None) for c in merged.conflicts)
        )
        states.append((State(merged.tree, overrides), _folder(plan.left) or _folder(plan.right)))
    return states


def _check_states(
    states: StateChecker, wanted: dict[str, tuple[State, Path | None]]
) -> dict[str, StateResult]:
    """Each state checked once, in parallel up to the cores."""
    if not wanted:
        return {}
    workers = max(1, min(len(wanted), os.cpu_count() or 1))
    slots: queue.Queue[int] = queue.Queue()
    for slot in range(workers):
        slots.put(slot)

    def one(key: str) -> tuple[str, StateResult]:
        slot = slots.get()
        try:
            state, folder = wanted[key]
            return key, states.check(state, folder, slot)
        finally:
            slots.put(slot)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return dict(pool.map(one, wanted))


def _judge(
    plan: PairPlan, results: dict[str, StateResult], checker: Checker, index: SymbolIndex
) -> list[Finding]:
    merged = plan.merged
    if merged is None or not merged.tree:
        return []
    names = (plan.left.name, plan.right.name)
    (left, _), (right, _), (joined, _) = _pair_states(plan)
    for who, state in ((names[0], left), (names[1], right), ("the merge", joined)):
        failure = results[state.key].failure
        if failure:
            return [_unverified(names, checker, f"{checker.name} crashed on {who}: {failure}")]
    conflicted = {c.path for c in merged.conflicts}
    found = []
    if conflicted:
        listed = ", ".join(sorted(conflicted)[:5]) + (" …" if len(conflicted) > 5 else "")
        why = f"git's merge conflicts in {listed}, which no checker can read"
        found.append(_unverified(names, checker, why))
    # By path and message first (cheap); the enclosing symbol is looked up only where
    # the merge has more of one than either side, to tell a new error from a moved one.
    merged_errors = [e for e in results[joined.key].errors if e.path not in conflicted]
    plain = {k: _plain_counts(results[k].errors) for k in (left.key, right.key)}
    suspects = _plain_counts(merged_errors) - (plain[left.key] | plain[right.key])
    if not suspects:
        return found
    wanted = [e for e in merged_errors if _plain(e) in suspects]
    sides: Counter[tuple[str, str, str]] = Counter()
    for state, tree in ((left, plan.left.tree), (right, plan.right.tree)):
        alike = [e for e in results[state.key].errors if _plain(e) in suspects]
        sides |= Counter(_key(e, tree, index) for e in alike)
    seen: Counter[tuple[str, str, str]] = Counter()
    for error in wanted:
        key = _key(error, merged.tree, index)
        seen[key] += 1
        if seen[key] > sides[key]:
            found.append(_break(plan, checker, error, key[2], index))
    return found


def _plain(error: CheckError) -> tuple[str, str]:
    return (error.path, _LINE_IN_MESSAGE.sub("line N", error.message))


def _plain_counts(errors: Sequence[CheckError]) -> Counter[tuple[str, str]]:
    return Counter(map(_plain, errors))


def _key(error: CheckError, tree: str, index: SymbolIndex) -> tuple[str, str, str]:
    return (*_plain(error), _enclosing(error, tree, index))


def _enclosing(error: CheckError, tree: str, index: SymbolIndex) -> str:
    table = index.tables(tree, [error.path]).get(error.path)
    if table is None:
        return ""
    around = [s for s in table.symbols if s.start_line <= error.line <= s.end_line]
    if not around:
        return table.module
    return min(around, key=lambda s: s.end_line - s.start_line).qualname


def _break(
    plan: PairPlan, checker: Checker, error: CheckError, symbol: str, index: SymbolIndex
) -> Finding:
    left, right = plan.left.name, plan.right.name
    caused = _caused_by(plan, error, index)
    where = f" in {symbol}" if symbol else ""
    return Finding(
        kind=MERGE_BREAK,
        code="DC501",
        severity=Severity.ERROR,
        participants=(left, right),
        path=error.path,
        line=error.line,
        symbol=symbol or None,
        message=(
            f"git's merge of {left} and {right} fails {checker.name} at "
            f"{error.path}:{error.line}{where}, which neither side alone does: {error.message}"
        ),
        details={"checker": checker.name, "error": error.message, "caused_by": caused},
    )


def _caused_by(plan: PairPlan, error: CheckError, index: SymbolIndex) -> dict[str, object] | None:
    """Which side wrote the failing line (the use) and which changed what it uses
    (the definition), where the merged line is one side's own new line."""
    merged = plan.merged
    if merged is None:
        return None
    text = index.lines(merged.tree, error.path)
    if not 0 < error.line <= len(text):
        return None
    line = text[error.line - 1].strip()
    base = {x.strip() for x in index.lines(plan.base_tree, error.path)}
    for use, definition in ((plan.left, plan.right), (plan.right, plan.left)):
        mine = [x.strip() for x in index.lines(use.tree, error.path)]
        if line and line in mine and line not in base:
            return {
                "use": {"participant": use.name, "line": mine.index(line) + 1},
                "definition": {"participant": definition.name, "line": None},
            }
    return None


def _unverified(names: tuple[str, str], checker: Checker, why: str) -> Finding:
    return Finding(
        kind=MERGE_BREAK,
        code="DC502",
        severity=Severity.WARNING,
        participants=names,
        path=None,
        line=None,
        message=f"could not verify the merge of {names[0]} and {names[1]}: {why}",
        details={"checker": checker.name, "error": why, "caused_by": None},
    )


def _folder(participant: Participant) -> Path | None:
    return Path(participant.path) if participant.kind == "worktree" and participant.path else None
