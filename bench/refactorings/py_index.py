"""An index of a Python package: modules, definitions and every occurrence of each name.

Targets are chosen among names that are *unambiguous* in the package: exactly one
definition, and every other occurrence is a read (a name, an attribute, an import or an
`__all__` entry). For such a name every occurrence is a reference to the target, so a
refactoring can edit them all with `ast` positions and no type inference; mypy then
checks that side A still type-checks.
"""

from __future__ import annotations

import ast
import builtins
import re
from collections import defaultdict
from dataclasses import dataclass, field

from common import Files, Text

# Kinds of occurrence that only read a name; anything else makes the name ambiguous.
READS = {"name", "attr", "import", "all"}
EXTERNAL_BASE_OK = re.compile(
    r"^(object|ABC|Generic|Protocol|Exception|\w*(Error|Exception|Warning))$"
)
ALLOWED_DECORATORS = {"staticmethod", "classmethod", "property", "final", "override"}
BUILTIN_NAMES = set(dir(builtins))


@dataclass
class Occurrence:
    path: str
    start: int
    end: int
    kind: str  # def, name, attr, import, all, store, attr-store, param, keyword, string, ...
    node: ast.AST


@dataclass
class Module:
    path: str
    name: str
    text: str
    tree: ast.Module
    t: Text
    parents: dict[int, ast.AST] = field(default_factory=dict)
    bindings: dict[str, ast.AST] = field(default_factory=dict)

    def parent(self, node: ast.AST) -> ast.AST | None:
        return self.parents.get(id(node))


@dataclass
class Definition:
    """A candidate target: a module-level function or class, a method, or a class attribute."""

    kind: str  # function, method, class, attribute
    name: str
    module: Module
    node: ast.AST
    cls: ast.ClassDef | None = None

    @property
    def qualname(self) -> str:
        inner = f"{self.cls.name}.{self.name}" if self.cls else self.name
        return f"{self.module.name}.{inner}"


class PyIndex:
    def __init__(self, files: Files, package_root: str) -> None:
        self.modules: dict[str, Module] = {}
        self.by_modname: dict[str, Module] = {}
        self.occurrences: dict[str, list[Occurrence]] = defaultdict(list)
        self.src_root = package_root.rsplit("/", 1)[0]  # "src"
        for path, text in sorted(files.items()):
            if not path.endswith(".py") or not path.startswith(self.src_root + "/"):
                continue
            try:
                tree = ast.parse(text)
            except SyntaxError:
                continue
            modname = path[len(self.src_root) + 1 : -3].replace("/", ".").removesuffix(".__init__")
            module = Module(path, modname, text, tree, Text(text))
            for parent in ast.walk(tree):
                for child in ast.iter_child_nodes(parent):
                    module.parents[id(child)] = parent
            module.bindings = module_bindings(tree)
            self.modules[path] = module
            self.by_modname[modname] = module
            self._collect(module)
        self.package = package_root

    # ------------------------------------------------------------ occurrences

    def _add(
        self, module: Module, name: str, lineno: int, byte_col: int, kind: str, node: ast.AST
    ) -> None:
        start = module.t.offset(lineno, byte_col)
        end = start + len(name)
        if module.text[start:end] != name:
            kind = "unreliable"
        self.occurrences[name].append(Occurrence(module.path, start, end, kind, node))

    def _collect(self, module: Module) -> None:
        for node in ast.walk(module.tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                line = module.t.lines[node.lineno - 1]
                raw = line.encode("utf-8")
                match = re.compile(rb"(?:def|class)\s+" + re.escape(node.name.encode())).search(
                    raw, node.col_offset
                )
                col = match.end() - len(node.name.encode()) if match else 0
                self._add(module, node.name, node.lineno, col, "def", node)
            elif isinstance(node, ast.Name):
                kind = "name" if isinstance(node.ctx, ast.Load) else "store"
                self._add(module, node.id, node.lineno, node.col_offset, kind, node)
            elif isinstance(node, ast.Attribute):
                assert node.end_lineno is not None and node.end_col_offset is not None
                kind = "attr" if isinstance(node.ctx, ast.Load) else "attr-store"
                col = node.end_col_offset - len(node.attr.encode("utf-8"))
                self._add(module, node.attr, node.end_lineno, col, kind, node)
            elif isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    self._add(module, alias.name, alias.lineno, alias.col_offset, "import", alias)
                    if alias.asname:
                        self.occurrences[alias.asname].append(
                            Occurrence(module.path, 0, 0, "store", alias)
                        )
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    bound = alias.asname or alias.name.split(".")[0]
                    self.occurrences[bound].append(Occurrence(module.path, 0, 0, "store", alias))
            elif isinstance(node, ast.arg):
                self.occurrences[node.arg].append(Occurrence(module.path, 0, 0, "param", node))
            elif isinstance(node, ast.keyword) and node.arg:
                self.occurrences[node.arg].append(Occurrence(module.path, 0, 0, "keyword", node))
            elif isinstance(node, ast.Global | ast.Nonlocal):
                for name in node.names:
                    self.occurrences[name].append(Occurrence(module.path, 0, 0, "store", node))
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                value = node.value
                if value.isidentifier():
                    kind = "all" if _in_all(module, node) else "string"
                    self._add(module, value, node.lineno, node.col_offset + 1, kind, node)
            elif isinstance(node, ast.MatchAs | ast.MatchStar) and node.name:
                self.occurrences[node.name].append(Occurrence(module.path, 0, 0, "store", node))

    # ------------------------------------------------------------ candidates

    def definitions(self) -> list[Definition]:
        found: list[Definition] = []
        for module in self.modules.values():
            if not module.path.startswith(self.package + "/"):
                continue
            for node in module.tree.body:
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    found.append(Definition("function", node.name, module, node))
                elif isinstance(node, ast.ClassDef):
                    found.append(Definition("class", node.name, module, node))
                    if not self.internal_bases_only(node):
                        continue
                    for item in node.body:
                        if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                            found.append(Definition("method", item.name, module, item, node))
                        elif (
                            isinstance(item, ast.Assign)
                            and len(item.targets) == 1
                            and isinstance(item.targets[0], ast.Name)
                        ):
                            found.append(
                                Definition(
                                    "attribute", item.targets[0].id, module, item.targets[0], node
                                )
                            )
                        elif (
                            isinstance(item, ast.AnnAssign)
                            and item.value is not None
                            and isinstance(item.target, ast.Name)
                        ):
                            found.append(
                                Definition("attribute", item.target.id, module, item.target, node)
                            )
        return found

    def internal_bases_only(self, cls: ast.ClassDef) -> bool:
        """A method of a class with a base from outside the package may override it."""
        for base in cls.bases:
            name = base_name(base)
            if name is None:
                return False
            if self.class_defined(name) or EXTERNAL_BASE_OK.match(name):
                continue
            return False
        return not cls.keywords or all(k.arg == "metaclass" for k in cls.keywords)

    def class_defined(self, name: str) -> bool:
        return any(
            o.kind == "def" and isinstance(o.node, ast.ClassDef)
            for o in self.occurrences.get(name, [])
        )

    def unambiguous(self, definition: Definition) -> bool:
        """One definition, reads only, nothing dynamic: every occurrence is the target."""
        name = definition.name
        if name.startswith("__") or name.startswith(("pytest_", "test", "visit_")) or len(name) < 4:
            return False
        if name in BUILTIN_NAMES:
            return False
        occurrences = self.occurrences.get(name, [])
        defs = [o for o in occurrences if o.kind in ("def", "store")]
        if definition.kind == "attribute":
            defs = [o for o in occurrences if o.kind not in READS and o.kind != "attr-store"]
            if len(defs) != 1 or defs[0].node is not definition.node:
                return False
        elif len(defs) != 1 or defs[0].node is not definition.node:
            return False
        if any(
            o.kind not in READS | {"def", "attr-store"}
            for o in occurrences
            if o.node is not definition.node
        ):
            return False
        if definition.kind != "attribute" and any(o.kind == "attr-store" for o in occurrences):
            return False
        if definition.kind in ("method", "attribute") and any(
            o.kind in ("name", "import") for o in occurrences
        ):
            return False
        return bool(self.uses(definition))

    def uses(self, definition: Definition) -> list[Occurrence]:
        return [
            o
            for o in self.occurrences.get(definition.name, [])
            if o.kind in ("name", "attr", "attr-store")
        ]

    def all_occurrences(self, definition: Definition) -> list[Occurrence]:
        return list(self.occurrences.get(definition.name, []))

    def decorators_ok(self, definition: Definition) -> bool:
        node = definition.node
        decorators = getattr(node, "decorator_list", [])
        return all(base_name(d) in ALLOWED_DECORATORS for d in decorators)

    def module_of(self, occurrence: Occurrence) -> Module:
        return self.modules[occurrence.path]


def base_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Subscript):
        return base_name(node.value)
    if isinstance(node, ast.Call):
        return base_name(node.func)
    return None


