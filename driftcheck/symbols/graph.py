"""The symbol graph: the only module that imports networkx.

Nodes are definitions seen by one participant (`base` is the merge base); edges are
calls, imports and inheritance, each labelled with the participant that has them.
Detectors ask domain questions through keyword-only methods that take and return
plain values, so the engine behind them can change without any caller noticing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING

from driftcheck.symbols.table import ModuleSymbols, Reference, Symbol

if TYPE_CHECKING:
    import networkx

BASE = "base"
CALL, IMPORT, INHERITS = "call", "import", "inherits"


def _node(participant: str, qualname: str) -> tuple[str, str]:
    return (participant, qualname)


class SymbolGraph:
    """Point lookups (a symbol, a module, definitions by name) are served from dict
    indexes; the networkx graph behind the traversal questions (callers, bases) is
    built on first use, so a hook that never walks edges never imports networkx
    (about a quarter of a second)."""

    def __init__(self) -> None:
        # participant -> qualname -> symbol: filled a table at a time from the table's
        # own map (made once per table, which the symbol index keeps), since every
        # pair builds a graph of its changed files again.
        self._symbols: dict[str, dict[str, Symbol]] = defaultdict(dict)
        self._tables: dict[str, list[ModuleSymbols]] = defaultdict(list)
        self._by_name: dict[str, dict[str, list[Symbol]]] = {}  # made when first asked
        self._modules: dict[tuple[str, str], ModuleSymbols] = {}
        self._unwired: dict[str, list[ModuleSymbols]] = defaultdict(list)
        self._graph: networkx.MultiDiGraph | None = None

    # -- building -------------------------------------------------------------
    def add_modules(self, *, participant: str, tables: Iterable[ModuleSymbols]) -> None:
        symbols = self._symbols[participant]
        for table in tables:
            self._modules[participant, table.path] = table
            symbols.update(table.by_qualname)
            self._tables[participant].append(table)
            self._unwired[participant].append(table)
        self._by_name.pop(participant, None)

    def _networkx(self) -> networkx.MultiDiGraph:
        """The graph with every edge recorded so far (nodes carry their symbols)."""
        if self._graph is None:
            import networkx  # heavy: only traversal questions pay for it

            self._graph = networkx.MultiDiGraph()
        graph = self._graph
        for participant in list(self._unwired):
            for table in self._unwired.pop(participant):
                _wire(graph, participant, table)
        return graph

    # -- questions --------------------------------------------------------------
    def symbol(self, *, participant: str, qualname: str) -> Symbol | None:
        known = self._symbols.get(participant)
        return known.get(qualname) if known is not None else None

    def definitions_named(self, *, participant: str, name: str) -> list[Symbol]:
        named = self._by_name.get(participant)
        if named is None:
            named = self._by_name[participant] = defaultdict(list)
            for table in self._tables.get(participant, ()):
                for symbol in table.symbols:
                    named[symbol.name].append(symbol)
        return list(named.get(name, ()))

    def callers_of(self, *, participant: str, qualname: str) -> list[tuple[str, Reference]]:
        """(path, reference) for every reference to `qualname` the participant has."""
        graph = self._networkx()
        node = _node(participant, qualname)
        if node not in graph:
            return []
        found = []
        for _src, _dst, data in graph.in_edges(node, data=True):
            ref = data.get("reference")
            if isinstance(ref, Reference):
                found.append((data["path"], ref))
        return sorted(found, key=lambda item: (item[0], item[1].line, item[1].col))

    def bases_of(self, *, participant: str, cls: str) -> list[str]:
        """Base classes of `cls`, nearest first, as far as the parsed files show them."""
        graph = self._networkx()
        order: list[str] = []
        frontier = [cls]
        while frontier:
            node = _node(participant, frontier.pop(0))
            if node not in graph:
                continue
            for _src, dst, key in graph.out_edges(node, keys=True):
                if key == INHERITS and dst[1] not in order and dst[1] != cls:
                    order.append(dst[1])
                    frontier.append(dst[1])
        return order

    def find_method(self, *, participant: str, cls: str, name: str) -> Symbol | None:
        """`cls.name` as Python would find it: the class itself, then its bases."""
        own = self.symbol(participant=participant, qualname=f"{cls}.{name}")
        if own is not None:
            return own
        for owner in self.bases_of(participant=participant, cls=cls):
            found = self.symbol(participant=participant, qualname=f"{owner}.{name}")
            if found is not None:
                return found
        return None

    def module(self, *, participant: str, path: str) -> ModuleSymbols | None:
        return self._modules.get((participant, path))


def _wire(graph: networkx.MultiDiGraph, participant: str, table: ModuleSymbols) -> None:
    graph.add_node(_node(participant, table.module), kind="module", path=table.path)
    for symbol in table.symbols:
        node = _node(participant, symbol.qualname)
        graph.add_node(node, kind=symbol.kind, symbol=symbol)
        for base in symbol.bases:
            target = _node(participant, resolve_name(base, table))
            graph.add_edge(node, target, key=INHERITS, participant=participant)
    for ref in table.references:
        graph.add_edge(
            _node(participant, ref.enclosing or table.module),
            _node(participant, ref.resolved or ref.target),
            participant=participant,
            kind=IMPORT if ref.kind == "import" else CALL,
            reference=ref,
            path=table.path,
        )


def resolve_name(name: str, table: ModuleSymbols) -> str:
    """A dotted name as written in `table`'s file, resolved through its imports."""
    head, _, rest = name.partition(".")
    if head in table.imports:
        target = table.imports[head]
        return f"{target}.{rest}" if rest else target
    local = f"{table.module}.{name}" if table.module else name
    if table.get(local) is not None:
        return local
    return name
