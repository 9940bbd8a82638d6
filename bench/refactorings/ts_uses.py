"""Side B for TypeScript: new, exported code that uses a symbol in its OLD form.

B's code goes at the end of the target's own file or in a new file beside it, importing
what it names from the target's file (or from where that file imports it). Its
parameters copy the target's required parameters with their types, so on the base the
call is well typed.
"""

from __future__ import annotations

import random

from py_edit import Skip
from py_uses import Use
from tree_sitter import Node
from ts_index import TsDefinition, TsIndex, TsModule

SUFFIXES = ("Checked", "OrDefault", "ForRequest", "Safely", "Now", "Twice")
FILE_SUFFIXES = ("extras", "helpers", "support", "compat")


def make_use(
    index: TsIndex, target: TsDefinition, shape: str, rng: random.Random, location: str
) -> Use:
    base = target.name[0].lower() + target.name[1:]
    options = [base + s for s in rng.sample(SUFFIXES, len(SUFFIXES))]
    helper = next((o for o in options if o not in index.occurrences), None)
    if helper is None:
        raise Skip("no fresh helper name")
    if shape == "implements":
        code, types, values = _implementer(target, helper[0].upper() + helper[1:])
    else:
        code, types, values = _function(target, shape, helper)
    module = target.module
    if location == "same-module":
        text = module.source.decode("utf-8").rstrip("\n") + "\n\n" + code
        path, what = module.path, f"end of {module.path}"
    else:
        directory, name = module.path.rsplit("/", 1)
        stem = name.rsplit(".", 1)[0]
        candidates = [f"{directory}/{stem}-{s}.ts" for s in FILE_SUFFIXES]
        path = next((p for p in candidates if p not in index.modules), "")
        if not path:
            raise Skip("no free file name")
        imports = _imports(module, stem, types, values)
        text = imports + "\n" + code
        what = f"new file {path}"
    summary = {
        "call": f"adds {helper}() calling {target.name}() the old way",
        "value": f"adds {helper}() returning {target.name}()'s value as its old type",
        "type": f"adds {helper}() checking instanceof {target.name}",
        "read": f"adds {helper}() reading field {target.name}",
        "implements": f"adds class {helper[0].upper() + helper[1:]} implementing {target.name}",
    }[shape]
    return Use({path: text}, path, location, f"{summary} in {what}", helper)


def _names(module: TsModule, node: Node | None, bound: set[str]) -> set[str]:
    found: set[str] = set()
    stack = [node] if node is not None else []
    while stack:
        current = stack.pop()
        if current.type in ("type_identifier", "identifier") and module.text(current) not in bound:
            parent = current.parent
            if (
                parent is not None
                and parent.type == "nested_type_identifier"
                and parent.named_children[-1] == current
            ):
                continue
            found.add(module.text(current))
        stack.extend(current.named_children)
    return found


def _type_params(module: TsModule, node: Node) -> tuple[str, set[str]]:
    params = node.child_by_field_name("type_parameters")
    if params is None:
        return "", set()
    names = {
        module.text(p.child_by_field_name("name"))
        for p in params.named_children
        if p.child_by_field_name("name")
    }  # type: ignore[arg-type]
    return module.text(params), names


def _owner_type(target: TsDefinition) -> tuple[str, str]:
    owner = target.owner
    assert owner is not None
    name = target.module.text(owner.child_by_field_name("name"))  # type: ignore[arg-type]
    params = owner.child_by_field_name("type_parameters")
    count = len(params.named_children) if params is not None else 0
    return name, name + (f"<{', '.join(['any'] * count)}>" if count else "")


def _modifiers(module: TsModule, node: Node) -> set[str]:
    return {
        module.text(c)
        for c in node.children
        if c.type in ("accessibility_modifier", "static", "override_modifier")
    }


def _function(target: TsDefinition, shape: str, helper: str) -> tuple[str, set[str], set[str]]:
    module = target.module
    if target.kind == "class":
        return (
            f"export const {helper} = (value: unknown): boolean =>"
            f" value instanceof {target.name}\n",
            set(),
            {target.name},
        )
    if target.kind == "field":
        mods = _modifiers(module, target.node)
        if mods & {"private", "protected"}:
            raise Skip("private field")
        owner, owner_type = _owner_type(target)
        if "static" in mods:
            return f"export const {helper} = () => {owner}.{target.name}\n", set(), {owner}
        return f"export const {helper} = (obj: {owner_type}) => obj.{target.name}\n", {owner}, set()
    func = (
        target.node.child_by_field_name("value")
        if target.node.type == "variable_declarator"
        else target.node
    )
    assert func is not None
    type_params, bound = _type_params(module, func)
    params = func.child_by_field_name("parameters")
    if params is None:
        raise Skip("no parameters")
    declared: list[str] = []
    passed: list[str] = []
    types: set[str] = set()
    values: set[str] = set()
    if target.kind == "method":
        mods = _modifiers(module, target.node)
        if mods & {"private", "protected"}:
            raise Skip("private method")
        owner, owner_type = _owner_type(target)
        if "static" in mods:
            callee = f"{owner}.{target.name}"
            values.add(owner)
        else:
            declared.append(f"obj: {owner_type}")
            callee = f"obj.{target.name}"
            types.add(owner)
    else:
        callee = target.name
        values.add(target.name)
    for i, item in enumerate(p for p in params.named_children if p.type != "comment"):
        pattern = item.child_by_field_name("pattern")
        if item.type != "required_parameter" or item.child_by_field_name("value") is not None:
            break
        if (
            pattern is None
            or pattern.type == "rest_pattern"
            or module.text(item).startswith("this")
        ):
            break
        annotation = item.child_by_field_name("type")
        if annotation is None:
            raise Skip("untyped parameter")
        name = module.text(pattern) if pattern.type == "identifier" else f"arg{i}"
        declared.append(f"{name}{module.text(annotation)}")
        passed.append(name)
        types |= _names(module, annotation, bound)
    returns = func.child_by_field_name("return_type")
    ret = module.text(returns) if returns is not None else ""
    types |= _names(module, returns, bound)
    if type_params:
        types |= _names(module, func.child_by_field_name("type_parameters"), bound)
    head = f"export function {helper}{type_params}({', '.join(declared)}){ret}"
    code = f"{head} {{\n  return {callee}({', '.join(passed)})\n}}\n"
    return code, types, values


