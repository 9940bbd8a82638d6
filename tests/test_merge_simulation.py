"""textual-conflict end to end: real repositories, real worktrees, the CLI as a subprocess.

Every conflict type git can report for a pair, the line ranges on each side, and which
parts of a worktree's state (committed, staged, unstaged, untracked, ignored) take part.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Collection
from pathlib import Path
from typing import Any

import pytest
from helpers import add_worktree, commit_all, git, init_repo, run_cli, write

BASE_LINES = [f"line {n}\n" for n in range(1, 31)]
BASE_TEXT = "".join(BASE_LINES)


def numbered(replace: dict[int, str] | None = None, *, drop: Collection[int] = ()) -> str:
    """BASE_TEXT with 1-based lines replaced (value may span lines) or dropped."""
    replace = replace or {}
    out: list[str] = []
    for n, line in enumerate(BASE_LINES, 1):
        if n in drop:
            continue
        out.append(replace.get(n, line))
    return "".join(out)


def scan(cwd: Path, *args: str) -> dict[str, Any]:
    result = run_cli("scan", "--format", "json", *args, cwd=cwd)
    assert result.code in (0, 1), result.stderr
    data: dict[str, Any] = result.json()
    has_error = any(f["severity"] == "error" for f in data["findings"])
    assert result.code == (1 if has_error else 0)
    return data


def conflicts(data: dict[str, Any], a: str, b: str) -> dict[str, dict[str, Any]]:
    """path -> textual-conflict finding for the pair {a, b}."""
    found: dict[str, dict[str, Any]] = {}
    for finding in data["findings"]:
        if finding["kind"] == "textual-conflict" and set(finding["participants"]) == {a, b}:
            assert finding["path"] not in found, f"duplicate finding for {finding['path']}"
            found[finding["path"]] = finding
    return found


def ranges(finding: dict[str, Any], left: str) -> list[tuple[Any, Any]]:
    """Hunks as (range in `left`, range in the other), whatever order the pair is in."""
    hunks = finding["details"]["hunks"]
    flip = finding["details"]["left"] != left
    out = []
    for hunk in hunks:
        lr, rr = hunk["left"], hunk["right"]
        if flip:
            lr, rr = rr, lr
        out.append((tuple(lr) if lr else None, tuple(rr) if rr else None))
    return out


@pytest.fixture
def repo(workspace: Path) -> Path:
    return init_repo(
        workspace / "repo",
        {
            "f.txt": BASE_TEXT,
            "g.txt": BASE_TEXT,
            "mod.py": "def f():\n    return 1\n",
            "img.bin": b"\x00\x01\x02binary\x00",
            "old_name.txt": BASE_TEXT,
            "pkg/x.txt": "x\n",
            ".gitignore": "*.log\nbuild/\n",
        },
    )


@pytest.fixture
def ab(repo: Path) -> tuple[Path, Path]:
    return add_worktree(repo, "a"), add_worktree(repo, "b")


def test_content_conflict_line_ranges(repo: Path, ab: tuple[Path, Path]) -> None:
    a, b = ab
    write(a, {"f.txt": numbered({10: "a ten\n"})})
    write(b, {"f.txt": numbered({10: "b ten\n", 11: "b eleven\n"})})
    data = scan(repo)
    found = conflicts(data, "a", "b")
    assert set(found) == {"f.txt"}
    finding = found["f.txt"]
    assert finding["code"] == "DC101"
    assert finding["severity"] == "error"
    assert finding["details"]["conflict_type"] == "content"
    assert finding["line"] == 10
    # git's conflict region spans base lines 10-11 on both sides (a left 11 as it was).
    assert ranges(finding, "a") == [((10, 11), (10, 11))]
    assert {finding["details"]["left"], finding["details"]["right"]} == {"a", "b"}
    assert finding["details"]["git_messages"]


def test_content_conflict_ranges_follow_clean_shifts_on_each_side(
    repo: Path, ab: tuple[Path, Path]
) -> None:
    """a inserts 3 lines at the top (clean), b deletes line 5 (clean); both edit line 20."""
    a, b = ab
    write(a, {"f.txt": "new 1\nnew 2\nnew 3\n" + numbered({20: "a twenty\n"})})
    write(b, {"f.txt": numbered({20: "b twenty\n"}, drop={5})})
    found = conflicts(scan(repo), "a", "b")
    assert ranges(found["f.txt"], "a") == [((23, 23), (19, 19))]


def test_two_conflict_blocks_in_one_file(repo: Path, ab: tuple[Path, Path]) -> None:
    a, b = ab
    write(a, {"f.txt": numbered({3: "a three\n", 25: "a25\nextra a\n"})})
    write(b, {"f.txt": "top b\n" + numbered({3: "b3\n", 25: "b25\n"})})
    found = conflicts(scan(repo), "a", "b")
    assert ranges(found["f.txt"], "a") == [((3, 3), (4, 4)), ((25, 26), (26, 26))]


def test_deleted_lines_against_changed_lines_have_an_empty_side(
    repo: Path, ab: tuple[Path, Path]
) -> None:
    a, b = ab
    write(a, {"f.txt": numbered(drop={10, 11, 12})})
    write(b, {"f.txt": numbered({11: "b eleven\n"})})
    found = conflicts(scan(repo), "a", "b")
    hunks = ranges(found["f.txt"], "a")
    assert len(hunks) == 1
    a_side, b_side = hunks[0]
    assert a_side is None
    assert b_side is not None and b_side[0] <= 11 <= b_side[1]


def test_underline_of_equals_signs_inside_a_conflict(repo: Path, ab: tuple[Path, Path]) -> None:
    """Regression: a 7+ `=` underline inside a side was taken for the separator."""
    a, b = ab
    base = "Title\n=====\n\ntext\n"
    write(repo, {"README.rst": base})
    commit_all(repo, "readme")
    git("merge", "-q", "main", cwd=a)
    git("merge", "-q", "main", cwd=b)
    write(a, {"README.rst": "Title A long\n============\n\ntext\n"})
    write(b, {"README.rst": "Title B longer\n==============\n\ntext\n"})
    found = conflicts(scan(repo), "a", "b")
    assert ranges(found["README.rst"], "a") == [((1, 2), (1, 2))]


def test_clean_merge_of_different_lines_gives_no_finding(repo: Path, ab: tuple[Path, Path]) -> None:
    a, b = ab
    write(a, {"f.txt": numbered({3: "a three\n"})})
    write(b, {"f.txt": numbered({20: "b twenty\n"})})
    data = scan(repo)
    assert data["findings"] == []
    # The pair did meet on f.txt, so it was really merged, not skipped.
    assert data["stats"]["merge_simulations"] == 1
    assert data["stats"]["pairs_analysed"] >= 1


def test_add_add(repo: Path, ab: tuple[Path, Path]) -> None:
    a, b = ab
    write(a, {"new.py": "x = 1\ny = 2\n"})
    write(b, {"new.py": "x = 3\ny = 2\n"})
    found = conflicts(scan(repo), "a", "b")
    finding = found["new.py"]
    assert finding["code"] == "DC102"
    assert finding["details"]["conflict_type"] == "add/add"
    assert ranges(finding, "a") == [((1, 1), (1, 1))]


def test_identical_adds_do_not_conflict(repo: Path, ab: tuple[Path, Path]) -> None:
    a, b = ab
    write(a, {"new.py": "same\n"})
    write(b, {"new.py": "same\n"})
    assert conflicts(scan(repo), "a", "b") == {}


@pytest.mark.parametrize("deleter", ["a", "b"])
def test_modify_delete_both_directions(repo: Path, ab: tuple[Path, Path], deleter: str) -> None:
    a, b = ab
    paths = {"a": a, "b": b}
    keeper = "b" if deleter == "a" else "a"
    (paths[deleter] / "g.txt").unlink()  # an unstaged deletion
    write(paths[keeper], {"g.txt": numbered({7: "changed\n"})})
    found = conflicts(scan(repo), "a", "b")
    assert set(found) == {"g.txt"}
    finding = found["g.txt"]
    assert finding["code"] == "DC103"
    assert finding["details"]["conflict_type"] == "modify/delete"
    assert finding["details"]["deleted_by"] == deleter


def test_rename_delete(repo: Path, ab: tuple[Path, Path]) -> None:
    a, b = ab
    git("mv", "old_name.txt", "new_name.txt", cwd=a)
    git("rm", "-q", "old_name.txt", cwd=b)
    found = conflicts(scan(repo), "a", "b")
    assert len(found) == 1
    finding = next(iter(found.values()))
    assert finding["code"] == "DC104"
    assert finding["details"]["conflict_type"] == "rename/delete"
    assert finding["path"] in {"old_name.txt", "new_name.txt"}
    assert finding["details"]["deleted_by"] == "b"


def test_binary(repo: Path, ab: tuple[Path, Path]) -> None:
    a, b = ab
    write(a, {"img.bin": b"\x00\x01\x02binary A\x00"})
    write(b, {"img.bin": b"\x00\x01\x02binary B\x00"})
    found = conflicts(scan(repo), "a", "b")
    assert found["img.bin"]["code"] == "DC105"
    assert found["img.bin"]["details"]["conflict_type"] == "binary"


def test_file_directory(repo: Path, ab: tuple[Path, Path]) -> None:
    a, b = ab
    write(a, {"thing": "a file\n"})
    write(b, {"thing/inside.txt": "a folder\n"})
    found = conflicts(scan(repo), "a", "b")
    assert set(found) == {"thing"}  # reported at the original path, not thing~label
    assert found["thing"]["code"] == "DC106"
    assert found["thing"]["details"]["conflict_type"] == "file/directory"


@pytest.mark.parametrize("how", ["unstaged", "staged", "untracked", "committed"])
def test_every_kind_of_change_counts(repo: Path, ab: tuple[Path, Path], how: str) -> None:
    a, b = ab
    write(b, {"f.txt": numbered({10: "b ten\n"}), "n.txt": "b\n"})
    commit_all(b)
    if how == "untracked":
        write(a, {"n.txt": "a\n"})
        expected = {"n.txt"}
    else:
        write(a, {"f.txt": numbered({10: "a ten\n"})})
        if how == "staged":
            git("add", "f.txt", cwd=a)
        elif how == "committed":
            commit_all(a)
        expected = {"f.txt"}
    data = scan(repo)
    assert set(conflicts(data, "a", "b")) == expected
    by_name = {p["name"]: p for p in data["participants"]}
    assert by_name["a"]["dirty"] is (how != "committed")


def test_staged_content_is_overridden_by_the_working_file(
    repo: Path, ab: tuple[Path, Path]
) -> None:
    """`git add -A` records the working file, so a staged edit undone on disk is gone."""
    a, b = ab
    write(b, {"f.txt": numbered({10: "b ten\n"})})
    write(a, {"f.txt": numbered({10: "a ten\n"})})
    git("add", "f.txt", cwd=a)
    write(a, {"f.txt": numbered({2: "a two\n"})})
    assert conflicts(scan(repo), "a", "b") == {}


def test_ignored_files_do_not_count(repo: Path, ab: tuple[Path, Path]) -> None:
    a, b = ab
    write(a, {"debug.log": "a\n", "build/out.txt": "a\n"})
    write(b, {"debug.log": "b\n", "build/out.txt": "b\n"})
    data = scan(repo)
    assert data["findings"] == []
    by_name = {p["name"]: p for p in data["participants"]}
    assert by_name["a"]["dirty"] is False
    assert by_name["b"]["dirty"] is False


def test_committed_only_ignores_uncommitted_work(repo: Path, ab: tuple[Path, Path]) -> None:
    a, b = ab
    write(a, {"f.txt": numbered({10: "a ten\n"}), "n.txt": "a\n"})
    write(b, {"f.txt": numbered({10: "b ten\n"}), "n.txt": "b\n"})
    assert set(conflicts(scan(repo), "a", "b")) == {"f.txt", "n.txt"}
    data = scan(repo, "--committed-only")
    assert data["findings"] == []
    assert all(p["dirty"] is False for p in data["participants"])
    # Committed work still counts.
    write(a, {"g.txt": numbered({1: "a one\n"})})
    write(b, {"g.txt": numbered({1: "b one\n"})})
    for wt in (a, b):
        git("commit", "-q", "-m", "g", "--", "g.txt", cwd=wt)
    assert set(conflicts(scan(repo, "--committed-only"), "a", "b")) == {"g.txt"}
    assert set(conflicts(scan(repo), "a", "b")) == {"f.txt", "g.txt", "n.txt"}


def test_python_syntax_error_merges_textually(repo: Path, ab: tuple[Path, Path]) -> None:
    a, b = ab
    write(a, {"mod.py": "def f(:\n    return 1\n"})
    write(b, {"mod.py": "def f():\n    return 1\n\n\ndef g(\n"})
    result = run_cli("scan", "--format", "json", cwd=repo)
    assert result.code == 0, result.stderr
    assert result.json()["findings"] == []
    write(b, {"mod.py": "def f(]]:\n    return 1\n"})
    result = run_cli("scan", "--format", "json", cwd=repo)
    assert result.code == 1, result.stderr
    found = conflicts(result.json(), "a", "b")
    assert found["mod.py"]["code"] == "DC101"


def test_conflicts_with_main_worktree_and_several_pairs(repo: Path, ab: tuple[Path, Path]) -> None:
    a, b = ab
    write(repo, {"f.txt": numbered({1: "main one\n"})})
    write(a, {"f.txt": numbered({1: "a one\n"})})
    write(b, {"g.txt": numbered({1: "b one\n"})})
    data = scan(repo)
    assert set(conflicts(data, "main", "a")) == {"f.txt"}
    assert conflicts(data, "main", "b") == {}
    assert conflicts(data, "a", "b") == {}
    assert data["stats"]["pairs"] == 3
    assert data["stats"]["pairs_skipped_disjoint"] == 2


def test_add_into_folder_renamed_with_its_subfolders(workspace: Path) -> None:
    """Regression: only a deleted file's direct parent counted as an emptied folder."""
    repo = init_repo(
        workspace / "repo",
        {"d/sub1/f1.txt": BASE_TEXT, "d/sub2/f2.txt": BASE_TEXT.upper()},
    )
    a, b = add_worktree(repo, "a"), add_worktree(repo, "b")
    (a / "e").mkdir()
    git("mv", "d/sub1", "e/sub1", cwd=a)
    git("mv", "d/sub2", "e/sub2", cwd=a)
    write(b, {"d/new.py": "x = 1\n"})
    commit_all(a)
    commit_all(b)
    # git itself reports a conflict for this pair:
    merged = git(
        "merge-tree",
        "--write-tree",
        "--name-only",
        "--no-messages",
        "a",
        "b",
        cwd=repo,
        check=False,
    )
    assert merged.splitlines()[1:] == ["e/new.py"]
    found = conflicts(scan(repo), "a", "b")
    assert set(found) == {"e/new.py"}
    assert found["e/new.py"]["details"]["conflict_type"] == "file location"


