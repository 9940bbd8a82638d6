"""The pairs of one analysis, prepared and analysed a window at a time.

A cold scan used to parse every file its pairs would read and simulate every merge
before analysing the first pair, so it held all of them at once: on 150 open pull
requests a shard of 1,300 pairs peaked above 1 GB, mostly symbol tables and the
conflicted blobs of merges made ahead. Now a window of pairs is prepared (its files
parsed in one parallel batch, its merges made side by side), analysed, and then a
one-off run lets go of the tables no later window reads. Memory follows the window,
not the list; a file several windows read is parsed once and kept until the last.

A long-lived session (the daemon) keeps its tables: later analyses ask for the same
blobs again.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING

from driftcheck import detectors
from driftcheck.engine.merges import merge_ahead
from driftcheck.engine.overlap import paths_can_meet
from driftcheck.model import DUPLICATE, STALE_CALLER, TEXTUAL_CONFLICT, Participant
from driftcheck.symbols.languages import frontend_for

if TYPE_CHECKING:
    from driftcheck.engine.bases import Sides
    from driftcheck.engine.options import ScanOptions
    from driftcheck.engine.pair_run import PairRun
    from driftcheck.symbols.index import SymbolIndex

# Pairs prepared at once: enough for the parse and the merges to run in parallel,
# few enough that what they hold stays small.
WINDOW = 96
# Whole-tree indexes a one-off run keeps at once (pairs come grouped by merge base
# in a shard, so the base trees' indexes are mostly asked for in a row).
TREES_KEPT = 12
# Merges made ahead at once: a few per merging process, each result holding its
# conflicted files whole (a 500 kB changelog, four times) until its pair is analysed.
MERGES_AHEAD = 12


def in_windows(
    run: PairRun, pairs: list[Sides], order: list[int], todo: set[int]
) -> Iterator[list[int]]:
    """`order` (pair numbers) in batches, each prepared before it is yielded: the
    files a window's pairs in `todo` parse, then a batch's merges. After a window,
    a one-off session drops the symbol tables no later window wants."""
    windows = [order[start : start + WINDOW] for start in range(0, len(order), WINDOW)]
    options, index = run.options, run.session.index
    semantic = options.focus is None and semantic_selected(options)
    textual = options.focus is None and any(kind == TEXTUAL_CONFLICT for kind, _ in run.selected)
    wanted = [
        wanted_files(run, [pairs[n] for n in window if n in todo]) if semantic else {}
        for window in windows
    ]
    if semantic and todo and {DUPLICATE, STALE_CALLER} & set(options.only):
        # Whole-tree questions (a function that exists already, how many classes
        # define a method) are asked of the base trees: a cold scan summarises them
        # meanwhile, all but the files the windows parse anyway.
        trees = {found.tree for n in todo if (found := run.base_of(*pairs[n]))}
        parsed: dict[str, set[str]] = {}
        for files in wanted:
            for tree, paths in files.items():
                parsed.setdefault(tree, set()).update(paths)
        index.start_summaries(trees, parsed=parsed)
    cwd = str(run.session.repo.common_dir)
    free = not run.session.keeps_between_runs and len(windows) > 1
    last = _last_window(index, wanted) if free else {}
    if free:
        index.trees_kept = TREES_KEPT
    for number, window in enumerate(windows):
        if semantic:
            index.prefetch(wanted[number])
        for batch, meeting in _batches(run, pairs, window, todo if textual else set()):
            merge_ahead(run.shared, meeting, scratch=run.session.scratch, cwd=cwd)
            yield batch
        if free:
            later = {item for item, final in last.items() if final > number}
            index.forget_tables(later.__contains__)


def _batches(
    run: PairRun, pairs: list[Sides], window: list[int], todo: set[int]
) -> Iterator[tuple[list[int], list[Sides]]]:
    """`window` cut so that each part holds at most MERGES_AHEAD pairs (of `todo`)
    git must merge: each part with those pairs."""
    batch: list[int] = []
    meeting: list[Sides] = []
    for number in window:
        batch.append(number)
        if number in todo and meet(run, *pairs[number]):
            meeting.append(pairs[number])
            if len(meeting) == MERGES_AHEAD:
                yield batch, meeting
                batch, meeting = [], []
    if batch:
        yield batch, meeting


def _last_window(
    index: SymbolIndex, wanted: list[dict[str, set[str]]]
) -> dict[tuple[str, str], int]:
    """(blob, path) -> the last window whose pairs parse it."""
    last: dict[tuple[str, str], int] = {}
    for number, files in enumerate(wanted):
        for tree, paths in files.items():
            for path, oid in index.blob_ids(tree, paths).items():
                last[oid, path] = number
    return last


def wanted_files(run: PairRun, pairs: Iterable[Sides]) -> dict[str, set[str]]:
    """tree -> the changed files the pairs parse there (both sides and their bases)."""
    options = run.options
    wanted: dict[str, set[str]] = {}
    for left, right in pairs:
        found = run.base_of(left, right)
        if found is None:
            continue
        base_tree = found.tree
        left_changes, right_changes = (
            run.diff(base_tree, left.tree),
            run.diff(base_tree, right.tree),
        )
        if not (
            paths_can_meet(left_changes, right_changes)
            or semantic_possible(left_changes, right_changes, options)
        ):
            continue
        for tree, changes in ((left.tree, left_changes), (right.tree, right_changes)):
            wanted.setdefault(tree, set()).update(p for p, s in changes.items() if s != "D")
            wanted.setdefault(base_tree, set()).update(p for p, s in changes.items() if s != "A")
        for side in (left, right):
            scope = run.scope(side, found)
            if scope is not None:
                own = scope.changes.items()
                wanted.setdefault(scope.base_tree, set()).update(p for p, s in own if s != "A")
    return wanted


def by_base(
    run: PairRun, pairs: list[Sides], mine: list[int]
) -> tuple[list[int], dict[int, list[str]]]:
    """`mine` grouped by merge base tree, and at each position the trees (bases,
    sides, fork points) no later pair reads."""

    def base_tree(number: int) -> str:
        found = run.base_of(*pairs[number])
        return found.tree if found is not None else ""

    order = sorted(mine, key=lambda n: (base_tree(n), n))
    final: dict[str, int] = {}
    for position, number in enumerate(order):
        left, right = pairs[number]
        trees = [base_tree(number), left.tree, right.tree]
        trees += [fork.tree for side in (left, right) if (fork := run.fork_of(side))]
        for tree in trees:
            if tree:
                final[tree] = position
    last: dict[int, list[str]] = {}
    for tree, position in final.items():
        last.setdefault(position, []).append(tree)
    return order, last


def meet(run: PairRun, left: Participant, right: Participant) -> bool:
    """Whether git must merge the pair: its changed paths can meet. Against one of
    several bases the changes may look apart while git, merging against all of
    them, conflicts: such a pair is always merged."""
    found = run.base_of(left, right)
    if found is None:
        return False
    left_changes, right_changes = run.diff(found.tree, left.tree), run.diff(found.tree, right.tree)
    return paths_can_meet(left_changes, right_changes) or (
        found.several and bool(left_changes or right_changes)
    )


def semantic_selected(options: ScanOptions) -> bool:
    return any(k in options.only for k in detectors.DETECTOR_MODULES if k != "textual-conflict")


def semantic_possible(
    left: Mapping[str, str], right: Mapping[str, str], options: ScanOptions
) -> bool:
    """Drift between two sides needs source changes on both (a definition and a
    use); "this already exists at the base" needs them on one side only."""
    left_src = any(frontend_for(p) for p in left)
    right_src = any(frontend_for(p) for p in right)
    if DUPLICATE in options.only:
        return left_src or right_src
    return left_src and right_src
