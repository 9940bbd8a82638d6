"""References in a Python module: calls, imports, attribute and bare-name uses.

Resolution is best effort and purely local to the file: imports (absolute and
relative), module-level definitions, `self`/`cls` inside methods, `super()`, and
locals whose class is evident (`p = OrderProcessor()`, `p: OrderProcessor`).
Anything else stays unresolved (None) rather than guessed.
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from driftcheck.model import STALE_CALLER
from driftcheck.symbols.languages.common import MAX_TEXT as _MAX_TEXT
from driftcheck.symbols.languages.common import join, one_line
from driftcheck.symbols.languages.python.norm import bound_name, scope_locals
from driftcheck.symbols.languages.python.norm import children as child_nodes
from driftcheck.symbols.table import Reference

_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)
_BLOCK_FIELDS = ("body", "orelse", "finalbody", "handlers", "cases")
_BUILTINS = frozenset(dir(builtins))
_IMPORT_ERRORS = frozenset({"ImportError", "ModuleNotFoundError"})
# A use of an optional import is fine when the module goes: the code expects that.
_OPTIONAL_IGNORES = frozenset({STALE_CALLER})


class SourceText:
    """Source text plus a byte index of line starts: ast columns count UTF-8 bytes."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.data = text.encode("utf-8", "replace")
        starts = [0]
        pos = self.data.find(b"\n")
        while pos >= 0:
            starts.append(pos + 1)
            pos = self.data.find(b"\n", pos + 1)
        self.starts = starts

    def offset(self, line: int, col: int) -> int:
        return self.starts[min(line, len(self.starts)) - 1] + col

    def segment(self, start: tuple[int, int], end: tuple[int, int]) -> str:
        return self.data[self.offset(*start) : self.offset(*end)].decode("utf-8", "replace")

    def node_text(self, node: ast.AST) -> str:
        end_line, end_col = getattr(node, "end_lineno", None), getattr(node, "end_col_offset", None)
        if end_line is None or end_col is None:
            return ""
        return self.segment((node.lineno, node.col_offset), (end_line, end_col))  # type: ignore[attr-defined]


def render(expr: ast.AST, limit: int = _MAX_TEXT) -> str:
    """Dotted text of a callee/receiver, with calls and subscripts elided: `a.b(...).c`."""
    parts: list[str] = []
    node = expr
    while True:
        if isinstance(node, ast.Attribute):
            parts.append("." + node.attr)
            node = node.value
        elif isinstance(node, ast.Call):
            parts.append("(...)")
            node = node.func
        elif isinstance(node, ast.Subscript):
            parts.append("[...]")
            node = node.value
        else:
            parts.append(node.id if isinstance(node, ast.Name) else "<expr>")
            break
    text = "".join(reversed(parts))
    return text if len(text) <= limit else "…" + text[-(limit - 1) :]


def dotted(expr: ast.AST) -> str | None:
    """`a.b.c` for a pure Name/Attribute chain, else None."""
    parts: list[str] = []
    while isinstance(expr, ast.Attribute):
        parts.append(expr.attr)
        expr = expr.value
    if not isinstance(expr, ast.Name):
        return None
    parts.append(expr.id)
    return ".".join(reversed(parts))


