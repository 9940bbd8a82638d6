"""Shared by the hardening tests: the corpus table, repositories to run it in, and the
answer contract every entry point must keep (see cases.toml for the contract)."""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from helpers import CliResult, add_worktree, commit_all, git, init_repo, write

CORPUS = Path(__file__).resolve().parent
NOTES = "".join(f"note {n}\n" for n in range(1, 21))
APP = "def price(amount: int) -> int:\n    return amount * 2\n"


@cache
def table() -> dict[str, list[dict[str, Any]]]:
    with (CORPUS / "cases.toml").open("rb") as handle:
        return tomllib.load(handle)


def cases(section: str) -> list[dict[str, Any]]:
    return table()[section]


def case_ids(section: str) -> list[str]:
    return [case["id"] for case in cases(section)]


# --- the answer contract ------------------------------------------------------------


def assert_cli(result: CliResult, expected: int | list[int], what: str) -> None:
    """scan/check: the documented exit code, one stderr line for 2, never a traceback."""
    allowed = expected if isinstance(expected, list) else [expected]
    assert "Traceback" not in result.stderr, (what, result.stderr)
    assert result.code in allowed, (what, result.code, result.stderr[-2000:])
    lines = result.stderr.splitlines()
    assert all(line.startswith("driftcheck") for line in lines), (what, result.stderr)
    if result.code == 2:
        assert len(lines) == 1 and lines[0].startswith("driftcheck: error:"), (what, lines)


def assert_hook(result: CliResult, expected: str, agent: str, what: str) -> dict[str, Any] | None:
    """Agent hooks: exit 0, at most one stderr line, and the expected answer."""
    assert result.code == 0, (what, result.code, result.stderr)
    assert "Traceback" not in result.stderr, (what, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) <= 1, (what, result.stderr)
    assert all(line.startswith("driftcheck:") for line in lines), (what, result.stderr)
    output = None
    if result.stdout.strip():
        output = json.loads(result.stdout)["hookSpecificOutput"]
        assert output["hookEventName"] == "PreToolUse", what
    if expected == "silent":
        assert (result.stdout, result.stderr) == ("", ""), (what, result.stdout, result.stderr)
    elif expected == "note":
        assert result.stdout == "" and len(lines) == 1, (what, result.stdout, result.stderr)
    elif expected == "decision":
        assert output is not None, (what, result.stderr)
        wanted = "ask" if agent == "claude" else "deny"
        assert output.get("permissionDecision") == wanted, (what, output)
    else:
        assert expected == "any", expected
    return output


# --- hook payloads ------------------------------------------------------------------


def claude_write(path: str | Path, content: str, cwd: Path) -> str:
    tool_input = {"file_path": str(path), "content": content}
    return json.dumps(
        {
            "hook_event_name": "PreToolUse",
            "tool_name": "Write",
            "tool_input": tool_input,
            "cwd": str(cwd),
        }
    )


def codex_patch(body: str, cwd: Path) -> str:
    patch = f"*** Begin Patch\n{body}*** End Patch\n"
    return json.dumps(
        {
            "hook_event_name": "PreToolUse",
            "tool_name": "apply_patch",
            "tool_input": {"command": patch},
            "cwd": str(cwd),
        }
    )


def hook(agent: str, data: str | bytes, cwd: Path, *args: str) -> CliResult:
    return run_main("hook", agent, "--deadline-ms", "60000", *args, cwd=cwd, input=data)


def run_main(*args: str, cwd: Path, input: str | bytes | None = None) -> CliResult:
    """`driftcheck.cli.main` in this process: the entry point's own code path (error
    handling, exit codes, output) without a new interpreter per call."""
    import contextlib
    import io
    import sys

    from driftcheck.cli.main import main

    data = input.encode() if isinstance(input, str) else input or b""
    stdin = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8")
    out, err = io.BytesIO(), io.BytesIO()
    stdout = io.TextIOWrapper(out, encoding="utf-8", errors="surrogateescape", write_through=True)
    stderr = io.TextIOWrapper(err, encoding="utf-8", errors="surrogateescape", write_through=True)
    previous = Path.cwd()
    saved = sys.stdin
    os.chdir(cwd)
    sys.stdin = stdin
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            code = main(list(args))
    finally:
        sys.stdin = saved
        os.chdir(previous)
    return CliResult(
        code, out.getvalue().decode("utf-8", "replace"), err.getvalue().decode("utf-8", "replace")
    )


# --- repositories -------------------------------------------------------------------


@dataclass
class Layout:
    """Where to run: `cwd` for scan, `agent` for check and the hooks, and the proposal."""

    cwd: Path
    agent: Path
    path: str = "docs/notes.md"
    proposed: str = NOTES.replace("note 5\n", "agent's note 5\n")


