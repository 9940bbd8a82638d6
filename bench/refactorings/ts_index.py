"""An index of a TypeScript project parsed with tree-sitter: definitions and name occurrences.

As for Python, targets are unambiguous names: one declaration in the project, and every
other occurrence a reference of the right sort (identifiers for functions and classes,
member properties for methods and fields, type names for interfaces). Then every
occurrence is the target, and tsc checks the refactoring.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import tree_sitter_typescript
from common import Files
from tree_sitter import Language, Node, Parser

LANGUAGE = Language(tree_sitter_typescript.language_typescript())
NAME_TYPES = {
    "identifier",
    "type_identifier",
    "property_identifier",
    "shorthand_property_identifier",
    "shorthand_property_identifier_pattern",
    "private_property_identifier",
}
DECLARATIONS = {
    "function_declaration",
    "variable_declarator",
    "class_declaration",
    "abstract_class_declaration",
    "method_definition",
    "public_field_definition",
    "interface_declaration",
    "type_alias_declaration",
    "enum_declaration",
    "function_signature",
    "method_signature",
    "property_signature",
    "abstract_method_signature",
    "required_parameter",
    "optional_parameter",
    "type_parameter",
    "import_clause",
    "namespace_import",
    "catch_clause",
    "for_in_statement",
}
# Names of built-in members: a member access with one of these may be a string's, a Map's...
COMMON = set(
    [
        "constructor",
        "toString",
        "valueOf",
        "then",
        "catch",
        "finally",
        "fetch",
        "get",
        "set",
        "has",
        "delete",
        "clear",
        "keys",
        "values",
        "entries",
        "forEach",
        "map",
        "filter",
        "reduce",
        "find",
        "some",
        "every",
        "push",
        "pop",
        "shift",
        "slice",
        "splice",
        "join",
        "split",
        "match",
        "replace",
        "test",
        "exec",
        "length",
        "size",
        "name",
        "type",
        "body",
        "headers",
        "status",
        "json",
        "text",
        "clone",
        "append",
        "close",
        "open",
        "write",
        "read",
        "send",
        "start",
        "stop",
        "run",
        "next",
        "return",
        "throw",
        "bind",
        "call",
        "apply",
        "init",
        "add",
        "remove",
        "update",
        "render",
        "create",
        "parse",
    ]
)


@dataclass
class TsOccurrence:
    path: str
    node: Node
    role: str  # decl, ref, member, key, import, export, type, shorthand, other


@dataclass
class TsModule:
    path: str
    source: bytes
    tree: Node

    def text(self, node: Node) -> str:
        return self.source[node.start_byte : node.end_byte].decode("utf-8")


@dataclass
class TsDefinition:
    kind: str  # function, method, field, class, interface
    name: str
    module: TsModule
    node: Node  # the declaration: function_declaration, variable_declarator, method_definition...
    name_node: Node
    owner: Node | None = None  # the class of a method or field
    statement: Node | None = None  # the top-level statement holding a function

    @property
    def qualname(self) -> str:
        stem = self.module.path.removeprefix("src/").rsplit(".", 1)[0]
        if self.owner is not None:
            owner = self.owner.child_by_field_name("name")
            assert owner is not None
            return f"{stem}:{self.module.text(owner)}.{self.name}"
        return f"{stem}:{self.name}"


def role_of(node: Node) -> str:
    parent = node.parent
    assert parent is not None
    ptype = parent.type
    if node.type == "property_identifier":
        if ptype == "member_expression":
            return "member"
        if ptype in (
            "method_definition",
            "public_field_definition",
            "method_signature",
            "property_signature",
        ):
            return "decl"
        return "key"
    if node.type.startswith("shorthand"):
        return "shorthand"
    if node.type == "private_property_identifier":
        return "other"
    if ptype in ("import_specifier", "export_specifier"):
        return "import" if ptype == "import_specifier" else "export"
    if ptype in DECLARATIONS and parent.child_by_field_name("name") == node:
        return "decl"
    if ptype in (
        "required_parameter",
        "optional_parameter",
        "rest_pattern",
        "import_clause",
        "namespace_import",
    ):
        return "decl"
    if ptype in (
        "array_pattern",
        "pair_pattern",
        "object_pattern",
        "assignment_pattern",
        "catch_clause",
    ):
        return "decl"
    if node.type == "type_identifier":
        return "type"
    return "ref"


class TsIndex:
    def __init__(self, files: Files) -> None:
        self.parser = Parser(LANGUAGE)
        self.modules: dict[str, TsModule] = {}
        self.occurrences: dict[str, list[TsOccurrence]] = defaultdict(list)
        for path, text in sorted(files.items()):
            if not path.endswith((".ts", ".mts")) or path.endswith(".d.ts"):
                continue
            source = text.encode("utf-8")
            tree = self.parser.parse(source).root_node
            if tree.has_error:
                continue
            module = TsModule(path, source, tree)
            self.modules[path] = module
            stack = [tree]
            while stack:
                node = stack.pop()
                if node.type in NAME_TYPES:
                    self.occurrences[module.text(node)].append(
                        TsOccurrence(path, node, role_of(node))
                    )
                stack.extend(node.children)

    def definitions(self) -> list[TsDefinition]:
        found: list[TsDefinition] = []
        for module in self.modules.values():
            for statement in module.tree.named_children:
                decl = (
                    statement.child_by_field_name("declaration")
                    if statement.type == "export_statement"
                    else statement
                )
                if decl is None:
                    continue
                if decl.type == "function_declaration":
                    name = decl.child_by_field_name("name")
                    assert name is not None
                    found.append(
                        TsDefinition(
                            "function", module.text(name), module, decl, name, None, statement
                        )
                    )
                elif decl.type == "lexical_declaration":
                    for declarator in decl.named_children:
                        value = declarator.child_by_field_name("value")
                        name = declarator.child_by_field_name("name")
                        if (
                            value is not None
                            and name is not None
                            and name.type == "identifier"
                            and value.type in ("arrow_function", "function_expression")
                            and len(decl.named_children) == 1
                        ):
                            found.append(
                                TsDefinition(
                                    "function",
                                    module.text(name),
                                    module,
                                    declarator,
                                    name,
                                    None,
                                    statement,
                                )
                            )
                elif decl.type in ("class_declaration", "abstract_class_declaration"):
                    name = decl.child_by_field_name("name")
                    assert name is not None
                    found.append(
                        TsDefinition(
                            "class", module.text(name), module, decl, name, None, statement
                        )
                    )
                    body = decl.child_by_field_name("body")
                    for member in body.named_children if body else []:
                        member_name = member.child_by_field_name("name")
                        if member_name is None or member_name.type != "property_identifier":
                            continue
                        if member.type == "method_definition" and not _is_accessor(member):
                            found.append(
                                TsDefinition(
                                    "method",
                                    module.text(member_name),
                                    module,
                                    member,
                                    member_name,
                                    decl,
                                )
                            )
                        elif member.type == "public_field_definition":
                            found.append(
                                TsDefinition(
                                    "field",
                                    module.text(member_name),
                                    module,
                                    member,
                                    member_name,
                                    decl,
                                )
                            )
                elif decl.type == "interface_declaration":
                    name = decl.child_by_field_name("name")
                    assert name is not None
                    found.append(
                        TsDefinition(
                            "interface", module.text(name), module, decl, name, None, statement
                        )
                    )
        return found

    def unambiguous(self, definition: TsDefinition) -> bool:
        name = definition.name
        if len(name) < 4 or name in COMMON or name.startswith("_"):
            return False
        occurrences = self.occurrences.get(name, [])
        decls = [o for o in occurrences if o.role == "decl"]
        if len(decls) != 1 or decls[0].node != definition.name_node:
            return False
        roles = {o.role for o in occurrences if o.node != definition.name_node}
        if definition.kind in ("function", "class"):
            allowed = {"ref", "import", "export", "type"}
        elif definition.kind == "interface":
            allowed = {"type", "import", "export"}
        else:
            allowed = {"member"}
        if not roles <= allowed:
            return False
        return bool(self.uses(definition))

    def uses(self, definition: TsDefinition) -> list[TsOccurrence]:
        return [
            o
            for o in self.occurrences.get(definition.name, [])
            if o.role in ("ref", "member", "type")
        ]

    def all_occurrences(self, definition: TsDefinition) -> list[TsOccurrence]:
        return list(self.occurrences.get(definition.name, []))


def _is_accessor(member: Node) -> bool:
    return any(child.type in ("get", "set") for child in member.children)


def top_statement(node: Node) -> Node:
    while node.parent is not None and node.parent.type != "program":
        node = node.parent
    return node


def enclosing(node: Node, types: tuple[str, ...]) -> Node | None:
    current = node.parent
    while current is not None and current.type not in types:
        current = current.parent
    return current
