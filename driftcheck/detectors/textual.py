"""textual-conflict: what `git merge` would report if the pair were merged today."""

from __future__ import annotations

import re
from collections.abc import Iterator

from driftcheck import merge
from driftcheck.detectors import PairContext
from driftcheck.model import TEXTUAL_CONFLICT, Finding, Severity

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
    if not left.state_commit or not right.state_commit:
        return
    result = merge.simulate(
        left.state_commit, right.state_commit, cwd=context.cwd, scratch=context.scratch
    )
    context.facts["merge_result"] = result
    labels = {left.state_commit: left.name, right.state_commit: right.name}
    for conflict in result.conflicts:
        yield _finding(conflict, left.name, right.name, labels)


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
        return f"line {r[0]}" if r[0] == r[1] else f"lines {r[0]}-{r[1]}"

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
