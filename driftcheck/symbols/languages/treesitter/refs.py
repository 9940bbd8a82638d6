"""Imports, local scopes and calls read through a profile's queries; `build` ties the
engine together into one `ModuleSymbols`.

Resolution is best effort and local to the file, as for Python: imports, the
file's top-level definitions, the receiver keyword (`this`, `self`, a Go receiver)
inside methods, locals whose class is evident (`p := &Pricing{}`, `Pricing p = new
Pricing()`, `p: Pricing`), and the profile's implicit scope (Go: same package; Java:
classes of the same package). Anything else stays unresolved (None), never guessed.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from driftcheck.symbols.languages.common import join
from driftcheck.symbols.languages.treesitter import norm
from driftcheck.symbols.languages.treesitter.chains import NEW, chain_text, is_name, render_chain
from driftcheck.symbols.languages.treesitter.defs import (
    arity_suffix,
    collect_defs,
    make_symbol,
    place_defs,
    read_params,
    signature,
)
from driftcheck.symbols.languages.treesitter.imports import Binding, import_ref, read_imports
from driftcheck.symbols.languages.treesitter.profile import (
    Def,
    Grammar,
    Profile,
    first_error,
    ignore_comments,
    query_matches,
)
from driftcheck.symbols.table import ModuleSymbols, Reference, Symbol

if TYPE_CHECKING:
    from tree_sitter import Node


@dataclass
class Scope:
    """What a definition's body can see: its locals and their classes."""

    cls: str | None = None
    self_name: str | None = None
    locals: set[str] = field(default_factory=set)
    types: dict[str, str | None] = field(default_factory=dict)
    # Field name -> class of the enclosing class's fields, shared by its methods.
    members: dict[str, str | None] = field(default_factory=dict)


def build(
    profile: Profile, grammar: Grammar, path: str, source: bytes, module: str, is_package: bool
) -> ModuleSymbols:
    root = grammar.parser.parse(source).root_node
    src = norm.Source(source)
    package, bindings = read_imports(grammar, root, src, profile, module, is_package)
    module = package if package is not None else module
    params = read_params(grammar, root, src)
    defs = place_defs(collect_defs(grammar, root), module, profile, src, params)
    by_node: dict[int, Def] = {}
    for d in defs:
        by_node.setdefault(d.node.id, d)
    around = Enclosure(defs)
    scopes = read_scopes(grammar, root, src, profile, by_node, around, params)
    ignores = ignore_comments(grammar, root, src)
    members: dict[str, list[int]] = {}
    for d in defs:
        if d.parent is not None:
            members.setdefault(d.parent, []).append(d.node.id)
    found: dict[str, Symbol] = {}
    for d in defs:
        if d.kind == "scope":
            continue
        scope = scopes.get(d.node.id)
        found[d.qualname] = make_symbol(
            d,
            path=path,
            module=module,
            src=src,
            profile=profile,
            params=params,
            local_names=frozenset(scope.locals) if scope else frozenset(),
            members=members,
            ignores=ignores,
        )
    symbols = sorted(found.values(), key=lambda s: (s.start_line, s.qualname))
    imports, exports, stars = _bindings(profile, bindings)
    top = {s.name.split("/", 1)[0]: s.qualname for s in symbols if s.parent is None}
    top.update({d.name: d.qualname for d in defs if d.kind == "scope" and d.parent is None})
    resolver = Resolver(profile, module, imports, top, is_package)
    refs = [import_ref(b, ignores, src) for b in bindings if not b.star and b.written]
    refs += read_calls(grammar, root, src, profile, resolver, around, scopes, ignores)
    refs.sort(key=lambda r: (r.line, r.col, r.kind))
    return ModuleSymbols(
        path=path,
        module=module,
        language=profile.name,
        symbols=tuple(symbols),
        references=tuple(refs),
        imports=imports,
        star_imports=tuple(stars),
        exports=exports,
        parse_error=first_error(root),
        is_package=is_package,
    )


