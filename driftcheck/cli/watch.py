"""`driftcheck watch`: the live view (Textual), or one frame of it with --once."""

from __future__ import annotations

import shutil
from pathlib import Path

import click

from driftcheck.cli.common import debug_option
from driftcheck.errors import UsageError

# --once without a terminal: the plain terminal every tool must fit.
_DEFAULT_SIZE = (80, 24)


@click.command()
@click.option("--repo", default=".", show_default=True, help="Any folder inside the repository.")
@click.option(
    "--trunk",
    help="The trunk; it takes part when no worktree has it checked out.  "
    "[default: the configuration's trunk]",
)
@click.option(
    "--refs",
    "refs",
    multiple=True,
    metavar="PATTERN",
    help="Refs to include (repeatable).  [default: none]",
)
@click.option("--once", is_flag=True, help="Print one frame as text and exit.")
@click.option(
    "--size",
    metavar="COLSxROWS",
    help="The frame's size with --once.  [default: the terminal's, else 80x24]",
)
@debug_option
def watch(
    repo: str, trunk: str | None, refs: tuple[str, ...], once: bool, size: str | None
) -> None:
    """A live view of the drift: matrix, findings, participants (q quits)."""
    from driftcheck.config import load_config
    from driftcheck.engine.judge import open_worktree
    from driftcheck.workspace import git

    columns, rows = _size(size) if size else shutil.get_terminal_size(_DEFAULT_SIZE)
    if not Path(repo).is_dir():
        raise UsageError(f"--repo {repo} is not a folder")
    root, info = open_worktree(Path(repo).resolve())
    config = load_config(root)
    trunk = trunk or config.trunk
    if trunk and git.resolve_commit(trunk, cwd=info.common_dir) is None:
        raise UsageError(f"unknown ref for --trunk: {trunk}")  # before the screen is taken

    from driftcheck.watch.app import WatchApp
    from driftcheck.watch.source import Feed

    feed = Feed(root, info, config, trunk=trunk, refs=refs)
    if once:
        app = WatchApp(None, root=root, trunk=trunk, refs=refs, first=feed.once(), once=True)
        frame = app.run(headless=True, size=(columns, rows))
        click.echo(frame or "")
        return
    WatchApp(feed, root=root, trunk=trunk, refs=refs).run()


def _size(value: str) -> tuple[int, int]:
    columns, _, rows = value.lower().partition("x")
    if not (columns.isdigit() and rows.isdigit()) or int(columns) < 40 or int(rows) < 12:
        raise UsageError(f"--size {value}: expected COLSxROWS, at least 40x12 (say 80x24)")
    return int(columns), int(rows)
