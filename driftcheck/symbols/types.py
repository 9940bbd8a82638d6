"""Declared types as written in signatures: compared for what they mean, not how
they are spelt (`Dict[str, X]` and `dict[str, X]`, `Optional[X]`, `X | None` and
`Union[X, None]`, a forward reference in quotes and the name itself)."""

from __future__ import annotations

import re

_TYPING_ALIASES = re.compile(r"\b(?:typing\.)?(List|Dict|Set|FrozenSet|Tuple|Type)\[")
# A subscript of a type with only names in it (`[str, Any]`, `[...]`): type parameters.
_PARAMETERS = re.compile(
    r"\b([A-Z][\w.]*|list|dict|set|frozenset|tuple|type)\[((?:[A-Za-z_][\w.]*|\.\.\.)"
    r"(?:,(?:[A-Za-z_][\w.]*\[\]|[A-Za-z_][\w.]*|\.\.\.))*(?:\[\])?)\]"
)
# Types every value fits: a change to or from one of them breaks nothing certain.
_ANYTHING = frozenset({"Any", "object", "any", "unknown", ""})
# Protocols and abstract collections: a concrete type in their place may still fit.
_ABSTRACT = frozenset(
    {"Sequence", "Iterable", "Iterator", "Mapping", "MutableMapping", "Collection"}
    | {"Container", "Sized", "Hashable", "Callable", "Awaitable", "Generator", "Protocol"}
    | {"AbstractSet", "MutableSequence", "MutableSet", "Reversible", "SupportsInt"}
    | {"ArrayLike", "ReadonlyArray", "PromiseLike", "Partial", "Readonly"}
)


def _spelt(text: str) -> str:
    """Whitespace, quotes, `typing.` and its old aliases folded; parameters kept."""
    flat = "".join(text.split()).replace("'", "").replace('"', "")
    flat = _TYPING_ALIASES.sub(lambda m: m[1].lower() + "[", flat)
    return flat.replace("typing.", "")


def _members(text: str) -> frozenset[str]:
    """The alternatives of a (spelt) type: `A | B`, `Union[A, B]`, `Optional[A]`."""
    found: set[str] = set()
    for part in _split_top(text, "|"):
        if part.startswith("Optional[") and part.endswith("]"):
            found |= _members(part[len("Optional[") : -1]) | {"None"}
        elif part.startswith("Union[") and part.endswith("]"):
            for inner in _split_top(part[len("Union[") : -1], ","):
                found |= _members(inner)
        else:
            found.add(part)
    return frozenset(found)


def _split_top(text: str, separator: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += char in "[<({"
        depth -= char in "]>)}"
        if char == separator and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p for p in parts if p]


def _fold(text: str) -> str:
    while True:
        folded = _PARAMETERS.sub(lambda m: m[1] + "[]", text)
        if folded == text:
            return text
        text = folded


def type_spelling(value: str | None) -> str | None:
    """A type (or a value holding types) in one spelling: union members sorted,
    old aliases and quotes folded, and the parameters of generic types dropped
    (`FixtureDef[Any]`, `FixtureDef[Any, Any]`): they mean nothing at run time."""
    if value is None:
        return None
    spelt = _spelt(value)
    members = _members(spelt)
    if len(members) > 1:
        return "|".join(sorted(_fold(m) for m in members))
    return _fold(spelt)


def _head(text: str) -> str:
    """What a type is before its parameters: `dict` for `dict[str, int]`, `Promise`
    for `Promise<string>`, the text itself for an object type literal."""
    if text.startswith("{"):
        return text
    return re.split(r"[\[<]", text, maxsplit=1)[0].rpartition(".")[2]


def incompatible(old: str | None, new: str | None) -> bool:
    """Whether code written for a value of type `old` certainly cannot take one of
    type `new`: both declared, different kinds of thing, the new one neither a type
    every value fits, nor a union that still offers the old one, nor a narrowing."""
    if old is None or new is None or type_spelling(old) == type_spelling(new):
        return False
    before = {_head(m) for m in _members(_spelt(old))}
    after = {_head(m) for m in _members(_spelt(new))}
    if before & _ANYTHING or after & _ANYTHING or before & _ABSTRACT:
        return False
    if before <= after or after <= before:
        return False  # widened (still offers the old) or narrowed (what callers had)
    return not (before & after)
