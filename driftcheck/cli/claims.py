"""`driftcheck claim`, `driftcheck claims` and `driftcheck release`: explicit claims
from a shell, the same as the MCP tools."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from driftcheck.workspace.git import RepoInfo

_worktree = click.option(
    "--worktree",
    "where",
    default=".",
    type=click.Path(file_okay=False, path_type=Path),
    help="The worktree that claims.",
)


def _open(where: Path) -> tuple[Path, RepoInfo]:
    from driftcheck.engine.judge import open_worktree

    return open_worktree(where.resolve())


@click.command("claim")
@click.argument("targets", nargs=-1, required=True)
@click.option("--intent", required=True, help="One line: what you are about to do.")
@click.option(
    "--ttl-minutes", type=float, default=60.0, show_default=True, help="When the claim expires."
)
@click.option("--json", "as_json", is_flag=True, help="Print the claim as JSON.")
@_worktree
def claim(
    targets: tuple[str, ...], intent: str, ttl_minutes: float, as_json: bool, where: Path
) -> None:
    """Claim symbols (module.Class.method) or paths before changing them."""
    from driftcheck.coordination.claiming import claim as make

    root, repo = _open(where)
    made = make(root, repo, targets=list(targets), intent=intent, ttl_minutes=ttl_minutes)
    if as_json:
        click.echo(json.dumps(made.to_json(), indent=2))
    else:
        click.echo(made.id)


@click.command("claims")
@click.option("--json", "as_json", is_flag=True, help="Print the claims as JSON.")
@_worktree
def claims(as_json: bool, where: Path) -> None:
    """List the open claims of every worktree."""
    from driftcheck.coordination.claiming import list_claims
    from driftcheck.report import terminal_safe

    root, repo = _open(where)
    found = list_claims(root, repo)
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    if not found:
        click.echo("no open claims")
    for item in found:
        mine = " (yours)" if item["mine"] else ""
        targets = ", ".join(item["targets"])
        line = (
            f"{item['id']}  {item['owner']}{mine}  {targets}  "
            f"{item['age_minutes']} min old, {item['minutes_left']} min left: {item['intent']}"
        )
        click.echo(terminal_safe(line))


@click.command("release")
@click.argument("claim_id")
@_worktree
def release(claim_id: str, where: Path) -> None:
    """Release a claim this worktree made."""
    from driftcheck.coordination.claiming import release as drop

    root, repo = _open(where)
    drop(root, repo, claim_id)
    click.echo(f"released {claim_id}")
