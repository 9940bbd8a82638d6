"""Normalised token streams for definitions read by tree-sitter.

The same contract as the Python frontend's `python.norm`: two bodies that differ only
in comments, layout, quote style or the names of their parameters and locals give the
same tokens; member names, global names and literals are kept, because changing them
changes behaviour. Walks are iterative (TreeCursor), so deep nesting cannot overflow.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING

from driftcheck.symbols.languages.common import MAX_TEXT as _MAX_TEXT
from driftcheck.symbols.languages.common import digest, one_line

if TYPE_CHECKING:
    from tree_sitter import Node

_MAX_LITERAL = 60
# Punctuation that layout or style choices add or drop (ASI, trailing commas, quote
# style) without changing meaning; the named node types already carry the structure.
_NOISE = frozenset({";", ",", "(", ")", "{", "}", "[", "]", '"', "'", "`", ":", "::"})


class Source:
    """The file's bytes; tree-sitter positions are byte offsets into them."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def text(self, node: Node | None) -> str:
        if node is None:
            return ""
        return self.data[node.start_byte : node.end_byte].decode("utf-8", "replace")

    def head(self, node: Node, limit: int = _MAX_TEXT) -> str:
        """One-line text of a node, cut at `limit` characters; reads only what it shows
        (a call wrapping a long callback is not decoded whole)."""
        end = min(node.end_byte, node.start_byte + 4 * limit)
        text = one_line(self.data[node.start_byte : end].decode("utf-8", "replace"), limit)
        if end < node.end_byte and not text.endswith("…"):
            text = text[: limit - 1] + "…"
        return text


class Canon:
    """Canonical names for one definition: parameters `$p0..` in declaration order
    (so adding a parameter does not renumber the body), other locals `$0..` by first
    use. `$` never starts an identifier in the languages read here."""

    def __init__(self, params: Iterable[str], local_names: Collection[str]) -> None:
        self.names: dict[str, str] = {}
        for i, name in enumerate(params):
            self.names.setdefault(name, f"$p{i}")
        self.locals = local_names
        self.next = 0

    def name(self, ident: str) -> str:
        canon = self.names.get(ident)
        if canon is None:
            if ident not in self.locals:
                return ident
            canon = self.names[ident] = f"${self.next}"
            self.next += 1
        return canon


def tokens(
    roots: Iterable[Node],
    src: Source,
    *,
    canon: Canon | None,
    identifier_types: Collection[str],
    member_fields: Collection[tuple[str, str]],
    comment_types: Collection[str],
    block_types: Collection[str],
    skip: Collection[int] = (),
) -> tuple[list[str], int]:
    """Tokens of the given subtrees and their statement count.

    `skip` holds ids of nodes left out entirely (members that are symbols of their
    own, for a class's own fingerprint). A statement is a named child of a block.
    """
    out: list[str] = []
    size = 0
    for root in roots:
        cursor = root.walk()
        while True:
            node = cursor.node
            assert node is not None
            kind = node.type
            descend = False
            if kind in comment_types or node.id in skip:
                pass
            elif not node.is_named:
                if kind not in _NOISE:
                    out.append(kind)
            elif node.child_count == 0 or kind in identifier_types:
                out.append(_leaf(node, src, canon, identifier_types, member_fields, cursor))
            else:
                out.append(kind)
                if kind in block_types:
                    # A block inside a block (Go's statement_list) is not a statement.
                    size += sum(
                        1
                        for c in node.named_children
                        if c.type not in comment_types and c.type not in block_types
                    )
                descend = True
            if descend and cursor.goto_first_child():
                continue
            while not cursor.goto_next_sibling():
                if not cursor.goto_parent():
                    break
            else:
                continue
            break
    return out, size


def _leaf(
    node: Node,
    src: Source,
    canon: Canon | None,
    identifier_types: Collection[str],
    member_fields: Collection[tuple[str, str]],
    cursor: object,
) -> str:
    text = src.text(node)
    if node.type in identifier_types:
        parent = node.parent
        field = getattr(cursor, "field_name", None)
        is_member = parent is not None and (parent.type, field) in member_fields
        return text if canon is None or is_member else canon.name(text)
    literal = f"{node.type}:{text}"
    return literal if len(literal) <= _MAX_LITERAL else f"{node.type}#{digest(text)}"


def strip_type(text: str) -> str:
    """`*pkg.Order`, `&mut Vec<T>`, `List<Item>`, `: Foo | null` -> the plain type name
    (`pkg.Order`, `Vec`, `List`, `Foo`), or "" when it is not one simple name."""
    text = text.strip().lstrip(":").strip()
    for prefix in ("&", "*", "mut ", "dyn ", "impl ", "readonly "):
        while text.startswith(prefix):
            text = text[len(prefix) :].strip()
    for cut in ("<", "[", "("):
        text = text.split(cut, 1)[0]
    for sep in (" | ", "|"):
        parts = [p.strip() for p in text.split(sep) if p.strip() not in ("null", "undefined")]
        text = parts[0] if len(parts) == 1 else text
    text = text.replace("::", ".").strip()
    ok = text and all(part.isidentifier() for part in text.split("."))
    return text if ok else ""
