"""`driftcheck hook claude`: Claude Code's PreToolUse JSON in, a decision (or silence) out.

Every test drives the real CLI in a real repository with worktrees. The shop: feat/pricing
moves `OrderProcessor.calculate_total` to `PricingEngine` (committed) and edits line 5 of
docs/notes.md (unstaged); feat/registry adds a model-listing helper (staged); the agent
works in its own clean worktree and proposes edits there.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from helpers import CliResult, git, processes_with, run_cli, snapshot_repo

from driftcheck.demo import shop as demo
from driftcheck.demo.scenario import Scenario, Worktree, build, write

NOTES = "".join(f"note {n}\n" for n in range(1, 21))
SUM = 'sum((item.subtotal for item in items), Decimal("0"))'
CALL = "OrderProcessor().calculate_total(items)"  # feat/pricing moves this method away
REPORT = f'''"""Order reports."""

from __future__ import annotations

from decimal import Decimal

from orders.models import LineItem
from orders.processor import OrderProcessor


def count_items(items: list[LineItem]) -> int:
    return sum(item.quantity for item in items)


def subtotal(items: list[LineItem]) -> Decimal:
    return {SUM}


def grand_total(items: list[LineItem]) -> Decimal:
    return {SUM}


def processor() -> OrderProcessor:
    return OrderProcessor()
'''
GRAND = "def grand_total(items: list[LineItem]) -> Decimal:\n    return "
STALE_REPORT = REPORT.replace(GRAND + SUM, GRAND + CALL)
CLEAN_REPORT = (
    REPORT + "\n\ndef count_lines(items: list[LineItem]) -> int:\n    return len(items)\n"
)
_KEPT = (".gitignore", "README.md", "pyproject.toml", "utils.py", "tests/test_processor.py")
_KEPT += ("orders/__init__.py", "orders/models.py", "orders/processor.py")


@dataclass(frozen=True)
class Shop:
    repo: Path
    agent: Path
    pricing: Path

    def file(self, rel: str) -> str:
        return str(self.agent / rel)


def build_shop(root: Path) -> Shop:
    base: dict[str, str | bytes] = {k: demo.BASE[k] for k in _KEPT}
    base.update({"orders/report.py": REPORT, "docs/notes.md": NOTES})
    base["recommend/__init__.py"] = '"""Recommendations."""\n'
    base["assets/logo.bin"] = b"\x89PNG\x00\x01\xff\xfe binary \x00 zzz \x80\n"
    scenario = Scenario(
        base=base,
        worktrees=[
            Worktree(
                "feat/pricing",
                [
                    write("orders/pricing.py", demo.PRICING, "committed"),
                    write("orders/processor.py", demo.PROCESSOR_AFTER_PRICING, "committed"),
                    write("docs/notes.md", NOTES.replace("note 5\n", "pricing note\n"), "unstaged"),
                ],
                folder="pricing",
            ),
            Worktree("feat/registry", [write("recommend/registry.py", demo.REGISTRY, "staged")]),
            Worktree("agent", []),
        ],
    )
    repo = build(scenario, root)
    return Shop(repo=repo, agent=root / "agent", pricing=root / "pricing")


@pytest.fixture
def shop(tmp_path: Path) -> Shop:
    return build_shop(tmp_path / "shop")


def payload(tool: str, tool_input: dict[str, Any], cwd: Path | str) -> str:
    return json.dumps(
        {
            "session_id": "s-1",
            "hook_event_name": "PreToolUse",
            "tool_name": tool,
            "tool_input": tool_input,
            "cwd": str(cwd),
        }
    )


def hook(data: str | bytes, cwd: Path, *args: str, env: dict[str, str] | None = None) -> CliResult:
    return run_cli("hook", "claude", "--deadline-ms", "60000", *args, cwd=cwd, input=data, env=env)


def decision(result: CliResult) -> dict[str, Any]:
    assert result.code == 0, result.stderr
    output: dict[str, Any] = result.json()["hookSpecificOutput"]
    assert output["hookEventName"] == "PreToolUse"
    return output


def stale_edits(shop: Shop) -> dict[str, tuple[str, dict[str, Any]]]:
    """One way per tool to propose a stale call in orders/report.py."""
    path = shop.file("orders/report.py")
    return {
        "Write": ("Write", {"file_path": path, "content": STALE_REPORT}),
        "Edit": (
            "Edit",
            {"file_path": path, "old_string": SUM, "new_string": CALL, "replace_all": True},
        ),
        "MultiEdit": (
            "MultiEdit",
            {
                "file_path": path,
                "edits": [
                    {"old_string": "item.quantity", "new_string": "int(item.quantity)"},
                    {"old_string": GRAND + SUM, "new_string": GRAND + CALL},
                ],
            },
        ),
    }


# --- a stale call is caught before it is written ------------------------------------


@pytest.mark.parametrize("tool", ["Write", "Edit", "MultiEdit"])
@pytest.mark.parametrize("mode", ["default", "--strict", "config"])
def test_stale_call_is_caught_before_the_write(shop: Shop, tool: str, mode: str) -> None:
    name, tool_input = stale_edits(shop)[tool]
    if mode == "config":
        pyproject = shop.agent / "pyproject.toml"
        pyproject.write_text(pyproject.read_text() + "\n[tool.driftcheck]\nstrict = true\n")
    on_disk = (shop.agent / "orders/report.py").read_bytes()
    before = snapshot_repo(shop.repo)

    args = ["--strict"] if mode == "--strict" else []
    output = decision(hook(payload(name, tool_input, shop.agent), shop.agent, *args))

    assert output["permissionDecision"] == ("ask" if mode == "default" else "deny")
    assert output["permissionDecisionReason"].startswith("driftcheck")
    context = output["additionalContext"]
    assert "DC204" in context and "stale-caller" in context
    # What to adapt to: the new home of the method and its signature there.
    assert "orders/pricing.py" in context and "PricingEngine.calculate_total" in context
    # addressed to the agent about to write: what it can do
    assert "What you can do: use " in context and "calculate_total instead of" in context
    assert (shop.agent / "orders/report.py").read_bytes() == on_disk
    assert snapshot_repo(shop.repo) == before


def test_only_pre_tool_use_events_are_answered(shop: Shop) -> None:
    """A hook wired to another event (PostToolUse) by mistake gets no PreToolUse
    answer for an edit that has already happened."""
    name, tool_input = stale_edits(shop)["Write"]
    data = json.loads(payload(name, tool_input, shop.agent))
    data["hook_event_name"] = "PostToolUse"
    result = hook(json.dumps(data), shop.agent)
    assert (result.code, result.stdout) == (0, "")


def test_no_strict_overrides_config(shop: Shop) -> None:
    pyproject = shop.agent / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "\n[tool.driftcheck]\nstrict = true\n")
    name, tool_input = stale_edits(shop)["Write"]
    output = decision(hook(payload(name, tool_input, shop.agent), shop.agent, "--no-strict"))
    assert output["permissionDecision"] == "ask"


def test_new_file_with_a_stale_call_is_caught(shop: Shop) -> None:
    target = shop.agent / "orders" / "summary.py"
    content = "from orders.processor import OrderProcessor\n\n\ndef f(items):\n"
    content += "    return OrderProcessor().calculate_total(items)\n"
    output = decision(
        hook(
            payload("Write", {"file_path": str(target), "content": content}, shop.agent), shop.agent
        )
    )
    assert output["permissionDecision"] == "ask"
    assert not target.exists()


def test_clean_edit_is_silent(shop: Shop) -> None:
    tool_input = {"file_path": shop.file("orders/report.py"), "content": CLEAN_REPORT}
    result = hook(payload("Write", tool_input, shop.agent), shop.agent)
    assert (result.code, result.stdout, result.stderr) == (0, "", "")


def test_existing_drift_elsewhere_does_not_leak_into_another_file(shop: Shop) -> None:
    # The agent already has a stale call in report.py; an edit to another file is clean.
    (shop.agent / "orders/report.py").write_text(STALE_REPORT)
    tool_input = {"file_path": shop.file("docs/extra.md"), "content": "hello\n"}
    result = hook(payload("Write", tool_input, shop.agent), shop.agent)
    assert (result.code, result.stdout, result.stderr) == (0, "", "")


def test_textual_conflict_context_shows_the_other_side(shop: Shop) -> None:
    tool_input = {
        "file_path": shop.file("docs/notes.md"),
        "old_string": "note 5\n",
        "new_string": "agent note\n",
    }
    output = decision(hook(payload("Edit", tool_input, shop.agent), shop.agent))
    assert output["permissionDecision"] == "ask"
    context = output["additionalContext"]
    assert "textual-conflict" in context
    assert "pricing note" in context  # the other side's hunk, verbatim
    assert "feat/pricing" in context


def test_syntax_error_mid_edit_is_still_judged_textually(shop: Shop) -> None:
    tool_input = {
        "file_path": shop.file("orders/processor.py"),
        "old_string": "    def calculate_total(self, items: list[LineItem], discount",
        "new_string": "    def calculate_total(self, items: list[LineItem, (discount",
    }
    output = decision(hook(payload("Edit", tool_input, shop.agent), shop.agent))
    assert output["permissionDecision"] == "ask"
    assert "textual-conflict" in output["additionalContext"]


def test_warning_only_gives_context_without_a_decision(shop: Shop) -> None:
    tool_input = {"file_path": shop.file("recommend/discovery.py"), "content": demo.DISCOVERY}
    output = decision(hook(payload("Write", tool_input, shop.agent), shop.agent))
    assert "permissionDecision" not in output
    context = output["additionalContext"]
    assert "duplicate" in context
    assert "recommend/registry.py" in context  # the duplicate's path


def test_context_is_capped(shop: Shop) -> None:
    # The other side's hunk is long: 20 lines of 1,000 characters each.
    long_lines = "".join(f"{n} " + "x" * 1000 + "\n" for n in range(20))
    (shop.pricing / "docs/notes.md").write_text(NOTES.replace("note 5\n", long_lines))
    tool_input = {
        "file_path": shop.file("docs/notes.md"),
        "old_string": "note 5\n",
        "new_string": "y\n",
    }
    output = decision(hook(payload("Edit", tool_input, shop.agent), shop.agent))
    assert output["permissionDecision"] == "ask"
    # Quoted lines are cut short: the whole context stays far below its cap.
    context = output["additionalContext"]
    assert len(context) <= 4_000 and max(map(len, context.splitlines())) <= 200
    assert "19 xxxx" in context or "more lines" in context


# --- fail open ----------------------------------------------------------------------


def _malformed(shop: Shop, outside: Path) -> dict[str, str | bytes]:
    report = shop.file("orders/report.py")
    good = payload("Write", {"file_path": report, "content": STALE_REPORT}, shop.agent)
    edit = {"file_path": report, "old_string": "nowhere to be found", "new_string": "x"}
    ambiguous = {"file_path": report, "old_string": SUM, "new_string": CALL}
    return {
        "invalid JSON": "{tool_name: Write",
        "truncated JSON": good[: len(good) // 2],
        "JSON array": json.dumps([json.loads(good)]),
        "JSON string": json.dumps("Write"),
        "empty stdin": "",
        "whitespace": "  \n",
        "not UTF-8": b"\xff\xfe{\x00",
        "deeply nested": "[" * 100_000 + "]" * 100_000,
        "missing tool_input": json.dumps({"tool_name": "Write", "cwd": str(shop.agent)}),
        "tool_input not an object": json.dumps({"tool_name": "Edit", "tool_input": "x"}),
        "no file_path": payload("Write", {"content": "x"}, shop.agent),
        "file_path not a string": payload("Write", {"file_path": 7, "content": "x"}, shop.agent),
        "content not a string": payload("Write", {"file_path": report, "content": 7}, shop.agent),
        "outside the repository": payload(
            "Write", {"file_path": str(outside / "x.py"), "content": STALE_REPORT}, shop.agent
        ),
        "relative path": payload(
            "Write", {"file_path": "orders/report.py", "content": STALE_REPORT}, shop.agent
        ),
        "inside .git": payload(
            "Write", {"file_path": str(shop.repo / ".git" / "config"), "content": "x"}, shop.agent
        ),
        "a file below a file": payload(
            "Write", {"file_path": shop.file("orders/report.py/x.py"), "content": "x"}, shop.agent
        ),
        "Edit of a missing file": payload(
            "Edit", {**edit, "file_path": shop.file("nope.py"), "old_string": "a"}, shop.agent
        ),
        "old_string not found": payload("Edit", edit, shop.agent),
        "old_string ambiguous": payload("Edit", ambiguous, shop.agent),
        "MultiEdit without edits": payload("MultiEdit", {"file_path": report}, shop.agent),
        "MultiEdit second edit fails": payload(
            "MultiEdit",
            {"file_path": report, "edits": [{"old_string": "items", "new_string": "x"}, edit]},
            shop.agent,
        ),
    }


def test_every_malformed_input_fails_open(shop: Shop, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    before = snapshot_repo(shop.repo)
    for name, data in _malformed(shop, outside).items():
        result = hook(data, shop.agent)
        assert result.code == 0, (name, result.stderr)
        assert result.stdout == "", name
        lines = result.stderr.splitlines()
        assert len(lines) == 1, (name, result.stderr)
        assert lines[0].startswith("driftcheck:") and "Traceback" not in result.stderr
    assert snapshot_repo(shop.repo) == before


def test_huge_payload_fails_open(shop: Shop) -> None:
    content = "x = 1\n" + "#" * 5_000_000 + "\n"
    data = payload(
        "Write", {"file_path": shop.file("orders/huge.py"), "content": content}, shop.agent
    )
    result = run_cli("hook", "claude", cwd=shop.agent, input=data)
    assert (result.code, result.stdout) == (0, "")
    assert len(result.stderr.splitlines()) <= 1


def test_binary_file_edit_is_judged_without_crashing(shop: Shop) -> None:
    tool_input = {"file_path": shop.file("assets/logo.bin"), "old_string": "zzz", "new_string": "y"}
    result = hook(payload("Edit", tool_input, shop.agent), shop.agent)
    assert (result.code, result.stdout, result.stderr) == (0, "", "")


@pytest.mark.parametrize("tool", ["Bash", "Read", "NotebookEdit", None, 7])
def test_other_tools_are_silent(shop: Shop, tool: object) -> None:
    data = json.dumps({"tool_name": tool, "tool_input": {"command": "rm -rf /"}, "cwd": "/"})
    result = hook(data, shop.agent)
    assert (result.code, result.stdout, result.stderr) == (0, "", "")


def test_not_a_git_repository(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    data = payload("Write", {"file_path": str(plain / "a.py"), "content": "x = 1\n"}, plain)
    result = hook(data, plain)
    assert (result.code, result.stdout) == (0, "")
    assert len(result.stderr.splitlines()) == 1


def test_deleted_worktree_listed_by_git(shop: Shop) -> None:
    gone = shop.repo.parent / "gone"
    git("worktree", "add", "-q", "-b", "gone", str(gone), cwd=shop.repo)
    shutil.rmtree(gone)
    clean = {"file_path": shop.file("orders/report.py"), "content": CLEAN_REPORT}
    result = hook(payload("Write", clean, shop.agent), shop.agent)
    assert (result.code, result.stdout) == (0, "")
    assert len(result.stderr.splitlines()) <= 1
    # The worktrees that are still there are judged as before.
    name, tool_input = stale_edits(shop)["Write"]
    assert decision(hook(payload(name, tool_input, shop.agent), shop.agent))["permissionDecision"]


# --- the deadline -------------------------------------------------------------------


@pytest.mark.parametrize("deadline", ["1", "150", "400"])
def test_deadline_allows_and_leaves_nothing_behind(
    shop: Shop, tmp_path: Path, deadline: str
) -> None:
    tmp = tmp_path / "tmpdir"
    tmp.mkdir()
    name, tool_input = stale_edits(shop)["Write"]
    data = payload(name, tool_input, shop.agent)
    result = run_cli(
        "hook",
        "claude",
        "--deadline-ms",
        deadline,
        cwd=shop.agent,
        input=data,
        env={"TMPDIR": str(tmp)},
    )
    assert result.code == 0
    if deadline == "1" or not result.stdout:
        assert result.stdout == ""
        assert len(result.stderr.splitlines()) == 1
        assert "deadline" in result.stderr
    assert list(tmp.iterdir()) == []
    left = processes_with(f"TMPDIR={tmp}")
    assert left == [], [Path(f"/proc/{p}/cmdline").read_bytes() for p in left]


def test_deadline_from_config(shop: Shop) -> None:
    pyproject = shop.agent / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "\n[tool.driftcheck]\nhook-deadline-ms = 1\n")
    name, tool_input = stale_edits(shop)["Write"]
    result = run_cli("hook", "claude", cwd=shop.agent, input=payload(name, tool_input, shop.agent))
    assert (result.code, result.stdout) == (0, "")
    assert "deadline" in result.stderr and len(result.stderr.splitlines()) == 1
