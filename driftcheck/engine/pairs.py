"""Analyse pairs of participants: merge bases, each side's changes, the detectors.

Pairs whose changes cannot meet are skipped cheaply; a pair whose inputs are all
unchanged since an earlier run is answered from the pair cache; the rest go
through every selected detector, which share the pair's facts (detectors/context.py).
"""

from __future__ import annotations

import gc
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from driftcheck import detectors
from driftcheck.detectors.context import PairContext, SharedFacts
from driftcheck.engine.bases import MergeBase, Sides, heads_key, merge_bases
from driftcheck.engine.options import Progress, ScanOptions
from driftcheck.engine.overlap import paths_can_meet
from driftcheck.engine.pair_run import PairRun
from driftcheck.engine.pruning import PairPlan, plan_pairs
from driftcheck.engine.session import AnalysisSession
from driftcheck.engine.shards import Shard, assign
from driftcheck.engine.windows import (
    by_base,
    in_windows,
    meet,
    semantic_possible,
    semantic_selected,
)
from driftcheck.model import (
    KINDS,
    Finding,
    Pair,
    Participant,
)
from driftcheck.store.cache import Cache, NoCache
from driftcheck.store.pair_cache import NAMESPACE as PAIR_NAMESPACE
from driftcheck.store.pair_cache import distinct, pair_key
from driftcheck.workspace import batch

if TYPE_CHECKING:
    from driftcheck.verify.merges import VerifyOutcome


