"""Per-pair semantic facts shared by the stale-caller, duplicate and contradiction detectors.

For a pair (left, right) over merge base B this parses, once, every changed file
that has a language frontend: at B and at each side's state. It then classifies each
side's symbol changes against B, finds the references each side added or edited,
and loads everything into a `SymbolGraph`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from driftcheck.model import Pair, Participant
from driftcheck.symbols.changes import SymbolChange, classify_changes
from driftcheck.symbols.graph import BASE, SymbolGraph, resolve_name
from driftcheck.symbols.index import SymbolIndex
from driftcheck.symbols.languages import frontend_for
from driftcheck.symbols.table import ModuleSymbols, Reference, Symbol

# Inheritance chains longer than this are not followed (and cycles end anyway).
_MAX_BASES = 32


# A side's symbol changes and new references, by (base tree, its tree, its paths).
SideKey = tuple[str, str, frozenset[tuple[str, str]]]
SideFacts = tuple[list[SymbolChange], list[tuple[str, Reference]]]
SideFactsCache = dict[SideKey, SideFacts]


@dataclass
class Side:
    """One participant's view of the pair: what it changed and what it newly uses."""

    participant: Participant
    changed: Mapping[str, str]
    tables: dict[str, ModuleSymbols]
    changes: list[SymbolChange]
    new_references: list[tuple[str, Reference]]
    deleted_modules: dict[str, str] = field(default_factory=dict)  # module -> path

    @property
    def name(self) -> str:
        return self.participant.name

    @property
    def tree(self) -> str:
        return self.participant.tree

    def change_of(self, qualname: str) -> SymbolChange | None:
        return self._by_qualname.get(qualname)

    @property
    def _by_qualname(self) -> dict[str, SymbolChange]:
        cached = self.__dict__.get("_changes_by_qualname")
        if cached is None:
            cached = {c.qualname: c for c in self.changes}
            self.__dict__["_changes_by_qualname"] = cached
        return cached


@dataclass
class PairSemantics:
    left: Side
    right: Side
    graph: SymbolGraph
    index: SymbolIndex
    base_tree: str

    def directions(self) -> Iterator[tuple[Side, Side]]:
        """(changer, other) both ways round."""
        yield self.left, self.right
        yield self.right, self.left

    # -- lookups that parse unchanged modules on demand ---------------------------

    def symbol(self, side: Side | None, qualname: str) -> Symbol | None:
        """`qualname` as `side` (None: the merge base) has it.

        Only changed files are parsed up front; a definition in an unchanged file
        (a base class, say) is read from the side's tree when first asked for.
        """
        participant = side.name if side is not None else BASE
        found = self.graph.symbol(participant=participant, qualname=qualname)
        if found is None and self._load(side, qualname):
            found = self.graph.symbol(participant=participant, qualname=qualname)
        return found

    def find_method(self, side: Side | None, cls: str, name: str) -> Symbol | None:
        """`cls.name` as Python would find it: the class, then its bases in order."""
        for owner in self.ancestors(side, cls):
            found = self.symbol(side, f"{owner}.{name}")
            if found is not None:
                return found
        return None

    def ancestors(self, side: Side | None, cls: str) -> Iterator[str]:
        """`cls` and the classes it derives from, nearest first, as `side` has them
        (qualified through each file's imports and re-exports)."""
        participant = side.name if side is not None else BASE
        tree = side.tree if side is not None else self.base_tree
        queue, seen = [cls], set()
        while queue and len(seen) < _MAX_BASES:
            owner = queue.pop(0)
            if owner in seen:
                continue
            seen.add(owner)
            yield owner
            klass = self.symbol(side, owner)
            if klass is None or klass.kind != "class":
                continue
            table = self.graph.module(participant=participant, path=klass.path)
            for base in klass.bases:
                written = base.split("[", 1)[0].split("<", 1)[0]  # Generic[T], Base<T>
                resolved = resolve_name(written, table) if table else written
                queue.append(self.index.canonical(tree, resolved))

    def _load(self, side: Side | None, qualname: str) -> bool:
        """Parse the module that should define `qualname` into the graph; True if new."""
        participant = side.name if side is not None else BASE
        tree = side.tree if side is not None else self.base_tree
        modules = self.index.module_paths(tree)
        parts = qualname.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            path = modules.get(".".join(parts[:cut]))
            if path is None:
                continue
            if self.graph.module(participant=participant, path=path) is not None:
                return False
            self.graph.add_modules(
                participant=participant, tables=self.index.tables(tree, [path]).values()
            )
            return True
        return False


