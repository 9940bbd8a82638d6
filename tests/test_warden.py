"""The warden ends git's processes when the driftcheck process that started them is
killed outright, including a git whose start the kill interrupted."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from helpers import command_lines, processes_with

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

# A driftcheck-like process: it starts its warden, then a child the way start_git
# does but, like a kill landing before Popen returned, never announces its group.
_PARENT = textwrap.dedent(
    """
    import os, subprocess, sys, time
    from driftcheck.workspace import warden
    marks = warden.prepare()
    announced = subprocess.Popen(["sleep", "60"], start_new_session=True, pass_fds=marks)
    warden.guard(announced.pid)
    # sh starts a grandchild, as git starts a clean filter.
    subprocess.Popen(["sh", "-c", "sleep 61; :"], start_new_session=True, pass_fds=marks)
    print(len(marks), flush=True)
    time.sleep(600)
    """
)


def _left(marker: str) -> list[str]:
    return command_lines(processes_with(marker))


def test_sigkill_ends_announced_and_unannounced_children(tmp_path: Path) -> None:
    marker = f"DRIFTCHECK_TEST_MARK={tmp_path}"
    env = {**os.environ, "DRIFTCHECK_TEST_MARK": str(tmp_path)}
    parent = subprocess.Popen(
        [sys.executable, "-c", _PARENT], env=env, stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    assert parent.stdout.readline().strip() == "1", "no warden runs: nothing is tested"
    deadline = time.monotonic() + 10
    while not any(c.startswith("sleep 61") for c in _left(marker)):
        assert time.monotonic() < deadline, "the grandchild never started"
        time.sleep(0.02)
    assert any(c.startswith("sleep 60") for c in _left(marker))
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 10
    while _left(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _left(marker) == []


def test_a_normal_exit_ends_the_warden_at_once(tmp_path: Path) -> None:
    """With nothing left to guard, the warden goes with the process, not after it."""
    marker = f"DRIFTCHECK_TEST_MARK={tmp_path}"
    env = {**os.environ, "DRIFTCHECK_TEST_MARK": str(tmp_path)}
    script = "from driftcheck.workspace import warden\nassert warden.prepare()\n"
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True)
    assert done.returncode == 0, done.stderr
    assert _left(marker) == []
