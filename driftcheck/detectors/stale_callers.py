"""stale-caller: one side changes a symbol's contract, the other adds a call to the old one.

P removes, renames, moves or incompatibly re-signs S; Q adds or edits a reference
to S that would break against P's version. (DC205, in implementers.py: P adds a
member every implementer of a contract must define; Q adds an implementer without.)
Calls are matched to S only when the match is certain (imports, self/cls,
Class(...), module.func, typed locals) or when exactly one class in Q's tree
defines the called method name. Anything else stays silent.

A call that no longer binds is reported at that call (each needs its own fix). Uses of
something that is gone (removed, renamed, moved, or its module deleted) are reported
once per file, at the first use, with every use's line in `details.lines`.

details: `change` (signature|removed|renamed|moved), `changed_by`, `caller`,
`old_signature`, `new_signature`, `call` (the text of the call or import),
`definition` {path, line}; DC201 adds `reason`; DC203/DC204 add `new_qualname` and
`new_location` {path, line}; uses of something gone add `lines`, and of a deleted
module `removed_module` and `removed_path`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from driftcheck.detectors.call_targets import canonical, meanings
from driftcheck.detectors.context import PairContext
from driftcheck.detectors.implementers import missing_members
from driftcheck.detectors.lost_imports import lost_imports
from driftcheck.detectors.merged_uses import say_renamed_module, use_survives
from driftcheck.detectors.semantics import PairSemantics, Side
from driftcheck.model import STALE_CALLER, Finding, Severity
from driftcheck.symbols.changes import GONE, SymbolChange
from driftcheck.symbols.graph import resolve_name
from driftcheck.symbols.table import Reference, Signature, Symbol
from driftcheck.symbols.types import incompatible

CODES = {"signature": "DC201", "removed": "DC202", "renamed": "DC203", "moved": "DC204"}
_CONTRACT_CHANGES = ("signature", "removed", "renamed", "moved")
_SHOWN_LINES = 8


def detect(context: PairContext) -> Iterator[Finding]:
    semantics = context.semantics()
    if semantics is None:
        return
    seen: set[tuple[str, str, int, str]] = set()
    for changer, caller in semantics.directions():
        for finding in _stale_calls(semantics, changer, caller):
            key = (caller.name, finding.path or "", finding.line or 0, finding.symbol or "")
            if key not in seen and use_survives(context, semantics, finding):
                seen.add(key)
                yield say_renamed_module(context, finding)
    yield from missing_members(semantics)
    yield from lost_imports(context, semantics)


@dataclass
class _Uses:
    """Every use, in one file, of one thing that is gone: reported as one finding."""

    first: Finding
    lines: list[int] = field(default_factory=list)


def _stale_calls(semantics: PairSemantics, changer: Side, caller: Side) -> Iterator[Finding]:
    contract = {c.qualname: c for c in changer.changes if c.kind in _CONTRACT_CHANGES and c.before}
    if not contract and not changer.deleted_modules:
        return
    grouped: dict[tuple[str, str], _Uses] = {}
    for path, ref in caller.new_references:
        if ref.ignores(STALE_CALLER):
            continue
        candidates = canonical(semantics, caller, meanings(semantics, caller, path, ref))
        finding = _first_finding(semantics, contract, changer, caller, path, ref, candidates)
        if finding is None:
            continue
        if finding.code == CODES["signature"]:
            yield finding
            continue
        key = (path, str(finding.details.get("removed_module") or _group_symbol(finding, contract)))
        uses = grouped.setdefault(key, _Uses(finding))
        if ref.line not in uses.lines:
            uses.lines.append(ref.line)
    for uses in grouped.values():
        yield _with_lines(uses)


def _first_finding(
    semantics: PairSemantics,
    contract: dict[str, SymbolChange],
    changer: Side,
    caller: Side,
    path: str,
    ref: Reference,
    candidates: list[tuple[str, str | None]],
) -> Finding | None:
    for qualname, receiver in candidates:
        change = contract.get(qualname)
        module = _deleted_module(changer, caller, qualname)
        # A symbol of a deleted module that did not move elsewhere: the module is gone.
        if module is not None and (change is None or change.kind == "removed"):
            return _module_gone(module, changer, caller, path, ref)
        if change is None or change.before is None or _caller_knows(caller, qualname):
            continue
        if change.kind in GONE and (
            _still_importable(semantics, changer, qualname, path)
            or _still_named(semantics, changer, qualname)
            or _written_still_works(semantics, changer, ref, qualname)
        ):
            continue  # the old name still works: re-exported, or kept as an alias
        if change.kind in GONE and _still_reachable(semantics, changer, change):
            continue  # the class still answers the call: inherited, generated or object's
        if _followed_its_class(change, contract):
            # `obj.member` never names the renamed class, and `Old.member` or
            # `Old(member=...)` is stale through `Old`, which is reported itself
            continue
        finding = _judge(semantics, change, receiver, changer, caller, path, ref)
        if finding is not None:
            return finding
    return None


def _still_importable(
    semantics: PairSemantics, changer: Side, qualname: str, use_path: str
) -> bool:
    """`qualname` still names something on the changer's side through an import left
    behind (`from new_home import thing` in the old module). A use inside that very
    module needs a local binding: in JS/TS an `export { thing } from` binds none."""
    owner = semantics.symbol(None, qualname)
    if owner is not None and owner.path == use_path:
        table = changer.tables.get(use_path)
        name = qualname.rpartition(".")[2]
        if table is not None and table.exports is not None:
            # A use in that very module: only a local binding (an import back) serves.
            target = table.imports.get(name)
            if target is None:
                return False
            real = semantics.index.canonical(changer.tree, target)
            return semantics.symbol(changer, real) is not None
    real = semantics.index.canonical(changer.tree, qualname)
    return real != qualname and semantics.symbol(changer, real) is not None


def _written_still_works(
    semantics: PairSemantics, changer: Side, ref: Reference, qualname: str
) -> bool:
    """The name as the caller wrote it (`pytest.raises`) leads, on the changer's
    side, to a definition that exists: the changer moved the definition behind a
    re-export (`_pytest.python_api.raises` now lives in `_pytest.raises`), and the
    caller's use keeps working."""
    written = ref.resolved or (ref.target if ref.kind == "import" else None)
    if not written or written == qualname:
        return False
    real = semantics.index.canonical(changer.tree, written)
    return real != qualname and semantics.symbol(changer, real) is not None


