"""The persistent cache: SQLite (WAL) in `<git common dir>/driftcheck/`.

All worktrees share it. Values are keyed by what determines them exactly (a blob
id plus parser version, a pair of commit ids), so an entry never goes stale; it
only ages out when the cache outgrows its bound. The cache is best effort: a
locked, corrupt or old-version database is rebuilt or skipped, never fatal.

Values are plain msgpack data, written and read by the codec registered for their
namespace (`store/codec.py`): a `.git` can come from someone else (an archive, a
shared folder), so nothing read from it may run code, and no value is ever
unpickled. A value that does not validate is dropped like a miss; a value of a
namespace without a codec is never written.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from driftcheck.parallel import collector_paused
from driftcheck.store.codec import codec_for

# 6: plain msgpack values instead of pickles (older caches are dropped whole).
SCHEMA_VERSION = 6
DEFAULT_MAX_BYTES = 256 * 1024 * 1024
_FILE = "cache.sqlite3"
_BUSY_MS = 3000


class Cache:
    """Namespaced key -> value store. Every method swallows SQLite errors."""

    def __init__(self, directory: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.directory = directory
        self.path = directory / _FILE
        self.max_bytes = max_bytes
        self._db: sqlite3.Connection | None = None
        self._pending: dict[tuple[str, str], bytes] = {}
        self.errors: list[str] = []  # writes and trims skipped (best effort)

    # -- connection -------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection | None:
        if self._db is not None:
            return self._db
        for attempt in (1, 2):
            try:
                self.directory.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self.path, timeout=_BUSY_MS / 1000, isolation_level=None)
                db.execute(f"PRAGMA busy_timeout={_BUSY_MS}")
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
                self._prepare(db)
                self._db = db
                return db
            except sqlite3.DatabaseError as exc:  # rebuilt once when corrupt, else skipped
                if attempt == 1 and _looks_corrupt(exc):
                    self._remove_files()
                    continue
                return None
            except OSError:  # a read-only .git, say: run without the cache
                return None
        return None

    def _prepare(self, db: sqlite3.Connection) -> None:
        db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        row = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        if row is not None and row[0] == str(SCHEMA_VERSION):
            return
        # Old or unknown layout: start over (entries are derived data).
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("DROP TABLE IF EXISTS entries")
            db.execute(
                "CREATE TABLE entries (ns TEXT, key TEXT, value BLOB, size INTEGER, "
                "used REAL, PRIMARY KEY (ns, key)) WITHOUT ROWID"
            )
            db.execute("CREATE INDEX IF NOT EXISTS entries_used ON entries (used)")
            db.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema', ?)",
                (str(SCHEMA_VERSION),),
            )
            db.execute("COMMIT")
        except sqlite3.DatabaseError:
            db.execute("ROLLBACK")
            raise

    def _remove_files(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(OSError):
                Path(str(self.path) + suffix).unlink()

    # -- values -------------------------------------------------------------------
    def get_many(self, namespace: str, keys: Iterable[str]) -> dict[str, Any]:
        original = {_storable(k): k for k in keys}
        # What this process put and has not flushed yet first: a long-lived process
        # (the daemon) would otherwise ask git and parse again, call after call.
        rows = [(k, b) for k in original if (b := self._pending.get((namespace, k))) is not None]
        wanted = [k for k in original if (namespace, k) not in self._pending]
        db = self._connect()
        codec = codec_for(namespace)
        if codec is None:
            return {}
        if db is not None and wanted:
            try:
                for start in range(0, len(wanted), 500):
                    chunk = wanted[start : start + 500]
                    marks = ",".join("?" * len(chunk))
                    rows += db.execute(
                        f"SELECT key, value FROM entries WHERE ns = ? AND key IN ({marks})",
                        (namespace, *chunk),
                    ).fetchall()
            except sqlite3.DatabaseError:
                pass  # best effort: a failed read is a miss
        found: dict[str, Any] = {}
        with collector_paused():  # thousands of objects, no cycles
            for key, blob in rows:
                try:
                    found[original.get(key, key)] = codec.unpack(blob)
                except Exception:  # a value that does not validate is a miss
                    continue
        return found

    def get(self, namespace: str, key: str) -> Any | None:
        return self.get_many(namespace, [key]).get(key)

    def put(self, namespace: str, key: str, value: Any) -> None:
        """Queued; written in one transaction by `flush()`."""
        codec = codec_for(namespace)
        if codec is None:
            return
        with contextlib.suppress(Exception):  # a value the codec refuses is not cached
            self._pending[namespace, _storable(key)] = codec.pack(value)

    def flush(self) -> None:
        if not self._pending:
            return
        db = self._connect()
        pending, self._pending = self._pending, {}
        if db is None:
            return
        now = time.time()
        rows = [(ns, key, blob, len(blob), now) for (ns, key), blob in pending.items()]
        try:
            db.execute("BEGIN IMMEDIATE")
            db.executemany("INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?, ?)", rows)
            db.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            with contextlib.suppress(sqlite3.DatabaseError):
                db.execute("ROLLBACK")
            self.errors.append(f"cache write skipped: {exc}")
            return
        self._bound(db)

    def _bound(self, db: sqlite3.Connection) -> None:
        """Drop the least recently written entries once the cache outgrows its bound."""
        try:
            # The file size is a cheap upper bound of what the entries hold.
            if self.path.stat().st_size <= self.max_bytes:
                return
            target = int(self.max_bytes * 0.7)
            db.execute("BEGIN IMMEDIATE")
            running = 0
            cutoff = None
            for used, size in db.execute("SELECT used, size FROM entries ORDER BY used DESC"):
                running += size
                if running > target:
                    cutoff = used
                    break
            if cutoff is not None:
                db.execute("DELETE FROM entries WHERE used <= ?", (cutoff,))
            db.execute("COMMIT")
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            db.execute("VACUUM")
        except (sqlite3.DatabaseError, OSError) as exc:
            with contextlib.suppress(sqlite3.DatabaseError):
                db.execute("ROLLBACK")
            self.errors.append(f"cache trim skipped: {exc}")

    # -- management -----------------------------------------------------------------
    def info(self) -> dict[str, Any]:
        db = self._connect()
        details: dict[str, Any] = {"path": str(self.path), "schema": SCHEMA_VERSION}
        size = sum(
            Path(str(self.path) + s).stat().st_size
            for s in ("", "-wal")
            if Path(str(self.path) + s).exists()
        )
        details["bytes_on_disk"] = size
        details["max_bytes"] = self.max_bytes
        if db is not None:
            try:
                details["entries"] = {
                    ns: {"count": count, "bytes": total}
                    for ns, count, total in db.execute(
                        "SELECT ns, COUNT(*), SUM(size) FROM entries GROUP BY ns ORDER BY ns"
                    )
                }
            except sqlite3.DatabaseError as exc:
                details["error"] = str(exc)
        return details

    def close(self) -> None:
        if self._db is not None:
            with contextlib.suppress(sqlite3.DatabaseError):
                self.flush()
                self._db.close()
            self._db = None


class NoCache(Cache):
    """`--no-cache`: the same interface, remembering nothing."""

    def __init__(self) -> None:
        super().__init__(Path(os.devnull))

    def _connect(self) -> sqlite3.Connection | None:
        return None

    def put(self, namespace: str, key: str, value: Any) -> None:
        pass  # not even until a flush: a run without the cache computes everything


def _storable(key: str) -> str:
    """Keys hold file paths, which may carry undecodable bytes as surrogates; SQLite
    takes only valid UTF-8, so those are spelled out (the same way every time)."""
    try:
        key.encode("utf-8")
        return key
    except UnicodeEncodeError:
        raw = key.encode("utf-8", "surrogateescape")
        return raw.decode("utf-8", "backslashreplace")


def _looks_corrupt(exc: sqlite3.DatabaseError) -> bool:
    text = str(exc).lower()
    return any(w in text for w in ("not a database", "malformed", "corrupt", "disk image"))


def cache_enabled(enabled: bool = True) -> bool:
    """False with --no-cache or DRIFTCHECK_NO_CACHE=1."""
    return enabled and os.environ.get("DRIFTCHECK_NO_CACHE") != "1"


def open_cache(cache_dir: Path, *, enabled: bool = True) -> Cache:
    """The cache in `cache_dir` (a repository's `RepoInfo.cache_dir`)."""
    if not cache_enabled(enabled):
        return NoCache()
    return Cache(cache_dir)
