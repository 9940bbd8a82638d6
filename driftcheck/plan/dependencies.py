"""Dependencies: B depends on A when B uses a symbol that A adds or changes, so
B's code breaks (or is wrong) without A.

Each participant's own work is classified once, against its fork point from the
trunk, with the same symbol changes and new references the detectors use
(`semantics.own_facts`): parsing is cached by blob, so a warm plan parses nothing.
A use counts when it names what the other side adds (a new module, class or
function, a renamed or moved symbol's new name), or calls a re-signed function
in a way only its new signature accepts. A pull request's worktree and its ref
offer the same symbols: a use of them depends on the ref alone. What each side
offers and uses is kept in the cache, by its fork point and state.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from driftcheck.detectors.semantics import own_facts
from driftcheck.engine.bases import MergeBase
from driftcheck.engine.scan import Scanned
from driftcheck.model import DEPENDS_ON, Participant, PlanEdge
from driftcheck.plan.inventory import Inventory
from driftcheck.store.codec import (
    Codec,
    Invalid,
    checked,
    pack_plain,
    register,
    shapes,
    str_map,
    strings,
    unpack_plain,
)
from driftcheck.store.pair_cache import code_fingerprint
from driftcheck.symbols.changes import SymbolChange
from driftcheck.symbols.languages import frontend_for
from driftcheck.symbols.stored import plain_signature, signature_from_plain
from driftcheck.symbols.table import Reference, Signature

# Each side's work against its fork point, by driftcheck's code and both trees.
_NAMESPACE = "plan-work"


@dataclass(frozen=True)
class _Use:
    """A new reference, reduced to what a dependency needs: the names it may mean
    (most precise first) and, for a call, its shape."""

    names: tuple[str, ...]
    call: tuple[int, tuple[str, ...], bool, bool] | None = None


@dataclass
class _Work:
    """One participant's symbol work: what it offers others, what it newly uses."""

    name: str
    offers: dict[str, str] = field(default_factory=dict)  # qualname -> how (adds, ...)
    # qualname -> (old signature, new signature, whether a call binds self/cls first)
    re_signed: dict[str, tuple[Signature, Signature, bool]] = field(default_factory=dict)
    defines: set[str] = field(default_factory=set)
    uses: list[_Use] = field(default_factory=list)


def dependencies(scanned: Scanned, inventory: Inventory) -> list[PlanEdge]:
    """depends-on edges, dependent first, in scan order; each names the symbols."""
    deletable = inventory.deletable()
    sides = {
        p.name: (p, fork)
        for p in scanned.result.participants
        if (fork := inventory.forks.get(p.name)) is not None
        and p.name in inventory.own_changes
        and p.name not in deletable
    }
    works = _works(scanned, inventory, sides)
    mirrors = {r.name: r.pr for r in inventory.rows if r.pr}
    by_name = {w.name: w for w in works}
    edges: dict[tuple[str, str], set[str]] = {}
    for user in works:
        for provider, symbol in _needs(user, works):
            mirror = by_name.get(mirrors.get(provider) or "")
            if mirror is not None and (symbol in mirror.offers or symbol in mirror.re_signed):
                continue  # the pull request's ref offers it too: depend on that
            edges.setdefault((user.name, provider), set()).add(symbol)
    position = {p.name: n for n, p in enumerate(scanned.result.participants)}
    return [
        PlanEdge(source=user, target=provider, kind=DEPENDS_ON, symbols=tuple(sorted(symbols)))
        for (user, provider), symbols in sorted(
            edges.items(), key=lambda item: (position[item[0][0]], position[item[0][1]])
        )
    ]


def _works(
    scanned: Scanned, inventory: Inventory, sides: dict[str, tuple[Participant, MergeBase]]
) -> list[_Work]:
    """Each side's work, from the cache when its fork and state were seen before: a
    warm plan then loads no symbol table at all (a warm scan loads none either)."""
    cache, index = scanned.session.cache, scanned.session.index
    keys = {name: f"{code_fingerprint()}:{fork.tree}:{p.tree}" for name, (p, fork) in sides.items()}
    known = cache.get_many(_NAMESPACE, set(keys.values()))
    works = []
    for name, (participant, fork) in sides.items():
        found = known.get(keys[name])
        if found is None:
            own = inventory.own_changes[name]
            paths = {path: s for path, s in own.items() if frontend_for(path) is not None}
            base = index.tables(fork.tree, [path for path, s in paths.items() if s != "A"])
            found = _work(paths, *own_facts(index, participant.tree, paths, base))
            cache.put(_NAMESPACE, keys[name], found)
        works.append(_Work(name, *found))
    return works


