"""The daemon's way of judging gives the same answer as a hook process of its own.

The daemon keeps worktree states (captured again only where the watcher saw a
change), puts a proposal straight into the kept tree, and keeps symbol tables and
indexes in memory. For every golden fixture, every worktree proposes an edit to
each file it changed; the findings of a judgement through one long-lived session
must equal those of a fresh judgement. Then files change on disk in another
worktree, and the session must see it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers import git

from driftcheck.daemon.session import Session
from driftcheck.demo.scenario import build, load_case
from driftcheck.engine.judge import judge
from driftcheck.workspace import git as dgit
from driftcheck.workspace.live_states import LiveStates
from driftcheck.workspace.watcher import Watcher

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
CASES = sorted(p.parent for p in FIXTURES.glob("*/case.toml"))
PER_WORKTREE = 3  # proposals per worktree: enough to reuse what the session keeps


def _findings(result: dict[str, Any]) -> list[dict[str, Any]]:
    return sorted(result["findings"], key=lambda f: repr(sorted(f.items())))


def _changed(root: Path) -> list[str]:
    status = git("status", "--porcelain", "--untracked-files=all", "--no-renames", cwd=root)
    paths = [line[3:] for line in status.splitlines() if line[3:]]
    committed = git("diff", "--name-only", "HEAD~1", "HEAD", cwd=root, check=False)
    return sorted(set(paths) | set(committed.split()))[:PER_WORKTREE]


def _proposal(root: Path, path: str) -> bytes | None:
    target = root / path
    if not target.is_file():
        return None
    data = target.read_bytes()
    return data + (b"\n# proposed\n" if path.endswith(".py") else b"\nproposed\n")


def _worktrees(repo: Path) -> list[Path]:
    listing = git("worktree", "list", "--porcelain", cwd=repo)
    return [Path(line[9:]) for line in listing.splitlines() if line.startswith("worktree ")]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_session_judges_like_a_fresh_process(case: Path, tmp_path: Path) -> None:
    scenario = load_case(case)
    repo_root = build(scenario, tmp_path)
    repo = dgit.open_repo(repo_root)
    live = LiveStates(repo, Watcher())
    session = Session(repo, live)
    compared = 0
    try:
        for root in _worktrees(repo_root):
            for path in _changed(root):
                files = {path: _proposal(root, path)}
                live.refresh()
                kept = judge(root.resolve(), files=files, session=session).result.to_json()
                fresh = judge(root.resolve(), files=files).result.to_json()
                assert _findings(kept) == _findings(fresh), f"{root.name}: {path}"
                assert kept["participants"] == fresh["participants"]
                compared += 1
        if compared == 0:
            pytest.skip("no worktree changed a file")
        if compared > 1:
            assert live.reused > 0, "the session captured every worktree every time"
    finally:
        session.close()
        live.close()


def test_a_session_sees_changes_on_disk(tmp_path: Path) -> None:
    """Edits, new files, deletions and commits in other worktrees reach the next
    judgement; worktrees where nothing happened are not captured again."""
    scenario = load_case(FIXTURES / "stale-caller-moved-method")
    repo_root = build(scenario, tmp_path)
    repo = dgit.open_repo(repo_root)
    roots = _worktrees(repo_root)
    here, other = roots[0], roots[-1]
    path = _changed(other)[0] if _changed(other) else "README.md"
    live = LiveStates(repo, Watcher())
    session = Session(repo, live)
    proposal = {"README.md": b"proposed\n"}

    def both() -> dict[str, Any]:
        live.refresh()
        kept = judge(here.resolve(), files=proposal, session=session).result.to_json()
        fresh = judge(here.resolve(), files=proposal).result.to_json()
        assert _findings(kept) == _findings(fresh)
        assert kept["participants"] == fresh["participants"]
        return kept

    try:
        both()
        captures = live.captures
        both()
        assert live.captures == captures, "nothing changed, yet worktrees were captured"
        (other / "brand_new.py").write_text("def brand_new():\n    return 1\n")
        both()
        assert live.captures == captures + 1, "only the edited worktree is captured again"
        (other / path).write_text("changed on disk\n")
        (other / "sub" / "deeper").mkdir(parents=True)
        (other / "sub" / "deeper" / "made_after.py").write_text("x = 1\n")
        both()
        (other / "brand_new.py").unlink()
        both()
        git("add", "-A", cwd=other)
        git("commit", "-q", "-m", "moved on", cwd=other)
        both()
        extra = repo_root.parent / "late-worktree"
        git("worktree", "add", "-q", "-b", "late", str(extra), cwd=repo_root)
        (extra / "late.py").write_text("def late():\n    return 2\n")
        kept = both()
        assert str(extra) in {p["path"] for p in kept["participants"]}
    finally:
        session.close()
        live.close()
