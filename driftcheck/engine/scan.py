"""The scan use case: participants -> pairs -> detectors -> a `ScanResult`."""

from __future__ import annotations

import gc
import itertools
import posixpath
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from driftcheck import detectors
from driftcheck.config import Config, load_config
from driftcheck.errors import UsageError
from driftcheck.model import (
    DUPLICATE,
    KINDS,
    STALE_CALLER,
    Finding,
    Pair,
    Participant,
    ScanResult,
)
from driftcheck.store.cache import Cache, NoCache, cache_enabled, open_cache
from driftcheck.store.pair_cache import NAMESPACE as PAIR_NAMESPACE
from driftcheck.store.pair_cache import distinct, pair_key
from driftcheck.symbols.index import SymbolIndex
from driftcheck.symbols.languages import frontend_for
from driftcheck.workspace import git
from driftcheck.workspace.participants import Discovery, discover

if TYPE_CHECKING:
    from driftcheck.daemon.session import Session

Progress = Callable[[int, int, str], None]


@dataclass
class ScanOptions:
    repo: str = "."
    trunk: str | None = None
    ref_patterns: Sequence[str] = ()
    committed_only: bool = False
    use_cache: bool = True
    only: frozenset[str] = field(default_factory=lambda: frozenset(KINDS))
    config: Config | None = None
    # Pre-write judgement: only these files of the left (current) side are analysed.
    focus: frozenset[str] | None = None


def parse_kinds(value: str | None) -> frozenset[str]:
    """`--only a,b` -> {a, b}; unknown kinds are a usage error."""
    if not value:
        return frozenset(KINDS)
    kinds = {k.strip() for k in value.split(",") if k.strip()}
    unknown = sorted(kinds - set(KINDS))
    if unknown:
        known = ", ".join(KINDS)
        raise UsageError(f"unknown kind for --only: {', '.join(unknown)} (known: {known})")
    return frozenset(kinds)


def scan(options: ScanOptions, progress: Progress | None = None) -> ScanResult:
    started = time.monotonic()
    repo = git.open_repo(options.repo)
    config = options.config or load_config(repo.toplevel)
    options = replace(options, config=config, trunk=options.trunk or config.trunk)
    with git.Scratch(repo) as scratch:
        found = discover(
            repo,
            scratch,
            ref_patterns=options.ref_patterns,
            trunk=options.trunk,
            committed_only=options.committed_only,
            keep_states=cache_enabled(options.use_cache),
        )
        pairs = list(itertools.combinations(found.participants, 2))
        analysis = analyse_with_cache(repo, scratch, pairs, options, progress)
    return build_result(repo, found, analysis, config, started)


def build_result(
    repo: git.RepoInfo,
    found: Discovery,
    analysis: PairAnalysis,
    config: Config,
    started: float,
    findings: list[Finding] | None = None,
) -> ScanResult:
    """The v1 result: configured, sorted findings and the run's statistics."""
    stats: dict[str, Any] = {
        "participants": len(found.participants),
        "pairs": analysis.pairs,
        "pairs_analysed": analysis.analysed,
        "pairs_skipped_disjoint": analysis.skipped_disjoint,
        "pairs_without_merge_base": analysis.without_base,
        "merge_simulations": analysis.merge_simulations,
        "pairs_from_cache": analysis.from_cache,
        "skipped_participants": found.skipped,
        "elapsed_ms": round((time.monotonic() - started) * 1000),
    }
    if findings is None:
        findings = configured(analysis.findings, config)
    return ScanResult(
        repo=str(main_worktree(repo, found)),
        trunk=found.trunk,
        participants=found.participants,
        findings=sorted(findings, key=Finding.sort_key),
        stats=stats,
        changed_paths={k: len(v) for k, v in analysis.changed_by.items()},
        warnings=found.warnings,
        fail_on=config.fail_on,
    )


def analyse_with_cache(
    repo: git.RepoInfo,
    scratch: git.Scratch,
    pairs: list[tuple[Participant, Participant]],
    options: ScanOptions,
    progress: Progress | None = None,
    session: Session | None = None,
) -> PairAnalysis:
    """`analyse_pairs` with the persistent cache open (unless --no-cache); a
    long-lived `session` lends its own cache and symbol index."""
    if session is not None:
        return analyse_pairs(
            repo, scratch, pairs, options, progress, session.cache, index=session.index
        )
    cache = open_cache(repo.cache_dir, enabled=options.use_cache)
    try:
        return analyse_pairs(repo, scratch, pairs, options, progress, cache)
    finally:
        cache.close()


def configured(findings: Iterable[Finding], config: Config) -> list[Finding]:
    """Apply severities, disabled kinds and ignored paths from configuration."""
    return [f for f in map(config.apply, findings) if f is not None]


def main_worktree(repo: git.RepoInfo, found: Discovery) -> Path:
    """The main worktree's folder (for a bare repository, the repository itself)."""
    if repo.is_bare:
        return repo.common_dir
    # `git worktree list` names the main worktree first; discovery kept it.
    return Path(found.main_path) if found.main_path else repo.toplevel or repo.common_dir


