"""stale-caller: one side changes a symbol's contract, the other adds a call to the old one.

P removes, renames, moves or incompatibly re-signs S; Q adds or edits a reference
to S that would break against P's version. Calls are matched to S only when the
match is certain (imports, self/cls, Class(...), module.func) or when exactly one
class in Q's tree defines the called method name. Anything else stays silent.
"""

from __future__ import annotations

from collections.abc import Iterator

from driftcheck.changes import SymbolChange
from driftcheck.detectors import PairContext
from driftcheck.graph import BASE, resolve_name
from driftcheck.model import STALE_CALLER, Finding, Severity
from driftcheck.semantic import PairSemantics, Side, pair_semantics
from driftcheck.symbols import Reference, Symbol

CODES = {"signature": "DC201", "removed": "DC202", "renamed": "DC203", "moved": "DC204"}
_CONTRACT_CHANGES = ("signature", "removed", "renamed", "moved")


def detect(context: PairContext) -> Iterator[Finding]:
    semantics = pair_semantics(context)
    if semantics is None:
        return
    seen: set[tuple[str, str, int, str]] = set()
    for changer, caller in semantics.directions():
        for finding in _stale_calls(semantics, changer, caller):
            key = (caller.name, finding.path or "", finding.line or 0, finding.symbol or "")
            if key not in seen:
                seen.add(key)
                yield finding


def _stale_calls(semantics: PairSemantics, changer: Side, caller: Side) -> Iterator[Finding]:
    contract = {c.qualname: c for c in changer.changes if c.kind in _CONTRACT_CHANGES and c.before}
    if not contract and not changer.deleted_modules:
        return
    for path, ref in caller.new_references:
        if ref.ignores(STALE_CALLER):
            continue
        for qualname, receiver in _canonical(
            semantics, caller, _candidates(semantics, caller, path, ref)
        ):
            change = contract.get(qualname)
            if change is not None and change.before is not None:
                if _caller_knows(caller, qualname):
                    continue
                finding = _judge(change, receiver, changer, caller, path, ref)
                if finding is not None:
                    yield finding
                    break
            module = _deleted_module(changer, caller, qualname)
            if module is not None:
                yield _module_gone(module, changer, caller, path, ref)
                break


def _candidates(
    semantics: PairSemantics, caller: Side, path: str, ref: Reference
) -> list[tuple[str, str | None]]:
    """Qualnames `ref` may mean, each with what the receiver is.

    The receiver is "instance" (self, Class(...), an object), "class" (cls, Class)
    or None (a module or no receiver); it decides whether a call binds `self`/`cls`.
    """
    if ref.kind == "import":
        return [(ref.resolved or ref.target, None)]
    graph = semantics.graph
    found: list[tuple[str, str | None]] = []
    receiver = ref.receiver or ""
    if ref.resolved:
        owner, _, name = ref.resolved.rpartition(".")
        if receiver in ("self", "cls"):
            kind = "instance" if receiver == "self" else "class"
            found.append((ref.resolved, kind))
            inherited = graph.find_method(participant=caller.name, cls=owner, name=name)
            inherited = inherited or graph.find_method(participant=BASE, cls=owner, name=name)
            if inherited is not None and inherited.qualname != ref.resolved:
                found.append((inherited.qualname, kind))
            return found
        owner_symbol = graph.symbol(participant=BASE, qualname=owner) if owner else None
        kind = "class" if owner_symbol is not None and owner_symbol.kind == "class" else None
        found.append((ref.resolved, kind))
        # Calling a class runs its __init__, which binds `self`.
        found.append((f"{ref.resolved}.__init__", "instance"))
        return found
    table = caller.tables.get(path)
    if receiver.endswith("(...)") and table is not None and ref.name:
        cls = resolve_name(receiver[: -len("(...)")], table)
        found.append((f"{cls}.{ref.name}", "instance"))
    elif (
        receiver
        and ref.kind == "call"
        and ref.name
        and semantics.index.method_definers(caller.tree, ref.name) == 1
    ):
        # Unknown receiver: only a method name with a single definer is certain.
        found += [(s.qualname, "instance") for s in _base_methods_named(semantics, ref.name)]
    return found


def _canonical(
    semantics: PairSemantics, caller: Side, candidates: list[tuple[str, str | None]]
) -> list[tuple[str, str | None]]:
    """Candidates plus their definitions through re-exports (`from pkg import X`)."""
    found = list(candidates)
    for qualname, receiver in candidates:
        real = semantics.index.canonical(caller.tree, qualname)
        if real != qualname:
            found.append((real, receiver))
    return found


def _base_methods_named(semantics: PairSemantics, name: str) -> list[Symbol]:
    return [
        s
        for s in semantics.graph.definitions_named(participant="base", name=name)
        if s.kind == "method"
    ]


def _caller_knows(caller: Side, qualname: str) -> bool:
    """The calling side re-signed, removed or moved S itself: it is not stale drift."""
    own = caller.change_of(qualname)
    return own is not None and own.kind in _CONTRACT_CHANGES


