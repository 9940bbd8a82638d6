"""Inline ignores: a comment `driftcheck: ignore[<id>]` silences one finding.

The comment (`# driftcheck: ignore[dc-…]`, `// driftcheck: ignore[dc-…]`, several
ids separated by commas) sits on a line the finding cites, or on the line just
above it, in the file of either side of the pair. The text read is each side's
own: for a worktree the state it takes part with, uncommitted edits included (and
for a hook, the proposed edit), so whoever writes the comment sees it work at
once. Only the id is matched: a comment naming another finding, or far from every
cited line, silences nothing. An id is the JSON `id` (the plain one, or the one
with its occurrence number when several findings share their identity).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from driftcheck.model import Finding, Participant
from driftcheck.report.json_report import finding_ids

# After a comment opener: #, //, /*, --, ; or <!--. Ids are dc- and 16 hex digits.
_MARKER = re.compile(r"(?:#|//|/\*|--|;|<!--)\s*driftcheck:\s*ignore\[([^\]\n]{1,800})\]")
_MAX_SPAN = 400  # lines of one cited range looked at, at most
_MAX_DEPTH = 3  # how deep locations are looked for in a finding's details

# (tree, paths) -> {path: raw content} for the regular files among them
ContentReader = Callable[[str, list[str]], dict[str, bytes]]
_NEEDLE = b"driftcheck:"


def drop_inline_ignored(
    findings: list[Finding], participants: Iterable[Participant], read: ContentReader
) -> list[Finding]:
    """`findings` less those an inline comment silences. Every file the findings cite
    is read in one batch per side; only files that mention driftcheck are looked at."""
    if not findings:
        return findings
    trees = {p.name: p.tree for p in participants}
    places = {id(f): list(_places(f, trees)) for f in findings}
    wanted: dict[str, set[str]] = {}
    for found in places.values():
        for tree, path, _first, _last in found:
            wanted.setdefault(tree, set()).add(path)
    marked: dict[tuple[str, str], list[str]] = {}
    for tree, paths in wanted.items():
        for path, data in read(tree, sorted(paths)).items():
            if _NEEDLE in data and b"\0" not in data:
                text = data.decode("utf-8", "replace").replace("\r\n", "\n")
                marked[tree, path] = text.split("\n")
    if not marked:
        return findings
    ordered = sorted(findings, key=Finding.sort_key)
    numbered = dict(zip(map(id, ordered), finding_ids(ordered), strict=True))
    return [f for f in findings if not _silenced(places[id(f)], {f.id, numbered[id(f)]}, marked)]


def _places(finding: Finding, trees: Mapping[str, str]) -> Iterator[tuple[str, str, int, int]]:
    """(tree, path, first line, last line): each cited span in each side's file."""
    for participant, path, first, last in _cited(finding):
        sides = [participant] if participant in trees else dict.fromkeys(finding.participants)
        for side in sides:
            tree = trees.get(side or "")
            if tree is not None:
                yield tree, path, first, last


def _silenced(
    places: list[tuple[str, str, int, int]],
    wanted: set[str],
    marked: Mapping[tuple[str, str], list[str]],
) -> bool:
    for tree, path, first, last in places:
        lines = marked.get((tree, path))
        if lines is None:
            continue
        start, end = max(first - 1, 1), min(last, first + _MAX_SPAN, len(lines))
        for number in range(start, end + 1):
            for match in _MARKER.finditer(lines[number - 1]):
                if wanted & {part.strip() for part in match.group(1).split(",")}:
                    return True
    return False


def _cited(finding: Finding) -> Iterator[tuple[str | None, str, int, int]]:
    """(participant or None for either side, path, first line, last line) of every
    place the finding names."""
    details = finding.details
    if finding.path and isinstance(finding.line, int):
        yield None, finding.path, finding.line, finding.line
    if finding.path:
        numbers = details.get("lines")
        if isinstance(numbers, list):
            for number in numbers:
                if _is_line(number):
                    yield _side(details.get("caller")), finding.path, number, number
        for hunk in details.get("hunks") or ():
            for key in ("left", "right") if isinstance(hunk, dict) else ():
                span = hunk.get(key)
                if isinstance(span, list) and len(span) == 2 and all(map(_is_line, span)):
                    yield _side(details.get(key)), finding.path, span[0], span[1]
    yield from _locations(details, 0)


def _locations(value: Any, depth: int) -> Iterator[tuple[str | None, str, int, int]]:
    """Every {path, line[, end_line][, participant]} inside the details."""
    if depth > _MAX_DEPTH:
        return
    if isinstance(value, Mapping):
        path, line = value.get("path"), value.get("line")
        if isinstance(path, str) and _is_line(line):
            end = value.get("end_line")
            last = end if _is_line(end) and end >= line else line
            yield _side(value.get("participant")), path, line, last
        for inner in value.values():
            yield from _locations(inner, depth + 1)
    elif isinstance(value, list):
        for inner in value:
            yield from _locations(inner, depth + 1)


def _is_line(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _side(value: object) -> str | None:
    return value if isinstance(value, str) else None
