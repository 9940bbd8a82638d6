"""`driftcheck plan` on the account of issue 17 (tests/plan_repo.py), through the
real command: inventory, the dependency, clusters, the order, the formats, the
exit codes, bad input, and the repository left untouched."""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from helpers import add_worktree, commit_all, git, init_repo, run_cli, write
from plan_repo import build_account
from test_read_only import observe

PRS = ("--refs", "refs/remotes/origin/pr/*")


def plan_json(repo: Path, *args: str, expect: int = 1) -> dict[str, Any]:
    result = run_cli("plan", *args, "--format", "json", cwd=repo)
    assert result.code == expect, result.stderr
    document: dict[str, Any] = result.json()
    schema = json.loads(
        (resources.files("driftcheck") / "schema" / "driftcheck-plan-v1.schema.json").read_text()
    )
    jsonschema.validate(document, schema)
    return document


@pytest.fixture
def account(workspace: Path) -> Path:
    return build_account(workspace)


def test_the_account_gets_a_plan_a_careful_person_accepts(account: Path) -> None:
    before = observe(account)
    plan = plan_json(account, *PRS)
    assert observe(account) == before  # read-only, down to every index and ref

    assert plan["schema"] == "driftcheck/plan/v1"
    assert plan["trunk"] == "main"  # the main worktree's branch, with no --trunk
    rows = {row["name"]: row for row in plan["participants"]}
    assert len(rows) == 13

    # Inventory
    assert rows["main"]["status"] == ["trunk"]
    export = rows["feat/export"]
    assert (export["ahead"], export["behind"]) == (1, 2)
    assert export["dirty"] and (export["staged"], export["unstaged"], export["untracked"]) == (
        1,
        1,
        1,
    )
    assert export["pr"] == "origin/pr/2"
    assert {"has-pr", "uncommitted-not-in-pr", "staged", "unstaged", "untracked"} <= set(
        export["status"]
    )
    assert rows["origin/pr/2"]["worktree"] == "feat/export"
    idle, readme = rows["agent/idle"], rows["feat/readme"]
    assert idle["empty"] and not idle["merged"] and idle["safe_to_delete"]
    assert (idle["ahead"], idle["behind"]) == (0, 2)
    assert readme["merged"] and not readme["empty"] and readme["safe_to_delete"]
    assert (readme["ahead"], readme["behind"]) == (0, 1)
    assert "stale-base" in rows["feat/invoice"]["status"]  # forked 41 days before the trunk's head
    assert rows["feat/invoice"]["behind"] == 3
    assert "stale-base" not in rows["feat/pricing"]["status"]
    discover_c = rows["agent/discover-c"]
    assert discover_c["ahead"] == 0 and discover_c["untracked"] == 1 and not discover_c["empty"]
    assert [n for n, r in rows.items() if r["safe_to_delete"]] == ["agent/idle", "feat/readme"]

    # Dependencies: the invoice needs format_money, from the pull request (not its worktree).
    depends = [e for e in plan["edges"] if e["kind"] == "depends-on"]
    assert depends == [
        {
            "from": "feat/invoice",
            "to": "origin/pr/2",
            "kind": "depends-on",
            "findings": [],
            "symbols": ["shop.money.format_money"],
        }
    ]
    assert plan["cycles"] == []

    # Conflicts and clusters
    others = {(e["from"], e["to"], e["kind"]): e["findings"] for e in plan["edges"]}
    assert others[("feat/pricing", "origin/pr/1", "conflicts")] == ["DC202"]
    assert others[("feat/report-style", "fix/report-title", "conflicts")] == ["DC101"]
    for pair in [("a", "b"), ("a", "c"), ("b", "c")]:
        key = (f"agent/discover-{pair[0]}", f"agent/discover-{pair[1]}", "duplicates")
        assert others[key] == ["DC301"]
    assert plan["clusters"] == [
        ["agent/discover-a", "agent/discover-b", "agent/discover-c"],
        ["feat/pricing", "origin/pr/1"],
        ["feat/report-style", "fix/report-title"],
    ]

    # The order: the pull request and one side of the textual conflict, then the
    # invoice that needs the pull request's money formatting.
    steps = [(s["step"], s["merge"]) for s in plan["steps"]]
    assert steps == [(1, ["feat/report-style", "origin/pr/2"]), (2, ["feat/invoice"])]
    reasons = " ".join(plan["steps"][1]["reasons"])
    assert "shop.money.format_money from origin/pr/2 (step 1)" in reasons
    assert "stale base" in reasons

    # Reconcile first: the three implementations to unify, the removal both sides
    # name, the uncommitted work the pull request lacks, the textual conflict's second.
    held = {tuple(r["participants"]): r for r in plan["reconcile_first"]}
    assert list(held) == [
        ("agent/discover-a", "agent/discover-b", "agent/discover-c"),
        ("feat/pricing", "origin/pr/1"),
        ("feat/export",),
        ("fix/report-title",),
    ]
    unify = held["agent/discover-a", "agent/discover-b", "agent/discover-c"]["decision"]
    for implementation in ("discover_models", "find_models", "load_models"):
        assert implementation in unify
    assert unify.startswith("unify 3 implementations")
    removal = held["feat/pricing", "origin/pr/1"]
    assert "origin/pr/1 removes shop.cache, which feat/pricing uses" in removal["decision"]
    assert [f["code"] for f in removal["findings"]] == ["DC202"]
    assert "origin/pr/2 lacks" in held["feat/export",]["decision"]
    title = held["fix/report-title",]
    assert title["waits_for"] == ["feat/report-style"]
    assert "after feat/report-style merges (step 1)" in title["decision"]
    assert "shop/report.py" in title["decision"]
    assert plan["stats"]["reconcile_first"] == 4 and plan["stats"]["dependencies"] == 1


