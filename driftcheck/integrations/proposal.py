"""What an agent is about to write, computed in memory from its tool call.

Claude Code sends Write (`content`), Edit (`old_string`/`new_string`/`replace_all`)
and MultiEdit (`edits[]`); Codex sends an `apply_patch` body. Each becomes the
proposed full content of every file it touches. Nothing is written anywhere.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from driftcheck.errors import DriftcheckError

CLAUDE_EDIT_TOOLS = ("Write", "Edit", "MultiEdit")
# A proposal larger than this is not judged (the hook allows it and says so).
MAX_PROPOSAL_BYTES = 8_000_000


class ProposalError(DriftcheckError):
    """The tool call cannot be turned into file contents; hooks fail open on it."""


@dataclass(frozen=True)
class ProposedFile:
    path: Path  # absolute
    content: bytes | None  # None: the edit deletes the file


def _absolute(raw: object, cwd: Path | None) -> Path:
    """`raw` as an absolute path; relative ones count from `cwd`, or are refused
    without one (Claude Code always sends absolute paths: a relative one is a guess)."""
    if not isinstance(raw, str) or not raw.strip() or "\0" in raw:
        raise ProposalError("tool_input has no usable file_path")
    path = Path(raw)
    if path.is_absolute():
        return path
    if cwd is None:
        raise ProposalError(f"file_path is not absolute: {raw}")
    return cwd / path


def read_regular(path: Path, limit: int = MAX_PROPOSAL_BYTES) -> bytes:
    """A regular file's bytes, at most `limit` of them; ProposalError for anything
    else. Opened without blocking (a FIFO would wait for a writer forever) and
    checked on the open descriptor, so a symlink to /dev/zero or a device is refused
    before a byte is read."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError as exc:
        raise ProposalError(f"{path} does not exist, so the edit cannot apply") from exc
    except OSError as exc:
        raise ProposalError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        found = os.fstat(fd)
        if not stat.S_ISREG(found.st_mode):
            raise ProposalError(f"{path} is not a regular file, so it is not judged")
        if found.st_size > limit:
            raise ProposalError(f"{path} is larger than {limit} bytes, so it is not judged")
        chunks, size = [], 0
        while size <= limit and (chunk := os.read(fd, min(1 << 20, limit + 1 - size))):
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise ProposalError(f"cannot read {path}: {exc.strerror}") from exc
    finally:
        os.close(fd)
    if size > limit:  # it grew while being read
        raise ProposalError(f"{path} is larger than {limit} bytes, so it is not judged")
    return b"".join(chunks)


def _current_text(path: Path) -> str:
    # surrogateescape round-trips bytes that are not UTF-8.
    return read_regular(path).decode("utf-8", "surrogateescape")


def _encode(text: str) -> bytes:
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        # A lone surrogate from the JSON ("\ud800") that is no escaped byte: the
        # agent's editor writes U+FFFD for it, so the proposal holds that too.
        fixed = "".join("\ufffd" if _lone(c) else c for c in text)
        return fixed.encode("utf-8", "surrogateescape")


def _lone(char: str) -> bool:
    return "\ud800" <= char <= "\udfff" and not "\udc80" <= char <= "\udcff"


def apply_edit(text: str, old: str, new: str, *, replace_all: bool = False) -> str:
    """The text after one Edit, or ProposalError where Claude Code would refuse it."""
    if old == "":
        if text == "":
            return new
        raise ProposalError("old_string is empty but the file is not")
    count = text.count(old)
    if count == 0:
        raise ProposalError("old_string not found in the file")
    if count > 1 and not replace_all:
        raise ProposalError(f"old_string occurs {count} times and replace_all is false")
    # Sized before it is built: forty doubling replace_all edits of a small file would
    # otherwise grow it to gigabytes. (A character is at least one byte.)
    size = len(text) + (count if replace_all else 1) * (len(new) - len(old))
    if size > MAX_PROPOSAL_BYTES:
        raise ProposalError(f"the edited file would be larger than {MAX_PROPOSAL_BYTES} bytes")
    return text.replace(old, new) if replace_all else text.replace(old, new, 1)


def from_claude(payload: Mapping[str, Any], cwd: Path) -> list[ProposedFile]:
    tool = payload.get("tool_name")
    tool_input = payload.get("tool_input")
    if not isinstance(tool_input, Mapping):
        raise ProposalError("tool_input is missing or not an object")
    path = _absolute(tool_input.get("file_path"), None)
    if tool == "Write":
        content = tool_input.get("content")
        if not isinstance(content, str):
            raise ProposalError("Write has no string content")
        return [ProposedFile(path, _encode(content))]
    if tool == "Edit":
        text = _edit_base(path, tool_input)
        old, new, replace_all = _edit_args(tool_input)
        text = apply_edit(text, old, new, replace_all=replace_all)
        return [ProposedFile(path, _encode(text))]
    if tool == "MultiEdit":
        edits = tool_input.get("edits")
        if not isinstance(edits, list) or not edits:
            raise ProposalError("MultiEdit has no edits")
        first = edits[0] if isinstance(edits[0], Mapping) else {}
        text = _edit_base(path, first)
        for edit in edits:
            if not isinstance(edit, Mapping):
                raise ProposalError("MultiEdit edit is not an object")
            old, new, replace_all = _edit_args(edit)
            text = apply_edit(text, old, new, replace_all=replace_all)
        return [ProposedFile(path, _encode(text))]
    raise ProposalError(f"unsupported tool {tool!r}")


def _edit_base(path: Path, edit: Mapping[str, Any]) -> str:
    # An Edit whose old_string is empty creates a new file.
    if edit.get("old_string") == "" and not path.exists():
        return ""
    return _current_text(path)


