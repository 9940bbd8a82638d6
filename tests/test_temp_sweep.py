"""Temp folders a killed driftcheck left: the next run removes those of owners that
are gone, and nothing else (a live owner's, another user's, a link, a look-alike)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import run_cli

from driftcheck.deadline import owned_tempdir, sweep_stale_tempdirs

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pid namespaces")


def dead_pid() -> int:
    """The pid of a process that ran and was reaped."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def namespace() -> int:
    return os.stat("/proc/self/ns/pid").st_ino


def made_by(tmp: Path, pid: int, kind: str = "hook-") -> Path:
    folder = tmp / f"driftcheck-{kind}{pid}-{namespace()}-abcd1234"
    (folder / "objects").mkdir(parents=True)
    (folder / "objects" / "index").write_text("x")
    return folder


@pytest.fixture
def tmp(tmp_path: Path) -> Path:
    folder = tmp_path / "tmp"
    folder.mkdir()
    return folder


def test_a_dead_owners_folders_go_a_live_owners_stay(tmp: Path) -> None:
    dead = dead_pid()
    gone = [made_by(tmp, dead), made_by(tmp, dead, "live-"), made_by(tmp, dead, "")]
    mine = made_by(tmp, os.getpid())
    assert sweep_stale_tempdirs(str(tmp), budget_s=60) == 3
    assert not any(folder.exists() for folder in gone)
    assert (mine / "objects" / "index").is_file()


def test_links_look_alikes_and_other_namespaces_are_left_alone(tmp: Path, tmp_path: Path) -> None:
    dead = dead_pid()
    target = tmp_path / "precious"
    target.mkdir()
    (target / "keep").write_text("x")
    link = tmp / f"driftcheck-hook-{dead}-{namespace()}-linklink"
    link.symlink_to(target, target_is_directory=True)
    elsewhere = tmp / f"driftcheck-hook-{dead}-{namespace() + 1}-abcd1234"
    elsewhere.mkdir()
    runtime = tmp / "driftcheck-0"  # the daemon's runtime folder for root: not a temp folder
    runtime.mkdir()
    plain = tmp / "driftcheck-zx8k2m1q"  # an old unnamed folder: its owner is unknown
    plain.mkdir()
    a_file = tmp / f"driftcheck-hook-{dead}-{namespace()}-filefile"
    a_file.write_text("x")
    assert sweep_stale_tempdirs(str(tmp)) == 0
    assert (target / "keep").is_file() and link.is_symlink()
    assert elsewhere.is_dir() and runtime.is_dir() and plain.is_dir() and a_file.is_file()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to make a folder another user owns")
def test_another_users_folder_is_left_alone(tmp: Path) -> None:
    theirs = made_by(tmp, dead_pid())
    os.chown(theirs, 65534, 65534)
    assert sweep_stale_tempdirs(str(tmp)) == 0
    assert theirs.is_dir()


def test_names_carry_the_owner_and_any_command_sweeps(tmp: Path, tmp_path: Path) -> None:
    own = Path(owned_tempdir("driftcheck-hook-"))
    try:
        assert own.name.startswith(f"driftcheck-hook-{os.getpid()}-{namespace()}-")
    finally:
        own.rmdir()
    stale = made_by(tmp, dead_pid(), "live-")
    result = run_cli("--version", cwd=tmp_path, env={"TMPDIR": str(tmp)})
    assert result.code == 0, result.stderr
    assert not stale.exists()


def test_a_sweep_within_its_budget_still_makes_progress(tmp: Path) -> None:
    """A hook's deadline is running while it sweeps: past its budget a sweep stops,
    after one folder at least, and the next run goes on."""
    dead = dead_pid()
    for kind in ("hook-", "live-", "head-", "", "x-"):
        made_by(tmp, dead, kind)
    assert sweep_stale_tempdirs(str(tmp), budget_s=0) == 1
    assert sweep_stale_tempdirs(str(tmp), budget_s=60) == 4
    assert list(tmp.iterdir()) == []
