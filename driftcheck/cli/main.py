"""Command line: parse flags, call the engine, pick a reporter, map to an exit code.

All error handling funnels through `main()`: a `UsageError` is one line and exit 2,
anything unexpected is a short report and exit 3 (`--debug` shows the traceback).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from driftcheck import __version__
from driftcheck.errors import UsageError
from driftcheck.model import ExitCode, ScanResult, fails

FORMATS = ("text", "json", "markdown", "sarif")
FAIL_ON = ("error", "warning", "info", "never")


class Progress:
    """A one-line ticker on stderr, shown only on a terminal and after a moment."""

    def __init__(self, delay: float = 0.4) -> None:
        self.start = time.monotonic()
        self.delay = delay
        self.enabled = sys.stderr.isatty()
        self.shown = False

    def __call__(self, done: int, total: int, label: str) -> None:
        if not self.enabled or time.monotonic() - self.start < self.delay:
            return
        line = f"driftcheck: pair {min(done + 1, total)}/{total} {label}"[:100]
        sys.stderr.write("\r\033[K" + line)
        sys.stderr.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


def use_color(choice: str, output: str | None) -> bool:
    if choice != "auto":
        return choice == "always"
    return output is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ


def emit(result: ScanResult, fmt: str, output: str | None, color: str, fail_on: str | None) -> int:
    from driftcheck.report import render

    fail_on = fail_on or result.fail_on or "error"
    colored = use_color(color, output)
    text = render(result, fmt, color=colored)
    if output:
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write --output {output}: {exc.strerror}") from exc
    else:
        # click strips ANSI codes off a pipe unless told otherwise (--color always).
        click.echo(text, nl=not text.endswith("\n"), color=colored or None)
    failing = any(fails(f.severity, fail_on) for f in result.findings)
    return ExitCode.FINDINGS if failing else ExitCode.CLEAN


def report_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option(
        "--fail-on",
        type=click.Choice(FAIL_ON),
        default=None,
        help="Exit 1 when a finding reaches this severity [default: error, or config].",
    )(func)
    func = click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write here.")(func)
    func = click.option(
        "--color",
        type=click.Choice(["auto", "always", "never"]),
        default="auto",
        show_default=True,
    )(func)
    func = click.option(
        "--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True
    )(func)
    return func


def debug_option(func: Callable[..., Any]) -> Callable[..., Any]:
    def remember(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
        if value:
            ctx.ensure_object(dict)["debug"] = True
            os.environ["DRIFTCHECK_DEBUG"] = "1"
        return value

    return click.option(
        "--debug",
        is_flag=True,
        expose_value=False,
        callback=remember,
        is_eager=True,
        help="Show tracebacks for internal errors.",
    )(func)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="driftcheck")
@debug_option
def cli() -> None:
    """Find drift between parallel worktrees before it is written."""


@cli.command()
@click.option("--repo", default=".", show_default=True, help="Any folder inside the repository.")
@click.option("--trunk", help="The trunk ref (e.g. origin/main); joins when not checked out.")
@click.option("--refs", "refs", multiple=True, metavar="PATTERN", help="Refs to include.")
@click.option("--committed-only", is_flag=True, help="Use each worktree's HEAD, not its files.")
@click.option("--no-cache", is_flag=True, help="Neither read nor write driftcheck's cache.")
@click.option("--only", metavar="KIND[,KIND]", help="Run only these finding kinds.")
@click.option(
    "--focus",
    metavar="NAME",
    multiple=True,
    help="Report only findings that involve this participant (e.g. the PR under test).",
)
@report_options
@debug_option
def scan(
    repo: str,
    trunk: str | None,
    refs: tuple[str, ...],
    committed_only: bool,
    no_cache: bool,
    only: str | None,
    focus: tuple[str, ...],
    fmt: str,
    color: str,
    output: str | None,
    fail_on: str | None,
) -> None:
    """Compare every worktree (and selected refs) with every other one."""
    from driftcheck.engine.scan import ScanOptions, parse_kinds
    from driftcheck.engine.scan import scan as run_scan

    options = ScanOptions(
        repo=repo,
        trunk=trunk,
        ref_patterns=refs,
        committed_only=committed_only,
        use_cache=not no_cache,
        only=parse_kinds(only),
    )
    progress = Progress()
    try:
        result = run_scan(options, progress=progress)
    finally:
        progress.clear()
    if focus:
        result = focus_on(result, focus)
    for warning in result.warnings:
        click.echo(f"driftcheck: warning: {warning}", err=True)
    sys.exit(emit(result, fmt, output, color, fail_on))


def focus_on(result: ScanResult, names: tuple[str, ...]) -> ScanResult:
    """Keep the findings that involve one of `names`; unknown names are input errors."""
    known = {p.name for p in result.participants}
    unknown = [n for n in names if n not in known]
    if unknown:
        listed = ", ".join(sorted(known))
        raise UsageError(f"--focus names no participant: {', '.join(unknown)} (known: {listed})")
    kept = [f for f in result.findings if set(f.participants) & set(names)]
    return dataclasses.replace(result, findings=kept)


@cli.command()
@click.option("--keep", is_flag=True, help="Leave the demo repository on disk to explore.")
@click.option("--path", "target", type=click.Path(file_okay=False), help="Build the demo here.")
@report_options
@debug_option
def demo(
    keep: bool, target: str | None, fmt: str, color: str, output: str | None, fail_on: str | None
) -> None:
    """Build a throwaway repository full of drift, scan it and print the report."""
    from driftcheck.demo.shop import run_demo

    result, where = run_demo(keep=keep, target=target)
    code = emit(result, fmt, output, color, fail_on)
    if keep:
        click.echo(f"driftcheck: demo repository kept at {where}", err=True)
    sys.exit(code)


@cli.group()
def cache() -> None:
    """Inspect or clear driftcheck's cache (the only thing it writes in a repo)."""