@dataclass
class PairAnalysis:
    pairs: int = 0
    analysed: int = 0
    skipped_disjoint: int = 0
    merge_simulations: int = 0
    from_cache: int = 0
    without_base: list[list[str]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    changed_by: dict[str, set[str]] = field(default_factory=dict)


def analyse_pairs(
    repo: git.RepoInfo,
    scratch: git.Scratch,
    pairs: list[tuple[Participant, Participant]],
    options: ScanOptions,
    progress: Progress | None = None,
    cache: Cache | None = None,
    *,
    index: SymbolIndex | None = None,
) -> PairAnalysis:
    """Run the selected detectors over every pair that can drift. An `index` passed
    in is the caller's to close; else one is made and closed here."""
    cwd = str(repo.common_dir)
    cache = cache or NoCache()
    result = PairAnalysis(pairs=len(pairs))
    bases = merge_bases(pairs, cwd=cwd, cache=cache)
    diffs: dict[tuple[str, str], dict[str, str]] = {}
    services: dict[str, Any] = {"cache": cache}
    selected = [
        (kind, detector)
        for kind in KINDS
        if kind in options.only and (detector := detectors.load(kind)) is not None
    ]

    owned = index is None
    if index is None:
        index = SymbolIndex(cwd=cwd, env=scratch.env, cache=cache)
    services["symbol_index"] = index

    def diff(base_tree: str, tree: str) -> dict[str, str]:
        if (base_tree, tree) not in diffs:
            found = tree_changes(base_tree, tree, cwd=cwd, env=scratch.env, cache=cache)
            # The blobs on both sides come with the diff: no ls-tree needed for them.
            index.learn(base_tree, {p: c[1] for p, c in found.items()})
            index.learn(tree, {p: c[2] for p, c in found.items()})
            diffs[base_tree, tree] = {p: c[0] for p, c in found.items()}
        return diffs[base_tree, tree]

    keys = _pair_keys(pairs, bases, options, cache, [kind for kind, _ in selected])
    services["pair_keys"] = keys
    services["pair_answers"] = answered = cache.get_many(PAIR_NAMESPACE, set(keys.values()))
    try:
        if options.focus is None and _semantic_selected(options):
            todo = [p for n, p in enumerate(pairs) if keys.get(n) not in answered]
            _prefetch(index, todo, bases, diff, options)
        # The symbol tables just loaded make no garbage: the cyclic collector need
        # not walk them again and again while the pairs are analysed.
        gc.freeze()
        _analyse_each(
            repo, scratch, pairs, options, progress, result, bases, diff, services, selected
        )
    finally:
        gc.unfreeze()
        if owned:
            index.close()  # its git and parsing processes, on every path
    return result


def _analyse_each(
    repo: git.RepoInfo,
    scratch: git.Scratch,
    pairs: list[tuple[Participant, Participant]],
    options: ScanOptions,
    progress: Progress | None,
    result: PairAnalysis,
    bases: dict[str, tuple[str, str]],
    diff: Callable[[str, str], dict[str, str]],
    services: dict[str, Any],
    selected: list[tuple[str, Any]],
) -> None:
    cache: Cache = services["cache"]
    keys, answered = services["pair_keys"], services["pair_answers"]
    for index, (left, right) in enumerate(pairs):
        if progress:
            progress(index, len(pairs), f"{left.name} ↔ {right.name}")
        result.changed_by.setdefault(left.name, set())
        result.changed_by.setdefault(right.name, set())
        found = bases.get(heads_key(left, right))
        if found is None:
            result.without_base.append([left.name, right.name])
            continue
        base, base_tree = found
        left_changes, right_changes = diff(base_tree, left.tree), diff(base_tree, right.tree)
        result.changed_by[left.name].update(left_changes)
        result.changed_by[right.name].update(right_changes)
        meet = paths_can_meet(left_changes, right_changes)
        if meet and options.focus is not None:
            # Only conflicts about the proposed files are reported, and only they
            # (or a deletion, through a rename) can make one.
            focused = {p: s for p, s in left_changes.items() if p in options.focus or s == "D"}
            meet = paths_can_meet(focused, right_changes)
        context = detectors.PairContext(
            pair=Pair(left, right, base),
            repo=repo,
            scratch=scratch,
            base_tree=base_tree,
            left_changes=left_changes,
            right_changes=right_changes,
            paths_meet=meet,
            config=options.config,
            services=services,
            focus=options.focus,
        )
        if not meet:
            # No merge simulation for this pair; semantic detectors may still look.
            result.skipped_disjoint += 1
            if not (
                _semantic_selected(options)
                and _semantic_possible(left_changes, right_changes, options)
            ):
                continue
        result.analysed += 1
        if meet and any(kind == "textual-conflict" for kind, _ in selected):
            result.merge_simulations += 1
        key = keys.get(index)
        if key is not None and key in answered:
            result.findings.extend(answered[key])
            result.from_cache += 1
            continue
        found: list[Finding] = []
        for _kind, detector in selected:
            found.extend(detector(context))
        result.findings.extend(found)
        if key is not None:
            cache.put(PAIR_NAMESPACE, key, found)
    result.findings = distinct(result.findings)
    if progress:
        progress(len(pairs), len(pairs), "done")


def _pair_keys(
    pairs: list[tuple[Participant, Participant]],
    bases: dict[str, tuple[str, str]],
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
            keys[n] = pair_key(left, right, *found, options.config, kinds)
    return keys


def _prefetch(
    index: SymbolIndex,
    pairs: list[tuple[Participant, Participant]],
    bases: dict[str, tuple[str, str]],
    diff: Callable[[str, str], dict[str, str]],
    options: ScanOptions,
) -> None:
    """Parse every changed file the pairs will analyse in one parallel batch: a
    cold scan would otherwise parse them pair by pair."""
    wanted: dict[str, set[str]] = {}
    for left, right in pairs:
        found = bases.get(heads_key(left, right))
        if found is None:
            continue
        base_tree = found[1]
        left_changes, right_changes = diff(base_tree, left.tree), diff(base_tree, right.tree)
        if not (
            paths_can_meet(left_changes, right_changes)
            or _semantic_possible(left_changes, right_changes, options)
        ):
            continue
        for tree, changes in ((left.tree, left_changes), (right.tree, right_changes)):
            wanted.setdefault(tree, set()).update(p for p, s in changes.items() if s != "D")
            wanted.setdefault(base_tree, set()).update(p for p, s in changes.items() if s != "A")
    if pairs and {DUPLICATE, STALE_CALLER} & set(options.only):
        # Whole-tree questions (a function that exists already, how many classes
        # define a method) are asked of the base trees: a cold scan summarises
        # them meanwhile, all but the files parsed here anyway.
        base_trees = {found[1] for pair in pairs if (found := bases.get(heads_key(*pair)))}
        index.start_summaries(base_trees, parsed=wanted)
    index.prefetch(wanted)


def heads_key(left: Participant, right: Participant) -> str:
    return ":".join(sorted((left.head or "", right.head or "")))


def tree_changes(
    base_tree: str, tree: str, *, cwd: str, env: Mapping[str, str], cache: Cache
) -> dict[str, git.Change]:
    """`git.changes` between two trees, cached for good (trees never change)."""
    key = f"{base_tree}:{tree}"
    found: dict[str, git.Change] | None = cache.get("diff-blobs", key)
    if found is None:
        found = git.changes(base_tree, tree, cwd=cwd, env=env)
        cache.put("diff-blobs", key, found)
    return found


def merge_bases(
    pairs: list[tuple[Participant, Participant]], *, cwd: str, cache: Cache
) -> dict[str, tuple[str, str]]:
    """(merge base, its tree) per pair of heads; commits never change, so a found base
    is cached for good (a missing one is not: a shallow clone may deepen)."""
    keys = {heads_key(a, b): (a.head, b.head) for a, b in pairs if a.head and b.head}
    known: dict[str, tuple[str, str]] = cache.get_many("merge-base", keys)
    for key, (a, b) in keys.items():
        if key in known or a is None or b is None:
            continue
        base = a if a == b else git.merge_base(a, b, cwd=cwd)
        if base is not None:
            known[key] = (base, git.tree_of(base, cwd=cwd))
            cache.put("merge-base", key, known[key])
    return known


def _semantic_selected(options: ScanOptions) -> bool:
    return any(k in options.only for k in detectors.DETECTOR_MODULES if k != "textual-conflict")


def _semantic_possible(
    left: Mapping[str, str], right: Mapping[str, str], options: ScanOptions
) -> bool:
    """Drift between two sides needs source changes on both (a definition and a
    use); "this already exists at the base" needs them on one side only."""
    left_src = any(frontend_for(p) for p in left)
    right_src = any(frontend_for(p) for p in right)
    if DUPLICATE in options.only:
        return left_src or right_src
    return left_src and right_src


def paths_can_meet(left: Mapping[str, str], right: Mapping[str, str]) -> bool:
    """False only when no git merge of these two change sets can conflict.

    Besides equal paths this covers file/directory clashes (a path on one side is a
    folder on the other) and directory renames (one side empties a folder the other
    side adds to).
    """
    if not left or not right:
        return False
    if left.keys() & right.keys():
        return True
    if _ancestors(left) & right.keys() or _ancestors(right) & left.keys():
        return True
    return _adds_into_emptied(left, right) or _adds_into_emptied(right, left)


def _ancestors(paths: Iterable[str]) -> set[str]:
    found: set[str] = set()
    for path in paths:
        parent = posixpath.dirname(path)
        while parent and parent not in found:
            found.add(parent)
            parent = posixpath.dirname(parent)
    return found


def _adds_into_emptied(deleter: Mapping[str, str], adder: Mapping[str, str]) -> bool:
    # Every folder above a deleted file may be a renamed one (with its subfolders).
    emptied = _ancestors(p for p, s in deleter.items() if s == "D")
    if not emptied:
        return False
    added = [p for p, s in adder.items() if s == "A"]
    return any(_ancestors([p]) & emptied for p in added)
