"""duplicate: two sides each add code that implements the same thing.

- DC301 (warning): both add definitions with identical or near-identical normalised
  bodies (renamed locals, small edits), or one inlines what the other adds as a helper.
- DC302 (warning): both add a definition with the same new name in different places
  and different bodies. (The same qualified name is a contradicting edit instead.)
- DC303 (info): a side adds a function that already exists at the base. Code
  outside tests is matched with code outside tests only: a test helper is not
  something for it to reuse. Code in tests is matched with all of the base. The
  trunk's own additions are merged code, not an agent's to change: never reported.

Trivial bodies (fewer than `duplicate.min-statements` statements: `pass`, constant
returns, one-line getters and setters, plain delegation) are never reported.

details: `similarity` (0..1) and `locations` [{participant, symbol, path, line,
end_line}] for DC301/DC302 (`inlined: true` when one side wrote the helper's code
inside a function); `existing` and `added` locations for DC303.
"""

from __future__ import annotations

import ast
import functools
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

from driftcheck.config import Config
from driftcheck.detectors.context import PairContext
from driftcheck.detectors.semantics import PairSemantics, Side
from driftcheck.model import DUPLICATE, Finding, Severity
from driftcheck.symbols.changes import GONE
from driftcheck.symbols.index import SymbolIndex
from driftcheck.symbols.languages import frontend_for
from driftcheck.symbols.similarity import (
    containment,
    does_something,
    loose_similarity,
    size_bound,
)
from driftcheck.symbols.table import Symbol
from driftcheck.symbols.tree_index import is_test_path

# Tokens before a callee: its name says what the code does, so it is kept.
_CALLERS = frozenset({"Call", "call_expression", "new", "method_invocation"})
# A helper shorter than this (in folded tokens) is too generic to spot inlined.
_MIN_NEEDLE = 24
# Lines of each definition quoted in a finding, so it reads without the other tree.
_QUOTED = 12
_AST_NODES = frozenset(
    name
    for name, value in vars(ast).items()
    if isinstance(value, type) and issubclass(value, ast.AST)
)
# A literal too long to keep whole is one `<kind>#<digest>` token (both frontends).
_LONG_LITERAL = re.compile(r"^\w+#[0-9a-f]{24}$")
_LOCAL_NAMES = frozenset({"main", "run", "setup", "teardown", "cli"})
_COMPARABLE = {"function": "callable", "method": "callable", "class": "class"}
# Base functions scanned for DC303; a larger tree is sampled by name and size only.
_BASE_SCAN_LIMIT = 50_000


def detect(context: PairContext) -> Iterator[Finding]:
    semantics = context.semantics()
    if semantics is None:
        return
    config = context.config or Config()
    minimum, threshold = config.duplicate_min_statements, config.duplicate_similarity
    left, right = _unmirrored(_added(semantics.left, minimum), _added(semantics.right, minimum))
    paired: set[str] = set()
    for a in left:
        for b in right:
            if a.parent in paired and b.parent in paired:
                continue  # members of two classes already reported as duplicates
            finding = _compare(a, b, semantics, threshold)
            if finding is not None:
                paired.update((a.qualname, b.qualname))
                yield finding
    for adder, editor in semantics.directions():
        adds = left if adder is semantics.left else right
        yield from _inlined(semantics.index, adds, adder, editor, paired, (minimum, threshold))
    yield from _existing(context, semantics, (left, right), minimum, threshold)


def _added(side: Side, minimum: int) -> list[Symbol]:
    found = []
    for change in side.changes:
        symbol = change.after
        if change.kind != "added" or symbol is None or symbol.kind not in _COMPARABLE:
            continue
        if symbol.body_size >= minimum and not symbol.ignores(DUPLICATE):
            found.append(symbol)
    return found


def _unmirrored(left: list[Symbol], right: list[Symbol]) -> tuple[list[Symbol], list[Symbol]]:
    """Both lists without what both sides add identically (same qualified name, same
    code): git merges such an addition into one copy, so it is no duplicate, and its
    siblings must not be matched against it either (`test_x` with the other's `test_y`).
    Seen when both branches carry the same commits, or one was squash-merged."""
    both = {(s.qualname, s.fingerprint) for s in left} & {
        (s.qualname, s.fingerprint) for s in right
    }
    if not both:
        return left, right
    return (
        [s for s in left if (s.qualname, s.fingerprint) not in both],
        [s for s in right if (s.qualname, s.fingerprint) not in both],
    )


