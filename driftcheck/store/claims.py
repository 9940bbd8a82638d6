"""Explicit claims: "this worktree is about to change these symbols", with an expiry.

Claims live in `<git common dir>/driftcheck/claims.sqlite3`, beside the cache and
shared by every worktree. SQLite in WAL mode with `BEGIN IMMEDIATE` makes them safe
for concurrent writers (several agents claiming at once); unlike the cache they are
not derived data, so this store never drops a database it cannot read silently: it
raises `ClaimError`, which the doors turn into a structured error.

A claim belongs to the worktree that made it (its top folder, resolved): only that
worktree may release it. Expired claims stop counting at once and are purged a day
later, so a late `release` can still say "expired" rather than "unknown".
"""

from __future__ import annotations

import json
import re
import secrets
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from driftcheck.errors import UsageError

_FILE = "claims.sqlite3"
_BUSY_MS = 5000
_SCHEMA = "1"
_PURGE_AFTER_S = 24 * 3600
DEFAULT_TTL_MINUTES = 60
MAX_TTL_MINUTES = 7 * 24 * 60
MAX_TARGETS = 50
MAX_INTENT = 200
_ID = re.compile(r"^c[0-9a-f]{10}$")
# Other agents' text reaches an agent's context: control characters never do.
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\u202a-\u202e\u2066-\u2069]")

TargetKind = Literal["symbol", "path"]


class ClaimError(UsageError):
    """A claim request that cannot be honoured; `code` is stable for tools."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Target:
    kind: TargetKind
    name: str  # a dotted qualname (`shop.orders.Order.total`) or a repository path

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "name": self.name}


@dataclass(frozen=True)
class Claim:
    id: str
    worktree: str  # the owner's top folder, resolved
    label: str  # the owner's branch (or folder name) when it claimed: for people
    targets: tuple[Target, ...]
    intent: str
    created: float
    expires: float

    def expired(self, now: float | None = None) -> bool:
        return (time.time() if now is None else now) >= self.expires

    def age_minutes(self, now: float | None = None) -> int:
        return max(0, int(((time.time() if now is None else now) - self.created) // 60))

    def to_json(self, now: float | None = None) -> dict[str, Any]:
        now = time.time() if now is None else now
        return {
            "id": self.id,
            "worktree": self.worktree,
            "owner": self.label,
            "targets": [t.name for t in self.targets],
            "intent": self.intent,
            "created": round(self.created, 3),
            "expires": round(self.expires, 3),
            "age_minutes": self.age_minutes(now),
            "minutes_left": max(0, int((self.expires - now) // 60)),
        }


def clean_text(text: str, limit: int = MAX_INTENT) -> str:
    """One line, no control or bidi characters, at most `limit` characters."""
    flat = " ".join(_CONTROL.sub(" ", text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class ClaimStore:
    def __init__(self, cache_dir: Path) -> None:
        self.path = cache_dir / _FILE
        self.directory = cache_dir

    @contextmanager
    def _db(self, *, write: bool) -> Iterator[sqlite3.Connection]:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=_BUSY_MS / 1000, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise ClaimError("store-unavailable", f"cannot open {self.path}: {exc}") from exc
        try:
            db.execute(f"PRAGMA busy_timeout={_BUSY_MS}")
            db.execute("PRAGMA journal_mode=WAL")
            # Every access takes the write lock when it may write: claims are few and
            # small, and a reader never sees a half-made claim anyway (transactions).
            db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            self._prepare(db)
            yield db
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise ClaimError("store-unavailable", f"claims store {self.path}: {exc}") from exc
        finally:
            db.close()

    @staticmethod
    def _prepare(db: sqlite3.Connection) -> None:
        db.execute(
            "CREATE TABLE IF NOT EXISTS claims (id TEXT PRIMARY KEY, worktree TEXT NOT NULL, "
            "label TEXT NOT NULL, targets TEXT NOT NULL, intent TEXT NOT NULL, "
            "created REAL NOT NULL, expires REAL NOT NULL)"
        )
        db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (_SCHEMA,))

    def add(
        self,
        *,
        worktree: str,
        label: str,
        targets: Sequence[Target],
        intent: str,
        ttl_minutes: float = DEFAULT_TTL_MINUTES,
        now: float | None = None,
    ) -> Claim:
        if not targets:
            raise ClaimError("bad-target", "a claim needs at least one target")
        if len(targets) > MAX_TARGETS:
            raise ClaimError("bad-target", f"at most {MAX_TARGETS} targets per claim")
        intent = clean_text(intent)
        if not intent:
            raise ClaimError("bad-intent", "say in one line what you intend (intent)")
        if not isinstance(ttl_minutes, int | float) or not 0 < ttl_minutes <= MAX_TTL_MINUTES:
            raise ClaimError("bad-ttl", f"ttl_minutes must be in (0, {MAX_TTL_MINUTES}]")
        now = time.time() if now is None else now
        claim = Claim(
            id="c" + secrets.token_hex(5),
            worktree=worktree,
            label=clean_text(label, 80),
            targets=tuple(dict.fromkeys(targets)),
            intent=intent,
            created=now,
            expires=now + ttl_minutes * 60,
        )
        encoded = json.dumps([[t.kind, t.name] for t in claim.targets])
        with self._db(write=True) as db:
            db.execute("DELETE FROM claims WHERE expires < ?", (now - _PURGE_AFTER_S,))
            db.execute(
                "INSERT INTO claims VALUES (?, ?, ?, ?, ?, ?, ?)",
                (claim.id, worktree, claim.label, encoded, intent, now, claim.expires),
            )
        return claim

    def release(self, claim_id: str, *, worktree: str, now: float | None = None) -> Claim:
        """Remove `claim_id`, which `worktree` must own and which must not have expired."""
        if not isinstance(claim_id, str) or not _ID.match(claim_id):
            raise ClaimError("unknown-claim", f"not a claim id: {clean_text(str(claim_id), 40)!r}")
        now = time.time() if now is None else now
        with self._db(write=True) as db:
            row = db.execute("SELECT * FROM claims WHERE id = ?", (claim_id,)).fetchone()
            if row is None:
                raise ClaimError("unknown-claim", f"no claim {claim_id}")
            claim = _claim(row)
            if claim.worktree != worktree:
                raise ClaimError(
                    "foreign-claim", f"claim {claim_id} belongs to {claim.label}, not to you"
                )
            db.execute("DELETE FROM claims WHERE id = ?", (claim_id,))
        if claim.expired(now):
            raise ClaimError("expired-claim", f"claim {claim_id} had expired already")
        return claim

    def active(self, now: float | None = None) -> list[Claim]:
        """Every claim not expired, oldest first; [] when there is no store yet."""
        if not self.path.exists():
            return []  # reading never creates the store
        now = time.time() if now is None else now
        with self._db(write=False) as db:
            rows = db.execute(
                "SELECT * FROM claims WHERE expires > ? ORDER BY created, id", (now,)
            ).fetchall()
        return [_claim(row) for row in rows]


def _claim(row: tuple[Any, ...]) -> Claim:
    ident, worktree, label, targets, intent, created, expires = row
    try:
        pairs = json.loads(targets)
        parsed = tuple(Target(kind, name) for kind, name in pairs if kind in ("symbol", "path"))
    except (ValueError, TypeError):
        parsed = ()
    return Claim(ident, worktree, label, parsed, intent, created, expires)
