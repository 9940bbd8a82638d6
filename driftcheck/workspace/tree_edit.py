"""Put a few files into a git tree in-process: the trees along their paths are
read, changed and written back as loose objects of driftcheck's scratch store.

Judging a proposed edit needs the worktree's state with the proposal in it. Going
through an index (copy it, `update-index`, `write-tree`) costs three git processes
per judgement; the daemon knows the state's tree already, and only the trees above
the edited files change. Objects are written the way git writes loose objects
(`<type> <size>\\0<body>`, zlib-compressed, named by their hash), so git reads
them like its own.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import zlib
from collections.abc import Callable, Mapping
from pathlib import Path

TREE_MODE = "40000"
_FILE_MODES = ("100644", "100755")

ReadTrees = Callable[[list[str]], dict[str, bytes]]


class CannotEdit(Exception):
    """A file would replace a folder or go below a file, or a tree is unreadable:
    left to the index way, which says what git says."""


def edit_tree(tree: str, files: Mapping[str, str | None], read: ReadTrees, objects: Path) -> str:
    """`tree` with `files` (path -> blob id; None deletes the file) put in; new trees
    are written to the object store `objects`. Like `git update-index --cacheinfo`,
    a file keeps its mode when it has a regular one, and is 100644 otherwise."""
    writer = _Writer(objects, hashlib.sha256 if len(tree) == 64 else hashlib.sha1)
    found = _edit(tree, dict(files), read, writer)
    return found if found is not None else writer.write(b"")


def _edit(
    tree: str | None, files: dict[str, str | None], read: ReadTrees, writer: _Writer
) -> str | None:
    raw = read([tree]).get(tree) if tree else b""
    if raw is None:
        raise CannotEdit(f"tree {tree} is unreadable")
    entries = parse_tree(raw, writer.width)
    nested: dict[str, dict[str, str | None]] = {}
    for path, blob in files.items():
        head, sep, rest = path.partition("/")
        if sep:
            nested.setdefault(head, {})[rest] = blob
            continue
        mode, _ = entries.get(head, ("", ""))
        if blob is None:
            if mode != TREE_MODE:
                entries.pop(head, None)
        elif mode == TREE_MODE:
            raise CannotEdit(path)
        else:
            entries[head] = (mode if mode in _FILE_MODES else "100644", blob)
    for name, below in nested.items():
        mode, oid = entries.get(name, ("", ""))
        if mode and mode != TREE_MODE:
            if all(blob is None for blob in below.values()):
                continue  # nothing can be deleted below a file
            raise CannotEdit(name)
        changed = _edit(oid or None, below, read, writer)
        if changed is None:
            entries.pop(name, None)  # git keeps no empty folders
        else:
            entries[name] = (TREE_MODE, changed)
    return writer.write(serialize_tree(entries)) if entries else None


def parse_tree(body: bytes, width: int = 20) -> dict[str, tuple[str, str]]:
    """name -> (mode, object id) from a raw tree object; ids are `width` bytes (20
    for SHA-1, 32 for SHA-256)."""
    entries: dict[str, tuple[str, str]] = {}
    at = 0
    while at < len(body):
        space = body.index(b" ", at)
        nul = body.index(b"\0", space)
        name = os.fsdecode(body[space + 1 : nul])
        entries[name] = (body[at:space].decode(), body[nul + 1 : nul + 1 + width].hex())
        at = nul + 1 + width
    return entries


def serialize_tree(entries: Mapping[str, tuple[str, str]]) -> bytes:
    # git orders entries by name, a folder's name as if it ended with "/".
    def order(name: str) -> bytes:
        return os.fsencode(name) + (b"/" if entries[name][0] == TREE_MODE else b"")

    return b"".join(
        f"{entries[name][0]} ".encode()
        + os.fsencode(name)
        + b"\0"
        + bytes.fromhex(entries[name][1])
        for name in sorted(entries, key=order)
    )


class _Writer:
    def __init__(self, objects: Path, algorithm: Callable[..., hashlib._Hash]) -> None:
        self.objects = objects
        self.algorithm = algorithm
        self.width = algorithm().digest_size

    def write(self, body: bytes) -> str:
        data = b"tree %d\0" % len(body) + body
        oid = self.algorithm(data).hexdigest()
        target = self.objects / oid[:2] / oid[2:]
        if not target.exists():
            target.parent.mkdir(exist_ok=True)
            fd, partial = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as handle:
                handle.write(zlib.compress(data))
            os.replace(partial, target)
        return oid
