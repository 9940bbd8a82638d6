"""Normalised token streams and fingerprints for Python definitions.

Two bodies that differ only in docstrings, comments, formatting or the names of
their local variables/parameters produce the same tokens. Attribute names, global
names (called or not) and constants are kept, because changing them changes
behaviour. Every walk here is iterative: generated code can nest deeply enough to
overflow Python's recursion limit.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from driftcheck.symbols.languages.common import digest

_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)
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
    info = _INFO
    while stack:
        node = stack.pop()
        node_info = info.get(node.__class__) or _info(node.__class__)
        kind = node_info[0]
        if kind == _NAME:
            if not isinstance(node.ctx, ast.Load):  # type: ignore[attr-defined]
                names.add(node.id)  # type: ignore[attr-defined]
            continue
        if kind in (_FUNCTION, _CLASS):
            names.add(node.name)  # type: ignore[attr-defined]
            continue  # its body is another scope
        if kind == _LAMBDA:
            continue
        if kind == _PAYLOAD:
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
        _push_children(node, node_info, stack)
    result = (names - declared, imports)
    setattr(fn, _MEMO, result)
    return result


def children(node: ast.AST) -> list[ast.AST]:
    """Child nodes in field order; a faster `ast.iter_child_nodes` that also skips
    the Load/Store/Del context markers."""
    out: list[ast.AST] = []
    _push_children(node, _INFO.get(node.__class__) or _info(node.__class__), out)
    return out


def _push_children(node: ast.AST, info: _Info, out: list[ast.AST]) -> None:
    try:
        values = info[3](node)
    except AttributeError:  # a field left unset: only in trees made by hand
        values = [getattr(node, name, None) for name in info[4]]
    for value in values:
        if value.__class__ is list:
            out.extend([v for v in value if isinstance(v, ast.AST)])
        elif isinstance(value, ast.AST):
            out.append(value)


# What the walks need to know about a node class, worked out once per class: kind,
# is it a statement, class name, a getter of the fields that may hold child nodes
# (one C call per node), and those fields' names.
_PLAIN, _NAME, _CONST, _FUNCTION, _LAMBDA, _CLASS, _PAYLOAD, _EMIT, _ENTER = range(9)
_Info = tuple[int, bool, str, Callable[[ast.AST], Sequence[Any]], tuple[str, ...]]
_INFO: dict[type, _Info] = {}
# Never a child node in any version: `ctx` is Load/Store/Del, `type_comment` a string.
_NOT_CHILDREN = frozenset({"ctx", "type_comment"})


def _info(cls: type) -> _Info:
    # Same order of tests as an isinstance chain: the first match decides.
    kinds = (
        (_Emit, _EMIT), (_Enter, _ENTER), (ast.Name, _NAME), (ast.Constant, _CONST),
        (_FUNCS, _FUNCTION), (ast.Lambda, _LAMBDA), (ast.ClassDef, _CLASS),
        (_WITH_PAYLOAD, _PAYLOAD),
    )  # fmt: skip
    kind = next((k for types, k in kinds if issubclass(cls, types)), _PLAIN)
    fields = tuple(f for f in getattr(cls, "_fields", ()) if f not in _NOT_CHILDREN)
    # attrgetter returns a bare value for one name: `__class__` (never a node) pads
    # the names to two, so it always returns a tuple.
    getter = operator.attrgetter(*fields, *["__class__"] * (2 - len(fields)))
    found = _INFO[cls] = (kind, issubclass(cls, ast.stmt), cls.__name__, getter, fields)
    return found


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


def _tokens(nodes: Iterable[ast.AST], frame: _Frame | None, out: list[str]) -> int:
    """Append the tokens of the given nodes (in scope `frame`) to `out`; return the
    statement count. One stack of nodes in pre-order; entering or leaving a function
    body is a marker on the stack, so nodes need not carry their frame."""
    stack: list[ast.AST] = list(nodes)
    stack.reverse()
    size = 0
    info = _INFO
    while stack:
        node = stack.pop()
        node_info = info.get(node.__class__) or _info(node.__class__)
        kind, is_stmt, type_name = node_info[0], node_info[1], node_info[2]
        if kind == _NAME:
            ident = node.id  # type: ignore[attr-defined]
            out.append(frame.name(ident) if frame else ident)
            continue
        if kind == _CONST:
            out.append(_const(node.value))  # type: ignore[attr-defined]
            continue
        if kind == _ENTER:
            frame = node.frame  # type: ignore[attr-defined]
            continue
        if kind == _EMIT:
            out.extend(node.tokens)  # type: ignore[attr-defined]
            size += node.size  # type: ignore[attr-defined]
            continue
        if is_stmt:
            size += 1
        out.append(type_name)
        if kind in (_FUNCTION, _LAMBDA):
            args: ast.arguments = node.args  # type: ignore[attr-defined]
            outer: list[ast.AST] = [*args.defaults, *args.kw_defaults]
            if kind == _FUNCTION:
                ident = node.name  # type: ignore[attr-defined]
                out.append(frame.name(ident) if frame else ident)
                outer = [*node.decorator_list, *outer]  # type: ignore[attr-defined]
            out.append(f"args:{len(param_names(args))}")
            todo = [n for n in outer if n is not None]
            if frame is None and kind == _FUNCTION:
                # A class member: the same tokens as the method's own fingerprint,
                # computed once for both.
                tokens, count = function_tokens(node)  # type: ignore[arg-type]
                todo.append(_Emit(tokens[1:] if tokens[:1] == ["async"] else tokens, count))
            else:
                # Made now, as the scope is reached: frames share one counter.
                inner = _function_frame(
                    node,  # type: ignore[arg-type]
                    frame,
                    counter=(frame.counter if frame else [0, 0]),
                )
                body = (
                    [node.body]  # type: ignore[attr-defined]
                    if kind == _LAMBDA
                    else strip_docstring(node.body)  # type: ignore[attr-defined]
                )
                todo += [_Enter(inner), *body, _Enter(frame)]
        elif kind == _CLASS:
            ident = node.name  # type: ignore[attr-defined]
            out.append(frame.name(ident) if frame else ident)
            todo = [
                *node.decorator_list,  # type: ignore[attr-defined]
                *node.bases,  # type: ignore[attr-defined]
                *node.keywords,  # type: ignore[attr-defined]
                *strip_docstring(node.body),  # type: ignore[attr-defined]
            ]
        else:
            if kind == _PAYLOAD:
                _payload(node, frame, out)
            todo = []
            _push_children(node, node_info, todo)
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
    size = _tokens(strip_docstring(fn.body), frame, out)
    setattr(fn, _TOKENS_MEMO, (out, size))
    return out, size


class _Emit(ast.AST):
    """Tokens already computed, queued in place of the nodes they came from."""

    def __init__(self, tokens: list[str], size: int) -> None:
        super().__init__()
        self.tokens = tokens
        self.size = size


class _Enter(ast.AST):
    """Queued where a function body starts or ends: the frame names resolve in."""

    def __init__(self, frame: _Frame | None) -> None:
        super().__init__()
        self.frame = frame


def class_tokens(cls: ast.ClassDef, *, own_only: bool) -> tuple[list[str], int]:
    """Tokens of a class: bases plus body; `own_only` leaves out nested defs."""
    out: list[str] = []
    parts: list[ast.AST] = [*cls.bases, *cls.keywords]
    body = strip_docstring(cls.body)
    if own_only:
        body = [s for s in body if not isinstance(s, (*_FUNCS, ast.ClassDef))]
    _tokens(parts, None, out)
    size = _tokens(body, None, out)
    return out, size
