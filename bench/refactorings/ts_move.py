"""Side A for TypeScript: move an exported function to a sibling file, with the imports its
body needs; importers (and re-exports) import it from its new file."""

from __future__ import annotations

import posixpath
import random

from py_edit import Skip
from py_refactor import Refactoring
from tree_sitter import Node
from ts_index import TsDefinition, TsIndex, TsModule, enclosing
from ts_refactor import TsChanges, _drop_specifier, _ref


def move(index: TsIndex, target: TsDefinition, rng: random.Random, compatible: bool) -> Refactoring:
    """Move an exported function to a sibling file; importers import it from there."""
    if (
        target.kind != "function"
        or target.statement is None
        or target.statement.type != "export_statement"
    ):
        raise Skip("only exported functions move")
    source = target.module
    folder = posixpath.dirname(source.path)
    siblings = sorted(
        p for p in index.modules if posixpath.dirname(p) == folder and p != source.path
    )
    importers = sorted(
        {o.path for o in index.all_occurrences(target) if o.role == "import"} - {source.path}
    )
    options = [p for p in importers if p in siblings] or [
        p for p in siblings if not p.endswith("index.ts")
    ]
    if not options:
        raise Skip("no sibling file to move to")
    dest = index.modules[rng.choice(options)]
    changes = TsChanges(index)
    statement = target.statement
    text = source.text(statement)
    prev = statement.prev_sibling
    if (
        prev is not None
        and prev.type == "comment"
        and source.source[prev.end_byte : statement.start_byte].count(b"\n") <= 1
    ):
        text = source.text(prev) + "\n" + text
    changes.delete_statement(source, statement)
    exported, imported, declared = _scope_of(source)
    _, dest_imported, dest_declared = _scope_of(dest)
    needed = sorted(
        {source.text(n) for n in _walk(statement) if n.type in ("identifier", "type_identifier")}
        - {target.name}
    )
    lines = []
    for name in needed:
        if name in dest_imported or name in dest_declared:
            continue
        if name in imported:
            spec, original, type_only = imported[name]
            alias = name if original == name else f"{original} as {name}"
            lines.append(f"import {'type ' if type_only else ''}{{ {alias} }} from '{spec}'\n")
        elif name in exported:
            lines.append(f"import {{ {name} }} from './{_stem(source.path)}'\n")
        elif name in declared:
            raise Skip(f"uses {name}, which its file does not export")
    changes.insert(dest.path, _after_imports(dest), "".join(sorted(set(lines))))
    changes.insert(
        dest.path, len(dest.source), ("\n" if dest.source.endswith(b"\n") else "\n\n") + text + "\n"
    )
    for occ in index.all_occurrences(target):
        if occ.role not in ("import", "export"):
            continue
        module = index.modules[occ.path]
        holder = enclosing(occ.node, ("import_statement", "export_statement"))
        spec_node = holder.child_by_field_name("source") if holder is not None else None
        if holder is None or spec_node is None:
            raise Skip("export without a source")
        if _resolve(module.path, module.text(spec_node).strip("'\""), index.modules) != source.path:
            continue
        _drop_specifier(changes, module, occ.node)
        if module is not dest:
            keyword = "export" if occ.role == "export" else "import"
            type_only = "type " if module.text(holder).startswith(f"{keyword} type") else ""
            changes.insert(
                module.path,
                holder.end_byte,
                f"\n{keyword} {type_only}{{ {target.name} }}"
                f" from '{_spec(module.path, dest.path)}'",
            )
    used_in_source = any(
        o.path == source.path and o.role in ("ref", "type") for o in index.uses(target)
    )
    if used_in_source:
        changes.insert(
            source.path,
            _after_imports(source),
            f"import {{ {target.name} }} from './{_stem(dest.path)}'\n",
        )
    if compatible:
        changes.insert(
            source.path,
            _after_imports(source),
            f"export {{ {target.name} }} from './{_stem(dest.path)}'\n",
        )
    summary = f"moved function {target.qualname} to {dest.path} and updated its importers"
    if compatible:
        summary += f"; {source.path} re-exports it"
    return _ref("move", target, changes, summary, compatible, dest=dest.path)


def _walk(node: Node) -> list[Node]:
    out, stack = [], [node]
    while stack:
        current = stack.pop()
        out.append(current)
        stack.extend(current.children)
    return out


def _stem(path: str) -> str:
    return posixpath.basename(path).rsplit(".", 1)[0]


def _spec(importer: str, target: str) -> str:
    rel = posixpath.relpath(target.rsplit(".", 1)[0], posixpath.dirname(importer))
    return rel if rel.startswith(".") else "./" + rel


def _resolve(importer: str, spec: str, known: dict[str, TsModule]) -> str | None:
    """The file a relative import specifier names, if it is one of ours."""
    if not spec.startswith("."):
        return None
    base = posixpath.normpath(posixpath.join(posixpath.dirname(importer), spec)).removesuffix(".ts")
    for candidate in (base + ".ts", base + "/index.ts"):
        if candidate in known:
            return candidate
    return None


def _after_imports(module: TsModule) -> int:
    end = 0
    for statement in module.tree.named_children:
        if statement.type == "import_statement":
            end = statement.end_byte + 1
        elif statement.type != "comment" and end:
            break
    return end


def _scope_of(module: TsModule) -> tuple[set[str], dict[str, tuple[str, str, bool]], set[str]]:
    exported: set[str] = set()
    declared: set[str] = set()
    imported: dict[str, tuple[str, str, bool]] = {}
    for statement in module.tree.named_children:
        decl = (
            statement.child_by_field_name("declaration")
            if statement.type == "export_statement"
            else statement
        )
        if statement.type == "import_statement":
            source = statement.child_by_field_name("source")
            if source is None:
                continue
            spec = module.text(source).strip("'\"")
            statement_type_only = module.text(statement).startswith("import type")
            for node in _walk(statement):
                if node.type == "import_specifier":
                    original = node.child_by_field_name("name")
                    alias = node.child_by_field_name("alias") or original
                    if original is not None and alias is not None:
                        type_only = statement_type_only or module.text(node).startswith("type ")
                        imported[module.text(alias)] = (spec, module.text(original), type_only)
            continue
        if decl is None:
            continue
        names = []
        if decl.child_by_field_name("name") is not None:
            names.append(module.text(decl.child_by_field_name("name")))  # type: ignore[arg-type]
        if decl.type == "lexical_declaration":
            names += [
                module.text(d.child_by_field_name("name"))
                for d in decl.named_children
                if d.child_by_field_name("name")
            ]  # type: ignore[arg-type]
        declared.update(names)
        if statement.type == "export_statement":
            exported.update(names)
    return exported, imported, declared
