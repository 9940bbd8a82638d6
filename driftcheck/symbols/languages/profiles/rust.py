"""Rust profile (`.rs`).

Modules follow the crate layout: below a `src/` folder, `lib.rs`/`main.rs` are the
crate root (named after the crate's folder, or `crate` at the repository root),
`a/mod.rs` and `a.rs` are module `a`. Paths (`crate::a::f`, `super::f`, `Type::new`)
become dotted names. Methods of `impl Type` (and `impl Trait for Type`) belong to
`Type`, wherever `Type` itself is defined. `use` trees are expanded in code: a query
captures them, `expand_use` reads their nesting.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from driftcheck.symbols.languages.common import join
from driftcheck.symbols.languages.treesitter.frontend import TreeSitterFrontend
from driftcheck.symbols.languages.treesitter.imports import Binding
from driftcheck.symbols.languages.treesitter.profile import Profile, words

if TYPE_CHECKING:
    from tree_sitter import Node

    from driftcheck.symbols.languages.treesitter.norm import Source


def module_name(path: str) -> tuple[str, bool]:
    """`src/orders/mod.rs` -> ("crate.orders", True); `crates/bill/src/lib.rs` -> ("bill", True)."""
    clean = path.replace("\\", "/").removeprefix("./").removesuffix(".rs")
    parts = [p.replace("-", "_") for p in clean.split("/") if p]
    if "src" not in parts:
        return ".".join(parts), True  # tests/, examples/, build.rs: each its own crate root
    cut = len(parts) - 1 - parts[::-1].index("src")
    crate = parts[cut - 1] if cut else "crate"
    rel = parts[cut + 1 :]
    is_package = rel in (["lib"], ["main"]) or (bool(rel) and rel[-1] == "mod")
    if rel in (["lib"], ["main"]):
        rel = []
    elif rel and rel[-1] == "mod":
        rel.pop()
    return ".".join([crate, *rel]), is_package


def path_root(root: str, module: str, is_package: bool) -> str | None:
    """What a path's first segment names: `crate`, `self` and `super` are relative."""
    if root == "crate":
        return module.split(".", 1)[0]
    if root == "self":
        return module
    if root == "super":
        return module.rpartition(".")[0] or module
    return None


def resolve_module(spec: str, module: str, is_package: bool) -> str:
    return spec


def _resolve_path(
    segments: list[str], module: str, is_package: bool, children: set[str]
) -> str | None:
    if not segments:
        return None
    head, rest = segments[0], segments[1:]
    base = path_root(head, module, is_package)
    while base is not None and rest and rest[0] == "super":
        base = base.rpartition(".")[0] or base
        rest = rest[1:]
    if base is None:
        base = join(module, head) if head in children else head  # a child module or a crate
    return join(base, ".".join(rest)) if rest else base


def expand_use(node: Node, src: Source, module: str, is_package: bool) -> list[Binding]:
    """Bindings of one `use` declaration or `mod name;` item."""
    if node.type == "mod_item":
        name = node.child_by_field_name("name")
        if name is None or node.child_by_field_name("body") is not None:
            return []
        text = src.text(name)
        return [Binding(text, join(module, text), "", text, name)]
    children = _child_modules(node)
    argument = node.child_by_field_name("argument")
    out: list[Binding] = []
    for segments, alias, at, star in _walk(argument, [], src):
        written = "::".join(segments)
        target = _resolve_path(segments, module, is_package, children)
        if target is None:
            continue
        if star:
            out.append(Binding("", target, written, "*", at, star=True))
            continue
        local = alias or segments[-1]
        if segments[-1] == "self":  # `use a::{self}` binds `a`
            segments = segments[:-1]
            local = alias or (segments[-1] if segments else "")
            target = _resolve_path(segments, module, is_package, children) or target
            written = "::".join(segments)
        out.append(Binding(local, target, written, segments[-1] if segments else local, at, alias))
    return out


def _walk(
    node: Node | None, prefix: list[str], src: Source
) -> Iterator[tuple[list[str], str | None, Node, bool]]:
    """(path segments, alias, node, is_glob) for every leaf of a use tree."""
    stack: list[tuple[Node | None, list[str]]] = [(node, prefix)]
    while stack:
        current, base = stack.pop()
        if current is None:
            continue
        kind = current.type
        if kind == "use_as_clause":
            path = current.child_by_field_name("path")
            alias = current.child_by_field_name("alias")
            yield [*base, *_segments(path, src)], src.text(alias) if alias else None, current, False
        elif kind == "use_wildcard":
            inner = current.named_children[0] if current.named_child_count else None
            yield [*base, *_segments(inner, src)], None, current, True
        elif kind == "scoped_use_list":
            path = current.child_by_field_name("path")
            items = current.child_by_field_name("list")
            stack.append((items, [*base, *_segments(path, src)]))
        elif kind == "use_list":
            stack.extend((child, base) for child in reversed(current.named_children))
        elif kind in ("scoped_identifier", "identifier", "self", "crate", "super"):
            yield [*base, *_segments(current, src)], None, current, False