def _implementer(target: TsDefinition, name: str) -> tuple[str, set[str], set[str]]:
    module = target.module
    type_params, bound = _type_params(module, target.node)
    body = target.node.child_by_field_name("body")
    assert body is not None
    members: list[str] = []
    types: set[str] = set()
    for member in body.named_children:
        if member.type == "comment":
            continue
        member_name = member.child_by_field_name("name")
        if member_name is None or member_name.type != "property_identifier":
            raise Skip("interface has signatures a class cannot copy simply")
        optional = any(c.type == "?" for c in member.children)
        if optional:
            continue
        if member.type == "property_signature":
            annotation = member.child_by_field_name("type")
            if annotation is None:
                raise Skip("untyped property")
            readonly = "readonly " if any(c.type == "readonly" for c in member.children) else ""
            members.append(
                f"  declare {readonly}{module.text(member_name)}{module.text(annotation)}"
            )
            types |= _names(module, annotation, bound)
        elif member.type == "method_signature":
            m_types, m_bound = _type_params(module, member)
            params = member.child_by_field_name("parameters")
            returns = member.child_by_field_name("return_type")
            if params is None or returns is None:
                raise Skip("method signature without types")
            declared = []
            for i, item in enumerate(p for p in params.named_children if p.type != "comment"):
                annotation = item.child_by_field_name("type")
                pattern = item.child_by_field_name("pattern")
                rest = pattern is not None and pattern.type == "rest_pattern"
                mark = "?" if item.type == "optional_parameter" else ""
                declared.append(
                    ("..." if rest else "")
                    + f"_arg{i}{mark}"
                    + (module.text(annotation) if annotation else ": unknown")
                )
                types |= _names(module, annotation, bound | m_bound)
            types |= _names(module, returns, bound | m_bound)
            types |= _names(module, member.child_by_field_name("type_parameters"), bound)
            members.append(
                f"  {module.text(member_name)}{m_types}({', '.join(declared)})"
                f"{module.text(returns)} {{\n"
                f"    throw new Error('{name}.{module.text(member_name)} is not implemented')\n  }}"
            )
        else:
            raise Skip(f"interface member {member.type}")
    args = ", ".join(sorted(bound, key=type_params.find)) if type_params else ""
    implements = target.name + (f"<{args}>" if args else "")
    code = (
        f"export class {name}{type_params} implements {implements} {{\n"
        + "\n\n".join(members)
        + "\n}\n"
    )
    return code, types | {target.name}, set()


def _imports(module: TsModule, stem: str, types: set[str], values: set[str]) -> str:
    """Import lines for a new file beside `module`, naming what B's code uses."""
    exported, imported = _scope(module)
    by_spec: dict[tuple[str, bool], set[str]] = {}
    for name in sorted(types | values):
        type_only = name not in values
        if name in exported:
            by_spec.setdefault((f"./{stem}", type_only), set()).add(name)
        elif name in imported:
            spec, original = imported[name]
            by_spec.setdefault((spec, type_only), set()).add(
                name if original == name else f"{original} as {name}"
            )
        elif name in _declared(module):
            raise Skip(f"{name} is not exported")
    lines = []
    for (spec, type_only), names in sorted(by_spec.items()):
        keyword = "import type" if type_only else "import"
        lines.append(f"{keyword} {{ {', '.join(sorted(names))} }} from '{spec}'\n")
    return "".join(lines)


def _declared(module: TsModule) -> set[str]:
    names = set()
    for statement in module.tree.named_children:
        decl = (
            statement.child_by_field_name("declaration")
            if statement.type == "export_statement"
            else statement
        )
        if decl is None:
            continue
        name = decl.child_by_field_name("name")
        if name is not None:
            names.add(module.text(name))
        for declarator in decl.named_children if decl.type == "lexical_declaration" else []:
            n = declarator.child_by_field_name("name")
            if n is not None:
                names.add(module.text(n))
    return names


def _scope(module: TsModule) -> tuple[set[str], dict[str, tuple[str, str]]]:
    exported: set[str] = set()
    imported: dict[str, tuple[str, str]] = {}
    for statement in module.tree.named_children:
        if statement.type == "export_statement":
            decl = statement.child_by_field_name("declaration")
            if decl is not None:
                name = decl.child_by_field_name("name")
                if name is not None:
                    exported.add(module.text(name))
                for declarator in decl.named_children if decl.type == "lexical_declaration" else []:
                    n = declarator.child_by_field_name("name")
                    if n is not None:
                        exported.add(module.text(n))
        elif statement.type == "import_statement":
            source = statement.child_by_field_name("source")
            if source is None:
                continue
            spec = module.text(source).strip("'\"")
            for node in _walk(statement):
                if node.type == "import_specifier":
                    original = node.child_by_field_name("name")
                    alias = node.child_by_field_name("alias") or original
                    if original is not None and alias is not None:
                        imported[module.text(alias)] = (spec, module.text(original))
    return exported, imported


def _walk(node: Node) -> list[Node]:
    out, stack = [], [node]
    while stack:
        current = stack.pop()
        out.append(current)
        stack.extend(current.named_children)
    return out
