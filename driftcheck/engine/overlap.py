"""Which pairs can meet at all: an inverted index over every participant's own work.

Enumerating all N² pairs and asking each whether it drifts costs N² even when the
answer is no. Instead each participant's footprint (what it changed since it forked
from the trunk) is indexed once, by path, folder, changed symbol name, the words
its changed files use, and what duplicate detection needs; only pairs that share a
key are enumerated. Everything else is pruned without a git call.

Why a pruned pair cannot drift (with a trunk; without one every pair is kept):
two sides A, B whose own commits are disjoint and which forked from the trunk's
first-parent line at F_A (older) and F_B have merge base F_A. A's changes against it
are its own; B's are its own plus the trunk's commits after F_A up to F_B, each of
which is compared with A's changes (`_trunk_hits`). A side the argument does not
cover (forked off the line, several fork points, no own changes) is paired with
everyone, as is the trunk. The semantic detectors see each side's own changes
(their scope), and every two-sided semantic finding needs a key below: a name one
side changes that the other's changed files use, a module one changes that the
other names, both adding definitions (duplicates), or a new required member and a
new class (implementers).
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from itertools import combinations

from driftcheck.detectors.duplicates import _claims_name, spottable
from driftcheck.detectors.implementers import is_required
from driftcheck.detectors.semantics import own_facts
from driftcheck.model import DUPLICATE, Participant
from driftcheck.symbols.index import SymbolIndex
from driftcheck.symbols.languages import frontend_for
from driftcheck.symbols.similarity import MAX_TOKENS, does_something
from driftcheck.symbols.table import Symbol

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_COMPARABLE = {"function": "callable", "method": "callable", "class": "class"}
# Below this threshold the length buckets are not worth keeping: one bucket for all.
_LOWEST_THRESHOLD = 0.5


def _bucket(length: int, threshold: float) -> int:
    """Two lengths whose near-duplicate bound 2·min/(x+y) can reach `threshold`
    (min/max >= t/(2-t)) fall in the same or neighbouring buckets: the buckets are
    that ratio wide on a log scale."""
    t = min(threshold, 0.99)  # a lower threshold only widens the buckets
    return int(math.log(max(length, 1)) / -math.log(t / (2 - t)))


Pairing = tuple[int, int]  # positions in the participants' list, smaller first


@dataclass
class Footprint:
    """One participant's own work, as the index sees it."""

    number: int
    changes: Mapping[str, str]  # path -> A/M/D/T against its fork point
    position: int | None = None  # its fork point on the trunk's first-parent line
    own: frozenset[str] = frozenset()  # its commits the trunk lacks
    everyone: bool = False  # paired with every other participant
    names: set[str] = field(default_factory=set)  # symbol and module names it changes
    words: set[str] = field(default_factory=set)  # words its changed source files use
    # Duplicates: (callable|class, length bucket) of what it adds that does
    # something, the public names it adds, the smallest helper it adds that is worth
    # spotting inlined, and the largest function it adds or edits (a host must be
    # larger than the helper it holds).
    buckets: set[tuple[str, int]] = field(default_factory=set)
    claimed: set[str] = field(default_factory=set)
    helper_size: int | None = None
    host_size: int | None = None
    required: bool = False  # adds a member every implementer must define
    classes: bool = False  # adds a class

    @property
    def source(self) -> bool:
        return any(frontend_for(p) for p in self.changes)


