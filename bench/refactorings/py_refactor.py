"""Side A for Python: real, self-consistent refactorings applied to a real package.

Every function takes an unambiguous target (see `py_index`) and returns A's edits plus
the facts side B needs (new name, new parameter, ...). `compatible=True` gives the
variant that keeps old code working (an alias, an optional parameter, a re-export, a
concrete method, a NamedTuple), used for negative cases.
"""

from __future__ import annotations

import ast
import random
from dataclasses import dataclass, field
from typing import Any

from common import Edits
from py_edit import (
    Changes,
    Skip,
    absolute_module,
    drop_import_alias,
    node_span,
    owns_lines,
)
from py_index import Definition, Module, PyIndex, definition_span, indent_of, statement_of

PARAM_NAMES = ("strict", "verbose", "force", "quiet", "eager", "dry_run", "check", "reuse")
MEMBER_NAMES = (
    "describe",
    "reset_state",
    "validate",
    "close_resources",
    "snapshot",
    "summary_line",
)
RENAMES = (
    ("get_", "fetch_"),
    ("make_", "build_"),
    ("is_", "has_"),
    ("_get_", "_fetch_"),
    ("check_", "verify_"),
)


@dataclass
class Refactoring:
    kind: str
    target: Definition
    edits: Edits
    summary: str
    compatible: bool
    facts: dict[str, Any] = field(default_factory=dict)


def fresh(index: PyIndex, candidates: list[str]) -> str:
    for name in candidates:
        if name not in index.occurrences and name.isidentifier():
            return name
    raise Skip("no fresh name")


def new_name_for(index: PyIndex, name: str) -> str:
    options = []
    for old, new in RENAMES:
        if name.startswith(old):
            options.append(new + name[len(old) :])
    if name[0].isupper():
        options += [name + "Impl", "Base" + name.lstrip("_"), name + "V2"]
    else:
        options += [name + "_impl", name + "_for", name + "_v2"]
    return fresh(index, options)


def calls_only(index: PyIndex, target: Definition) -> list[tuple[Module, ast.Call]]:
    """Every use of the target is the callee of a call; return those calls."""
    calls = []
    for occ in index.uses(target):
        module = index.module_of(occ)
        parent = module.parent(occ.node)
        if not (isinstance(parent, ast.Call) and parent.func is occ.node):
            raise Skip("used other than called")
        calls.append((module, parent))
    return calls


# ---------------------------------------------------------------- rename


def rename(index: PyIndex, target: Definition, rng: random.Random, compatible: bool) -> Refactoring:
    new = new_name_for(index, target.name)
    changes = Changes(index)
    for occ in index.all_occurrences(target):
        if occ.kind == "unreliable":
            raise Skip("occurrence not found in text")
        changes.replace(occ.path, occ.start, occ.end, new)
    how = "keeps an alias to the old name"
    if compatible:
        module = target.module
        if target.kind == "attribute":
            stmt = statement_of(module, target.node)
            assert stmt is not None
            last, indent = (
                stmt.end_lineno or stmt.lineno,
                indent_of(module.t.lines[stmt.lineno - 1]),
            )
        else:
            last = target.node.end_lineno or target.node.lineno  # type: ignore[attr-defined]
            indent = indent_of(module.t.lines[target.node.lineno - 1])  # type: ignore[attr-defined]
        changes.insert_lines_after(module, last, f"{indent}{target.name} = {new}\n")
    kind = "rename-attribute" if target.kind == "attribute" else "rename"
    what = {"attribute": "class attribute", "class": "class"}.get(target.kind, target.kind)
    summary = f"renamed {what} {target.qualname} to {new}" + (f" and {how}" if compatible else "")
    summary += f", updating {len(index.uses(target))} uses"
    return Refactoring(kind, target, changes.result(), summary, compatible, {"new_name": new})


# ---------------------------------------------------------------- add a parameter


