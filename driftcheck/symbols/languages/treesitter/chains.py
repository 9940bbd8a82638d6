"""Callee chains: how a call's receiver path reads (`a.b(...).c`), rendered from the
syntax tree through a language profile."""

from __future__ import annotations

from typing import TYPE_CHECKING

from driftcheck.symbols.languages.treesitter import norm
from driftcheck.symbols.languages.treesitter.profile import Profile

if TYPE_CHECKING:
    from tree_sitter import Node

NEW = "(new)"  # marks an instance-creating call in a rendered chain


def is_name(text: str) -> bool:
    return bool(text) and text[0] not in "(<[" and "(" not in text


def render_chain(node: Node | None, src: norm.Source, profile: Profile) -> list[tuple[str, str]]:
    """(separator, text) parts of a callee, root first: `a.b(...).c` -> a, b, (...), c."""
    parts: list[tuple[str, str]] = []
    current = node
    while current is not None:
        kind = current.type
        if kind in profile.access:
            obj_field, member_field, sep = profile.access[kind]
            member = current.child_by_field_name(member_field)
            parts.append((sep, src.text(member) if member is not None else "?"))
            current = current.child_by_field_name(obj_field)
        elif kind in profile.invocation_types:
            obj_field, name_field = profile.invocation_types[kind]
            name = current.child_by_field_name(name_field)
            parts.append(("", "(...)"))
            parts.append((".", src.text(name) if name is not None else "?"))
            current = current.child_by_field_name(obj_field)
        elif kind in profile.call_types:
            field_name = profile.call_types[kind]
            if field_name.startswith("new:"):
                parts.append(("", NEW))
                text = norm.strip_type(src.text(current.child_by_field_name(field_name[4:])))
                for i, piece in enumerate(reversed(text.split(".")) if text else ["<expr>"]):
                    parts.append(("." if i < text.count(".") else "", piece))
                current = None
                continue
            parts.append(("", "(...)"))
            current = current.child_by_field_name(field_name)
        elif kind in profile.subscript_types:
            parts.append(("", "[...]"))
            current = _child(current, profile.subscript_types[kind])
        elif kind in profile.wrappers:
            current = _child(current, profile.wrappers[kind])
        else:
            simple = current.child_count == 0 or kind in profile.identifier_types
            parts.append(("", src.text(current) if simple else "<expr>"))
            break
    parts.reverse()
    return parts


def _child(node: Node, field_name: str) -> Node | None:
    """The child in `field_name`, or the first named child when the name is ""."""
    if field_name:
        return node.child_by_field_name(field_name)
    return node.named_children[0] if node.named_child_count else None


def chain_text(parts: list[tuple[str, str]]) -> str:
    out = []
    for i, (sep, text) in enumerate(parts):
        if text in ("(...)", "[...]", NEW):
            text = "(...)" if text == NEW else text
            out.append(text)
        else:
            out.append((sep if i else "") + text)
    return "".join(out)