def _edit_args(edit: Mapping[str, Any]) -> tuple[str, str, bool]:
    old, new = edit.get("old_string"), edit.get("new_string")
    if not isinstance(old, str) or not isinstance(new, str):
        raise ProposalError("edit needs string old_string and new_string")
    return old, new, edit.get("replace_all") is True


def from_codex(payload: Mapping[str, Any], cwd: Path) -> list[ProposedFile]:
    tool_input = payload.get("tool_input")
    if not isinstance(tool_input, Mapping):
        raise ProposalError("tool_input is missing or not an object")
    patch = tool_input.get("command", tool_input.get("patch"))
    if isinstance(patch, list):  # some callers send argv: ["apply_patch", "<patch>"]
        patch = next((p for p in patch if isinstance(p, str) and "*** " in p), None)
    if not isinstance(patch, str):
        raise ProposalError("apply_patch body not found in tool_input.command")
    return parse_apply_patch(patch, cwd)


_HEADERS = ("*** Update File: ", "*** Add File: ", "*** Delete File: ")


def parse_apply_patch(patch: str, cwd: Path) -> list[ProposedFile]:
    """Proposed contents for every file an `apply_patch` body touches."""
    # Lines end at "\n" (and lose one "\r" before it), nothing else.
    lines = [line.removesuffix("\r") for line in patch.strip().split("\n")]
    if not any(line.startswith(_HEADERS) for line in lines):
        raise ProposalError("no *** Update/Add/Delete File header in the patch")
    results: list[ProposedFile] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("*** Add File: "):
            path = _absolute(line[len("*** Add File: ") :].strip(), cwd)
            body, i = _section(lines, i + 1)
            added = [b[1:] for b in body if b.startswith("+")]
            results.append(ProposedFile(path, _encode("".join(a + "\n" for a in added))))
        elif line.startswith("*** Delete File: "):
            path = _absolute(line[len("*** Delete File: ") :].strip(), cwd)
            results.append(ProposedFile(path, None))
            i += 1
        elif line.startswith("*** Update File: "):
            path = _absolute(line[len("*** Update File: ") :].strip(), cwd)
            body, i = _section(lines, i + 1)
            target = path
            if body and body[0].startswith("*** Move to: "):
                target = _absolute(body[0][len("*** Move to: ") :].strip(), cwd)
                body = body[1:]
            text = _apply_hunks(_current_text(path), body, path)
            if target != path:
                results.append(ProposedFile(path, None))
            results.append(ProposedFile(target, _encode(text)))
        else:
            i += 1
    return results


def _section(lines: list[str], start: int) -> tuple[list[str], int]:
    end = start
    while end < len(lines) and not lines[end].startswith((*_HEADERS, "*** End Patch")):
        end += 1
    return lines[start:end], end


def _apply_hunks(text: str, body: list[str], path: Path) -> str:
    """Apply `@@`-separated hunks of context (' '), removals ('-') and additions ('+').

    Lines are split on "\n" only (a CR or form feed stays part of its line), and the
    result ends with a newline, as `apply_patch` writes it.
    """
    current = text.split("\n")
    if current and current[-1] == "":
        current.pop()
    cursor = 0
    for anchors, hunk in _hunks(body):
        for anchor in anchors:  # `@@ class A` then `@@ def f`: narrow down in order
            found = _find(current, [anchor], cursor)
            if found is None:
                raise ProposalError(f"patch context {anchor!r} not found in {path.name}")
            cursor = found + 1
        old = [h[1:] for h in hunk if h[:1] in (" ", "-") or h == ""]
        new = [h[1:] for h in hunk if h[:1] in (" ", "+") or h == ""]
        if _size(current) + _size(new) - _size(old) > MAX_PROPOSAL_BYTES:
            raise ProposalError(f"the patched file would exceed {MAX_PROPOSAL_BYTES} bytes")
        if not old:  # a pure addition goes at the end of the file
            current.extend(new)
            cursor = len(current)
            continue
        at = _find(current, old, cursor)
        if at is None and len(old) > 1 and old[-1] == "":  # a trailing blank may be the EOF
            old, new = old[:-1], new[:-1] if new and new[-1] == "" else new
            at = _find(current, old, cursor)
        if at is None:
            at = _find(current, old, 0)
        if at is None:
            raise ProposalError(f"patch context not found in {path.name}")
        current[at : at + len(old)] = new
        cursor = at + len(new)
    return "".join(line + "\n" for line in current)


def _size(lines: list[str]) -> int:
    return sum(len(line) + 1 for line in lines)


def _hunks(body: list[str]) -> list[tuple[list[str], list[str]]]:
    """(anchors, lines) per hunk; consecutive `@@` lines all anchor the next hunk."""
    hunks: list[tuple[list[str], list[str]]] = []
    anchors: list[str] = []
    lines: list[str] = []
    for line in body:
        if line.startswith("@@"):
            if lines:
                hunks.append((anchors, lines))
                anchors, lines = [], []
            if line[2:].strip():
                anchors.append(line[2:].strip())
        elif line.startswith("*** End of File"):
            continue
        else:
            lines.append(line)
    if lines:
        hunks.append((anchors, lines))
    return hunks


def _find(haystack: list[str], needle: list[str], start: int) -> int | None:
    """First index >= start where `needle` occurs; exact, then ignoring trailing space."""
    for normalise in (lambda s: s, str.rstrip, str.strip):
        wanted = [normalise(n) for n in needle]
        for i in range(start, len(haystack) - len(needle) + 1):
            if [normalise(h) for h in haystack[i : i + len(needle)]] == wanted:
                return i
    return None
