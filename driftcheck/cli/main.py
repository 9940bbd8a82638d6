"""The `driftcheck` command group and the one error handler every command shares.

Commands parse flags, call inward, pick a reporter and map the result to an exit
code; each family lives in its own module here. All error handling funnels through
`main()`: a `UsageError` is one line and exit 2, anything unexpected is a short
report and exit 3 (`--debug` shows the traceback).
"""

from __future__ import annotations

import os
import sys
import traceback

import click

from driftcheck import __version__
from driftcheck.cli import claims, coordinate, daemon, hooks, install, plan, scan, watch
from driftcheck.cli.common import Commands, debug_option
from driftcheck.cli.handoff import Handoff
from driftcheck.errors import UsageError
from driftcheck.model import ExitCode


@click.group(
    cls=Commands,
    # Every option's default is shown in --help (a flag's off is not spelled out).
    context_settings={"help_option_names": ["-h", "--help"], "show_default": True},
)
@click.version_option(__version__, prog_name="driftcheck")
@debug_option
def cli() -> None:
    """Find drift between parallel worktrees before it is written."""


for command in (
    scan.scan,
    scan.merge_reports,
    plan.plan,
    watch.watch,
    scan.demo,
    scan.cache,
    hooks.hook,
    hooks.check,
    install.install,
    daemon.daemon,
    claims.claim,
    claims.claims,
    claims.release,
    coordinate.mcp,
    coordinate.context,
):
    cli.add_command(command)


class Terminated(BaseException):
    """SIGTERM: unwind like Ctrl-C, so temp folders and git children go too."""


def _terminate(_signum: int, _frame: object) -> None:
    raise Terminated


def main(argv: list[str] | None = None, handoff: Handoff | None = None) -> int:
    """Entry point with the one error handler every command shares; `handoff` is
    what the fast path learnt before it passed a hook on."""
    import signal
    import threading

    from driftcheck.deadline import sweep_stale_tempdirs

    args = sys.argv[1:] if argv is None else argv
    # What a driftcheck killed with SIGKILL left behind: nothing else removes it.
    sweep_stale_tempdirs()
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if in_main else None
    try:
        code = _run(args, handoff or Handoff())
    finally:
        if in_main and previous is not None:
            signal.signal(signal.SIGTERM, previous)
    # Hooks fail open: an agent hook never blocks by exit code (Claude Code reads
    # exit 2 as "block"), and the commit hook blocks only with a verdict (exit 1).
    if args[:1] == ["hook"]:
        allowed = (ExitCode.CLEAN, ExitCode.FINDINGS) if args[1:2] == ["pre-commit"] else ()
        if code not in allowed:
            return ExitCode.CLEAN
    return code


def _run(args: list[str], handoff: Handoff) -> int:
    debug = "--debug" in args or os.environ.get("DRIFTCHECK_DEBUG") == "1"
    try:
        cli.main(args=args, prog_name="driftcheck", standalone_mode=False, obj=handoff)
    except SystemExit as exc:
        return int(exc.code or 0) if not isinstance(exc.code, str) else ExitCode.USAGE_OR_INPUT
    except click.exceptions.Abort:
        click.echo("driftcheck: interrupted", err=True)
        return 130
    except click.ClickException as exc:
        # Usage mistakes (bad flag, bad choice) are input errors by contract.
        click.echo(f"driftcheck: error: {exc.format_message()}", err=True)
        return ExitCode.USAGE_OR_INPUT
    except UsageError as exc:
        click.echo(f"driftcheck: error: {exc}", err=True)
        return ExitCode.USAGE_OR_INPUT
    except KeyboardInterrupt:
        click.echo("driftcheck: interrupted", err=True)
        return 130
    except Terminated:
        click.echo("driftcheck: terminated", err=True)
        return 143
    except Exception as exc:  # GitError and friends too: unexpected here
        if debug:
            traceback.print_exc()
        click.echo(
            f"driftcheck: internal error: {type(exc).__name__}: {exc}"
            + ("" if debug else " (run with --debug for the traceback)"),
            err=True,
        )
        return ExitCode.INTERNAL
    return ExitCode.CLEAN


def entry(handoff: Handoff | None = None) -> None:
    sys.exit(main(handoff=handoff))
