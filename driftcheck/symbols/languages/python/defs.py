"""Definitions in a Python module: functions, methods, classes, module constants."""

from __future__ import annotations

import ast
from collections.abc import Mapping

from driftcheck.symbols.languages.common import join, one_line
from driftcheck.symbols.languages.python import norm
from driftcheck.symbols.languages.python.refs import (
    SourceText,
    dotted,
    iter_block_statements,
    member_qualname,
    render,
)
from driftcheck.symbols.table import Param, ParamKind, Signature, Symbol

_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)
_MAX_VALUE = 500
_DATACLASS = frozenset(
    {
        "dataclass",
        "dataclasses.dataclass",
        *(f"{pkg}.{name}" for pkg in ("attr", "attrs") for name in ("define", "frozen", "mutable")),
    }
)
# attrs' classic API: `@attr.s` with `x = attr.ib()` fields (annotated ones with auto_attribs).
_ATTRS_CLASSIC = frozenset({"attr.s", "attr.attrs", "attr.attributes"})
_FIELD_CALLS = frozenset(
    {"field", "dataclasses.field", "attr.field", "attrs.field"}
    | {"attr.ib", "attr.attrib", "attr.attr"}
)
# Class decorators known to leave `__init__` alone; any other may generate or replace it.
_INIT_NEUTRAL = frozenset(
    {"final", "typing.final", "total_ordering", "functools.total_ordering", "unique", "enum.unique"}
)
_NAMEDTUPLE = frozenset({"NamedTuple", "typing.NamedTuple", "typing_extensions.NamedTuple"})
_NEUTRAL_BASES = frozenset({"object", "Generic", "typing.Generic", "Protocol", "typing.Protocol"})


def expr_text(node: ast.AST, src: SourceText) -> str:
    """Normalised source of an expression (`ast.unparse`), or the raw text if the
    expression is too deep for the recursive unparser."""
    try:
        return ast.unparse(node)
    except (RecursionError, MemoryError, ValueError):
        return one_line(src.node_text(node), limit=10_000)


def signature_of(args: ast.arguments, returns: ast.AST | None, src: SourceText) -> Signature:
    params: list[Param] = []
    positional = [*args.posonlyargs, *args.args]
    first_default = len(positional) - len(args.defaults)

    def make(arg: ast.arg, kind: ParamKind, default: ast.AST | None) -> Param:
        return Param(
            name=arg.arg,
            kind=kind,
            has_default=default is not None,
            default=expr_text(default, src) if default is not None else None,
            annotation=expr_text(arg.annotation, src) if arg.annotation else None,
        )

    for i, arg in enumerate(positional):
        kind: ParamKind = "positional_only" if i < len(args.posonlyargs) else "positional"
        default = args.defaults[i - first_default] if i >= first_default else None
        params.append(make(arg, kind, default))
    if args.vararg:
        params.append(make(args.vararg, "var_positional", None))
    for arg, kw_default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        params.append(make(arg, "keyword_only", kw_default))
    if args.kwarg:
        params.append(make(args.kwarg, "var_keyword", None))
    return Signature(tuple(params), expr_text(returns, src) if returns else None)


def _flag(node: ast.AST | None) -> bool | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, bool) else None


