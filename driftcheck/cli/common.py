"""What the commands share: report options, the reporter call, the exit code it maps
to, and the progress ticker."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from driftcheck.errors import UsageError
from driftcheck.model import ExitCode, Plan, ScanResult, fails

if TYPE_CHECKING:
    from driftcheck.engine.options import ScanOptions

T = TypeVar("T")

FORMATS = ("text", "json", "markdown", "sarif", "html")
PLAN_FORMATS = ("text", "json", "markdown", "html")


FAIL_ON = ("error", "warning", "info", "never")


class Commands(click.Group):
    """A command group whose listing shows each command's summary whole: click cuts
    it to the terminal's width and ends it with '...'."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=1_000_000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)  # wraps a long summary, never cuts it


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


def repo_option(help: str = "Any folder of the repository.") -> Callable[[Any], Any]:
    """`--repo DIR`, the same on every command that takes it."""
    return click.option(
        "--repo",
        default=".",
        show_default=True,
        type=click.Path(file_okay=False, path_type=Path),
        help=help,
    )


def participant_options(trunk_help: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """--repo, --trunk, --refs, --committed-only and --no-cache: who takes part."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(
            [
                click.option(
                    "--repo",
                    default=".",
                    show_default=True,
                    type=click.Path(file_okay=False),
                    help="Any folder inside the repository.",
                ),
                click.option("--trunk", help=f"{trunk_help}  [default: the configuration's trunk]"),
                click.option(
                    "--refs",
                    "refs",
                    multiple=True,
                    metavar="PATTERN",
                    help="Refs that take part as committed (repeatable; as for-each-ref matches).  "
                    "[default: none]",
                ),
                click.option(
                    "--committed-only",
                    is_flag=True,
                    help="Use each worktree's HEAD, not its files.",
                ),
                click.option(
                    "--no-cache", is_flag=True, help="Neither read nor write driftcheck's cache."
                ),
            ]
        ):
            func = option(func)
        return func

    return decorate


def scan_options(
    repo: str,
    trunk: str | None,
    refs: tuple[str, ...],
    committed_only: bool,
    no_cache: bool,
    only: str | None = None,
) -> ScanOptions:
    """The participants' flags `scan` and `plan` share, as the engine's options."""
    from driftcheck.engine.options import ScanOptions, parse_kinds

    return ScanOptions(
        repo=repo,
        trunk=trunk,
        ref_patterns=refs,
        committed_only=committed_only,
        use_cache=not no_cache,
        only=parse_kinds(only),
    )


def with_progress(work: Callable[[Progress], T]) -> T:
    """`work` with a progress ticker that is cleared whatever happens."""
    progress = Progress()
    try:
        return work(progress)
    finally:
        progress.clear()


def use_color(choice: str, output: str | None) -> bool:
    if choice != "auto":
        return choice == "always"
    return output is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ


def emit(result: ScanResult, fmt: str, output: str | None, color: str, fail_on: str | None) -> int:
    from driftcheck.report import render

    fail_on = fail_on or result.fail_on or "error"
    colored = use_color(color, output)
    write(render(result, fmt, color=colored), output, colored)
    failing = any(fails(f.severity, fail_on) for f in result.findings)
    return ExitCode.FINDINGS if failing else ExitCode.CLEAN


def emit_plan(plan: Plan, fmt: str, output: str | None, color: str, fail_on: str | None) -> int:
    """Write the plan; exit 1 when anything must be reconciled first or a finding
    reaches `fail_on`, never with `--fail-on never`."""
    from driftcheck.report import render_plan

    fail_on = fail_on or plan.scan.fail_on or "error"
    colored = use_color(color, output)
    write(render_plan(plan, fmt, color=colored), output, colored)
    if fail_on == "never":
        return ExitCode.CLEAN
    failing = bool(plan.reconcile_first) or any(
        fails(f.severity, fail_on) for f in plan.scan.findings
    )
    return ExitCode.FINDINGS if failing else ExitCode.CLEAN


def write(text: str, output: str | None, colored: bool) -> None:
    """The report to `output`, or to stdout."""
    if output:
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write --output {output}: {exc.strerror}") from exc
    else:
        # click strips ANSI codes off a pipe unless told otherwise (--color always).
        click.echo(text, nl=not text.endswith("\n"), color=colored or None)


def report_options(func: Callable[..., Any]) -> Callable[..., Any]:
    return formats_and_output(FORMATS)(func)


def formats_and_output(
    formats: tuple[str, ...],
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """--format (one of `formats`), --output, --color and --fail-on."""
    return lambda func: _with_report_options(func, formats)


def _with_report_options(func: Callable[..., Any], formats: tuple[str, ...]) -> Callable[..., Any]:
    func = click.option(
        "--fail-on",
        type=click.Choice(FAIL_ON),
        default=None,
        help="Exit 1 when a finding reaches this severity.  "
        "[default: `fail-on` in the configuration, else error]",
    )(func)
    func = click.option(
        "--output",
        "-o",
        type=click.Path(dir_okay=False),
        help="Write here.  [default: standard output]",
    )(func)
    func = click.option(
        "--color",
        type=click.Choice(["auto", "always", "never"]),
        default="auto",
        show_default=True,
        help="Colour in text output: by the terminal and NO_COLOR, or always, or never.",
    )(func)
    func = click.option(
        "--format",
        "fmt",
        type=click.Choice(formats),
        default="text",
        show_default=True,
        help="Text for people, JSON for tools (docs/json-schema.md), and more.",
    )(func)
    return func


def debug_option(func: Callable[..., Any]) -> Callable[..., Any]:
    def remember(_ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
        if value:
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