def _still_named(semantics: PairSemantics, changer: Side, qualname: str) -> bool:
    """The changer still binds the old name: a compatibility alias (`old = new`), a
    class attribute that became a property, a function that became a class; or a
    class-level attribute it dropped is still set on instances (`self.parent = ...`)."""
    if semantics.symbol(changer, qualname) is not None:
        return True
    owner, _, name = qualname.rpartition(".")
    klass = semantics.symbol(changer, owner) if owner else None
    if klass is None or klass.kind != "class":
        return False
    text = semantics.index.definition_text(changer.tree, klass, limit=100_000)
    return re.search(rf"\bself\.{re.escape(name)}\s*(?::[^=\n]*)?=(?!=)", text) is not None


def _followed_its_class(change: SymbolChange, contract: dict[str, SymbolChange]) -> bool:
    """A member that moved only because its class was renamed or moved, keeping its
    own name: instances still have it."""
    before, after = change.before, change.after
    if before is None or after is None or before.parent is None or before.name != after.name:
        return False
    parent = contract.get(before.parent)
    return parent is not None and parent.kind in GONE and parent.new_qualname == after.parent


def _still_reachable(semantics: PairSemantics, changer: Side, change: SymbolChange) -> bool:
    """A method removed from (or renamed or moved out of) a class that the changer
    keeps, where the call still resolves: to a base class's method of that name,
    or, for a dunder such as `__init__`, to what the class gets anyway (generated
    by attrs or dataclasses, inherited from object). A changed constructor is
    judged on the class itself."""
    before = change.before
    if before is None or before.kind != "method" or before.parent is None:
        return False
    klass = semantics.symbol(changer, before.parent)
    if klass is None or klass.kind != "class":
        return False
    if before.name.startswith("__") and before.name.endswith("__"):
        return True
    inherited = semantics.find_method(changer, klass.qualname, before.name)
    return inherited is not None and inherited.qualname != before.qualname