def _operands(tokens: Sequence[str], path: str) -> list[str]:
    """Tokens with every simple operand folded into `$`, callees kept.

    Inlining a helper substitutes arguments for its parameters: `root` becomes
    `MODELS_DIR`, `self.models_dir` or a constant. Locals, parameters, globals,
    constants and attribute reads on them all fold to `$`; a name or attribute
    that is called (`Call sorted`, `Call Attribute .is_dir`) stays, as it says
    what the code does.
    """
    structure = _structure(path)
    out: list[str] = []
    for i in range(len(tokens) - 1, -1, -1):
        token = tokens[i]
        called = i > 0 and tokens[i - 1] in _CALLERS
        is_name = token.isidentifier() and token not in structure
        if token.startswith(("$", "c:", "c#")) or (is_name and not called):
            out.append("$")
        elif (
            token == "Attribute"
            and not called
            and out[-2:] == ["$", out[-1]]
            and out[-1][:1] == "."
        ):
            del out[-2:]
            out.append("$")
        else:
            out.append(token)
    out.reverse()
    return out


def _vocabulary(needle: list[str], path: str) -> set[str]:
    """What a helper's folded tokens name: the functions it calls, the attributes and
    keywords it uses."""
    structure = _structure(path)
    return {
        t
        for t in needle
        if t.startswith((".", "kw:"))
        or t.partition(":")[0].endswith("identifier")
        or (t.isidentifier() and t not in structure)
    }


def _calls_alike(vocabulary: set[str], host: list[str]) -> bool:
    """Whether the host names what the helper names. Inlining substitutes arguments,
    never those; a host that only shares the helper's shape (a counting loop, a guard
    and a return) shares few of them. One in four may differ (an alias, a sibling
    method)."""
    missing = vocabulary - set(host)
    return len(missing) <= len(vocabulary) // 4


def _structure(path: str) -> frozenset[str]:
    """The words of a body's tokens that are syntax, not names: Python's AST node
    names, or every node kind of the file's tree-sitter grammar (`statement_block`,
    `for`), which would otherwise fold into `$` like a name and leave only
    punctuation to compare."""
    grammar = getattr(frontend_for(path), "grammar", None)
    if path.endswith(".py") or grammar is None:
        return _AST_NODES
    return _kinds(grammar(path).parser.language)


@functools.cache
def _kinds(language: Any) -> frozenset[str]:
    return frozenset(
        kind
        for i in range(language.node_kind_count)
        if (kind := language.node_kind_for_id(i)) is not None
    )


def _long_literals(symbol: Symbol) -> Counter[str]:
    """The long string literals a body embeds (folded to one digest token each)."""
    return Counter(t for t in symbol.body_tokens if _LONG_LITERAL.match(t))


def _embed_different_data(a: Symbol, b: Symbol) -> bool:
    """Two bodies built around different long literals (a test's embedded program, a
    query, a template) do different things, however alike their shape: the folded
    tokens alone would call them near-identical."""
    return _long_literals(a) != _long_literals(b)


