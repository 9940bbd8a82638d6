"""What a Python edit to one function reads, writes and guards, to tell two edits
that interact from two that only share a function.

Two sides that change different lines of one function merge cleanly. That is drift
when the edits meet: one side writes a variable the other side's edit reads or
writes (the same off-by-one fixed twice, once on `start` and once on `page`), both
add guards on the same variable, or both change the same operation (two fixes of
one `value.decode(...)`). It is not drift when they touch unrelated things in the
same function (`strict=True` on one call, an early return elsewhere). The edited
statements are read from both versions: a line removed counts with what it read
and wrote, a line added with what it now reads and writes.
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
_GUARDS = (ast.If, ast.While, ast.Assert, ast.IfExp)
# Names that say nothing about data: every method reads them.
_UBIQUITOUS = frozenset({"self", "cls", "None", "True", "False"})


@dataclass
class EditFlow:
    reads: set[str] = field(default_factory=set)
    writes: set[str] = field(default_factory=set)
    guarded: set[str] = field(default_factory=set)  # read in a condition the edit touches
    calls: set[str] = field(default_factory=set)  # `value.decode`: methods called on data

    def meets(self, other: EditFlow) -> bool:
        """Whether two edits interact: data flows between them, both guard the same
        variable, or both change the same method call on the same data."""
        if self.writes & (other.reads | other.writes) or other.writes & self.reads:
            return True
        return bool(self.guarded & other.guarded or self.calls & other.calls)


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
    for names in (flow.reads, flow.writes, flow.guarded):
        names -= _UBIQUITOUS
    return flow


def _parse(lines: list[str]) -> ast.Module | None:
    try:
        return ast.parse(textwrap.dedent("\n".join(lines)))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _collect(tree: ast.Module, lines: set[int], flow: EditFlow) -> None:
    """Names read, written and guarded by the statements on `lines` (a compound
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
        if isinstance(node, _GUARDS):
            flow.guarded.update(_loads(node.test))  # type: ignore[attr-defined]
        if isinstance(node, ast.Raise | ast.Return):
            guard = _guard_of(tree, node)
            if guard is not None:  # an early exit: its condition guards
                flow.guarded.update(_loads(guard))


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
            receiver = callee.rpartition(".")[0]
            if sub.func.attr in MUTATORS:
                flow.writes.add(receiver)  # `items.append(x)` changes `items`
            elif receiver.partition(".")[0] not in _UBIQUITOUS:
                # An operation on data (`value.decode(...)`); `self.check(...)` and
                # plain function calls say what is done, not to what.
                flow.calls.add(callee)


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


def _guard_of(tree: ast.Module, node: ast.stmt) -> ast.expr | None:
    """The condition of the `if` whose body holds `node` directly (an early exit)."""
    for parent in ast.walk(tree):
        if isinstance(parent, ast.If) and node in parent.body:
            return parent.test
    return None
