"""The warning lines about changed files with a syntax error (engine/syntax_errors.py
finds them; merge-reports rebuilds them from the shards' lists)."""

from __future__ import annotations

import json
from collections.abc import Iterable

_MAX_SHOWN = 20  # warnings about single files; the rest are counted


def warning_lines(errors: Iterable[tuple[str, str, str | None]]) -> list[str]:
    """The scan's warnings about (participant, path, line) syntax errors."""
    found = [
        f"{name}: {_shown(path)} has a syntax error{f' at line {line}' if line else ''}; "
        "its symbols were analysed only where they parse"
        for name, path, line in errors
    ]
    if len(found) > _MAX_SHOWN:
        more = len(found) - _MAX_SHOWN
        found = [*found[:_MAX_SHOWN], f"… and {more} more files with a syntax error"]
    return found


def _shown(path: str) -> str:
    """`path` on one line: a name holding a newline or another control character
    is quoted with escapes, as JSON writes it."""
    return path if path.isprintable() else json.dumps(path, ensure_ascii=False)
