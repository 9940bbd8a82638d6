"""The pair cache: a warm scan answers unchanged pairs from it, and its answers are
exactly what a scan without the cache finds, before and after an edit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from helpers import git, run_cli, snapshot_repo

from driftcheck.demo.scenario import build, load_case

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def _findings(result: Any) -> list[dict[str, Any]]:
    findings: list[dict[str, Any]] = result.json()["findings"]
    return findings


def _scan(repo: Path, *extra: str) -> Any:
    result = run_cli("scan", "--format", "json", *extra, cwd=repo)
    assert result.code in (0, 1), result.stderr
    return result


def test_warm_scan_answers_from_the_cache_and_agrees_after_an_edit(tmp_path: Path) -> None:
    repo = build(load_case(FIXTURES / "stale-caller-moved-method"), tmp_path)
    cold = _scan(repo)
    assert _findings(cold), "the case has findings"
    assert cold.json()["stats"]["pairs_from_cache"] == 0
    before = snapshot_repo(repo)
    warm = _scan(repo)
    assert snapshot_repo(repo) == before
    assert warm.json()["stats"]["pairs_from_cache"] == warm.json()["stats"]["pairs_analysed"]
    assert _findings(warm) == _findings(cold)

    # An edit in one worktree: its pairs are analysed again, and the answer is
    # the one a scan without the cache gives.
    worktrees = [p for p in warm.json()["participants"] if p["kind"] == "worktree"]
    edited = Path(worktrees[-1]["path"])
    target = next(p for p in sorted(edited.rglob("*.py")) if ".git" not in p.parts)
    target.write_text(target.read_text() + "\n\ndef added_later(x):\n    return x * 2\n")
    after = _scan(repo)
    assert after.json()["stats"]["pairs_from_cache"] < after.json()["stats"]["pairs_analysed"]
    assert _findings(after) == _findings(_scan(repo, "--no-cache"))


def test_changed_configuration_is_not_answered_from_the_cache(tmp_path: Path) -> None:
    repo = build(load_case(FIXTURES / "duplicate-same-name"), tmp_path)
    first = _findings(_scan(repo))
    assert first
    # Ignored, so no worktree's state changes: only the configuration does.
    (repo / ".git" / "info").mkdir(exist_ok=True)
    (repo / ".git" / "info" / "exclude").write_text(".driftcheck.toml\n")
    (repo / ".driftcheck.toml").write_text("[duplicate]\nsimilarity = 1.0\nmin-statements = 50\n")
    assert git("status", "--porcelain", cwd=repo) == ""
    answered = _scan(repo)
    assert answered.json()["stats"]["pairs_from_cache"] == 0
    assert _findings(answered) != first
    assert _findings(answered) == _findings(_scan(repo, "--no-cache"))
