"""What the tree-sitter engine shares: a language's `Profile` (data), its loaded
`Grammar`, a definition match (`Def`), and small helpers over parsed trees.

The engine's modules (`defs`, `imports`, `refs`, `norm`) build on these; `frontend`
ties them into a `LanguageFrontend`. Capture conventions are listed in `frontend`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from driftcheck.symbols.languages.common import ignored_kinds
from driftcheck.symbols.languages.treesitter import norm

if TYPE_CHECKING:
    from tree_sitter import Node, Query

# Signatures here list only what a call site passes: the receiver (`this`, `self`, a
# Go receiver) is implicit. In the symbol model that is how a staticmethod binds, so
# methods carry this marker and no detector drops a first parameter for them.
CALL_SITE_SIGNATURE = "staticmethod"
_IGNORE = re.compile(r"driftcheck:\s*ignore(?:\[([^\]]*)\])?", re.IGNORECASE)


def words(text: str) -> frozenset[str]:
    """A set of names written as one whitespace-separated block."""
    return frozenset(text.split())


def _no_roots(root: str, module: str, is_package: bool) -> str | None:
    return None


def _last_part(spec: str) -> str:
    return spec.rstrip("/").rpartition("/")[2]


@dataclass(frozen=True)
class Profile:
    """Everything language-specific the engine needs, as data (plus naming hooks)."""

    name: str
    grammar: str  # "module:function" returning the tree-sitter language pointer
    definitions: str
    parameters: str
    calls: str
    imports: str
    locals: str
    # path -> (module, is_package); (spec as written, importing module, is_package) -> module
    module_name: Callable[[str], tuple[str, bool]]
    resolve_module: Callable[[str, str, bool], str]
    version: int = 1  # bump when the tables this profile produces change
    grammars: Mapping[str, str] = field(default_factory=dict)  # extension -> grammar
    comment_types: frozenset[str] = frozenset({"comment"})
    block_types: frozenset[str] = frozenset()  # named children are statements
    identifier_types: frozenset[str] = frozenset({"identifier"})
    # (parent type, field) where an identifier names a member: never renamed.
    member_fields: frozenset[tuple[str, str]] = frozenset()
    # member access node -> (object field, member field, separator as written)
    access: Mapping[str, tuple[str, str, str]] = field(default_factory=dict)
    call_types: Mapping[str, str] = field(default_factory=dict)  # call node -> callee field
    # calls that name their method in a field (Java): node -> (object field, name field)
    invocation_types: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    subscript_types: Mapping[str, str] = field(default_factory=dict)  # node -> object field
    wrappers: Mapping[str, str] = field(default_factory=dict)  # node -> field ("" = 1st named)
    self_names: frozenset[str] = frozenset()
    path_roots: Callable[[str, str, bool], str | None] = _no_roots  # Rust `crate`/`super`
    builtins: frozenset[str] = frozenset()
    modifiers: Mapping[str, str] = field(default_factory=dict)  # token -> static/async/...
    modifier_holders: frozenset[str] = frozenset()  # child nodes that hold modifier tokens
    base_holders: frozenset[str] = frozenset()  # nodes inside `@bases` to look through
    leading_types: frozenset[str] = frozenset()  # preceding siblings that belong to a def
    arity_in_name: bool = False  # overloads: `name/arity` tells them apart (Java)
    constructor: str = "constructor"
    # Where an unqualified, unresolved name lives: "package" (Go: any package-level
    # name), "types" (Java: a capitalised name is a class of the same package).
    implicit_scope: Literal["none", "package", "types"] = "none"
    file_is_module: bool = True  # False where a module (package) spans several files
    import_name: Callable[[str], str] = _last_part  # what `import "spec"` binds
    # What a module offers to importers besides its definitions: "imports" (every
    # import, as in Python), "declared" (only `export` statements: JS/TS, where an
    # `export ... from` binds no local name) or "none" (Go, Java).
    exports: Literal["imports", "declared", "none"] = "imports"
    expand_import: Callable[..., Any] | None = None  # code for what a query cannot say


@dataclass
class Grammar:
    parser: Any
    queries: dict[str, Query]


@dataclass
class Def:
    """One definition match, before it becomes a Symbol."""

    node: Node
    kind: str
    order: int
    names: list[Node]
    caps: dict[str, Node]
    bases: list[Node] = field(default_factory=list)
    qualname: str = ""
    name: str = ""
    parent: str | None = None


def query_matches(query: Query, node: Node) -> list[tuple[int, dict[str, list[Node]]]]:
    from tree_sitter import QueryCursor

    return QueryCursor(query).matches(node)


def ignore_comments(grammar: Grammar, root: Node, src: norm.Source) -> dict[int, frozenset[str]]:
    """Line -> kinds silenced by a `driftcheck: ignore[kind,...]` comment ("*": all)."""
    if b"driftcheck" not in src.data.lower():
        return {}  # the common case: no query run at all
    out: dict[int, frozenset[str]] = {}
    for _, caps in query_matches(grammar.queries["comments"], root):
        for node in caps.get("comment", []):
            for match in _IGNORE.finditer(src.text(node)):
                line = node.start_point[0] + 1
                out[line] = out.get(line, frozenset()) | ignored_kinds(match[1])
    return out


def first_error(root: Node) -> str | None:
    """Where the first syntax error is, or None for a clean tree."""
    if not root.has_error:
        return None
    stack = [root]
    while stack:
        node = stack.pop()
        if node.is_missing:
            return f"syntax error: missing {node.type!r} (line {node.start_point[0] + 1})"
        if node.is_error:
            return f"syntax error (line {node.start_point[0] + 1})"
        stack.extend(reversed([c for c in node.children if c.has_error or c.is_missing]))
    return "syntax error"
