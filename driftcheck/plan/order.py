"""The order: numbered steps of participants that merge in any order, and what must
be reconciled first.

Who is held for a person's decision, in this order:
1. participants joined by a semantic finding (duplicate, stale caller,
   contradicting edit) with another participant or with the trunk: which
   implementation to keep, whether a removal stays, which edit wins;
2. a participant whose files conflict with the trunk's: it rebases first;
3. a worktree with uncommitted work its pull request lacks: push it or drop it;
4. of two participants whose files conflict, the one that goes second (it rebases
   once the first has merged): dependencies are placed first, then whatever
   others need, then the participant with fewer conflicts, then scan order;
5. anything that depends on a held participant.

Everyone else is placed: a dependency cycle merges in one step, and each step
comes after the steps of everything it depends on. No two placed participants
have a finding between them, so no step conflicts within itself or with an
earlier one. The order is deterministic: every choice falls back to scan order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from driftcheck.model import TEXTUAL_CONFLICT, Finding, PlanEdge, PlanStep, Reconcile, ScanResult
from driftcheck.plan import decisions
from driftcheck.plan.graph import layers, strongly_connected
from driftcheck.plan.inventory import Inventory
from driftcheck.report import clusters, involved


@dataclass
class Ordering:
    steps: list[PlanStep]
    reconcile_first: list[Reconcile]
    cycles: list[list[str]]


@dataclass
class _Held:
    participants: list[str]
    decision: str
    findings: list[Finding] = field(default_factory=list)
    waits_for: list[str] = field(default_factory=list)


@dataclass
class _State:
    names: list[str]
    trunk: str | None
    candidates: list[str]
    needs: dict[str, dict[str, list[str]]]  # dependent -> provider -> symbols
    held: dict[str, _Held] = field(default_factory=dict)
    entries: list[_Held] = field(default_factory=list)

    def hold(self, entry: _Held) -> None:
        self.entries.append(entry)
        for name in entry.participants:
            self.held[name] = entry

    def free(self) -> list[str]:
        return [n for n in self.candidates if n not in self.held]


def plan_order(result: ScanResult, inventory: Inventory, depends: list[PlanEdge]) -> Ordering:
    names = [p.name for p in result.participants]
    trunk = inventory.trunk.name if inventory.trunk is not None else None
    out = (
        inventory.deletable()
        | {trunk}
        | {r.name for r in inventory.rows if "no-merge-base" in r.status}
    )
    candidates = [n for n in names if n not in out]
    needs: dict[str, dict[str, list[str]]] = {}
    for edge in depends:
        needs.setdefault(edge.source, {})[edge.target] = list(edge.symbols)
    state = _State(names=names, trunk=trunk, candidates=candidates, needs=needs)
    pairs = _pair_findings(result, set(candidates) | {trunk})
    _hold_semantic(state, pairs)
    _hold_trunk_conflicts(state, pairs)
    _hold_unpushed(state, inventory)
    _hold_dependents(state)
    waiting = _hold_second_of_conflicts(state, pairs)
    _hold_dependents(state)
    placed = state.free()
    graph = {n: {p for p in needs.get(n, {}) if p in placed} for n in placed}
    position = {n: i for i, n in enumerate(names)}
    components = strongly_connected(graph)
    cycles = sorted(
        (sorted(c, key=position.__getitem__) for c in components if len(c) > 1),
        key=lambda c: position[c[0]],
    )
    step_of = layers(graph, components)
    steps = _steps(state, inventory, step_of, cycles, position)
    for name, (first, found) in waiting.items():
        entry = state.held[name]
        entry.decision = decisions.rebase_after(name, [(f, step_of.get(f)) for f in first], found)
    return Ordering(
        steps=steps,
        reconcile_first=[
            Reconcile(
                participants=tuple(e.participants),
                decision=e.decision,
                findings=tuple(sorted(e.findings, key=Finding.sort_key)),
                waits_for=tuple(e.waits_for),
            )
            for e in state.entries
        ],
        cycles=cycles,
    )


# --- who is held ------------------------------------------------------------------


def _pair_findings(result: ScanResult, among: set[str | None]) -> list[tuple[str, str, Finding]]:
    """(a, b, finding) for every finding between two of `among`, a before b."""
    found = []
    for finding in result.findings:
        names = involved(result, finding)
        if len(names) == 2 and set(names) <= among:
            found.append((names[0], names[1], finding))
    return found


def _hold_semantic(state: _State, pairs: list[tuple[str, str, Finding]]) -> None:
    semantic = [(a, b, f) for a, b, f in pairs if f.kind != TEXTUAL_CONFLICT]
    among = [(a, b, f) for a, b, f in semantic if state.trunk not in (a, b)]
    edges = [PlanEdge(source=a, target=b, kind="") for a, b, _f in among]
    groups = clusters(state.candidates, edges)
    grouped = {n for g in groups for n in g}
    with_trunk = [
        n
        for n in state.candidates
        if n not in grouped and any(state.trunk in (a, b) and n in (a, b) for a, b, _ in semantic)
    ]
    for group in groups + [[n] for n in with_trunk]:
        members = set(group)
        found = [
            f for a, b, f in semantic if {a, b} - {state.trunk} <= members and members & {a, b}
        ]
        state.hold(_Held(participants=group, decision=decisions.decision(found), findings=found))


def _hold_trunk_conflicts(state: _State, pairs: list[tuple[str, str, Finding]]) -> None:
    if state.trunk is None:
        return
    for name in state.free():
        found = [f for a, b, f in pairs if {a, b} == {name, state.trunk}]
        if found:
            text = decisions.rebase_on_trunk(name, state.trunk, found)
            state.hold(_Held(participants=[name], decision=text, findings=found))


def _hold_unpushed(state: _State, inventory: Inventory) -> None:
    for name in state.free():
        row = inventory.row(name)
        if row.pr is not None and row.dirty:
            text = decisions.pushes_first(name, row.pr)
            state.hold(_Held(participants=[name], decision=text, waits_for=[row.pr]))


def _hold_dependents(state: _State) -> None:
    """Whatever needs a held participant waits for it, transitively."""
    changed = True
    while changed:
        changed = False
        for name in state.free():
            blocked = {p: s for p, s in state.needs.get(name, {}).items() if p in state.held}
            if blocked:
                text = decisions.waits_on(name, blocked)
                state.hold(_Held(participants=[name], decision=text, waits_for=list(blocked)))
                changed = True


def _hold_second_of_conflicts(
    state: _State, pairs: list[tuple[str, str, Finding]]
) -> dict[str, tuple[list[str], list[Finding]]]:
    """Of participants whose files conflict, keep a set with no conflict between
    them; each other one waits to rebase onto those it conflicts with. Returns the
    waiting ones: name -> (the placed ones first, the findings)."""
    free = state.free()
    conflicts: dict[str, dict[str, list[Finding]]] = {}
    for a, b, finding in pairs:
        if a in free and b in free and finding.kind == TEXTUAL_CONFLICT:
            conflicts.setdefault(a, {}).setdefault(b, []).append(finding)
            conflicts.setdefault(b, {}).setdefault(a, []).append(finding)
    if not conflicts:
        return {}
    graph = {n: {p for p in state.needs.get(n, {}) if p in free} for n in free}
    depth = layers(graph, strongly_connected(graph))
    needed_by = {n: sum(1 for m in free if n in state.needs.get(m, {})) for n in free}
    position = {n: i for i, n in enumerate(state.names)}
    chosen: list[str] = []
    waiting: dict[str, tuple[list[str], list[Finding]]] = {}
    for name in sorted(
        free,
        key=lambda n: (depth[n], -needed_by[n], len(conflicts.get(n, {})), position[n]),
    ):
        if any(p in state.held for p in state.needs.get(name, {})):
            continue  # its dependency waits: _hold_dependents takes it
        first = [c for c in chosen if c in conflicts.get(name, {})]
        if not first:
            chosen.append(name)
            continue
        found = [f for c in first for f in conflicts[name][c]]
        state.hold(_Held(participants=[name], decision="", findings=found, waits_for=first))
        waiting[name] = (first, found)
    return waiting


# --- the steps --------------------------------------------------------------------


def _steps(
    state: _State,
    inventory: Inventory,
    step_of: dict[str, int],
    cycles: list[list[str]],
    position: dict[str, int],
) -> list[PlanStep]:
    in_cycle = {n: c for c in cycles for n in c}
    numbers = sorted(set(step_of.values()))
    steps = []
    for number in numbers:
        members = sorted((n for n, s in step_of.items() if s == number), key=position.__getitem__)
        reasons: list[str] = []
        for name in members:
            reasons += _reasons(state, inventory, name, step_of, in_cycle)
        if len(members) > 1:
            reasons.append("no finding between any two of these, nor with an earlier step")
        steps.append(PlanStep(number=number, merge=tuple(members), reasons=tuple(reasons)))
    return steps


def _reasons(
    state: _State,
    inventory: Inventory,
    name: str,
    step_of: dict[str, int],
    in_cycle: dict[str, list[str]],
) -> list[str]:
    row = inventory.row(name)
    found: list[str] = []
    needs = {p: s for p, s in state.needs.get(name, {}).items() if p in step_of}
    cycle = in_cycle.get(name)
    if cycle and cycle[0] == name:
        found.append(f"{' and '.join(cycle)} depend on each other: merge them together")
    outside = {p: s for p, s in needs.items() if not cycle or p not in cycle}
    if outside:
        found += [
            f"{name} uses {', '.join(s[:3])} from {p} (step {step_of[p]})"
            for p, s in outside.items()
        ]
    elif not cycle:
        found.append(f"{name} needs nothing that is not in the trunk")
    if row.worktree:
        found.append(f"{name} is the pull request of worktree {row.worktree}")
    if "stale-base" in row.status:
        found.append(
            f"{name} has a stale base ({row.behind} commits behind the trunk): rebase it first"
        )
    return found


def held_names(entries: Sequence[Reconcile]) -> set[str]:
    return {n for e in entries for n in e.participants}
