"""Read-only, proven for every command and in every awkward repository state.

Each command runs between two observations of everything a user could notice: a content
hash of the common `.git` (minus `.git/driftcheck/`) and of every worktree, plus refs,
each worktree's index bytes and `git status`. The states: a real `git commit -a` holding
`index.lock` in its editor, a conflicted merge, a conflicted rebase, a sparse checkout, a
submodule, and an LFS-style clean filter whose every run is logged outside the repo.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from corpus.harness import (
    APP,
    NOTES,
    assert_cli,
    assert_hook,
    claude_write,
    codex_patch,
    hook,
    run_main,
)
from helpers import add_worktree, commit_all, git, init_repo, run_cli, snapshot_repo, write

A_NOTES = NOTES.replace("note 5\n", "a's note 5\n")
AGENT_NOTES = NOTES.replace("note 5\n", "agent's note 5\n")


def quiet(*args: str, cwd: Path) -> str:
    """git that takes no optional locks, so looking cannot refresh an index."""
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, env=env, check=True)
    return proc.stdout.decode("utf-8", "surrogateescape")


def worktrees(repo: Path) -> list[Path]:
    out = quiet("worktree", "list", "--porcelain", cwd=repo)
    return [Path(line[9:]) for line in out.splitlines() if line.startswith("worktree ")]


def observe(repo: Path, *, status: bool = True) -> dict[str, Any]:
    state: dict[str, Any] = {
        "files": snapshot_repo(repo),
        "refs": quiet("for-each-ref", "--format=%(refname) %(objectname)", cwd=repo),
    }
    for wt in worktrees(repo):
        if wt.is_dir():
            index = Path(
                quiet("rev-parse", "--path-format=absolute", "--git-path", "index", cwd=wt).strip()
            )
            state[f"{wt} index"] = index.read_bytes() if index.exists() else None
            if status:
                state[f"{wt} status"] = quiet("status", "--porcelain=v2", "-uall", cwd=wt)
    return state


def assert_same(before: dict[str, Any], after: dict[str, Any], what: str) -> None:
    for key in before:
        if key == "files":
            for area, hashes in before["files"].items():
                changed = {
                    p
                    for p in set(hashes) | set(after["files"][area])
                    if hashes.get(p) != after["files"][area].get(p)
                }
                assert not changed, (what, area, sorted(changed)[:10])
        assert after[key] == before[key], (what, key)


def busy_repo(root: Path) -> Path:
    """main, `a` (commits line 5), `b` (staged, unstaged, untracked work), `agent`
    (a staged edit of line 5 for the pre-commit hook)."""
    repo = init_repo(
        root / "repo", {"docs/notes.md": NOTES, "app.py": APP, ".gitignore": "*.log\n"}
    )
    a = add_worktree(repo, "a")
    write(a, {"docs/notes.md": A_NOTES, "app.py": APP + "\n# a\n"})
    commit_all(a, "a")
    b = add_worktree(repo, "b")
    write(b, {"extra.py": "X = 1\n"})
    git("add", "extra.py", cwd=b)
    write(b, {"app.py": APP + "\n# b unstaged\n", "new.txt": "untracked\n", "x.log": "ign\n"})
    agent = add_worktree(repo, "agent")
    write(agent, {"docs/notes.md": AGENT_NOTES})
    git("add", "docs/notes.md", cwd=agent)
    return repo


Command = tuple[str, Callable[[Path, Path], None]]


def commands(tmp: Path) -> list[Command]:
    """Every command, each asserting its own answer; (repo, agent worktree) in."""
    proposal = tmp / "proposal.md"
    proposal.write_text(AGENT_NOTES)
    notes = "docs/notes.md"
    patch = f"*** Update File: {notes}\n@@\n-note 5\n+agent's note 5\n"

    def scan(repo: Path, _agent: Path) -> None:
        assert_cli(run_cli("scan", "--format", "json", cwd=repo), [0, 1], "scan")

    def scan_committed(repo: Path, _agent: Path) -> None:
        assert_cli(run_main("scan", "--committed-only", cwd=repo), [0, 1], "scan --committed")

    def check(_repo: Path, agent: Path) -> None:
        result = run_main("check", notes, "--content-file", str(proposal), cwd=agent)
        assert_cli(result, [0, 1], "check")

    def check_deleted(_repo: Path, agent: Path) -> None:
        assert_cli(run_main("check", "app.py", "--deleted", cwd=agent), [0, 1], "check --deleted")

    def claude(_repo: Path, agent: Path) -> None:
        data = claude_write(agent / notes, AGENT_NOTES, agent)
        assert_hook(hook("claude", data, agent), "any", "claude", "hook claude")

    def codex(_repo: Path, agent: Path) -> None:
        assert_hook(hook("codex", codex_patch(patch, agent), agent), "any", "codex", "codex")

    def pre_commit(_repo: Path, agent: Path) -> None:
        result = run_main("hook", "pre-commit", cwd=agent)
        assert result.code in (0, 1) and "Traceback" not in result.stderr, result.stderr

    def install(_repo: Path, agent: Path) -> None:
        for target in ("claude", "pre-commit"):
            result = run_main("install", target, "--dry-run", cwd=agent)
            assert result.code == 0, result.stderr

    def cache_info(repo: Path, _agent: Path) -> None:
        assert run_main("cache", "info", cwd=repo).code == 0

    return [
        ("scan", scan),
        ("scan --committed-only", scan_committed),
        ("check", check),
        ("check --deleted", check_deleted),
        ("hook claude", claude),
        ("hook codex", codex),
        ("hook pre-commit", pre_commit),
        ("install --dry-run", install),
        ("cache info", cache_info),
    ]


def assert_every_command_read_only(repo: Path, agent: Path, tmp: Path) -> None:
    for name, run in commands(tmp):
        before = observe(repo)
        run(repo, agent)
        assert_same(before, observe(repo), name)


def test_busy_repository(workspace: Path, tmp_path: Path) -> None:
    repo = busy_repo(workspace)
    assert_every_command_read_only(repo, workspace / "agent", tmp_path)


# --- a real git process holds index.lock ------------------------------------------------


@pytest.fixture
def held_lock(workspace: Path, tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """`git commit -a` in worktree `committing`, parked in its editor with the lock held."""
    repo = busy_repo(workspace)
    committing = add_worktree(repo, "committing")
    write(committing, {"app.py": APP + "\n# being committed\n"})
    release = tmp_path / "release"
    editor = tmp_path / "editor.sh"
    editor.write_text(
        f'#!/bin/sh\nwhile [ ! -e "{release}" ]; do sleep 0.05; done\n'
        'echo "commit while driftcheck looks" > "$1"\n'
    )
    editor.chmod(0o755)
    env = {**os.environ, "GIT_EDITOR": str(editor)}
    proc = subprocess.Popen(
        ["git", "commit", "-a", "-q"],
        cwd=committing,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    lock = repo / ".git" / "worktrees" / "committing" / "index.lock"
    deadline = time.monotonic() + 30
    while not lock.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert lock.exists(), "git commit -a never took the lock"
    (repo / ".git" / "index.lock").write_bytes(b"another git process")
    try:
        yield repo, committing
    finally:
        release.touch()
        _out, err = proc.communicate(timeout=60)
        (repo / ".git" / "index.lock").unlink(missing_ok=True)
    # The user's commit went through: driftcheck neither took nor broke its lock.
    assert proc.returncode == 0, err.decode()
    assert git("log", "-1", "--format=%s", cwd=committing) == "commit while driftcheck looks"


def test_index_lock_held_by_a_running_commit(
    held_lock: tuple[Path, Path], workspace: Path, tmp_path: Path
) -> None:
    repo, _committing = held_lock
    assert_every_command_read_only(repo, workspace / "agent", tmp_path)
    # The scan still saw the work behind the lock.
    report = run_cli("scan", "--format", "json", cwd=repo).json()
    dirty = {p["name"]: p["dirty"] for p in report["participants"]}
    assert dirty["committing"] is True


# --- conflicted merge and rebase -----------------------------------------------------------


def test_mid_merge_with_unmerged_entries(workspace: Path, tmp_path: Path) -> None:
    repo = busy_repo(workspace)
    merging = add_worktree(repo, "merging")
    write(merging, {"docs/notes.md": NOTES.replace("note 5\n", "merging 5\n")})
    commit_all(merging, "merging")
    assert subprocess.run(["git", "merge", "-q", "a"], cwd=merging, capture_output=True).returncode
    assert quiet("ls-files", "--unmerged", cwd=merging)
    assert_every_command_read_only(repo, workspace / "agent", tmp_path)


def test_mid_rebase_with_unmerged_entries(workspace: Path, tmp_path: Path) -> None:
    repo = busy_repo(workspace)
    rebasing = add_worktree(repo, "rebasing")
    write(rebasing, {"docs/notes.md": NOTES.replace("note 5\n", "rebasing 5\n")})
    commit_all(rebasing, "rebasing")
    proc = subprocess.run(["git", "rebase", "a"], cwd=rebasing, capture_output=True)
    assert proc.returncode != 0 and quiet("ls-files", "--unmerged", cwd=rebasing)
    assert (repo / ".git" / "worktrees" / "rebasing" / "rebase-merge").is_dir()
    assert_every_command_read_only(repo, workspace / "agent", tmp_path)


# --- sparse checkout and submodules --------------------------------------------------------


def test_sparse_checkout(workspace: Path, tmp_path: Path) -> None:
    repo = busy_repo(workspace)
    sparse = add_worktree(repo, "sparse")
    git("sparse-checkout", "set", "--no-cone", "/docs/", cwd=sparse)
    assert not (sparse / "app.py").exists()
    write(sparse, {"docs/notes.md": NOTES + "sparse\n"})
    assert_every_command_read_only(repo, workspace / "agent", tmp_path)
    # Files outside the cone are not "deleted": `a` edits app.py without a conflict.
    report = run_cli("scan", "--format", "json", cwd=repo).json()
    sparse_findings = [f for f in report["findings"] if "sparse" in f["participants"]]
    assert [f["path"] for f in sparse_findings] == ["docs/notes.md"] * len(sparse_findings)
    assert {p["name"]: p["changed_paths"] for p in report["participants"]}["sparse"] == 1


def test_submodule(workspace: Path, tmp_path: Path) -> None:
    lib = init_repo(workspace / "lib-origin", {"lib.py": "def helper() -> int:\n    return 1\n"})
    repo = busy_repo(workspace)
    git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(lib), "lib", cwd=repo)
    commit_all(repo, "add the submodule")
    b = workspace / "b"
    git("-c", "protocol.file.allow=always", "submodule", "update", "--init", "-q", cwd=b)
    write(b / "lib", {"lib.py": "def helper() -> int:\n    return 2\n"})  # dirty submodule
    commit_all(b / "lib", "moves the submodule")
    write(b / "lib", {"scratch.txt": "untracked in the submodule\n"})
    assert_every_command_read_only(repo, workspace / "agent", tmp_path)


# --- an LFS-style clean filter -------------------------------------------------------------


def _filter_repo(workspace: Path, log: Path) -> Path:
    script = workspace.parent / "clean-filter.sh"
    script.write_text(f'#!/bin/sh\necho "$PWD $1" >> "{log}"\ncat\n')
    script.chmod(0o755)
    repo = busy_repo(workspace)
    git("config", "filter.fake.clean", f"{script} %f", cwd=repo)
    write(
        repo,
        {
            ".gitattributes": "*.bin filter=fake\n",
            "assets/same.bin": "unchanged\n",
            "assets/edited.bin": "original\n",
        },
    )
    commit_all(repo, "binary assets")
    for wt in worktrees(repo)[1:]:
        git("merge", "-q", "--no-edit", "main", cwd=wt)
    write(workspace / "b", {"assets/edited.bin": "edited in b, longer\n", "assets/new.bin": "n\n"})
    # Let every index become newer than its files, so nothing is racily clean.
    time.sleep(1.1)
    for wt in worktrees(repo):
        git("update-index", "-q", "--really-refresh", cwd=wt, check=False)
    return repo


def _git_status_reference(repo: Path, log: Path) -> set[str]:
    """Filter runs git status itself makes, plus paths status reports as changed or new:
    the only files whose content anyone (git add, git diff, driftcheck) must hash."""
    log.write_text("")
    allowed: set[str] = set()
    for wt in worktrees(repo):
        for line in quiet("status", "--porcelain", "-uall", cwd=wt).splitlines():
            allowed.add(f"{wt} {line[3:]}")
    allowed |= set(log.read_text().splitlines())
    return allowed


def test_clean_filter_runs_only_where_git_would(
    workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With filters allowed (`git-filters`); by default none runs (test_git_filters.py)."""
    monkeypatch.setenv("DRIFTCHECK_GIT_FILTERS", "1")
    log = tmp_path / "filter.log"
    log.touch()
    repo = _filter_repo(workspace, log)
    agent = workspace / "agent"
    for name, run in commands(tmp_path):
        before = observe(repo, status=False)
        log.write_text("")
        run(repo, agent)
        runs = set(log.read_text().splitlines())
        assert_same(before, observe(repo, status=False), name)
        allowed = _git_status_reference(repo, log)
        assert runs <= allowed, (name, sorted(runs - allowed))
        assert not {r for r in runs if r.endswith("same.bin")}, (name, runs)
    # Capturing b's state needs its edited and new .bin files cleaned, as `git add` would
    # (a kept state has edited.bin's blob already: without the cache, it is cleaned again).
    log.write_text("")
    run_cli("scan", "--no-cache", cwd=repo)
    assert {f"{workspace / 'b'} assets/edited.bin", f"{workspace / 'b'} assets/new.bin"} <= set(
        log.read_text().splitlines()
    )


