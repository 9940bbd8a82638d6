"""Many object reads through one long-lived `git cat-file --batch-command`.

A hook reads a few blobs at a time, pair after pair; a process per read costs
more than the reads. One process answers them all. Requests go in small batches
that fit in the pipe, so writing them can never wait on git writing answers.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO

from driftcheck.errors import GitError
from driftcheck.workspace import git

# Past this many blobs, one process of their own reads them faster. Below it, the
# requests (~50 bytes each) all fit in a pipe at once.
BATCH_ALONE = 64
# Files larger than this are not analysed anywhere (the hooks' "too large" limit):
# their blobs are never read into memory, and kept states never store them.
MAX_BLOB_BYTES = 8_000_000
_CHUNK = 1 << 20
# What a kept state records for a file larger than that, instead of its blob: its
# real blob id (the same content gives the same stand-in) and size.
_STAND_IN = b"driftcheck: not kept, too large to analyse: blob %s, %d bytes\n"
_STAND_IN_START = _STAND_IN.split(b"%")[0]


def stand_in(oid: str, size: int) -> bytes:
    return _STAND_IN % (oid.encode("ascii"), size)


def stand_in_size(content: bytes) -> int | None:
    """The size of the file a stand-in blob replaces; None for any other content."""
    if not content.startswith(_STAND_IN_START) or len(content) > 200:
        return None
    size = content.rstrip(b"\n").rpartition(b", ")[2].removesuffix(b" bytes")
    return int(size) if size.isdigit() else None


class ObjectReader:
    def __init__(
        self,
        *,
        cwd: str | Path,
        env: Mapping[str, str] | None = None,
        max_bytes: int = MAX_BLOB_BYTES,
    ) -> None:
        self.cwd = cwd
        self.env = dict(env or {})
        self.max_bytes = max_bytes
        # Blobs left unread for their size: oid -> bytes.
        self.oversized: dict[str, int] = {}
        self._child: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    def blobs(self, oids: Iterable[str]) -> dict[str, bytes]:
        """oid -> content, for the oids that name blobs of at most `max_bytes`
        (larger ones are listed in `oversized`)."""
        wanted = list(dict.fromkeys(oids))
        if not wanted:
            return {}
        if len(wanted) > BATCH_ALONE:
            return git.read_blobs(
                wanted,
                cwd=self.cwd,
                env=self.env,
                max_bytes=self.max_bytes,
                oversized=self.oversized,
            )
        return self._read(wanted, b"blob")

    def trees(self, oids: Iterable[str]) -> dict[str, bytes]:
        """oid -> raw content, for the oids that name trees."""
        wanted = list(dict.fromkeys(oids))
        found: dict[str, bytes] = {}
        for start in range(0, len(wanted), BATCH_ALONE):
            found.update(self._read(wanted[start : start + BATCH_ALONE], b"tree"))
        return found

    def _read(self, wanted: list[str], kind: bytes) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        with self._lock:
            stdin, stdout = self._pipes()
            try:
                # All requests first: at most BATCH_ALONE of them fit in the pipe, so
                # writing them never waits on git writing answers.
                stdin.write(b"".join(b"contents %s\n" % o.encode("ascii") for o in wanted))
                stdin.flush()
                for oid in wanted:
                    content = _answer(stdout, kind, self.max_bytes, oid, self.oversized)
                    if content is not None:
                        found[oid] = content
            except (OSError, ValueError) as exc:
                self._stop()
                raise GitError(["cat-file", "--batch-command"], -1, str(exc)) from exc
        return found

    def close(self) -> None:
        with self._lock:
            self._stop()

    def _pipes(self) -> tuple[IO[bytes], IO[bytes]]:
        if self._child is None:
            self._child = git.start_git(
                ["cat-file", "--batch-command"], cwd=self.cwd, env=self.env, stdin=True
            )
        assert self._child.stdin is not None and self._child.stdout is not None
        return self._child.stdin, self._child.stdout

    def _stop(self) -> None:
        child, self._child = self._child, None
        if child is None:
            return
        try:
            if child.stdin is not None:
                child.stdin.close()
            child.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            pass
        git.kill(child)
        for stream in (child.stdout, child.stderr):
            if stream is not None:
                stream.close()


def _answer(
    stdout: IO[bytes], kind: bytes, max_bytes: int, oid: str, oversized: dict[str, int]
) -> bytes | None:
    """One answer: the object's content, or None (missing, not of that kind, or a
    blob larger than `max_bytes`: read past in chunks, never held)."""
    header = stdout.readline()
    if not header.endswith(b"\n"):
        raise ValueError("git cat-file stopped answering")
    fields = header.split()
    if len(fields) != 3 or not fields[2].isdigit():
        return None  # "<oid> missing" or "<oid> ambiguous"
    size = int(fields[2])
    if fields[1] == b"blob" and size > max_bytes:
        for start in range(0, size + 1, _CHUNK):
            _read_exactly(stdout, min(_CHUNK, size + 1 - start))
        oversized[oid] = size
        return None
    data = _read_exactly(stdout, size + 1)[:size]
    return data if fields[1] == kind else None


def _read_exactly(stdout: IO[bytes], size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = stdout.read(left)
        if not chunk:
            raise ValueError("git cat-file stopped answering")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
