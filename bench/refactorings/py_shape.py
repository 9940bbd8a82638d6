"""Side A for Python: change a function's return shape and update its callers.

- a tuple becomes a frozen dataclass: `a, b = f()` becomes `r = f()` then
  `a, b = r.a, r.b`, and `f()[i]` becomes `f().<field i>`;
- any other value becomes an object holding it: `f()` becomes `f().value`.
The compatible variant returns a `NamedTuple`, which still unpacks and indexes.
"""

from __future__ import annotations

import ast
import random

from py_edit import Changes, Skip, node_span, owns_lines, segment
from py_index import Definition, Module, PyIndex, definition_span, indent_of
from py_refactor import Refactoring, calls_only, fresh

NOT_VALUES = {
    "None",
    "NoReturn",
    "Never",
    "Any",
    "object",
    "Iterator",
    "Generator",
    "Iterable",
    "AsyncIterator",
}


def change_return_shape(
    index: PyIndex, target: Definition, rng: random.Random, compatible: bool
) -> Refactoring:
    node = target.node
    if not isinstance(node, ast.FunctionDef) or node.returns is None:
        raise Skip("no return annotation")
    if any(isinstance(d, ast.Name) and d.id == "property" for d in node.decorator_list):
        raise Skip("property")
    if any(isinstance(n, ast.Yield | ast.YieldFrom) for n in _own_nodes(node)):
        raise Skip("generator")
    module = target.module
    calls = calls_only(index, target)
    elements = _tuple_elements(node.returns)
    if elements is None:
        if compatible:
            raise Skip("no compatible value shape")
        if _root_name(node.returns) in NOT_VALUES or isinstance(node.returns, ast.Constant):
            raise Skip("not a plain value")
        fields = ["value"]
        annotations = [segment(module, node.returns)]
    else:
        fields = _field_names(index, calls, len(elements))
        annotations = [segment(module, e) for e in elements]
    camel = "".join(part.capitalize() for part in target.name.strip("_").split("_"))
    result = fresh(index, [f"{camel}Result", f"{camel}Outcome", f"{camel}Info"])
    changes = Changes(index)
    changes.replace(module.path, *node_span(module, node.returns), result)
    returns = [n for n in _own_nodes(node) if isinstance(n, ast.Return)]
    if not returns or any(r.value is None for r in returns):
        raise Skip("bare return")
    for ret in returns:
        assert ret.value is not None
        value = ret.value
        if elements is None:
            text = f"{result}({segment(module, value)})"
        elif isinstance(value, ast.Tuple) and len(value.elts) == len(elements):
            text = f"{result}({', '.join(segment(module, e) for e in value.elts)})"
        else:
            text = f"{result}(*{segment(module, value)})"
        changes.replace(module.path, *node_span(module, value), text)
    _add_result_class(
        changes, index, target, result, fields, annotations, compatible and elements is not None
    )
    if not compatible:
        for caller, call in calls:
            _update_caller(changes, caller, call, fields, target.name, elements is not None)
    if compatible:
        summary = f"made {target.qualname} return a NamedTuple {result} instead of a bare tuple"
    elif elements is None:
        summary = (
            f"made {target.qualname} return a {result} object (its old value in .value);"
            " callers read .value"
        )
    else:
        summary = (
            f"made {target.qualname} return a dataclass {result} instead of a tuple;"
            " callers read its fields"
        )
    facts = {"result": result, "fields": fields, "tuple": elements is not None}
    return Refactoring("return-shape", target, changes.result(), summary, compatible, facts)


def _own_nodes(func: ast.FunctionDef) -> list[ast.AST]:
    """Nodes of the function's body, not of nested functions, classes or lambdas."""
    found: list[ast.AST] = []
    stack: list[ast.AST] = list(func.body)
    while stack:
        node = stack.pop()
        found.append(node)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            continue
        stack.extend(ast.iter_child_nodes(node))
    return found


def _root_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Subscript):
        node = node.value
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value.split("[")[0].split(".")[-1]
    return None


def _tuple_elements(node: ast.expr) -> list[ast.expr] | None:
    if isinstance(node, ast.Subscript) and _root_name(node) in ("tuple", "Tuple"):
        inner = node.slice
        ellipsis = any(isinstance(e, ast.Constant) and e.value is Ellipsis for e in inner.elts)
        if isinstance(inner, ast.Tuple) and len(inner.elts) >= 2 and not ellipsis:
            return list(inner.elts)
    return None


def _field_names(index: PyIndex, calls: list[tuple[Module, ast.Call]], count: int) -> list[str]:
    for caller, call in calls:
        assign = caller.parent(call)
        if isinstance(assign, ast.Assign) and isinstance(assign.targets[0], ast.Tuple):
            names = [
                e.id.strip("_") if isinstance(e, ast.Name) else "" for e in assign.targets[0].elts
            ]
            if all(n.isidentifier() for n in names) and len(set(names)) == count:
                return names
    return [f"item{i}" for i in range(count)]


def _add_result_class(
    changes: Changes,
    index: PyIndex,
    target: Definition,
    result: str,
    fields: list[str],
    annotations: list[str],
    named_tuple: bool,
) -> None:
    module = target.module
    anchor = target.cls or target.node
    first, _ = definition_span(module, anchor)
    if named_tuple:
        if isinstance(module.bindings.get("typing"), ast.Import):
            head = f"class {result}(typing.NamedTuple):"
        else:
            head = f"class {result}(NamedTuple):"
            if "NamedTuple" not in module.bindings:
                changes.add_import(module, "from typing import NamedTuple")
    else:
        if isinstance(module.bindings.get("dataclasses"), ast.Import):
            decorator = "@dataclasses.dataclass(frozen=True)"
        elif "dataclass" in module.bindings:
            decorator = "@dataclass(frozen=True)"
        else:
            decorator = "@dataclasses.dataclass(frozen=True)"
            changes.add_import(module, "import dataclasses")
        head = f"{decorator}\nclass {result}:"
    doc = f'    """What {target.name}() returns."""\n\n'
    body = "".join(f"    {name}: {ann}\n" for name, ann in zip(fields, annotations, strict=True))
    changes.insert_lines_after(module, first - 1, f"{head}\n{doc}{body}\n\n")


def _update_caller(
    changes: Changes, caller: Module, call: ast.Call, fields: list[str], name: str, tuple_: bool
) -> None:
    parent = caller.parent(call)
    call_text = segment(caller, call)
    if not tuple_:
        changes.insert(caller.path, node_span(caller, call)[1], ".value")
        return
    if isinstance(parent, ast.Subscript) and parent.value is call:
        index = parent.slice
        if (
            isinstance(index, ast.Constant)
            and isinstance(index.value, int)
            and 0 <= index.value < len(fields)
        ):
            changes.replace(
                caller.path,
                node_span(caller, call)[1],
                node_span(caller, parent)[1],
                "." + fields[index.value],
            )
            return
    if (
        isinstance(parent, ast.Assign)
        and len(parent.targets) == 1
        and isinstance(parent.targets[0], ast.Tuple)
        and len(parent.targets[0].elts) == len(fields)
        and owns_lines(caller, parent)
    ):
        indent = indent_of(caller.t.lines[parent.lineno - 1])
        var = f"{name.strip('_')}_result"
        reads = ", ".join(f"{var}.{f}" for f in fields)
        text = (
            f"{indent}{var} = {call_text}\n{indent}{segment(caller, parent.targets[0])} = {reads}\n"
        )
        changes.delete_lines(caller, parent.lineno, parent.end_lineno or parent.lineno, text)
        return
    raise Skip("a caller uses the tuple another way")