@dataclass(frozen=True)
class _Inputs:
    """What building a pair's semantics reads."""

    index: SymbolIndex
    side_facts: SideFactsCache
    pair: Pair
    base_tree: str  # the pair's merge base: what "the base" has, for lookups
    side_bases: tuple[str, str]  # what each side's own changes are counted from


# (the tree a side's changes are counted from, path -> A/M/D/T against it)
Scope = tuple[str, Mapping[str, str]]


def build_semantics(
    *,
    index: SymbolIndex,
    side_facts: SideFactsCache,
    pair: Pair,
    base_tree: str,
    scopes: tuple[Scope, Scope],
    focus: frozenset[str] | None,
) -> PairSemantics | None:
    """The pair's semantic facts; None when no parsable file changed. Each side's
    changes are what its scope says it changed (against its own fork point from the
    trunk, or the merge base); `side_facts` keeps them for the other pairs."""
    (left_base, left_changes), (right_base, right_changes) = scopes
    inputs = _Inputs(
        index=index,
        side_facts=side_facts,
        pair=pair,
        base_tree=base_tree,
        side_bases=(left_base, right_base),
    )
    left_paths = _parsable(left_changes)
    right_paths = _parsable(right_changes)
    if focus is not None:
        # A proposed edit is judged on what it touches, not on the rest of its side,
        # and against the other side's files that can meet it.
        left_paths = {p: s for p, s in left_paths.items() if p in focus}
        right_paths = _related(inputs, left_paths, right_paths)
    if not (left_paths or right_paths):
        return None
    return _build(inputs, left_paths, right_paths)


def _parsable(changes: Mapping[str, str]) -> dict[str, str]:
    return {p: s for p, s in changes.items() if frontend_for(p) is not None}


def _file_is_module(path: str) -> bool:
    """False where a module spans files (a Go/Java package): deleting one file of it
    removes its symbols (reported one by one), not the module."""
    frontend = frontend_for(path)
    return frontend is None or getattr(frontend, "file_is_module", True)


def _related(inputs: _Inputs, focus: dict[str, str], others: dict[str, str]) -> dict[str, str]:
    """The other side's changed files that can interact with the focus files.

    Drift needs a change on one side and a new use on the other, or two changes to
    one thing. So the other side's file is kept when it is one of the focus files,
    when the focus files import it, when its text (at the base or now) names
    something the focus files changed or newly use (a byte search instead of a
    parse), or when its cached summary shows a function alike to one the focus
    files added or edited.
    """
    if not focus or not others:
        return {}
    index, pair = inputs.index, inputs.pair
    left_base, right_base = inputs.side_bases
    base_tables = index.tables(left_base, focus)
    changes, new_references = _side_facts(inputs, pair.left, left_base, focus, base_tables)
    own = index.tables(pair.left.tree, [p for p, s in focus.items() if s != "D"])
    imported = {t for table in own.values() for t in table.imports.values()}
    names = {r.name or r.target.rpartition(".")[2] for _path, r in new_references}
    edited: list[Symbol] = []
    for change in changes:
        for symbol in (change.before, change.after):
            if symbol is not None:
                names.add(symbol.name.split("/", 1)[0])
        if change.new_qualname:
            names.add(change.new_qualname.rpartition(".")[2])
        if change.after is not None:
            edited.append(change.after)
    # A deleted file takes its module with it: uses of the module name it.
    names |= {
        t.module.rpartition(".")[2]
        for p, t in base_tables.items()
        if t.module and (focus.get(p) == "D" or p not in own)
    }
    needles = [n.encode("utf-8", "surrogateescape") for n in names if len(n) > 2]
    modules = {p: f.module_name(p) for p in others if (f := frontend_for(p)) is not None}
    present = [p for p, s in others.items() if s != "D"]
    texts = [index.contents(pair.right.tree, present)]
    texts.append(index.contents(right_base, [p for p, s in others.items() if s != "A"]))
    similar = index.similar_files(pair.right.tree, present, edited, names)
    keep: dict[str, str] = {}
    for path, status in others.items():
        module = modules.get(path, path)
        is_imported = any(t == module or t.startswith(module + ".") for t in imported)
        mentions = needles and any(n in t.get(path, b"") for t in texts for n in needles)
        if path in focus or is_imported or mentions or path in similar:
            keep[path] = status
    return keep