# --- demo ----------------------------------------------------------------------------------


def test_demo_scan_leaves_its_repository_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from driftcheck.demo import shop as demo

    real_scan = demo.scan
    seen: list[str] = []

    def watched(options: Any, *args: Any, **kwargs: Any) -> Any:
        repo = Path(options.repo)
        before = observe(repo)
        result = real_scan(options, *args, **kwargs)
        assert_same(before, observe(repo), "demo's scan")
        seen.append(options.repo)
        return result

    monkeypatch.setattr(demo, "scan", watched)
    result, where = demo.run_demo(keep=True, target=str(tmp_path / "demo"))
    assert seen and result.findings and where.is_dir()


def test_demo_writes_only_into_its_own_folder(workspace: Path, tmp_path: Path) -> None:
    repo = busy_repo(workspace)
    scratch = tmp_path / "tmp"
    target = scratch / "empty-target"
    target.mkdir(parents=True)
    before = observe(repo)
    result = run_cli("demo", "--path", str(target), cwd=repo, env={"TMPDIR": str(scratch)})
    assert result.code == 1, result.stderr
    assert_same(before, observe(repo), "demo")
    assert list(target.iterdir()) == []
    assert [p.name for p in scratch.iterdir()] == ["empty-target"]


def test_commands_run_from_a_worktree_subfolder(workspace: Path, tmp_path: Path) -> None:
    repo = busy_repo(workspace)
    inner = workspace / "agent" / "docs"
    before = observe(repo)
    assert run_cli("scan", cwd=inner).code in (0, 1)
    result = hook("claude", claude_write(inner / "notes.md", AGENT_NOTES, inner), inner)
    assert_hook(result, "decision", "claude", "hook from a subfolder")
    assert_same(before, observe(repo), "subfolder")
