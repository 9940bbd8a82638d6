"""Symbol tables for files of git trees, parsed once per blob.

A blob id names content exactly, so a parse is reused across participants, pairs
and (with the persistent cache) runs. Trees may live in the scratch store, so every
read goes through the scratch environment.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from driftcheck import git
from driftcheck.languages import frontend_for
from driftcheck.symbols import ModuleSymbols

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Files larger than this are not parsed (minified bundles, generated code).
MAX_PARSE_BYTES = 2_000_000


class SymbolIndex:
    def __init__(self, *, cwd: str, env: Mapping[str, str]) -> None:
        self.cwd = cwd
        self.env = dict(env)
        self._by_blob: dict[tuple[str, str], ModuleSymbols] = {}
        self._listings: dict[str, dict[str, str]] = {}
        self._definers: dict[tuple[str, str], int] = {}
        self._module_maps: dict[tuple[str, str], dict[str, str]] = {}
        self.parsed = 0

    def blob_ids(self, tree: str, paths: Iterable[str]) -> dict[str, str]:
        wanted = [p for p in paths if frontend_for(p) is not None]
        if tree in self._listings:
            full = self._listings[tree]
            return {p: full[p] for p in wanted if p in full}
        return git.ls_tree(tree, wanted, cwd=self.cwd, env=self.env)

    def tables(self, tree: str, paths: Iterable[str]) -> dict[str, ModuleSymbols]:
        """Symbol tables of `paths` in `tree` (files without a frontend are left out)."""
        return self._tables_for(self.blob_ids(tree, paths))

    def whole_tree(self, tree: str) -> dict[str, ModuleSymbols]:
        """Tables for every parsable file in `tree`."""
        listing = {p: o for p, o in self._listing(tree).items() if frontend_for(p) is not None}
        return self._tables_for(listing)

    def _tables_for(self, blobs: Mapping[str, str]) -> dict[str, ModuleSymbols]:
        missing = [oid for path, oid in blobs.items() if (oid, path) not in self._by_blob]
        contents = git.read_blobs(missing, cwd=self.cwd, env=self.env) if missing else {}
        result: dict[str, ModuleSymbols] = {}
        for path, oid in blobs.items():
            table = self._by_blob.get((oid, path))
            if table is None:
                table = self._parse(path, contents.get(oid, b""))
                if table is None:
                    continue
                self._by_blob[oid, path] = table
            result[path] = table
        return result

    def parse_content(self, path: str, content: bytes) -> ModuleSymbols | None:
        """Parse content that is not (yet) in any tree, e.g. a proposed edit."""
        return self._parse(path, content)

    def _parse(self, path: str, content: bytes) -> ModuleSymbols | None:
        frontend = frontend_for(path)
        if frontend is None:
            return None
        self.parsed += 1
        if len(content) > MAX_PARSE_BYTES:
            return ModuleSymbols(
                path=path,
                module="",
                language=frontend.name,
                parse_error=f"not parsed: larger than {MAX_PARSE_BYTES} bytes",
            )
        return frontend.parse(path, content)

    def _listing(self, tree: str) -> dict[str, str]:
        if tree not in self._listings:
            self._listings[tree] = git.ls_tree(tree, cwd=self.cwd, env=self.env)
        return self._listings[tree]

    def module_paths(self, tree: str) -> dict[str, str]:
        """Python module name -> path for every module file in `tree`."""
        key = ("modules", tree)
        if key not in self._module_maps:
            from driftcheck.languages.python import module_name

            self._module_maps[key] = {
                module_name(path)[0]: path for path in self._listing(tree) if path.endswith(".py")
            }
        return self._module_maps[key]

    def canonical(self, tree: str, dotted: str, *, hops: int = 5) -> str:
        """Follow re-exports: `orders.OrderProcessor` -> `orders.processor.OrderProcessor`.

        A name imported into a package's `__init__` (or any module) and used through
        that module is resolved to where it is defined, as far as `tree` shows.
        """
        modules = self.module_paths(tree)
        parts = dotted.split(".")
        for _ in range(hops):
            split = next(
                (i for i in range(len(parts) - 1, 0, -1) if ".".join(parts[:i]) in modules), None
            )
            if split is None:
                break
            module = ".".join(parts[:split])
            table = self.tables(tree, [modules[module]]).get(modules[module])
            name = parts[split]
            if table is None or table.get(f"{module}.{name}") is not None:
                break
            target = table.imports.get(name)
            if target is None or target == ".".join(parts[: split + 1]):
                break
            parts = target.split(".") + parts[split + 1 :]
        return ".".join(parts)

    def method_definers(self, tree: str, name: str) -> int:
        """How many indented `def name(` lines `tree` holds: methods of that name."""
        if not _IDENTIFIER.match(name):
            return 0
        key = (tree, name)
        if key not in self._definers:
            pattern = rf"^[[:space:]]+(async[[:space:]]+)?def[[:space:]]+{name}[[:space:]]*\("
            counts = git.grep_count(tree, pattern, ["*.py", "*.pyi"], cwd=self.cwd, env=self.env)
            self._definers[key] = sum(counts.values())
        return self._definers[key]
