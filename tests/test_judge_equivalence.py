"""Judging one file before the write finds what a scan finds about that file.

For every golden fixture, every scan finding that sits in a file a worktree changed
must also come out of the pre-write judgement of that file as it is on disk. The
judgement looks at far less (only the focus file and the other side's files that
can meet it), so this guards its shortcuts against losing findings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers import git

from driftcheck.demo.scenario import build, load_case
from driftcheck.engine.judge import judge
from driftcheck.engine.options import ScanOptions
from driftcheck.engine.scan import scan
from driftcheck.model import DUPLICATE, TEXTUAL_CONFLICT

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
CASES = sorted(p.parent for p in FIXTURES.glob("*/case.toml"))


def _other_heads(result: dict[str, Any], name: str) -> list[str]:
    return [p["head"] for p in result["participants"] if p["name"] != name and p["head"]]


def _key(finding: dict[str, Any]) -> tuple[object, ...]:
    locations = finding["details"].get("locations")
    if finding["kind"] == DUPLICATE and locations:
        # A pair's duplicate is told from its left side's point of view.
        where = sorted((loc["path"], loc["line"], loc["symbol"]) for loc in locations)
        return (finding["kind"], finding["code"], tuple(sorted(finding["participants"])), *where)
    return (
        finding["kind"],
        finding["code"],
        tuple(sorted(finding["participants"])),
        finding["path"],
        finding["line"],
        finding["symbol"],
    )


def _changed_files(worktree: Path, others: list[str]) -> set[str]:
    found = set(git("ls-files", "--others", "--exclude-standard", cwd=worktree).splitlines())
    for head in others:
        base = git("merge-base", "HEAD", head, cwd=worktree, check=False)
        if base:
            found |= set(git("diff", "--name-only", "--no-renames", base, cwd=worktree).split())
    return found


def _changed_here(worktree: Path, path: str, others: list[str]) -> bool:
    """Whether `worktree` changed `path` against its merge base with any other head."""
    if git("ls-files", "--others", "--exclude-standard", "--", path, cwd=worktree):
        return True
    for head in others:
        base = git("merge-base", "HEAD", head, cwd=worktree, check=False)
        if base and git("diff", "--name-only", base, "--", path, cwd=worktree):
            return True
    return False


def _scanned(case: Path, tmp_path: Path) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The case built and scanned: (the JSON result, worktree participants by name)."""
    scenario = load_case(case)
    if scenario.committed_only or scenario.only:
        pytest.skip("the judgement always looks at the whole state with every detector")
    repo = build(scenario, tmp_path)
    result = scan(ScanOptions(repo=str(repo), use_cache=False)).to_json()
    worktrees = {p["name"]: p for p in result["participants"] if p["kind"] == "worktree"}
    return result, worktrees


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_judging_a_file_finds_what_the_scan_finds(case: Path, tmp_path: Path) -> None:
    result, worktrees = _scanned(case, tmp_path)
    checked = 0
    for finding in result["findings"]:
        # A textual conflict's path may be a rename target; it is judged by the merge.
        if finding["path"] is None or finding["kind"] == TEXTUAL_CONFLICT:
            continue
        for name in finding["participants"]:
            participant = worktrees.get(name)
            if participant is None:
                continue
            root = Path(participant["path"])
            others = _other_heads(result, name)
            if not _changed_here(root, finding["path"], others):
                continue
            target = root / finding["path"]
            content = target.read_bytes() if target.is_file() else None
            judged = judge(root.resolve(), files={finding["path"]: content}).result.to_json()
            keys = {_key(f) for f in judged["findings"]}
            assert _key(finding) in keys, (
                f"judging {finding['path']} in {name} lost {_key(finding)}; judged: {sorted(keys)}"
            )
            checked += 1
    if not checked:
        pytest.skip("no finding here sits in a file a worktree changed")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_judging_all_changed_files_finds_every_finding_of_the_worktree(
    case: Path, tmp_path: Path
) -> None:
    """The other direction too: a worktree about to write its changes hears about the
    other sides' uses of what it changes, which sit in the other sides' files."""
    result, worktrees = _scanned(case, tmp_path)
    checked = 0
    for name, participant in worktrees.items():
        wanted = {_key(f) for f in result["findings"] if name in f["participants"]}
        if not wanted:
            continue
        root = Path(participant["path"])
        changed = _changed_files(root, _other_heads(result, name))
        files = {p: (root / p).read_bytes() if (root / p).is_file() else None for p in changed}
        judged = judge(root.resolve(), files=files).result.to_json()
        lost = wanted - {_key(f) for f in judged["findings"]}
        assert not lost, f"judging {sorted(changed)} in {name} lost {sorted(lost)}"
        checked += 1
    if not checked:
        pytest.skip("the scan finds nothing here")