def test_same_size_edit_in_the_same_second_as_the_index_counts(
    repo: Path, ab: tuple[Path, Path]
) -> None:
    """Regression: the private index copy got a fresh mtime, defeating the racy check."""
    a, b = ab
    git("config", "core.trustctime", "false", cwd=repo)
    write(b, {"mod.py": "def f():\n    return 33\n"})
    target = a / "mod.py"
    index = Path(git("rev-parse", "--path-format=absolute", "--git-path", "index", cwd=a))
    # An edit that lands in the same second as git last wrote the index, with an
    # unchanged size: only git's racy-clean check (file mtime >= index mtime) catches it.
    # Pin every timestamp a minute into the past so the scan cannot run in that second.
    past = target.stat().st_mtime_ns - 60 * 10**9
    os.utime(target, ns=(past, past))
    git("update-index", "--refresh", cwd=a)  # the index entry now records `past`
    target.write_text("def f():\n    return 2\n")  # same size as the committed file
    os.utime(target, ns=(past, past))
    os.utime(index, ns=(past, past))
    status = subprocess.run(
        ["git", "status", "--porcelain"],
        cwd=a,
        capture_output=True,
        text=True,
        env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"},
        check=True,
    ).stdout
    assert " M mod.py" in status.splitlines()  # git itself sees the edit
    found = conflicts(scan(repo), "a", "b")
    assert found["mod.py"]["code"] == "DC101"