def member_qualname(parent: str, node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    """Qualname of a def; property setters/deleters get a suffix so they don't
    replace the getter they share a name with."""
    for deco in node.decorator_list:
        text = dotted(deco) or ""
        head, _, accessor = text.rpartition(".")
        if head == node.name and accessor in ("setter", "deleter"):
            return join(parent, f"{node.name}.{accessor}")
    return join(parent, node.name)


def absolute_module(module: str, is_package: bool, name: str | None, level: int) -> str:
    """Resolve `from <level dots><name> import ...` against the importing module."""
    if level == 0:
        return name or ""
    parts = module.split(".") if module else []
    if not is_package:
        parts = parts[:-1]
    if level - 1 > len(parts):
        return "." * level + (name or "")  # above the top package: keep as written
    parts = parts[: len(parts) - (level - 1)]
    if name:
        parts.append(name)
    return ".".join(parts)


def iter_block_statements(body: list[ast.stmt]) -> list[ast.stmt]:
    """Statements of a module/class body, descending into if/try/with/for/match
    blocks (conditional definitions still define names) but not into defs."""
    out: list[ast.stmt] = []
    stack = list(reversed(body))
    while stack:
        stmt = stack.pop()
        out.append(stmt)
        if isinstance(stmt, (*_FUNCS, ast.ClassDef)):
            continue
        nested: list[ast.stmt] = []
        for name in _BLOCK_FIELDS:
            for child in getattr(stmt, name, ()):
                # except-handlers and match-cases wrap their own statement lists
                is_wrapper = isinstance(child, (ast.ExceptHandler, ast.match_case))
                nested.extend(child.body if is_wrapper else [child])
        stack.extend(reversed(nested))
    return out


@dataclass(frozen=True)
class _Scope:
    enclosing: str | None = None
    symbol_prefix: str | None = None  # qualname prefix while defs are still symbols
    cls: str | None = None  # class that `self`/`cls` denote
    self_name: str | None = None
    super_base: str | None = None
    locals: frozenset[str] = frozenset()
    local_imports: Mapping[str, str] = field(default_factory=dict)
    types: Mapping[str, str] = field(default_factory=dict)


class ReferenceCollector:
    """Walks a module once (iteratively) and records its references."""

    def __init__(
        self,
        src: SourceText,
        module: str,
        is_package: bool,
        ignores: Mapping[int, frozenset[str]],
    ) -> None:
        self.src = src
        self.module = module
        self.is_package = is_package
        self.module_defs: Mapping[str, str] = {}
        self.ignores = ignores
        self.imports: dict[str, str] = {}
        self.star_imports: list[str] = []
        self.refs: list[Reference] = []
        self._discarded: set[int] = set()  # calls that are statements of their own
        # Targets of imports guarded by `except ImportError`: optional on purpose.
        self.optional: tuple[str, ...] = ()

    # -- imports -------------------------------------------------------------

    def bindings(self, stmt: ast.Import | ast.ImportFrom) -> list[tuple[ast.alias, str, str]]:
        """(alias, local name, dotted target) for each name an import binds."""
        out = []
        if isinstance(stmt, ast.Import):
            for a in stmt.names:
                target = a.name if a.asname else a.name.split(".")[0]
                out.append((a, bound_name(a, stmt), target))
            return out
        base = absolute_module(self.module, self.is_package, stmt.module, stmt.level)
        for a in stmt.names:
            out.append((a, a.asname or a.name, join(base, a.name) if a.name != "*" else base))
        return out

    def module_imports(self, tree: ast.Module) -> None:
        for stmt in iter_block_statements(tree.body):
            if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                for alias, local, target in self.bindings(stmt):
                    if alias.name == "*":
                        self.star_imports.append(target)
                    else:
                        self.imports[local] = target

    def _guarded_targets(self, tree: ast.Module) -> list[str]:
        """What `try: import x ... except ImportError:` blocks import, anywhere."""
        found: list[str] = []
        for node in ast.walk(tree):
            if not isinstance(node, ast.Try) or not any(map(_catches_import, node.handlers)):
                continue
            for stmt in iter_block_statements(node.body):
                if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                    for alias, _local, target in self.bindings(stmt):
                        found.append(alias.name if isinstance(stmt, ast.Import) else target)
        return found

    def _import_refs(self, stmt: ast.Import | ast.ImportFrom, scope: _Scope) -> None:
        for alias, _local, target in self.bindings(stmt):
            as_text = f" as {alias.asname}" if alias.asname else ""
            if isinstance(stmt, ast.Import):
                written = resolved = alias.name
                text = f"import {alias.name}{as_text}"
            else:
                prefix = "." * stmt.level + (stmt.module or "")
                written = prefix + alias.name if prefix.endswith(".") else join(prefix, alias.name)
                resolved = target if alias.name != "*" else join(target, "*")
                text = f"from {prefix} import {alias.name}{as_text}"
            self._add(
                stmt,
                scope,
                kind="import",
                target=written,
                resolved=resolved,
                name=alias.name.split(".")[-1],
                alias=alias.asname,
                text=text,
                pos=(
                    getattr(alias, "lineno", stmt.lineno),
                    getattr(alias, "col_offset", stmt.col_offset),
                ),
            )

    # -- resolution ----------------------------------------------------------

    def _name(self, ident: str, scope: _Scope, *, receiver: bool) -> str | None:
        if ident in scope.local_imports:
            return scope.local_imports[ident]
        if ident in scope.locals:
            # A local of known class only resolves as a receiver (`p.m()`), not `p()`.
            return scope.types.get(ident) if receiver else None
        if ident in self.imports:
            return self.imports[ident]
        return self.module_defs.get(ident)

    def resolve(self, expr: ast.AST, scope: _Scope) -> str | None:
        if isinstance(expr, ast.Name):
            return self._name(expr.id, scope, receiver=False)
        if not isinstance(expr, ast.Attribute):
            return None
        base = expr.value
        if isinstance(base, ast.Name) and base.id == scope.self_name and scope.cls:
            return f"{scope.cls}.{expr.attr}"
        if isinstance(base, ast.Call):
            # `super().m` and `Klass(...).m`: one receiver level, no deeper guessing.
            if isinstance(base.func, ast.Name) and base.func.id == "super":
                return join(scope.super_base, expr.attr) if scope.super_base else None
            owner = self.resolve(base.func, scope) if dotted(base.func) else None
            return join(owner, expr.attr) if owner else None
        chain = dotted(expr)
        if chain is None:
            return None
        root, _, rest = chain.partition(".")
        if root == scope.self_name:
            return None  # self.a.b(): the class of `a` is unknown
        owner = self._name(root, scope, receiver=True)
        return join(owner, rest) if owner else None

    def annotation_class(self, ann: ast.AST | None, scope: _Scope) -> str | None:
        """Class named by a simple annotation: `X`, `m.X`, `"X"`, `X | None`, `Optional[X]`."""
        if ann is None:
            return None
        if isinstance(ann, ast.Constant) and isinstance(ann.value, str):
            text = ann.value.strip()
            if not text.replace(".", "").replace("_", "").isalnum():
                return None
            root, _, rest = text.partition(".")
            owner = self._name(root, scope, receiver=True)
            return join(owner, rest) if owner and rest else owner
        if isinstance(ann, ast.BinOp) and isinstance(ann.op, ast.BitOr):
            sides = [s for s in (ann.left, ann.right) if not _is_none(s)]
            return self.annotation_class(sides[0], scope) if len(sides) == 1 else None
        if isinstance(ann, ast.Subscript) and (dotted(ann.value) or "").endswith("Optional"):
            return self.annotation_class(ann.slice, scope)
        return self.resolve(ann, scope) if dotted(ann) else None

    # -- scopes --------------------------------------------------------------

    def function_scope(
        self, fn: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda, scope: _Scope
    ) -> _Scope:
        local_names, local_imports = scope_locals(fn)
        imports = dict(scope.local_imports)
        for stmt in local_imports:
            for alias, local, target in self.bindings(stmt):
                if alias.name != "*":
                    imports[local] = target
        inner = replace(scope, locals=scope.locals | local_names, local_imports=imports)
        if scope.self_name in local_names:
            inner = replace(inner, self_name=None)  # shadowed by a parameter/local
        if isinstance(fn, ast.Lambda):
            return inner
        qualname = None
        if scope.symbol_prefix is not None:
            qualname = member_qualname(scope.symbol_prefix, fn)
            inner = replace(inner, enclosing=qualname, symbol_prefix=None)
        if scope.cls is not None and scope.symbol_prefix == scope.cls:
            # A method: its first parameter is `self`/`cls` unless a staticmethod.
            first = [*fn.args.posonlyargs, *fn.args.args][:1]
            static = any(dotted(d) == "staticmethod" for d in fn.decorator_list)
            inner = replace(inner, self_name=None if static or not first else first[0].arg)
        types = dict(scope.types)
        for arg in (*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs):
            cls = self.annotation_class(arg.annotation, scope)
            if cls:
                types[arg.arg] = cls
        types.update(self._assigned_types(fn, inner))
        return replace(inner, types=types)

    def _assigned_types(
        self, fn: ast.FunctionDef | ast.AsyncFunctionDef, scope: _Scope
    ) -> dict[str, str]:
        """`p = Klass(...)` / `p: Klass = ...` locals; names bound to two classes are dropped."""
        found: dict[str, str | None] = {}
        for stmt in iter_block_statements(fn.body):
            name, cls = None, None
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
                target, value = stmt.targets[0], stmt.value
                if isinstance(target, ast.Name) and isinstance(value, ast.Call):
                    callee = dotted(value.func)
                    if callee and callee.rpartition(".")[2][:1].isupper():
                        name, cls = target.id, self.resolve(value.func, scope)
            elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                name, cls = stmt.target.id, self.annotation_class(stmt.annotation, scope)
            if name is not None:
                found[name] = cls if found.get(name, cls) == cls else None
        return {k: v for k, v in found.items() if v}

    def class_scope(self, node: ast.ClassDef, scope: _Scope) -> _Scope:
        if scope.symbol_prefix is None:  # a class inside a function: not a symbol
            return replace(scope, cls=None)
        qualname = join(scope.symbol_prefix, node.name)
        base = self.resolve(node.bases[0], scope) if node.bases else None
        return replace(
            scope,
            enclosing=qualname,
            symbol_prefix=qualname,
            cls=qualname,
            self_name=None,
            super_base=base,
        )

    # -- walk ----------------------------------------------------------------

    def collect(self, tree: ast.Module, module_defs: Mapping[str, str]) -> list[Reference]:
        """All references; call `module_imports` first. `module_defs` maps the
        module's top-level names to their qualnames."""
        self.module_defs = module_defs
        # Only references need to know which imports are optional (see _add).
        if "ImportError" in self.src.text or "ModuleNotFoundError" in self.src.text:
            self.optional = tuple(self._guarded_targets(tree))
        top = _Scope(symbol_prefix=self.module)
        stack: list[tuple[ast.AST, _Scope]] = [(stmt, top) for stmt in reversed(tree.body)]
        while stack:
            node, scope = stack.pop()
            children: list[tuple[ast.AST, _Scope]] = []
            if isinstance(node, (*_FUNCS, ast.Lambda)):
                outer = [*node.args.defaults, *(d for d in node.args.kw_defaults if d)]
                if not isinstance(node, ast.Lambda):
                    outer = [*node.decorator_list, *outer, *_annotations(node)]
                inner = self.function_scope(node, scope)
                body = node.body if isinstance(node.body, list) else [node.body]
                children = [(n, scope) for n in outer] + [(n, inner) for n in body]
            elif isinstance(node, ast.ClassDef):
                inner = self.class_scope(node, scope)
                outer = [*node.decorator_list, *node.bases, *node.keywords]
                children = [(n, scope) for n in outer] + [(n, inner) for n in node.body]
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                self._import_refs(node, scope)
            elif isinstance(node, ast.Call):
                children = [(n, scope) for n in self._call(node, scope)]
            elif isinstance(node, ast.Attribute):
                children = [(n, scope) for n in self._attribute(node, scope)]
            elif isinstance(node, ast.Name):
                self._bare_name(node, scope)
            else:
                if isinstance(node, ast.Expr):  # `f(x)` or `await f(x)` as a statement
                    value = node.value.value if isinstance(node.value, ast.Await) else node.value
                    self._discarded.add(id(value))
                children = [(n, scope) for n in child_nodes(node)]
            stack.extend(reversed(children))
        self.refs.sort(key=lambda r: (r.line, r.col, r.kind))
        return self.refs

    def _call(self, node: ast.Call, scope: _Scope) -> list[ast.AST]:
        func = node.func
        resolved = self.resolve(func, scope)
        is_name = isinstance(func, ast.Name)
        if not (is_name and resolved is None and func.id in _BUILTINS):  # type: ignore[union-attr]
            keywords = tuple(k.arg for k in node.keywords if k.arg is not None)
            self._add(
                node,
                scope,
                kind="call",
                target=render(func),
                resolved=resolved,
                name=func.id if is_name else getattr(func, "attr", ""),  # type: ignore[union-attr]
                receiver=render(func.value) if isinstance(func, ast.Attribute) else None,
                positional_count=sum(1 for a in node.args if not isinstance(a, ast.Starred)),
                keywords=keywords,
                has_star=any(isinstance(a, ast.Starred) for a in node.args),
                has_double_star=any(k.arg is None for k in node.keywords),
                text=one_line(self.src.node_text(node)),
                result_used=id(node) not in self._discarded,
            )
        args: list[ast.AST] = [*node.args, *(k.value for k in node.keywords)]
        return _chain_base(func) + args

    def _attribute(self, node: ast.Attribute, scope: _Scope) -> list[ast.AST]:
        if isinstance(node.ctx, ast.Load):
            resolved = self.resolve(node, scope)
            if resolved is not None:
                self._add(
                    node,
                    scope,
                    kind="attribute",
                    target=render(node),
                    resolved=resolved,
                    name=node.attr,
                    receiver=render(node.value),
                )
        return _chain_base(node)

    def _bare_name(self, node: ast.Name, scope: _Scope) -> None:
        if isinstance(node.ctx, ast.Load):
            resolved = self._name(node.id, scope, receiver=False)
            if resolved is not None:
                self._add(node, scope, kind="name", target=node.id, resolved=resolved, name=node.id)

    def _add(
        self,
        node: ast.AST,
        scope: _Scope,
        *,
        kind: str,
        target: str,
        pos: tuple[int, int] | None = None,
        **fields: object,
    ) -> None:
        line, col = pos or (node.lineno, node.col_offset)  # type: ignore[attr-defined]
        end = getattr(node, "end_lineno", line) or line
        ignored = self.ignores.get(line, frozenset()) | self.ignores.get(end, frozenset())
        resolved = fields.get("resolved")
        if self.optional and isinstance(resolved, str) and _within(resolved, self.optional):
            ignored |= _OPTIONAL_IGNORES
        self.refs.append(
            Reference(
                kind=kind,
                target=target,
                line=line,
                col=col,
                enclosing=scope.enclosing,  # type: ignore[arg-type]
                ignored_kinds=ignored,
                **fields,  # type: ignore[arg-type]
            )
        )


def _annotations(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.AST]:
    args = fn.args
    params = [*args.posonlyargs, *args.args, args.vararg, *args.kwonlyargs, args.kwarg]
    anns: list[ast.AST] = [p.annotation for p in params if p is not None and p.annotation]
    return [*anns, fn.returns] if fn.returns else anns


def _chain_base(expr: ast.AST) -> list[ast.AST]:
    """The part of a callee/attribute chain still to visit: the first non-Attribute
    node, unless it is the chain's plain root name (already covered by the chain)."""
    while isinstance(expr, ast.Attribute):
        expr = expr.value
    return [] if isinstance(expr, ast.Name) else [expr]


def _catches_import(handler: ast.ExceptHandler) -> bool:
    names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any((dotted(n) or "") in _IMPORT_ERRORS for n in names if n is not None)


def _within(dotted_name: str, prefixes: tuple[str, ...]) -> bool:
    return any(dotted_name == p or dotted_name.startswith(p + ".") for p in prefixes)


def _is_none(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is None
