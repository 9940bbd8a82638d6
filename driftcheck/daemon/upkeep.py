"""What keeps a daemon honest about itself: its log (and why it stopped), the
signals that stop it, and the stamps that tell it its repository or its own code
changed under it."""

from __future__ import annotations

import contextlib
import sys
import time
from pathlib import Path

LOG_LIMIT = 1 << 20  # daemon.log is cut to half of this when it grows past it


class Signalled(BaseException):
    """SIGTERM, SIGHUP or SIGINT: unwind (the socket's files go) and say so."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def signalled(signum: int, _frame: object) -> None:
    raise Signalled(signum)


def log(text: str) -> None:
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    print(f"{stamp} driftcheck daemon: {text}", file=sys.stderr, flush=True)


def trim_log(path: Path) -> None:
    with contextlib.suppress(OSError):
        if path.stat().st_size > LOG_LIMIT:
            path.write_bytes(path.read_bytes()[-LOG_LIMIT // 2 :])


def identity(folder: Path) -> tuple[int, int] | None:
    try:
        st = folder.stat()
    except OSError:
        return None
    return st.st_dev, st.st_ino


def code_stamp() -> tuple[tuple[str, int], ...]:
    """driftcheck's own files and their times: a daemon must not outlive an upgrade."""
    package = Path(__file__).resolve().parents[1]
    stamp = []
    for path in sorted(package.rglob("*.py")):
        with contextlib.suppress(OSError):
            stamp.append((str(path), path.stat().st_mtime_ns))
    return tuple(stamp)
