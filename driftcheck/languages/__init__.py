"""Registry of language frontends.

Frontends are imported on first use, so importing this package stays cheap; only
parsing loads a parser.
"""

from __future__ import annotations

import importlib
from typing import Protocol, runtime_checkable

from driftcheck.symbols import ModuleSymbols


@runtime_checkable
class LanguageFrontend(Protocol):
    name: str
    extensions: tuple[str, ...]
    # Changes whenever the tables a frontend produces may change: part of cache keys.
    parser_version: str

    def parse(self, path: str, source: bytes) -> ModuleSymbols:
        """Symbol table of one file. Must not raise on malformed input: set
        `parse_error` and return what could be read."""
        ...


# name -> (file extensions, "module:attribute" of the frontend instance)
FRONTENDS: dict[str, tuple[tuple[str, ...], str]] = {
    "python": ((".py",), "driftcheck.languages.python:FRONTEND"),
}

_loaded: dict[str, LanguageFrontend] = {}


def get_frontend(name: str) -> LanguageFrontend:
    """The frontend registered as `name`; KeyError if there is none."""
    if name not in _loaded:
        module_name, _, attr = FRONTENDS[name][1].partition(":")
        _loaded[name] = getattr(importlib.import_module(module_name), attr)
    return _loaded[name]


def frontend_for(path: str) -> LanguageFrontend | None:
    """The frontend for a file path by extension, or None for unsupported files."""
    lowered = path.lower()
    for name, (extensions, _) in FRONTENDS.items():
        if lowered.endswith(extensions):
            return get_frontend(name)
    return None
