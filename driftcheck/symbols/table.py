"""Language-neutral symbol model: what one source file defines and what it uses.

Language frontends (Python today, tree-sitter based ones later) fill these plain
frozen dataclasses; the graph, change classification and detectors only read them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

ParamKind = Literal[
    "positional_only", "positional", "var_positional", "keyword_only", "var_keyword"
]
SymbolKind = Literal["function", "method", "class", "constant"]
# "name" is a bare-name use of an imported or module-level symbol outside a call
# (e.g. `key=helper`), so removed symbols are caught even when not called.
ReferenceKind = Literal["call", "import", "attribute", "name"]
# Decorators that change how a method binds, so changing them changes every call site.
BINDING_DECORATORS: Mapping[str, str] = {
    "property": "property",
    "functools.cached_property": "property",
    "cached_property": "property",
    "staticmethod": "staticmethod",
    "classmethod": "classmethod",
}
ALL_KINDS = "*"

POSITIONAL = ("positional_only", "positional")
_VAR = ("var_positional", "var_keyword")


@dataclass(frozen=True)
class Param:
    name: str
    kind: ParamKind
    has_default: bool = False
    default: str | None = None
    annotation: str | None = None

    def render(self, *, annotations: bool = False) -> str:
        prefix = {"var_positional": "*", "var_keyword": "**"}.get(self.kind, "")
        text = prefix + self.name
        if annotations and self.annotation:
            text += f": {self.annotation}"
        if self.has_default:
            text += f" = {self.default}" if annotations and self.annotation else f"={self.default}"
        return text

    @property
    def required(self) -> bool:
        return not self.has_default and self.kind not in _VAR


@dataclass(frozen=True)
class Signature:
    params: tuple[Param, ...] = ()
    returns: str | None = None

    def render(self, *, annotations: bool = False) -> str:
        """`(self, order, *, discount=0.0)`; separators follow Python's syntax."""
        parts: list[str] = []
        kinds = [p.kind for p in self.params]
        for i, p in enumerate(self.params):
            # A bare `*` opens the keyword-only section unless `*args` already did.
            first_kw_only = p.kind == "keyword_only" and (i == 0 or kinds[i - 1] != "keyword_only")
            if first_kw_only and "var_positional" not in kinds[:i]:
                parts.append("*")
            parts.append(p.render(annotations=annotations))
            is_last_posonly = p.kind == "positional_only" and (
                i + 1 == len(kinds) or kinds[i + 1] != "positional_only"
            )
            if is_last_posonly:
                parts.append("/")
        text = f"({', '.join(parts)})"
        if annotations and self.returns:
            text += f" -> {self.returns}"
        return text

    def accepts(
        self,
        positional_count: int,
        keywords: frozenset[str] | tuple[str, ...] = frozenset(),
        has_star: bool = False,
        has_double_star: bool = False,
        drop_first: bool = False,
    ) -> str | None:
        """None when a call with this shape binds, else a short reason it cannot.

        `*args`/`**kwargs` in the call hide how many arguments arrive, so only
        mismatches that hold whatever they expand to are reported. `drop_first`
        skips the implicit `self`/`cls` of a bound method.
        """
        params = list(self.params)
        if drop_first:
            if params and params[0].kind in POSITIONAL:
                params = params[1:]
            elif not params or params[0].kind != "var_positional":
                return "has no parameter to receive self/cls"
        positional = [p for p in params if p.kind in POSITIONAL]
        has_var_pos = any(p.kind == "var_positional" for p in params)
        has_var_kw = any(p.kind == "var_keyword" for p in params)
        if positional_count > len(positional) and not has_var_pos:
            return _too_many(positional, positional_count)
        bound = {p.name for p in positional[:positional_count]}
        for kw in sorted(set(keywords)):
            target = next((p for p in params if p.name == kw and p.kind not in _VAR), None)
            if target is None or target.kind == "positional_only":
                if has_var_kw:
                    continue
                if target is not None:
                    return f"argument '{kw}' is positional-only"
                return f"no parameter named '{kw}'"
            if kw in bound:
                return f"got multiple values for argument '{kw}'"
            bound.add(kw)
        for p in params:
            if not p.required or p.name in bound:
                continue
            # A splat may supply it: `*args` fills positional slots, `**kw` named ones.
            if has_star and p.kind in POSITIONAL:
                continue
            if has_double_star and p.kind in ("positional", "keyword_only"):
                continue
            if p.kind == "keyword_only":
                return f"missing required keyword-only argument '{p.name}'"
            return f"missing required argument '{p.name}'"
        return None


