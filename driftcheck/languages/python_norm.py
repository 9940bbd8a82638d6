"""Normalised token streams and fingerprints for Python definitions.

Two bodies that differ only in docstrings, comments, formatting or the names of
their local variables/parameters produce the same tokens. Attribute names, global
names (called or not) and constants are kept, because changing them changes
behaviour. Every walk here is iterative: generated code can nest deeply enough to
overflow Python's recursion limit.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable

from driftcheck.languages.common import digest

_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)
_CTX = (ast.Load, ast.Store, ast.Del)
_MAX_CONST = 60
_MEMO = "_driftcheck_locals"
_TOKENS_MEMO = "_driftcheck_tokens"
_SCOPES = (*_FUNCS, ast.Lambda)
# Nodes with identifier fields (not child nodes) that still matter for identity.
_WITH_PAYLOAD = (
    ast.Attribute, ast.keyword, ast.arg, ast.Import, ast.ImportFrom, ast.Global,
    ast.Nonlocal, ast.ExceptHandler, ast.MatchAs, ast.MatchStar, ast.MatchMapping,
    ast.MatchClass,
)  # fmt: skip


def param_names(args: ast.arguments) -> list[str]:
    """Parameter names in declaration order (the order canonical names follow)."""
    names = [a.arg for a in (*args.posonlyargs, *args.args)]
    if args.vararg:
        names.append(args.vararg.arg)
    names.extend(a.arg for a in args.kwonlyargs)
    if args.kwarg:
        names.append(args.kwarg.arg)
    return names


def scope_locals(
    fn: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda,
) -> tuple[set[str], list[ast.Import | ast.ImportFrom]]:
    """Names local to a function (parameters and anything it binds) and its imports.

    Comprehension variables are counted as the function's own: close enough for
    normalisation and name resolution. Memoised on the node: both the fingerprint
    and the reference walk need it.
    """
    cached = getattr(fn, _MEMO, None)
    if cached is not None:
        return cached
    names = set(param_names(fn.args))
    declared: set[str] = set()
    imports: list[ast.Import | ast.ImportFrom] = []
    stack: list[ast.AST] = list(fn.body) if isinstance(fn.body, list) else [fn.body]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Name):
            if not isinstance(node.ctx, ast.Load):
                names.add(node.id)
            continue
        if isinstance(node, (*_FUNCS, ast.ClassDef)):
            names.add(node.name)
            continue  # its body is another scope
        if isinstance(node, ast.Lambda):
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            imports.append(node)
            names.update(bound_name(a, node) for a in node.names if a.name != "*")
            continue
        if isinstance(node, (ast.Global, ast.Nonlocal)):
            declared.update(node.names)
        elif isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)):
            if node.name:
                names.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            names.add(node.rest)
        stack.extend(children(node))
    result = (names - declared, imports)
    setattr(fn, _MEMO, result)
    return result


def children(node: ast.AST) -> list[ast.AST]:
    """Child nodes in field order; a faster `ast.iter_child_nodes` that also skips
    the Load/Store/Del context markers."""
    out: list[ast.AST] = []
    for name in node._fields:
        value = getattr(node, name, None)
        if isinstance(value, list):
            out.extend(v for v in value if isinstance(v, ast.AST))
        elif isinstance(value, ast.AST) and not isinstance(value, _CTX):
            out.append(value)
    return out


def bound_name(alias: ast.alias, stmt: ast.Import | ast.ImportFrom) -> str:
    """The local name an import binds: `import a.b` binds `a`."""
    if alias.asname:
        return alias.asname
    return alias.name.split(".")[0] if isinstance(stmt, ast.Import) else alias.name


def strip_docstring(body: list[ast.stmt]) -> list[ast.stmt]:
    first = body[0] if body else None
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        return body[1:]
    return body


class _Frame:
    """One function scope during token emission; names resolve innermost-first.
    `counter` is shared with nested frames: [next parameter number, next local]."""

    __slots__ = ("counter", "locals", "names", "parent")

    def __init__(self, local_names: set[str], parent: _Frame | None, counter: list[int]) -> None:
        self.locals = local_names
        self.names: dict[str, str] = {}
        self.parent = parent
        self.counter = counter

    def name(self, ident: str) -> str:
        frame: _Frame | None = self
        while frame is not None:
            if ident in frame.locals:
                canon = frame.names.get(ident)
                if canon is None:
                    # `$` cannot occur in an identifier, so no clash with globals.
                    canon = frame.names[ident] = f"${self.counter[1]}"
                    self.counter[1] += 1
                return canon
            frame = frame.parent
        return ident

    def param(self, ident: str) -> None:
        # Parameters are numbered apart from other locals, so adding a parameter
        # does not renumber (and so re-fingerprint) the whole body.
        self.names[ident] = f"$p{self.counter[0]}"
        self.counter[0] += 1


def _function_frame(
    fn: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda,
    parent: _Frame | None,
    counter: list[int],
) -> _Frame:
    local_names, _ = scope_locals(fn)
    frame = _Frame(local_names, parent, counter)
    for name in param_names(fn.args):
        frame.param(name)
    return frame


def _const(value: object) -> str:
    text = repr(value)
    if len(text) > _MAX_CONST:
        return f"c#{digest(text)}"
    return f"c:{text}"


def _tokens(items: Iterable[tuple[ast.AST, _Frame | None]], out: list[str]) -> int:
    """Append the tokens of the given nodes to `out`; return the statement count."""
    stack = list(items)
    stack.reverse()
    size = 0
    while stack:
        node, frame = stack.pop()
        if isinstance(node, _Emit):
            out.extend(node.tokens)
            size += node.size
            continue
        if isinstance(node, ast.Name):
            out.append(frame.name(node.id) if frame else node.id)
            continue
        if isinstance(node, ast.Constant):
            out.append(_const(node.value))
            continue
        if isinstance(node, ast.stmt):
            size += 1
        out.append(type(node).__name__)
        todo: list[tuple[ast.AST, _Frame | None]]
        if isinstance(node, _SCOPES):
            outer_parts: list[ast.AST] = [*node.args.defaults, *node.args.kw_defaults]
            if isinstance(node, ast.Lambda):
                body: list[ast.AST] = [node.body]
            else:
                out.append(frame.name(node.name) if frame else node.name)
                outer_parts = [*node.decorator_list, *outer_parts]
                body = list(strip_docstring(node.body))
            out.append(f"args:{len(param_names(node.args))}")
            todo = [(n, frame) for n in outer_parts if n is not None]
            if frame is None and not isinstance(node, ast.Lambda):
                # A class member: the same tokens as the method's own fingerprint,
                # computed once for both.
                tokens, count = function_tokens(node)
                todo.append((_Emit(tokens[1:] if tokens[:1] == ["async"] else tokens, count), None))
            else:
                inner = _function_frame(node, frame, counter=(frame.counter if frame else [0, 0]))
                todo += [(n, inner) for n in body]
        elif isinstance(node, ast.ClassDef):
            out.append(frame.name(node.name) if frame else node.name)
            parts = [*node.decorator_list, *node.bases, *node.keywords]
            todo = [(n, frame) for n in (*parts, *strip_docstring(node.body))]
        else:
            if isinstance(node, _WITH_PAYLOAD):
                _payload(node, frame, out)
            todo = [(n, frame) for n in children(node)]
        todo.reverse()
        stack.extend(todo)
    return size


def _payload(node: ast.AST, frame: _Frame | None, out: list[str]) -> None:
    """Identifier-valued fields, which `iter_child_nodes` does not visit."""

    def local(ident: str) -> str:
        return frame.name(ident) if frame else ident

    if isinstance(node, ast.Attribute):
        out.append("." + node.attr)
    elif isinstance(node, ast.keyword):
        out.append(f"kw:{node.arg}")
    elif isinstance(node, ast.arg):
        out.append(local(node.arg))
    elif isinstance(node, (ast.Import, ast.ImportFrom)):
        out.append(f"from:{'.' * getattr(node, 'level', 0)}{getattr(node, 'module', '')}")
        out.extend(f"{a.name}>{local(bound_name(a, node))}" for a in node.names)
    elif isinstance(node, (ast.Global, ast.Nonlocal)):
        out.extend(node.names)
    elif isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)):
        if node.name:
            out.append(local(node.name))
    elif isinstance(node, ast.MatchMapping) and node.rest:
        out.append(local(node.rest))
    elif isinstance(node, ast.MatchClass):
        out.extend(node.kwd_attrs)


def function_tokens(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[list[str], int]:
    """Tokens and statement count of a function body, locals renamed canonically.
    Memoised on the node: a method's tokens are also part of its class's."""
    cached: tuple[list[str], int] | None = getattr(fn, _TOKENS_MEMO, None)
    if cached is not None:
        return cached
    frame = _function_frame(fn, None, [0, 0])
    out: list[str] = ["async"] if isinstance(fn, ast.AsyncFunctionDef) else []
    size = _tokens(((stmt, frame) for stmt in strip_docstring(fn.body)), out)
    setattr(fn, _TOKENS_MEMO, (out, size))
    return out, size


class _Emit(ast.AST):
    """Tokens already computed, queued in place of the nodes they came from."""

    def __init__(self, tokens: list[str], size: int) -> None:
        super().__init__()
        self.tokens = tokens
        self.size = size


def class_tokens(cls: ast.ClassDef, *, own_only: bool) -> tuple[list[str], int]:
    """Tokens of a class: bases plus body; `own_only` leaves out nested defs."""
    out: list[str] = []
    parts: list[ast.AST] = [*cls.bases, *cls.keywords]
    body = strip_docstring(cls.body)
    if own_only:
        body = [s for s in body if not isinstance(s, (*_FUNCS, ast.ClassDef))]
    _tokens(((n, None) for n in parts), out)
    size = _tokens(((n, None) for n in body), out)
    return out, size
