"""Small pieces the contradicting-edit detector builds its findings and notes from."""

from __future__ import annotations

from driftcheck.detectors.semantics import Side
from driftcheck.model import CONTRADICTING_EDIT, Finding, Severity
from driftcheck.symbols.table import Symbol

# Most telling first: a symbol that is gone on one side is judged as gone.
EXCERPT_LINES = 24


def both_kept_note(path: str) -> str:
    if path.endswith(".py"):
        return "git would merge both and the later one silently wins"
    return "git would merge both, and a name defined twice does not compile"


def same(x: Symbol, y: Symbol) -> bool:
    return x.fingerprint == y.fingerprint and x.signature == y.signature


def unannotated(symbol: Symbol) -> tuple[object, ...] | None:
    """The signature without annotations: what a call can tell apart."""
    signature = symbol.signature
    if signature is None:
        return None
    return tuple((p.name, p.kind, p.has_default, p.default) for p in signature.params)


def flat(text: str) -> str:
    return " ".join(text.split())


def kinds(side: Side, qualname: str) -> str:
    return "+".join(c.kind for c in side.changes if c.qualname == qualname)


def merge_note(
    textual: bool | None, clean: str = "git would merge this cleanly, so both edits would land"
) -> str:
    if textual is None:
        return "textual merge not simulated"
    return "git also reports a textual conflict there" if textual else clean


def clip(lines: list[str]) -> str:
    shown = lines[:EXCERPT_LINES]
    more = [f"… {len(lines) - EXCERPT_LINES} more lines"] if len(lines) > EXCERPT_LINES else []
    return "\n".join(shown + more)


def finding(
    code: str,
    severity: Severity,
    participants: tuple[str, str],
    symbol: Symbol,
    message: str,
    details: dict[str, object],
) -> Finding:
    return Finding(
        kind=CONTRADICTING_EDIT,
        code=code,
        severity=severity,
        participants=participants,
        path=symbol.path,
        line=symbol.start_line,
        symbol=symbol.qualname,
        message=message,
        details=details,
    )
