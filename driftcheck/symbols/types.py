"""Declared types as written in signatures: compared for what they mean, not how
they are spelt (`Dict[str, X]` and `dict[str, X]`, `Optional[X]` and `X | None`)."""

from __future__ import annotations

import re

_TYPING_ALIASES = re.compile(r"\b(?:typing\.)?(List|Dict|Set|FrozenSet|Tuple|Type)\[")
# A subscript of a type with only names in it (`[str, Any]`, `[...]`): type parameters.
_PARAMETERS = re.compile(
    r"\b([A-Z][\w.]*|list|dict|set|frozenset|tuple|type)\[((?:[A-Za-z_][\w.]*|\.\.\.)"
    r"(?:,(?:[A-Za-z_][\w.]*\[\]|[A-Za-z_][\w.]*|\.\.\.))*(?:\[\])?)\]"
)
# Protocols and abstract collections: a concrete type in their place may still fit.
_ABSTRACT = frozenset(
    {"Sequence", "Iterable", "Iterator", "Mapping", "MutableMapping", "Collection"}
    | {"Container", "Sized", "Hashable", "Callable", "Awaitable", "Generator", "Protocol"}
    | {"AbstractSet", "MutableSequence", "MutableSet", "Reversible", "SupportsInt"}
    | {"ArrayLike", "Iterable", "ReadonlyArray", "PromiseLike", "Partial", "Readonly"}
)
# Types every value fits: a change to or from one of them breaks nothing certain.
_ANYTHING = frozenset({"Any", "object", "any", "unknown", "typing.Any", ""})


def _spelt(text: str) -> str:
    """Whitespace and `typing.` aliases folded, parameters kept."""
    folded = _TYPING_ALIASES.sub(lambda m: m[1].lower() + "[", "".join(text.split()))
    return folded.replace("typing.", "")


def type_spelling(value: str | None) -> str | None:
    """A type (or a value holding types) with spellings folded: `typing.Dict[str, X]`
    and `dict[str, X]` alike, and the parameters of generic types dropped
    (`FixtureDef[Any]`, `FixtureDef[Any, Any]`): they mean nothing at run time."""
    if value is None:
        return None
    text = _spelt(value)
    while True:
        folded = _PARAMETERS.sub(lambda m: m[1] + "[]", text)
        if folded == text:
            return text
        text = folded


def _members(text: str) -> list[str]:
    """The alternatives of a union: `A | B`, `Union[A, B]`, `Optional[A]` (with None)."""
    text = "".join(text.split())
    for prefix in ("Optional[", "typing.Optional["):
        if text.startswith(prefix) and text.endswith("]"):
            return [*_members(text[len(prefix) : -1]), "None"]
    for prefix in ("Union[", "typing.Union["):
        if text.startswith(prefix) and text.endswith("]"):
            return _split_top(text[len(prefix) : -1], ",")
    return _split_top(text, "|")


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


def _head(text: str) -> str:
    """What a type is before its parameters: `dict` for `dict[str, int]`, `Promise`
    for `Promise<string>`, the text itself for an object type literal."""
    return re.split(r"[\[<]", text, maxsplit=1)[0] if not text.startswith("{") else text


def incompatible(old: str | None, new: str | None) -> bool:
    """Whether code written for a value of type `old` certainly cannot take one of
    type `new`: both declared, different kinds of thing, the new one neither a type
    every value fits nor a union that still offers the old one."""
    if old is None or new is None or type_spelling(old) == type_spelling(new):
        return False
    a, b = _spelt(old), _spelt(new)
    if a in _ANYTHING or b in _ANYTHING:
        return False
    members = _members(b)
    if a in members or any(_head(m) == _head(a) for m in members):
        return False  # widened to a union that still offers the old type
    if b in _members(a) or _head(a).rpartition(".")[2] in _ABSTRACT:
        return False  # narrowed: what callers had is what they still get, and more
    return _head(a) != _head(b)
