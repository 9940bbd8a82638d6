"""Module names in a tree: which file a module is, and where a re-exported name is
really defined. Frontends name modules (a Go or Java package maps to one of its
files); this follows imports and star re-exports across a tree's tables."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from driftcheck.store.cache import Cache
from driftcheck.store.pair_cache import code_fingerprint
from driftcheck.symbols.languages import frontend_for
from driftcheck.symbols.table import ModuleSymbols


class ModuleNames:
    def __init__(
        self,
        listing: Callable[[str], dict[str, str]],
        tables: Callable[[str, Iterable[str]], dict[str, ModuleSymbols]],
        cache: Cache,
    ) -> None:
        self._listing = listing  # tree -> path -> blob id
        self.tables = tables
        self.cache = cache
        self._module_maps: dict[str, dict[str, str]] = {}  # tree -> module -> path
        self._path_modules: dict[str, str | None] = {}
        self._suffixes: dict[str, dict[str, list[str]]] = {}  # tree -> last segment -> modules

    def module_paths(self, tree: str) -> dict[str, str]:
        """Module name -> path for every parsable file in `tree`, as each file's
        frontend names modules (a Go or Java package maps to one of its files)."""
        if tree not in self._module_maps:
            # A tree never changes, but how frontends name modules may: the key
            # names driftcheck's code too.
            stored = f"{code_fingerprint()}:{tree}"
            modules: dict[str, str] | None = self.cache.get("modules", stored)
            if modules is None:
                modules = {}
                for path in self._listing(tree):
                    module = self._module_of(path)
                    if module is not None:
                        modules[module] = path
                self.cache.put("modules", stored, modules)
            self._module_maps[tree] = modules
        return self._module_maps[tree]

    def _module_of(self, path: str) -> str | None:
        """A path's module name: trees of one repository share most paths, and a
        daemon meets a new tree after every edit."""
        if path not in self._path_modules:
            frontend = frontend_for(path)
            self._path_modules[path] = frontend.module_name(path) if frontend else None
        return self._path_modules[path]

    def _module_suffixes(self, tree: str) -> dict[str, list[str]]:
        """Last path segment -> path-like module names (`internal/orders`) ending in it."""
        if tree not in self._suffixes:
            index: dict[str, list[str]] = {}
            for module, path in self.module_paths(tree).items():
                # A Go package right under the module root (`orders/`) has no slash.
                if "/" in module or (module and path.endswith(".go")):
                    index.setdefault(module.rpartition("/")[2], []).append(module)
            self._suffixes[tree] = index
        return self._suffixes[tree]

    def _module_alias(self, tree: str, dotted: str) -> str:
        """`example.com/shop/internal/orders.Total` -> `internal/orders.Total`: an import
        path names the folder it ends with (only go.mod knows the prefix)."""
        slash = dotted.rfind("/")
        if slash < 0:
            return dotted
        cut = dotted.find(".", slash)
        head, rest = (dotted[:cut], dotted[cut:]) if cut >= 0 else (dotted, "")
        if head in self.module_paths(tree):
            return dotted
        found = [
            m
            for m in self._module_suffixes(tree).get(head.rpartition("/")[2], ())
            if head.endswith("/" + m)
        ]
        found.sort(key=len, reverse=True)
        if not found or (len(found) > 1 and len(found[0]) == len(found[1])):
            return dotted
        return found[0] + rest

    def canonical(self, tree: str, dotted: str, *, hops: int = 5) -> str:
        """Follow re-exports: `orders.OrderProcessor` -> `orders.processor.OrderProcessor`.

        A name imported into a package's `__init__` (or any module) and used through
        that module is resolved to where it is defined, as far as `tree` shows.
        """
        modules = self.module_paths(tree)
        parts = self._module_alias(tree, dotted).split(".")
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
            offered = table.imports if table.exports is None else table.exports
            target = offered.get(name) or self._through_star(tree, table, name)
            if target is None or target == ".".join(parts[: split + 1]):
                break
            parts = target.split(".") + parts[split + 1 :]
        return ".".join(parts)

    def _through_star(self, tree: str, table: ModuleSymbols, name: str) -> str | None:
        """`name` as a star re-export of `table` provides it (`export * from
        "./common"`, `from .common import *`): the first star source that defines
        or imports it."""
        modules = self.module_paths(tree)
        for source in table.star_imports:
            path = modules.get(source)
            found = self.tables(tree, [path]).get(path) if path is not None else None
            offered = found.imports if found is None or found.exports is None else found.exports
            if found is not None and (found.get(f"{source}.{name}") or name in offered):
                return f"{source}.{name}"
        return None
