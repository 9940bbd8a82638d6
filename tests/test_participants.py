"""Who takes part in a scan, under which name, and in which state."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from helpers import add_worktree, commit_all, git, init_repo, run_cli, write

BASE = "".join(f"line {n}\n" for n in range(1, 21))


def scan(cwd: Path, *args: str, expect: int | None = None) -> tuple[dict[str, Any], str]:
    result = run_cli("scan", "--format", "json", *args, cwd=cwd)
    assert result.code in ((0, 1) if expect is None else (expect,)), result.stderr
    data: dict[str, Any] = result.json()
    return data, result.stderr


def by_name(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in data["participants"]}


def pair_paths(data: dict[str, Any], a: str, b: str) -> set[str]:
    return {
        f["path"]
        for f in data["findings"]
        if f["kind"] == "textual-conflict" and set(f["participants"]) == {a, b}
    }


def edit_line(n: int, text: str) -> str:
    lines = BASE.splitlines(keepends=True)
    # Always longer than "line N": a same-size edit can hide from git's stat check.
    lines[n - 1] = f"{text} <edited>\n"
    return "".join(lines)


@pytest.fixture
def repo(workspace: Path) -> Path:
    return init_repo(workspace / "repo", {"f.txt": BASE, "g.txt": BASE})


def test_worktree_names_branch_with_slash_and_detached(repo: Path) -> None:
    add_worktree(repo, "wt-a", "feat/a")
    add_worktree(repo, "agent-3", detach=True)
    data, _ = scan(repo)
    names = by_name(data)
    assert set(names) == {"main", "feat/a", "agent-3"}
    assert data["participants"][0]["name"] == "main"  # git lists the main worktree first
    assert names["feat/a"]["branch"] == "feat/a"
    assert names["feat/a"]["kind"] == "worktree"
    assert names["feat/a"]["detached"] is False
    assert names["agent-3"]["branch"] is None
    assert names["agent-3"]["detached"] is True
    head = git("rev-parse", "HEAD", cwd=repo)
    assert names["agent-3"]["head"] == head
    assert Path(names["agent-3"]["path"]).resolve() == (repo.parent / "agent-3").resolve()
    assert Path(data["repo"]).resolve() == repo.resolve()
    assert data["stats"]["pairs"] == 3


def test_names_stay_unique(repo: Path) -> None:
    """A detached worktree whose folder is called like a branch gets a suffix."""
    add_worktree(repo, "x", "feat")
    add_worktree(repo, "feat", detach=True)
    data, _ = scan(repo)
    names = [p["name"] for p in data["participants"]]
    assert len(names) == len(set(names)) == 3
    assert "feat" in names


def test_refs_pattern_short_names(repo: Path) -> None:
    head = git("rev-parse", "HEAD", cwd=repo)
    add_worktree(repo, "a")
    write(repo.parent / "a", {"f.txt": edit_line(5, "a five")})
    # A pull-request ref whose commit conflicts with worktree a.
    git("checkout", "-q", "-b", "tmp", cwd=repo)
    write(repo, {"f.txt": edit_line(5, "pr five")})
    commit_all(repo, "pr")
    pr = git("rev-parse", "HEAD", cwd=repo)
    git("checkout", "-q", "main", cwd=repo)
    git("branch", "-q", "-D", "tmp", cwd=repo)
    git("update-ref", "refs/remotes/origin/pr/12", pr, cwd=repo)
    git("update-ref", "refs/remotes/origin/pr/13", head, cwd=repo)
    git("update-ref", "refs/remotes/origin/other", pr, cwd=repo)
    data, _ = scan(repo, "--refs", "refs/remotes/origin/pr/*")
    names = by_name(data)
    assert set(names) == {"main", "a", "origin/pr/12", "origin/pr/13"}
    pr12 = names["origin/pr/12"]
    assert pr12["kind"] == "ref"
    assert pr12["path"] is None
    assert pr12["dirty"] is False
    assert pr12["head"] == pr
    assert pr12["ref"] == "refs/remotes/origin/pr/12"
    assert pair_paths(data, "a", "origin/pr/12") == {"f.txt"}
    assert pair_paths(data, "a", "origin/pr/13") == set()


def test_refs_pattern_without_match_warns(repo: Path) -> None:
    data, stderr = scan(repo, "--refs", "refs/remotes/nothing/*", expect=0)
    assert [p["name"] for p in data["participants"]] == ["main"]
    assert data["warnings"]
    assert "refs/remotes/nothing/*" in stderr


def test_refs_pattern_star_does_not_cross_slash_like_for_each_ref(repo: Path) -> None:
    """Regression: fnmatch let `*` cross `/`; --refs now follows for-each-ref."""
    head = git("rev-parse", "HEAD", cwd=repo)
    git("update-ref", "refs/remotes/origin/pr/12", head, cwd=repo)
    git("update-ref", "refs/remotes/origin/pr/13/head", head, cwd=repo)
    pattern = "refs/remotes/origin/pr/*"
    expected = set(git("for-each-ref", "--format=%(refname)", pattern, cwd=repo).splitlines())
    assert expected == {"refs/remotes/origin/pr/12"}
    data, _ = scan(repo, "--refs", pattern)
    assert {p["ref"] for p in data["participants"] if p["kind"] == "ref"} == expected


def test_refs_literal_prefix_matches_like_for_each_ref(repo: Path) -> None:
    head = git("rev-parse", "HEAD", cwd=repo)
    git("update-ref", "refs/remotes/origin/pr/12", head, cwd=repo)
    git("update-ref", "refs/remotes/origin/pr/13/head", head, cwd=repo)
    git("update-ref", "refs/remotes/origin/prx", head, cwd=repo)
    data, _ = scan(repo, "--refs", "refs/remotes/origin/pr")
    refs = {p["ref"] for p in data["participants"] if p["kind"] == "ref"}
    expected = git("for-each-ref", "--format=%(refname)", "refs/remotes/origin/pr", cwd=repo)
    assert refs == set(expected.splitlines())
    assert "refs/remotes/origin/prx" not in refs


def test_trunk_checked_out_is_not_duplicated(repo: Path) -> None:
    """Regression: git < 2.43 echoed --end-of-options into the resolved trunk name."""
    add_worktree(repo, "a")
    data, _ = scan(repo, "--trunk", "main")
    assert data["trunk"] == "refs/heads/main"
    assert [p["name"] for p in data["participants"]] == ["main", "a"]
    assert by_name(data)["main"]["kind"] == "worktree"


def test_trunk_not_checked_out_joins_as_a_ref(repo: Path) -> None:
    a = add_worktree(repo, "a")
    write(a, {"f.txt": edit_line(7, "a seven")})
    # main moves on after a forked, then the main worktree switches away from main.
    write(repo, {"f.txt": edit_line(7, "trunk seven")})
    commit_all(repo, "trunk moves")
    git("checkout", "-q", "-b", "dev", "HEAD~1", cwd=repo)
    data, _ = scan(repo, "--trunk", "main")
    names = by_name(data)
    assert data["trunk"] == "refs/heads/main"
    assert names["main"]["kind"] == "ref"
    assert names["main"]["head"] == git("rev-parse", "main", cwd=repo)
    assert names["dev"]["kind"] == "worktree"
    assert pair_paths(data, "main", "a") == {"f.txt"}
    assert pair_paths(data, "dev", "a") == set()
    # Without --trunk the moved branch takes no part.
    plain, _ = scan(repo, expect=0)
    assert set(by_name(plain)) == {"dev", "a"}
    assert plain["trunk"] is None


def test_unknown_trunk_is_a_usage_error(repo: Path) -> None:
    result = run_cli("scan", "--trunk", "no-such-branch", cwd=repo)
    assert result.code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "no-such-branch" in lines[0]
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_deleted_worktree_folder_is_skipped_with_a_warning(repo: Path) -> None:
    a = add_worktree(repo, "a")
    gone = add_worktree(repo, "gone")
    b = add_worktree(repo, "b")
    write(a, {"f.txt": edit_line(3, "a three")})
    write(b, {"f.txt": edit_line(3, "b three")})
    shutil.rmtree(gone)
    result = run_cli("scan", "--format", "json", cwd=repo)
    assert result.code == 1  # the a/b conflict still decides the exit code
    data = result.json()
    assert set(by_name(data)) == {"main", "a", "b"}
    assert pair_paths(data, "a", "b") == {"f.txt"}
    warning_lines = [line for line in result.stderr.splitlines() if "gone" in line]
    assert len(warning_lines) == 1
    assert "warning" in warning_lines[0].lower()
    assert any("gone" in w for w in data["warnings"])
    skipped = data["stats"]["skipped_participants"]
    assert [Path(s["path"]).name for s in skipped] == ["gone"]
    # And with nothing conflicting, the skip alone does not fail the scan.
    write(b, {"f.txt": BASE})
    assert run_cli("scan", cwd=repo).code == 0


def test_locked_worktree_takes_part(repo: Path) -> None:
    a = add_worktree(repo, "a")
    b = add_worktree(repo, "b")
    git("worktree", "lock", "--reason", "agent busy", str(a), cwd=repo)
    write(a, {"f.txt": edit_line(2, "a two")})
    write(b, {"f.txt": edit_line(2, "b two")})
    data, _ = scan(repo)
    names = by_name(data)
    assert names["a"]["locked"] is True
    assert names["b"]["locked"] is False
    assert pair_paths(data, "a", "b") == {"f.txt"}


def test_detached_head_worktree_conflicts_by_folder_name(repo: Path) -> None:
    agent = add_worktree(repo, "agent-7", detach=True)
    b = add_worktree(repo, "b")
    write(agent, {"g.txt": edit_line(9, "agent nine")})
    commit_all(agent)  # a commit on a detached HEAD
    write(b, {"g.txt": edit_line(9, "b nine")})
    data, _ = scan(repo)
    names = by_name(data)
    assert names["agent-7"]["detached"] is True
    assert names["agent-7"]["dirty"] is False
    assert names["agent-7"]["head"] == git("rev-parse", "HEAD", cwd=agent)
    assert pair_paths(data, "agent-7", "b") == {"g.txt"}


def test_orphan_branch_in_a_worktree_has_no_merge_base(repo: Path) -> None:
    orphan = add_worktree(repo, "o")
    git("checkout", "-q", "--orphan", "island", cwd=orphan)
    git("rm", "-rq", "--cached", ".", cwd=orphan)
    write(orphan, {"f.txt": "unrelated\n"})
    commit_all(orphan, "island")
    data, _ = scan(repo, expect=0)
    assert [sorted(p) for p in data["stats"]["pairs_without_merge_base"]] == [["island", "main"]]
    assert data["findings"] == []
    assert data["stats"]["pairs_analysed"] == 0


def test_unborn_orphan_worktree_has_no_merge_base(repo: Path) -> None:
    orphan = add_worktree(repo, "o")
    git("checkout", "-q", "--orphan", "fresh", cwd=orphan)
    data, _ = scan(repo, expect=0)
    names = by_name(data)
    assert names["fresh"]["head"] is None
    assert names["fresh"]["dirty"] is True  # its index still holds the old files
    assert [sorted(p) for p in data["stats"]["pairs_without_merge_base"]] == [["fresh", "main"]]


def test_fetched_unrelated_ref_has_no_merge_base(repo: Path, workspace: Path) -> None:
    other = init_repo(workspace / "other", {"f.txt": "other\n"})
    git("fetch", "-q", str(other), "main:refs/remotes/other/main", cwd=repo)
    add_worktree(repo, "a")
    data, _ = scan(repo, "--refs", "refs/remotes/other/*", expect=0)
    assert "other/main" in by_name(data)
    missing = sorted(sorted(p) for p in data["stats"]["pairs_without_merge_base"])
    assert missing == [["a", "other/main"], ["main", "other/main"]]
    assert data["stats"]["pairs"] == 3


def test_repository_without_commits(workspace: Path) -> None:
    repo = init_repo(workspace / "empty")
    result = run_cli("scan", "--format", "json", cwd=repo)
    assert result.code == 0, result.stderr
    data = result.json()
    assert data["findings"] == []
    assert [p["name"] for p in data["participants"]] == ["main"]
    assert data["participants"][0]["head"] is None
    assert data["stats"]["pairs"] == 0
    text = run_cli("scan", cwd=repo)
    assert text.code == 0
    assert text.stdout.strip()
    assert "Traceback" not in text.stderr
    write(repo, {"untracked.txt": "hello\n"})
    dirty, _ = scan(repo, expect=0)
    assert dirty["participants"][0]["dirty"] is True


def test_dirty_flag_and_changed_paths(repo: Path) -> None:
    a = add_worktree(repo, "a")
    b = add_worktree(repo, "b")
    c = add_worktree(repo, "c")
    write(a, {"f.txt": edit_line(1, "a"), "new.txt": "n\n"})
    (a / "g.txt").unlink()
    write(b, {"f.txt": edit_line(20, "b")})
    commit_all(b)
    write(c, {"f.txt": edit_line(10, "c")})
    git("add", "f.txt", cwd=c)
    data, _ = scan(repo, expect=0)
    names = by_name(data)
    assert names["main"]["dirty"] is False
    assert names["main"]["changed_paths"] == 0
    assert names["a"]["dirty"] is True
    assert names["a"]["changed_paths"] == 3
    assert names["b"]["dirty"] is False
    assert names["b"]["changed_paths"] == 1
    assert names["c"]["dirty"] is True
    assert names["c"]["changed_paths"] == 1
    committed, _ = scan(repo, "--committed-only", expect=0)
    names = by_name(committed)
    assert names["a"]["dirty"] is False
    assert names["a"]["changed_paths"] == 0
    assert names["b"]["changed_paths"] == 1


def test_scan_from_a_linked_worktree_or_subfolder_sees_everything(repo: Path) -> None:
    a = add_worktree(repo, "a")
    write(a, {"sub/x.txt": "x\n"})
    from_main, _ = scan(repo, expect=0)
    from_linked, _ = scan(a / "sub", expect=0)
    via_flag, _ = scan(repo.parent, "--repo", str(a), expect=0)
    for data in (from_linked, via_flag):
        assert Path(data["repo"]).resolve() == repo.resolve()
        assert [p["name"] for p in data["participants"]] == ["main", "a"]
    assert [p["name"] for p in from_main["participants"]] == ["main", "a"]
