"""Side B for Python: new code that uses a symbol in its OLD form.

B's code is a small, fully annotated function (so mypy checks its body) placed in one of
three spots: appended to the target's own module, appended to a module that already uses
the target, or in a new module next to the target's. Its parameters copy the target's
required parameters with their annotations, so the call is well typed on the base.
"""

from __future__ import annotations

import ast
import contextlib
import random
import re
from dataclasses import dataclass

from common import Edits
from py_edit import Skip, absolute_module, segment
from py_index import BUILTIN_NAMES, Definition, Module, PyIndex, base_name

LOCATIONS = ("same-module", "caller-module", "new-module")
SUFFIXES = ("_checked", "_or_default", "_for_session", "_in_plugin", "_safely", "_twice", "_now")
NEW_FILE_SUFFIXES = ("support", "extras", "compat", "helpers", "glue")


@dataclass
class Use:
    edits: Edits
    path: str
    location: str
    summary: str
    helper: str


def make_use(
    index: PyIndex, target: Definition, shape: str, rng: random.Random, location: str
) -> Use:
    """B's new code using `target` the old way; `shape` says how (call, type, read, ...)."""
    if location == "same-module":
        host: Module | None = target.module
    elif location == "caller-module":
        callers = sorted({o.path for o in index.uses(target)} - {target.module.path})
        callers = [p for p in callers if p.startswith(index.package + "/")]
        if not callers:
            raise Skip("no other module uses the target")
        host = index.modules[rng.choice(callers)]
    else:
        host = None
    if shape == "subclass":
        snake = re.sub(r"(?<!^)(?=[A-Z])", "_", target.name.strip("_")).lower()
        options = [f"make_{snake}{s}" for s in rng.sample(SUFFIXES, len(SUFFIXES))]
    else:
        options = [target.name.strip("_") + s for s in rng.sample(SUFFIXES, len(SUFFIXES))]
    helper = _fresh(index, options)
    needs: set[str] = set()
    if shape == "subclass":
        code, needs = _subclass(index, target, helper)
    else:
        code, needs = _function(index, target, shape, helper)
    imports = _imports(index, target, needs, host)
    if host is None:
        directory, stem = target.module.path.rsplit("/", 1)
        stem = stem[:-3] if stem != "__init__.py" else directory.rsplit("/", 1)[-1]
        names = [f"{directory}/{stem.strip('_')}_{s}.py" for s in NEW_FILE_SUFFIXES]
        path = next((p for p in names if p not in index.modules), None)
        if path is None:
            raise Skip("no free file name")
        doc = (
            f'"""Helpers around {target.module.name}."""\n\nfrom __future__ import annotations\n\n'
        )
        text = doc + "".join(line + "\n" for line in imports) + ("\n\n" if imports else "\n") + code
        what = f"new file {path}"
    else:
        path = host.path
        head = host.text if host.text.endswith("\n") else host.text + "\n"
        block = "".join(line + "\n" for line in imports)
        text = head + "\n\n" + block + ("\n\n" if block else "") + code
        what = f"{location} {path}"
    summary = {
        "call": f"adds {helper}() calling {target.name}() the old way",
        "type": f"adds {helper}() using class {target.name} as a type",
        "read": f"adds {helper}() reading attribute {target.name}",
        "unpack": f"adds {helper}() unpacking the tuple {target.name}() returns",
        "value": f"adds {helper}() using the value {target.name}() returns",
        "subclass": (
            f"adds class {_class_name(helper)}({target.name}) and {helper}() instantiating it"
        ),
    }[shape]
    return Use({path: text}, path, location, f"{summary} in {what}", helper)


def _fresh(index: PyIndex, options: list[str]) -> str:
    for name in options:
        if name not in index.occurrences and name.isidentifier():
            return name
    raise Skip("no fresh helper name")


def _names_in(node: ast.AST | None) -> set[str]:
    found: set[str] = set()
    if node is None:
        return found
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            found.add(sub.id)
        elif isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            with contextlib.suppress(SyntaxError):
                found |= _names_in(ast.parse(sub.value, mode="eval"))
    return found


def _function(index: PyIndex, target: Definition, shape: str, helper: str) -> tuple[str, set[str]]:
    module = target.module
    if target.kind == "class":
        return (
            f"def {helper}(items: list[{target.name}]) -> int:\n    return len(items)\n",
            {target.name},
        )
    if target.kind == "attribute":
        assert target.cls is not None
        return (
            f"def {helper}(obj: {target.cls.name}) -> object:\n    return obj.{target.name}\n",
            {target.cls.name},
        )
    node = target.node
    assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    if isinstance(node, ast.AsyncFunctionDef):
        raise Skip("async")
    args = node.args
    positional = args.posonlyargs + args.args
    decorators = {getattr(d, "id", None) for d in node.decorator_list}
    if "property" in decorators:
        raise Skip("property")
    params: list[str] = []
    call_args: list[str] = []
    needs: set[str] = set()
    if target.kind == "method":
        assert target.cls is not None
        if "staticmethod" not in decorators:
            positional = positional[1:]
        if decorators & {"staticmethod", "classmethod"}:
            callee = f"{target.cls.name}.{target.name}"
        else:
            params.append(f"obj: {target.cls.name}")
            callee = f"obj.{target.name}"
        needs.add(target.cls.name)
    else:
        callee = target.name
        needs.add(target.name)
    required = positional[: len(positional) - len(args.defaults)] if args.defaults else positional
    for arg in required:
        params.append(arg.arg + (f": {segment(module, arg.annotation)}" if arg.annotation else ""))
        call_args.append(arg.arg)
        needs |= _names_in(arg.annotation)
    for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        if default is None:
            params.append(
                arg.arg + (f": {segment(module, arg.annotation)}" if arg.annotation else "")
            )
            call_args.append(f"{arg.arg}={arg.arg}")
            needs |= _names_in(arg.annotation)
    call = f"{callee}({', '.join(call_args)})"
    returns = segment(module, node.returns) if node.returns is not None else None
    if shape == "unpack":
        assert returns is not None
        elts = node.returns.slice.elts  # type: ignore[union-attr]
        names = [f"part{i}" for i in range(len(elts))]
        body = f"    {', '.join(names)} = {call}\n    return {', '.join(names)}\n"
        needs |= _names_in(node.returns)
    elif returns is not None and returns != "None":
        body = f"    return {call}\n"
        needs |= _names_in(node.returns)
    else:
        body, returns = f"    {call}\n", "None"
    return f"def {helper}({', '.join(params)}) -> {returns}:\n{body}", needs


