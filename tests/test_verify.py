"""`scan --verify`: the project's own checker on both sides and on git's merge (issue #15).

Real repositories with worktrees, the real mypy from the test extras (tsc where the
machine has it), driftcheck as a real subprocess.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from helpers import add_worktree, commit_all, git, init_repo, run_cli, snapshot_repo, write

LIB = """\
def total(items: list[int]) -> int:
    return sum(items)


def mean(items: list[int]) -> float:
    return total(items) / len(items)
"""
MYPY_INI = "[mypy]\nstrict_optional = True\n"


def two_agents(tmp_path: Path, left: dict[str, str], right: dict[str, str]) -> Path:
    """A repository whose worktrees a and b carry `left` and `right` uncommitted."""
    repo = init_repo(tmp_path / "repo", {"lib.py": LIB, "mypy.ini": MYPY_INI})
    write(add_worktree(repo, "a"), left)
    write(add_worktree(repo, "b"), right)
    return repo


def verify(repo: Path, *extra: str) -> tuple[int, dict]:
    result = run_cli("scan", "--verify", "mypy", "--format", "json", *extra, cwd=repo)
    assert result.code in (0, 1), result.stderr
    return result.code, result.json()


def merge_breaks(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["kind"] == "merge-break"]


NEW_PARAMETER = LIB.replace(
    "def total(items: list[int]) -> int:\n    return sum(items)",
    "def total(items: list[int], scale: int) -> int:\n    return sum(items) * scale",
).replace("total(items) / len(items)", "total(items, 1) / len(items)")
NEW_CALLER = """\
from lib import total


def report(values: list[int]) -> str:
    return str(total(values))
"""


def test_a_merge_that_breaks_type_checking_is_reported(tmp_path: Path) -> None:
    """a adds a required parameter and updates its callers; b adds a new caller.
    Each side type-checks; git merges cleanly; the merge does not type-check."""
    repo = two_agents(tmp_path, {"lib.py": NEW_PARAMETER}, {"report.py": NEW_CALLER})
    before = snapshot_repo(repo)
    code, report = verify(repo)
    assert snapshot_repo(repo) == before  # read-only, the checker's copies included
    breaks = merge_breaks(report)
    assert [(f["code"], f["severity"], f["path"], f["line"]) for f in breaks] == [
        ("DC501", "error", "report.py", 5)
    ]
    finding = breaks[0]
    assert sorted(finding["participants"]) == ["a", "b"]
    assert finding["symbol"] == "report.report"
    assert "Missing positional argument" in finding["details"]["error"]
    assert finding["details"]["checker"] == "mypy"
    assert finding["details"]["caused_by"]["use"] == {"participant": "b", "line": 5}
    assert finding["details"]["caused_by"]["definition"]["participant"] == "a"
    assert code == 1
    stats = report["stats"]["verify"]["mypy"]
    assert stats["pairs_verified"] >= 1 and stats["checker_runs"] >= 3


def test_a_module_name_two_files_share_does_not_stop_mypy(tmp_path: Path) -> None:
    """Two `conftest.py` outside packages make mypy stop before checking anything;
    the preset leaves the second out, as a project's own `exclude` would."""
    repo = init_repo(
        tmp_path / "repo",
        {
            "lib.py": LIB,
            "mypy.ini": MYPY_INI,
            "tests/one/conftest.py": "X = 1\n",
            "tests/two/conftest.py": "Y = 2\n",
        },
    )
    write(add_worktree(repo, "a"), {"lib.py": NEW_PARAMETER})
    write(add_worktree(repo, "b"), {"report.py": NEW_CALLER})
    _code, report = verify(repo)
    assert [f["code"] for f in merge_breaks(report)] == ["DC501"]


def test_each_state_is_checked_once_and_remembered_by_tree(tmp_path: Path) -> None:
    repo = two_agents(tmp_path, {"lib.py": NEW_PARAMETER}, {"report.py": NEW_CALLER})
    first = verify(repo)[1]["stats"]["verify"]["mypy"]
    second = verify(repo)[1]["stats"]["verify"]["mypy"]
    assert first["states_from_cache"] == 0
    assert second["checker_runs"] == 0
    assert second["states_from_cache"] == first["checker_runs"]


def test_a_merge_that_type_checks_gives_nothing(tmp_path: Path) -> None:
    """b's new caller passes the new argument already; the merge is clean."""
    caller = NEW_CALLER.replace("total(values)", "total(values, 2)")
    repo = two_agents(tmp_path, {"lib.py": NEW_PARAMETER}, {"report.py": caller})
    _code, report = verify(repo)
    # b alone passes one argument too many; the merge fixes that: nothing is new in it
    assert merge_breaks(report) == []
    assert report["stats"]["verify"]["mypy"]["pairs_verified"] >= 1