def _bindings(
    profile: Profile, bindings: list[Binding]
) -> tuple[dict[str, str], dict[str, str] | None, list[str]]:
    """(local imports, exports or None, star re-exports) as the profile's language
    has them. Where exports are declared, `export { a } from` binds no local name,
    and `export { a }` offers whatever `a` is here (a definition or an import)."""
    imports: dict[str, str] = {}
    stars = [b.target for b in bindings if b.star]
    declared = profile.exports == "declared"
    for b in bindings:
        if b.local and not b.star and not (declared and b.exported):
            imports[b.local] = b.target
    if profile.exports == "imports":
        for b in bindings:  # an export then is one more import-like binding
            if b.local and not b.star and b.exported:
                imports.setdefault(b.local, b.target)
        return imports, None, stars
    if profile.exports == "none":
        return imports, {}, stars
    exports: dict[str, str] = {}
    for b in bindings:
        if b.exported and b.local:
            # `export { a }` of an imported `a` offers the import's target.
            exports[b.local] = imports.get(b.name, b.target) if not b.written else b.target
    return imports, exports, stars


# ---------------------------------------------------------------- scopes


class Enclosure:
    """The innermost definition (not a scope) around a byte offset.

    Definitions nest or are disjoint, so each one's parent is found once with a sweep;
    a lookup is a bisect plus a short walk up that chain (no walk up the syntax tree).
    """

    def __init__(self, defs: Iterable[Def]) -> None:
        ordered = sorted(
            {d.node.id: d for d in defs if d.kind != "scope"}.values(),
            key=lambda d: (d.node.start_byte, -d.node.end_byte),
        )
        self.defs = ordered
        self.starts = [d.node.start_byte for d in ordered]
        self.parent: list[int] = []
        stack: list[int] = []
        for i, d in enumerate(ordered):
            while stack and ordered[stack[-1]].node.end_byte <= d.node.start_byte:
                stack.pop()
            self.parent.append(stack[-1] if stack else -1)
            stack.append(i)

    def of(self, node: Node) -> Def | None:
        at = node.start_byte
        i = bisect.bisect_right(self.starts, at) - 1
        while i >= 0:
            d = self.defs[i]
            if d.node.end_byte > at and d.node.id != node.id:
                return d
            i = self.parent[i]
        return None


def read_scopes(
    grammar: Grammar,
    root: Node,
    src: norm.Source,
    profile: Profile,
    by_node: Mapping[int, Def],
    around: Enclosure,
    params: Mapping[int, list],
) -> dict[int, Scope]:
    """Definition node id -> its scope: parameters, declared locals and their types.

    `@local` captures name locals (with `@local.type`/`@local.new` for their class);
    `@member` captures name fields of the enclosing class (with `@member.type`/`.new`).
    """
    scopes: dict[int, Scope] = {}
    fields: dict[str, dict[str, str | None]] = {}
    for node_id, d in by_node.items():
        scope = Scope()
        scope.cls = d.qualname if d.kind == "class" else d.parent
        if scope.cls is not None:
            scope.members = fields.setdefault(scope.cls, {})
        receiver = d.caps.get("receiver")
        if receiver is not None:
            scope.self_name = src.text(receiver)
        sig = signature(d.caps.get("params"), None, params, src)
        scope.locals.update(p.name for p in sig.params)
        for p in sig.params:
            if p.annotation:
                _note_type(scope, p.name, norm.strip_type(p.annotation))
        scopes[node_id] = scope
    query = grammar.queries.get("locals")
    for _, caps in query_matches(query, root) if query is not None else ():
        if "member" in caps:
            _member(caps, src, around, fields)
            continue
        names = caps.get("local", [])
        for pattern in caps.get("local.pattern", []):
            names = [*names, *_identifiers(pattern, profile)]
        if not names:
            continue
        owner = around.of(names[0])
        scope = scopes.get(owner.node.id) if owner is not None else None
        if scope is None:
            continue
        typed = caps.get("local.type") or caps.get("local.new")
        kind = norm.strip_type(src.text(typed[0])) if typed else ""
        for n in names:
            text = src.text(n)
            scope.locals.add(text)
            if typed and len(names) == 1:
                _note_type(scope, text, kind)
    return scopes


