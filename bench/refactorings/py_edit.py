"""Small text-edit helpers over `Module`s, shared by the Python refactorings."""

from __future__ import annotations

import ast
from collections import defaultdict

from common import EditError, Edits, apply_edits
from py_index import Module, PyIndex, indent_of, last_import_line


class Skip(Exception):
    """This target does not fit this refactoring; the reason is counted."""


class Changes:
    """Edits collected per file, applied at the end; new files are whole texts."""

    def __init__(self, index: PyIndex) -> None:
        self.index = index
        self.edits: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
        self.new_files: dict[str, str] = {}

    def replace(self, path: str, start: int, end: int, text: str) -> None:
        self.edits[path].append((start, end, text))

    def insert(self, path: str, offset: int, text: str) -> None:
        self.edits[path].append((offset, offset, text))

    def insert_lines_after(self, module: Module, line: int, text: str) -> None:
        """Insert whole lines after 1-based `line` (0 = top of file)."""
        offset = module.t.starts[line] if line < len(module.t.starts) else len(module.text)
        if offset == len(module.text) and module.text and not module.text.endswith("\n"):
            text = "\n" + text
        self.insert(module.path, offset, text)

    def delete_lines(self, module: Module, first: int, last: int, replacement: str = "") -> None:
        self.replace(module.path, module.t.line_start(first), module.t.starts[last], replacement)

    def delete_definition(self, module: Module, first: int, last: int) -> None:
        """Delete a definition's lines and the blank lines after it, when blank lines precede it."""
        lines = module.t.lines
        if first > 1 and not lines[first - 2].strip():
            while last < len(lines) and not lines[last].strip():
                last += 1
        self.delete_lines(module, first, last)

    def add_import(self, module: Module, line: str) -> None:
        """A top-level import after the module's imports (once per text)."""
        after = last_import_line(module)
        key = (module.path, line)
        if key in getattr(self, "_imports", set()):
            return
        self.__dict__.setdefault("_imports", set()).add(key)
        self.insert_lines_after(module, after, line + "\n")

    def result(self) -> Edits:
        out: Edits = {}
        for path, edits in self.edits.items():
            try:
                out[path] = apply_edits(self.index.modules[path].text, edits)
            except EditError as exc:
                raise Skip(f"edits overlap in {path}") from exc
        for path, text in self.new_files.items():
            out[path] = text
        return out


def node_span(module: Module, node: ast.AST) -> tuple[int, int]:
    start = module.t.offset(node.lineno, node.col_offset)  # type: ignore[attr-defined]
    end = module.t.offset(node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]
    return start, end


def segment(module: Module, node: ast.AST) -> str:
    start, end = node_span(module, node)
    return module.text[start:end]


def owns_lines(module: Module, stmt: ast.stmt) -> bool:
    """The statement alone occupies its lines (no `;`, nothing else on them)."""
    first = module.t.lines[stmt.lineno - 1]
    last = module.t.lines[(stmt.end_lineno or stmt.lineno) - 1]
    head_ok = first[: len(first) - len(first.lstrip())] == first[: len(indent_of(first))] and (
        module.t.offset(stmt.lineno, stmt.col_offset)
        == module.t.line_start(stmt.lineno) + len(indent_of(first))
    )
    tail = last.encode("utf-8")[stmt.end_col_offset :].decode("utf-8", "replace").strip()
    return head_ok and (tail == "" or tail.startswith("#"))


def import_text(stmt: ast.ImportFrom, names: list[ast.alias], multiline: bool, indent: str) -> str:
    module = "." * stmt.level + (stmt.module or "")
    parts = [a.name + (f" as {a.asname}" if a.asname else "") for a in names]
    if multiline and len(parts) > 1:
        inner = "".join(f"{indent}    {p},\n" for p in parts)
        return f"{indent}from {module} import (\n{inner}{indent})\n"
    return f"{indent}from {module} import {', '.join(parts)}\n"


def absolute_module(module: Module, stmt: ast.ImportFrom) -> str:
    if not stmt.level:
        return stmt.module or ""
    package = module.name.split(".")
    if not module.path.endswith("__init__.py"):
        package = package[:-1]
    base = package[: len(package) - (stmt.level - 1)] if stmt.level > 1 else package
    return ".".join(base + ([stmt.module] if stmt.module else []))


def drop_import_alias(
    changes: Changes, module: Module, stmt: ast.ImportFrom, name: str, add: str = ""
) -> None:
    """Remove `name` from a `from m import ...` statement; `add` lines go right after it."""
    remaining = [a for a in stmt.names if a.name != name]
    line = module.t.lines[stmt.lineno - 1]
    indent = indent_of(line)
    if not owns_lines(module, stmt):
        raise Skip("import shares its line")
    text = import_text(stmt, remaining, stmt.end_lineno != stmt.lineno, indent) if remaining else ""
    changes.delete_lines(module, stmt.lineno, stmt.end_lineno or stmt.lineno, text + add)
