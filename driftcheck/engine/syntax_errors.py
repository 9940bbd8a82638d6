"""A file that does not parse is analysed only in part: the scan says so.

The frontends recover what they can from a file with a syntax error (every
top-level statement that parses on its own, tree-sitter's error recovery), so a
stale caller or duplicate inside the broken part goes unseen. The scan names each
changed file that has one, with the participant and line, as a one-line warning.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from driftcheck.engine.session import AnalysisSession
from driftcheck.model import Participant
from driftcheck.symbols.languages import frontend_for

_LINE = re.compile(r"\(line (\d+)\)")
_MAX_SHOWN = 20  # warnings about single files; the rest are counted


def syntax_warnings(
    session: AnalysisSession,
    participants: Iterable[Participant],
    changed_by: Mapping[str, Iterable[str]],
) -> list[str]:
    """One line per changed source file that has a syntax error, by participant."""
    found: list[str] = []
    for participant in participants:
        paths = sorted(p for p in changed_by.get(participant.name, ()) if frontend_for(p))
        if not paths:
            continue
        tables = session.index.tables(participant.tree, paths)
        for path in paths:
            table = tables.get(path)
            error = table.parse_error if table is not None else None
            if not error or not error.startswith("syntax error"):
                continue  # clean, or left unparsed for its size (said elsewhere)
            line = _LINE.search(error)
            where = f" at line {line.group(1)}" if line else ""
            found.append(
                f"{participant.name}: {path} has a syntax error{where}; "
                "its symbols were analysed only where they parse"
            )
    if len(found) > _MAX_SHOWN:
        more = len(found) - _MAX_SHOWN
        found = [*found[:_MAX_SHOWN], f"… and {more} more files with a syntax error"]
    return found