def _in_all(module: Module, node: ast.AST) -> bool:
    current: ast.AST | None = node
    while current is not None:
        if isinstance(current, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = current.targets if isinstance(current, ast.Assign) else [current.target]
            return any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets)
        current = module.parent(current)
    return False


def module_bindings(tree: ast.Module) -> dict[str, ast.AST]:
    """Names bound at module level, including inside top-level if/try blocks."""
    bound: dict[str, ast.AST] = {}

    def visit(body: list[ast.stmt]) -> None:
        for stmt in body:
            if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                bound.setdefault(stmt.name, stmt)
            elif isinstance(stmt, ast.Import | ast.ImportFrom):
                for alias in stmt.names:
                    name = alias.asname or alias.name.split(".")[0]
                    if name != "*":
                        bound.setdefault(name, stmt)
            elif isinstance(stmt, ast.Assign | ast.AnnAssign | ast.AugAssign):
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                for target in targets:
                    for sub in ast.walk(target):
                        if isinstance(sub, ast.Name):
                            bound.setdefault(sub.id, stmt)
            elif type(stmt).__name__ == "TypeAlias" and isinstance(
                getattr(stmt, "name", None), ast.Name
            ):
                bound.setdefault(stmt.name.id, stmt)  # type: ignore[attr-defined]
            elif isinstance(stmt, ast.If | ast.Try):
                visit(stmt.body)
                visit(stmt.orelse)
                for handler in getattr(stmt, "handlers", []):
                    visit(handler.body)
                visit(getattr(stmt, "finalbody", []))

    visit(tree.body)
    return bound


def last_import_line(module: Module) -> int:
    """The line after which a new top-level import goes (after docstring and imports)."""
    line = 0
    for stmt in module.tree.body:
        docstring = isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)
        if isinstance(stmt, ast.Import | ast.ImportFrom) or (docstring and line == 0):
            line = stmt.end_lineno or stmt.lineno
        elif line:
            break
    return line


def statement_of(module: Module, node: ast.AST) -> ast.stmt | None:
    current: ast.AST | None = node
    while current is not None and not isinstance(current, ast.stmt):
        current = module.parent(current)
    return current


def definition_span(module: Module, node: ast.AST) -> tuple[int, int]:
    """Lines (1-based, inclusive) of a def with its decorators and the comments right above."""
    start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
    while start > 1 and module.t.lines[start - 2].lstrip().startswith("#"):
        start -= 1
    end = node.end_lineno or node.lineno
    return start, end


def indent_of(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]
