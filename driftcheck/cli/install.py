"""`driftcheck install claude|pre-commit`."""

from __future__ import annotations

from pathlib import Path

import click

from driftcheck.cli.common import Commands, repo_option


@click.group(cls=Commands)
def install() -> None:
    """Wire driftcheck into Claude Code or git (only with your say-so)."""


def _apply(plans: list, dry_run: bool) -> None:  # type: ignore[type-arg]
    for plan in plans:
        if dry_run:
            diff = plan.diff()
            click.echo(diff if diff else f"{plan.path}: no change")
        elif plan.changes:
            plan.apply()
        click.echo(("would change " if dry_run and plan.changes else "") + plan.message, err=True)


@install.command("claude")
@repo_option("Any folder of the worktree to install into.")
@click.option("--dry-run", is_flag=True, help="Show the diff, write nothing.")
def install_claude(repo: Path, dry_run: bool) -> None:
    """Add the hooks to .claude/settings.json and the MCP server to .mcp.json (idempotent).

    PreToolUse judges edits; SessionStart and UserPromptSubmit give the agent a digest
    of the other worktrees; `driftcheck mcp` answers its questions."""
    from driftcheck.engine.judge import worktree_root
    from driftcheck.integrations.install import plan_claude, plan_mcp

    root = worktree_root(repo.resolve())
    _apply([plan_claude(root), plan_mcp(root)], dry_run)


@install.command("pre-commit")
@repo_option("Any folder of the worktree to install into.")
@click.option("--dry-run", is_flag=True, help="Show the diff, write nothing.")
@click.option("--force", is_flag=True, help="Replace a pre-commit hook that is not ours.")
@click.option("--chain", is_flag=True, help="Keep an existing hook and run it first.")
def install_pre_commit(repo: Path, dry_run: bool, force: bool, chain: bool) -> None:
    """Write a thin pre-commit shim into the hooks folder all worktrees share."""
    from driftcheck.engine.judge import worktree_root
    from driftcheck.integrations.install import plan_pre_commit

    _apply(plan_pre_commit(worktree_root(repo.resolve()), force=force, chain=chain), dry_run)