@cache.command("info")
@click.option("--repo", default=".", show_default=True)
def cache_info(repo: str) -> None:
    """Where the cache lives, how big it is and what it holds."""
    import json

    from driftcheck.store.cache import Cache
    from driftcheck.workspace import git

    store = Cache(git.open_repo(repo).cache_dir)
    click.echo(json.dumps(store.info(), indent=2))
    store.close()


@cache.command("clear")
@click.option("--repo", default=".", show_default=True)
def cache_clear(repo: str) -> None:
    """Delete the cache; the next run rebuilds what it needs."""
    import shutil

    from driftcheck.daemon import client as daemon_client
    from driftcheck.workspace import git

    folder = git.open_repo(repo).cache_dir
    # A daemon's kept states live in the cache: it goes first.
    with contextlib.suppress(OSError, ValueError):
        daemon_client.ask(str(folder.parent), {"op": "stop"}, timeout=5)
    shutil.rmtree(folder, ignore_errors=True)
    click.echo(f"driftcheck: removed {folder}", err=True)


class Terminated(BaseException):
    """SIGTERM: unwind like Ctrl-C, so temp folders and git children go too."""


def _terminate(_signum: int, _frame: object) -> None:
    raise Terminated


def main(argv: list[str] | None = None) -> int:
    """Entry point with the one error handler every command shares."""
    import signal
    import threading

    args = sys.argv[1:] if argv is None else argv
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if in_main else None
    try:
        code = _run(args)
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


def _run(args: list[str]) -> int:
    debug = "--debug" in args or os.environ.get("DRIFTCHECK_DEBUG") == "1"
    try:
        import driftcheck.cli.hooks  # noqa: F401  (registers hook/check/install)

        cli.main(args=args, prog_name="driftcheck", standalone_mode=False)
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


def entry() -> None:
    sys.exit(main())
