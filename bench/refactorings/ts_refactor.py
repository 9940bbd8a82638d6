"""Side A for TypeScript: real refactorings of hono's source, guided by tree-sitter nodes.

Kinds: rename (function, method, class), add-parameter, remove, abstract-member (a new
member of an `interface`, implemented in its `implements` classes), rename-attribute (a
class field) and return-shape (a value becomes `{ value }`). Compatible variants: an
exported alias for a renamed function, an optional parameter, an optional interface
member.
"""

from __future__ import annotations

import random
from collections import defaultdict
from typing import Any

from common import Edits
from py_edit import Skip
from py_refactor import Refactoring
from tree_sitter import Node
from ts_index import TsDefinition, TsIndex, TsModule, enclosing

PARAM_NAMES = ("strict", "verbose", "force", "eager", "check", "reuse")
MEMBER_NAMES = ("describe", "reset", "snapshot", "summary", "dispose", "validate")


class TsChanges:
    def __init__(self, index: TsIndex) -> None:
        self.index = index
        self.edits: dict[str, list[tuple[int, int, bytes]]] = defaultdict(list)

    def replace(self, path: str, start: int, end: int, text: str) -> None:
        self.edits[path].append((start, end, text.encode("utf-8")))

    def insert(self, path: str, at: int, text: str) -> None:
        self.replace(path, at, at, text)

    def delete_statement(self, module: TsModule, node: Node, keep: str = "") -> None:
        """Delete a statement with its whole lines (and a blank line after it, if any)."""
        source = module.source
        start = source.rfind(b"\n", 0, node.start_byte) + 1
        end = source.find(b"\n", node.end_byte)
        end = len(source) if end < 0 else end + 1
        if source[start : node.start_byte].strip() or source[node.end_byte : end].strip():
            raise Skip("statement shares its line")
        # Leading comments (JSDoc) belong to the statement.
        prev = node.prev_sibling
        if (
            prev is not None
            and prev.type == "comment"
            and source[prev.end_byte : node.start_byte].count(b"\n") <= 1
        ):
            start = source.rfind(b"\n", 0, prev.start_byte) + 1
        if (
            end < len(source)
            and source[end : end + 1] == b"\n"
            and source[start - 2 : start] == b"\n\n"
        ):
            end += 1
        self.replace(module.path, start, end, keep)

    def result(self) -> Edits:
        out: Edits = {}
        for path, edits in self.edits.items():
            data = self.index.modules[path].source
            last = len(data) + 1
            for start, end, new in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
                if end > last:
                    raise Skip(f"edits overlap in {path}")
                data = data[:start] + new + data[end:]
                last = start
            out[path] = data.decode("utf-8")
        return out


def fresh(index: TsIndex, options: list[str]) -> str:
    for name in options:
        if name not in index.occurrences:
            return name
    raise Skip("no fresh name")


def _ref(
    kind: str,
    target: TsDefinition,
    changes: TsChanges,
    summary: str,
    compatible: bool,
    **facts: Any,
) -> Refactoring:
    return Refactoring(kind, target, changes.result(), summary, compatible, dict(facts))  # type: ignore[arg-type]


def calls_of(index: TsIndex, target: TsDefinition) -> list[tuple[TsModule, Node]]:
    """Every use is the callee of a call: return the call_expression nodes."""
    calls = []
    for occ in index.uses(target):
        callee = occ.node.parent if occ.role == "member" else occ.node
        assert callee is not None
        call = callee.parent
        if (
            call is None
            or call.type != "call_expression"
            or call.child_by_field_name("function") != callee
        ):
            raise Skip("used other than called")
        calls.append((index.modules[occ.path], call))
    return calls


def rename(
    index: TsIndex, target: TsDefinition, rng: random.Random, compatible: bool
) -> Refactoring:
    name = target.name
    if target.kind == "interface":
        raise Skip("interfaces are not renamed")
    if compatible and target.kind != "function":
        raise Skip("only functions keep an alias")
    options = [name + "Impl", name + "V2", "do" + name[0].upper() + name[1:]]
    if name.startswith("get"):
        options.insert(0, "fetch" + name[3:])
    if name[0].isupper():
        options = [name + "Impl", "Base" + name, name + "V2"]
    new = fresh(index, options)
    changes = TsChanges(index)
    for occ in index.all_occurrences(target):
        parent = occ.node.parent
        if (
            occ.role == "export"
            and parent is not None
            and parent.child_by_field_name("alias") is None
        ):
            # `export { old }` keeps exporting under the old name unless renamed too
            pass
        changes.replace(occ.path, occ.node.start_byte, occ.node.end_byte, new)
    if compatible:
        statement = target.statement
        assert statement is not None
        changes.insert(
            target.module.path,
            statement.end_byte,
            f"\n\n/** @deprecated Use {new}. */\nexport const {name} = {new}",
        )
    kind = "rename-attribute" if target.kind == "field" else "rename"
    summary = (
        f"renamed {target.kind} {target.qualname} to {new}, updating {len(index.uses(target))} uses"
    )
    if compatible:
        summary += "; keeps an exported alias with the old name"
    return _ref(kind, target, changes, summary, compatible, new_name=new)