def _class_name(helper: str) -> str:
    return "".join(p.capitalize() for p in helper.removeprefix("make_").split("_"))


def _is_abstract(item: ast.stmt) -> bool:
    return isinstance(item, ast.FunctionDef) and any(
        (getattr(d, "id", None) or getattr(d, "attr", None)) == "abstractmethod"
        for d in item.decorator_list
    )


def _abstract_methods(index: PyIndex, target: Definition) -> list[tuple[Module, ast.FunctionDef]]:
    """Methods still abstract in the target class: the nearest definition in its bases wins."""
    seen: dict[str, tuple[Module, ast.stmt]] = {}
    queue: list[tuple[Module, ast.ClassDef]] = [(target.module, target.node)]  # type: ignore[list-item]
    visited: set[int] = set()
    while queue:
        module, cls = queue.pop(0)
        if id(cls) in visited:
            continue
        visited.add(id(cls))
        for item in cls.body:
            if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                seen.setdefault(item.name, (module, item))
            elif isinstance(item, ast.Assign | ast.AnnAssign):
                targets = item.targets if isinstance(item, ast.Assign) else [item.target]
                for t in targets:
                    if isinstance(t, ast.Name):
                        seen.setdefault(t.id, (module, item))
        for base in cls.bases:
            name = base_name(base)
            for occ in index.occurrences.get(name or "", []):
                if occ.kind == "def" and isinstance(occ.node, ast.ClassDef):
                    queue.append((index.modules[occ.path], occ.node))
    return [(m, item) for m, item in seen.values() if _is_abstract(item)]  # type: ignore[misc]


def _subclass(index: PyIndex, target: Definition, helper: str) -> tuple[str, set[str]]:
    """A new subclass that implements today's abstract methods, and a factory for it."""
    module = target.module
    cls = target.node
    assert isinstance(cls, ast.ClassDef)
    if getattr(cls, "type_params", None):
        raise Skip("generic class")
    needs = {target.name, "Any"}
    name = _class_name(helper)
    methods: list[str] = []
    for owner, item in _abstract_methods(index, target):
        if owner is not module:
            raise Skip("inherits an abstract method from another module")
        start = module.t.offset(item.lineno, item.col_offset)
        header = module.text[
            start : module.t.offset(item.body[0].lineno, item.body[0].col_offset)
        ].rstrip()
        if not header.endswith(":") or ("\n" in header and '"""' in header):
            raise Skip("unusual abstract method header")
        header = "\n".join(
            line[item.col_offset :] if line[: item.col_offset].isspace() else line
            for line in header.split("\n")
        )
        extra = [
            d
            for d in item.decorator_list
            if (getattr(d, "id", None) or getattr(d, "attr", None)) != "abstractmethod"
        ]
        if extra:
            raise Skip("decorated abstract method")
        methods.append(
            "    " + header.replace("\n", "\n    ") + "\n        raise NotImplementedError()\n"
        )
        needs |= _names_in(item.args) | _names_in(item.returns)
    body = "\n".join(methods) if methods else "    pass\n"
    code = (
        f"class {name}({target.name}):\n"
        f'    """A {target.name} for a new backend."""\n\n{body}\n\n'
        f"def {helper}(*args: Any, **kwargs: Any) -> {target.name}:\n"
        f"    return {name}(*args, **kwargs)\n"
    )
    return code, needs


def _imports(index: PyIndex, target: Definition, needs: set[str], host: Module | None) -> list[str]:
    """Import lines that make `needs` resolve in the host module (None: a new module)."""
    source = target.module
    lines: list[str] = []
    for name in sorted(needs):
        if host is not None and name in host.bindings:
            continue
        if name == "Any" and name not in source.bindings:
            lines.append("from typing import Any")
            continue
        if name not in source.bindings:
            if name in BUILTIN_NAMES:
                continue
            raise Skip(f"cannot import {name}")
        if host is source:
            continue
        binding = source.bindings[name]
        if isinstance(binding, ast.Import):
            alias = next(a for a in binding.names if (a.asname or a.name.split(".")[0]) == name)
            lines.append(f"import {alias.name}" + (f" as {alias.asname}" if alias.asname else ""))
        elif isinstance(binding, ast.ImportFrom):
            alias = next(a for a in binding.names if (a.asname or a.name) == name)
            lines.append(
                f"from {absolute_module(source, binding)} import {alias.name}"
                + (f" as {alias.asname}" if alias.asname else "")
            )
        else:
            lines.append(f"from {source.name} import {name}")
    return sorted(set(lines))
