"""`driftcheck mcp` and `driftcheck context`: the doors for agents that coordinate."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from driftcheck.errors import UsageError

_HOOK_EVENTS = ("SessionStart", "UserPromptSubmit")
_MAX_HOOK_INPUT = 1 << 20


@click.command("mcp")
@click.option(
    "--worktree",
    "where",
    default=".",
    type=click.Path(file_okay=False, path_type=Path),
    help="The agent's worktree.",
)
def mcp(where: Path) -> None:
    """Serve the MCP tools over stdio (see .mcp.json in hooks/claude)."""
    from driftcheck.integrations.mcp_server import serve

    serve(where.resolve())


@click.command("context")
@click.option(
    "--worktree",
    "where",
    type=click.Path(file_okay=False, path_type=Path),
    help="The worktree asking.  [default: the current folder's]",
)
@click.option(
    "--max-chars",
    type=click.IntRange(min=200),
    default=2000,
    show_default=True,
    help="The digest's length bound.",
)
@click.option(
    "--hook",
    is_flag=True,
    help="Answer a Claude Code SessionStart/UserPromptSubmit hook (JSON on stdin); never fails.",
)
def context(where: Path | None, max_chars: int, hook: bool) -> None:
    """A short Markdown digest of what the other worktrees are doing."""
    if hook:
        sys.exit(_hook(where, max_chars))
    from driftcheck.integrations.tool_caller import ToolCaller

    answer = ToolCaller((where or Path.cwd()).resolve()).call("context", {"max_chars": max_chars})
    if not answer.get("ok"):
        raise UsageError(str(answer.get("error", {}).get("message", "no digest")))
    text = answer["result"]["context"]
    if text:
        click.echo(text)


def _hook(where: Path | None, max_chars: int) -> int:
    """Always 0: no digest is better than a blocked prompt. Trouble is one line on
    stderr; a digest is `additionalContext` for the event that asked."""
    try:
        raw = (
            b""
            if sys.stdin is None or sys.stdin.isatty()
            else sys.stdin.buffer.read(_MAX_HOOK_INPUT)
        )
        payload = json.loads(raw.decode("utf-8", "replace")) if raw.strip() else {}
        if not isinstance(payload, dict):
            payload = {}
        event = payload.get("hook_event_name")
        event = event if event in _HOOK_EVENTS else "UserPromptSubmit"
        cwd = payload.get("cwd")
        folder = where or (Path(cwd) if isinstance(cwd, str) and cwd else Path.cwd())
        from driftcheck.integrations.tool_caller import ToolCaller

        answer = ToolCaller(folder.resolve()).call("context", {"max_chars": max_chars})
        if not answer.get("ok"):
            message = str(answer.get("error", {}).get("message", ""))
            click.echo(f"driftcheck: no context: {' '.join(message.split())[:300]}", err=True)
            return 0
        text = answer["result"]["context"]
        if text:
            output = {"hookEventName": event, "additionalContext": text}
            click.echo(json.dumps({"hookSpecificOutput": output}))
    except Exception as exc:  # a hook never blocks an agent, nor shows a traceback
        click.echo(f"driftcheck: no context: {type(exc).__name__}: {exc}"[:300], err=True)
    return 0