def _parameters(target: TsDefinition) -> Node:
    node = target.node
    if node.type == "variable_declarator":
        value = node.child_by_field_name("value")
        assert value is not None
        node = value
    params = node.child_by_field_name("parameters")
    if params is None:
        raise Skip("no parameter list")
    return params


def add_parameter(
    index: TsIndex, target: TsDefinition, rng: random.Random, compatible: bool
) -> Refactoring:
    if target.kind not in ("function", "method"):
        raise Skip("not callable")
    calls = calls_of(index, target)
    params = _parameters(target)
    module = target.module
    existing = {module.text(p) for p in params.named_children}
    name = next(
        (p for p in rng.sample(PARAM_NAMES, len(PARAM_NAMES)) if not any(p in e for e in existing)),
        None,
    )
    if name is None:
        raise Skip("no fresh parameter name")
    items = [p for p in params.named_children if p.type != "comment"]
    required = 0
    for item in items:
        if item.type != "required_parameter" or item.child_by_field_name("value") is not None:
            break
        pattern = item.child_by_field_name("pattern")
        if pattern is not None and pattern.type == "rest_pattern":
            break
        if module.text(item).startswith("this"):
            raise Skip("this parameter")
        required += 1
    changes = TsChanges(index)
    if compatible:
        if items and (items[-1].child_by_field_name("pattern") or items[-1]).type == "rest_pattern":
            raise Skip("rest parameter")
        decl = f"_{name}?: boolean"
        position = len(items)
    else:
        decl = f"_{name}: boolean"
        position = required
    _insert_item(changes, module, params, items, position, decl)
    if not compatible:
        for caller, call in calls:
            args = call.child_by_field_name("arguments")
            if args is None or args.type != "arguments":
                raise Skip("tagged template call")
            values = [a for a in args.named_children if a.type != "comment"]
            if (
                any(v.type == "spread_element" for v in values[: position + 1])
                or len(values) < position
            ):
                raise Skip("a call spreads or omits arguments")
            _insert_item(changes, caller, args, values, position, "false")
    which = "an optional" if compatible else "a required"
    summary = f"added {which} parameter `{decl}` to {target.qualname}"
    if not compatible:
        summary += f" (position {position + 1}) and passed false at its {len(calls)} call sites"
    return _ref(
        "add-parameter", target, changes, summary, compatible, param=f"_{name}", position=position
    )


def _insert_item(
    changes: TsChanges,
    module: TsModule,
    container: Node,
    items: list[Node],
    position: int,
    text: str,
) -> None:
    if position < len(items):
        changes.insert(module.path, items[position].start_byte, text + ", ")
    elif items:
        changes.insert(module.path, items[-1].end_byte, ", " + text)
    else:
        changes.insert(module.path, container.start_byte + 1, text)


def remove(
    index: TsIndex, target: TsDefinition, rng: random.Random, compatible: bool
) -> Refactoring:
    if target.kind not in ("function", "method"):
        raise Skip("only functions and methods are removed")
    calls = calls_of(index, target)
    changes = TsChanges(index)
    module = target.module
    changes.delete_statement(module, target.statement if target.kind == "function" else target.node)  # type: ignore[arg-type]
    for caller, call in calls:
        statement = call.parent
        if statement is not None and statement.type == "await_expression":
            statement = statement.parent
        if statement is None or statement.type != "expression_statement":
            raise Skip("a call's value is used")
        if enclosing(
            statement, ("method_definition", "function_declaration", "arrow_function")
        ) in (
            target.node,
            target.node.child_by_field_name("value"),
        ):
            continue
        block = statement.parent
        others = [s for s in block.named_children if s.type != "comment"] if block else []
        if block is None or block.type != "statement_block" or len(others) == 1:
            raise Skip("the call is alone in its block")
        changes.delete_statement(caller, statement)
    for occ in index.all_occurrences(target):
        if occ.role in ("import", "export"):
            _drop_specifier(changes, index.modules[occ.path], occ.node)
    summary = f"removed {target.kind} {target.qualname} and the {len(calls)} statements calling it"
    return _ref("remove", target, changes, summary, compatible)


