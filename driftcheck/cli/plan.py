"""`driftcheck plan`: what to merge, in what order, and what to reconcile first."""

from __future__ import annotations

import sys

import click

from driftcheck.cli.common import (
    PLAN_FORMATS,
    debug_option,
    emit_plan,
    formats_and_output,
    participant_options,
    scan_options,
    with_progress,
)


@click.command()
@participant_options("The trunk ref [default: config, else the main worktree's branch].")
@formats_and_output(PLAN_FORMATS)
@debug_option
def plan(
    repo: str,
    trunk: str | None,
    refs: tuple[str, ...],
    committed_only: bool,
    no_cache: bool,
    fmt: str,
    color: str,
    output: str | None,
    fail_on: str | None,
) -> None:
    """Plan the merges: inventory, dependencies, clusters and an order."""
    from driftcheck.plan.build import plan as run_plan

    options = scan_options(repo, trunk, refs, committed_only, no_cache)
    found = with_progress(lambda progress: run_plan(options, progress=progress))
    for warning in found.scan.warnings:
        click.echo(f"driftcheck: warning: {warning}", err=True)
    sys.exit(emit_plan(found, fmt, output, color, fail_on))