def _build(
    inputs: _Inputs, left_paths: dict[str, str], right_paths: dict[str, str]
) -> PairSemantics:
    index = inputs.index
    base_tables = index.tables(inputs.base_tree, {**left_paths, **right_paths})
    sides = []
    for participant, side_base, paths in (
        (inputs.pair.left, inputs.side_bases[0], left_paths),
        (inputs.pair.right, inputs.side_bases[1], right_paths),
    ):
        tables = index.tables(participant.tree, [p for p, s in paths.items() if s != "D"])
        own_base = base_tables if side_base == inputs.base_tree else index.tables(side_base, paths)
        changes, new_references = _side_facts(inputs, participant, side_base, paths, own_base)
        sides.append(
            Side(
                participant=participant,
                changed=paths,
                tables=tables,
                changes=changes,
                new_references=new_references,
                deleted_modules={
                    own_base[p].module: p
                    for p, s in paths.items()
                    if s == "D" and p in own_base and own_base[p].module and _file_is_module(p)
                },
            )
        )
    graph = SymbolGraph()
    graph.add_modules(participant=BASE, tables=base_tables.values())
    for side in sides:
        graph.add_modules(participant=side.name, tables=side.tables.values())
    return PairSemantics(
        left=sides[0],
        right=sides[1],
        graph=graph,
        index=index,
        base_tree=inputs.base_tree,
    )


def _side_facts(
    inputs: _Inputs,
    participant: Participant,
    side_base: str,
    paths: Mapping[str, str],
    base_tables: Mapping[str, ModuleSymbols],
) -> SideFacts:
    """A side's symbol changes and new references in `paths`, against `side_base`. A
    participant meets the same base in many pairs: classify it once."""
    cache = inputs.side_facts
    key = (side_base, participant.tree, frozenset(paths.items()))
    if key not in cache:
        cache[key] = own_facts(inputs.index, participant.tree, paths, base_tables)
    return cache[key]


def own_facts(
    index: SymbolIndex,
    tree: str,
    paths: Mapping[str, str],
    base_tables: Mapping[str, ModuleSymbols],
) -> SideFacts:
    """What `tree` changes in `paths` (A/M/D/T against the base `base_tables` come
    from): its symbol changes and the references it adds or edits."""
    tables = index.tables(tree, [p for p, s in paths.items() if s != "D"])
    before = {p: base_tables[p] for p in paths if p in base_tables}
    return classify_changes(before, tables), _new_references(before, tables)


def _reference_key(ref: Reference) -> tuple[object, ...]:
    return (ref.kind, ref.target, " ".join(ref.text.split()), ref.enclosing)


def _new_references(
    before: Mapping[str, ModuleSymbols], after: Mapping[str, ModuleSymbols]
) -> list[tuple[str, Reference]]:
    """References a side added or edited: present now, absent from the base version."""
    found: list[tuple[str, Reference]] = []
    for path, table in sorted(after.items()):
        old = before.get(path)
        remaining = Counter(_reference_key(r) for r in old.references) if old else Counter()
        for ref in table.references:
            key = _reference_key(ref)
            if remaining[key] > 0:
                remaining[key] -= 1
                continue
            found.append((path, ref))
    return found
