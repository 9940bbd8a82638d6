"""Talking to the daemon: finding it, asking it, starting it.

This module is imported by every agent hook before anything else, so it imports
only modules built into the interpreter: the whole point of the daemon is that a
hook process spends its time starting Python, not importing things. So requests
and answers are flat maps of byte strings, each length-prefixed (`pack`), sent over
`_socket` rather than `socket`; nothing received is ever evaluated.

A daemon serves one repository for one installation of driftcheck (the Python
executable and the package folder). It listens on a unix socket named after those
three, in the user's private runtime folder (`runtime_dir`). Both ends check the
other: the daemon serves only callers of its own user, and a hook sends nothing
until it has seen that the listener runs as its own user too, in a folder only
that user can enter. A name anybody can compute or squat (an abstract socket, a
file in a shared folder) would let another local user read every proposed edit
and answer for the daemon. Elsewhere than on Linux there is no daemon and hooks
judge in their own process.
"""

from __future__ import annotations

import _socket
import os
import sys
import time
import zlib

from driftcheck import __version__

# Part of the socket's name: bump it with any change to the messages, so a daemon
# of an older driftcheck is never asked in a way it cannot read (it idles out).
PROTOCOL = 3
MAX_STDIN_BYTES = 64 * 1024 * 1024  # an agent hook's payload, at most
# The environment switch: DRIFTCHECK_DAEMON=0 keeps every hook in its own process.
SWITCH = "DRIFTCHECK_DAEMON"
_CHUNK = 1 << 16
# Where the socket lives, if not in $XDG_RUNTIME_DIR/driftcheck or /tmp/driftcheck-<uid>.
RUNTIME_DIR_VARIABLE = "DRIFTCHECK_RUNTIME_DIR"


class DaemonUnavailable(OSError):
    """No daemon can be used here (the runtime folder is not private); says why."""


class ForeignListener(ConnectionError):
    """Something that does not run as this user listens where our daemon would."""


def available() -> bool:
    return (
        sys.platform.startswith("linux")
        and os.environ.get(SWITCH, "1") != "0"
        and os.environ.get("DRIFTCHECK_NO_CACHE") != "1"
    )


def socket_name(common_dir: str | os.PathLike[str]) -> str:
    """The daemon's socket file name for this repository and installation."""
    identity = "\0".join(
        [
            os.path.realpath(common_dir),
            os.path.realpath(sys.executable),
            package_dir(),
            __version__,
            str(PROTOCOL),
        ]
    )
    # A name, not a secret: the folder is private and both ends check each other.
    # Two checksums make a clash unlikely, and a clash would only send a request
    # where it is judged the slow way (the daemon judges other repositories in full).
    data = os.fsencode(identity)
    return f"{zlib.crc32(data):08x}{zlib.adler32(data):08x}.sock"


def package_dir() -> str:
    """The folder of the driftcheck package this process runs (an installation)."""
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def runtime_dir() -> str:
    """The folder for this user's daemon sockets: $DRIFTCHECK_RUNTIME_DIR, else
    $XDG_RUNTIME_DIR/driftcheck (private by design), else /tmp/driftcheck-<uid>."""
    chosen = os.environ.get(RUNTIME_DIR_VARIABLE)
    if chosen:
        return os.path.abspath(chosen)
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    if xdg and os.path.isabs(xdg):
        return os.path.join(xdg, "driftcheck")
    return f"/tmp/driftcheck-{os.getuid()}"


def socket_path(common_dir: str | os.PathLike[str]) -> str:
    return os.path.join(runtime_dir(), socket_name(common_dir))


def open_runtime_dir(*, create: bool) -> int:
    """A descriptor of the runtime folder, once it is shown to be this user's alone
    (owned by us, a real folder, no access for anyone else). Sockets are then
    reached through the descriptor, so the folder checked is the folder used.
    Raises DaemonUnavailable with the reason; FileNotFoundError when it does not
    exist and `create` is off (then no daemon runs)."""
    folder = runtime_dir()
    fix = f"; set {RUNTIME_DIR_VARIABLE} to a folder only you can use"
    if create:
        try:
            os.mkdir(folder, 0o700)
        except FileExistsError:
            pass
        except OSError as exc:
            raise DaemonUnavailable(f"cannot make {folder}: {exc.strerror}{fix}") from None
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(folder, flags)
    except FileNotFoundError:
        raise
    except OSError as exc:  # ELOOP: a symlink; ENOTDIR: a file
        raise DaemonUnavailable(f"{folder} is not a folder ({exc.strerror}){fix}") from None
    found = os.fstat(fd)
    why = None
    if found.st_uid != os.getuid():
        why = f"{folder} belongs to uid {found.st_uid}, not to you"
    elif found.st_mode & 0o077:
        why = f"{folder} is open to other users (mode {found.st_mode & 0o777:o})"
    if why is not None:
        os.close(fd)
        raise DaemonUnavailable(why + fix)
    return fd