def _group_symbol(finding: Finding, contract: dict[str, SymbolChange]) -> str:
    """Uses of a class that is gone and of its methods are one problem: group them
    under the outermost definition that is gone."""
    symbol = finding.symbol or ""
    parent = symbol.rpartition(".")[0]
    while parent:
        change = contract.get(parent)
        if change is not None and change.kind in GONE:
            symbol = parent
        parent = parent.rpartition(".")[0]
    return symbol


def _with_lines(uses: _Uses) -> Finding:
    finding = uses.first
    lines = sorted(uses.lines)
    if len(lines) == 1:
        return replace(finding, details={**finding.details, "lines": lines})
    shown = ", ".join(map(str, lines[:_SHOWN_LINES])) + (", …" if len(lines) > _SHOWN_LINES else "")
    message = finding.message.replace(
        f"({finding.path}:{finding.line})", f"in {finding.path} (lines {shown})", 1
    )
    return replace(finding, message=message, details={**finding.details, "lines": lines})


def _caller_knows(caller: Side, qualname: str) -> bool:
    """The calling side re-signed, removed or moved S itself: it is not stale drift."""
    own = caller.change_of(qualname)
    return own is not None and own.kind in _CONTRACT_CHANGES


def _judge(
    semantics: PairSemantics,
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
    if change.kind == "signature":
        if after is None or ref.kind != "call":
            return None
        return _signature_finding(
            semantics, before, after, receiver, changer, caller, path, ref, details
        )
    if change.kind == "removed":
        verb = "imports" if ref.kind == "import" else "uses"
        message = (
            f"{caller.name} {verb} {before.qualname} ({path}:{ref.line}), which "
            f"{changer.name} removes from {before.path}; keep it there or stop using it"
        )
    else:
        new_qualname = change.new_qualname or (after.qualname if after else None)
        details["new_qualname"] = new_qualname
        if after is not None:
            details["new_location"] = {"path": after.path, "line": after.start_line}
        target = _short(after) if after else new_qualname
        verb = "renames" if change.kind == "renamed" else "moves"
        where = f" (in {after.module})" if after and after.module != before.module else ""
        message = (
            f"{caller.name} uses {before.qualname} ({path}:{ref.line}), which {changer.name} "
            f"{verb} to {target}{where}; {_suggest(after, ref) if after else target} instead"
        )
    return _finding(change.kind, before.qualname, changer, caller, path, ref, message, details)


def _still_fits(
    semantics: PairSemantics, changer: Side, after: Symbol, old: str | None, new: str | None
) -> bool:
    """The new return type is a class that derives from the old one (a NamedTuple
    for a tuple, a subclass): what callers did with the old value still works."""
    if old is None or new is None:
        return False
    wanted = old.split("[", 1)[0].strip().rpartition(".")[2].lower()
    fits = {wanted} | ({"namedtuple"} if wanted == "tuple" else set())
    table = changer.tables.get(after.path)
    written = new.split("[", 1)[0].strip()
    resolved = resolve_name(written, table) if table is not None else written
    start = semantics.index.canonical(changer.tree, resolved)
    ancestors = list(semantics.ancestors(changer, start))[1:]
    return any(a.rpartition(".")[2].lower() in fits for a in ancestors)


def _signature_finding(
    semantics: PairSemantics,
    before: Symbol,
    after: Symbol,
    receiver: str | None,
    changer: Side,
    caller: Side,
    path: str,
    ref: Reference,
    details: dict[str, object],
) -> Finding | None:
    if before.kind == "class":
        # `Klass(...)` binds against __init__ (explicit or generated), dropping self.
        old, new, bound = before.init_signature, after.init_signature, True
    else:
        old, new = before.signature, after.signature
        if before.binding == "property":
            return None
        bound = (receiver == "instance" and before.binding in ("instance", "classmethod")) or (
            receiver == "class" and before.binding == "classmethod"
        )
    if old is None or new is None:
        return None
    args = (ref.positional_count, frozenset(ref.keywords), ref.has_star, ref.has_double_star)
    if old.accepts(*args, drop_first=bound) is not None:
        return None  # already broken at the base: not drift
    reason = new.accepts(*args, drop_first=bound)
    short = _short(before)
    fix = _fix(reason, old, new) if reason else ""
    returns_apart = (
        before.kind != "class"
        and incompatible(old.returns, new.returns)
        and not _still_fits(semantics, changer, after, old.returns, new.returns)
    )
    if reason is None and ref.result_used and returns_apart:
        # The call still binds, but what it gives back is of another kind now.
        reason = f"it returns {new.returns} now, not {old.returns}"
        fix = f"use the {new.returns} it returns"
    if after.binding != before.binding and after.binding == "property":
        reason, fix = f"{short} is now a property", "drop the call parentheses"
    if reason is None:
        return None
    details["reason"] = reason
    details["old_signature"] = f"{short}{old.render()}"
    details["new_signature"] = f"{_short(after)}{new.render()}"
    details["definition"] = {"path": after.path, "line": after.start_line}
    message = (
        f"{caller.name} calls {ref.text or short} ({path}:{ref.line}), but {changer.name} "
        f"changes it to {_short(after)}{new.render()}: {reason}; {fix}"
    )
    return _finding("signature", before.qualname, changer, caller, path, ref, message, details)


def _finding(
    kind: str,
    symbol: str,
    changer: Side,
    caller: Side,
    path: str,
    ref: Reference,
    message: str,
    details: dict[str, object],
) -> Finding:
    return Finding(
        kind=STALE_CALLER,
        code=CODES[kind],
        severity=Severity.ERROR,
        participants=(caller.name, changer.name),
        path=path,
        line=ref.line,
        symbol=symbol,
        message=message,
        details=details,
    )


def _deleted_module(changer: Side, caller: Side, qualname: str) -> str | None:
    """The most specific deleted module `qualname` lives in (`pkg.mod` over `pkg`)."""
    found = [
        module
        for module, path in changer.deleted_modules.items()
        if (qualname == module or qualname.startswith(module + ".")) and path not in caller.changed
    ]
    return max(found, key=len) if found else None


def _module_gone(module: str, changer: Side, caller: Side, path: str, ref: Reference) -> Finding:
    deleted = changer.deleted_modules[module]
    used = ref.resolved or ref.target
    verb = "imports" if ref.kind == "import" else "uses"
    message = (
        f"{caller.name} {verb} {used} ({path}:{ref.line}), but {changer.name} deletes "
        f"{deleted} (module {module}); keep the module or stop using it"
    )
    return _finding(
        "removed",
        used,
        changer,
        caller,
        path,
        ref,
        message,
        {
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
    if symbol is None:
        return None
    signature = symbol.init_signature if symbol.kind == "class" else symbol.signature
    return f"{_short(symbol)}{signature.render()}" if signature is not None else None


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
    """How the use reads against the new location: `call X(...)` or `import X`."""
    if ref.kind == "import":
        owner, _, name = after.qualname.rpartition(".")
        return f"import {name} from {owner}" if after.parent is None else f"use {after.qualname}"
    short = _short(after)
    if ref.kind != "call":
        return f"use {short}"
    args = _call_args(ref.text)
    if after.binding == "instance" and after.parent:
        owner, _, name = short.rpartition(".")
        return f"call {owner}(...).{name}{args}"
    return f"call {short}{args}"


def _fix(reason: str, old: Signature, new: Signature) -> str:
    """How to change the call so it binds against the new signature."""
    name = reason.rpartition("'")[0].rpartition("'")[2]
    if reason.startswith("missing required keyword-only"):
        return f"pass {name}=..."
    if reason.startswith("missing required"):
        return f"pass {name} as well"
    if reason.startswith("no parameter named"):
        renamed = _renamed_keyword(old, new, name)
        return f"use {renamed}= instead of {name}=" if renamed else f"drop {name}="
    if "positional-only" in reason:
        return f"pass {name} positionally"
    if reason.startswith("got multiple values"):
        return f"pass {name} only once"
    if reason.startswith("takes"):
        return "pass fewer positional arguments (or name them)"
    return "update the call"


def _renamed_keyword(old: Signature, new: Signature, keyword: str) -> str | None:
    """`ssl_verify` when `verify` was renamed in place (same position, new name)."""
    old_names = [p.name for p in old.params]
    new_names = [p.name for p in new.params]
    if keyword not in old_names:
        return None
    index = old_names.index(keyword)
    if index < len(new_names) and new_names[index] not in old_names:
        return new_names[index]
    return None