def read_semantics(
    footprints: list[Footprint],
    bases: Mapping[int, str],
    participants: list[Participant],
    index: SymbolIndex,
    minimum: int,
    threshold: float,
) -> None:
    """Fill in each footprint's names, words and definition flags from the symbol
    tables of its changed source files (parsed once, in parallel)."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for fp in footprints:
        if fp.everyone or not fp.source:
            continue
        tree, base = participants[fp.number].tree, bases[fp.number]
        wanted[tree].update(p for p, s in fp.changes.items() if s != "D")
        wanted[base].update(p for p, s in fp.changes.items() if s != "A")
    index.prefetch(wanted)
    for fp in footprints:
        if fp.everyone or not fp.source:
            continue
        tree, base = participants[fp.number].tree, bases[fp.number]
        source = {p: st for p, st in fp.changes.items() if frontend_for(p)}
        before = index.tables(base, [p for p in source if source[p] != "A"])
        # The detectors' own facts of this side: its symbol changes, its new references.
        changes, references = own_facts(index, tree, source, before)
        after = index.tables(tree, [p for p in source if source[p] != "D"])
        modules = {t.path: t.module for t in (*before.values(), *after.values())}
        fp.names.update(m.split(".")[-1] for m in modules.values() if m)
        for change in changes:
            for qualname in (change.qualname, change.new_qualname or ""):
                fp.names.update(_below_module(qualname, modules.get(change.path, "")))
            _learn_definition(fp, change.kind, change.after, minimum, threshold)
        for _path, ref in references:
            for text in (ref.target, ref.resolved or "", ref.text, ref.receiver or "", ref.name):
                fp.words.update(_WORD.findall(text))


def _learn_definition(
    fp: Footprint, kind: str, symbol: Symbol | None, minimum: int, threshold: float
) -> None:
    """The duplicate detector's own gates, as keys (detectors/duplicates.py)."""
    if symbol is None:
        return
    if kind in ("added", "body", "signature") and symbol.kind in ("function", "method"):
        fp.host_size = max(fp.host_size if fp.host_size is not None else -1, symbol.body_size)
    if kind != "added":
        return
    fp.required |= is_required(symbol)
    fp.classes |= symbol.kind == "class"
    if symbol.kind not in _COMPARABLE or symbol.body_size < minimum:
        return
    if _claims_name(symbol):
        fp.claimed.add(symbol.name)
    if spottable(symbol, minimum):
        known = fp.helper_size
        fp.helper_size = symbol.body_size if known is None else min(known, symbol.body_size)
    loose = threshold < _LOWEST_THRESHOLD
    if does_something(symbol.body_tokens) or loose:
        length = min(len(symbol.body_tokens), MAX_TOKENS)
        # Below the lowest threshold the buckets cannot tell: one bucket for all.
        fp.buckets.add((_COMPARABLE[symbol.kind], 0 if loose else _bucket(length, threshold)))


def _below_module(qualname: str, module: str) -> list[str]:
    """The parts of a qualified name below its module: `pkg.mod.Order.total` ->
    `Order`, `total` (a caller names these, however it imported them)."""
    if module and qualname.startswith(module + "."):
        qualname = qualname[len(module) + 1 :]
    return [p for p in qualname.split(".") if p]


def candidate_pairs(
    footprints: list[Footprint],
    trunk_changes: list[dict[str, str]],
    kinds: frozenset[str],
    *,
    semantic: bool,
) -> dict[Pairing, set[str]]:
    """Every pair that shares a key, with the reasons: `path`, `trunk`, `name`,
    `duplicate`, `implementer`, `history`, `everyone`."""
    found: dict[Pairing, set[str]] = defaultdict(set)

    def add(a: int, b: int, reason: str) -> None:
        if a != b:
            found[(a, b) if a < b else (b, a)].add(reason)

    everyone = [fp.number for fp in footprints if fp.everyone]
    numbers = [fp.number for fp in footprints]
    for a in everyone:
        for b in numbers:
            add(a, b, "everyone")
    simple = [fp for fp in footprints if not fp.everyone]
    for key_pairs in _path_keys(simple):
        for a, b in key_pairs:
            add(a, b, "path")
    by_commit: dict[str, list[int]] = defaultdict(list)
    for fp in simple:
        for commit in fp.own:
            by_commit[commit].append(fp.number)
    for sharing in by_commit.values():
        for a, b in combinations(sorted(set(sharing)), 2):
            add(a, b, "history")
    for fp in simple:
        hit = _trunk_hit(fp, trunk_changes)
        if hit is None:
            continue
        for other in simple:
            if other.position is not None and other.position <= hit:
                add(fp.number, other.number, "trunk")
    if semantic:
        _semantic_pairs([fp for fp in simple if fp.source], kinds, add)
    return dict(found)


