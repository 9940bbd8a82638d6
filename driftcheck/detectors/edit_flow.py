"""What a Python edit to one function reads and writes, to tell two edits that
change one computation from two that only share a function.

Two sides that change different lines of one function merge cleanly. That is drift
when data flows between the edits, a few lines apart: one side writes a variable
the other side's edit reads or writes (the same off-by-one fixed twice, once on
`start` and once on `page`). It is not when they touch unrelated things in the same
function (`strict=True` on one call, an early return elsewhere). A shared guard or a
shared method call was measured too, on real pull requests, and told nothing. The
edited statements are read from both versions: a line removed counts with what it
read and wrote, a line added with what it now reads and writes.
"""

from __future__ import annotations

import ast
import difflib
import textwrap
from dataclasses import dataclass, field

# Methods that change the object they are called on.
MUTATORS = frozenset(
    {
        "append", "extend", "insert", "pop", "remove", "clear", "update", "add",
        "discard", "setdefault", "sort", "reverse", "popitem", "write",
    }
)  # fmt: skip
# Names that say nothing about data: every method reads them.
_UBIQUITOUS = frozenset({"self", "cls", "None", "True", "False"})


@dataclass
class EditFlow:
    reads: set[str] = field(default_factory=set)
    writes: set[str] = field(default_factory=set)

    def exchanges(self, other: EditFlow) -> bool:
        """Whether data flows between two edits: one writes what the other reads or
        writes."""
        return bool(self.writes & (other.reads | other.writes) or other.writes & self.reads)


def edit_flow(old: list[str], new: list[str]) -> EditFlow | None:
    """The flow of the edit from `old` to `new` (one definition's lines, as in the
    file); None when either version does not parse on its own."""
    old_tree, new_tree = _parse(old), _parse(new)
    if old_tree is None or new_tree is None:
        return None
    removed: set[int] = set()
    added: set[int] = set()
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        removed.update(range(i1 + 1, i2 + 1))
        added.update(range(j1 + 1, j2 + 1))
    flow = EditFlow()
    _collect(old_tree, removed, flow)
    _collect(new_tree, added, flow)
    for names in (flow.reads, flow.writes):
        names -= _UBIQUITOUS
    return flow


def _parse(lines: list[str]) -> ast.Module | None:
    try:
        return ast.parse(textwrap.dedent("\n".join(lines)))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _collect(tree: ast.Module, lines: set[int], flow: EditFlow) -> None:
    """Names read and written by the statements on `lines` (a compound
    statement counts by its header: an `if` by its condition, not its body)."""
    if not lines or not tree.body:
        return
    for node in ast.walk(tree.body[0]):
        if not isinstance(node, ast.stmt) or node is tree.body[0]:
            continue
        header = _header(node)
        end = node.end_lineno or node.lineno
        span = range(node.lineno, (header[-1] if header else end) + 1)
        if not lines.intersection(span):
            continue
        parts = _header_parts(node) if header else [node]
        for part in parts:
            _names(part, flow)


def _header(node: ast.stmt) -> list[int] | None:
    """The lines of a compound statement's header (None for a simple statement)."""
    first_body = getattr(node, "body", None)
    if not isinstance(first_body, list) or not first_body or isinstance(node, ast.ClassDef):
        return None
    return list(range(node.lineno, first_body[0].lineno))


def _header_parts(node: ast.stmt) -> list[ast.AST]:
    """What a compound statement's header evaluates: its condition, iterable, items."""
    parts: list[ast.AST] = []
    for name in ("test", "iter", "target", "items", "args", "decorator_list"):
        value = getattr(node, name, None)
        if isinstance(value, list):
            parts.extend(v for v in value if isinstance(v, ast.AST))
        elif isinstance(value, ast.AST):
            parts.append(value)
    return parts


def _names(node: ast.AST, flow: EditFlow) -> None:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            (flow.writes if isinstance(sub.ctx, ast.Store | ast.Del) else flow.reads).add(sub.id)
        elif isinstance(sub, ast.Attribute):
            dotted = _dotted(sub)
            if dotted is not None:
                store = isinstance(sub.ctx, ast.Store | ast.Del)
                (flow.writes if store else flow.reads).add(dotted)
        elif isinstance(sub, ast.AugAssign):
            flow.reads.update(_loads(sub.target))
        if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute):
            callee = _dotted(sub.func)
            if callee is None:
                continue
            if sub.func.attr in MUTATORS:
                flow.writes.add(callee.rpartition(".")[0])  # `items.append(x)` changes `items`


def _dotted(node: ast.expr) -> str | None:
    """`items`, or `self.items` for an attribute chain on a name; None otherwise."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return ".".join([node.id, *reversed(parts)])


def _loads(node: ast.AST) -> set[str]:
    found: set[str] = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            found.add(sub.id)
        elif isinstance(sub, ast.Attribute) and (dotted := _dotted(sub)) is not None:
            found.add(dotted)
    return found
