"""The symbol graph: the only module that imports networkx.

Nodes are definitions seen by one participant (`base` is the merge base); edges are
calls, imports and inheritance, each labelled with the participant that has them.
Detectors ask domain questions through keyword-only methods that take and return
plain values, so the engine behind them can change without any caller noticing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from driftcheck.symbols import ModuleSymbols, Reference, Symbol

if TYPE_CHECKING:
    import networkx

BASE = "base"
CALL, IMPORT, INHERITS = "call", "import", "inherits"


def _node(participant: str, qualname: str) -> tuple[str, str]:
    return (participant, qualname)


class SymbolGraph:
    def __init__(self) -> None:
        import networkx  # heavy import, paid only when semantic detectors run

        self._graph: networkx.MultiDiGraph = networkx.MultiDiGraph()
        self._by_name: dict[tuple[str, str], list[Symbol]] = defaultdict(list)
        self._modules: dict[tuple[str, str], ModuleSymbols] = {}
        self._unwired: dict[str, list[ModuleSymbols]] = defaultdict(list)

    # -- building -------------------------------------------------------------
    def add_modules(self, *, participant: str, tables: Iterable[ModuleSymbols]) -> None:
        for table in tables:
            self._add_module(participant, table)

    def _add_module(self, participant: str, table: ModuleSymbols) -> None:
        self._modules[participant, table.path] = table
        self._graph.add_node(_node(participant, table.module), kind="module", path=table.path)
        for symbol in table.symbols:
            self._graph.add_node(
                _node(participant, symbol.qualname), kind=symbol.kind, symbol=symbol
            )
            self._by_name[participant, symbol.name].append(symbol)
            for base in symbol.bases:
                target = resolve_name(base, table)
                self._graph.add_edge(
                    _node(participant, symbol.qualname),
                    _node(participant, target),
                    key=INHERITS,
                    participant=participant,
                )
        # Reference edges are many (every call in every changed file) and only
        # `callers_of` walks them: they are wired on first use.
        self._unwired[participant].append(table)

    def _wire(self, participant: str) -> None:
        for table in self._unwired.pop(participant, ()):
            for ref in table.references:
                source = ref.enclosing or table.module
                target = ref.resolved or ref.target
                kind = IMPORT if ref.kind == "import" else CALL
                self._graph.add_edge(
                    _node(participant, source),
                    _node(participant, target),
                    participant=participant,
                    kind=kind,
                    reference=ref,
                    path=table.path,
                )

    # -- questions --------------------------------------------------------------
    def symbol(self, *, participant: str, qualname: str) -> Symbol | None:
        data: dict[str, Any] = self._graph.nodes.get(_node(participant, qualname), {})
        symbol = data.get("symbol")
        return symbol if isinstance(symbol, Symbol) else None

    def definitions_named(self, *, participant: str, name: str) -> list[Symbol]:
        return list(self._by_name.get((participant, name), ()))

    def callers_of(self, *, participant: str, qualname: str) -> list[tuple[str, Reference]]:
        """(path, reference) for every reference to `qualname` the participant has."""
        self._wire(participant)
        node = _node(participant, qualname)
        if node not in self._graph:
            return []
        found = []
        for _src, _dst, data in self._graph.in_edges(node, data=True):
            ref = data.get("reference")
            if isinstance(ref, Reference):
                found.append((data["path"], ref))
        return sorted(found, key=lambda item: (item[0], item[1].line, item[1].col))

    def bases_of(self, *, participant: str, cls: str) -> list[str]:
        """Base classes of `cls`, nearest first, as far as the parsed files show them."""
        order: list[str] = []
        frontier = [cls]
        while frontier:
            current = frontier.pop(0)
            node = _node(participant, current)
            if node not in self._graph:
                continue
            for _src, dst, key in self._graph.out_edges(node, keys=True):
                if key == INHERITS and dst[1] not in order and dst[1] != cls:
                    order.append(dst[1])
                    frontier.append(dst[1])
        return order

    def find_method(self, *, participant: str, cls: str, name: str) -> Symbol | None:
        """`cls.name` as Python would find it: the class itself, then its bases."""
        for owner in [cls, *self.bases_of(participant=participant, cls=cls)]:
            found = self.symbol(participant=participant, qualname=f"{owner}.{name}")
            if found is not None:
                return found
        return None

    def module(self, *, participant: str, path: str) -> ModuleSymbols | None:
        return self._modules.get((participant, path))


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
