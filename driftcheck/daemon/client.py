"""Talking to the daemon: finding it, asking it, starting it.

This module is imported by every agent hook before anything else, so it imports
only modules built into the interpreter: the whole point of the daemon is that a
hook process spends its time starting Python, not importing things. So requests
and answers are flat maps of byte strings, each length-prefixed (`pack`), sent over
`_socket` rather than `socket`; nothing received is ever evaluated.

A daemon serves one repository for one installation of driftcheck (the Python
executable and the package folder). It listens on a Linux abstract socket, which
leaves no file anywhere, and whose name is derived from those three; it checks
that a caller runs as the same user. Elsewhere than on Linux there is no daemon
and hooks judge in their own process.
"""

from __future__ import annotations

import _socket
import os
import sys
import zlib

from driftcheck import __version__

# Part of the socket's name: bump it with any change to the messages, so a daemon
# of an older driftcheck is never asked in a way it cannot read (it idles out).
PROTOCOL = 2
MAX_STDIN_BYTES = 64 * 1024 * 1024  # an agent hook's payload, at most
# The environment switch: DRIFTCHECK_DAEMON=0 keeps every hook in its own process.
SWITCH = "DRIFTCHECK_DAEMON"
_CHUNK = 1 << 16


def available() -> bool:
    return (
        sys.platform.startswith("linux")
        and os.environ.get(SWITCH, "1") != "0"
        and os.environ.get("DRIFTCHECK_NO_CACHE") != "1"
    )


def address(common_dir: str | os.PathLike[str]) -> bytes:
    """The daemon's abstract socket name for this repository and installation."""
    identity = "\0".join(
        [
            os.path.realpath(common_dir),
            os.path.realpath(sys.executable),
            os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
            __version__,
            str(PROTOCOL),
        ]
    )
    # A name, not a secret: the daemon checks who connects. Two checksums make a
    # clash unlikely, and a clash would only send a request where it is judged the
    # slow way (the daemon judges other repositories in full).
    data = os.fsencode(identity)
    digest = f"{zlib.crc32(data):08x}{zlib.adler32(data):08x}"
    return f"\0driftcheck-{os.getuid()}-{digest}".encode()


def find_common_dir(start: str) -> str | None:
    """The git common dir above `start`, read from `.git` the way git does, or None
    when that is not plain (git's environment variables set, no repository)."""
    if any(name in os.environ for name in ("GIT_DIR", "GIT_COMMON_DIR", "GIT_WORK_TREE")):
        return None
    folder = os.path.abspath(start)
    while True:
        dot_git = os.path.join(folder, ".git")
        if os.path.isdir(dot_git):
            return _common_of(dot_git)
        if os.path.isfile(dot_git):
            try:
                with open(dot_git, encoding="utf-8") as handle:
                    text = handle.read(4096).strip()
            except (OSError, UnicodeDecodeError):
                return None
            if not text.startswith("gitdir: "):
                return None
            return _common_of(os.path.join(folder, text[len("gitdir: ") :]))
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def _common_of(git_dir: str) -> str | None:
    try:
        with open(os.path.join(git_dir, "commondir"), encoding="utf-8") as handle:
            common = handle.read(4096).strip()
    except FileNotFoundError:
        return os.path.realpath(git_dir)
    except (OSError, UnicodeDecodeError):
        return None
    return os.path.realpath(os.path.join(git_dir, common))


def pack(fields: dict[str, bytes]) -> bytes:
    """`<len>:<key><len>:<value>` for each field: any bytes, no escaping."""
    out = []
    for key, value in fields.items():
        name = key.encode()
        out.append(b"%d:%s%d:%s" % (len(name), name, len(value), value))
    return b"".join(out)


def unpack(data: bytes) -> dict[str, bytes]:
    """The fields `pack` made; ValueError for anything else."""
    fields: dict[str, bytes] = {}
    at = 0
    while at < len(data):
        key, at = _field(data, at)
        value, at = _field(data, at)
        fields[key.decode("utf-8", "replace")] = value
    return fields


def _field(data: bytes, at: int) -> tuple[bytes, int]:
    colon = data.find(b":", at, at + 21)
    if colon < 0 or not data[at:colon].isdigit():
        raise ValueError("not a daemon message")
    end = colon + 1 + int(data[at:colon])
    if end > len(data):
        raise ValueError("a daemon message cut short")
    return data[colon + 1 : end], end


def ask(common_dir: str, request: dict[str, bytes], timeout: float) -> dict[str, bytes]:
    """The daemon's answer. Raises OSError when there is no daemon (or it broke off),
    TimeoutError when it does not answer in time, ValueError when the answer is
    unreadable."""
    conn = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        conn.settimeout(timeout)
        conn.connect(address(common_dir))
        conn.sendall(pack({"v": b"%d" % PROTOCOL, **request}))
        conn.shutdown(_socket.SHUT_WR)
        chunks = []
        while chunk := conn.recv(_CHUNK):
            chunks.append(chunk)
    finally:
        conn.close()
    return unpack(b"".join(chunks))


def start_in_background(
    common_dir: str | os.PathLike[str], *, idle_minutes: float
) -> subprocess.Popen[bytes] | None:  # noqa: F821 (imported inside: see below)
    """Start a daemon for `common_dir` in the background (if none answers there is
    none; a second one started at the same time finds the name taken and exits)."""
    import subprocess  # here, not above: a hook the daemon answers never needs it

    if not available():
        return None
    log_path = os.path.join(common_dir, "driftcheck", "daemon.log")
    try:
        os.makedirs(os.path.dirname(log_path), exist_ok=True)
        with open(log_path, "ab") as sink:
            args = ["daemon", "run", "--repo", str(common_dir), "--idle-minutes", str(idle_minutes)]
            return subprocess.Popen(
                [sys.executable, "-m", "driftcheck", *args],
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=sink,
                start_new_session=True,  # not killed with the hook, nor by the agent's Ctrl-C
                close_fds=True,
                cwd="/",
            )
    except OSError:
        return None