def _compare(a: Symbol, b: Symbol, semantics: PairSemantics, threshold: float) -> Finding | None:
    if a.qualname == b.qualname or _COMPARABLE[a.kind] != _COMPARABLE[b.kind]:
        return None
    if a.fingerprint != b.fingerprint and _embed_different_data(a, b):
        return None
    if a.fingerprint == b.fingerprint:
        score = 1.0
    elif size_bound(a.body_tokens, b.body_tokens) < threshold and a.name != b.name:
        return None  # lengths alone rule out a near-duplicate: skip the slow ratio
    else:
        score = loose_similarity(a.body_tokens, b.body_tokens)
    left, right = semantics.left.name, semantics.right.name
    # Straight assignments are no duplicate: every constructor looks like every other.
    if score >= threshold and does_something(a.body_tokens) and does_something(b.body_tokens):
        what = "the same code as" if score == 1.0 else "near-identical code to"
        message = (
            f"{left} adds {a.qualname} ({a.path}:{a.start_line}), {what} {right}'s new "
            f"{b.qualname} ({b.path}:{b.start_line}); keep one of them"
        )
        return _finding("DC301", left, right, a, b, score, message, **_quotes(semantics, a, b))
    if a.name == b.name and _claims_name(a) and _claims_name(b):
        message = (
            f"{left} and {right} both add a {a.kind} named {a.name} in different places "
            f"({a.path}:{a.start_line} and {b.path}:{b.start_line}) with different bodies; "
            "rename one, or merge them into one shared definition"
        )
        return _finding("DC302", left, right, a, b, score, message, **_quotes(semantics, a, b))
    return None


def _quotes(semantics: PairSemantics, a: Symbol, b: Symbol) -> dict[str, str]:
    index = semantics.index
    return {
        "left_definition": index.definition_text(semantics.left.tree, a, _QUOTED),
        "right_definition": index.definition_text(semantics.right.tree, b, _QUOTED),
    }


def _claims_name(symbol: Symbol) -> bool:
    """A public module-level name others will import. Methods of different classes
    share names by design, and `main`, tests and private helpers are local."""
    name = symbol.name
    return (
        symbol.parent is None
        and not name.startswith("_")
        and name not in _LOCAL_NAMES
        and not name.lower().startswith("test")
    )


def _is_test(symbol: Symbol) -> bool:
    return symbol.name.lower().startswith("test")


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
    index: SymbolIndex,
    adds: list[Symbol],
    adder: Side,
    editor: Side,
    paired: set[str],
    limits: tuple[int, float],
) -> Iterator[Finding]:
    """`adder` adds a helper; `editor` writes the same code inline in a function."""
    minimum, threshold = limits
    # A host may be changed twice (signature and body): look at it once.
    hosts: dict[str, tuple[Symbol, Symbol | None]] = {}
    for change in editor.changes:
        host = change.after
        if change.kind not in ("added", "body", "signature") or host is None:
            continue
        if host.kind in ("function", "method") and not host.ignores(DUPLICATE):
            hosts.setdefault(host.qualname, (host, change.before))
    operands: dict[str, list[str]] = {}  # a host's, folded once for every helper
    for helper in adds:
        if helper.qualname in paired or not spottable(helper, minimum):
            continue
        needle = _operands(helper.body_tokens, helper.path)
        vocabulary = _vocabulary(needle, helper.path)
        for host, before in hosts.values():
            if host.qualname in paired or host.body_size <= helper.body_size:
                continue
            if host.qualname == helper.qualname:
                continue  # one definition both add: a clash (DC403), not an inlined copy
            if host.qualname not in operands:
                operands[host.qualname] = _operands(host.body_tokens, host.path)
            score = containment(needle, operands[host.qualname], threshold)
            if score < threshold or not _calls_alike(vocabulary, operands[host.qualname]):
                continue
            if before is not None and _contains(needle, before, threshold):
                continue  # the code was there at the base already: not the editor's doing
            paired.add(host.qualname)
            message = (
                f"{editor.name} writes inline in {host.qualname} ({host.path}:"
                f"{host.start_line}) what {adder.name} adds as {helper.qualname} "
                f"({helper.path}:{helper.start_line}); call one shared helper"
            )
            yield _finding(
                "DC301",
                editor.name,
                adder.name,
                host,
                helper,
                score,
                message,
                inlined=True,
                right_definition=index.definition_text(adder.tree, helper, _QUOTED),
            )


def spottable(helper: Symbol, minimum: int) -> bool:
    """Whether `_inlined` looks for this added definition inside another side's
    functions (the overlap index pairs sides by the same test)."""
    if helper.kind == "class" or _is_test(helper) or helper.name.startswith("__"):
        return False
    if not does_something(helper.body_tokens):
        return False  # `self.a = a; self.b = b`: every constructor looks like that
    return len(_operands(helper.body_tokens, helper.path)) >= max(minimum * 6, _MIN_NEEDLE)


