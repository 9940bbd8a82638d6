"""`driftcheck context`: the digest of what the other worktrees do, on the command line
and as Claude Code's SessionStart/UserPromptSubmit hook (which never fails)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from coordination_repo import ORDERS, Three, build_three
from helpers import commit_all, run_cli, snapshot_repo

FIND_MODELS = "\n\ndef find_models(query, limit=10):\n    return [query][:limit]\n"


@pytest.fixture
def three(workspace: Path) -> Three:
    built = build_three(workspace)
    # feat/a: a committed new helper, and an uncommitted signature change.
    (built.a / "shop/orders.py").write_text(ORDERS + FIND_MODELS)
    commit_all(built.a, "find_models")
    (built.a / "shop/orders.py").write_text(
        (ORDERS + FIND_MODELS).replace("def tax(amount):", "def tax(amount, region):")
    )
    (built.a / "shop/stock.py").write_text("def restock(item):\n    return item\n")
    return built


def test_digest_names_what_the_others_do_most_relevant_first(three: Three) -> None:
    # feat/b's own work names `tax`: that comes before the rest.
    (three.b / "shop/billing.py").write_text("from shop.orders import tax\n\nX = tax(1)\n")
    run_cli("claim", "shop.orders.total", "--intent", "totals\x1b[31m in Decimal\n", cwd=three.a)
    before = snapshot_repo(three.repo)
    result = run_cli("context", cwd=three.b)
    assert result.code == 0, result.stderr
    text = result.stdout
    assert text.startswith("## What the other worktrees are doing")
    assert "### feat/a, uncommitted work" in text
    assert "added `shop.orders.find_models(query, limit=10)`" in text
    assert "added `shop.stock.restock(item)`" in text
    assert "signature changed: `shop.orders.tax(amount)` → `(amount, region)`" in text
    assert "files touched: shop/orders.py, shop/stock.py" in text
    assert "claims `shop.orders.total`" in text and '"totals [31m in Decimal"' in text
    assert "\x1b" not in text
    lines = text.splitlines()
    assert lines.index(next(x for x in lines if "signature changed" in x)) < lines.index(
        next(x for x in lines if "find_models" in x)
    )
    # The main worktree sees feat/a too (and feat/b's new file), never itself.
    mine = run_cli("context", cwd=three.repo).stdout
    assert "### feat/a" in mine and "### feat/b" in mine and "### main" not in mine
    assert snapshot_repo(three.repo) == before


def test_digest_is_bounded(three: Three) -> None:
    result = run_cli("context", "--max-chars", "300", cwd=three.b)
    assert result.code == 0 and 0 < len(result.stdout.rstrip("\n")) <= 300
    assert "more" in result.stdout


def test_nothing_to_say_prints_nothing(workspace: Path) -> None:
    quiet = build_three(workspace)
    result = run_cli("context", cwd=quiet.b)
    assert (result.code, result.stdout) == (0, "")


@pytest.mark.parametrize("event", ["SessionStart", "UserPromptSubmit"])
def test_hook_gives_additional_context(three: Three, event: str) -> None:
    data = json.dumps({"hook_event_name": event, "cwd": str(three.b), "prompt": "go"})
    result = run_cli("context", "--hook", cwd=three.repo, input=data)
    assert result.code == 0, result.stderr
    output = result.json()["hookSpecificOutput"]
    assert output["hookEventName"] == event
    assert "find_models" in output["additionalContext"]


@pytest.mark.parametrize("data", [b"", b"{not json", b"[1, 2]", b"\xff\xfe", b'{"cwd": 7}'])
def test_hook_never_fails_on_bad_input(three: Three, data: bytes) -> None:
    result = run_cli("context", "--hook", cwd=three.b, input=data)
    assert result.code == 0 and "Traceback" not in result.stderr
    if result.stdout:  # the payload said nothing usable: the hook's own folder counts
        assert "find_models" in result.json()["hookSpecificOutput"]["additionalContext"]


def test_hook_outside_a_repository_is_silent(tmp_path: Path) -> None:
    data = json.dumps({"hook_event_name": "SessionStart", "cwd": str(tmp_path)})
    result = run_cli("context", "--hook", cwd=tmp_path, input=data)
    assert (result.code, result.stdout) == (0, "")
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
