"""Imports and exports read through a profile's `imports` query.

Captures: `@import.member` (binds `@alias` or `@name` to module.name),
`@import.default`, `@import.module` (binds `@alias`, or what the profile's
`import_name` makes of `@source`, to the module), `@import.star`, `@export.member` (a
re-export, `export {a} from`), `@export.local` (`export {a as b}`), `@export.default`
(`@name` is what `default` means), `@package` (Java: the module name), and
`@import.code` (handed to the profile's `expand_import`, for Rust's use trees).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from driftcheck.symbols.languages.common import join
from driftcheck.symbols.languages.treesitter import norm
from driftcheck.symbols.languages.treesitter.profile import Grammar, Profile, query_matches
from driftcheck.symbols.table import Reference

if TYPE_CHECKING:
    from tree_sitter import Node


@dataclass
class Binding:
    """One name an import binds: `local` -> `target` (module or module.member)."""

    local: str
    target: str
    written: str
    name: str
    node: Node
    alias: str | None = None
    star: bool = False
    exported: bool = False  # `export ... from`, `export { a as b }`: offered, not bound


def _unquote(text: str) -> str:
    return text.strip().strip("\"'`")


def read_imports(
    grammar: Grammar, root: Node, src: norm.Source, profile: Profile, module: str, is_package: bool
) -> tuple[str | None, list[Binding]]:
    """(package name if the file declares one, bindings in source order)."""
    query = grammar.queries.get("imports")
    if query is None:
        return None, []
    matches = query_matches(query, root)
    package = None
    for _, caps in matches:
        if "package" in caps:
            package = norm.one_line(src.text(caps["package"][0]), 200).replace(" ", "")
            module = package
    out: list[Binding] = []
    for _, caps in matches:
        key = next((k for k in caps if k.startswith(("import.", "export."))), None)
        if key is None:
            continue
        node = caps[key][0]
        if key == "import.code":
            if profile.expand_import is not None:
                out += profile.expand_import(node, src, module, is_package)
            continue
        written = _unquote(src.text(caps["source"][0])) if "source" in caps else ""
        target_module = profile.resolve_module(written, module, is_package) if written else module
        name = src.text(caps["name"][0]) if "name" in caps else ""
        alias = src.text(caps["alias"][0]) if "alias" in caps else None
        at = caps.get("name", caps.get("alias", [node]))[0]
        if key == "import.star":
            out.append(Binding("", target_module, written, "*", at, star=True))
        elif key == "import.module":
            local = alias or profile.import_name(written)
            out.append(Binding(local, target_module, written, local, at, alias))
        elif key == "import.default":
            target = join(target_module, "default")
            out.append(Binding(alias or name, target, written, "default", at))
        elif key in ("import.member", "export.member"):
            # `./pricing.js:formatPrice` for a file, `java.util.List` for a package
            sep = ":" if "/" in written or written.startswith(".") else "."
            full = f"{written}{sep}{name}" if written else name
            target = join(target_module, name)
            exported = key == "export.member"
            out.append(Binding(alias or name, target, full, name, at, alias, exported=exported))
        elif key == "export.local" and alias:
            out.append(Binding(alias, join(module, name), "", name, at, None, exported=True))
        elif key == "export.name" and name:
            out.append(Binding(name, join(module, name), "", name, at, None, exported=True))
        elif key == "export.default" and name:
            out.append(Binding("default", join(module, name), "", name, at, exported=True))
    return package, out


def import_ref(b: Binding, ignores: Mapping[int, frozenset[str]], src: norm.Source) -> Reference:
    line = b.node.start_point[0] + 1
    return Reference(
        kind="import",
        target=b.written,
        line=line,
        col=b.node.start_point[1],
        name=b.name,
        resolved=b.target,
        alias=b.alias,
        text=src.head(_statement(b.node)),
        ignored_kinds=ignores.get(line, frozenset()),
    )


def _statement(node: Node) -> Node:
    """The top-level statement holding `node` (an import's whole line)."""
    while node.parent is not None and node.parent.parent is not None:
        node = node.parent
    return node