def test_pairs_that_cannot_meet_are_skipped(tmp_path: Path) -> None:
    repo = two_agents(tmp_path, {"lib.py": NEW_PARAMETER}, {"notes.py": "NOTE = 'unrelated'\n"})
    _code, report = verify(repo)
    assert merge_breaks(report) == []
    stats = report["stats"]["verify"]["mypy"]
    assert stats["pairs_skipped_cannot_meet"] >= 1


def test_a_missing_checker_is_one_line_and_exit_2(tmp_path: Path) -> None:
    repo = two_agents(tmp_path, {"lib.py": NEW_PARAMETER}, {"report.py": NEW_CALLER})
    result = run_cli("scan", "--verify", "no-such-checker-xyz --strict", cwd=repo)
    assert result.code == 2
    assert result.stderr.strip().count("\n") == 0
    assert "no-such-checker-xyz is not installed" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_checker_that_crashes_is_could_not_verify(tmp_path: Path) -> None:
    repo = two_agents(tmp_path, {"lib.py": NEW_PARAMETER}, {"report.py": NEW_CALLER})
    crash = f"{sys.executable} -c 'import sys; print(\"boom\"); sys.exit(3)'"
    result = run_cli("scan", "--verify", crash, "--format", "json", cwd=repo)
    assert result.code in (0, 1), result.stderr
    breaks = merge_breaks(result.json())
    assert breaks and {f["code"] for f in breaks} == {"DC502"}
    assert all(f["severity"] == "warning" for f in breaks)
    assert "exited 3: boom" in breaks[0]["message"]


def test_a_command_with_its_own_output_pattern(tmp_path: Path) -> None:
    """Any argv command whose lines look like `path:line: message` is a checker."""
    script = tmp_path / "check.py"
    script.write_text(
        "import pathlib, sys\n"
        "bad = [p for p in pathlib.Path('.').glob('*.py') if 'total(values)' in p.read_text()]\n"
        "lib = pathlib.Path('lib.py').read_text()\n"
        "for p in bad:\n"
        "    if 'scale' in lib:\n"
        "        print(f'ERR {p} 5 total needs scale')\n"
        "sys.exit(1 if bad and 'scale' in lib else 0)\n"
    )
    repo = two_agents(tmp_path, {"lib.py": NEW_PARAMETER}, {"report.py": NEW_CALLER})
    pattern = r"^ERR (?P<path>\S+) (?P<line>\d+) (?P<message>.+)$"
    result = run_cli(
        "scan",
        "--verify",
        f"{sys.executable} {script}",
        "--verify-pattern",
        pattern,
        "--format",
        "json",
        cwd=repo,
    )
    assert result.code == 1, result.stderr
    breaks = merge_breaks(result.json())
    assert [(f["code"], f["path"], f["details"]["error"]) for f in breaks] == [
        ("DC501", "report.py", "total needs scale")
    ]


def test_a_conflicted_file_cannot_be_checked_and_says_so(tmp_path: Path) -> None:
    repo = two_agents(
        tmp_path,
        {"lib.py": LIB.replace("return sum(items)", "return sum(items) + 0")},
        {"lib.py": LIB.replace("return sum(items)", "return int(sum(items))")},
    )
    _code, report = verify(repo)
    breaks = merge_breaks(report)
    assert [f["code"] for f in breaks] == ["DC502"]
    assert "conflicts in lib.py" in breaks[0]["message"]


def test_committed_refs_are_verified_too(tmp_path: Path) -> None:
    """In refs mode (CI) the same check runs on the branches' commits."""
    repo = init_repo(tmp_path / "repo", {"lib.py": LIB, "mypy.ini": MYPY_INI})
    git("checkout", "-q", "-b", "feature/scale", cwd=repo)
    write(repo, {"lib.py": NEW_PARAMETER})
    commit_all(repo)
    git("checkout", "-q", "-b", "feature/report", "main", cwd=repo)
    write(repo, {"report.py": NEW_CALLER})
    commit_all(repo)
    git("checkout", "-q", "main", cwd=repo)
    _code, report = verify(repo, "--refs", "refs/heads/feature/*")
    assert [f["code"] for f in merge_breaks(report)] == ["DC501"]


@pytest.mark.skipif(shutil.which("tsc") is None, reason="tsc is not installed on this machine")
def test_tsc_reports_a_merge_that_breaks(tmp_path: Path) -> None:
    lib = "export function total(items: number[]): number {\n  return items.length\n}\n"
    config = '{"compilerOptions": {"strict": true, "noEmit": true}, "include": ["*.ts"]}\n'
    repo = init_repo(tmp_path / "repo", {"lib.ts": lib, "tsconfig.json": config})
    write(
        add_worktree(repo, "a"),
        {"lib.ts": lib.replace("items: number[]", "items: number[], k: number")},
    )
    write(
        add_worktree(repo, "b"),
        {"use.ts": "import { total } from './lib'\nexport const n = total([1])\n"},
    )
    result = run_cli("scan", "--verify", "tsc", "--format", "json", cwd=repo)
    assert result.code == 1, result.stderr
    assert [(f["code"], f["path"]) for f in merge_breaks(result.json())] == [("DC501", "use.ts")]


