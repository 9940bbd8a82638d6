"""Call a coordination tool: through the repository's daemon when one answers,
else in this process (and then start a daemon for the next calls).

The MCP server and `driftcheck context` both call this way. The daemon keeps
every worktree watched and its tables parsed, which is what makes a call fast;
without it the same functions run here and answer the same.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from driftcheck.daemon import client

# What a daemon may spend on one call before the call runs here instead: the
# daemon judges hooks too, one request at a time.
DAEMON_BUDGET_MS = 5000
_GRACE_S = 0.5
# How long a daemon that stopped answering may take to exit before the next starts.
_LEAVING_S = 0.5


class ToolCaller:
    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd
        self.answered_by_daemon = 0
        self._missing = False  # no daemon listened at the last call
        self._started: subprocess.Popen[bytes] | None = None

    def call(self, name: str, args: dict[str, Any]) -> dict[str, Any]:
        """The tool's answer, `{"ok": ...}`; never raises."""
        answer = self._from_daemon(name, args)
        if answer is not None:
            self.answered_by_daemon += 1
            return answer
        from driftcheck.coordination import tools

        answer = tools.call(name, args, cwd=self.cwd)
        if self._missing:
            self._start_daemon()
        return answer

    def _from_daemon(self, name: str, args: dict[str, Any]) -> dict[str, Any] | None:
        """The daemon's answer; None when none answers as it should."""
        if not client.available():
            return None
        common = client.find_common_dir(str(self.cwd))
        if common is None:
            return None
        request = {
            "op": b"tool",
            "name": name.encode(),
            "args": json.dumps(args).encode(),
            "cwd": os.fsencode(str(self.cwd)),
            "budget_ms": b"%d" % DAEMON_BUDGET_MS,
        }
        self._missing = False
        try:
            reply = client.ask(common, request, DAEMON_BUDGET_MS / 1000 + _GRACE_S)
            answer = json.loads(reply["tool"])
        except TimeoutError:  # busy: it stays, this call runs here
            return None
        except OSError:  # none there, or it broke off (restarting): start one
            self._missing = True
            return None
        except (ValueError, KeyError):  # another protocol: an old daemon, leaving
            self._missing = True
            return None
        if not isinstance(answer, dict) or "ok" not in answer:
            return None
        error = answer.get("error")
        if isinstance(error, dict) and error.get("code") in ("deadline", "internal"):
            return None  # its trouble, not the caller's: run it here
        return answer

    def _start_daemon(self) -> None:
        if self._started is not None and self._started.poll() is None:
            # Nobody answered, yet the one started last runs: it is warming up, or
            # leaving (stopped, its socket gone). A leaving one is gone in a moment;
            # start the next then, not one call later.
            try:
                self._started.wait(timeout=_LEAVING_S)
            except subprocess.TimeoutExpired:
                return  # still warming up
        try:
            from driftcheck.config import load_config
            from driftcheck.engine.judge import open_worktree

            root, repo = open_worktree(self.cwd)
            config = load_config(root)
            if config.daemon:
                idle = config.daemon_idle_minutes
                self._started = client.start_in_background(repo.common_dir, idle_minutes=idle)
        except Exception as exc:  # no daemon: every call runs here, still right
            print(f"driftcheck: no daemon: {exc}"[:300], file=sys.stderr)