def add_parameter(
    index: PyIndex, target: Definition, rng: random.Random, compatible: bool
) -> Refactoring:
    node = target.node
    assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    calls = calls_only(index, target)
    existing = {a.arg for a in ast.walk(node.args) if isinstance(a, ast.arg)}
    name = next((p for p in rng.sample(PARAM_NAMES, len(PARAM_NAMES)) if p not in existing), None)
    if name is None:
        raise Skip("no fresh parameter name")
    module = target.module
    changes = Changes(index)
    args = node.args
    kwonly = bool(args.kwonlyargs or args.vararg)
    decl = f"{name}: bool" + (" = False" if compatible else "")
    if args.kwarg is not None:
        star = module.text.rfind("**", 0, module.t.offset(args.kwarg.lineno, args.kwarg.col_offset))
        changes.insert(module.path, star, (decl if kwonly else f"*, {decl}") + ", ")
    else:
        ends: list[ast.AST] = [*args.posonlyargs, *args.args, *args.defaults]
        ends += (
            [a for a in (args.vararg,) if a] + args.kwonlyargs + [d for d in args.kw_defaults if d]
        )
        if not ends:
            paren = module.text.index("(", module.t.offset(node.lineno, node.col_offset))
            changes.insert(module.path, paren + 1, f"*, {decl}")
        else:
            last = max(ends, key=lambda n: (n.end_lineno, n.end_col_offset))  # type: ignore[attr-defined]
            offset = node_span(module, last)[1]
            if (
                args.posonlyargs
                and not args.args
                and not kwonly
                and last in (*args.posonlyargs, *args.defaults)
            ):
                offset = module.text.index("/", offset) + 1
            changes.insert(module.path, offset, f", {decl}" if kwonly else f", *, {decl}")
    if not compatible:
        for caller, call in calls:
            if (
                len(call.args) == 1
                and isinstance(call.args[0], ast.GeneratorExp)
                and not call.keywords
            ):
                raise Skip("bare generator argument")
            end = node_span(caller, call)[1] - 1
            before = caller.text[:end].rstrip()
            glue = "" if before.endswith(("(", ",")) else ", "
            if before.endswith(","):
                glue = " "
            changes.insert(caller.path, len(before), f"{glue}{name}=False")
    which = "an optional" if compatible else "a required"
    summary = f"added {which} keyword parameter `{decl}` to {target.qualname}"
    if not compatible:
        summary += f" and passed {name}=False at its {len(calls)} call sites"
    return Refactoring(
        "add-parameter", target, changes.result(), summary, compatible, {"param": name}
    )


# ---------------------------------------------------------------- remove


def remove(index: PyIndex, target: Definition, rng: random.Random, compatible: bool) -> Refactoring:
    if target.kind not in ("function", "method"):
        raise Skip("only functions and methods are removed")
    calls = calls_only(index, target)
    changes = Changes(index)
    module = target.module
    first, last = definition_span(module, target.node)
    if target.cls is not None and len(target.cls.body) == 1:
        raise Skip("class would be empty")
    changes.delete_definition(module, first, last)
    groups: dict[int, tuple[Module, list[ast.stmt], list[ast.stmt]]] = {}
    for caller, call in calls:
        stmt = caller.parent(call)
        if not isinstance(stmt, ast.Expr) or not owns_lines(caller, stmt):
            raise Skip("a call's value is used")
        if caller is module and first <= stmt.lineno <= last:
            continue  # a recursive call goes with the definition
        body = next(b for b in _bodies(caller.parent(stmt)) if stmt in b)
        groups.setdefault(id(body), (caller, body, []))[2].append(stmt)
    for caller, body, removed in groups.values():
        for i, stmt in enumerate(sorted(removed, key=lambda s: s.lineno)):
            # A block left empty keeps a `pass`.
            keep = (
                indent_of(caller.t.lines[stmt.lineno - 1]) + "pass\n"
                if i == 0 and len(removed) == len(body)
                else ""
            )
            changes.delete_lines(caller, stmt.lineno, stmt.end_lineno or stmt.lineno, keep)
    for occ in index.all_occurrences(target):
        caller = index.module_of(occ)
        if occ.kind == "import":
            stmt = statement_of(caller, occ.node)
            assert isinstance(stmt, ast.ImportFrom)
            drop_import_alias(changes, caller, stmt, target.name)
        elif occ.kind == "all":
            line = caller.t.line_of(occ.start)
            if caller.t.lines[line - 1].strip().strip(",").strip("\"'") != target.name:
                raise Skip("__all__ entry shares its line")
            changes.delete_lines(caller, line, line)
    summary = f"removed {target.kind} {target.qualname} and the {len(calls)} statements calling it"
    return Refactoring("remove", target, changes.result(), summary, compatible)


def _bodies(node: ast.AST | None) -> list[list[ast.stmt]]:
    found = []
    for name in ("body", "orelse", "finalbody"):
        value = getattr(node, name, None)
        if isinstance(value, list):
            found.append(value)
    return found


# ---------------------------------------------------------------- move to another module


