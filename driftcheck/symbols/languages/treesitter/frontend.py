"""Generic tree-sitter frontend: one engine, one `Profile` (data) per language.

A profile names the grammar and four tree-sitter queries
(definitions, parameters, calls, imports) plus one for local declarations; the
engine turns their captures into the same `ModuleSymbols` the Python frontend
fills, so changes and detectors never learn which language they read.

Capture conventions (see the profiles under `driftcheck.languages.profiles`):

- definitions: `@definition.function|method|constructor|class|constant|scope` on
  the node a symbol spans, with `@name`, `@params`, `@returns`, `@body`, `@value`,
  `@bases`, `@owner` (the type an `impl`/receiver attaches a method to) and
  `@receiver` (Go's receiver name). A `scope` (inline module, namespace) prefixes
  qualnames without being a symbol. The lowest pattern index wins for a node.
- parameters: `@param.positional|optional|rest|skip` on a parameter, with `@name`,
  `@type`, `@default`.
- calls: `@call` or `@call.new` with `@callee` (and optional `@receiver`), `@args`.
- imports: see `treesitter_imports`; locals and fields: see `treesitter_refs`.

The engine lives in this module (profile, grammar loading, parse entry point) and in
`treesitter_defs` (definitions), `treesitter_imports`, `treesitter_refs` (scopes,
resolution, calls, and `build`, which ties them together) and `treesitter_norm`
(normalised token streams).

tree-sitter recovers from syntax errors, so a file mid-edit still yields what it
can; `parse_error` says where the first error is. Nothing here raises on bad input.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from driftcheck.symbols.languages.common import ignored_kinds
from driftcheck.symbols.languages.treesitter import norm
from driftcheck.symbols.table import ModuleSymbols

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


class TreeSitterFrontend:
    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.name = profile.name
        self.file_is_module = profile.file_is_module
        # -u1: files with too many unclosed brackets are no longer parsed
        self.parser_version = f"treesitter-{profile.name}-s{profile.version}-u1"
        self._grammars: dict[str, Grammar] = {}

    def module_name(self, path: str) -> str:
        return self.profile.module_name(path)[0]

    def grammar(self, path: str) -> Grammar:
        lowered = path.lower()
        spec = next(
            (g for ext, g in self.profile.grammars.items() if lowered.endswith(ext)),
            self.profile.grammar,
        )
        if spec not in self._grammars:
            self._grammars[spec] = self._load(spec)
        return self._grammars[spec]

    def _load(self, spec: str) -> Grammar:
        import tree_sitter  # loaded on the first parse, never on import

        module, _, func = spec.partition(":")
        language = tree_sitter.Language(getattr(importlib.import_module(module), func)())
        p = self.profile
        comments = " ".join(f"({t})" for t in sorted(p.comment_types))
        sources = {
            "definitions": p.definitions,
            "parameters": p.parameters,
            "calls": p.calls,
            "imports": p.imports,
            "locals": p.locals,
            "comments": f"[{comments}] @comment",
        }
        queries = {k: tree_sitter.Query(language, v) for k, v in sources.items() if v.strip()}
        return Grammar(tree_sitter.Parser(language), queries)

    def parse(self, path: str, source: bytes) -> ModuleSymbols:
        """Symbol table of one file. Never raises."""
        module, is_package = self.profile.module_name(path)
        if b"\x00" in source:
            return self._empty(path, module, is_package, "binary content (NUL bytes)")
        unclosed = unclosed_brackets(source)
        if unclosed > MAX_UNCLOSED_BRACKETS:
            error = f"too complex to analyse: {unclosed} unclosed brackets"
            return self._empty(path, module, is_package, error)
        try:
            from driftcheck.symbols.languages.treesitter.refs import build

            return build(self, path, source, module, is_package)
        except (RecursionError, MemoryError):
            error = "too deeply nested to analyse"
        except Exception as exc:  # one odd file must not stop a scan; keep the reason
            error = f"internal error while analysing: {type(exc).__name__}: {exc}"
        return self._empty(path, module, is_package, error)

    def _empty(self, path: str, module: str, is_package: bool, error: str) -> ModuleSymbols:
        return ModuleSymbols(path, module, self.name, parse_error=error, is_package=is_package)


# ---------------------------------------------------------------- shared helpers


# tree-sitter's query matching, in native code where no deadline reaches, is
# quadratic in the brackets left open in one error node: 50,000 unclosed `[` take
# about 2 s per query. An agent's half-written edit leaves a handful open.
MAX_UNCLOSED_BRACKETS = 2_000


def unclosed_brackets(source: bytes) -> int:
    """Opening brackets without a closing one, counted per kind (a cheap upper
    bound on how deep an error node can nest)."""
    return sum(
        max(0, source.count(opening) - source.count(closing))
        for opening, closing in ((b"(", b")"), (b"[", b"]"), (b"{", b"}"))
    )


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
