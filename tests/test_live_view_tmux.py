"""`driftcheck watch` in a real terminal: tmux runs it, `send-keys` types, and
`capture-pane` reads the screen. Skipped only where tmux is not installed (CI
installs it: .ci/run)."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import eventually, run_cli
from test_hook_claude import STALE_REPORT, Shop, build_shop

pytestmark = [
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the daemon is Linux-only"),
]
ON = {"DRIFTCHECK_DAEMON": "1"}


class Tmux:
    """One tmux server of our own (its own socket), so no user session is touched."""

    def __init__(self, folder: Path) -> None:
        self.socket = str(folder / "tmux.sock")

    def __call__(self, *args: str) -> str:
        proc = subprocess.run(
            ["tmux", "-S", self.socket, *args], capture_output=True, text=True, timeout=30
        )
        if proc.returncode != 0:
            raise AssertionError(f"tmux {' '.join(args)}: {proc.stderr}")
        return proc.stdout

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", "watch")

    def wait_for(self, words: str, seconds: float = 60) -> tuple[str, float]:
        """The screen once it shows `words`, and how long that took."""
        started = time.monotonic()
        shown = eventually(
            lambda: (lambda screen: screen if words in screen else None)(self.screen()),
            seconds,
            f"{words!r} not on screen within {seconds} s",
        )
        return shown, time.monotonic() - started


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Shop]:
    built = build_shop(tmp_path / "shop")
    yield built
    run_cli("daemon", "stop", "--repo", str(built.repo), cwd=built.repo, env=ON)


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    server = Tmux(tmp_path)
    yield server
    subprocess.run(["tmux", "-S", server.socket, "kill-server"], capture_output=True, check=False)


def start(tmux: Tmux, shop: Shop, tmp_path: Path) -> Path:
    """`driftcheck watch` in an 80x24 pane; the shell then says how it ended."""
    done = tmp_path / "exit-code"
    env = {**os.environ, **ON, "TERM": "xterm-256color", "PYTHONSAFEPATH": "1"}
    env.pop("NO_COLOR", None)
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items() if k.isidentifier())
    command = (
        f"cd {shlex.quote(str(shop.repo))} && env {exports} "
        f"{shlex.quote(sys.executable)} -m driftcheck watch; echo $? > {shlex.quote(str(done))}; "
        "clear; echo SHELL-AGAIN; sleep 600"
    )
    tmux("new-session", "-d", "-s", "watch", "-x", "80", "-y", "24", command)
    return done


def test_watch_in_a_real_terminal(shop: Shop, tmux: Tmux, tmp_path: Path) -> None:
    done = start(tmux, shop, tmp_path)
    frame, _ = tmux.wait_for("● daemon")
    assert "participants" in frame and "findings" in frame
    assert "q quit" in frame and "f filter" in frame and "p plan" in frame
    lines = frame.rstrip("\n").split("\n")
    assert len(lines) <= 24 and all(len(line) <= 80 for line in lines)
    print("\n" + frame)

    # A stale call written into a worktree appears, marked new.
    (shop.agent / "orders" / "report.py").write_text(STALE_REPORT)
    frame, took = tmux.wait_for("DC204")
    assert "●" in frame.split("DC204")[0].rsplit("\n", 1)[-1], "the new finding is marked"
    assert took < 30
    print(frame)

    # A resize redraws the whole view at the new size.
    tmux("resize-window", "-t", "watch", "-x", "100", "-y", "30")
    frame, _ = tmux.wait_for("DC204")
    time.sleep(0.5)
    frame = tmux.screen()
    assert len(frame.rstrip("\n").split("\n")) <= 30 and "q quit" in frame

    # Enter opens the finding, Escape comes back, q quits and leaves the terminal clean.
    tmux("send-keys", "-t", "watch", "Enter")
    tmux.wait_for("What to do")
    tmux("send-keys", "-t", "watch", "Escape")
    tmux.wait_for("participants")
    tmux("send-keys", "-t", "watch", "q")
    frame, _ = tmux.wait_for("SHELL-AGAIN")
    assert done.read_text().strip() == "0"
    assert "participants" not in frame  # the alternate screen is gone


def test_ctrl_c_quits_cleanly(shop: Shop, tmux: Tmux, tmp_path: Path) -> None:
    done = start(tmux, shop, tmp_path)
    tmux.wait_for("q quit")
    tmux("send-keys", "-t", "watch", "C-c")
    frame, _ = tmux.wait_for("SHELL-AGAIN")
    assert done.read_text().strip() == "0"
    assert "participants" not in frame
