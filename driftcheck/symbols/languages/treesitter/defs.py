"""Definitions read through a profile's queries: placement, signatures, symbols.

See `driftcheck.languages.treesitter` for the capture conventions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from driftcheck.symbols.languages.common import join
from driftcheck.symbols.languages.treesitter import norm
from driftcheck.symbols.languages.treesitter.profile import (
    CALL_SITE_SIGNATURE,
    Def,
    Grammar,
    Profile,
    query_matches,
)
from driftcheck.symbols.table import Param, ParamKind, Signature, Symbol

if TYPE_CHECKING:
    from tree_sitter import Node

_MAX_VALUE = 500
_CALLABLE = ("function", "method", "constructor")


def collect_defs(grammar: Grammar, root: Node) -> list[Def]:
    best: dict[int, Def] = {}
    for index, caps in query_matches(grammar.queries["definitions"], root):
        key = next((k for k in caps if k.startswith("definition.")), None)
        if key is None:
            continue
        node = caps[key][0]
        names = caps.get("name", [])
        old = best.get(node.id)
        if old is not None and old.order == index:
            # A quantified name (`const a, b = ...`) arrives as one match per name.
            old.names += [n for n in names if all(n.id != o.id for o in old.names)]
            continue
        if old is not None and old.order < index:
            continue
        single = {k: v[0] for k, v in caps.items() if v and k != "name"}
        kind = key.split(".", 1)[1]
        if kind == "constant" and names and names[0].parent == node:
            # `const a, b = 1, 2`: every name field (queries report only the first).
            names = [n for n in node.children_by_field_name("name") if n.type == names[0].type]
        best[node.id] = Def(node, kind, index, list(names), single, list(caps.get("bases", [])))
    return sorted(best.values(), key=lambda d: (d.node.start_byte, -d.node.end_byte))


def place_defs(
    defs: list[Def],
    module: str,
    profile: Profile,
    src: norm.Source,
    params: Mapping[int, list[tuple[str, Param]]],
) -> list[Def]:
    """Names, qualnames and parents; drops definitions nested in a function body or a
    value. A definition that names several things (`const a, b = ...`) becomes one
    per name."""
    by_id = {d.node.id: d for d in defs}
    kept: dict[int, Def] = {}
    out: list[Def] = []
    for d in defs:
        outer = _ancestor(d.node, by_id)
        container = outer is None or (outer.node.id in kept and outer.kind in ("class", "scope"))
        if not container:
            continue  # local to a function (or inside a dropped definition)
        prefix = outer.qualname if outer is not None else module
        parent = outer.qualname if outer is not None and outer.kind == "class" else None
        owner = d.caps.get("owner")
        if owner is not None:
            owner_name = norm.strip_type(src.text(owner))
            if not owner_name:
                continue
            parent = prefix = join(prefix, owner_name)
        elif parent is not None:
            prefix = parent
        if d.kind == "function" and parent is not None:
            d.kind = "method"
        if not d.names and d.kind != "constructor":
            continue
        suffix = ""
        if d.kind in _CALLABLE:
            if "setter" in modifiers(d.node, profile):
                suffix = ".setter"  # a setter must not replace its getter
            elif profile.arity_in_name:
                sig = signature(d.caps.get("params"), None, params, src)
                suffix = arity_suffix(len(sig.params))
        names = [profile.constructor] if d.kind == "constructor" else [src.text(n) for n in d.names]
        for i, name in enumerate(names):
            each = d if i == 0 else Def(d.node, d.kind, d.order, [d.names[i]], d.caps, d.bases)
            each.parent = parent
            each.name = name + (suffix if suffix != ".setter" else "")
            each.qualname = join(prefix, name + suffix)
            out.append(each)
        kept[d.node.id] = d
    return out


def _ancestor(node: Node, by_id: Mapping[int, Def]) -> Def | None:
    current = node.parent
    while current is not None:
        found = by_id.get(current.id)
        if found is not None:
            return found
        current = current.parent
    return None


def modifiers(node: Node, profile: Profile) -> set[str]:
    """Meanings (static, async, getter, setter) of the modifier tokens of a definition."""
    found: set[str] = set()
    for child in node.children:
        holders = child.children if child.type in profile.modifier_holders else [child]
        for token in holders:
            meaning = profile.modifiers.get(token.type)
            if meaning:
                found.add(meaning)
    return found


def arity_suffix(count: int) -> str:
    return f"/{count}"


def signature(
    params_node: Node | None,
    returns: Node | None,
    params: Mapping[int, list[tuple[str, Param]]],
    src: norm.Source,
) -> Signature:
    ret = norm.one_line(src.text(returns).lstrip(":").strip(), 120) or None
    if params_node is None:
        return Signature((), ret)
    if params_node.type == "identifier":  # `x => ...`: one bare parameter
        return Signature((Param(src.text(params_node), "positional"),), ret)
    found = [p for kind, p in params.get(params_node.id, []) if kind != "skip"]
    return Signature(tuple(found), ret)


def read_params(
    grammar: Grammar, root: Node, src: norm.Source
) -> dict[int, list[tuple[str, Param]]]:
    """Parameter-list node id -> (kind, Param) in order; Go's `a, b int` gives two."""
    per_node: dict[int, tuple[int, str, Node, list[Node], dict[str, Node]]] = {}
    query = grammar.queries.get("parameters")
    for index, caps in query_matches(query, root) if query is not None else ():
        key = next((k for k in caps if k.startswith("param.")), None)
        if key is None:
            continue
        node = caps[key][0]
        old = per_node.get(node.id)
        names = caps.get("name", [])
        if old is not None and old[0] == index:
            old[3].extend(n for n in names if all(n.id != o.id for o in old[3]))
            continue
        if old is not None and old[0] < index:
            continue
        single = {k: v[0] for k, v in caps.items() if v}
        per_node[node.id] = (index, key.split(".", 1)[1], node, list(names), single)
    out: dict[int, list[tuple[str, Param]]] = {}
    for _, kind, node, names, caps in sorted(per_node.values(), key=lambda e: e[2].start_byte):
        parent = node.parent
        if parent is None:
            continue
        annotation = norm.one_line(src.text(caps.get("type")).lstrip(":").strip(), 120) or None
        default = caps.get("default")
        has_default = kind == "optional"
        default_text = norm.one_line(src.text(default), 80) if default is not None else None
        if has_default and default_text is None:
            default_text = "undefined"  # TypeScript's `x?: T`
        pkind: ParamKind = "var_positional" if kind == "rest" else "positional"
        slot = out.setdefault(parent.id, [])
        for name in names or [None]:
            text = norm.one_line(src.text(name), 80) if name is not None else f"_{len(slot)}"
            slot.append((kind, Param(text, pkind, has_default, default_text, annotation)))
    return out


