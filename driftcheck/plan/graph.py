"""Small graph algorithms over participant names (a few dozen at most): cycles
and layers of a dependency graph. `graph[n]` is the set of what `n` depends on."""

from __future__ import annotations

from collections.abc import Mapping, Set


def strongly_connected(graph: Mapping[str, Set[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iterative; every node ends in exactly one component.
    Nodes are visited in sorted order, so the result is deterministic."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        work = [(start, iter(sorted(graph[start])))]
        while work:
            node, children = work[-1]
            child = next((c for c in children if c in graph), None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: set[str] = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                found.append(component)
    return found


def layers(graph: Mapping[str, Set[str]], components: list[set[str]]) -> dict[str, int]:
    """Node -> its layer, from 1: one more than the deepest layer it depends on; a
    component (a cycle) shares one layer."""
    owner = {n: i for i, c in enumerate(components) for n in c}
    depth: dict[int, int] = {}

    def of(component: int) -> int:
        # Iterative post-order: the condensed graph is acyclic.
        pending = [component]
        while pending:
            current = pending[-1]
            if current in depth:
                pending.pop()
                continue
            below = {
                owner[d]
                for n in components[current]
                for d in graph[n]
                if d in owner and owner[d] != current
            }
            missing = [b for b in sorted(below) if b not in depth]
            if missing:
                pending.extend(missing)
                continue
            depth[current] = 1 + max((depth[b] for b in below), default=0)
            pending.pop()
        return depth[component]

    return {n: of(owner[n]) for n in graph}