@dataclass
class PairAnalysis:
    pairs: int = 0
    enumerated: int = 0
    pruned: int = 0
    assigned: int = 0  # the pairs this shard analyses (all enumerated ones unsharded)
    # A shard that planned only its own pairs: `enumerated`, `pruned` and
    # `changed_by` are its part, which merge-reports adds up.
    local: bool = False
    analysed: int = 0
    skipped_disjoint: int = 0
    merge_simulations: int = 0
    from_cache: int = 0
    without_base: list[list[str]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    changed_by: dict[str, set[str]] = field(default_factory=dict)
    verified: VerifyOutcome | None = None  # `--verify`'s findings and statistics
    # Files left out of the analysis for their size: path -> bytes.
    too_large: dict[str, int] = field(default_factory=dict)
    mine: list[Sides] = field(default_factory=list)  # the pairs this run analysed
    answered: list[Sides] = field(default_factory=list)  # ... answered from the pair cache


def analyse_pairs(
    session: AnalysisSession,
    pairs: list[Sides],
    options: ScanOptions,
    progress: Progress | None = None,
    trunk: Participant | None = None,
    *,
    participants: list[Participant] | None = None,
    shard: Shard | None = None,
    reuse: bool = True,
) -> PairAnalysis:
    """Run the selected detectors over every pair that can drift (with `reuse` off,
    the pair cache is neither read nor written: a warm-up, daemon/feed.py). With a `trunk`,
    the semantic detectors see each side's own work: its changes against its fork
    point from the trunk (git's merge, and so textual conflicts, stay git's).

    With `participants` (the list `pairs` was made from), only the pairs the overlap
    index keeps are enumerated (engine/overlap.py); with a `shard`, only its share
    of those is analysed."""
    cache = session.cache
    selected = [
        (kind, detector)
        for kind in KINDS
        if kind in options.only and (detector := detectors.load(kind)) is not None
    ]
    cwd = str(session.repo.common_dir)
    plan = plan_pairs(session, participants, trunk, options, shard) if participants else None
    local = plan is not None and plan.share is not None
    result = PairAnalysis(pairs=len(pairs), local=local)
    semantic_ok: list[bool] = [True] * len(pairs)
    if plan is not None and participants is not None:
        numbered = {id(p): n for n, p in enumerate(participants)}
        kept = []
        for left, right in pairs:
            a, b = numbered[id(left)], numbered[id(right)]
            pairing = (a, b) if a < b else (b, a)
            if pairing in plan.reasons:
                kept.append(((left, right), plan.semantic(pairing)))
        pairs = [p for p, _ in kept]
        semantic_ok = [ok for _, ok in kept]
    result.enumerated = len(pairs)
    result.pruned = result.pairs - result.enumerated
    if plan is not None and plan.share is not None and shard is not None:
        # A local plan knows only its own pairs: the shards' counts add up (the
        # pairs no shard took are counted by the first).
        result.pruned = len(plan.share.pairs) - result.enumerated
        if shard.index == 1:
            result.pruned += result.pairs - plan.share.candidates
    bases = _known_bases(plan, pairs) | merge_bases(
        [p for p in pairs if plan is None or _heads(p) not in plan.bases], cwd=cwd, cache=cache
    )
    forks: dict[str, MergeBase] = {}
    if trunk is not None:
        sides = {id(p): p for pair in pairs for p in pair if p is not trunk}
        forks = _known_forks(plan, sides.values(), trunk) | merge_bases(
            [(p, trunk) for p in sides.values() if plan is None or p.head not in plan.forks],
            cwd=cwd,
            cache=cache,
        )
    keys = _pair_keys(pairs, bases, forks, trunk, options, cache, [k for k, _ in selected])
    keys = keys if reuse else {}
    run = PairRun(
        session=session,
        options=options,
        selected=selected,
        bases=bases,
        keys=keys,
        answered=cache.get_many(PAIR_NAMESPACE, set(keys.values())) if reuse else {},
        shared=SharedFacts(index=session.index, kept=session.kept_facts()),
        trunk=trunk,
        forks=forks,
    )
    _prime_diffs(run, pairs)
    # Every shard counts its enumerated pairs' changes (with a plan shared by all
    # shards, all of them): the merged report then says what an unsharded scan says.
    for left, right in pairs:
        result.changed_by.setdefault(left.name, set())
        result.changed_by.setdefault(right.name, set())
        found = run.base_of(left, right)
        if found is not None:
            result.changed_by[left.name].update(run.diff(found.tree, left.tree))
            result.changed_by[right.name].update(run.diff(found.tree, right.tree))
    mine = range(len(pairs))
    if shard is not None and not local:
        mine = assign(pairs, lambda pair: _cost(run, pair), shard)  # type: ignore[assignment]
    result.assigned = len(mine)
    result.mine = [pairs[n] for n in mine]
    # A one-off shard takes its pairs by merge base and frees each tree's whole-tree
    # index after its last pair (the order changes no finding).
    order, last = by_base(run, pairs, list(mine)) if local else (list(mine), {})
    todo = {n for n in mine if keys.get(n) not in run.answered}
    done = 0
    try:
        for window in in_windows(run, pairs, order, todo):
            # The symbol tables just loaded make no garbage: the cyclic collector
            # need not walk them again and again while the pairs are analysed.
            gc.freeze()
            for number in window:
                left, right = pairs[number]
                if progress:
                    progress(done, len(mine), f"{left.name} ↔ {right.name}")
                _analyse_pair(run, number, left, right, result, semantic_ok[number])
                for tree in last.get(done, ()):
                    session.index.forget_tree(tree)
                done += 1
    finally:
        gc.unfreeze()
    result.findings = distinct(result.findings)
    result.too_large.update(session.index.too_large)
    result.without_base.sort()
    if progress:
        progress(len(mine), len(mine), "done")
    return result


def _heads(pair: Sides) -> tuple[str, str]:
    a, b = sorted((pair[0].head or "", pair[1].head or ""))
    return a, b


def _known_bases(plan: PairPlan | None, pairs: list[Sides]) -> dict[str, MergeBase]:
    """The merge bases the footprints settled (no `merge-base` call for them)."""
    if plan is None:
        return {}
    found = {}
    for pair in pairs:
        known = plan.bases.get(_heads(pair))
        if known is not None:
            found[heads_key(*pair)] = MergeBase(known[0], known[1], False)
    return found


def _known_forks(
    plan: PairPlan | None, sides: Iterable[Participant], trunk: Participant
) -> dict[str, MergeBase]:
    if plan is None:
        return {}
    found = {}
    for side in sides:
        known = plan.forks.get(side.head or "")
        if known is not None:
            commits, tree = known
            found[heads_key(side, trunk)] = MergeBase(commits[0], tree, len(commits) > 1)
    return found


def _prime_diffs(run: PairRun, pairs: list[Sides]) -> None:
    """Every diff the pairs need, from the cache or one `diff-tree --stdin`."""
    wanted: set[tuple[str, str]] = set()
    for left, right in pairs:
        found = run.base_of(left, right)
        if found is not None:
            wanted.update({(found.tree, left.tree), (found.tree, right.tree)})
        for side in (left, right):
            fork = run.fork_of(side)
            if fork is not None:
                wanted.add((fork.tree, side.tree))
    session = run.session
    cache = session.cache
    keys = {f"{a}:{b}": (a, b) for a, b in wanted if (a, b) not in run.diffs}
    known = cache.get_many("diff-blobs", set(keys))
    missing = [pair for key, pair in keys.items() if key not in known]
    fresh = batch.diffs(missing, cwd=str(session.repo.common_dir), env=session.scratch.env)
    for (a, b), found_changes in fresh.items():
        cache.put("diff-blobs", f"{a}:{b}", found_changes)
        known[f"{a}:{b}"] = found_changes
    for key, changes in known.items():
        a, b = keys[key]
        session.index.learn(a, {p: c[1] for p, c in changes.items()})
        session.index.learn(b, {p: c[2] for p, c in changes.items()})
        run.diffs[a, b] = {p: c[0] for p, c in changes.items()}


def _cost(run: PairRun, pair: Sides) -> float:
    """A pair's estimated work: its changed source files (parsed, compared), more
    when its paths meet (git merges it)."""
    found = run.base_of(*pair)
    if found is None:
        return 1.0
    left, right = run.diff(found.tree, pair[0].tree), run.diff(found.tree, pair[1].tree)
    source = run.source_files(found.tree, pair[0].tree) + run.source_files(found.tree, pair[1].tree)
    return 1.0 + source + (10.0 if paths_can_meet(left, right) else 0.0)


def _analyse_pair(
    run: PairRun,
    number: int,
    left: Participant,
    right: Participant,
    result: PairAnalysis,
    semantic_ok: bool = True,
) -> None:
    options = run.options
    found = run.base_of(left, right)
    if found is None:
        result.without_base.append([left.name, right.name])
        return
    base, base_tree = found.commit, found.tree
    left_changes, right_changes = run.diff(base_tree, left.tree), run.diff(base_tree, right.tree)
    meets = meet(run, left, right)
    if meets and options.focus is not None:
        # Only conflicts about the proposed files are reported, and only they
        # (or a deletion, through a rename) can make one.
        focused = {p: s for p, s in left_changes.items() if p in options.focus or s == "D"}
        meets = paths_can_meet(focused, right_changes)
    left_scope, right_scope = run.scope(left, found), run.scope(right, found)
    if not left_changes or not right_changes:
        # One side is the merge base (a pull request stacked on the other): merging is
        # a fast-forward to the other side, which holds all of this side's work.
        left_scope = right_scope = None
    if not meets:
        # No merge simulation for this pair; semantic detectors may still look.
        result.skipped_disjoint += 1
        own_left = left_scope.changes if left_scope else left_changes
        own_right = right_scope.changes if right_scope else right_changes
        # A pair the overlap index kept for its paths alone has nothing semantic.
        if not (
            semantic_ok
            and semantic_selected(options)
            and semantic_possible(own_left, own_right, options)
        ):
            return
    result.analysed += 1
    if meets and any(kind == "textual-conflict" for kind, _ in run.selected):
        result.merge_simulations += 1
    key = run.keys.get(number)
    if key is not None and key in run.answered:
        _note_too_large(run.answered[key], result)
        result.findings.extend(run.answered[key])
        result.from_cache += 1
        result.answered.append((left, right))
        return
    context = PairContext(
        pair=Pair(left, right, base),
        repo=run.session.repo,
        scratch=run.session.scratch,
        base_tree=base_tree,
        left_changes=left_changes,
        right_changes=right_changes,
        paths_meet=meets,
        shared=run.shared,
        config=options.config,
        focus=options.focus,
        left_scope=left_scope,
        right_scope=right_scope,
        trunk=run.trunk.name if run.trunk is not None else None,
    )
    findings: list[Finding] = []
    for _kind, detector in run.selected:
        findings.extend(detector(context))
    result.findings.extend(findings)
    _note_too_large(findings, result)
    if key is not None:
        run.session.cache.put(PAIR_NAMESPACE, key, findings)


def _note_too_large(findings: list[Finding], result: PairAnalysis) -> None:
    """Files whose merge git judged alone, too large to analyse (from the cache too)."""
    for finding in findings:
        size = finding.details.get("too_large_bytes")
        if finding.path is not None and isinstance(size, int):
            result.too_large[finding.path] = size


def _pair_keys(
    pairs: list[Sides],
    bases: dict[str, MergeBase],
    forks: dict[str, MergeBase],
    trunk: Participant | None,
    options: ScanOptions,
    cache: Cache,
    kinds: list[str],
) -> dict[int, str]:
    """Pair index -> its key in the pair cache. A judgement (focus) is never cached:
    its left side is a proposal, new every time."""
    if options.focus is not None or isinstance(cache, NoCache):
        return {}
    keys = {}
    for n, (left, right) in enumerate(pairs):
        found = bases.get(heads_key(left, right))
        if found is not None:
            forked = [
                (fork.commit if (fork := forks.get(heads_key(side, trunk))) else found.commit)
                for side in (left, right)
                if trunk is not None
            ]
            keys[n] = pair_key(left, right, found.commit, found.tree, options.config, kinds, forked)
    return keys