def move(index: PyIndex, target: Definition, rng: random.Random, compatible: bool) -> Refactoring:
    if target.kind != "function":
        raise Skip("only module-level functions move")
    source = target.module
    if any(o.kind == "attr" for o in index.uses(target)):
        raise Skip("used as module attribute")
    callers = sorted({o.path for o in index.uses(target)} - {source.path})
    siblings = sorted(
        p
        for p, m in index.modules.items()
        if p.rsplit("/", 1)[0] == source.path.rsplit("/", 1)[0]
        and p != source.path
        and not p.endswith("__init__.py")
    )
    options = [p for p in callers if p.startswith(index.package + "/")] or siblings
    if not options:
        raise Skip("nowhere to move to")
    dest = index.modules[rng.choice(options)]
    changes = Changes(index)
    first, last = definition_span(source, target.node)
    body = "".join(source.t.lines[first - 1 : last])
    changes.delete_definition(source, first, last)
    # Names the function needs from its old module come along as imports.
    needed = sorted(
        {n.id for n in ast.walk(target.node) if isinstance(n, ast.Name)} - {target.name}
    )
    imports: list[str] = []
    for name in needed:
        if name in dest.bindings or name not in source.bindings:
            continue
        binding = source.bindings[name]
        if isinstance(binding, ast.Import):
            alias = next(a for a in binding.names if (a.asname or a.name.split(".")[0]) == name)
            imports.append(f"import {alias.name}" + (f" as {alias.asname}" if alias.asname else ""))
        elif isinstance(binding, ast.ImportFrom):
            alias = next(a for a in binding.names if (a.asname or a.name) == name)
            imports.append(
                f"from {absolute_module(source, binding)} import {alias.name}"
                + (f" as {alias.asname}" if alias.asname else "")
            )
        else:
            imports.append(f"from {source.name} import {name}")
    for occ in index.all_occurrences(target):
        caller = index.module_of(occ)
        if occ.kind != "import":
            continue
        stmt = statement_of(caller, occ.node)
        assert isinstance(stmt, ast.ImportFrom)
        indent = indent_of(caller.t.lines[stmt.lineno - 1])
        alias = occ.node
        assert isinstance(alias, ast.alias)
        as_text = f" as {alias.asname}" if alias.asname else ""
        add = "" if caller is dest else f"{indent}from {dest.name} import {target.name}{as_text}\n"
        drop_import_alias(changes, caller, stmt, target.name, add)
    for line in imports:
        changes.add_import(dest, line)
    tail = (
        "" if dest.text.endswith("\n\n\n") else ("\n\n" if dest.text.endswith("\n") else "\n\n\n")
    )
    changes.insert(dest.path, len(dest.text), tail + body)
    used_in_source = any(o.path == source.path and o.kind == "name" for o in index.uses(target))
    if used_in_source and not compatible:
        # Its old module would import it back, and mypy counts that as a re-export.
        raise Skip("used in its own module")
    if used_in_source or compatible:
        changes.add_import(
            source,
            f"from {dest.name} import {target.name}" + (" as " + target.name if compatible else ""),
        )
    summary = f"moved function {target.qualname} to {dest.name} and updated its importers"
    if compatible:
        summary += f"; {source.name} re-exports it"
    return Refactoring("move", target, changes.result(), summary, compatible, {"dest": dest.name})


# ---------------------------------------------------------------- abstract member


def add_abstract_member(
    index: PyIndex, target: Definition, rng: random.Random, compatible: bool
) -> Refactoring:
    base = target.node
    if target.kind != "class" or not isinstance(base, ast.ClassDef):
        raise Skip("not a class")
    subclasses = [
        (module, node)
        for module in index.modules.values()
        for node in ast.walk(module.tree)
        if isinstance(node, ast.ClassDef) and any(_base_is(b, target.name) for b in node.bases)
    ]
    if not subclasses:
        raise Skip("no subclass")
    member = fresh(index, rng.sample(MEMBER_NAMES, len(MEMBER_NAMES)))
    changes = Changes(index)
    module = target.module
    if compatible:
        decorator = ""
    elif isinstance(module.bindings.get("abc"), ast.Import):
        decorator = "@abc.abstractmethod"
    else:
        decorator = "@abstractmethod"
        if not isinstance(module.bindings.get("abstractmethod"), ast.ImportFrom):
            changes.add_import(module, "from abc import abstractmethod")
    body = "raise NotImplementedError()" if decorator else "return None"
    _append_to_class(changes, module, base, decorator, f"def {member}(self) -> None:", body)
    if not compatible:
        for sub_module, sub in subclasses:
            _append_to_class(
                changes, sub_module, sub, "", f"def {member}(self) -> None:", "return None"
            )
    if compatible:
        summary = f"added a concrete method {member}() to {target.qualname}"
    else:
        names = ", ".join(s.name for _, s in subclasses)
        summary = (
            f"added abstract method {member}() to {target.qualname} and implemented it in {names}"
        )
    return Refactoring(
        "abstract-member", target, changes.result(), summary, compatible, {"member": member}
    )


def _base_is(node: ast.expr, name: str) -> bool:
    if isinstance(node, ast.Subscript):
        node = node.value
    return (isinstance(node, ast.Name) and node.id == name) or (
        isinstance(node, ast.Attribute) and node.attr == name
    )


def _append_to_class(
    changes: Changes, module: Module, cls: ast.ClassDef, decorator: str, head: str, body: str
) -> None:
    last = cls.body[-1]
    end = last.end_lineno or last.lineno
    if end == cls.lineno:
        raise Skip("one-line class")
    indent = indent_of(module.t.lines[cls.body[-1].lineno - 1])
    if (
        isinstance(cls.body[-1], ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        and cls.body[-1].decorator_list
    ):
        indent = indent_of(module.t.lines[cls.body[-1].decorator_list[0].lineno - 1])
    lines = [
        "",
        *([indent + decorator] if decorator else []),
        indent + head,
        indent + "    " + body,
    ]
    changes.insert_lines_after(module, end, "\n".join(lines) + "\n")
