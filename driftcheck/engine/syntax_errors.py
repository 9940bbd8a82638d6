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
from driftcheck.report.syntax import warning_lines
from driftcheck.store.codec import Codec, Invalid, pack_plain, register, unpack_plain
from driftcheck.symbols.languages import frontend_for

_LINE = re.compile(r"\(line (\d+)\)")
_NAMESPACE = "parse-error"


def syntax_warnings(
    session: AnalysisSession,
    participants: Iterable[Participant],
    changed_by: Mapping[str, Iterable[str]],
) -> list[str]:
    """One line per changed source file that has a syntax error, by participant."""
    return warning_lines(syntax_errors(session, participants, changed_by))


def syntax_errors(
    session: AnalysisSession,
    participants: Iterable[Participant],
    changed_by: Mapping[str, Iterable[str]],
) -> list[tuple[str, str, str | None]]:
    """(participant, path, line) of each changed source file with a syntax error, in
    participant order, paths sorted: what a shard reports for merge-reports."""
    found: list[tuple[str, str, str | None]] = []
    for participant in participants:
        paths = sorted(p for p in changed_by.get(participant.name, ()) if frontend_for(p))
        errors = _parse_errors(session, participant.tree, paths) if paths else {}
        for path in paths:
            error = errors.get(path)
            if not error or not error.startswith("syntax error"):
                continue  # clean, or left unparsed for its size (said elsewhere)
            line = _LINE.search(error)
            found.append((participant.name, path, line.group(1) if line else None))
    return found


def _unpack_text(blob: bytes) -> str:
    value = unpack_plain(blob)
    if type(value) is not str:
        raise Invalid("expected text")
    return value


def _parse_errors(session: AnalysisSession, tree: str, paths: list[str]) -> dict[str, str]:
    """path -> its parse error ("" when it parses), kept by blob in the cache: a warm
    scan reads a short string per file instead of unpacking its symbol table."""
    keys = {}
    for path, oid in session.index.blob_ids(tree, paths).items():
        frontend = frontend_for(path)
        if frontend is not None:
            keys[f"{frontend.parser_version}:{oid}:{path}"] = path
    known = session.cache.get_many(_NAMESPACE, keys)
    missing = [key for key in keys if key not in known]
    if missing:
        # What a file defines is enough to know it does not parse (a lighter read
        # than its whole table, which the pairs may have loaded already).
        tables = session.index.definitions(tree, [keys[key] for key in missing])
        for key in missing:
            table = tables.get(keys[key])
            known[key] = (table.parse_error or "") if table is not None else ""
            session.cache.put(_NAMESPACE, key, known[key])
    return {keys[key]: error for key, error in known.items() if key in keys}


register(_NAMESPACE, Codec(pack_plain, _unpack_text))
