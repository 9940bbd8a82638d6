"""Reading two versions of one definition: which nested definition an edit falls
in, which lines only declare names or say nothing, what a collection display
holds, and diff headers counted from the file's first line."""

from __future__ import annotations

import ast
import difflib
import re
import textwrap
from collections import Counter

_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


_HUNK = re.compile(r"^@@ -(\d+)(,\d+)? \+(\d+)(,\d+)? @@")


def nested_spans(lines: list[str]) -> list[tuple[int, int]] | None:
    """1-based line spans of the definitions nested in the one `lines` holds."""
    try:
        tree = ast.parse(textwrap.dedent("\n".join(lines)))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    if not tree.body:
        return None
    spans = []
    for node in ast.walk(tree.body[0]):
        if node is not tree.body[0] and isinstance(node, _DEFS):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            spans.append((first, node.end_lineno or node.lineno))
    return spans


def innermost(spans: list[tuple[int, int]], line: float) -> tuple[int, int]:
    inside = [s for s in spans if s[0] <= line <= s[1]]
    return min(inside, key=lambda s: s[1] - s[0]) if inside else (0, 0)


# Declarations in the tree-sitter languages: `const x`, `function f`, `type T`, an
# optional member `realm?: string`, Go's `x := ...`. Twice in one scope, each is a
# compile error ("Duplicate identifier", "no new variables").
_DECLARATION = re.compile(
    r"^(export\s+)?(const|let|var|function|class|interface|type|enum|func)\s+[\w$]"
    r"|^[\w$]+\?\s*:"
    r"|^[\w$]+(\s*,\s*[\w$]+)*\s*:="
)


def declares(line: str) -> bool:
    """A line that declares a name: an annotated assignment, a def or class, an import,
    or a declaration of the tree-sitter languages."""
    text = line.strip()
    if text.startswith(("def ", "async def ", "class ", "import ", "from ")):
        return True
    if _DECLARATION.match(text):
        return True
    head = text.split("=", 1)[0]
    return ":" in head and "=" in text and not head.rstrip().endswith(("(", "["))


def inert(line: str) -> bool:
    """Blank or comment-only: no behaviour in it."""
    text = line.strip()
    return not text or text.startswith("#")


def entries(value: str | None) -> Counter[str] | None:
    """The entries of a list/tuple/set/dict display, as normalised text; None otherwise."""
    if value is None:
        return None
    try:
        node = ast.parse(value, mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None  # e.g. a value too long to keep whole
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return Counter(ast.unparse(e) for e in node.elts)
    if isinstance(node, ast.Dict):
        return Counter(
            f"{ast.unparse(k) if k else '**'}: {ast.unparse(v)}"
            for k, v in zip(node.keys, node.values, strict=True)
        )
    return None


def additive(base: str | None, left: str | None, right: str | None) -> bool:
    """Both sides keep every entry the base had and only add their own."""
    old, a, b = entries(base), entries(left), entries(right)
    if old is None or a is None or b is None:
        return False
    return not (old - a) and not (old - b)


def composed(base: str | None, left: str | None, right: str | None, merged: str | None) -> bool:
    """Whether `merged` is exactly the base's entries with both sides' removals and
    additions applied (git merged an `__all__` that one side trimmed and one grew)."""
    old, a, b, both = entries(base), entries(left), entries(right), entries(merged)
    if old is None or a is None or b is None or both is None:
        return False
    return both == (old - (old - a) - (old - b)) + (a - old) + (b - old)


def hunk_header(line: str, shift: tuple[int, int]) -> str:
    """`@@ -2,2 +2,3 @@` counts from the symbol's first line; make it the file's."""
    match = _HUNK.match(line)
    if match is None:
        return line
    old, new = int(match[1]) + shift[0], int(match[3]) + shift[1]
    return f"@@ -{old}{match[2] or ''} +{new}{match[4] or ''} @@"


Hunk = tuple[int, int, tuple[str, ...]]  # base lines [start, end) and what replaces them


def hunks(old: list[str], new: list[str]) -> list[Hunk]:
    """The edit from `old` to `new`, as the base lines each hunk replaces."""
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    return [
        (i1, i2, tuple(new[j1:j2]))
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        if tag != "equal"
    ]


def own_hunks(mine: list[Hunk], theirs: list[Hunk]) -> tuple[list[Hunk], list[Hunk]]:
    """Both edits without the hunks they make identically: git merges a change both
    sides make into one copy, so only the rest can clash."""
    shared = set(mine) & set(theirs)
    return [h for h in mine if h not in shared], [h for h in theirs if h not in shared]


def applied(old: list[str], edit: list[Hunk]) -> list[str]:
    """`old` with the hunks of `edit` made."""
    out: list[str] = []
    position = 0
    for start, end, new in edit:
        out.extend(old[position:start])
        out.extend(new)
        position = end
    out.extend(old[position:])
    return out


def hunk_gap(mine: list[Hunk], theirs: list[Hunk]) -> int | None:
    """Base lines between the nearest hunks of two edits (0: they touch the same or
    adjacent lines); None when either changes nothing."""
    gaps = [max(b1 - a2, a1 - b2, 0) for a1, a2, _ in mine for b1, b2, _ in theirs]
    return min(gaps) if gaps else None
