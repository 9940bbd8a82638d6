"""`driftcheck daemon run|start|stop|status|list`."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from driftcheck.cli.common import Commands
from driftcheck.errors import DriftcheckError, UsageError

if TYPE_CHECKING:
    from driftcheck.daemon.registry import Daemon as Listed


@click.group(cls=Commands)
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
@click.option(
    "--all",
    "every",
    is_flag=True,
    help="Stop every daemon of yours (all repositories and installations); --repo is then ignored.",
)
def daemon_stop(repo: Path, every: bool) -> None:
    """Stop this repository's daemon, if one runs (--all: every one of yours)."""
    if every:
        _stop_all()
        return
    common = _common_dir(repo)
    answer = _ask(common, "stop")
    click.echo(f"stopped daemon {answer['stopped']}" if answer else "no daemon runs here")


def _stop_all() -> None:
    from driftcheck.daemon import registry

    failed = stopped = 0
    for found in _listed():
        if found.state not in ("running", "starting") or found.pid is None:
            continue
        where = found.repository or found.socket
        if registry.stop(found):
            stopped += 1
            click.echo(f"stopped daemon {found.pid} ({where})")
        else:
            failed += 1
            click.echo(f"driftcheck: warning: daemon {found.pid} ({where}) did not stop", err=True)
    if not stopped and not failed:
        click.echo("no daemon runs")
    if failed:
        sys.exit(1)


@daemon.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON document instead of a table.")
def daemon_list(as_json: bool) -> None:
    """Every daemon of yours: its repository, age and memory (dead ones' files are removed)."""
    import json

    from driftcheck.daemon import client as daemon_client

    listed = _listed()
    if as_json:
        document = {
            "runtime_dir": daemon_client.runtime_dir(),
            "daemons": [d.to_json() for d in listed],
        }
        click.echo(json.dumps(document, indent=2))
        return
    alive = [d for d in listed if d.state != "stale"]
    if not alive:
        click.echo(f"no daemon runs (runtime folder {daemon_client.runtime_dir()})")
    else:
        rows = [("PID", "STATE", "AGE", "MEMORY", "REPOSITORY")]
        for d in alive:
            rows.append((_or_dash(d.pid), d.state, _age(d.age_s), _size(d.memory_bytes), _where(d)))
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        for row in rows:
            cells = [c.ljust(w) for c, w in zip(row, widths, strict=False)]
            click.echo("  ".join([*cells, row[4]]))
    stale = [d for d in listed if d.state == "stale"]
    if stale:
        what = "removed" if all(d.removed for d in stale) else "found"
        click.echo(f"{what} the files of {len(stale)} daemon(s) that died without cleaning up")


def _listed() -> list[Listed]:
    from driftcheck.daemon import client as daemon_client
    from driftcheck.daemon import registry

    try:
        return registry.list_daemons()
    except daemon_client.DaemonUnavailable as exc:
        raise UsageError(f"no daemons to list: {exc}") from exc


def _where(found: Listed) -> str:
    from driftcheck.daemon import client as daemon_client

    if found.state == "foreign":
        return f"(the listener runs as uid {found.uid}, not as you: not described)"
    shown = found.repository or "(repository unknown)"
    if found.package and found.package != daemon_client.package_dir():
        shown += f"  [driftcheck {found.version or '?'} in {found.package}]"
    elif found.package is None and found.python and found.python != sys.executable:
        shown += f"  [an older driftcheck, run by {found.python}]"
    elif found.version and found.version != daemon_client.__version__:
        shown += f"  [driftcheck {found.version}]"
    return shown


def _or_dash(value: object) -> str:
    return "-" if value is None else str(value)


def _age(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def _size(count: int | None) -> str:
    return "-" if count is None else f"{count / (1 << 20):.1f} MiB"


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
