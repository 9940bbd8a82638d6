"""`driftcheck daemon run|start|stop|status`."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from driftcheck.errors import DriftcheckError, UsageError


@click.group()
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
    "--idle-minutes",
    type=click.FloatRange(min=0, min_open=True),
    default=30.0,
    show_default=True,
    help="Exit after this long without a request.",
)


@daemon.command("run")
@_repo_option
@_idle_option
def daemon_run(repo: Path, idle_minutes: float) -> None:
    """Serve in the foreground (hooks start this in the background by themselves)."""
    from driftcheck.daemon.client import DaemonUnavailable
    from driftcheck.daemon.server import run
    from driftcheck.integrations.agent_hook import run as run_hook

    try:
        sys.exit(run(_common_dir(repo), idle_minutes=idle_minutes, hook=run_hook))
    except DaemonUnavailable as exc:
        raise UsageError(f"no daemon: {exc}") from exc


@daemon.command("start")
@_repo_option
@_idle_option
def daemon_start(repo: Path, idle_minutes: float) -> None:
    """Start one in the background now, and wait until it answers."""
    import time

    from driftcheck.daemon import client as daemon_client

    common = _common_dir(repo)
    if not daemon_client.available():
        raise UsageError("no daemon here: it needs Linux, DRIFTCHECK_DAEMON=1 and the cache")
    try:
        os.close(daemon_client.open_runtime_dir(create=True))
    except OSError as exc:
        raise UsageError(f"no daemon: {exc}") from exc
    answer = _ask(common, "status")
    started = (
        daemon_client.start_in_background(common, idle_minutes=idle_minutes)
        if answer is None
        else None
    )
    # It answers once every worktree is watched and captured: seconds on a large tree.
    # Its process ends at once if another daemon took the name first.
    deadline = time.monotonic() + 600
    while answer is None and time.monotonic() < deadline:
        time.sleep(0.05)
        answer = _ask(common, "status", quiet=True)
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


def _ask(common: Path, op: str, *, quiet: bool = False) -> dict[str, object] | None:
    """The daemon's answer to `op` (status: what it reports), None if none answers
    or none may be asked (said on stderr unless `quiet`)."""
    import json

    from driftcheck.daemon import client as daemon_client

    try:
        answer = daemon_client.ask(str(common), {"op": op.encode()}, timeout=5)
        if answer.get("retry"):
            return None
        if "status" in answer:
            return {"running": True, **json.loads(answer["status"])}
        return {key: value.decode("utf-8", "replace") for key, value in answer.items()}
    except (daemon_client.DaemonUnavailable, daemon_client.ForeignListener) as exc:
        if not quiet:
            click.echo(f"driftcheck: warning: not asking a daemon: {exc}", err=True)
        return None
    except (OSError, ValueError):
        return None
