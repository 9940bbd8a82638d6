"""`driftcheck scan`, `demo` and `cache`."""

from __future__ import annotations

import contextlib
import dataclasses
import sys
from pathlib import Path

import click

from driftcheck.cli.common import (
    Commands,
    debug_option,
    emit,
    formats_and_output,
    participant_options,
    repo_option,
    report_options,
    scan_options,
    with_progress,
)
from driftcheck.errors import UsageError
from driftcheck.model import ScanResult


@click.command()
@participant_options("The trunk ref (e.g. origin/main); joins when not checked out.")
@click.option(
    "--only", metavar="KIND[,KIND]", help="Run only these finding kinds.  [default: every kind]"
)
@click.option(
    "--focus",
    metavar="NAME",
    multiple=True,
    help="Report only findings that involve this participant (e.g. the PR under test).  "
    "[default: every participant]",
)
@click.option(
    "--baseline",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="A previous `--format json` report: report only findings it does not have.  "
    "[default: none]",
)
@click.option(
    "--verify",
    "verify",
    multiple=True,
    metavar="CHECKER",
    help="Also run a checker (mypy, tsc, 'go vet ./...' or a command) on both sides "
    "of each pair and on git's merge; errors only the merge has are findings.  "
    "[default: the presets `verify` names in the configuration, if any]",
)
@click.option(
    "--verify-pattern",
    metavar="REGEX",
    help="How a --verify command's error lines look (groups path, line, message).  "
    "[default: `verify-pattern` in the configuration, else path:line[:col]: message]",
)
@click.option(
    "--shard",
    metavar="K/N",
    help="Analyse only shard K of N (balanced by estimated cost); "
    "combine the JSON reports with `driftcheck merge-reports`.  [default: the whole scan]",
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
    baseline: str | None,
    verify: tuple[str, ...],
    verify_pattern: str | None,
    shard: str | None,
    fmt: str,
    color: str,
    output: str | None,
    fail_on: str | None,
) -> None:
    """Compare every worktree (and selected refs) with every other one."""
    from driftcheck.engine.scan import scan as run_scan

    options = scan_options(repo, trunk, refs, committed_only, no_cache, only)
    from driftcheck.engine.shards import parse_shard

    options = dataclasses.replace(
        options, verify=verify, verify_pattern=verify_pattern, shard=parse_shard(shard)
    )
    result = with_progress(lambda progress: run_scan(options, progress=progress))
    if focus:
        result = focus_on(result, focus)
    if baseline:
        result = beyond_baseline(result, baseline)
    for warning in result.warnings:
        click.echo(f"driftcheck: warning: {warning}", err=True)
    sys.exit(emit(result, fmt, output, color, fail_on))


def beyond_baseline(result: ScanResult, baseline: str) -> ScanResult:
    """Drop the findings a previous JSON report already had, by their stable ids."""
    import json
    from pathlib import Path

    from driftcheck.report import ordered_findings
    from driftcheck.report.json_report import finding_ids

    try:
        document = json.loads(Path(baseline).read_text(encoding="utf-8"))
        known = {f["id"] for f in document["findings"] if isinstance(f.get("id"), str)}
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UsageError(
            f"--baseline {baseline}: not a driftcheck JSON report ({exc.__class__.__name__})"
        ) from exc
    findings = ordered_findings(result)
    kept = [f for f, i in zip(findings, finding_ids(findings), strict=True) if i not in known]
    stats = {**result.stats, "baseline": {"file": baseline, "known": len(findings) - len(kept)}}
    return dataclasses.replace(result, findings=kept, stats=stats)


def focus_on(result: ScanResult, names: tuple[str, ...]) -> ScanResult:
    """Keep the findings that involve one of `names`; unknown names are input errors."""
    known = {p.name for p in result.participants}
    unknown = [n for n in names if n not in known]
    if unknown:
        listed = ", ".join(sorted(known))
        raise UsageError(f"--focus names no participant: {', '.join(unknown)} (known: {listed})")
    kept = [f for f in result.findings if set(f.participants) & set(names)]
    return dataclasses.replace(result, findings=kept)


@click.command("merge-reports")
@click.argument("reports", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--focus",
    metavar="NAME",
    multiple=True,
    help="Report only findings that involve this participant.  [default: every participant]",
)
@formats_and_output(("json", "sarif", "markdown", "text", "html"))
@debug_option
def merge_reports(
    reports: tuple[str, ...],
    focus: tuple[str, ...],
    fmt: str,
    color: str,
    output: str | None,
    fail_on: str | None,
) -> None:
    """Combine the JSON reports of `scan --shard K/N` into one report."""
    from driftcheck.report.merging import merge_reports as merge

    result = merge(reports)
    if focus:
        result = focus_on(result, focus)
    sys.exit(emit(result, fmt, output, color, fail_on))


@click.command()
@click.option("--keep", is_flag=True, help="Leave the demo repository on disk to explore.")
@click.option(
    "--path",
    "target",
    type=click.Path(file_okay=False),
    help="Build the demo here.  [default: a temporary folder]",
)
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
        click.echo(
            "try next, in that folder:\n"
            f"  cd {where}\n"
            "  git worktree list                  # the agents' worktrees\n"
            "  driftcheck scan                    # the report again\n"
            "  driftcheck plan                    # what to merge, in what order\n"
            "  driftcheck scan --format html --output drift.html\n"
            "  driftcheck install claude --dry-run   # the hooks an agent would get",
            err=True,
        )
    sys.exit(code)


@click.group(cls=Commands)
def cache() -> None:
    """Inspect or clear driftcheck's cache (the only thing it writes in a repo)."""


@cache.command("info")
@repo_option()
def cache_info(repo: Path) -> None:
    """Where the cache lives, how big it is and what it holds."""
    import json

    from driftcheck.store.cache import Cache
    from driftcheck.workspace import git

    store = Cache(git.open_repo(repo).cache_dir)
    click.echo(json.dumps(store.info(), indent=2))
    store.close()


@cache.command("clear")
@repo_option()
def cache_clear(repo: Path) -> None:
    """Delete the cache; the next run rebuilds what it needs."""
    import shutil

    from driftcheck.daemon import client as daemon_client
    from driftcheck.workspace import git

    folder = git.open_repo(repo).cache_dir
    # A daemon's kept states live in the cache: it goes first.
    with contextlib.suppress(OSError, ValueError):
        daemon_client.ask(str(folder.parent), {"op": b"stop"}, timeout=5)
    shutil.rmtree(folder, ignore_errors=True)
    click.echo(f"driftcheck: removed {folder}", err=True)