def test_text_markdown_html_and_the_exit_codes(account: Path, tmp_path: Path) -> None:
    text = run_cli("plan", *PRS, cwd=account)
    assert text.code == 1, text.stderr
    assert "Step 1: feat/report-style, origin/pr/2" in text.stdout
    assert "Reconcile first" in text.stdout and "agent/idle (empty)" in text.stdout
    assert "feat/invoice → origin/pr/2: uses shop.money.format_money" in text.stdout

    markdown = run_cli("plan", *PRS, "--format", "markdown", cwd=account)
    assert "1. `feat/report-style`, `origin/pr/2`" in markdown.stdout
    assert "| `feat/readme` | 0 | 1 |  | merged, safe-to-delete |" in markdown.stdout

    page = tmp_path / "plan.html"
    written = run_cli("plan", *PRS, "--format", "html", "--output", str(page), cwd=account)
    assert written.code == 1 and written.stdout == ""
    html = page.read_text()
    assert html.count('<g class="node') == 13
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")

    assert run_cli("plan", *PRS, "--fail-on", "never", cwd=account).code == 0


def test_nothing_to_reconcile_exits_zero(workspace: Path) -> None:
    repo = init_repo(workspace / "repo", {"app.py": "def run():\n    return 1\n"})
    a = add_worktree(repo, "a")
    write(a, {"lib.py": "def helper(x):\n    return x * 2\n"})
    commit_all(a)
    b = add_worktree(repo, "b")
    write(b, {"use.py": "from lib import helper\n\n\ndef twice(x):\n    return helper(x)\n"})
    plan = plan_json(repo, expect=0)
    assert plan["reconcile_first"] == []
    assert [(s["step"], s["merge"]) for s in plan["steps"]] == [(1, ["a"]), (2, ["b"])]
    assert plan["edges"][0]["symbols"] == ["lib.helper"]


def test_a_dependency_cycle_is_reported_and_merged_in_one_step(workspace: Path) -> None:
    repo = init_repo(workspace / "repo", {"README.md": "x\n"})
    a, b = add_worktree(repo, "a"), add_worktree(repo, "b")
    write(a, {"ping.py": "from pong import pong\n\n\ndef ping(n):\n    return pong(n - 1)\n"})
    write(b, {"pong.py": "from ping import ping\n\n\ndef pong(n):\n    return ping(n - 1)\n"})
    plan = plan_json(repo, expect=0)
    assert plan["cycles"] == [["a", "b"]]
    assert plan["steps"][0]["merge"] == ["a", "b"]
    assert "a and b depend on each other" in plan["steps"][0]["reasons"][0]


def test_missing_and_detached_worktrees_in_the_inventory(workspace: Path) -> None:
    repo = init_repo(workspace / "repo", {"README.md": "x\n"})
    gone = add_worktree(repo, "gone")
    shutil.rmtree(gone)
    agent = add_worktree(repo, "agent-3", detach=True)
    write(agent, {"notes.txt": "new\n"})
    plan = plan_json(repo, expect=0)
    rows = {r["name"]: r for r in plan["participants"]}
    assert rows["gone"]["status"] == ["missing"] and rows["gone"]["ahead"] is None
    assert "detached" in rows["agent-3"]["status"] and rows["agent-3"]["untracked"] == 1
    assert plan["steps"] == [
        {
            "step": 1,
            "merge": ["agent-3"],
            "reasons": ["agent-3 needs nothing that is not in the trunk"],
        }
    ]
    assert (repo / ".git" / "worktrees" / "gone").is_dir()  # not pruned


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--trunk", "no-such-branch"), "unknown ref for --trunk: no-such-branch"),
        (("--format", "sarif"), "Invalid value for '--format'"),
        (("--repo", "/nonexistent/place"), "no such directory"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    workspace: Path, args: tuple[str, ...], message: str
) -> None:
    repo = init_repo(workspace / "repo", {"README.md": "x\n"})
    result = run_cli("plan", *args, cwd=repo)
    assert result.code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_outside_a_repository_and_without_a_trunk(workspace: Path) -> None:
    outside = run_cli("plan", cwd=workspace)
    assert outside.code == 2 and "not a git repository" in outside.stderr
    repo = init_repo(workspace / "repo", {"README.md": "x\n"})
    git("checkout", "-q", "--detach", cwd=repo)
    detached = run_cli("plan", cwd=repo)
    assert detached.code == 2
    assert detached.stderr.strip() == (
        "driftcheck: error: plan needs a trunk: "
        "pass --trunk REF (or set trunk in [tool.driftcheck])"
    )