def _pack_work(found: Any) -> bytes:
    offers, re_signed, defines, uses = found
    signed = {
        name: (plain_signature(before), plain_signature(after), binds)
        for name, (before, after, binds) in re_signed.items()
    }
    return pack_plain((offers, signed, sorted(defines), [(u.names, u.call) for u in uses]))


def _unpack_work(blob: bytes) -> Any:
    """The plan's facts for one participant, checked field by field (a miss if not)."""
    row = unpack_plain(blob)
    if type(row) is not tuple or len(row) != 4:
        raise Invalid("expected a participant's work")
    offers, signed, defines, uses = row
    re_signed = {}
    if type(signed) is not dict:
        raise Invalid("expected signatures")
    for name, value in signed.items():
        if type(value) is not tuple or len(value) != 3 or type(value[2]) is not bool:
            raise Invalid("expected a signature change")
        before, after = signature_from_plain(value[0]), signature_from_plain(value[1])
        if before is None or after is None:
            raise Invalid("expected both signatures")
        re_signed[name] = (before, after, value[2])
    made = []
    for item in uses if type(uses) is tuple else ():
        if type(item) is not tuple or len(item) != 2:
            raise Invalid("expected a use")
        names, call = strings(item[0]), item[1]
        if call is not None:
            count, keywords, star, stars = checked(call, _CALL)
            call = (count, strings(keywords), star, stars)
        made.append(_Use(names, call))
    return str_map(offers), re_signed, set(strings(defines)), made


_CALL = shapes((int,), (tuple,), (bool,), (bool,))
register(_NAMESPACE, Codec(_pack_work, _unpack_work))


def _work(
    paths: dict[str, str],
    changes: list[SymbolChange],
    references: list[tuple[str, Reference]],
) -> tuple[dict[str, str], dict[str, tuple[Signature, Signature, bool]], set[str], list[_Use]]:
    """(offers, re_signed, defines, uses): plain data, kept in the cache."""
    offers: dict[str, str] = {}
    re_signed: dict[str, tuple[Signature, Signature, bool]] = {}
    defines: set[str] = set()
    for path, status in paths.items():
        frontend = frontend_for(path)
        if status == "A" and frontend is not None:
            module = frontend.module_name(path)
            offers[module] = "adds"  # a new module
            defines.add(module)
    for change in changes:
        before, after = change.before, change.after
        if change.kind == "added" and after is not None:
            offers[after.qualname] = "adds"
        elif change.kind in ("renamed", "moved") and change.new_qualname:
            offers[change.new_qualname] = change.kind
        elif (
            change.kind == "signature" and before and after and before.signature and after.signature
        ):
            binds = before.kind == "method" and before.binding != "staticmethod"
            re_signed[change.qualname] = (before.signature, after.signature, binds)
        if after is not None:
            defines.add(after.qualname)
    uses = []
    for _path, ref in references:
        names = tuple(
            dict.fromkeys([ref.resolved or "", ref.target if ref.kind == "import" else ""])
        )
        call = (
            (ref.positional_count, tuple(ref.keywords), ref.has_star, ref.has_double_star)
            if ref.kind == "call"
            else None
        )
        if any(names):
            uses.append(_Use(tuple(n for n in names if n), call))
    return offers, re_signed, defines, uses


def _needs(user: _Work, works: list[_Work]) -> Iterator[tuple[str, str]]:
    """(provider, symbol) for each use in `user` that only a provider's work makes good."""
    for use in user.uses:
        for named in use.names:
            if named in user.defines:
                continue  # its own definition (a duplicate is a finding, not a need)
            for provider in works:
                if provider is user:
                    continue
                offered = _prefix_offered(provider, named)
                if offered is not None:
                    yield provider.name, offered
                elif named in provider.re_signed and _needs_new_signature(
                    provider.re_signed[named], use
                ):
                    yield provider.name, named


def _prefix_offered(provider: _Work, named: str) -> str | None:
    """The symbol of `provider` that `named` reaches: itself, or the class or
    module it lives in (`shop.money.Money.format` needs `shop.money.Money`)."""
    parts = named.split(".")
    for cut in range(len(parts), 0, -1):
        candidate = ".".join(parts[:cut])
        if candidate in provider.offers:
            return candidate
    return None


def _needs_new_signature(change: tuple[Signature, Signature, bool], use: _Use) -> bool:
    """The call binds to the new signature and not to the old one."""
    if use.call is None:
        return False
    before, after, binds_first = change
    shape = (*use.call, binds_first)
    return after.accepts(*shape) is None and before.accepts(*shape) is not None
