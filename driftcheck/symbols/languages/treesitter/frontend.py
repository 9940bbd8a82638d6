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
- imports: see `imports`; locals and fields: see `refs`.

The engine lives in this module (grammar loading, the parse entry point), in
`profile` (the profile, grammar and definition types, shared helpers), `defs`
(definitions), `imports`, `refs` (scopes, resolution, calls, and `build`, which ties
them together) and `norm` (normalised token streams).

tree-sitter recovers from syntax errors, so a file mid-edit still yields what it
can; `parse_error` says where the first error is. Nothing here raises on bad input.
"""

from __future__ import annotations

import importlib

from driftcheck.symbols.languages.treesitter.profile import Grammar, Profile
from driftcheck.symbols.languages.treesitter.refs import build
from driftcheck.symbols.table import ModuleSymbols


class TreeSitterFrontend:
    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.name = profile.name
        self.file_is_module = profile.file_is_module
        # -u1: files with too many unclosed brackets are no longer parsed; -u2: exports
        # apart from imports, whether a call's result is used
        self.parser_version = f"treesitter-{profile.name}-s{profile.version}-u2"
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
            return build(self.profile, self.grammar(path), path, source, module, is_package)
        except (RecursionError, MemoryError):
            error = "too deeply nested to analyse"
        except Exception as exc:  # one odd file must not stop a scan; keep the reason
            error = f"internal error while analysing: {type(exc).__name__}: {exc}"
        return self._empty(path, module, is_package, error)

    def _empty(self, path: str, module: str, is_package: bool, error: str) -> ModuleSymbols:
        return ModuleSymbols(path, module, self.name, parse_error=error, is_package=is_package)


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
