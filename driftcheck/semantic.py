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

from driftcheck.changes import SymbolChange, classify_changes
from driftcheck.detectors import PairContext
from driftcheck.graph import BASE, SymbolGraph
from driftcheck.languages import frontend_for
from driftcheck.model import Participant
from driftcheck.symbol_index import SymbolIndex
from driftcheck.symbols import ModuleSymbols, Reference, Symbol

FACTS_KEY = "semantics"


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

    def defines(self, qualname: str) -> Symbol | None:
        """The symbol as this side has it, if this side changed its file."""
        for table in self.tables.values():
            found = table.get(qualname)
            if found is not None:
                return found
        return None


@dataclass
class PairSemantics:
    base_tables: dict[str, ModuleSymbols]
    left: Side
    right: Side
    graph: SymbolGraph
    index: SymbolIndex
    base_tree: str

    def directions(self) -> Iterator[tuple[Side, Side]]:
        """(changer, other) both ways round."""
        yield self.left, self.right
        yield self.right, self.left


def symbol_index(context: PairContext) -> SymbolIndex:
    index = context.services.get("symbol_index")
    if index is None:
        index = SymbolIndex(cwd=context.cwd, env=context.scratch.env)
        context.services["symbol_index"] = index
    return index


def pair_semantics(context: PairContext) -> PairSemantics | None:
    """The pair's semantic facts, computed once; None when no parsable file changed."""
    if FACTS_KEY in context.facts:
        cached: PairSemantics | None = context.facts[FACTS_KEY]
        return cached
    left_paths = _parsable(context.left_changes)
    right_paths = _parsable(context.right_changes)
    result = None
    if left_paths or right_paths:
        result = _build(context, left_paths, right_paths)
    context.facts[FACTS_KEY] = result
    return result


def _parsable(changes: Mapping[str, str]) -> dict[str, str]:
    return {p: s for p, s in changes.items() if frontend_for(p) is not None}


def _build(
    context: PairContext, left_paths: dict[str, str], right_paths: dict[str, str]
) -> PairSemantics:
    index = symbol_index(context)
    base_tables = index.tables(context.base_tree, {**left_paths, **right_paths})
    sides = []
    for participant, paths in (
        (context.pair.left, left_paths),
        (context.pair.right, right_paths),
    ):
        tables = index.tables(participant.tree, [p for p, s in paths.items() if s != "D"])
        before = {p: base_tables[p] for p in paths if p in base_tables}
        sides.append(
            Side(
                participant=participant,
                changed=paths,
                tables=tables,
                changes=classify_changes(before, tables),
                new_references=_new_references(before, tables),
                deleted_modules={
                    base_tables[p].module: p
                    for p, s in paths.items()
                    if s == "D" and p in base_tables and base_tables[p].module
                },
            )
        )
    graph = SymbolGraph()
    graph.add_modules(participant=BASE, tables=base_tables.values())
    for side in sides:
        graph.add_modules(participant=side.name, tables=side.tables.values())
    return PairSemantics(
        base_tables=base_tables,
        left=sides[0],
        right=sides[1],
        graph=graph,
        index=index,
        base_tree=context.base_tree,
    )


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
