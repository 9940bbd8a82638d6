"""Every daemon of this user: `driftcheck daemon list` and `daemon stop --all`.

Daemons of every repository and every installation of driftcheck share the user's
private runtime folder (client.runtime_dir), one socket each, named by a checksum.
A name is a daemon's while a process holds the lock beside it (listener.py): a name
whose lock nobody holds is a dead daemon's leftover, removed here. A live one is
described by the socket's other end as the kernel reports it (SO_PEERCRED, checked
to be this user, as a hook checks before it sends a byte) and by /proc; the
`<name>.json` it wrote adds its repository and installation. Nothing is sent to a
daemon to list it: one of another protocol would read any request as a reason to
leave.
"""

from __future__ import annotations

import _socket
import contextlib
import fcntl
import json
import os
import re
import signal
import sys
import time
from dataclasses import asdict, dataclass

from driftcheck.daemon import client

_NAME = re.compile(r"^([0-9a-f]{16}\.sock)(\.lock|\.json)?$")
_INFO_LIMIT = 64 * 1024


@dataclass
class Daemon:
    """One name in the runtime folder. `state`: running (answers), starting (holds
    the name, not yet listening), stale (nobody holds it: a dead daemon's files),
    foreign (the listener runs as another user: nothing about it is trusted)."""

    socket: str
    state: str
    pid: int | None = None
    repository: str | None = None
    age_s: int | None = None
    memory_bytes: int | None = None
    version: str | None = None
    protocol: int | None = None
    python: str | None = None
    package: str | None = None  # the driftcheck package folder it runs
    uid: int | None = None
    removed: bool = False  # a stale name's files, cleaned up by this listing

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def list_daemons(*, clean: bool = True) -> list[Daemon]:
    """This user's daemons, by socket name; stale names removed when `clean`.
    DaemonUnavailable when the runtime folder is not private (then nothing there
    is listed: it is not ours to describe)."""
    try:
        folder = client.open_runtime_dir(create=False)
    except FileNotFoundError:
        return []
    try:
        names = sorted({m.group(1) for n in os.listdir(folder) if (m := _NAME.match(n))})
        return [_describe(folder, name, clean) for name in names]
    finally:
        os.close(folder)


def _describe(folder: int, name: str, clean: bool) -> Daemon:
    lock = _open(folder, name + ".lock")
    try:
        if lock is None or _lock_free(lock):
            # Nobody holds the name: whatever is left is a dead daemon's. Removed while
            # we hold the lock, in the order a leaving daemon removes them.
            removed = False
            if clean:
                for leftover in (name, name + ".json", name + ".lock"):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(leftover, dir_fd=folder)
                        removed = True
            return Daemon(name, "stale", removed=removed)
        holder = _lock_holder(os.fstat(lock).st_ino)
    finally:
        if lock is not None:
            os.close(lock)
    info = _info(folder, name)
    if info:
        # A daemon that writes `<name>.json` drops a client that hangs up silent, so
        # its listener may be checked as a hook checks it: by the kernel's word.
        peer = _listener(folder, name)
        if peer is not None and peer[1] != os.getuid():
            return Daemon(name, "foreign", pid=peer[0], uid=peer[1])
        pid = peer[0] if peer is not None else holder or _int(info.get("pid"))
        state = "running" if peer is not None else "starting"
    else:
        # An older driftcheck's daemon would read even a silent connection as a
        # request to leave: it is known by who holds its lock, never connected to.
        pid, state = holder, "running"
    if pid is not None and _owner(pid) != os.getuid():
        pid = None  # not a process of ours: nothing about it is said
    found = Daemon(name, state, pid=pid, uid=os.getuid())
    if pid is None:
        return found
    if _int(info.get("pid")) == pid:
        found.repository = _str(info.get("repository"))
        found.version = _str(info.get("version"))
        found.protocol = _int(info.get("protocol"))
        found.python = _str(info.get("python"))
        found.package = _str(info.get("package"))
    else:  # a daemon from before `<name>.json`: its command line names the repository
        found.python, found.repository = _command_line(pid)
    found.age_s = _age_s(pid)
    found.memory_bytes = _memory_bytes(pid)
    return found