def through(folder_fd: int, name: str) -> str:
    """A path to `name` inside the folder `folder_fd` holds open: short whatever the
    folder's own path (a socket path must fit in 108 bytes), and it cannot be
    redirected after the folder was checked."""
    return f"/proc/self/fd/{folder_fd}/{name}"


def listener_uid(conn: _socket.socket) -> int:
    """The user the process that listens on `conn`'s peer runs as (SO_PEERCRED)."""
    creds = conn.getsockopt(_socket.SOL_SOCKET, _socket.SO_PEERCRED, 12)
    return int.from_bytes(creds[4:8], sys.byteorder)  # struct ucred: pid, uid, gid


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
    """The daemon's answer, the whole exchange within `timeout` seconds. Raises
    OSError when there is no daemon (or it broke off; DaemonUnavailable and
    ForeignListener say why none may be asked), TimeoutError when the answer is not
    all there in time (a stuck or trickling daemon), ValueError when it is
    unreadable."""
    return ask_at(socket_name(common_dir), request, timeout)


def ask_at(name: str, request: dict[str, bytes], timeout: float) -> dict[str, bytes]:
    """`ask` the daemon listening at `name` in the runtime folder (any repository's,
    any installation's: `daemon stop --all`), with the same checks."""
    until = time.monotonic() + timeout
    folder = open_runtime_dir(create=False)
    conn = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        # Connecting is tried even with no time left: a refusal (no daemon there) is
        # immediate and tells the hook to start one, which a timeout would not.
        conn.settimeout(max(until - time.monotonic(), _CONNECT_MIN_S))
        conn.connect(through(folder, name))
        uid = listener_uid(conn)
        if uid != os.getuid():  # checked before a byte of the request leaves
            where = os.path.join(runtime_dir(), name)
            raise ForeignListener(f"the listener at {where} runs as uid {uid}, not as you")
        conn.settimeout(_left(until))
        conn.sendall(pack({"v": b"%d" % PROTOCOL, **request}))
        conn.shutdown(_socket.SHUT_WR)
        chunks = []
        while True:
            conn.settimeout(_left(until))
            chunk = conn.recv(_CHUNK)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        conn.close()
        os.close(folder)
    return unpack(b"".join(chunks))


_CONNECT_MIN_S = 0.02


def _left(until: float) -> float:
    """Seconds left until `until`; TimeoutError once there are none."""
    left = until - time.monotonic()
    if left <= 0:
        raise TimeoutError("no answer in time")
    return left


def worktree_root(start: str) -> str | None:
    """The folder holding the `.git` above `start` (the worktree's top)."""
    folder = os.path.abspath(start)
    while not os.path.lexists(os.path.join(folder, ".git")):
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent
    return folder


def configured_deadline_ms(root: str | None) -> int | None:
    """`hook-deadline-ms` from the worktree's `.driftcheck.toml` or `pyproject.toml`,
    as config.py reads it; None when not set (or unreadable: the full command then
    says what is wrong). TOML is parsed only where the key is mentioned."""
    if root is None:
        return None
    for name, table in ((".driftcheck.toml", ()), ("pyproject.toml", ("tool", "driftcheck"))):
        try:
            with open(os.path.join(root, name), "rb") as handle:
                data = handle.read(1 << 20)
        except OSError:
            continue
        if b"hook-deadline-ms" not in data:
            return None  # the first file there decides, as in config.py
        import tomllib  # only here: most configurations never set the key

        try:
            found: object = tomllib.loads(data.decode("utf-8"))
            for key in table:
                found = found.get(key, {}) if isinstance(found, dict) else {}
            value = found.get("hook-deadline-ms") if isinstance(found, dict) else None
            return int(value) if value is not None and int(value) > 0 else None
        except (ValueError, TypeError, UnicodeDecodeError):
            return None
    return None


def start_in_background(
    common_dir: str | os.PathLike[str], *, idle_minutes: float
) -> subprocess.Popen[bytes] | None:  # noqa: F821 (imported inside: see below)
    """Start a daemon for `common_dir` in the background (if none answers there is
    none; a second one started at the same time finds the name taken and exits)."""
    import subprocess  # here, not above: a hook the daemon answers never needs it

    if not available():
        return None
    try:
        folder = open_runtime_dir(create=True)
    except OSError:
        return None  # nowhere private to listen: hooks keep judging alone
    try:
        if _claimed(folder, socket_name(common_dir)):
            return None  # one is warming up (a large repository takes seconds): not another
    finally:
        os.close(folder)
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


def _claimed(folder: int, name: str) -> bool:
    """Whether a daemon holds this repository's name (listener.py's lock): it does
    from its start, seconds before it answers on a large repository."""
    import fcntl

    try:
        lock = os.open(name + ".lock", os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=folder)
    except OSError:
        return False
    try:
        fcntl.flock(lock, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(lock)  # closing drops a lock taken just now
    return False
