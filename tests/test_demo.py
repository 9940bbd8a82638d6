"""`driftcheck demo`: builds, scans and cleans up; the stories stay in the scenario."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import git, run_cli

from driftcheck import detectors
from driftcheck.demo import shop as demo
from driftcheck.model import TEXTUAL_CONFLICT


def _tmpdir(tmp_path: Path) -> Path:
    # The demo builds under TMPDIR; a private one shows exactly what it leaves behind.
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    return tmp


def test_demo_json_and_cleanup(tmp_path: Path) -> None:
    tmp = _tmpdir(tmp_path)
    result = run_cli("demo", "--format", "json", cwd=tmp_path, env={"TMPDIR": str(tmp)})
    assert result.code == 1, result.stderr  # error findings by design
    doc = result.json()
    names = {p["name"] for p in doc["participants"]}
    assert {w.name for w in demo.DEMO.worktrees} | {"main"} == names
    conflicts = {f["path"] for f in doc["findings"] if f["kind"] == TEXTUAL_CONFLICT}
    assert {"README.md", "CHANGELOG.md"} <= conflicts
    # Every detector that exists has a story in the demo.
    assert set(detectors.DETECTOR_MODULES) <= {f["kind"] for f in doc["findings"]}
    assert list(tmp.iterdir()) == []


def test_demo_keep_path(tmp_path: Path) -> None:
    target = tmp_path / "new" / "demo"
    result = run_cli("demo", "--keep", "--path", str(target), "--format", "json", cwd=tmp_path)
    assert result.code == 1, result.stderr
    repo = target / "repo"
    assert str(repo) in result.stderr
    listed = git("worktree", "list", "--porcelain", cwd=repo).count("worktree ")
    assert listed == len(demo.DEMO.worktrees) + 1
    assert "agent/fix-b" in git("branch", "--list", cwd=repo)
    # The kept repository is a real one to explore: uncommitted work is there too.
    status = git("status", "--porcelain", cwd=target / "agent-tests").splitlines()
    assert sorted(status) == ["?? tests/test_checkout.py", "A  tests/conftest.py"]
    # and says what to try there
    assert f"cd {repo}" in result.stderr and "driftcheck plan" in result.stderr


def test_the_readmes_first_command_passes_a_set_e_script(tmp_path: Path) -> None:
    """The demo exits 1 by design (its report has errors); the README's first command
    must still not stop a `set -e` script that runs it."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    first = readme.split("```sh\n", 1)[1].split("\n", 1)[0]
    assert "driftcheck demo" in first
    demo_part = first.split("&& .venv/bin/", 2)[-1]  # the demo, after the install steps
    script = f"set -e\n{sys.executable} -m {demo_part}\necho reached\n"
    proc = subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.strip().endswith("reached"), proc.stderr


def test_demo_path_without_keep_is_emptied(tmp_path: Path) -> None:
    target = tmp_path / "empty"
    target.mkdir()
    result = run_cli("demo", "--path", str(target), cwd=tmp_path)
    assert result.code == 1, result.stderr
    assert target.is_dir()
    assert list(target.iterdir()) == []


def test_demo_refuses_non_empty_path(tmp_path: Path) -> None:
    target = tmp_path / "busy"
    target.mkdir()
    (target / "notes.txt").write_text("mine\n")
    result = run_cli("demo", "--path", str(target), cwd=tmp_path)
    assert result.code == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert "not empty" in result.stderr
    assert sorted(p.name for p in target.iterdir()) == ["notes.txt"]


def test_demo_cleans_up_on_interrupt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tmp = _tmpdir(tmp_path)
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setattr("tempfile.tempdir", None)  # re-read TMPDIR

    def interrupted(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(demo, "scan", interrupted)
    with pytest.raises(KeyboardInterrupt):
        demo.run_demo(keep=False)
    assert list(tmp.iterdir()) == []


def _changes(worktree: str) -> dict[str, str | bytes | None]:
    [wt] = [w for w in demo.DEMO.worktrees if w.name == worktree]
    return {c.path: c.content for c in wt.changes}


def _methods(source: str | bytes | None, cls: str) -> set[str]:
    assert isinstance(source, str)
    [node] = [n for n in ast.parse(source).body if isinstance(n, ast.ClassDef) and n.name == cls]
    return {n.name for n in node.body if isinstance(n, ast.FunctionDef)}


def test_demo_tells_the_semantic_stories() -> None:
    """The stories the semantic detectors will find must stay in the scenario."""
    stages = {c.stage for w in demo.DEMO.worktrees for c in w.changes}
    assert stages == {"committed", "staged", "unstaged", "untracked"}
    # stale-caller: calculate_total moves out of OrderProcessor; new tests still call it.
    pricing = _changes("agent/pricing")
    assert "calculate_total" in _methods(demo.BASE["orders/processor.py"], "OrderProcessor")
    assert "calculate_total" not in _methods(pricing["orders/processor.py"], "OrderProcessor")
    assert "calculate_total" in _methods(pricing["orders/pricing.py"], "PricingEngine")
    tests = _changes("agent/tests")
    assert ").calculate_total(" in str(tests["tests/test_checkout.py"])
    # stale-caller on a deleted module: cache.py goes, the tests import it.
    assert "from cache import" in str(tests["tests/test_checkout.py"])
    assert "cache.py" in _changes("agent/cache-removal")
    # duplicate: the same helper under two names.
    assert "def find_models(" in str(_changes("agent/discovery")["recommend/discovery.py"])
    registry = str(_changes("agent/registry")["recommend/registry.py"])
    assert "def list_available_models(" in registry
    # contradicting-edit: one function, two different fixes.
    fix_a, fix_b = _changes("agent/fix-a")["utils.py"], _changes("agent/fix-b")["utils.py"]
    assert fix_a != fix_b and "def paginate(" in str(fix_a) and "def paginate(" in str(fix_b)
