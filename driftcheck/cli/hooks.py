"""Commands for the integrations: `hook`, `check` and `install`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from driftcheck.cli.main import cli, debug_option, emit, report_options
from driftcheck.errors import DriftcheckError, UsageError


@cli.group()
def hook() -> None:
    """Answer an agent's or git's hook (fails open on any problem)."""


def _read_stdin() -> bytes:
    """All of stdin, but never more than the hook accepts (one byte over says "too big")."""
    from driftcheck.cli import launch
    from driftcheck.integrations.agent_hook import MAX_STDIN_BYTES

    if launch.stdin_read is not None:  # read already, on the way to a daemon
        return launch.stdin_read
    if sys.stdin is None or sys.stdin.isatty():
        return b""
    return sys.stdin.buffer.read(MAX_STDIN_BYTES + 1)


def _agent_hook(agent: str, strict: bool | None, deadline_ms: int | None) -> None:
    from driftcheck.cli import launch
    from driftcheck.integrations.agent_hook import run

    raw = _read_stdin()
    if not raw and sys.stdin is not None and sys.stdin.isatty():
        click.echo("driftcheck: allowing: expected hook JSON on stdin, got a terminal", err=True)
        sys.exit(0)
    answer = run(
        agent, raw, strict=strict, deadline_ms=deadline_ms, start_daemon=launch.daemon_missing
    )
    for line in answer.stderr:
        click.echo(line, err=True)
    if answer.stdout:
        click.echo(answer.stdout)
    sys.exit(0)


_strict = click.option("--strict/--no-strict", default=None, help="Deny instead of ask.")
_deadline = click.option(
    "--deadline-ms", type=click.IntRange(min=1), help="Give up and allow after this long."
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
@click.option("--fail-on", type=click.Choice(["error", "warning", "info", "never"]))
def hook_pre_commit(warn_only: bool, fail_on: str | None) -> None:
    """git pre-commit: judge the staged tree against every other participant."""
    from driftcheck.integrations.commit_hook import run

    verdict = run(cwd=Path.cwd(), warn_only=warn_only, fail_on=fail_on)
    if verdict.report:
        click.echo(verdict.report, err=True)
    for note in verdict.notes:
        click.echo(note, err=True)
    sys.exit(verdict.code)


@cli.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--content-file",
    type=click.File("rb"),
    help="The proposed content ('-' for stdin); default: the file as it is on disk.",
)
@click.option("--deleted", is_flag=True, help="Judge deleting PATH.")
@report_options
@debug_option
def check(
    path: Path,
    content_file: click.utils.LazyFile | None,
    deleted: bool,
    fmt: str,
    color: str,
    output: str | None,
    fail_on: str | None,
) -> None:
    """Judge a proposed state of PATH against every other participant."""
    from driftcheck.engine.judge import judge, open_worktree, relative_to_root

    absolute = path if path.is_absolute() else Path.cwd() / path
    try:
        root, repo = open_worktree(absolute)
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
    judgement = judge(root, files={relative: content}, repo=repo)
    if judgement.current is None:
        # "No findings" would be a lie: the proposed state was never compared.
        why = "; ".join(judgement.result.warnings) or "worktree not found"
        raise DriftcheckError(f"could not capture the proposed state of {root}: {why}")
    sys.exit(emit(judgement.result, fmt, output, color, fail_on))


@cli.group()
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
@click.option("--repo", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Show the diff, write nothing.")
def install_claude(repo: Path, dry_run: bool) -> None:
    """Add the PreToolUse hook to .claude/settings.json (idempotent)."""
    from driftcheck.engine.judge import worktree_root
    from driftcheck.integrations.install import plan_claude

    _apply([plan_claude(worktree_root(repo.resolve()))], dry_run)


@install.command("pre-commit")
@click.option("--repo", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Show the diff, write nothing.")
@click.option("--force", is_flag=True, help="Replace a pre-commit hook that is not ours.")
@click.option("--chain", is_flag=True, help="Keep an existing hook and run it first.")
def install_pre_commit(repo: Path, dry_run: bool, force: bool, chain: bool) -> None:
    """Write a thin pre-commit shim into the hooks folder all worktrees share."""
    from driftcheck.engine.judge import worktree_root
    from driftcheck.integrations.install import plan_pre_commit

    _apply(plan_pre_commit(worktree_root(repo.resolve()), force=force, chain=chain), dry_run)


@cli.group()
def daemon() -> None:
    """The background judge that answers agent hooks quickly (Linux)."""


_repo_option = click.option(
    "--repo",
    default=".",
    type=click.Path(file_okay=False, path_type=Path),
    help="Any folder of the repository.",
)


def _common_dir(repo: Path) -> Path:
    from driftcheck.workspace import git

    return git.open_repo(repo).common_dir


_idle_option = click.option(
    "--idle-minutes", type=click.FloatRange(min=0, min_open=True), default=30.0
)


@daemon.command("run")
@_repo_option
@_idle_option
def daemon_run(repo: Path, idle_minutes: float) -> None:
    """Serve in the foreground (hooks start this in the background by themselves)."""
    from driftcheck.daemon.server import run

    sys.exit(run(_common_dir(repo), idle_minutes=idle_minutes))


@daemon.command("start")
@_repo_option
@_idle_option
def daemon_start(repo: Path, idle_minutes: float) -> None:
    """Start one in the background now, and wait until it answers."""
    import time

    from driftcheck.daemon import client as daemon_client
    from driftcheck.daemon.server import start_in_background

    common = _common_dir(repo)
    if not daemon_client.available():
        raise UsageError("no daemon here: it needs Linux, DRIFTCHECK_DAEMON=1 and the cache")
    answer = _ask(common, "status")
    started = start_in_background(common, idle_minutes=idle_minutes) if answer is None else None
    # It answers once every worktree is watched and captured: seconds on a large tree.
    # Its process ends at once if another daemon took the name first.
    deadline = time.monotonic() + 600
    while answer is None and time.monotonic() < deadline:
        time.sleep(0.05)
        answer = _ask(common, "status")
        if answer is None and started is not None and started.poll() is not None:
            started = None
            deadline = min(deadline, time.monotonic() + 60)  # the other one is warming up
    if answer is None:
        log = common / "driftcheck" / "daemon.log"
        raise DriftcheckError(f"the daemon did not start; see {log}")
    click.echo(f"driftcheck daemon {answer.get('pid')} serves {common}")


@daemon.command("stop")
@_repo_option
def daemon_stop(repo: Path) -> None:
    """Stop this repository's daemon, if one runs."""
    common = _common_dir(repo)
    answer = _ask(common, "stop")
    click.echo(f"stopped daemon {answer['stopped']}" if answer else "no daemon runs here")


@daemon.command("status")
@_repo_option
def daemon_status(repo: Path) -> None:
    """Whether a daemon serves this repository, and what it keeps (JSON)."""
    import json

    answer = _ask(_common_dir(repo), "status")
    click.echo(json.dumps(answer or {"running": False}, indent=2))
    sys.exit(0 if answer else 1)


def _ask(common: Path, op: str) -> dict[str, object] | None:
    """The daemon's answer to `op` (status: what it reports), None if none answers."""
    import json

    from driftcheck.daemon import client as daemon_client

    try:
        answer = daemon_client.ask(str(common), {"op": op.encode()}, timeout=5)
        if answer.get("retry"):
            return None
        if "status" in answer:
            return {"running": True, **json.loads(answer["status"])}
        return {key: value.decode("utf-8", "replace") for key, value in answer.items()}
    except (OSError, ValueError):
        return None
