"""Dependencies: B depends on A when B uses a symbol that A adds or changes, so
B's code breaks (or is wrong) without A.

Each participant's own work is classified once, against its fork point from the
trunk, with the same symbol changes and new references the detectors use
(`semantics.own_facts`): parsing is cached by blob, so a warm plan parses nothing.
A use counts when it names what the other side adds (a new module, class or
function, a renamed or moved symbol's new name), or calls a re-signed function
in a way only its new signature accepts. A pull request's worktree and its ref
offer the same symbols: a use of them depends on the ref alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from driftcheck.detectors.semantics import own_facts
from driftcheck.engine.scan import Scanned
from driftcheck.model import DEPENDS_ON, Participant, PlanEdge
from driftcheck.plan.inventory import Inventory
from driftcheck.symbols.changes import SymbolChange
from driftcheck.symbols.languages import frontend_for
from driftcheck.symbols.table import Reference


@dataclass
class _Work:
    """One participant's symbol work: what it offers others, what it newly uses."""

    name: str
    offers: dict[str, str] = field(default_factory=dict)  # qualname -> how (added, ...)
    re_signed: dict[str, SymbolChange] = field(default_factory=dict)
    defines: set[str] = field(default_factory=set)
    uses: list[tuple[str, Reference]] = field(default_factory=list)


def dependencies(scanned: Scanned, inventory: Inventory) -> list[PlanEdge]:
    """depends-on edges, dependent first, in scan order; each names the symbols."""
    index = scanned.session.index
    deletable = inventory.deletable()
    works: list[_Work] = []
    for participant in scanned.result.participants:
        own = inventory.own_changes.get(participant.name)
        fork = inventory.forks.get(participant.name)
        if own is None or fork is None or participant.name in deletable:
            continue
        paths = {p: s for p, s in own.items() if frontend_for(p) is not None}
        if paths:
            base_tables = index.tables(fork.tree, [p for p, s in paths.items() if s != "A"])
            works.append(
                _work(participant, paths, *own_facts(index, participant.tree, paths, base_tables))
            )
    mirrors = {r.name: r.pr for r in inventory.rows if r.pr}
    edges: dict[tuple[str, str], set[str]] = {}
    for user in works:
        for provider, symbol in _needs(user, works):
            if mirrors.get(provider) in {w.name for w in works} and _offers(
                works, mirrors[provider], symbol
            ):
                continue  # the pull request's ref offers it too: depend on that
            edges.setdefault((user.name, provider), set()).add(symbol)
    position = {p.name: n for n, p in enumerate(scanned.result.participants)}
    return [
        PlanEdge(source=user, target=provider, kind=DEPENDS_ON, symbols=tuple(sorted(symbols)))
        for (user, provider), symbols in sorted(
            edges.items(), key=lambda item: (position[item[0][0]], position[item[0][1]])
        )
    ]


def _work(
    participant: Participant,
    paths: dict[str, str],
    changes: list[SymbolChange],
    references: list[tuple[str, Reference]],
) -> _Work:
    work = _Work(name=participant.name, uses=references)
    for path, status in paths.items():
        frontend = frontend_for(path)
        if status == "A" and frontend is not None:
            module = frontend.module_name(path)
            work.offers[module] = "adds"  # a new module
            work.defines.add(module)
    for change in changes:
        if change.kind == "added" and change.after is not None:
            work.offers[change.after.qualname] = "adds"
        elif change.kind in ("renamed", "moved") and change.new_qualname:
            work.offers[change.new_qualname] = change.kind
        elif change.kind == "signature":
            work.re_signed[change.qualname] = change
        if change.after is not None:
            work.defines.add(change.after.qualname)
    return work


def _offers(works: list[_Work], name: str, symbol: str) -> bool:
    return any(w.name == name and (symbol in w.offers or symbol in w.re_signed) for w in works)


def _needs(user: _Work, works: list[_Work]) -> Iterator[tuple[str, str]]:
    """(provider, symbol) for each use in `user` that only a provider's work makes good."""
    for _path, ref in user.uses:
        for named in _names(ref):
            if named in user.defines:
                continue  # its own definition (a duplicate is a finding, not a need)
            for provider in works:
                if provider is user:
                    continue
                offered = _prefix_offered(provider, named)
                if offered is not None:
                    yield provider.name, offered
                elif named in provider.re_signed and _needs_new_signature(
                    provider.re_signed[named], ref
                ):
                    yield provider.name, named


def _names(ref: Reference) -> list[str]:
    """What a reference may name, most precise first (`pkg.mod.func`)."""
    found = [ref.resolved] if ref.resolved else []
    if ref.kind == "import" and ref.target not in found:
        found.append(ref.target)
    return found


def _prefix_offered(provider: _Work, named: str) -> str | None:
    """The symbol of `provider` that `named` reaches: itself, or the class or
    module it lives in (`shop.money.Money.format` needs `shop.money.Money`)."""
    parts = named.split(".")
    for cut in range(len(parts), 0, -1):
        candidate = ".".join(parts[:cut])
        if candidate in provider.offers:
            return candidate
    return None


def _needs_new_signature(change: SymbolChange, ref: Reference) -> bool:
    """The call binds to the new signature and not to the old one."""
    before, after = change.before, change.after
    if ref.kind != "call" or before is None or after is None:
        return False
    if before.signature is None or after.signature is None:
        return False
    drop_first = before.kind == "method" and before.binding != "staticmethod"
    shape = (ref.positional_count, ref.keywords, ref.has_star, ref.has_double_star, drop_first)
    return after.signature.accepts(*shape) is None and before.signature.accepts(*shape) is not None