class DefinitionCollector:
    def __init__(
        self,
        src: SourceText,
        path: str,
        module: str,
        ignores: Mapping[int, frozenset[str]],
        imports: Mapping[str, str],
    ) -> None:
        self.src = src
        self.path = path
        self.module = module
        self.ignores = ignores
        self.imports = imports

    def collect(self, tree: ast.Module) -> list[Symbol]:
        """Symbols in source order; a later definition of a qualname replaces an
        earlier one, as it does at runtime."""
        found: dict[str, Symbol] = {}
        blocks: list[tuple[list[ast.stmt], str | None]] = [(tree.body, None)]
        while blocks:
            body, parent = blocks.pop()
            for stmt in iter_block_statements(body):
                if isinstance(stmt, _FUNCS):
                    sym = self._function(stmt, parent)
                elif isinstance(stmt, ast.ClassDef):
                    sym = self._class(stmt, parent)
                    blocks.append((stmt.body, sym.qualname))
                else:
                    # Module constants, and class-level data attributes (a class
                    # constant, an enum member, a dataclass field with a default).
                    for const in self._constants(stmt, parent):
                        found[const.qualname] = const
                    continue
                found[sym.qualname] = sym
        return sorted(found.values(), key=lambda s: (s.start_line, s.qualname))

    def _qualify(self, name: str) -> str:
        """`dataclass` -> `dataclasses.dataclass` through this file's imports."""
        root, _, rest = name.partition(".")
        target = self.imports.get(root)
        if target is None:
            return name
        return join(target, rest) if rest else target

    def _ignored(self, lines: list[int]) -> frozenset[str]:
        out: frozenset[str] = frozenset()
        for line in lines:
            out |= self.ignores.get(line, frozenset())
        return out

    def _header(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> dict:
        """Fields shared by functions and classes: position, decorators, text hash."""
        deco_lines = [d.lineno for d in node.decorator_list]
        start = min([*deco_lines, node.lineno])
        end = node.end_lineno or node.lineno
        text = self.src.segment((start, 0), (end, node.end_col_offset or 0))
        return {
            "path": self.path,
            "module": self.module,
            "start_line": start,
            "end_line": end,
            "decorators": tuple(self._decorator(d) for d in node.decorator_list),
            "text_hash": norm.digest(text),
            "ignored_kinds": self._ignored([*deco_lines, node.lineno]),
        }

    def _decorator(self, node: ast.expr) -> str:
        target = node.func if isinstance(node, ast.Call) else node
        return dotted(target) or one_line(self.src.node_text(target), limit=80)

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef, parent: str | None) -> Symbol:
        tokens, size = norm.function_tokens(node)
        return Symbol(
            qualname=member_qualname(parent or self.module, node),
            name=node.name,
            kind="method" if parent else "function",
            parent=parent,
            signature=signature_of(node.args, node.returns, self.src),
            fingerprint=norm.digest("\x1f".join(tokens)),
            body_tokens=tuple(tokens),
            body_size=size,
            is_async=isinstance(node, ast.AsyncFunctionDef),
            **self._header(node),
        )

    def _class(self, node: ast.ClassDef, parent: str | None) -> Symbol:
        tokens, size = norm.class_tokens(node, own_only=False)
        own, _ = norm.class_tokens(node, own_only=True)
        return Symbol(
            qualname=join(parent or self.module, node.name),
            name=node.name,
            kind="class",
            parent=parent,
            fingerprint=norm.digest("\x1f".join(tokens)),
            body_tokens=tuple(tokens),
            body_size=size,
            bases=tuple(one_line(self.src.node_text(b), limit=120) for b in node.bases),
            init_signature=self._init_signature(node),
            own_fingerprint=norm.digest("\x1f".join(own)),
            **self._header(node),
        )

    def _constants(self, stmt: ast.stmt, parent: str | None = None) -> list[Symbol]:
        if isinstance(stmt, ast.Assign):
            targets, value = stmt.targets, stmt.value
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            targets, value = [stmt.target], stmt.value
        else:
            return []
        if not all(isinstance(t, ast.Name) for t in targets):
            return []  # unpacking and attribute/subscript stores are not constants
        text = expr_text(value, self.src)
        fingerprint = norm.digest(text)
        if len(text) > _MAX_VALUE:
            text = f"{text[:200]}…#{fingerprint}"  # bounded, yet still comparable
        end = stmt.end_lineno or stmt.lineno
        stmt_text = self.src.segment((stmt.lineno, 0), (end, stmt.end_col_offset or 0))
        return [
            Symbol(
                qualname=join(parent or self.module, t.id),  # type: ignore[attr-defined]
                name=t.id,  # type: ignore[attr-defined]
                kind="constant",
                parent=parent,
                path=self.path,
                module=self.module,
                start_line=stmt.lineno,
                end_line=end,
                fingerprint=fingerprint,
                body_size=1,
                text_hash=norm.digest(stmt_text),
                value=text,
                ignored_kinds=self._ignored([stmt.lineno]),
            )
            for t in targets
        ]

    # -- constructor signatures ------------------------------------------------

    def _classic_field(self, stmt: ast.stmt) -> ast.stmt | None:
        """`x = attr.ib(...)` as the annotated field it declares; anything else: None."""
        if not isinstance(stmt, ast.AnnAssign | ast.Assign):
            return None
        if isinstance(stmt, ast.Assign) and len(stmt.targets) != 1:
            return None
        value = stmt.value
        if not (
            isinstance(value, ast.Call) and self._qualify(dotted(value.func) or "") in _FIELD_CALLS
        ):
            return None
        if isinstance(stmt, ast.AnnAssign):
            return stmt
        target = stmt.targets[0]
        untyped = ast.Name(id="")  # no annotation: unparses to ""
        return ast.AnnAssign(target=target, annotation=untyped, value=value, simple=1)

    def _init_signature(self, node: ast.ClassDef) -> Signature | None:
        """What `Klass(...)` accepts, including `self`; None when it is not evident
        from this class alone (e.g. inherited)."""
        members = {s.name: s for s in iter_block_statements(node.body) if isinstance(s, _FUNCS)}
        if "__init__" in members:
            init = members["__init__"]
            return signature_of(init.args, init.returns, self.src)
        bases = [self._qualify(render(b).removesuffix("[...]")) for b in node.bases]
        other_bases = [b for b in bases if b not in _NEUTRAL_BASES]
        if any(b in _NAMEDTUPLE for b in bases):
            return self._field_signature(node, kw_only=False, strip_private=False)
        for deco in node.decorator_list:
            target = deco.func if isinstance(deco, ast.Call) else deco
            name = self._qualify(dotted(target) or "")
            if name not in _DATACLASS and name not in _ATTRS_CLASSIC:
                continue
            options = {k.arg: k.value for k in getattr(deco, "keywords", []) if k.arg}
            if other_bases or _flag(options.get("init")) is False:
                return None  # inherited fields come first and are unknown here
            kw_only = bool(_flag(options.get("kw_only")))
            classic = name in _ATTRS_CLASSIC and not _flag(options.get("auto_attribs"))
            return self._field_signature(
                node, kw_only=kw_only, strip_private=name[:4] == "attr", classic=classic
            )
        decorators = {self._qualify(dotted(d) or "") for d in node.decorator_list}
        if decorators - _INIT_NEUTRAL:
            return None  # a decorator may generate or replace `__init__`
        if not other_bases and "__new__" not in members and not node.keywords:
            return Signature((Param("self", "positional"),))
        return None

    def _field_signature(
        self, node: ast.ClassDef, *, kw_only: bool, strip_private: bool, classic: bool = False
    ) -> Signature:
        """The `__init__` a dataclass/attrs class/NamedTuple generates from its fields.
        `classic`: attrs' `@attr.s`, whose fields are `x = attr.ib()` assignments."""
        params: list[Param] = []
        for stmt in node.body:
            if classic:
                stmt = self._classic_field(stmt)  # type: ignore[assignment]
            if not isinstance(stmt, ast.AnnAssign) or not isinstance(stmt.target, ast.Name):
                continue
            annotation = expr_text(stmt.annotation, self.src)
            if "ClassVar" in annotation:
                continue
            if annotation.endswith("KW_ONLY"):
                kw_only = True  # `_: KW_ONLY` makes the following fields keyword-only
                continue
            field_kw, default = kw_only, None
            value = stmt.value
            if (
                isinstance(value, ast.Call)
                and self._qualify(dotted(value.func) or "") in _FIELD_CALLS
            ):
                options = {k.arg: k.value for k in value.keywords if k.arg}
                if _flag(options.get("init")) is False:
                    continue
                if _flag(options.get("kw_only")) is not None:
                    field_kw = bool(_flag(options["kw_only"]))
                if "default" in options:
                    default = expr_text(options["default"], self.src)
                elif "default_factory" in options or "factory" in options:
                    default = "<factory>"
            elif value is not None:
                default = expr_text(value, self.src)
            name = stmt.target.id.lstrip("_") if strip_private else stmt.target.id
            kind: ParamKind = "keyword_only" if field_kw else "positional"
            params.append(Param(name, kind, default is not None, default, annotation or None))
        # Generated __init__ puts keyword-only fields last, keeping relative order.
        # (attrs also forbids a mandatory field after a defaulted one; we keep order.)
        params.sort(key=lambda p: p.kind == "keyword_only")
        return Signature((Param("self", "positional"), *params))
