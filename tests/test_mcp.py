"""`driftcheck mcp` through the SDK's own stdio client, against real repositories with
three worktrees: the tools' contract, their answers next to the hook's, structured
errors for bad input, and a daemon that is absent, answering, or restarting."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from coordination_repo import ORDERS_A, ORDERS_B, ORDERS_B_TAX, Three, build_three
from helpers import run_cli, snapshot_repo
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from test_hook_claude import decision, hook, payload

CONTRACT = {"drift_status", "who_is_changing", "check_edit", "claim", "release", "list_claims"}
ON = {"DRIFTCHECK_DAEMON": "1"}


@pytest.fixture
def three(workspace: Path) -> Three:
    return build_three(workspace)


@asynccontextmanager
async def mcp_session(cwd: Path, env: dict[str, str] | None = None) -> AsyncIterator[ClientSession]:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "driftcheck", "mcp"],
        cwd=str(cwd),
        env={**os.environ, "PYTHONSAFEPATH": "1", **(env or {})},
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


async def call(session: ClientSession, name: str, args: dict[str, Any]) -> tuple[bool, Any]:
    """(ok, structured answer) of one tool call; the text is the same JSON."""
    result = await session.call_tool(name, args)
    assert result.structuredContent is not None
    assert json.loads(result.content[0].text) == result.structuredContent  # type: ignore[union-attr]
    return (not result.isError, result.structuredContent)


def run(coro: Any) -> Any:
    return anyio.run(lambda: coro)


def test_contract_and_answers(three: Three) -> None:
    (three.a / "shop/orders.py").write_text(ORDERS_A)  # uncommitted work in feat/a
    before = snapshot_repo(three.repo)

    async def scenario() -> None:
        async with mcp_session(three.b) as b, mcp_session(three.a) as a:
            listed = await b.list_tools()
            assert {t.name for t in listed.tools} == CONTRACT
            schema = next(t for t in listed.tools if t.name == "claim").inputSchema
            assert schema["required"] == ["targets", "intent"]

            # who_is_changing names feat/a, with its diff of the symbol.
            ok, found = await call(
                b, "who_is_changing", {"path": "shop/orders.py", "symbol": "shop.orders.total"}
            )
            assert ok, found
            [entry] = found["participants"]
            assert (entry["participant"], entry["uncommitted"]) == ("feat/a", True)
            [change] = entry["changes"]
            assert change["change"] == "body" and change["old_signature"] == "total(items)"
            assert "+    count = len(list(items))" in change["diff"]
            ok, none = await call(
                b, "who_is_changing", {"path": "shop/orders.py", "symbol": "shop.orders.tax"}
            )
            assert ok and none["participants"] == []

            # A claim made through MCP in feat/a ...
            ok, made = await call(
                a, "claim", {"targets": ["shop.orders.tax"], "intent": "rates by region"}
            )
            assert ok, made
            claim_id = made["claim_id"]
            ok, listed_claims = await call(b, "list_claims", {})
            assert [(c["id"], c["owner"], c["mine"]) for c in listed_claims["claims"]] == [
                (claim_id, "feat/a", False)
            ]
            # ... shows in feat/b's pre-edit hook answer ...
            tool_input = {"file_path": str(three.b / "shop/orders.py"), "content": ORDERS_B_TAX}
            answer = decision(hook(payload("Write", tool_input, three.b), three.b))
            assert claim_id in answer["additionalContext"]
            assert "rates by region" in answer["additionalContext"]
            # ... and in its context digest.
            digest = run_cli("context", cwd=three.b)
            assert digest.code == 0, digest.stderr
            assert claim_id in digest.stdout and "feat/a" in digest.stdout

            # check_edit answers as the hook (and as `check`).
            for content in (ORDERS_B, ORDERS_B_TAX):
                ok, judged = await call(
                    b, "check_edit", {"path": "shop/orders.py", "content": content}
                )
                assert ok, judged
                proposal = three.b / ".." / "proposal.py"
                proposal.write_text(content)
                args = ("check", "shop/orders.py", "--content-file", str(proposal))
                cli = run_cli(*args, "--format", "json", "--fail-on", "never", cwd=three.b)
                assert judged["findings"] == cli.json()["findings"]
                tool_input = {"file_path": str(three.b / "shop/orders.py"), "content": content}
                hooked = decision(hook(payload("Write", tool_input, three.b), three.b))
                assert hooked.get("permissionDecision", "allow") == judged["decision"]
                for finding in judged["findings"]:
                    assert finding["message"] in hooked["additionalContext"]

            ok, status = await call(b, "drift_status", {})
            assert ok and status["worktree"] == "feat/b"
            ok, other = await call(b, "drift_status", {"worktree": "feat/a"})
            assert ok and other["worktree"] == "feat/a"

            ok, released = await call(a, "release", {"claim_id": claim_id})
            assert ok and released == {"released": claim_id}

    run(scenario())
    assert snapshot_repo(three.repo) == before


BAD_CALLS = [
    ("drift_status", {"worktree": "no-such-tree"}, "unknown-worktree"),
    ("who_is_changing", {"path": "../../etc/passwd"}, "path-outside-repository"),
    ("who_is_changing", {"path": "/etc/passwd"}, "path-outside-repository"),
    ("who_is_changing", {"path": 42}, "bad-input"),
    ("who_is_changing", {}, "bad-input"),
    ("check_edit", {"path": "shop/orders.py"}, "bad-input"),
    ("check_edit", {"path": "shop/orders.py", "content": "x", "deleted": True}, "bad-input"),
    ("claim", {"targets": ["not a target!"], "intent": "x"}, "bad-target"),
    ("claim", {"targets": [], "intent": "x"}, "bad-input"),
    ("claim", {"targets": ["shop.orders.tax"], "intent": "x", "ttl_minutes": "60"}, "bad-input"),
    ("claim", {"targets": ["shop.orders.tax"], "intent": "x", "extra": 1}, "bad-input"),
    ("release", {"claim_id": "c0123456789"}, "unknown-claim"),
    ("release", {"claim_id": "'; drop table claims"}, "unknown-claim"),
    ("no_such_tool", {}, "unknown-tool"),
]


def test_bad_input_gets_structured_errors(three: Three) -> None:
    async def scenario() -> None:
        async with mcp_session(three.b) as b, mcp_session(three.a) as a:
            for name, args, code in BAD_CALLS:
                ok, answer = await call(b, name, args)
                assert not ok and answer["error"]["code"] == code, (name, args, answer)
            ok, made = await call(a, "claim", {"targets": ["shop/orders.py"], "intent": "mine"})
            assert ok
            ok, foreign = await call(b, "release", {"claim_id": made["claim_id"]})
            assert not ok and foreign["error"]["code"] == "foreign-claim"
            short = {"targets": ["shop.orders"], "intent": "brief", "ttl_minutes": 0.01}
            ok, brief = await call(a, "claim", short)
            assert ok
            await anyio.sleep(1.0)
            ok, expired = await call(a, "release", {"claim_id": brief["claim_id"]})
            assert not ok and expired["error"]["code"] == "expired-claim"
            ok, listed = await call(b, "list_claims", {})
            assert [c["id"] for c in listed["claims"]] == [made["claim_id"]]

    run(scenario())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the daemon is Linux-only")
def test_daemon_absent_answering_and_restarting(three: Three) -> None:
    (three.a / "shop/orders.py").write_text(ORDERS_A)
    args = {"path": "shop/orders.py", "symbol": "shop.orders.total"}

    def requests() -> int | None:
        found = run_cli("daemon", "status", "--repo", str(three.repo), cwd=three.repo, env=ON)
        return found.json()["requests"] if found.code == 0 else None

    def wait_for_daemon() -> int:
        until = time.monotonic() + 60
        while (count := requests()) is None:
            assert time.monotonic() < until, "no daemon started"
            time.sleep(0.2)
        return count

    async def through_daemon(session: Any) -> Any:
        """A call the daemon answers. A daemon still warming up on a loaded machine
        may miss the server's budget once, and the server then answers alone; the
        next call must reach it."""
        until = time.monotonic() + 60
        while True:
            count = wait_for_daemon()
            ok, answer = await call(session, "who_is_changing", args)
            assert ok
            if requests() == count + 1:
                return answer
            assert time.monotonic() < until, "the daemon did not answer"

    async def scenario() -> None:
        async with mcp_session(three.b, ON) as b:
            assert requests() is None
            ok, alone = await call(b, "who_is_changing", args)  # no daemon: answered here
            assert ok
            # ... and one was started for the next calls
            assert await through_daemon(b) == alone
            # The daemon goes away mid-session: the next call is still answered.
            assert (
                run_cli("daemon", "stop", "--repo", str(three.repo), cwd=three.repo, env=ON).code
                == 0
            )
            ok, again = await call(b, "who_is_changing", args)
            assert ok and again == alone
            assert await through_daemon(b) == alone  # restarted by that call

    try:
        run(scenario())
    finally:
        run_cli("daemon", "stop", "--repo", str(three.repo), cwd=three.repo, env=ON)