def _judge(
    change: SymbolChange,
    receiver: str | None,
    changer: Side,
    caller: Side,
    path: str,
    ref: Reference,
) -> Finding | None:
    before, after = change.before, change.after
    if before is None:
        return None
    if before.ignores(STALE_CALLER) or (after is not None and after.ignores(STALE_CALLER)):
        return None
    details: dict[str, object] = {
        "change": change.kind,
        "changed_by": changer.name,
        "caller": caller.name,
        "old_signature": _sig(before),
        "new_signature": _sig(after) if after else None,
        "call": ref.text,
        "definition": {"path": before.path, "line": before.start_line},
    }
    short = _short(before)
    if change.kind == "signature":
        if after is None or after.signature is None or before.signature is None:
            return None
        if ref.kind != "call" or before.binding == "property":
            return None
        bound = (receiver == "instance" and before.binding in ("instance", "classmethod")) or (
            receiver == "class" and before.binding == "classmethod"
        )
        args = (ref.positional_count, frozenset(ref.keywords), ref.has_star, ref.has_double_star)
        if before.signature.accepts(*args, drop_first=bound) is not None:
            return None  # already broken at the base: not drift
        reason = after.signature.accepts(*args, drop_first=bound)
        if after.binding != before.binding and after.binding == "property":
            reason = f"{short} is now a property; drop the call parentheses"
        if reason is None:
            return None
        details["reason"] = reason
        hint = _keyword_hint(before, after, ref)
        message = (
            f"{caller.name} calls {ref.text or short} but {changer.name} changed it to "
            f"{short}{after.signature.render()}: {reason}{hint}"
        )
        details["definition"] = {"path": after.path, "line": after.start_line}
    elif change.kind == "removed":
        verb = "imports" if ref.kind == "import" else "uses"
        message = f"{caller.name} {verb} {short}, which {changer.name} removes"
    else:
        new_qualname = change.new_qualname or (after.qualname if after else None)
        details["new_qualname"] = new_qualname
        if after is not None:
            details["new_location"] = {"path": after.path, "line": after.start_line}
        target = _short(after) if after else new_qualname
        verb = "renames" if change.kind == "renamed" else "moves"
        where = f" (in {after.module})" if after and after.module != before.module else ""
        message = (
            f"{caller.name} uses {short}, which {changer.name} {verb} to {target}{where}; "
            f"call {_suggest(after, ref) if after else target} instead"
        )
    return Finding(
        kind=STALE_CALLER,
        code=CODES[change.kind],
        severity=Severity.ERROR,
        participants=(caller.name, changer.name),
        path=path,
        line=ref.line,
        symbol=before.qualname,
        message=message,
        details=details,
    )


def _deleted_module(changer: Side, caller: Side, qualname: str) -> str | None:
    for module, path in changer.deleted_modules.items():
        if (qualname == module or qualname.startswith(module + ".")) and path not in caller.changed:
            return module
    return None


def _module_gone(module: str, changer: Side, caller: Side, path: str, ref: Reference) -> Finding:
    deleted = changer.deleted_modules[module]
    return Finding(
        kind=STALE_CALLER,
        code=CODES["removed"],
        severity=Severity.ERROR,
        participants=(caller.name, changer.name),
        path=path,
        line=ref.line,
        symbol=ref.resolved or ref.target,
        message=(
            f"{caller.name} starts using {ref.resolved or ref.target}, but {changer.name} "
            f"deletes {deleted} (module {module})"
        ),
        details={
            "change": "removed",
            "changed_by": changer.name,
            "caller": caller.name,
            "removed_module": module,
            "removed_path": deleted,
            "old_signature": None,
            "new_signature": None,
            "call": ref.text,
        },
    )


def _short(symbol: Symbol | None) -> str:
    if symbol is None:
        return "?"
    prefix = symbol.module + "."
    return symbol.qualname[len(prefix) :] if symbol.qualname.startswith(prefix) else symbol.qualname


def _sig(symbol: Symbol | None) -> str | None:
    if symbol is None or symbol.signature is None:
        return None
    return f"{_short(symbol)}{symbol.signature.render()}"


def _call_args(text: str) -> str:
    """`(order, rate=2)` from a call's text: the last balanced parenthesised group."""
    if not text.endswith(")"):
        return "(...)"
    depth = 0
    for i in range(len(text) - 1, -1, -1):
        depth += {")": 1, "(": -1}.get(text[i], 0)
        if depth == 0:
            return text[i:]
    return "(...)"


def _suggest(after: Symbol, ref: Reference) -> str:
    """How the call reads against the new location."""
    args = _call_args(ref.text) if ref.kind == "call" else ""
    short = _short(after)
    if after.binding == "instance" and after.parent:
        owner, _, name = short.rpartition(".")
        return f"{owner}(...).{name}{args}"
    return f"{short}{args}"


def _keyword_hint(before: Symbol, after: Symbol, ref: Reference) -> str:
    """`; use ssl_verify= instead of verify=` when a keyword was renamed in place."""
    if before.signature is None or after.signature is None:
        return ""
    old = [p.name for p in before.signature.params]
    new = [p.name for p in after.signature.params]
    for keyword in ref.keywords:
        if keyword in old and keyword not in new:
            index = old.index(keyword)
            if index < len(new) and new[index] not in old:
                return f"; use {new[index]}= instead of {keyword}="
    return ""