def _member(
    caps: dict[str, list[Node]],
    src: norm.Source,
    around: Enclosure,
    fields: dict[str, dict[str, str | None]],
) -> None:
    """A field declaration (or a TS constructor parameter property) and its class."""
    name = caps["member"][0]
    owner = around.of(name)
    if owner is None:
        return
    cls = owner.qualname if owner.kind == "class" else owner.parent
    typed = caps.get("member.type") or caps.get("member.new")
    if cls is None or not typed:
        return
    holder = Scope(types=fields.setdefault(cls, {}))
    _note_type(holder, src.text(name), norm.strip_type(src.text(typed[0])))


def _note_type(scope: Scope, name: str, cls: str) -> None:
    """Remember a local's class; a name seen with two classes has none."""
    if not cls or scope.types.get(name, cls) != cls:
        scope.types[name] = None
    else:
        scope.types[name] = cls


def _identifiers(node: Node, profile: Profile) -> Iterator[Node]:
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type in profile.identifier_types or current.type.endswith("identifier_pattern"):
            yield current
        stack.extend(current.named_children)


# ---------------------------------------------------------------- resolution


class Resolver:
    def __init__(
        self,
        profile: Profile,
        module: str,
        imports: Mapping[str, str],
        top: Mapping[str, str],
        is_package: bool,
    ) -> None:
        self.profile = profile
        self.module = module
        self.imports = imports
        self.top = top
        self.is_package = is_package

    def root(self, name: str, scope: Scope | None, *, receiver: bool, path: bool) -> str | None:
        p = self.profile
        if path:
            found = p.path_roots(name, self.module, self.is_package)
            if found is not None:
                return found
        if scope is not None and (name in p.self_names or name == scope.self_name):
            return scope.cls
        if scope is not None and name in scope.locals:
            # A local of known class resolves only as a receiver (`p.total()`).
            return self.type_name(scope.types.get(name), scope) if receiver else None
        if p.implicit_scope == "types" and scope is not None and name in scope.members:
            # Java: a bare field name is `this.name`.
            return self.type_name(scope.members[name], scope) if receiver else None
        return self.global_name(name)

    def global_name(self, name: str) -> str | None:
        """A name the file's top level sees: imported, defined here, or implicit."""
        p = self.profile
        if name in self.imports:
            return self.imports[name]
        if name in self.top:
            return self.top[name]
        if name in p.builtins:
            return None
        if p.implicit_scope == "package":
            return join(self.module, name)
        if p.implicit_scope == "types" and name[:1].isupper():
            return join(self.module, name)
        return None

    def type_name(self, raw: str | None, scope: Scope | None) -> str | None:
        """Qualname of a type as written (`Pricing`, `orders.Pricing`, `Self`)."""
        if not raw:
            return None
        head, _, rest = raw.partition(".")
        if head in self.profile.self_names:
            base = scope.cls if scope is not None else None
        else:
            base = self.profile.path_roots(head, self.module, self.is_package)
            base = base or self.global_name(head)
        return join(base, rest) if base and rest else base

    def chain(self, parts: list[tuple[str, str]], scope: Scope | None) -> str | None:
        """Qualname of a pure name chain, or of `new X(...).member`."""
        names = [text for _, text in parts]
        if NEW in names:
            cut = names.index(NEW)
            if cut + 2 != len(names):
                return None  # only one member past a constructor call
            owner = self.chain(parts[:cut], scope)
            return join(owner, names[-1]) if owner else None
        if any(not is_name(n) for n in names):
            return None
        path = len(parts) > 1 and parts[1][0] == "::"
        is_self = scope is not None and names[0] in (*self.profile.self_names, scope.self_name)
        if is_self and not path and len(names) > 2:
            # this.repo.find(): only a field of known class says what `repo` is.
            owner = self.type_name(scope.members.get(names[1]), scope) if scope else None
            return join(owner, ".".join(names[2:])) if owner else None
        base = self.root(names[0], scope, receiver=len(names) > 1, path=path)
        if base is None:
            return None
        return join(base, ".".join(names[1:])) if len(names) > 1 else base