def make_symbol(
    d: Def,
    *,
    path: str,
    module: str,
    src: norm.Source,
    profile: Profile,
    params: Mapping[int, list[tuple[str, Param]]],
    local_names: frozenset[str],
    members: Mapping[str, list[int]],
    ignores: Mapping[int, frozenset[str]],
) -> Symbol:
    caps = d.caps
    start = _start_node(d.node, profile)
    start_line, end_line = start.start_point[0] + 1, d.node.end_point[0] + 1
    text = src.data[start.start_byte : d.node.end_byte]
    qualname, name = d.qualname, d.name
    common: dict[str, Any] = {
        "path": path,
        "module": module,
        "start_line": start_line,
        "end_line": end_line,
        "parent": d.parent,
        "text_hash": norm.digest(text),
        "ignored_kinds": _ignored(ignores, start_line, (d.names[0] if d.names else d.node)),
    }
    opts = {
        "identifier_types": profile.identifier_types,
        "member_fields": profile.member_fields,
        "comment_types": profile.comment_types,
        "block_types": profile.block_types,
    }
    if d.kind in _CALLABLE:
        sig = signature(caps.get("params"), caps.get("returns"), params, src)
        flags = modifiers(d.node, profile)
        kind = "method" if d.kind != "function" or d.parent is not None else "function"
        canon = norm.Canon([p.name for p in sig.params], local_names)
        body = caps.get("body")
        roots = [body] if body is not None else [n for n in (caps.get("params"),) if n]
        tokens, size = norm.tokens(roots, src, canon=canon, **opts)
        if body is not None and body.type not in profile.block_types:
            size += 1  # an expression body is one statement
        decorators: list[str] = []
        if kind == "method":
            decorators.append(CALL_SITE_SIGNATURE)
            if "getter" in flags:
                decorators = ["property"]
            elif "setter" in flags:
                decorators = [f"{name}.setter"]
        if "static" in flags:
            decorators.append("static")
        if "abstract" in caps and not any(c.type == "?" for c in d.node.children):
            decorators.append("abstractmethod")  # a member every implementer must define
        return Symbol(
            qualname=qualname,
            name=name,
            kind=kind,  # type: ignore[arg-type]
            signature=sig,
            decorators=tuple(decorators),
            fingerprint=norm.digest("\x1f".join(tokens)),
            body_tokens=tuple(tokens),
            body_size=size,
            is_async="async" in flags,
            **common,
        )
    if d.kind == "class":
        skip = {n.id for n in d.names}
        roots = [c for c in d.node.children if c.is_named and c.id not in skip]
        tokens, size = norm.tokens(roots, src, canon=None, **opts)
        own, _ = norm.tokens(roots, src, canon=None, skip=set(members.get(qualname, ())), **opts)
        return Symbol(
            qualname=qualname,
            name=name,
            kind="class",
            fingerprint=norm.digest("\x1f".join(tokens)),
            body_tokens=tuple(tokens),
            body_size=size,
            bases=_bases(d.bases, src, profile),
            decorators=tuple(m for m in ("interface", "abstract") if m in caps),
            own_fingerprint=norm.digest("\x1f".join(own)),
            **common,
        )
    value = caps.get("value")
    value_text = norm.one_line(src.text(value), 10_000)
    fingerprint = norm.digest(value_text)
    if len(value_text) > _MAX_VALUE:
        value_text = f"{value_text[:200]}…#{fingerprint}"  # bounded, yet comparable
    return Symbol(
        qualname=qualname,
        name=name,
        kind="constant",
        fingerprint=fingerprint,
        body_size=1,
        value=value_text,
        **common,
    )


def _start_node(node: Node, profile: Profile) -> Node:
    """The definition's first node, counting leading attributes (`#[derive]`)."""
    start = node
    sibling = node.prev_named_sibling
    while sibling is not None and sibling.type in profile.leading_types:
        start = sibling
        sibling = sibling.prev_named_sibling
    return start


def _bases(nodes: list[Node], src: norm.Source, profile: Profile) -> tuple[str, ...]:
    """Plain names of the types in `@bases` captures (looking through clause nodes)."""
    out: list[str] = []
    stack = list(reversed(nodes))
    while stack:
        current = stack.pop()
        if current.type in profile.base_holders:
            stack.extend(reversed(current.named_children))
        elif current.type not in profile.comment_types:
            name = norm.strip_type(src.text(current))
            if name:
                out.append(name)
    return tuple(out)


def _ignored(ignores: Mapping[int, frozenset[str]], line: int, name: Node) -> frozenset[str]:
    lines = {line, name.start_point[0] + 1}
    out: frozenset[str] = frozenset()
    for n in lines:
        out |= ignores.get(n, frozenset())
    return out
