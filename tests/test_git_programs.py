"""No program a repository's git configuration names runs when driftcheck runs git.

Besides filter drivers (test_git_filters.py), three more ways were found in the git
commands driftcheck runs, each reachable from a `.git` someone else prepared:
- `merge.<name>.driver`, picked by `merge=<name>` in `$GIT_DIR/info/attributes`
  (or a `.gitattributes`) or by `merge.default`: `git merge-tree` ran it for every
  file both sides changed, and took its word for the merge;
- `log.showSignature` with `gpg.program`: `git log` and `git show` ran the program
  for each signed commit they listed (the trunk's history);
- a promisor remote (a partial clone) with `core.sshCommand`: reading an object the
  clone lacks made git fetch it, running the command (and writing the object into
  the user's repository).
Each test plants a program that leaves a marker file, and runs what a user runs.
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
from corpus.harness import claude_write
from helpers import add_worktree, commit_all, git, init_repo, run_cli, snapshot_repo, write

from driftcheck.errors import GitError
from driftcheck.workspace import git as dc_git

LINES = "".join(f"line {n}\n" for n in range(1, 21))


def program(workspace: Path, name: str) -> tuple[Path, Path]:
    """A script that leaves `marker` and fails; (script, marker)."""
    marker = workspace / f"{name}-ran"
    script = workspace / f"{name}.sh"
    script.write_text(f"#!/bin/sh\ntouch '{marker}'\nexit 1\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script, marker


def textual_conflicts(repo: Path) -> list[dict[str, Any]]:
    result = run_cli("scan", "--format", "json", "--no-cache", cwd=repo)
    assert result.code in (0, 1), result.stderr
    found = [f for f in result.json()["findings"] if f["kind"] == "textual-conflict"]
    return sorted(
        (
            {"path": f["path"], "pair": sorted(f["participants"]), "hunks": f["details"]["hunks"]}
            for f in found
        ),
        key=lambda f: (f["path"], f["pair"]),
    )


def test_no_merge_driver_runs_and_the_built_in_merge_decides(workspace: Path) -> None:
    """A driver that says "merged cleanly" (it takes the other side whole) would hide
    the conflict: git's own text merge must decide, as with no driver at all."""
    marker = workspace / "merge-driver-ran"
    repo = init_repo(
        workspace / "repo",
        {"notes.txt": LINES, ".gitattributes": "*.txt merge=trap\n", "lib.py": "X = 1\n"},
    )
    a = add_worktree(repo, "a")
    write(a, {"notes.txt": LINES.replace("line 5\n", "line 5 as a has it\n")})
    commit_all(a)
    agent = add_worktree(repo, "agent")
    write(agent, {"notes.txt": LINES.replace("line 5\n", "line 5 as agent has it\n")})
    expected = textual_conflicts(repo)  # git's built-in merge, before any driver exists
    assert [c["path"] for c in expected] == ["notes.txt"], expected

    git("config", "merge.trap.driver", f"touch '{marker}'; cp %B %A", cwd=repo)
    git("config", "merge.trap.name", "takes theirs", cwd=repo)
    git("config", "merge.default", "trap", cwd=repo)  # every path without an attribute
    info = repo / ".git" / "info"
    info.mkdir(exist_ok=True)
    (info / "attributes").write_text("* merge=trap\n")
    before = snapshot_repo(repo)

    assert textual_conflicts(repo) == expected
    payload = claude_write(agent / "notes.txt", LINES.replace("line 5\n", "line 5 again\n"), agent)
    hook = run_cli("hook", "claude", "--deadline-ms", "60000", cwd=agent, input=payload)
    assert hook.code == 0 and "Traceback" not in hook.stderr, hook.stderr
    assert "notes.txt" in hook.stdout  # the conflict with a is still reported
    plan = run_cli("plan", "--format", "json", cwd=repo)
    assert plan.code in (0, 1), plan.stderr
    assert not marker.exists()
    assert snapshot_repo(repo) == before