def base_repo(root: Path) -> Path:
    return init_repo(root / "repo", {"docs/notes.md": NOTES, "app.py": APP})


def side_a(repo: Path, *, detach: bool = False) -> Path:
    """Worktree `a` commits its own line 5: the agent's proposal conflicts with it."""
    a = add_worktree(repo, "a", detach=detach)
    write(a, {"docs/notes.md": NOTES.replace("note 5\n", "a's note 5\n")})
    commit_all(a, "a edits line 5")
    return a


def _standard(root: Path, *, detach: bool = False) -> Layout:
    repo = base_repo(root)
    side_a(repo, detach=detach)
    return Layout(cwd=repo, agent=add_worktree(repo, "agent"))


def _deleted_worktree(root: Path) -> Layout:
    import shutil

    layout = _standard(root)
    shutil.rmtree(add_worktree(layout.cwd, "gone"))
    return layout


def _locked_gone(root: Path) -> Layout:
    import shutil

    layout = _standard(root)
    kept = add_worktree(layout.cwd, "kept")
    git("worktree", "lock", "--reason", "on a removable disk", str(kept), cwd=layout.cwd)
    shutil.rmtree(kept)
    return layout


def _shallow(root: Path) -> Layout:
    origin = base_repo(root / "origin")
    git("checkout", "-q", "-b", "side", cwd=origin)
    write(origin, {"docs/notes.md": NOTES.replace("note 5\n", "side's note 5\n")})
    commit_all(origin, "side")
    git("checkout", "-q", "main", cwd=origin)
    write(origin, {"app.py": APP + "\n# trunk moved\n"})
    commit_all(origin, "trunk moves")
    clone = root / "clone"
    git(
        "clone",
        "-q",
        "--depth",
        "1",
        "--no-single-branch",
        f"file://{origin}",
        str(clone),
        cwd=root,
    )
    git("worktree", "add", "-q", "-b", "a", str(root / "a"), "origin/side", cwd=clone)
    return Layout(cwd=clone, agent=add_worktree(clone, "agent"))


def _unrelated(root: Path) -> Layout:
    repo = base_repo(root)
    other = add_worktree(repo, "other", detach=True)
    git("checkout", "-q", "--orphan", "unrelated", cwd=other)
    write(other, {"docs/notes.md": NOTES.replace("note 5\n", "unrelated 5\n")})
    commit_all(other, "an unrelated root")
    return Layout(cwd=repo, agent=add_worktree(repo, "agent"))


def _bare(root: Path) -> Layout:
    repo = base_repo(root)
    bare = root / "bare.git"
    git("clone", "-q", "--bare", str(repo), str(bare), cwd=root)
    return Layout(cwd=bare, agent=bare)


def _no_commits(root: Path) -> Layout:
    repo = root / "repo"
    repo.mkdir(parents=True)
    git("init", "-q", "-b", "main", cwd=repo)
    write(repo, {"docs/notes.md": NOTES})
    return Layout(cwd=repo, agent=repo)


def _unborn_worktree(root: Path) -> Layout:
    repo = base_repo(root)
    unborn = add_worktree(repo, "unborn", detach=True)
    git("checkout", "-q", "--orphan", "fresh", cwd=unborn)
    write(unborn, {"docs/notes.md": NOTES.replace("note 5\n", "unborn 5\n")})
    return Layout(cwd=repo, agent=add_worktree(repo, "agent"))


def _mid_merge(root: Path) -> Layout:
    import subprocess

    layout = _standard(root)
    merging = add_worktree(layout.cwd, "merging")
    write(merging, {"docs/notes.md": NOTES.replace("note 5\n", "merging 5\n")})
    commit_all(merging, "merging edits line 5")
    proc = subprocess.run(["git", "merge", "-q", "a"], cwd=merging, capture_output=True)
    assert proc.returncode != 0 and git("ls-files", "--unmerged", cwd=merging)
    return layout


def _not_a_repo(root: Path) -> Layout:
    plain = root / "plain"
    write(plain, {"docs/notes.md": NOTES})
    return Layout(cwd=plain, agent=plain)


SETUPS = {
    "deleted-worktree": _deleted_worktree,
    "locked-gone": _locked_gone,
    "detached-head": lambda root: _standard(root, detach=True),
    "shallow": _shallow,
    "unrelated": _unrelated,
    "bare": _bare,
    "no-commits": _no_commits,
    "unborn-worktree": _unborn_worktree,
    "mid-merge": _mid_merge,
    "not-a-repo": _not_a_repo,
}


def setup(name: str, root: Path) -> Layout:
    root.mkdir(parents=True, exist_ok=True)
    return SETUPS[name](root)
