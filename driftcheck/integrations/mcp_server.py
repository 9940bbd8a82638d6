"""`driftcheck mcp`: an MCP server over stdio, on the official `mcp` SDK.

Three things are kept apart, as in the reference servers: each tool's input is a
small pydantic model whose JSON schema is the tool's `inputSchema`; the names are
the `Tool` enum; the work is in plain functions (coordination/tools.py) that know
nothing of the protocol. This module is the thin dispatcher between them.

A call goes to the repository's daemon first, which keeps every worktree watched
and its tables parsed: that is what makes a call fast. With no daemon (none yet,
switched off, restarting, busy past its budget) the call runs here, exactly the
same functions, and a daemon is started for the next calls. Nothing here ever
ends the session with a traceback: driftcheck's own trouble is an error result.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import anyio
import mcp.types as types
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from driftcheck import __version__
from driftcheck.coordination import tools
from driftcheck.coordination.tools import Tool
from driftcheck.integrations.tool_caller import ToolCaller
from driftcheck.store.claims import DEFAULT_TTL_MINUTES, MAX_TARGETS, MAX_TTL_MINUTES


class _Input(BaseModel):
    # Strict: "60" is not a number and unknown fields are mistakes, not extras.
    model_config = ConfigDict(extra="forbid", strict=True)


class DriftStatus(_Input):
    worktree: str | None = Field(
        None, description="A worktree's path or branch name; default: the server's worktree."
    )


class WhoIsChanging(_Input):
    path: str = Field(description="A file, relative to the worktree (or absolute inside it).")
    symbol: str | None = Field(None, description="A symbol in it, as module.Class.method.")


class CheckEdit(_Input):
    path: str = Field(description="The file to judge, relative to the worktree.")
    content: str | None = Field(None, description="Its proposed full content.")
    deleted: bool = Field(False, description="Judge deleting the file instead.")


class Claim(_Input):
    targets: list[str] = Field(
        min_length=1,
        max_length=MAX_TARGETS,
        description="Symbols (module.Class.method) or repository paths you are about to change.",
    )
    intent: str = Field(min_length=1, description="One line: what you intend to do.")
    ttl_minutes: float = Field(
        DEFAULT_TTL_MINUTES, gt=0, le=MAX_TTL_MINUTES, description="When the claim expires."
    )


class Release(_Input):
    claim_id: str = Field(description="The id `claim` returned.")


class ListClaims(_Input):
    pass


TOOLS: dict[Tool, tuple[type[_Input], str]] = {
    Tool.DRIFT_STATUS: (
        DriftStatus,
        "The drift findings that involve this worktree now (conflicts, stale callers, "
        "duplicates, contradicting edits with the other worktrees), most severe first.",
    ),
    Tool.WHO_IS_CHANGING: (
        WhoIsChanging,
        "Which other worktrees change this file or symbol right now, committed or not, "
        "and their claims: for each, the old and new signature and the diff on their side.",
    ),
    Tool.CHECK_EDIT: (
        CheckEdit,
        "Judge a proposed file content (or deletion) against the other worktrees, as the "
        "pre-edit hook does: its decision (allow/ask/deny) and findings.",
    ),
    Tool.CLAIM: (
        Claim,
        "Claim symbols or paths before changing them, with a one-line intent; other "
        "agents are warned when they edit them. Returns a claim id.",
    ),
    Tool.RELEASE: (Release, "Release a claim this worktree made."),
    Tool.LIST_CLAIMS: (ListClaims, "Every open claim in the repository."),
}


def build_server(cwd: Path) -> Server[Any, Any]:
    server: Server[Any, Any] = Server("driftcheck", version=__version__)
    caller = Caller(cwd)

    @server.list_tools()  # type: ignore[no-untyped-call, untyped-decorator]
    async def list_tools() -> list[types.Tool]:
        return [
            types.Tool(name=tool.value, description=text, inputSchema=model.model_json_schema())
            for tool, (model, text) in TOOLS.items()
        ]

    # Validated here, by the models: a bad argument is a structured error too.
    @server.call_tool(validate_input=False)  # type: ignore[untyped-decorator]
    async def call_tool(name: str, arguments: dict[str, Any] | None) -> types.CallToolResult:
        answer = await anyio.to_thread.run_sync(caller.call, name, arguments or {})
        return _result(answer)

    return server


class Caller:
    """Validates a call against its model, then hands it to the tool caller."""

    def __init__(self, cwd: Path) -> None:
        self.tools = ToolCaller(cwd)

    def call(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        try:
            tool = Tool(name)
            model = TOOLS[tool][0]
        except (ValueError, KeyError):
            return tools.error("unknown-tool", f"no tool {str(name)[:60]!r}")
        try:
            args = model.model_validate(arguments).model_dump(exclude_none=True)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'input'}: {e['msg']}"
                for e in exc.errors()[:5]
            )
            return tools.error("bad-input", problems)
        return self.tools.call(tool.value, args)


def _result(answer: dict[str, Any]) -> types.CallToolResult:
    ok = bool(answer.get("ok"))
    payload = answer["result"] if ok else {"error": answer.get("error")}
    if not isinstance(payload, dict):
        payload = {"result": payload}
    text = json.dumps(payload, indent=1, ensure_ascii=False)
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=text)],
        structuredContent=payload,
        isError=not ok,
    )


def serve(cwd: Path) -> None:
    """Serve MCP over stdin/stdout until the client closes it."""
    server = build_server(cwd)

    async def main() -> None:
        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())

    started = time.monotonic()
    try:
        anyio.run(main)
    except KeyboardInterrupt:
        pass
    except Exception as exc:  # one line, never a traceback on the agent's stderr
        spent = round(time.monotonic() - started)
        print(f"driftcheck mcp: stopped after {spent} s: {exc!r}"[:400], file=sys.stderr)