def test_the_repositorys_rename_settings_still_reach_the_merge(workspace: Path) -> None:
    """The private git dir takes along the settings a merge result depends on: a file
    one side adds in a folder the other side renamed is a conflict (file location)
    by default, and merges cleanly where `merge.directoryRenames=false` says so."""
    files = {f"d/f{n}.txt": f"file {n} content here\n" for n in range(3)}
    repo = init_repo(workspace / "repo", files)
    a = add_worktree(repo, "a")
    git("mv", "d", "e", cwd=a)
    commit_all(a)
    b = add_worktree(repo, "b")
    write(b, {"d/new.txt": "new\n"})
    commit_all(b)

    def conflicted() -> list[str]:
        result = run_cli("scan", "--format", "json", "--no-cache", cwd=repo)
        assert result.code in (0, 1), result.stderr
        found = result.json()["findings"]
        return sorted(f["path"] for f in found if f["kind"] == "textual-conflict")

    assert conflicted() != []
    git("config", "merge.directoryRenames", "false", cwd=repo)
    assert conflicted() == []


def _signed_commit(repo: Path) -> str:
    """A commit carrying a (made-up) signature, made the head of `main`."""
    tree = git("rev-parse", "HEAD^{tree}", cwd=repo)
    head = git("rev-parse", "HEAD", cwd=repo)
    body = (
        f"tree {tree}\nparent {head}\nauthor a <a@example.invalid> 1700000000 +0000\n"
        "committer a <a@example.invalid> 1700000000 +0000\n"
        "gpgsig -----BEGIN PGP SIGNATURE-----\n \n iQEzBAABCAAdFiEE\n -----END PGP SIGNATURE-----\n"
        "\nsigned\n"
    )
    oid = git("hash-object", "-t", "commit", "-w", "--stdin", cwd=repo, input=body.encode())
    git("update-ref", "refs/heads/main", oid, cwd=repo)
    return oid


def test_no_signature_program_runs_for_signed_commits(workspace: Path) -> None:
    script, marker = program(workspace, "gpg")
    repo = init_repo(workspace / "repo", {"lib.py": "def f(a):\n    return a\n"})
    _signed_commit(repo)
    git("reset", "-q", "--hard", "main", cwd=repo)
    a = add_worktree(repo, "a")
    write(a, {"lib.py": "def f(a, b):\n    return a\n"})
    commit_all(a)
    agent = add_worktree(repo, "agent")
    git("config", "log.showSignature", "true", cwd=repo)
    git("config", "gpg.program", str(script), cwd=repo)
    # git itself would run it (the planted configuration does what it says) ...
    subprocess.run(["git", "log", "-1"], cwd=repo, capture_output=True, check=True)
    assert marker.exists()
    marker.unlink()
    # ... driftcheck's own git calls do not.
    for args in (("scan", "--trunk", "main"), ("plan", "--format", "json")):
        result = run_cli(*args, cwd=repo)
        assert result.code in (0, 1), result.stderr
    payload = claude_write(agent / "use.py", "from lib import f\n\nf(1)\n", agent)
    hook = run_cli("hook", "claude", "--deadline-ms", "60000", cwd=agent, input=payload)
    assert hook.code == 0, hook.stderr
    assert not marker.exists()


def test_an_object_a_partial_clone_lacks_is_never_fetched(workspace: Path) -> None:
    script, marker = program(workspace, "ssh")
    source = init_repo(workspace / "source", {"lib.py": "def f(a):\n    return a\n"})
    write(source, {"lib.py": "def f(a, b):\n    return a\n"})
    commit_all(source)
    git("config", "uploadpack.allowFilter", "true", cwd=source)
    clone = workspace / "clone"
    subprocess.run(
        ["git", "clone", "-q", "--filter=blob:none", f"file://{source}", str(clone)],
        check=True,
        capture_output=True,
    )
    old_blob = git("rev-parse", "HEAD~1:lib.py", cwd=source)  # not in the clone
    git("config", "remote.origin.url", "ssh://example.invalid/repo", cwd=clone)
    git("config", "core.sshCommand", str(script), cwd=clone)
    objects = sorted(str(p) for p in (clone / ".git" / "objects").rglob("*"))

    # git reports the object missing (the fetch is refused before any program runs).
    with pytest.raises(GitError, match="not allowed"):
        dc_git.read_blobs([old_blob], cwd=clone)
    assert not marker.exists()
    assert sorted(str(p) for p in (clone / ".git" / "objects").rglob("*")) == objects
    # The whole command too: the clone's old side is what a scan against it reads.
    a = add_worktree(clone, "a")
    git("checkout", "-q", "--detach", "HEAD", cwd=a)
    write(a, {"lib.py": "def f(a, c):\n    return a\n"})
    result = run_cli("scan", "--format", "json", cwd=clone, env={"HOME": os.fspath(workspace)})
    assert result.code in (0, 1), result.stderr
    assert not marker.exists()
