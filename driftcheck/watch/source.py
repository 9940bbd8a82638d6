"""Where the live view's snapshots come from: the daemon's watcher, else polling.

With a daemon (Linux, `daemon = true`), the view keeps one long poll open
(daemon/feed.py): the daemon answers when its inotify watcher reports a change,
and the next request brings the scan made with its warm session. Nothing here
asks git while nothing changes.

Where no daemon can run (not Linux, `DRIFTCHECK_DAEMON=0`, `daemon = false`, no
private runtime folder) or while one is starting, the view scans in its own
process, at most every POLL_S seconds, and never sooner than twice the last scan
took (a slow repository is not scanned back to back), at most POLL_MAX_S apart.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from driftcheck.config import Config
from driftcheck.daemon import client
from driftcheck.engine.options import ScanOptions
from driftcheck.engine.scan import scan
from driftcheck.errors import UsageError
from driftcheck.store.claims import ClaimError, ClaimStore
from driftcheck.watch.snapshot import Snapshot, claims_by_participant, from_daemon, from_result
from driftcheck.workspace import git

POLL_S = 2.0
POLL_MAX_S = 30.0
# One long poll: the daemon answers sooner when anything changes.
LONG_POLL_MS = 5_000
# A daemon just started gets this long to warm up before another is started.
_START_AGAIN_S = 60.0


@dataclass(frozen=True)
class Status:
    """How the view is fed: `mode` is "daemon", "starting" or "polling"."""

    mode: str
    at: float  # wall time of the last word from the source
    problem: str | None = None


Emit = Callable[[Snapshot | Status], None]


class Feed:
    def __init__(
        self,
        root: Path,
        repo: git.RepoInfo,
        config: Config,
        *,
        trunk: str | None,
        refs: tuple[str, ...],
        use_daemon: bool | None = None,
    ) -> None:
        self.root = root
        self.repo = repo
        self.trunk = trunk
        self.refs = refs
        self.idle_minutes = config.daemon_idle_minutes
        self.use_daemon = config.daemon and client.available() if use_daemon is None else use_daemon
        self._started: subprocess.Popen[bytes] | None = None
        self._started_at = 0.0
        self._changed: dict[str, tuple[str, float]] = {}  # polling: folder -> (tree, seen)

    # --- one snapshot ------------------------------------------------------------

    def once(self) -> Snapshot:
        """One snapshot now: from a daemon that runs already, else scanned here."""
        if self.use_daemon:
            with contextlib.suppress(OSError, ValueError):
                answer = self._ask(since=-1, wait_ms=0, timeout=60.0)
                if "scan" in answer:
                    return self._from_daemon(answer)
        return self.scan_here()

    def scan_here(self) -> Snapshot:
        options = ScanOptions(repo=str(self.root), trunk=self.trunk, ref_patterns=self.refs)
        result = scan(options)
        now = time.time()
        for p in result.participants:  # a tree that changed between polls: changed then
            if p.path:
                before = self._changed.get(p.path)
                if before is not None and before[0] != p.tree:
                    self._changed[p.path] = (p.tree, now)
                elif before is None:
                    self._changed[p.path] = (p.tree, 0.0)
        seen = {path: at for path, (_tree, at) in self._changed.items() if at}
        found = from_result(result, analysed_at=now, source="local", changed_at_by_path=seen)
        return self._with_claims(found)

    # --- the stream --------------------------------------------------------------

    def run(self, emit: Emit, stop: threading.Event) -> None:
        """Emit snapshots and statuses until `stop` is set."""
        since = -1
        while not stop.is_set():
            if self.use_daemon:
                answer = self._try_daemon(since)
                if answer is not None:
                    since = self._handle(answer, since, emit)
                    continue
                since = -1
                if stop.is_set():
                    break  # the view has gone: start nothing for it
                self._start_daemon()
            mode = "starting" if self.use_daemon else "polling"
            started = time.monotonic()
            try:
                emit(self.scan_here())
                emit(Status(mode, time.time()))
            except UsageError as exc:
                emit(Status(mode, time.time(), problem=str(exc)))
            except Exception as exc:  # shown in the status line; the next poll tries again
                emit(Status(mode, time.time(), problem=f"scan failed: {exc!r}"[:200]))
            spent = time.monotonic() - started
            wait = POLL_S if not self.use_daemon else 0.5  # a starting daemon is asked soon
            stop.wait(min(POLL_MAX_S, max(wait, 2 * spent)))

    def _try_daemon(self, since: int) -> dict[str, bytes] | None:
        wait_ms = LONG_POLL_MS if since >= 0 else 0
        try:
            # A fresh scan may take a while on a big repository (cold cache).
            return self._ask(since=since, wait_ms=wait_ms, timeout=wait_ms / 1000 + 120.0)
        except (OSError, ValueError):  # none there, or it broke off (restarting)
            return None

    def _handle(self, answer: dict[str, bytes], since: int, emit: Emit) -> int:
        """Act on one daemon answer; returns the generation to ask from next."""
        now = time.time()
        if "scan" in answer:
            try:
                emit(self._from_daemon(answer))
            except ValueError as exc:
                emit(Status("daemon", now, problem=str(exc)[:200]))
                return -1
            emit(Status("daemon", now))
            return int(answer.get("generation", b"-1"))
        if "generation" in answer:  # a change, or the wait is over: ask again
            emit(Status("daemon", now))
            return -1 if "rescan" in answer else since
        if "error" in answer:  # the request itself is wrong (a ref went away)
            emit(Status("daemon", now, problem=answer["error"].decode(errors="replace")))
            time.sleep(POLL_S)
            return -1
        # "retry" (an upgrade: it leaves), "trouble", or a daemon that does not know
        # `watch`: scan here once, and ask a fresh one next time.
        emit(self.scan_here())
        emit(Status("starting", now))
        time.sleep(0.5)
        return -1

    def _ask(self, *, since: int, wait_ms: int, timeout: float) -> dict[str, bytes]:
        request = {
            "op": b"watch",
            "since": b"%d" % since,
            "wait_ms": b"%d" % wait_ms,
            "root": str(self.root).encode("utf-8", "surrogateescape"),
            "trunk": (self.trunk or "").encode("utf-8", "surrogateescape"),
            "refs": "\n".join(self.refs).encode("utf-8", "surrogateescape"),
        }
        return client.ask(str(self.repo.common_dir), request, timeout)

    def _from_daemon(self, answer: dict[str, bytes]) -> Snapshot:
        try:
            payload = json.loads(answer["scan"])
        except (KeyError, ValueError) as exc:
            raise ValueError(f"unreadable answer from the daemon: {exc}") from exc
        return self._with_claims(from_daemon(payload))

    def _start_daemon(self) -> None:
        running = self._started is not None and self._started.poll() is None
        if running and time.monotonic() - self._started_at < _START_AGAIN_S:
            return  # warming up
        self._started = client.start_in_background(
            self.repo.common_dir, idle_minutes=self.idle_minutes
        )
        self._started_at = time.monotonic()
        if self._started is None:
            self.use_daemon = False  # none can run here: poll

    def _with_claims(self, snapshot: Snapshot) -> Snapshot:
        """Open claims, read from the claims store (never created by reading)."""
        try:
            claims = ClaimStore(self.repo.cache_dir).active()
        except ClaimError:
            return snapshot
        lines = [
            (c.worktree, f"{', '.join(t.name for t in c.targets)}: {c.intent}") for c in claims
        ]
        snapshot.claims = claims_by_participant(snapshot.result.participants, lines)
        return snapshot