def _lock_holder(inode: int) -> int | None:
    """The pid holding a flock on the file with this inode (/proc/locks)."""
    try:
        with open("/proc/locks", "rb") as handle:
            for line in handle:
                fields = line.split()
                held = fields[1:2] == [b"FLOCK"] and len(fields) > 5
                if held and fields[5].rsplit(b":", 1)[-1] == b"%d" % inode:
                    return int(fields[4])
    except (OSError, ValueError):
        return None
    return None


def _open(folder: int, name: str) -> int | None:
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
    try:
        return os.open(name, flags, dir_fd=folder)
    except OSError:
        return None


def _lock_free(fd: int) -> bool:
    """Whether nobody holds this lock (it is then held by us until `fd` closes)."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _listener(folder: int, name: str) -> tuple[int, int] | None:
    """(pid, uid) of the process listening at `name`, None when none listens."""
    conn = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        conn.settimeout(2.0)
        conn.connect(client.through(folder, name))
        creds = conn.getsockopt(_socket.SOL_SOCKET, _socket.SO_PEERCRED, 12)
    except OSError:
        return None
    finally:
        conn.close()  # nothing sent: the daemon drops a client that hangs up silent
    # struct ucred: pid, uid, gid
    return int.from_bytes(creds[0:4], sys.byteorder), int.from_bytes(creds[4:8], sys.byteorder)


def _info(folder: int, name: str) -> dict[str, object]:
    fd = _open(folder, name + ".json")
    if fd is None:
        return {}
    try:
        with os.fdopen(fd, "rb") as handle:
            found = json.loads(handle.read(_INFO_LIMIT))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: object) -> str | None:
    return value[:4096] if isinstance(value, str) else None


def _owner(pid: int) -> int | None:
    try:
        return os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return None


def _age_s(pid: int) -> int | None:
    """Seconds since the process started (/proc/<pid>/stat's start time)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
        with open("/proc/stat", "rb") as handle:
            boot = next(int(line.split()[1]) for line in handle if line.startswith(b"btime "))
    except (OSError, IndexError, ValueError, StopIteration):
        return None
    started = boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22 of the whole line
    return max(0, round(time.time() - started))


def _memory_bytes(pid: int) -> int | None:
    """Resident memory (VmRSS)."""
    try:
        with open(f"/proc/{pid}/status", "rb") as handle:
            for line in handle:
                if line.startswith(b"VmRSS:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _command_line(pid: int) -> tuple[str | None, str | None]:
    """The program and the `--repo` of `driftcheck daemon run`'s command line."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            argv = handle.read(1 << 16).split(b"\0")
    except OSError:
        return None, None
    program = os.fsdecode(argv[0]) if argv and argv[0] else None
    if b"--repo" in argv[:-1]:
        return program, os.fsdecode(argv[argv.index(b"--repo") + 1])
    return program, None


def stop(found: Daemon, *, wait_s: float = 10.0) -> bool:
    """Stop a running or starting daemon of this user; True once its process is
    gone. A daemon of this protocol is asked to stop (its log says `daemon stop`);
    one of another protocol, or still starting, gets SIGTERM, but only after its
    socket's other end (or its /proc entry) shows it is this user's."""
    if found.state not in ("running", "starting") or found.pid is None:
        return False
    asked = False
    if found.state == "running" and found.protocol == client.PROTOCOL:
        with contextlib.suppress(OSError, ValueError):
            answer = client.ask_at(found.socket, {"op": b"stop"}, timeout=5)
            asked = answer.get("stopped") == b"%d" % found.pid
    if not asked:
        # Who holds the name, again, just before the signal: never a process that
        # took a dead daemon's pid. (Not asked through the socket: an older daemon
        # would leave on it, and one that does not answer `stop` may not listen yet.)
        if _holder(found.socket) != found.pid or _owner(found.pid) != os.getuid():
            return _owner(found.pid) is None
        with contextlib.suppress(ProcessLookupError):
            os.kill(found.pid, signal.SIGTERM)
    until = time.monotonic() + wait_s
    while time.monotonic() < until:
        if _owner(found.pid) is None or _zombie(found.pid):
            return True
        time.sleep(0.05)
    return False


def _holder(name: str) -> int | None:
    try:
        folder = client.open_runtime_dir(create=False)
    except OSError:
        return None
    try:
        found = os.stat(name + ".lock", dir_fd=folder, follow_symlinks=False)
    except OSError:
        return None
    finally:
        os.close(folder)
    return _lock_holder(found.st_ino)


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except (OSError, IndexError):
        return True