def _contains(needle: list[str], host: Symbol, threshold: float) -> bool:
    return containment(needle, _operands(host.body_tokens, host.path), threshold) >= threshold


def _existing(
    context: PairContext,
    semantics: PairSemantics,
    added: tuple[list[Symbol], list[Symbol]],
    minimum: int,
    threshold: float,
) -> Iterator[Finding]:
    """DC303: a side adds a function the base already has (reported once per side)."""
    reported = context.shared.existing_reported
    # Judging a proposed edit, only what the edit adds is of interest.
    sides = list(zip((semantics.left, semantics.right), added, strict=True))
    if context.focus is not None:
        sides = sides[:1]
    for side, side_adds in sides:
        if side.name == context.trunk:
            continue  # the trunk's code is merged already: nothing for an agent to reuse
        adds = [s for s in side_adds if s.kind in ("function", "method") and not _is_test(s)]
        adds = [s for s in adds if (side.name, semantics.base_tree, s.qualname) not in reported]
        if not adds:
            continue
        # What this side removed, renamed, moved or rewrote (say, into a delegate to
        # the new function) is not "already there" for it: it is being refactored.
        gone = {c.qualname for c in side.changes if c.kind in (*GONE, "body", "signature")}
        for symbol in adds:
            reported.add((side.name, semantics.base_tree, symbol.qualname))
            match = _existing_match(context, semantics, symbol, gone, minimum, threshold)
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
                    f"{side.name} adds {symbol.qualname} ({symbol.path}:{symbol.start_line}), "
                    f"which already exists as {existing.qualname} ({existing.path}:"
                    f"{existing.start_line}); use the existing one"
                ),
                details={
                    "similarity": round(score, 3),
                    "existing": _location("base", existing),
                    "added": _location(side.name, symbol),
                    "existing_definition": semantics.index.definition_text(
                        semantics.base_tree, existing, _QUOTED
                    ),
                },
            )


def _existing_match(
    context: PairContext,
    semantics: PairSemantics,
    symbol: Symbol,
    gone: set[str],
    minimum: int,
    threshold: float,
) -> tuple[Symbol, float] | None:
    """The base function `symbol` repeats best, if any. Both lookups are kept by
    what decides them (the shared facts may outlive this analysis): a side met in
    many pairs, or again after a write elsewhere, is looked up once."""
    kept = context.shared.kept
    key = (semantics.base_tree, symbol, minimum)
    found = kept.existing_candidates.get(key)
    if found is None:
        found = kept.existing_candidates[key] = _base_functions(semantics, symbol, minimum)
    removed = frozenset(f.qualname for f in found if f.qualname in gone)
    if (key, threshold, removed) not in kept.existing_matches:
        candidates = [f for f in found if f.qualname not in removed]
        kept.existing_matches[key, threshold, removed] = _best_match(symbol, candidates, threshold)
    return kept.existing_matches[key, threshold, removed]


def _base_functions(semantics: PairSemantics, symbol: Symbol, minimum: int) -> list[Symbol]:
    """Base functions `symbol` may repeat, found in the whole-tree index (cheap once
    cached): the same normalised body, or a sketch close enough to its own to be
    worth a real comparison. Comparing token streams against every function of a
    large tree would cost seconds per added function."""
    index = semantics.index
    if is_test_path(symbol.path):
        whole = index.tree_index(semantics.base_tree)
    else:
        whole = index.code_index(semantics.base_tree)
    candidates = whole.same_body(symbol.fingerprint) + whole.similar(symbol.body_tokens)
    paths = sorted({c.path for c in candidates})
    wanted = {c.qualname for c in candidates}
    return [
        s
        for table in semantics.index.definitions(semantics.base_tree, paths).values()
        for s in table.symbols
        if s.qualname in wanted and s.body_size >= minimum
    ][:_BASE_SCAN_LIMIT]


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
        if _embed_different_data(symbol, other) or not does_something(other.body_tokens):
            continue
        score = loose_similarity(symbol.body_tokens, other.body_tokens)
        if score >= threshold and (best is None or score > best[1]):
            best = (other, score)
    return best