def _too_many(positional: list[Param], given: int) -> str:
    most = len(positional)
    least = sum(1 for p in positional if not p.has_default)
    takes = f"{most}" if least == most else f"from {least} to {most}"
    noun = "argument" if most == 1 and least == most else "arguments"
    verb = "was" if given == 1 else "were"
    return f"takes {takes} positional {noun} but {given} {verb} given"


@dataclass(frozen=True)
class Symbol:
    """A definition: function, method, class or module-level constant.

    `fingerprint` hashes the normalised body (docstrings/comments dropped, locals
    renamed canonically) and identifies "the same code" across renames and moves;
    `text_hash` hashes the exact definition text. For classes `fingerprint` covers
    the whole class while `own_fingerprint` covers only bases and class-level
    statements (not methods), so a method edit is not also a class edit.
    """

    qualname: str
    name: str
    kind: SymbolKind
    path: str
    module: str
    start_line: int
    end_line: int
    parent: str | None = None
    signature: Signature | None = None
    decorators: tuple[str, ...] = ()
    fingerprint: str = ""
    body_tokens: tuple[str, ...] = ()
    body_size: int = 0
    text_hash: str = ""
    value: str | None = None
    bases: tuple[str, ...] = ()
    ignored_kinds: frozenset[str] = frozenset()
    is_async: bool = False
    # Classes only: explicit `__init__`, or the one a dataclass generates; None = unknown.
    init_signature: Signature | None = None
    own_fingerprint: str | None = None

    @property
    def binding(self) -> str | None:
        """How a method binds: instance/classmethod/staticmethod/property; None off-class."""
        if self.kind != "method":
            return None
        for deco in self.decorators:
            if deco in BINDING_DECORATORS:
                return BINDING_DECORATORS[deco]
            if deco.endswith((".setter", ".getter", ".deleter")):
                return "property"
        return "instance"

    def ignores(self, kind: str) -> bool:
        return ALL_KINDS in self.ignored_kinds or kind in self.ignored_kinds


@dataclass(frozen=True)
class Reference:
    """A use of a name: a call, an import, an attribute or bare-name access.

    `target` is the callee as written, with call sub-expressions shown as `(...)`
    (`OrderProcessor(...).calculate_total`); `name` is its last component and
    `receiver` what precedes it. `resolved` is a best-effort dotted qualname.
    """

    kind: ReferenceKind
    target: str
    line: int
    col: int
    name: str = ""
    receiver: str | None = None
    resolved: str | None = None
    enclosing: str | None = None
    positional_count: int = 0
    keywords: tuple[str, ...] = ()
    has_star: bool = False
    has_double_star: bool = False
    text: str = ""
    alias: str | None = None
    ignored_kinds: frozenset[str] = frozenset()
    # Calls: whether what the call returns is used (not a statement of its own).
    result_used: bool = True

    def ignores(self, kind: str) -> bool:
        return ALL_KINDS in self.ignored_kinds or kind in self.ignored_kinds


@dataclass(frozen=True)
class ModuleSymbols:
    """Everything one file defines and references. `parse_error` is set (and the
    tables may be partial) when the file does not parse; that is normal mid-edit."""

    path: str
    module: str
    language: str
    symbols: tuple[Symbol, ...] = ()
    references: tuple[Reference, ...] = ()
    imports: Mapping[str, str] = field(default_factory=dict, hash=False)
    star_imports: tuple[str, ...] = ()
    # What other modules can import from this one besides its own definitions: name
    # -> target. None: every import is importable from here too (Python).
    exports: Mapping[str, str] | None = field(default=None, hash=False)
    parse_error: str | None = None
    is_package: bool = False

    @cached_property
    def by_qualname(self) -> Mapping[str, Symbol]:
        return {s.qualname: s for s in self.symbols}

    def get(self, qualname: str) -> Symbol | None:
        return self.by_qualname.get(qualname)