@pytest.mark.skipif(shutil.which("tsc") is None, reason="tsc is not installed on this machine")
def test_tsc_is_quiet_on_a_merge_that_compiles(tmp_path: Path) -> None:
    lib = "export function total(items: number[]): number {\n  return items.length\n}\n"
    config = '{"compilerOptions": {"strict": true, "noEmit": true}, "include": ["*.ts"]}\n'
    repo = init_repo(tmp_path / "repo", {"lib.ts": lib, "tsconfig.json": config})
    write(add_worktree(repo, "a"), {"lib.ts": lib.replace("items.length", "items.length + 0")})
    write(
        add_worktree(repo, "b"),
        {"use.ts": "import { total } from './lib'\nexport const n = total([1])\n"},
    )
    result = run_cli("scan", "--verify", "tsc", "--format", "json", cwd=repo)
    assert result.code == 0, result.stderr
    assert merge_breaks(result.json()) == []
    assert result.json()["stats"]["verify"]["tsc"]["pairs_verified"] >= 1


GO_MOD = "module example.com/shop\n\ngo 1.19\n"
GO_LIB = "package orders\n\nfunc Total(items []int) int {\n\treturn len(items)\n}\n"


@pytest.mark.skipif(shutil.which("go") is None, reason="go is not installed on this machine")
@pytest.mark.parametrize("breaks", [True, False])
def test_go_vet_reports_a_merge_that_breaks_and_only_that(tmp_path: Path, breaks: bool) -> None:
    """One side adds a parameter to Total (and fixes its own callers), the other adds
    a call: with one argument the merge does not build; with two it does."""
    repo = init_repo(tmp_path / "repo", {"go.mod": GO_MOD, "orders/total.go": GO_LIB})
    changed = GO_LIB.replace("items []int) int", "items []int, scale int) int").replace(
        "len(items)", "len(items) * scale"
    )
    write(add_worktree(repo, "a"), {"orders/total.go": changed})
    call = "Total([]int{1})" if breaks else "Total([]int{1}, 2)"
    use = f"package orders\n\nfunc One() int {{\n\treturn {call}\n}}\n"
    write(add_worktree(repo, "b"), {"orders/one.go": use})
    result = run_cli("scan", "--verify", "go vet ./...", "--format", "json", cwd=repo)
    assert result.code in (0, 1), result.stderr
    found = [(f["code"], f["path"]) for f in merge_breaks(result.json())]
    assert found == ([("DC501", "orders/one.go")] if breaks else [])


def test_a_repositorys_configuration_cannot_make_scan_run_a_command(tmp_path: Path) -> None:
    """`verify` in [tool.driftcheck] may name presets; a command there would let a
    cloned repository run what it likes on `driftcheck scan`."""
    marker = tmp_path / "ran"
    repo = two_agents(tmp_path, {"lib.py": NEW_PARAMETER}, {"report.py": NEW_CALLER})
    write(repo, {".driftcheck.toml": f'verify = ["touch {marker}"]\n'})
    result = run_cli("scan", cwd=repo)
    assert result.code == 2 and "verify takes presets only" in result.stderr
    assert not marker.exists()


def test_a_python_the_repository_tracks_is_never_run(tmp_path: Path) -> None:
    """A committed `.venv/bin/python` is the repository's, not the user's
    environment: the mypy preset runs driftcheck's own interpreter instead."""
    marker = tmp_path / "ran"
    fake = f"#!/bin/sh\ntouch {marker}\nexit 1\n"
    repo = init_repo(
        tmp_path / "repo", {"lib.py": LIB, "mypy.ini": MYPY_INI, ".venv/bin/python": fake}
    )
    git("update-index", "--chmod=+x", ".venv/bin/python", cwd=repo)
    git("commit", "-qm", "x", cwd=repo)
    (repo / ".venv" / "bin" / "python").chmod(0o755)
    write(add_worktree(repo, "a"), {"lib.py": NEW_PARAMETER})
    write(add_worktree(repo, "b"), {"report.py": NEW_CALLER})
    for where in (repo, repo.parent / "a"):
        (where / ".venv" / "bin" / "python").chmod(0o755)
    _code, report = verify(repo)
    assert not marker.exists()
    assert [f["code"] for f in merge_breaks(report)] == ["DC501"]
