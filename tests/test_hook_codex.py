"""`driftcheck hook codex`: Codex's PreToolUse for `apply_patch`, in a real repository.

Codex has no "ask": an error-level finding denies with the context, and (without strict)
an identical retry is let through. A clean patch prints nothing: Codex rejects an
explicit allow.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers import CliResult, run_cli, snapshot_repo
from test_hook_claude import CALL, SUM, Shop, build_shop

from driftcheck.demo import shop as demo


@pytest.fixture
def shop(tmp_path: Path) -> Shop:
    return build_shop(tmp_path / "shop")


def patch(*sections: str) -> str:
    return "*** Begin Patch\n" + "".join(sections) + "*** End Patch\n"


STALE_UPDATE = (
    "*** Update File: orders/report.py\n"
    "@@ def grand_total(items: list[LineItem]) -> Decimal:\n"
    f"-    return {SUM}\n"
    f"+    return {CALL}\n"
)
STALE_ADD = (
    "*** Add File: orders/summary.py\n"
    "+from orders.processor import OrderProcessor\n"
    "+\n"
    "+\n"
    "+def summary(items):\n"
    f"+    return {CALL}\n"
)
# feat/pricing's new orders/pricing.py imports round_money from utils.py.
DELETE_UTILS = "*** Delete File: utils.py\n"
MOVE_UTILS = (
    "*** Update File: utils.py\n"
    "*** Move to: money.py\n"
    "@@\n"
    " def round_money(amount: Decimal) -> Decimal:\n"
)
CLEAN_UPDATE = (
    "*** Update File: orders/report.py\n"
    "@@\n"
    " def count_items(items: list[LineItem]) -> int:\n"
    "-    return sum(item.quantity for item in items)\n"
    "+    return sum(int(item.quantity) for item in items)\n"
)


def payload(body: Any, cwd: Path, tool: str = "apply_patch") -> str:
    return json.dumps(
        {
            "session_id": "s-1",
            "turn_id": "t-1",
            "hook_event_name": "PreToolUse",
            "model": "some-model",
            "tool_name": tool,
            "tool_use_id": "call-1",
            "tool_input": {"command": body},
            "cwd": str(cwd),
        }
    )


def hook(data: str, cwd: Path, *args: str) -> CliResult:
    return run_cli("hook", "codex", "--deadline-ms", "60000", *args, cwd=cwd, input=data)


def output_of(result: CliResult) -> dict[str, Any]:
    assert result.code == 0, result.stderr
    output: dict[str, Any] = result.json()["hookSpecificOutput"]
    assert output["hookEventName"] == "PreToolUse"
    return output


def disk(shop: Shop) -> dict[str, bytes | None]:
    paths = ["orders/report.py", "orders/reports.py", "orders/summary.py", "utils.py", "money.py"]
    return {p: (shop.agent / p).read_bytes() if (shop.agent / p).exists() else None for p in paths}


MOVE_REPORT = (
    "*** Update File: orders/report.py\n"
    "*** Move to: orders/reports.py\n"
    "@@ def grand_total(items: list[LineItem]) -> Decimal:\n"
    f"-    return {SUM}\n"
    f"+    return {CALL}\n"
)


@pytest.mark.parametrize(
    ("name", "section", "expect"),
    [
        ("update", STALE_UPDATE, "orders/pricing.py"),
        ("add", STALE_ADD, "orders/pricing.py"),
        ("delete", DELETE_UTILS, "round_money"),
        ("move a definition away", MOVE_UTILS, "round_money"),
        ("move a file and add a stale call", MOVE_REPORT, "orders/pricing.py"),
    ],
)
def test_drifting_patch_is_denied_before_it_is_applied(
    shop: Shop, name: str, section: str, expect: str
) -> None:
    before_disk, before = disk(shop), snapshot_repo(shop.repo)
    output = output_of(hook(payload(patch(section), shop.agent), shop.agent))
    assert output["permissionDecision"] == "deny", name
    reason = output["permissionDecisionReason"]
    assert "stale-caller" in reason and expect in reason
    assert len(reason) <= 10_000
    assert disk(shop) == before_disk
    assert snapshot_repo(shop.repo) == before


def test_identical_retry_is_let_through_unless_strict(shop: Shop) -> None:
    data = payload(patch(STALE_UPDATE), shop.agent)
    assert output_of(hook(data, shop.agent))["permissionDecision"] == "deny"
    retry = hook(data, shop.agent)
    assert (retry.code, retry.stdout) == (0, "")
    assert len(retry.stderr.splitlines()) == 1
    # The memory lives in driftcheck's own folder inside the common .git.
    assert any((shop.repo / ".git" / "driftcheck").iterdir())
    # A different patch is a new proposal: denied again.
    other = payload(patch(STALE_ADD), shop.agent)
    assert output_of(hook(other, shop.agent))["permissionDecision"] == "deny"


def test_strict_denies_every_retry(shop: Shop) -> None:
    data = payload(patch(STALE_UPDATE), shop.agent)
    for _ in range(2):
        assert output_of(hook(data, shop.agent, "--strict"))["permissionDecision"] == "deny"


def test_config_strict_denies_every_retry(shop: Shop) -> None:
    pyproject = shop.agent / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "\n[tool.driftcheck]\nstrict = true\n")
    data = payload(patch(STALE_UPDATE), shop.agent)
    for _ in range(2):
        assert output_of(hook(data, shop.agent))["permissionDecision"] == "deny"


def test_clean_patch_is_silent(shop: Shop) -> None:
    result = hook(payload(patch(CLEAN_UPDATE), shop.agent), shop.agent)
    assert (result.code, result.stdout, result.stderr) == (0, "", "")


def test_warning_only_is_context_without_a_decision(shop: Shop) -> None:
    lines = "".join(f"+{line}\n" for line in demo.DISCOVERY.splitlines())
    section = f"*** Add File: recommend/discovery.py\n{lines}"
    output = output_of(hook(payload(patch(section), shop.agent), shop.agent))
    assert "permissionDecision" not in output
    assert "recommend/registry.py" in output["additionalContext"]


def test_patch_as_argv_and_absolute_paths(shop: Shop) -> None:
    absolute = STALE_UPDATE.replace("orders/report.py", str(shop.agent / "orders/report.py"))
    data = payload(["apply_patch", patch(absolute)], shop.agent)
    assert output_of(hook(data, shop.agent))["permissionDecision"] == "deny"


def test_patch_touching_two_files_is_judged_as_one_proposal(shop: Shop) -> None:
    data = payload(patch(STALE_ADD, CLEAN_UPDATE), shop.agent)
    assert output_of(hook(data, shop.agent))["permissionDecision"] == "deny"


def test_malformed_inputs_fail_open(shop: Shop, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    missing_context = CLEAN_UPDATE.replace("count_items", "no_such_function")
    cases = {
        "invalid JSON": "{",
        "JSON array": "[]",
        "empty stdin": "",
        "no tool_input": json.dumps({"tool_name": "apply_patch", "cwd": str(shop.agent)}),
        "no patch body": json.dumps({"tool_name": "apply_patch", "tool_input": {}}),
        "patch without headers": payload("*** Begin Patch\n*** End Patch\n", shop.agent),
        "update of a missing file": payload(
            patch(STALE_UPDATE.replace("orders/report.py", "orders/nope.py")), shop.agent
        ),
        "context not found": payload(patch(missing_context), shop.agent),
        "anchor not found": payload(patch(STALE_UPDATE.replace("grand_total", "nope")), shop.agent),
        "outside the repository": payload(
            patch(STALE_ADD.replace("orders/summary.py", str(outside / "x.py"))), shop.agent
        ),
        "not a git repository": payload(patch(STALE_ADD), outside),
    }
    before = snapshot_repo(shop.repo)
    for name, data in cases.items():
        result = hook(data, shop.agent)
        assert (result.code, result.stdout) == (0, ""), (name, result.stdout)
        assert len(result.stderr.splitlines()) == 1, (name, result.stderr)
        assert "Traceback" not in result.stderr
    assert snapshot_repo(shop.repo) == before


@pytest.mark.parametrize("tool", ["Bash", "shell", "mcp__x__y", "read_file"])
def test_other_tools_are_silent(shop: Shop, tool: str) -> None:
    result = hook(payload("rm -rf /", shop.agent, tool=tool), shop.agent)
    assert (result.code, result.stdout, result.stderr) == (0, "", "")


def test_deadline_allows(shop: Shop, tmp_path: Path) -> None:
    tmp = tmp_path / "tmpdir"
    tmp.mkdir()
    data = payload(patch(STALE_UPDATE), shop.agent)
    result = run_cli(
        "hook", "codex", "--deadline-ms", "1", cwd=shop.agent, input=data, env={"TMPDIR": str(tmp)}
    )
    assert (result.code, result.stdout) == (0, "")
    assert "deadline" in result.stderr and len(result.stderr.splitlines()) == 1
    assert list(tmp.iterdir()) == []
