"""What the fast path (launch.py) learnt before handing a hook over to the full
command: stdin can be read only once, and whether no daemon answered decides
whether the hook starts one.

Imported on every agent hook's fast path, so it uses nothing but the interpreter.
"""

from __future__ import annotations


class Handoff:
    __slots__ = ("daemon_missing", "started", "stdin")

    def __init__(
        self, stdin: bytes | None = None, daemon_missing: bool = False, started: float | None = None
    ) -> None:
        self.stdin = stdin  # the hook payload, read already on the way to a daemon
        self.daemon_missing = daemon_missing  # none answered: start one after judging
        self.started = started  # when the hook process started: its deadline counts from there
