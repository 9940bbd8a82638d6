"""textual-conflict: what `git merge` would report if the pair were merged today."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator

from driftcheck.detectors.context import PairContext
from driftcheck.model import TEXTUAL_CONFLICT, Finding, Severity
from driftcheck.symbols.index import MAX_PARSE_BYTES, SymbolIndex
from driftcheck.symbols.languages import frontend_for
from driftcheck.symbols.table import Symbol
from driftcheck.workspace import merge

CODES = {
    "content": "DC101",
    "add/add": "DC102",
    "modify/delete": "DC103",
    "rename/delete": "DC104",
    "binary": "DC105",
    "file/directory": "DC106",
    "rename/rename": "DC107",
    "distinct modes": "DC108",
}
OTHER_CODE = "DC109"
_CONFLICT_PREFIX = re.compile(r"^CONFLICT \([^)]*\):\s*")


def detect(context: PairContext) -> Iterator[Finding]:
    if not context.paths_meet:
        return
    left, right = context.pair.left, context.pair.right
    result = context.merge_result()
    if result is None:
        return
    left_commit, right_commit = context.state_commits()
    labels = {left_commit: left.name, right_commit: right.name}
    for conflict in result.conflicts:
        finding = _finding(conflict, left.name, right.name, labels)
        added = _member_adds(conflict, context.shared.index)
        if added is not None:
            owner, by_side = added
            names = [
                ", ".join(s.qualname.removeprefix(s.module + ".") for s in side) for side in by_side
            ]
            message = (
                f"{left.name} and {right.name} both add members to {owner} at the same place "
                f"in {finding.path} (an add/add of two members, not a disagreement): keep both "
                f"({left.name} adds {names[0]}; {right.name} adds {names[1]})"
            )
            members = {
                name: [s.qualname for s in side]
                for name, side in zip((left.name, right.name), by_side, strict=True)
            }
            details = {**finding.details, "resolution": "keep-both", "added_members": members}
            finding = dataclasses.replace(finding, message=message, details=details)
        yield finding


def _member_adds(
    conflict: merge.FileConflict, index: SymbolIndex
) -> tuple[str, tuple[list[Symbol], list[Symbol]]] | None:
    """(owners, members added by left and right) when, in every hunk, both sides only
    insert lines at the same base position and those lines belong to definitions that
    are new on that side (distinct ones: a name both add is a real disagreement);
    None otherwise. Definitions come from the symbol model, so this is language-neutral.
    git trims lines both sides share, so a hunk may hold only part of a definition."""
    frontend = frontend_for(conflict.path)
    if conflict.conflict_type != "content" or not conflict.hunks or frontend is None:
        return None
    if not {1, 2, 3} <= conflict.stages.keys():
        return None
    if any(len(c) > MAX_PARSE_BYTES for c in conflict.contents.values()):
        return None  # too large to parse (a 50 MB file took minutes and gigabytes)
    base = conflict.contents.get(1, b"")
    known = {s.qualname for s in _symbols(index, conflict.path, base)}
    found: list[list[Symbol]] = []
    places: list[list[tuple[str | None, frozenset[int]]]] = []
    for stage, side in ((2, "left"), (3, "right")):
        text = conflict.contents.get(stage, b"")
        lines = text.splitlines()
        inserted: dict[int, int] = {}  # side line (1-based) -> base position it goes in at
        codes = merge.line_opcodes(base.splitlines(), lines, exact=True)
        if codes is None:
            return None  # too big to tell exactly: it stays a plain conflict
        for tag, i1, _i2, j1, j2 in codes:
            if tag == "insert":
                inserted.update({j: i1 for j in range(j1 + 1, j2 + 1)})
        added = [s for s in _symbols(index, conflict.path, text) if s.qualname not in known]
        members: list[Symbol] = []
        places.append([])
        for hunk in conflict.hunks:
            span = getattr(hunk, side)
            if span is None:
                return None
            hits = [s for s in added if s.start_line <= span[1] and s.end_line >= span[0]]
            positions = set()
            for n in range(span[0], span[1] + 1):
                if _structural(lines[n - 1] if n <= len(lines) else b""):
                    continue  # blank, brace or comment: any side may hold it
                if n not in inserted or not any(s.start_line <= n <= s.end_line for s in hits):
                    return None  # a changed line, or one outside a new definition
                positions.add(inserted[n])
            parents = {s.parent for s in hits}
            if not hits or len(parents) != 1:
                return None
            members += [s for s in hits if s not in members]
            places[-1].append((parents.pop(), frozenset(positions)))
        found.append(members)
    qualnames = [{s.qualname for s in side} for side in found]
    if places[0] != places[1] or qualnames[0] & qualnames[1]:
        return None
    owners = dict.fromkeys(o.rpartition(".")[2] if o else conflict.path for o, _ in places[0])
    return ", ".join(owners), (found[0], found[1])


def _symbols(index: SymbolIndex, path: str, content: bytes) -> tuple[Symbol, ...]:
    """The definitions in one side of a conflict: the three sides are blobs the
    pair's analysis has mostly parsed already, so the index's tables serve."""
    table = index.definitions_of_content(path, content)
    return table.symbols if table is not None else ()


def _structural(line: bytes) -> bool:
    text = line.strip()
    return not text.strip(b"{}()[];,") or text.startswith((b"//", b"#", b"/*", b"*", b"--"))


def _finding(
    conflict: merge.FileConflict, left: str, right: str, labels: dict[str, str]
) -> Finding:
    messages = [_relabel(m, labels) for m in conflict.messages]
    ctype = conflict.conflict_type
    path = _relabel(conflict.path, labels)
    line = None
    if conflict.hunks:
        first = conflict.hunks[0]
        line = (first.left or first.right or (None,))[0]
    details = {
        "conflict_type": ctype,
        "left": left,
        "right": right,
        "hunks": [h.to_json() for h in conflict.hunks],
        "git_messages": messages,
        "git_path": path,
    }
    if conflict.related_paths:
        details["related_paths"] = [_relabel(p, labels) for p in conflict.related_paths]
    if conflict.too_large is not None:
        details["too_large_bytes"] = conflict.too_large  # read back by the run's stats
    if ctype in ("modify/delete", "rename/delete"):
        details["deleted_by"] = left if 2 not in conflict.stages else right
    if conflict.hunks and conflict.right_text:
        details["right_hunk"] = _excerpt(conflict.right_text)
    if conflict.hunks and conflict.left_text:
        details["left_hunk"] = _excerpt(conflict.left_text)
    return Finding(
        kind=TEXTUAL_CONFLICT,
        code=CODES.get(ctype, OTHER_CODE),
        severity=Severity.ERROR,
        participants=(left, right),
        path=_original_path(path, (left, right)),
        line=line,
        message=_message(conflict, left, right, messages),
        details=details,
    )


def _message(conflict: merge.FileConflict, left: str, right: str, messages: list[str]) -> str:
    ctype, path = conflict.conflict_type, conflict.path
    if ctype in ("content", "add/add") and conflict.hunks:
        spans = "; ".join(_hunk_text(h, left, right) for h in conflict.hunks[:3])
        more = f" (+{len(conflict.hunks) - 3} more)" if len(conflict.hunks) > 3 else ""
        what = "both add" if ctype == "add/add" else "both change"
        return f"{left} and {right} {what} {path} in overlapping lines: {spans}{more}"
    if ctype == "modify/delete":
        deleter = left if 2 not in conflict.stages else right
        keeper = right if deleter == left else left
        return f"{deleter} deletes {path} while {keeper} modifies it"
    if ctype == "binary":
        return f"{left} and {right} both change binary file {path}; git cannot merge it"
    if messages:
        return f"{left} and {right}: {_CONFLICT_PREFIX.sub('', messages[0]).strip()}"
    return f"{left} and {right} conflict on {path} ({ctype})"


def _hunk_text(hunk: merge.Hunk, left: str, right: str) -> str:
    def span(r: tuple[int, int] | None) -> str:
        if r is None:
            return "deletes the lines"
        if r[0] == r[1]:
            return f"line {r[0]}"
        return f"lines {r[0]} and {r[1]}" if r[1] == r[0] + 1 else f"lines {r[0]}-{r[1]}"

    if hunk.left is not None and hunk.left == hunk.right:
        return f"{span(hunk.left)} on both sides"  # "lines 12 and 13 on both sides"
    return f"{left} {span(hunk.left)} vs {right} {span(hunk.right)}"


def _original_path(path: str, names: tuple[str, str]) -> str:
    """git parks one side of a file/directory clash at `path~side`; point at `path`."""
    for name in names:
        if path.endswith("~" + name):
            return path[: -len(name) - 1]
    return path


def _relabel(message: str, labels: dict[str, str]) -> str:
    for oid, name in labels.items():
        message = message.replace(oid, name)
    return message


def _excerpt(lines: list[bytes], limit: int = 40) -> str:
    text = b"".join(lines[:limit]).decode("utf-8", "replace")
    return text + ("…\n" if len(lines) > limit else "")