def _drop_specifier(changes: TsChanges, module: TsModule, name: Node) -> None:
    specifier = name.parent
    assert specifier is not None
    group = specifier.parent  # named_imports / export_clause
    assert group is not None
    siblings = [
        s for s in group.named_children if s.type in ("import_specifier", "export_specifier")
    ]
    if len(siblings) == 1:
        statement = group
        while statement.parent is not None and statement.type not in (
            "import_statement",
            "export_statement",
        ):
            statement = statement.parent
        changes.delete_statement(module, statement)
        return
    i = siblings.index(specifier)
    if i + 1 < len(siblings):
        changes.replace(module.path, specifier.start_byte, siblings[i + 1].start_byte, "")
    else:
        changes.replace(module.path, siblings[i - 1].end_byte, specifier.end_byte, "")


def add_abstract_member(
    index: TsIndex, target: TsDefinition, rng: random.Random, compatible: bool
) -> Refactoring:
    if target.kind != "interface":
        raise Skip("not an interface")
    body = target.node.child_by_field_name("body")
    assert body is not None
    methods = [
        m
        for m in body.named_children
        if m.type == "method_signature" and not any(c.type == "?" for c in m.children)
    ]
    if not methods:
        raise Skip("an options bag, not a behavioural interface (no required method)")
    member = fresh(index, rng.sample(MEMBER_NAMES, len(MEMBER_NAMES)))
    changes = TsChanges(index)
    module = target.module
    indent = _member_indent(module, body)
    changes.insert(
        module.path, body.end_byte - 1, f"{indent}{member}{'?' if compatible else ''}(): void\n"
    )
    implementers = []
    for occ in index.occurrences.get(target.name, []):
        clause = enclosing(occ.node, ("implements_clause", "class_body", "program"))
        if clause is None or clause.type != "implements_clause":
            continue
        cls = enclosing(clause, ("class_declaration", "abstract_class_declaration"))
        assert cls is not None
        implementers.append((index.modules[occ.path], cls))
    if not compatible:
        for owner_module, cls in implementers:
            cls_body = cls.child_by_field_name("body")
            assert cls_body is not None
            pad = _member_indent(owner_module, cls_body)
            changes.insert(
                owner_module.path, cls_body.end_byte - 1, f"\n{pad}{member}(): void {{}}\n"
            )
    names = ", ".join(
        index.modules[m.path].text(c.child_by_field_name("name")) for m, c in implementers
    )  # type: ignore[arg-type]
    if compatible:
        summary = f"added an optional member {member}?() to interface {target.qualname}"
    else:
        summary = f"added a required member {member}() to interface {target.qualname}" + (
            f", implemented in {names}" if names else ""
        )
    return _ref("abstract-member", target, changes, summary, compatible, member=member)


def _member_indent(module: TsModule, body: Node) -> str:
    members = [m for m in body.named_children if m.type != "comment"]
    if not members:
        return "  "
    line_start = module.source.rfind(b"\n", 0, members[-1].start_byte) + 1
    return module.source[line_start : members[-1].start_byte].decode()


def change_return_shape(
    index: TsIndex, target: TsDefinition, rng: random.Random, compatible: bool
) -> Refactoring:
    if compatible or target.kind not in ("function", "method"):
        raise Skip("no compatible return shape")
    node = (
        target.node.child_by_field_name("value")
        if target.node.type == "variable_declarator"
        else target.node
    )
    assert node is not None
    returns = node.child_by_field_name("return_type")
    if returns is None:
        raise Skip("no return type")
    module = target.module
    text = module.text(returns).lstrip(":").strip()
    if any(
        word in text
        for word in ("Promise", "void", "never", "any", "unknown", " is ", "asserts", "Generator")
    ):
        raise Skip("not a plain value type")
    if any(c.type in ("async", "*") for c in node.children):
        raise Skip("async or generator")
    calls = calls_of(index, target)
    changes = TsChanges(index)
    changes.replace(module.path, returns.start_byte, returns.end_byte, f": {{ value: {text} }}")
    body = node.child_by_field_name("body")
    assert body is not None
    if body.type != "statement_block":
        wrapped = module.text(body)
        changes.replace(module.path, body.start_byte, body.end_byte, f"({{ value: {wrapped} }})")
    else:
        stack = list(body.named_children)
        returns_found = 0
        while stack:
            current = stack.pop()
            if current.type in (
                "function_declaration",
                "arrow_function",
                "function_expression",
                "method_definition",
                "class",
            ):
                continue
            if current.type == "return_statement":
                value = next((c for c in current.named_children if c.type != "comment"), None)
                if value is None:
                    raise Skip("bare return")
                changes.replace(
                    module.path,
                    value.start_byte,
                    value.end_byte,
                    f"{{ value: {module.text(value)} }}",
                )
                returns_found += 1
                continue
            stack.extend(current.named_children)
        if not returns_found:
            raise Skip("no return statement")
    for caller, call in calls:
        changes.insert(caller.path, call.end_byte, ".value")
    summary = (
        f"made {target.qualname} return {{ value: {text} }} instead of {text};"
        f" its {len(calls)} callers read .value"
    )
    return _ref("return-shape", target, changes, summary, compatible, returns=text)