# ---------------------------------------------------------------- calls


def read_calls(
    grammar: Grammar,
    root: Node,
    src: norm.Source,
    profile: Profile,
    resolver: Resolver,
    around: Enclosure,
    scopes: Mapping[int, Scope],
    ignores: Mapping[int, frozenset[str]],
) -> list[Reference]:
    refs: list[Reference] = []
    query = grammar.queries.get("calls")
    for _, caps in query_matches(query, root) if query is not None else ():
        key = "call.new" if "call.new" in caps else "call"
        if key not in caps or "callee" not in caps:
            continue
        node, callee = caps[key][0], caps["callee"][0]
        receiver = caps.get("receiver", [None])[0]
        if receiver is not None:
            parts = [*render_chain(receiver, src, profile), (".", src.text(callee))]
        else:
            parts = render_chain(callee, src, profile)
        if not parts or (parts[0][1] == "<expr>" and len(parts) == 1):
            continue
        owner = around.of(node)
        scope = scopes.get(owner.node.id) if owner is not None else None
        args = caps.get("args", [None])[0]
        count, star = _arguments(args, profile)
        resolved = _resolve_call(parts, key == "call.new", scope, resolver)
        if resolved is None and parts[0][1] in profile.builtins:
            continue  # `console.log`, `len(x)`, `Vec::new()`: never a call into the project
        name = parts[-1][1] if is_name(parts[-1][1]) else ""
        name = profile.constructor if key == "call.new" else name
        if profile.arity_in_name:
            name += arity_suffix(count)
            resolved = resolved + arity_suffix(count) if resolved else None
        text = chain_text(parts)
        line = node.start_point[0] + 1
        end = node.end_point[0] + 1
        refs.append(
            Reference(
                kind="call",
                target=text,
                line=line,
                col=node.start_point[1],
                name=name,
                receiver=chain_text(parts[:-1]) or None if key != "call.new" else None,
                resolved=resolved,
                enclosing=owner.qualname if owner is not None else None,
                positional_count=count,
                has_star=star,
                text=src.head(node),
                result_used=not _discarded(node),
                ignored_kinds=ignores.get(line, frozenset()) | ignores.get(end, frozenset()),
            )
        )
    return refs


def _discarded(node: Node) -> bool:
    """A call that is a statement of its own (`f(x);`, `await f(x);`)."""
    parent = node.parent
    while parent is not None and parent.type in ("await_expression", "parenthesized_expression"):
        parent = parent.parent
    return parent is not None and parent.type == "expression_statement"


def _resolve_call(
    parts: list[tuple[str, str]], is_new: bool, scope: Scope | None, resolver: Resolver
) -> str | None:
    if is_new:
        owner = resolver.chain(parts, scope)
        return join(owner, resolver.profile.constructor) if owner else None
    if len(parts) == 1 and resolver.profile.implicit_scope == "types" and scope is not None:
        # Java: a bare call is a method of the enclosing class or a static import.
        name = parts[0][1]
        if name in resolver.imports:
            return resolver.imports[name]
        return join(scope.cls, name) if scope.cls else None
    return resolver.chain(parts, scope)


def _arguments(args: Node | None, profile: Profile) -> tuple[int, bool]:
    if args is None:
        return 0, False
    count, star = 0, False
    for child in args.named_children:
        if child.type in profile.comment_types:
            continue
        if child.type in ("spread_element", "variadic_argument"):
            star = True
            continue
        count += 1
    return count, star
