"""duplicate: two sides each add code that implements the same thing.

- DC301 (warning): both add definitions with identical or near-identical normalised
  bodies (renamed locals, small edits), or one inlines what the other adds as a helper.
- DC302 (warning): both add a definition with the same new name in different places
  and different bodies. (The same qualified name is a contradicting edit instead.)
- DC303 (info): a side adds a function that already exists at the base.

Trivial bodies (fewer than `duplicate.min-statements` statements: `pass`, constant
returns, one-line getters and setters, plain delegation) are never reported.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Sequence

from driftcheck.config import Config
from driftcheck.detectors import PairContext
from driftcheck.model import DUPLICATE, Finding, Severity
from driftcheck.semantic import PairSemantics, Side, pair_semantics
from driftcheck.symbols import Symbol

_MAX_TOKENS = 3000
_COMPARABLE = {"function": "callable", "method": "callable", "class": "class"}
# Base functions scanned for DC303; a larger tree is sampled by name and size only.
_BASE_SCAN_LIMIT = 50_000


def detect(context: PairContext) -> Iterator[Finding]:
    semantics = pair_semantics(context)
    if semantics is None:
        return
    config = context.config or Config()
    minimum, threshold = config.duplicate_min_statements, config.duplicate_similarity
    left = _added(semantics.left, minimum)
    right = _added(semantics.right, minimum)
    paired: set[str] = set()
    for a in left:
        for b in right:
            finding = _compare(a, b, semantics, threshold)
            if finding is not None:
                paired.update((a.qualname, b.qualname))
                yield finding
    for adder, editor in semantics.directions():
        adds = left if adder is semantics.left else right
        yield from _inlined(adds, adder, editor, paired, minimum, threshold)
    yield from _existing(context, semantics, minimum, threshold)


def _added(side: Side, minimum: int) -> list[Symbol]:
    found = []
    for change in side.changes:
        symbol = change.after
        if change.kind != "added" or symbol is None or symbol.kind not in _COMPARABLE:
            continue
        if symbol.body_size >= minimum and not symbol.ignores(DUPLICATE):
            found.append(symbol)
    return found


def similarity(a: Sequence[str], b: Sequence[str]) -> float:
    if not a or not b:
        return 0.0
    matcher = difflib.SequenceMatcher(None, a[:_MAX_TOKENS], b[:_MAX_TOKENS], autojunk=False)
    if matcher.real_quick_ratio() < 0.5 or matcher.quick_ratio() < 0.5:
        return matcher.quick_ratio() * 0.5
    return matcher.ratio()


def _shape(tokens: Sequence[str]) -> list[str]:
    """Tokens with every canonical local name folded into one, for containment."""
    return ["$" if t.startswith("$") else t for t in tokens]


def _compare(a: Symbol, b: Symbol, semantics: PairSemantics, threshold: float) -> Finding | None:
    if a.qualname == b.qualname or _COMPARABLE[a.kind] != _COMPARABLE[b.kind]:
        return None
    score = 1.0 if a.fingerprint == b.fingerprint else similarity(a.body_tokens, b.body_tokens)
    left, right = semantics.left.name, semantics.right.name
    if score >= threshold:
        what = "the same code as" if score == 1.0 else "near-identical code to"
        message = (
            f"{left} adds {a.qualname} ({a.path}:{a.start_line}), {what} {right}'s new "
            f"{b.qualname} ({b.path}:{b.start_line}); keep one of them"
        )
        return _finding("DC301", left, right, a, b, score, message)
    if a.name == b.name:
        message = (
            f"{left} and {right} both add a {a.kind} named {a.name} in different places "
            f"({a.path}:{a.start_line} and {b.path}:{b.start_line}) with different bodies"
        )
        return _finding("DC302", left, right, a, b, score, message)
    return None


def _finding(
    code: str,
    left: str,
    right: str,
    a: Symbol,
    b: Symbol,
    score: float,
    message: str,
    **extra: object,
) -> Finding:
    return Finding(
        kind=DUPLICATE,
        code=code,
        severity=Severity.WARNING,
        participants=(left, right),
        path=a.path,
        line=a.start_line,
        symbol=a.qualname,
        message=message,
        details={
            "similarity": round(score, 3),
            "locations": [_location(left, a), _location(right, b)],
            **extra,
        },
    )


def _location(participant: str, symbol: Symbol) -> dict[str, object]:
    return {
        "participant": participant,
        "symbol": symbol.qualname,
        "path": symbol.path,
        "line": symbol.start_line,
        "end_line": symbol.end_line,
    }


def _inlined(
    adds: list[Symbol],
    adder: Side,
    editor: Side,
    paired: set[str],
    minimum: int,
    threshold: float,
) -> Iterator[Finding]:
    """`adder` adds a helper; `editor` writes the same code inline in a function."""
    candidates = [
        c.after
        for c in editor.changes
        if c.kind in ("added", "body", "signature")
        and c.after is not None
        and c.after.kind in ("function", "method")
        and c.after.qualname not in paired
        and not c.after.ignores(DUPLICATE)
    ]
    for helper in adds:
        if helper.qualname in paired or helper.kind == "class":
            continue
        needle = _shape(helper.body_tokens)
        if len(needle) < minimum * 4:
            continue
        for host in candidates:
            if host.qualname == helper.qualname or host.body_size <= helper.body_size:
                continue
            score = _containment(needle, _shape(host.body_tokens))
            if score >= threshold:
                paired.add(host.qualname)
                message = (
                    f"{editor.name} writes inline in {host.qualname} ({host.path}:"
                    f"{host.start_line}) what {adder.name} adds as {helper.qualname} "
                    f"({helper.path}:{helper.start_line}); call one shared helper"
                )
                yield _finding(
                    "DC301", editor.name, adder.name, host, helper, score, message, inlined=True
                )


def _containment(needle: list[str], haystack: list[str]) -> float:
    """Share of `needle` found, in order, inside `haystack`."""
    matcher = difflib.SequenceMatcher(None, needle[:_MAX_TOKENS], haystack[:_MAX_TOKENS], False)
    matched = sum(block.size for block in matcher.get_matching_blocks())
    return matched / len(needle)


def _existing(
    context: PairContext, semantics: PairSemantics, minimum: int, threshold: float
) -> Iterator[Finding]:
    """DC303: a side adds a function the base already has (reported once per side)."""
    reported: set[tuple[str, str, str]] = context.services.setdefault("dc303", set())
    base_functions: list[Symbol] | None = None
    for side in (semantics.left, semantics.right):
        adds = [s for s in _added(side, minimum) if s.kind in ("function", "method")]
        adds = [s for s in adds if (side.name, semantics.base_tree, s.qualname) not in reported]
        if not adds:
            continue
        if base_functions is None:
            base_functions = _base_functions(context, semantics, minimum)
        for symbol in adds:
            reported.add((side.name, semantics.base_tree, symbol.qualname))
            match = _best_match(symbol, base_functions, threshold)
            if match is None:
                continue
            existing, score = match
            yield Finding(
                kind=DUPLICATE,
                code="DC303",
                severity=Severity.INFO,
                participants=(side.name,),
                path=symbol.path,
                line=symbol.start_line,
                symbol=symbol.qualname,
                message=(
                    f"{side.name} adds {symbol.qualname}, which already exists as "
                    f"{existing.qualname} ({existing.path}:{existing.start_line})"
                ),
                details={
                    "similarity": round(score, 3),
                    "existing": _location("base", existing),
                    "added": _location(side.name, symbol),
                },
            )


def _base_functions(context: PairContext, semantics: PairSemantics, minimum: int) -> list[Symbol]:
    key = ("base_functions", semantics.base_tree)
    if key not in context.services:
        tables = semantics.index.whole_tree(semantics.base_tree)
        functions = [
            s
            for table in tables.values()
            for s in table.symbols
            if s.kind in ("function", "method") and s.body_size >= minimum
        ]
        context.services[key] = functions[:_BASE_SCAN_LIMIT]
    found: list[Symbol] = context.services[key]
    return found


def _best_match(
    symbol: Symbol, candidates: list[Symbol], threshold: float
) -> tuple[Symbol, float] | None:
    best: tuple[Symbol, float] | None = None
    size = len(symbol.body_tokens)
    for other in candidates:
        if other.qualname == symbol.qualname:
            continue
        if other.fingerprint == symbol.fingerprint:
            return other, 1.0
        if not size or abs(len(other.body_tokens) - size) > size * (1 - threshold) + 2:
            continue
        score = similarity(symbol.body_tokens, other.body_tokens)
        if score >= threshold and (best is None or score > best[1]):
            best = (other, score)
    return best
