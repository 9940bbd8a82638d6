"""contradicting-edit: both sides change the same symbol in ways that disagree.

- DC401 (warning): both change the body of the same symbol and the results differ,
  even when git merges the file cleanly (the message says which).
- DC402 (error): one side deletes (or renames/moves) a symbol the other modifies.
- DC403 (error): both add the same qualified name with different definitions; in
  Python the later definition silently wins after a clean merge.
- DC404 (error): both set the same module constant to different values.
"""

from __future__ import annotations

from collections.abc import Iterator

from driftcheck.changes import SymbolChange
from driftcheck.detectors import PairContext
from driftcheck.model import CONTRADICTING_EDIT, Finding, Severity
from driftcheck.semantic import Side, pair_semantics
from driftcheck.symbols import Symbol

_EDITS = ("body", "signature")
_GONE = ("removed", "renamed", "moved")


def detect(context: PairContext) -> Iterator[Finding]:
    semantics = pair_semantics(context)
    if semantics is None:
        return
    left, right = semantics.left, semantics.right
    conflicted = _textually_conflicted(context)
    for qualname, lc in _by_qualname(left).items():
        rc = right.change_of(qualname)
        if rc is None:
            continue
        finding = _judge(lc, rc, left, right, conflicted)
        if finding is not None and not _ignored(finding, lc, rc):
            yield finding


def _by_qualname(side: Side) -> dict[str, SymbolChange]:
    return {c.qualname: c for c in side.changes}


def _ignored(finding: Finding, *changes: SymbolChange) -> bool:
    symbols = [s for c in changes for s in (c.before, c.after) if s is not None]
    return any(s.ignores(CONTRADICTING_EDIT) for s in symbols)


def _textually_conflicted(context: PairContext) -> set[str] | None:
    """Paths git reports as conflicting for this pair; None if no simulation ran."""
    result = context.facts.get("merge_result")
    if result is None:
        return set() if not context.paths_meet else None
    return {c.path for c in result.conflicts}


def _judge(
    lc: SymbolChange, rc: SymbolChange, left: Side, right: Side, conflicted: set[str] | None
) -> Finding | None:
    if lc.kind == "added" and rc.kind == "added":
        return _both_added(lc, rc, left, right)
    if lc.kind in _EDITS and rc.kind in _EDITS:
        return _both_edited(lc, rc, left, right, conflicted)
    if lc.kind in _GONE and rc.kind in _EDITS:
        return _gone_vs_edited(lc, rc, left, right)
    if rc.kind in _GONE and lc.kind in _EDITS:
        return _gone_vs_edited(rc, lc, right, left)
    return None


def _both_added(lc: SymbolChange, rc: SymbolChange, left: Side, right: Side) -> Finding | None:
    a, b = lc.after, rc.after
    if a is None or b is None or a.text_hash == b.text_hash:
        return None
    if a.kind == "constant" and b.kind == "constant":
        return _constants(a, b, left, right, added=True)
    return _finding(
        "DC403",
        Severity.ERROR,
        left,
        right,
        a,
        f"{left.name} and {right.name} both add {a.qualname} with different definitions "
        f"({a.path}:{a.start_line} and {b.path}:{b.start_line}); after a merge the later "
        "one silently wins",
        {"left": _version(a), "right": _version(b)},
    )


def _both_edited(
    lc: SymbolChange, rc: SymbolChange, left: Side, right: Side, conflicted: set[str] | None
) -> Finding | None:
    a, b = lc.after, rc.after
    if a is None or b is None:
        return None
    if a.kind == "constant" and b.kind == "constant":
        return _constants(a, b, left, right, added=False)
    if a.fingerprint == b.fingerprint and a.signature == b.signature:
        return None  # the same behaviour, written differently
    if a.kind == "class" and b.kind == "class":
        return None  # member-level changes are judged on the members themselves
    if conflicted is None:
        textual, how = None, "textual merge not simulated"
    elif a.path in conflicted or b.path in conflicted:
        textual, how = True, "git also reports a textual conflict there"
    else:
        textual, how = False, "git would merge the file cleanly, so both edits would land"
    return _finding(
        "DC401",
        Severity.WARNING,
        left,
        right,
        a,
        f"{left.name} and {right.name} both change {a.qualname} differently "
        f"({a.path}:{a.start_line}); {how}",
        {
            "textual_conflict": textual,
            "left": _version(a),
            "right": _version(b),
            "left_change": lc.kind,
            "right_change": rc.kind,
        },
    )


def _gone_vs_edited(
    gone: SymbolChange, edit: SymbolChange, remover: Side, editor: Side
) -> Finding | None:
    before, after = gone.before, edit.after
    if before is None or after is None:
        return None
    verb = {"removed": "deletes", "renamed": "renames", "moved": "moves"}[gone.kind]
    where = f" to {gone.new_qualname}" if gone.new_qualname else ""
    return _finding(
        "DC402",
        Severity.ERROR,
        editor,
        remover,
        after,
        f"{remover.name} {verb} {before.qualname}{where} while {editor.name} modifies it "
        f"({after.path}:{after.start_line}); the modification would be lost or orphaned",
        {
            "change": gone.kind,
            "removed_by": remover.name,
            "modified_by": editor.name,
            "new_qualname": gone.new_qualname,
            "modified": _version(after),
        },
    )


def _constants(a: Symbol, b: Symbol, left: Side, right: Side, *, added: bool) -> Finding | None:
    if a.value == b.value:
        return None
    verb = "add" if added else "set"
    return _finding(
        "DC404",
        Severity.ERROR,
        left,
        right,
        a,
        f"{left.name} and {right.name} both {verb} {a.qualname} to different values: "
        f"{a.value} vs {b.value}",
        {"values": {left.name: a.value, right.name: b.value}},
    )


def _version(symbol: Symbol) -> dict[str, object]:
    return {
        "path": symbol.path,
        "line": symbol.start_line,
        "end_line": symbol.end_line,
        "signature": symbol.signature.render() if symbol.signature else None,
    }


def _finding(
    code: str,
    severity: Severity,
    first: Side,
    second: Side,
    symbol: Symbol,
    message: str,
    details: dict[str, object],
) -> Finding:
    return Finding(
        kind=CONTRADICTING_EDIT,
        code=code,
        severity=severity,
        participants=(first.name, second.name),
        path=symbol.path,
        line=symbol.start_line,
        symbol=symbol.qualname,
        message=message,
        details=details,
    )
