"""Registry of language frontends.

Frontends are imported on first use, so importing this package stays cheap; only
parsing loads a parser (tree_sitter included: the tree-sitter frontends import it on
their first parse).
"""

from __future__ import annotations

import importlib
from typing import Protocol, runtime_checkable

from driftcheck.symbols.table import ModuleSymbols


@runtime_checkable
class LanguageFrontend(Protocol):
    name: str
    # Changes whenever the tables a frontend produces may change: part of cache keys.
    parser_version: str

    # False where one module (a Go or Java package) spans several files, so deleting
    # a file does not delete its module.
    file_is_module: bool

    def parse(self, path: str, source: bytes) -> ModuleSymbols:
        """Symbol table of one file. Must not raise on malformed input: set
        `parse_error` and return what could be read."""
        ...

    def module_name(self, path: str) -> str:
        """The module a file belongs to, from its path alone (as `parse` names it)."""
        ...


_PROFILES = "driftcheck.symbols.languages.profiles"
# name -> (file extensions, "module:attribute" of the frontend instance). Routing by
# extension lives here, not in the frontends, so finding one imports nothing.
FRONTENDS: dict[str, tuple[tuple[str, ...], str]] = {
    "python": ((".py",), "driftcheck.symbols.languages.python.frontend:FRONTEND"),
    "typescript": ((".ts", ".tsx", ".mts", ".cts"), f"{_PROFILES}.javascript:TYPESCRIPT"),
    "javascript": ((".js", ".jsx", ".mjs", ".cjs"), f"{_PROFILES}.javascript:JAVASCRIPT"),
    "go": ((".go",), f"{_PROFILES}.go:GO"),
    "rust": ((".rs",), f"{_PROFILES}.rust:RUST"),
    "java": ((".java",), f"{_PROFILES}.java:JAVA"),
}

_loaded: dict[str, LanguageFrontend] = {}


def get_frontend(name: str) -> LanguageFrontend:
    """The frontend registered as `name`; KeyError if there is none."""
    if name not in _loaded:
        module_name, _, attr = FRONTENDS[name][1].partition(":")
        _loaded[name] = getattr(importlib.import_module(module_name), attr)
    return _loaded[name]


def all_frontends() -> list[LanguageFrontend]:
    """Every registered frontend (imports each once; none loads a parser)."""
    return [get_frontend(name) for name in FRONTENDS]


def frontend_for(path: str) -> LanguageFrontend | None:
    """The frontend for a file path by extension, or None for unsupported files."""
    lowered = path.lower()
    for name, (extensions, _) in FRONTENDS.items():
        if lowered.endswith(extensions):
            return get_frontend(name)
    return None
