"""What an edit to one function reads and writes, for the languages read with
tree-sitter (TypeScript, JavaScript, Go, Java, Rust): the same question edit_flow.py
answers for Python with `ast`, and the same rules, so two clean-merging edits of one
function count as drift on the same evidence in every language.

The whole file of each version is parsed (a method's lines alone are not a valid
program). A statement is touched when the edit changes one of its own tokens: those
outside its nested blocks and nested statements, so an `if` counts by its condition
and a callback's body by its own statements, not by the call around it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import Any

from driftcheck.detectors.edit_flow import MUTATORS, EditFlow
from driftcheck.symbols.languages import frontend_for

# Containers of statements: a statement's own tokens stop at them.
_BLOCKS = frozenset(
    {
        "statement_block", "block", "class_body", "switch_body", "switch_block",
        "declaration_list", "field_declaration_list", "match_block", "interface_body",
        "enum_body", "object_type", "constructor_body",
    }
)  # fmt: skip
_DECLARATIONS = frozenset(
    {
        "lexical_declaration", "variable_declaration", "local_variable_declaration",
        "short_var_declaration", "let_declaration", "var_declaration", "const_declaration",
    }
)  # fmt: skip
_NAMES = frozenset({"identifier", "shorthand_property_identifier"})
_MEMBERS = frozenset(
    {"member_expression", "selector_expression", "field_access", "field_expression"}
)
_MEMBER_FIELDS = {  # node type -> (object field, property field)
    "member_expression": ("object", "property"),
    "selector_expression": ("operand", "field"),
    "field_access": ("object", "field"),
    "field_expression": ("value", "field"),
}
_SELF = frozenset({"this", "self"})
# (node type, field) whose subtree a statement assigns; the `name` of declarators too.
_TARGETS = {
    "assignment_expression": "left",
    "augmented_assignment_expression": "left",
    "compound_assignment_expr": "left",
    "assignment_statement": "left",
    "short_var_declaration": "left",
    "for_in_statement": "left",
    "range_clause": "left",
    "variable_declarator": "name",
    "var_spec": "name",
    "const_spec": "name",
    "let_declaration": "pattern",
    "update_expression": "argument",
}
_READ_TOO = frozenset(
    {"augmented_assignment_expression", "compound_assignment_expr", "update_expression"}
)
_STEPS = frozenset({"inc_statement", "dec_statement"})  # Go's `i++`: no field to name
_CALLS = {"call_expression": "function", "method_invocation": None}
# Methods on JS collections that change the receiver, beyond Python's names.
_JS_MUTATORS = frozenset({"push", "unshift", "shift", "splice", "set", "delete", "fill"})
# Names every function touches: they say nothing about data. `err` is Go's error value,
# checked after nearly every call.
_UBIQUITOUS = frozenset(
    {"this", "self", "super", "null", "undefined", "true", "false", "nil", "err"}
)


def syntax_edit_flow(
    path: str,
    old_file: list[str],
    old_span: tuple[int, int],
    new_file: list[str],
    new_span: tuple[int, int],
) -> EditFlow | None:
    """The flow of one definition's edit, from its lines `old_span` of `old_file` to
    `new_span` of `new_file` (1-based, inclusive); None where no tree-sitter grammar
    reads `path`."""
    frontend = frontend_for(path)
    grammar = getattr(frontend, "grammar", None)
    if grammar is None:
        return None
    parser = grammar(path).parser
    old = old_file[old_span[0] - 1 : old_span[1]]
    new = new_file[new_span[0] - 1 : new_span[1]]
    removed: set[int] = set()
    added: set[int] = set()
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            removed.update(range(old_span[0] + i1, old_span[0] + i2))
            added.update(range(new_span[0] + j1, new_span[0] + j2))
    flow = EditFlow()
    for lines, touched, span in ((old_file, removed, old_span), (new_file, added, new_span)):
        if touched:
            tree = parser.parse("\n".join(lines).encode("utf-8", "replace"))
            _collect(tree.root_node, touched, span, flow)
    for names in (flow.reads, flow.writes):
        names -= _UBIQUITOUS
    return flow


def _collect(root: Any, lines: set[int], span: tuple[int, int], flow: EditFlow) -> None:
    """Names read and written by the statements of `span` whose own tokens
    sit on `lines` (1-based)."""
    for node in _walk(root, span):
        if not _is_statement(node):
            continue
        own = list(_own(node))
        if not any(n.start_point.row + 1 in lines for n in own if _is_token(n)):
            continue
        _names(own, flow)


def _walk(root: Any, span: tuple[int, int]) -> Iterator[Any]:
    """Nodes that overlap lines `span`, without descending where they do not."""
    first, last = span[0] - 1, span[1] - 1
    stack = [root]
    while stack:
        node = stack.pop()
        if node.end_point.row < first or node.start_point.row > last:
            continue
        yield node
        stack.extend(reversed(node.children))


def _is_statement(node: Any) -> bool:
    kind = node.type
    return kind.endswith("_statement") or kind in _DECLARATIONS or kind == "if_expression"


def _is_token(node: Any) -> bool:
    return node.child_count == 0 and "comment" not in node.type


def _own(statement: Any) -> Iterator[Any]:
    """The statement and its nodes, not entering nested blocks or statements."""
    stack = [statement]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(
            child
            for child in node.children
            if child.type not in _BLOCKS and not _is_statement(child)
        )


def _names(own: list[Any], flow: EditFlow) -> None:
    written = _targets(own)
    for node in own:
        if node.type in _NAMES or node.type in _MEMBERS:
            name = _dotted(node)
            if name is None or (node.type in _NAMES and _is_property(node)):
                continue
            key = (node.start_byte, node.end_byte)
            if key in written:
                flow.writes.add(name)
                if written[key]:
                    flow.reads.add(name)
            else:
                flow.reads.add(name)
        elif node.type in _CALLS:
            _call(node, flow)


def _targets(own: list[Any]) -> dict[tuple[int, int], bool]:
    """The byte spans of the names the statement assigns, each with whether it is
    read too (`x += 1`). An element written (`a[i] = v`) reads its container, as in
    Python."""
    found: dict[tuple[int, int], bool] = {}
    for node in own:
        if node.type in _STEPS:
            target = node.named_children[0] if node.named_children else None
        elif node.type in _TARGETS:
            target = node.child_by_field_name(_TARGETS[node.type])
        else:
            continue
        for item in _items(target):
            found[(item.start_byte, item.end_byte)] = node.type in _READ_TOO or node.type in _STEPS
    return found


def _items(target: Any) -> Iterator[Any]:
    """The names and members a target assigns: each of `a, b` or `[a, b]`."""
    if target is None:
        return
    if target.type in _NAMES or target.type in _MEMBERS:
        yield target
    elif target.type in {"expression_list", "array_pattern", "object_pattern", "tuple_pattern"}:
        for child in target.named_children:
            yield from _items(child)
    elif target.type in {"shorthand_property_identifier_pattern", "pair_pattern"}:
        yield from _items(target.child_by_field_name("value") or target)


def _call(node: Any, flow: EditFlow) -> None:
    field = _CALLS[node.type]
    if field is None:  # Java: `receiver.name(...)`
        receiver_node = node.child_by_field_name("object")
        method_node = node.child_by_field_name("name")
        if receiver_node is None or method_node is None:
            return
        receiver, method = _dotted(receiver_node), _text(method_node)
    else:
        callee_node = node.child_by_field_name(field)
        callee = _dotted(callee_node) if callee_node is not None else None
        if callee is None or "." not in callee:
            return
        receiver, _, method = callee.rpartition(".")
    if receiver is None:
        return
    if method in MUTATORS or method in _JS_MUTATORS:
        flow.writes.add(receiver)  # `items.push(x)` changes `items`


def _dotted(node: Any) -> str | None:
    """`items`, or `this.items` for a member chain on a name; None otherwise."""
    parts: list[str] = []
    while node is not None and node.type in _MEMBERS:
        obj_field, prop_field = _MEMBER_FIELDS[node.type]
        prop = node.child_by_field_name(prop_field)
        if prop is None:
            return None
        parts.append(_text(prop))
        node = node.child_by_field_name(obj_field)
    if node is None or not (node.type in _NAMES or node.type in _SELF):
        return None
    return ".".join([_text(node), *reversed(parts)])


def _is_property(node: Any) -> bool:
    """A name that is the member part of `a.b` (read as `a.b`, not `b`)."""
    parent = node.parent
    if parent is None or parent.type not in _MEMBERS:
        return False
    prop = parent.child_by_field_name(_MEMBER_FIELDS[parent.type][1])
    return prop is not None and prop.start_byte == node.start_byte


def _text(node: Any) -> str:
    return node.text.decode("utf-8", "replace") if node.text is not None else ""
