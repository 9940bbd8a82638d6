"""`driftcheck hook claude|codex|pre-commit` and `driftcheck check`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from driftcheck.cli.common import Commands, debug_option, emit, repo_option, report_options
from driftcheck.cli.handoff import Handoff
from driftcheck.deadline import claim_exit
from driftcheck.errors import DriftcheckError, UsageError


@click.group(cls=Commands)
def hook() -> None:
    """Answer an agent's or git's hook (fails open on any problem)."""


def _read_stdin(handoff: Handoff) -> bytes:
    """All of stdin, but never more than the hook accepts (one byte over says "too big")."""
    from driftcheck.integrations.agent_hook import MAX_STDIN_BYTES

    if handoff.stdin is not None:  # read already, on the way to a daemon
        return handoff.stdin
    if sys.stdin is None or sys.stdin.isatty():
        return b""
    return sys.stdin.buffer.read(MAX_STDIN_BYTES + 1)


def _agent_hook(agent: str, strict: bool | None, deadline_ms: int | None) -> None:
    from driftcheck.integrations.agent_hook import run

    handoff = click.get_current_context().find_object(Handoff) or Handoff()
    raw = _read_stdin(handoff)
    if not raw and sys.stdin is not None and sys.stdin.isatty():
        click.echo("driftcheck: allowing: expected hook JSON on stdin, got a terminal", err=True)
        sys.exit(0)
    answer = run(
        agent,
        raw,
        strict=strict,
        deadline_ms=deadline_ms,
        started=handoff.started,
        start_daemon=handoff.daemon_missing,
    )
    claim_exit()  # the answer goes out whole, or not at all
    for line in answer.stderr:
        click.echo(line, err=True)
    if answer.stdout:
        click.echo(answer.stdout)
    sys.exit(0)


_strict = click.option(
    "--strict/--no-strict",
    default=None,
    help="Deny instead of ask.  [default: `strict` in the configuration, else ask]",
)
_deadline = click.option(
    "--deadline-ms",
    type=click.IntRange(min=1),
    help="Give up and allow after this long.  "
    "[default: `hook-deadline-ms` in the configuration, else 1500]",
)


@hook.command("claude")
@_strict
@_deadline
def hook_claude(strict: bool | None, deadline_ms: int | None) -> None:
    """Claude Code PreToolUse (Write, Edit, MultiEdit): JSON on stdin."""
    _agent_hook("claude", strict, deadline_ms)


@hook.command("codex")
@_strict
@_deadline
def hook_codex(strict: bool | None, deadline_ms: int | None) -> None:
    """Codex PreToolUse (apply_patch): JSON on stdin."""
    _agent_hook("codex", strict, deadline_ms)


@hook.command("pre-commit")
@click.option("--warn-only", is_flag=True, help="Report, but never stop the commit.")
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning", "info", "never"]),
    help="Block the commit on a finding of this severity [default: error, or config].",
)
def hook_pre_commit(warn_only: bool, fail_on: str | None) -> None:
    """git pre-commit: judge the staged tree against every other participant."""
    from driftcheck.integrations.commit_hook import run

    verdict = run(cwd=Path.cwd(), warn_only=warn_only, fail_on=fail_on)
    if verdict.report:
        click.echo(verdict.report, err=True)
    for note in verdict.notes:
        click.echo(note, err=True)
    sys.exit(verdict.code)


@click.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--content-file",
    type=click.File("rb"),
    help="The proposed content ('-' for stdin).  [default: the file as it is on disk]",
)
@click.option("--deleted", is_flag=True, help="Judge deleting PATH.")
@repo_option("The worktree whose proposed state is judged; a relative PATH is inside it.")
@click.option(
    "--trunk",
    help="The trunk ref (e.g. origin/main); joins when not checked out.  "
    "[default: the configuration's trunk]",
)
@click.option(
    "--refs",
    "refs",
    multiple=True,
    metavar="PATTERN",
    help="Refs that take part as committed (repeatable; as for-each-ref matches).  [default: none]",
)
@report_options
@debug_option
def check(
    path: Path,
    content_file: click.utils.LazyFile | None,
    deleted: bool,
    repo: Path,
    trunk: str | None,
    refs: tuple[str, ...],
    fmt: str,
    color: str,
    output: str | None,
    fail_on: str | None,
) -> None:
    """Judge a proposed state of PATH against every other participant."""
    from driftcheck.config import load_config
    from driftcheck.coordination.overlap import judge_edit
    from driftcheck.engine.judge import open_worktree, relative_to_root

    absolute = path if path.is_absolute() else (Path.cwd() / repo / path)
    try:
        root, found = open_worktree(absolute)
        if deleted:
            content: bytes | None = None
        elif content_file is not None:
            content = content_file.read()
        elif absolute.is_file():
            content = absolute.read_bytes()
        else:
            raise UsageError(f"{path} does not exist; pass --content-file or --deleted")
        relative = relative_to_root(absolute, root)
    except OSError as exc:  # a path the system refuses: too long, unreadable, ...
        raise UsageError(f"cannot use {path}: {exc.strerror or exc}") from exc
    config = load_config(root)
    judgement = judge_edit(
        root, files={relative: content}, repo=found, config=config, trunk=trunk, refs=refs
    )
    if judgement.current is None:
        # "No findings" would be a lie: the proposed state was never compared.
        why = "; ".join(judgement.result.warnings) or "worktree not found"
        raise DriftcheckError(f"could not capture the proposed state of {root}: {why}")
    sys.exit(emit(judgement.result, fmt, output, color, fail_on))
