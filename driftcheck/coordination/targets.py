"""Claim targets: a symbol (`module.Class.method`) or a repository path, checked.

Targets come from agents and are shown to other agents, so they are validated
strictly and kept as plain data; anything malformed is a `bad-target` error.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from pathlib import Path

from driftcheck.store.claims import ClaimError, Target
from driftcheck.symbols.languages import frontend_for

MAX_TARGET = 300
# Module names may hold slashes (TypeScript, Go: `src/app/orders.top`).
_SEGMENT = r"[A-Za-z0-9_$@-]+(?:/[A-Za-z0-9_$@-]+)*"
_SYMBOL = re.compile(rf"^{_SEGMENT}(?:\.{_SEGMENT})*$")


def parse_target(text: object, root: Path) -> Target:
    """A path when it names a file or folder of the worktree or has a source file's
    extension (`shop/orders.py`); otherwise a dotted symbol name."""
    if not isinstance(text, str) or not text.strip():
        raise ClaimError("bad-target", "a target must be a non-empty string")
    text = text.strip()
    if len(text) > MAX_TARGET or any(ord(c) < 32 or c == "\x7f" for c in text):
        raise ClaimError("bad-target", f"malformed target {text[:60]!r}")
    if _is_dir(root, text) and not text.endswith("/"):
        text += "/"  # a folder: everything below it
    if text.endswith("/") or frontend_for(text) is not None or _is_file(root, text):
        return Target("path", _repo_path(text, root))
    if not _SYMBOL.match(text):
        raise ClaimError(
            "bad-target", f"{text[:60]!r} is neither a path nor a symbol like module.Class.method"
        )
    return Target("symbol", text)


def parse_targets(texts: Iterable[object], root: Path) -> list[Target]:
    return [parse_target(t, root) for t in texts]


def _is_file(root: Path, text: str) -> bool:
    try:
        return (root / text).is_file()
    except (OSError, ValueError):
        return False


def _is_dir(root: Path, text: str) -> bool:
    try:
        return (root / text).is_dir()
    except (OSError, ValueError):
        return False


def _repo_path(text: str, root: Path) -> str:
    """`text` as a path relative to the worktree's top, or a `bad-target` error."""
    folder = text.endswith("/")
    candidate = Path(text)
    if candidate.is_absolute():
        try:
            text = candidate.resolve().relative_to(root.resolve()).as_posix()
        except (ValueError, OSError):
            raise ClaimError("bad-target", f"{text[:60]!r} is outside the repository") from None
    normal = posixpath.normpath(text.replace("\\", "/"))
    if normal.startswith("../") or normal in ("..", ".") or normal.startswith("/"):
        raise ClaimError("bad-target", f"{text[:60]!r} is outside the repository")
    return normal + "/" if folder else normal


def covers(target: Target, *, path: str, qualname: str | None, module: str | None) -> bool:
    """Whether a claim on `target` covers an edit of `qualname` in `path`: the
    path or a folder above it, the symbol, a symbol inside it, its class, or the
    whole module."""
    if target.kind == "path":
        return path == target.name or (target.name.endswith("/") and path.startswith(target.name))
    if qualname is None:
        return target.name == module
    name = target.name
    if name in (qualname, module):
        return True
    return qualname.startswith(name + ".") or name.startswith(qualname + ".")
