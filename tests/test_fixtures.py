"""Golden fixtures: every `fixtures/<case>/` is built for real and scanned by the CLI.

The format is described in fixtures/README.md. Cases are discovered, never listed
here, so adding a folder adds a test. The scenario builder's own guarantees (stages,
hermeticity, reproducible commits) are tested at the bottom.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from helpers import git, run_cli, snapshot_repo

from driftcheck.demo.scenario import (
    Scenario,
    ScenarioError,
    Worktree,
    build,
    delete,
    load_case,
    rename,
    write,
)
from driftcheck.model import KINDS

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
CASES = sorted(p.parent for p in FIXTURES.glob("*/case.toml"))
FAILING = sorted(p.parent for p in (FIXTURES / "failing").glob("*/case.toml"))
# An explicit skip reads better in the summary than pytest's "empty parameter set".
NO_GAPS = [pytest.param(None, marks=pytest.mark.skip(reason="no known gaps in fixtures/failing"))]

FINDING_KEYS = {"kind", "code", "severity", "participants", "path", "line", "symbol", "details"}
EXPECTED_KEYS = {"findings", "exact", "kinds", "note"}


# ---------------------------------------------------------------- comparison


def _subset(want: Any, got: Any) -> bool:
    """Dicts match when every wanted key matches; anything else must be equal."""
    if isinstance(want, Mapping):
        return isinstance(got, Mapping) and all(
            k in got and _subset(v, got[k]) for k, v in want.items()
        )
    return bool(want == got)


def _matches(want: Mapping[str, Any], got: Mapping[str, Any]) -> bool:
    for key, value in want.items():
        if key == "participants":
            if sorted(got.get("participants", [])) != sorted(value):
                return False
        elif key == "details":
            if not _subset(value, got.get("details", {})):
                return False
        elif got.get(key) != value:
            return False
    return True


def _assign(candidates: list[list[int]]) -> dict[int, int]:
    """Maximum one-to-one matching expected -> actual (Kuhn's augmenting paths), so an
    early loose expectation cannot steal the only finding a later one fits."""
    owner: dict[int, int] = {}

    def place(i: int, seen: set[int]) -> bool:
        for j in candidates[i]:
            if j in seen:
                continue
            seen.add(j)
            if j not in owner or place(owner[j], seen):
                owner[j] = i
                return True
        return False

    for i in range(len(candidates)):
        place(i, set())
    return {i: j for j, i in owner.items()}


def compare(expected: Mapping[str, Any], actual: Sequence[Mapping[str, Any]]) -> list[str]:
    """Human-readable problems; empty when `actual` satisfies `expected`."""
    wanted = list(expected["findings"])
    candidates = [[j for j, a in enumerate(actual) if _matches(w, a)] for w in wanted]
    assigned = _assign(candidates)
    problems = [f"missing {json.dumps(w)}" for i, w in enumerate(wanted) if i not in assigned]
    if expected.get("exact", False):
        if "kinds" in expected:
            kinds = set(expected["kinds"])
        else:
            kinds = {w["kind"] for w in wanted} or set(KINDS)
        used = set(assigned.values())
        problems += [
            f"unexpected {_brief(a)}"
            for j, a in enumerate(actual)
            if j not in used and a.get("kind") in kinds
        ]
    return problems


def _brief(finding: Mapping[str, Any]) -> str:
    keys = ("kind", "code", "participants", "path", "line", "symbol")
    shown = {k: finding.get(k) for k in keys}
    shown["conflict_type"] = finding.get("details", {}).get("conflict_type")
    return f"{json.dumps(shown)}: {finding.get('message')}"


def _load_expected(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    assert set(data) <= EXPECTED_KEYS, f"{path}: unknown keys {set(data) - EXPECTED_KEYS}"
    assert isinstance(data.get("findings"), list), f"{path}: needs a findings list"
    for item in data["findings"]:
        assert set(item) <= FINDING_KEYS, f"{path}: unknown keys {set(item) - FINDING_KEYS}"
        assert "kind" in item and item["kind"] in KINDS, f"{path}: bad kind in {item}"
    return data


def scan_case(case: Path, tmp_path: Path) -> list[dict[str, Any]]:
    """Build the case, scan it with the real CLI, and check the scan left it untouched."""
    scenario = load_case(case)
    repo = build(scenario, tmp_path)
    before = snapshot_repo(repo)
    result = run_cli("scan", "--format", "json", *scenario.scan_args(), cwd=repo)
    assert result.code in (0, 1), f"exit {result.code}: {result.stderr}"
    assert snapshot_repo(repo) == before, "the scan changed the repository"
    findings: list[dict[str, Any]] = result.json()["findings"]
    has_errors = any(f["severity"] == "error" for f in findings)
    assert result.code == (1 if has_errors else 0), "exit code does not follow the findings"
    return findings


def _report(problems: list[str], findings: list[dict[str, Any]]) -> str:
    actual = "\n".join(f"  {_brief(f)}" for f in findings) or "  (none)"
    return "\n".join(problems) + f"\nactual findings:\n{actual}"


# ---------------------------------------------------------------- the cases


def test_fixture_cases_exist() -> None:
    assert len(CASES) >= 8, f"expected the golden fixtures under {FIXTURES}"
    for case in [*CASES, *FAILING]:
        assert (case / "expected.json").is_file(), f"{case.name}: no expected.json"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fixture(case: Path, tmp_path: Path) -> None:
    expected = _load_expected(case / "expected.json")
    findings = scan_case(case, tmp_path)
    problems = compare(expected, findings)
    assert not problems, f"{case.name}:\n" + _report(problems, findings)


@pytest.mark.parametrize("case", FAILING or NO_GAPS, ids=[c.name for c in FAILING] or None)
def test_known_gap(case: Path, tmp_path: Path) -> None:
    """A known gap must still behave as recorded in current.json, and must still miss
    expected.json: when it starts passing, move the case out of failing/."""
    expected = _load_expected(case / "expected.json")
    current = _load_expected(case / "current.json")
    findings = scan_case(case, tmp_path)
    problems = compare(current, findings)
    assert not problems, f"{case.name} changed behaviour:\n" + _report(problems, findings)
    assert compare(expected, findings), f"{case.name} now passes: move it to fixtures/"


# ---------------------------------------------------------------- the comparison itself


def test_compare_subset_participants_and_exact() -> None:
    actual = [
        {
            "kind": "textual-conflict",
            "code": "DC101",
            "participants": ["b", "a"],
            "path": "x.py",
            "line": 3,
            "details": {"conflict_type": "content", "hunks": []},
        },
        {"kind": "duplicate", "code": "DC301", "participants": ["a", "b"], "path": "y.py"},
    ]
    want = {"kind": "textual-conflict", "participants": ["a", "b"], "details": {"hunks": []}}
    # exact only looks at the kinds the expectation names...
    assert compare({"findings": [want], "exact": True}, actual) == []
    # ...unless told otherwise, and an empty list means every kind.
    assert len(compare({"findings": [want], "exact": True, "kinds": list(KINDS)}, actual)) == 1
    assert len(compare({"findings": [], "exact": True}, actual)) == 2
    assert compare({"findings": [{**want, "line": 4}]}, actual)[0].startswith("missing")


def test_compare_matches_one_to_one() -> None:
    actual = [
        {"kind": "textual-conflict", "path": "a.py", "line": 1},
        {"kind": "textual-conflict", "path": "a.py", "line": 9},
    ]
    loose = {"kind": "textual-conflict", "path": "a.py"}
    strict = {"kind": "textual-conflict", "path": "a.py", "line": 1}
    assert compare({"findings": [loose, strict], "exact": True}, actual) == []
    assert len(compare({"findings": [strict, strict]}, actual)) == 1


# ---------------------------------------------------------------- the builder


def _status(path: Path) -> list[str]:
    return git("status", "--porcelain=v1", "--untracked-files=all", cwd=path).splitlines()


def test_build_honours_stages(tmp_path: Path) -> None:
    scenario = Scenario(
        base={"a.py": "a = 1\n", "b.py": "b = 1\n", "c.py": "c = 1\n", "d.py": "d = 1\n"},
        worktrees=[
            Worktree(
                "feat/x",
                [
                    write("a.py", "a = 2\n", "committed"),
                    write("b.py", "b = 2\n", "staged"),
                    write("c.py", "c = 2\n", "unstaged"),
                    write("new_untracked.py", "n = 1\n", "untracked"),
                    write("new_unstaged.py", "n = 2\n", "unstaged"),
                    delete("d.py", "staged"),
                    rename("b.py", "e.py", "committed"),
                ],
            )
        ],
    )
    repo = build(scenario, tmp_path)
    wt = tmp_path / "feat-x"
    assert git("rev-parse", "--abbrev-ref", "HEAD", cwd=wt) == "feat/x"
    assert git("show", "HEAD:a.py", cwd=wt) == "a = 2"
    assert git("ls-tree", "--name-only", "HEAD", cwd=wt).split() == ["a.py", "c.py", "d.py", "e.py"]
    assert sorted(_status(wt)) == [
        " A new_unstaged.py",  # intent-to-add: tracked, content not staged
        " M c.py",
        "?? new_untracked.py",
        "A  b.py",  # written again after the committed rename, then staged
        "D  d.py",
    ]
    assert _status(repo) == []


def test_build_trunk_and_detached(tmp_path: Path) -> None:
    scenario = Scenario(
        base={"a.py": "a = 1\n"},
        worktrees=[Worktree("agent-1", [write("a.py", "a = 3\n", "unstaged")], detached=True)],
        trunk=[write("a.py", "a = 2\n", "committed")],
    )
    repo = build(scenario, tmp_path)
    # The worktree forked from the base, before the trunk moved.
    assert git("rev-list", "--count", "main", cwd=repo) == "2"
    assert git("merge-base", "main", "HEAD", cwd=tmp_path / "agent-1") == git(
        "rev-parse", "main~1", cwd=repo
    )
    assert git("symbolic-ref", "-q", "HEAD", cwd=tmp_path / "agent-1", check=False) == ""


def test_build_is_reproducible_and_hermetic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = FIXTURES / "textual-content"
    first = build(load_case(case), tmp_path / "one")
    # As if run from a git hook of another repository: none of this may leak in.
    other = tmp_path / "other"
    other.mkdir()
    git("init", "-q", cwd=other)
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    monkeypatch.setenv("GIT_INDEX_FILE", str(other / ".git" / "index"))
    monkeypatch.setenv("GIT_WORK_TREE", str(other))
    monkeypatch.setenv("GIT_AUTHOR_DATE", "1999-01-01T00:00:00")
    second = build(load_case(case), tmp_path / "two")
    monkeypatch.delenv("GIT_DIR")
    monkeypatch.delenv("GIT_INDEX_FILE")
    monkeypatch.delenv("GIT_WORK_TREE")
    assert git("rev-parse", "HEAD", cwd=first) == git("rev-parse", "HEAD", cwd=second)
    branch = "feat/tax-rounding"
    assert git("rev-parse", branch, cwd=first) == git("rev-parse", branch, cwd=second)
    assert not (other / ".git" / "index").exists()
    assert git("rev-list", "--all", cwd=other) == ""


def test_build_rejects_impossible_scenarios(tmp_path: Path) -> None:
    def attempt(*worktrees: Worktree, base: dict[str, str] | None = None) -> None:
        build(Scenario(base=base or {"a.py": "a = 1\n"}, worktrees=list(worktrees)), tmp_path)

    with pytest.raises(ScenarioError, match="cannot be 'untracked'"):
        attempt(Worktree("x", [delete("a.py", "untracked")]))
    with pytest.raises(ScenarioError, match="unknown stage"):
        attempt(Worktree("x", [write("a.py", "a = 2\n", "pushed")]))  # type: ignore[arg-type]
    with pytest.raises(ScenarioError, match="used twice"):
        attempt(Worktree("feat/a"), Worktree("feat-a"))  # same folder
    with pytest.raises(ScenarioError, match="inside the repo"):
        attempt(base={"../a.py": "1"})
    with pytest.raises(ScenarioError, match="is tracked"):
        attempt(Worktree("x", [write("a.py", "a = 2\n", "untracked")]))


def test_load_case_rejects_typos(tmp_path: Path) -> None:
    case = tmp_path / "case"
    (case / "base").mkdir(parents=True)
    (case / "case.toml").write_text('[worktrees.a]\nbranch = "a"\nstage = "staged"\ndelet = []\n')
    with pytest.raises(ScenarioError, match="unknown keys"):
        load_case(case)
    (case / "case.toml").write_text('[worktrees.a]\nstages = { "nope.py" = "staged" }\n')
    with pytest.raises(ScenarioError, match="unchanged paths"):
        load_case(case)
    (case / "case.toml").write_text("")
    (case / "worktrees" / "b").mkdir(parents=True)
    with pytest.raises(ScenarioError, match=r"missing from case\.toml"):
        load_case(case)


def test_load_case_shared_base(tmp_path: Path) -> None:
    (tmp_path / "bases" / "shop").mkdir(parents=True)
    (tmp_path / "bases" / "shop" / "a.py").write_text("x = 1\n")
    case = tmp_path / "case"
    case.mkdir()
    (case / "case.toml").write_text('base = "shop"\n')
    assert load_case(case).base == {"a.py": b"x = 1\n"}
    (case / "case.toml").write_text('base = "nope"\n')
    with pytest.raises(ScenarioError, match="no shared base"):
        load_case(case)
    (case / "case.toml").write_text('base = "shop"\n')
    (case / "base").mkdir()
    with pytest.raises(ScenarioError, match="has a base/ folder"):
        load_case(case)