def _path_keys(sides: list[Footprint]) -> Iterable[Iterable[Pairing]]:
    """Pairs `paths_can_meet` may accept: a shared path, a path that is a folder on
    the other side, a folder one side empties that the other adds to."""
    paths: dict[str, list[int]] = defaultdict(list)
    folders: dict[str, list[int]] = defaultdict(list)
    emptied: dict[str, list[int]] = defaultdict(list)
    added_under: dict[str, list[int]] = defaultdict(list)
    for fp in sides:
        for path in fp.changes:
            paths[path].append(fp.number)
        for folder in _ancestors(fp.changes):
            folders[folder].append(fp.number)
        for folder in _ancestors(p for p, s in fp.changes.items() if s == "D"):
            emptied[folder].append(fp.number)
        for folder in _ancestors(p for p, s in fp.changes.items() if s == "A"):
            added_under[folder].append(fp.number)
    for path, owners in paths.items():
        yield combinations(sorted(set(owners)), 2)
        yield ((a, b) for a in owners for b in folders.get(path, ()))
    for folder, owners in emptied.items():
        yield ((a, b) for a in owners for b in added_under.get(folder, ()))


def _trunk_hit(fp: Footprint, trunk_changes: list[dict[str, str]]) -> int | None:
    """The oldest trunk commit after `fp`'s fork point whose changes can meet its
    own: every side forked there or later carries that commit into their merge."""
    if fp.position is None or not fp.changes:
        return None
    for position in range(min(fp.position, len(trunk_changes)) - 1, -1, -1):
        if paths_can_meet(fp.changes, trunk_changes[position]):
            return position
    return None


def _semantic_pairs(
    sides: list[Footprint], kinds: frozenset[str], add: Callable[[int, int, str], None]
) -> None:
    by_word: dict[str, list[int]] = defaultdict(list)
    for fp in sides:
        for word in fp.words:
            by_word[word].append(fp.number)
    for fp in sides:
        for name in fp.names:
            for other in by_word.get(name, ()):
                add(fp.number, other, "name")
    required = [fp.number for fp in sides if fp.required]
    for a in required:
        for fp in sides:
            if fp.classes:
                add(a, fp.number, "implementer")
    if DUPLICATE in kinds:
        by_bucket: dict[tuple[str, int], list[int]] = defaultdict(list)
        by_claim: dict[str, list[int]] = defaultdict(list)
        for fp in sides:
            for kind, bucket in fp.buckets:
                by_bucket[kind, bucket].append(fp.number)
            for name in fp.claimed:
                by_claim[name].append(fp.number)
        for fp in sides:
            for kind, bucket in fp.buckets:
                for near in (bucket - 1, bucket, bucket + 1):
                    for other in by_bucket.get((kind, near), ()):
                        add(fp.number, other, "duplicate")
        for owners in by_claim.values():
            for a, b in combinations(owners, 2):
                add(a, b, "duplicate")
        # An inlined copy: a helper one side adds, written into a larger function
        # the other adds or edits.
        hosts = [fp for fp in sides if fp.host_size is not None]
        for fp in sides:
            if fp.helper_size is not None:
                for host in hosts:
                    if (host.host_size or 0) > fp.helper_size:
                        add(fp.number, host.number, "duplicate")


def _ancestors(paths: Iterable[str]) -> set[str]:
    found: set[str] = set()
    for path in paths:
        parent = path.rpartition("/")[0]
        while parent and parent not in found:
            found.add(parent)
            parent = parent.rpartition("/")[0]
    return found


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


def _adds_into_emptied(deleter: Mapping[str, str], adder: Mapping[str, str]) -> bool:
    # Every folder above a deleted file may be a renamed one (with its subfolders).
    emptied = _ancestors(p for p, s in deleter.items() if s == "D")
    if not emptied:
        return False
    added = [p for p, s in adder.items() if s == "A"]
    return any(_ancestors([p]) & emptied for p in added)
