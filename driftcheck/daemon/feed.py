"""`watch` requests: the whole scan, whenever the watched worktrees change.

`driftcheck watch` keeps one request open at a time (a long poll): "the scan
result, once something changed since generation N". The generation is the count
of changes the daemon's watcher has reported (LiveStates.generation), so the view
never asks git anything while nothing happens. A request whose generation is
current is parked in a thread that answers when the watcher reports a change or
the caller's wait is over, without a result; the caller then asks again, and that
request is answered at once with a scan made with the daemon's kept session (only
what changed is captured and analysed again).

Kept apart from server.py, which only dispatches here. A parked request is
answered from its own thread (`Request.answer` never blocks); the connection's
thread sends it.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

from driftcheck.daemon.connections import Request
from driftcheck.daemon.session import Session
from driftcheck.engine.options import ScanOptions
from driftcheck.engine.scan import scan_in
from driftcheck.errors import UsageError
from driftcheck.workspace.live_states import LiveStates

# A parked request is answered within this at most (the caller's own wait is
# usually shorter), so a vanished view costs one thread for a while, no more.
WAIT_LIMIT_MS = 30_000
# Where the watcher cannot see every change (a tree not fully watched, no inotify),
# a parked request is answered with "scan again" this often instead.
UNWATCHED_S = 2.0


def answer(
    request: Request,
    *,
    live: LiveStates,
    session: Callable[[], Session],
    renew: Callable[[], None],
) -> dict[str, bytes] | None:
    """The answer to one `watch` request now, or None when it is parked until a
    change (answered later from a thread of its own)."""
    header = request.header
    try:
        since = int(header.get("since", b"-1"))
        wait_ms = int(header.get("wait_ms", b"0"))
    except ValueError:
        return {"error": b"a watch request needs integer since and wait_ms"}
    live.refresh()
    if since == live.generation and wait_ms > 0:
        wait = min(wait_ms, WAIT_LIMIT_MS) / 1000
        waiter = threading.Thread(target=_park, args=(request, live, since, wait), daemon=True)
        waiter.start()
        return None
    return _scan(header, live, session, renew)


def _park(request: Request, live: LiveStates, since: int, wait: float) -> None:
    blind = live.watcher is None or bool(live.watcher.broken())
    generation = live.wait_for_change(since, min(wait, UNWATCHED_S) if blind else wait)
    fields = {"generation": b"%d" % generation}
    if blind and generation == since:
        fields["rescan"] = b"1"  # changes may have gone unseen: scan anyway
    request.answer(fields)


def _scan(
    header: dict[str, bytes],
    live: LiveStates,
    session: Callable[[], Session],
    renew: Callable[[], None],
) -> dict[str, bytes]:
    generation = live.generation  # before the scan: a change during it is seen next time
    root = header.get("root", b"").decode("utf-8", "surrogateescape")
    trunk = header.get("trunk", b"").decode("utf-8", "surrogateescape") or None
    refs = [r for r in header.get("refs", b"").decode("utf-8", "surrogateescape").split("\n") if r]
    if not root or not Path(root).is_dir():
        return {"error": b"a watch request needs the root of a worktree"}
    try:
        kept = session()
        result = scan_in(kept, ScanOptions(repo=root, trunk=trunk, ref_patterns=tuple(refs)))
        kept.judged += 1  # its scratch store grew: renewed after RENEW_AFTER of these
    except UsageError as exc:
        return {"error": str(exc).encode()}
    except Exception as exc:  # the session may be broken: start afresh, the view scans alone
        renew()
        return {"trouble": f"daemon: {exc!r}"[:400].encode()}
    snapshot = {
        "result": result.to_json(),
        "changed_at": dict(live.changed_at),
        "analysed_at": time.time(),
        "unwatched": sorted(live.watcher.broken()) if live.watcher else ["*"],
    }
    return {"generation": b"%d" % generation, "scan": json.dumps(snapshot).encode()}