def _segments(node: Node | None, src: Source) -> list[str]:
    if node is None:
        return []
    return [s for s in src.text(node).replace(" ", "").split("::") if s]


def _child_modules(node: Node) -> set[str]:
    """Names of `mod x;` items next to `node`: `use x::f` may mean a child module."""
    parent = node.parent
    names: set[str] = set()
    for sibling in parent.named_children if parent is not None else ():
        if sibling.type == "mod_item":
            name = sibling.child_by_field_name("name")
            if name is not None and name.text:
                names.add(name.text.decode("utf-8", "replace"))
    return names


_DEFINITIONS = """
(impl_item type: (_) @owner body: (declaration_list (function_item name: (identifier) @name
  parameters: (parameters) @params return_type: (_)? @returns body: (block) @body)
  @definition.method))
(function_item name: (identifier) @name parameters: (parameters) @params return_type: (_)? @returns
  body: (block) @body) @definition.function
(function_signature_item name: (identifier) @name parameters: (parameters) @params
  return_type: (_)? @returns) @definition.function
(struct_item name: (type_identifier) @name) @definition.class
(enum_item name: (type_identifier) @name) @definition.class
(union_item name: (type_identifier) @name) @definition.class
(trait_item name: (type_identifier) @name bounds: (_)? @bases) @definition.class
(type_item name: (type_identifier) @name type: (_) @value) @definition.constant
(const_item name: (identifier) @name value: (_)? @value) @definition.constant
(static_item name: (identifier) @name value: (_)? @value) @definition.constant
(mod_item name: (identifier) @name body: (declaration_list)) @definition.scope
"""

_PARAMETERS = """
(self_parameter) @param.skip
(parameter pattern: (_) @name type: (_) @type) @param.positional
(variadic_parameter) @param.rest
"""

_CALLS = """
(call_expression function: (_) @callee arguments: (arguments) @args) @call
"""

_IMPORTS = """
(use_declaration) @import.code
(mod_item) @import.code
"""

_LOCALS = """
(field_declaration name: (field_identifier) @member type: (_) @member.type)
((let_declaration pattern: (identifier) @local value: (call_expression
  function: (scoped_identifier path: (_) @local.new name: (identifier) @_ctor)))
  (#eq? @_ctor "new"))
(let_declaration pattern: (identifier) @local value: (struct_expression name: (_) @local.new))
(let_declaration pattern: (identifier) @local type: (_) @local.type)
(let_declaration pattern: (_) @local.pattern)
(for_expression pattern: (_) @local.pattern)
(closure_parameters (_) @local.pattern)
(parameter pattern: (_) @local.pattern)
(match_arm pattern: (_) @local.pattern)
"""

_BUILTINS = words(
    """
    Some None Ok Err Box Vec String Option Result Rc Arc RefCell Cell HashMap HashSet BTreeMap
    BTreeSet drop Default From Into
    """
)

RUST_PROFILE = Profile(
    name="rust",
    grammar="tree_sitter_rust:language",
    definitions=_DEFINITIONS,
    parameters=_PARAMETERS,
    calls=_CALLS,
    imports=_IMPORTS,
    locals=_LOCALS,
    module_name=module_name,
    resolve_module=resolve_module,
    comment_types=frozenset({"line_comment", "block_comment"}),
    block_types=frozenset(
        {"block", "declaration_list", "field_declaration_list", "enum_variant_list"}
    ),
    identifier_types=frozenset({"identifier"}),
    member_fields=frozenset({("scoped_identifier", "name"), ("field_initializer", "field")}),
    access={
        "field_expression": ("value", "field", "."),
        "scoped_identifier": ("path", "name", "::"),
    },
    call_types={"call_expression": "function"},
    subscript_types={"index_expression": ""},
    wrappers={
        "generic_function": "function",
        "reference_expression": "value",
        "parenthesized_expression": "",
        "try_expression": "",
        "await_expression": "",
    },
    self_names=frozenset({"self", "Self"}),
    path_roots=path_root,
    builtins=_BUILTINS,
    modifiers={"async": "async"},
    modifier_holders=frozenset({"function_modifiers"}),
    base_holders=frozenset({"trait_bounds"}),
    leading_types=frozenset({"attribute_item"}),
    constructor="new",
    expand_import=expand_use,
)

RUST = TreeSitterFrontend(RUST_PROFILE)
