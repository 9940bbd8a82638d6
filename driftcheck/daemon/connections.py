"""The daemon's clients, each on its own thread; the judging stays on the main thread.

A client may connect and never send its request, send it a byte at a time, or never
take its answer. Each connection is read and answered on a thread of its own, so
such a client holds only that thread: whole requests are queued for the main
thread, which judges them one at a time with the kept session (the deadline that
bounds a judgement is SIGALRM, which only the main thread can take). The main
thread waits on `wake` with its other events (new connections, the file watcher)
and answers what `take` hands it with `Request.answer`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import struct
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from driftcheck.daemon import client as daemon_client

# The payload (one byte over the hook's limit says "too big") and the rest.
REQUEST_LIMIT = daemon_client.MAX_STDIN_BYTES + 1 + 64 * 1024
# A request must arrive whole, and an answer be taken, within these (a hook sends
# all at once); a client that does not is dropped, and only its own thread waited.
REQUEST_S = 5.0
ANSWER_S = 2.0
# Connections open at once (each a thread); more are refused, and those callers
# judge in their own process. Above the listen backlog, so a burst of hooks fits.
MAX_CLIENTS = 96
# How long a read request may wait for the main thread, at most.
_WAIT_S = 120.0


@dataclass
class Request:
    """One whole request, waiting for the main thread's answer."""

    header: dict[str, bytes]
    received: float  # time.monotonic() when it had arrived whole
    _answered: threading.Event = field(default_factory=threading.Event)
    _answer: dict[str, bytes] = field(default_factory=dict)

    def answer(self, fields: dict[str, bytes]) -> None:
        """Hand the answer to the client's thread, which sends it (never blocks)."""
        self._answer = fields
        self._answered.set()

    @property
    def answered(self) -> bool:
        return self._answered.is_set()


class Inbox:
    """Reads requests on a thread per connection and queues them for the main thread."""

    def __init__(self, max_clients: int = MAX_CLIENTS) -> None:
        self._queue: deque[Request] = deque()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._slots = threading.BoundedSemaphore(max_clients)
        # Each client's thread, and its request once it has arrived whole.
        self._clients: dict[threading.Thread, Request | None] = {}
        self._lock = threading.Lock()
        self.refused = 0

    @property
    def clients(self) -> int:
        """Connections open now (reading, waiting for their answer, or sending it)."""
        with self._lock:
            return len(self._clients)

    @property
    def wake(self) -> socket.socket:
        """Readable while requests are queued (for the main thread's selector)."""
        return self._wake_r

    def receive(self, conn: socket.socket) -> None:
        """Serve `conn` on a thread of its own, if it is the daemon's own user's."""
        if not same_user(conn) or not self._slots.acquire(blocking=False):
            self.refused += 1
            conn.close()  # a caller turned away judges alone
            return
        thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
        with self._lock:
            self._clients[thread] = None
        thread.start()

    def take(self) -> list[Request]:
        """Every request that arrived whole since the last call, oldest first."""
        with contextlib.suppress(OSError):
            while self._wake_r.recv(4096):
                pass
        taken = []
        while self._queue:
            taken.append(self._queue.popleft())
        return taken

    def close(self, last: dict[str, bytes], wait_s: float = ANSWER_S) -> None:
        """Answer what is still queued with `last`, and give the answers a moment
        to be sent (a `stop` must hear back). Clients still sending their request
        are left: they find the daemon gone and judge alone."""
        for request in self.take():
            request.answer(last)
        until = time.monotonic() + wait_s
        with self._lock:
            answered = [t for t, r in self._clients.items() if r is not None and r.answered]
        for thread in answered:
            thread.join(max(0.0, until - time.monotonic()))
        self._wake_r.close()
        self._wake_w.close()

    def _serve(self, conn: socket.socket) -> None:
        # SIGALRM is the main thread's deadline: never let the kernel hand it here.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        try:
            with conn:
                try:
                    header = read_request(conn)
                except (OSError, ValueError) as exc:
                    why = f"driftcheck: allowing the edit: bad daemon request: {exc}"
                    reply(conn, allow(why))
                    return
                if not header:
                    return  # hung up before a byte (a hook killed meanwhile): nobody to answer
                request = Request(header, time.monotonic())
                with self._lock:
                    self._clients[threading.current_thread()] = request
                self._queue.append(request)
                with contextlib.suppress(OSError):  # full: a wake-up is pending anyway
                    self._wake_w.send(b"\0")
                if request._answered.wait(_WAIT_S):
                    reply(conn, request._answer)
        finally:
            with self._lock:
                self._clients.pop(threading.current_thread(), None)
            self._slots.release()


def same_user(conn: socket.socket) -> bool:
    """Only the daemon's own user may ask: an answer quotes the repository's code."""
    try:
        creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    except (OSError, AttributeError):
        return False
    _pid, uid, _gid = struct.unpack("3i", creds)
    return uid == os.getuid()


def read_request(conn: socket.socket) -> dict[str, bytes]:
    """The whole request within REQUEST_S: a client that trickles it is dropped."""
    data = bytearray()
    until = time.monotonic() + REQUEST_S
    while True:
        remaining = until - time.monotonic()
        if remaining <= 0:
            raise ValueError("the request did not arrive in time")
        conn.settimeout(remaining)
        chunk = conn.recv(1 << 20)
        if not chunk:
            break
        data += chunk
        if len(data) > REQUEST_LIMIT:
            raise ValueError("request too large")
    return daemon_client.unpack(bytes(data))


def allow(message: str) -> dict[str, bytes]:
    return {"stdout": b"", "stderr": message.encode()}


def reply(conn: socket.socket, answer: dict[str, bytes]) -> None:
    """Send the answer; a client that does not take it in time is dropped."""
    with contextlib.suppress(OSError):
        conn.settimeout(ANSWER_S)
        conn.sendall(daemon_client.pack(answer))
