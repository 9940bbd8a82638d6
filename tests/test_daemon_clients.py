"""The daemon and its clients: one that never finishes its request holds nobody
else up (issue #19, item 2), and what a request works out reaches the persistent
cache while the daemon runs. A real daemon process, real sockets, real hooks.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import run_cli
from test_hook_claude import STALE_REPORT, Shop, build_shop, payload

from driftcheck.daemon import client as daemon_client
from driftcheck.store.pair_cache import NAMESPACE as PAIR_NAMESPACE

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux daemon")

ON = {"DRIFTCHECK_DAEMON": "1"}
# Above what judging this small repository takes on a loaded machine, below the
# 15 s the stuck clients below held a daemon that served one client at a time.
HOOK_DEADLINE_MS = 6000


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Shop]:
    built = build_shop(tmp_path / "shop")
    started = run_cli("daemon", "start", "--repo", str(built.repo), cwd=built.repo, env=ON)
    assert started.code == 0, started.stderr
    yield built
    run_cli("daemon", "stop", "--repo", str(built.repo), cwd=built.repo, env=ON)


def status(repo: Path) -> dict[str, Any]:
    result = run_cli("daemon", "status", "--repo", str(repo), cwd=repo, env=ON)
    assert result.code == 0, result.stderr
    found: dict[str, Any] = result.json()
    return found


class Trickle:
    """A client that sends a request's first bytes one at a time, slower than the
    daemon waits for a whole request."""

    def __init__(self, path: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.stop = threading.Event()
        data = daemon_client.pack({"v": b"%d" % daemon_client.PROTOCOL, "op": b"status"})
        self.thread = threading.Thread(target=self._send, args=(data,), daemon=True)
        self.thread.start()

    def _send(self, data: bytes) -> None:
        for byte in data * 100:
            if self.stop.wait(0.1):
                return
            try:
                self.sock.send(bytes([byte]))
            except OSError:  # the daemon dropped it
                return

    def answer(self) -> dict[str, bytes]:
        """What the daemon said before it hung up."""
        self.sock.settimeout(60)
        chunks = []
        while chunk := self.sock.recv(1 << 16):
            chunks.append(chunk)
        return daemon_client.unpack(b"".join(chunks))

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


def test_clients_that_hang_up_or_never_finish_their_request_hold_no_hook_up(shop: Shop) -> None:
    path = daemon_client.socket_path(shop.repo / ".git")
    before = status(shop.repo)["requests"]
    # One hangs up before a byte (a hook killed meanwhile): not a request, and no
    # reason for the daemon to leave.
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as quitter:
        quitter.connect(path)
    # Connected first: a daemon that reads one client at a time waits 5 s on each.
    silent = [socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) for _ in range(2)]
    for sock in silent:
        sock.connect(path)
    trickle = Trickle(path)
    try:
        data = payload(
            "Write",
            {"file_path": shop.file("orders/report.py"), "content": STALE_REPORT},
            shop.agent,
        )
        deadline = ("--deadline-ms", str(HOOK_DEADLINE_MS))
        hooked = run_cli("hook", "claude", *deadline, cwd=shop.agent, input=data, env=ON)
        assert hooked.code == 0
        assert "did not answer" not in hooked.stderr
        assert "DC204" in hooked.stdout and '"ask"' in hooked.stdout
        assert status(shop.repo)["requests"] == before + 1  # the daemon's answer, not a fallback
        # The trickling client itself is dropped, with an answer that allows.
        dropped = trickle.answer()
        assert dropped["stderr"].startswith(b"driftcheck: allowing the edit: bad daemon request")
        assert dropped["stdout"] == b""
    finally:
        trickle.close()
        for sock in silent:
            sock.close()


def test_what_the_daemon_works_out_reaches_the_cache_while_it_runs(shop: Shop) -> None:
    (shop.agent / "orders/report.py").write_text(STALE_REPORT)  # uncommitted drift
    common = str(shop.repo / ".git")
    request = {
        "op": b"tool",
        "name": b"drift_status",
        "args": b"{}",
        "cwd": os.fsencode(str(shop.agent)),
        "budget_ms": b"60000",
    }
    first = json.loads(daemon_client.ask(common, request, 90)["tool"])
    assert "DC204" in {f["code"] for f in first["result"]["findings"]}, first
    status(shop.repo)  # answered after the daemon wrote what the call before worked out
    info = run_cli("cache", "info", "--repo", str(shop.repo), cwd=shop.repo)
    assert info.code == 0, info.stderr
    assert info.json()["entries"][PAIR_NAMESPACE]["count"] >= 1
    again = json.loads(daemon_client.ask(common, request, 90)["tool"])
    assert again == first
