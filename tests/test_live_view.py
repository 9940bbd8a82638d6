"""`driftcheck watch`, driven by Textual's own pilot: real repositories, real writes
into worktrees, a real daemon; asserting on the widgets' state, not on pixels."""

from __future__ import annotations

import asyncio
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from helpers import run_cli, snapshot_repo
from rich.segment import Segment
from test_hook_claude import STALE_REPORT, Shop, build_shop
from textual.color import Color
from textual.filter import Monochrome
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from driftcheck.config import load_config
from driftcheck.watch.app import WatchApp
from driftcheck.watch.render import participant_text
from driftcheck.watch.screens import FilterScreen, FindingScreen, PlanScreen
from driftcheck.watch.source import Feed
from driftcheck.workspace import git as dgit

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux inotify")
ON = {"DRIFTCHECK_DAEMON": "1"}


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Shop]:
    built = build_shop(tmp_path / "shop")
    yield built
    run_cli("daemon", "stop", "--repo", str(built.repo), cwd=built.repo, env=ON)


def make_app(shop: Shop, *, daemon: bool) -> WatchApp:
    repo = dgit.open_repo(shop.repo)
    feed = Feed(shop.repo, repo, load_config(shop.repo), trunk=None, refs=(), use_daemon=daemon)
    return WatchApp(feed, root=shop.repo, trunk=None, refs=())


async def until(pilot: Pilot[str], check: Callable[[], object], seconds: float = 60) -> float:
    """Seconds until `check()` holds, the app running meanwhile."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > seconds:
            raise AssertionError(f"not within {seconds} s")
        await pilot.pause(0.02)
    return time.monotonic() - started


def kinds(app: WatchApp) -> list[str]:
    return [f.kind for f in app.rows]


def cell(app: WatchApp, row: str, column: str) -> str:
    table = app.query_one("#matrix", DataTable)
    return str(table.get_cell(row, f"c{app.names.index(column) + 1}"))


def text_of(app: WatchApp, selector: str) -> str:
    return str(app.query_one(selector, Static).render())


def test_keys_move_open_filter_plan_and_quit(shop: Shop) -> None:
    (shop.agent / "orders" / "report.py").write_text(STALE_REPORT)
    before = snapshot_repo(shop.repo)

    async def drive() -> None:
        app = make_app(shop, daemon=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: app.snapshots >= 1)
            assert app.names[0] == "main" and {"agent", "feat/pricing"} <= set(app.names)
            assert "stale-caller" in kinds(app)
            # The stale call is an error between the agent and feat/pricing, both ways.
            assert cell(app, "agent", "feat/pricing").endswith("E")
            assert cell(app, "feat/pricing", "agent") == cell(app, "agent", "feat/pricing")
            assert cell(app, "main", "main") == "—"
            assert "polling" in text_of(app, "#status")
            assert "1 finding ·" in text_of(app, "#status")
            # Nothing is new in the first frame: it is where the person starts from.
            assert not app.marks.unseen

            # Down and up move the list; the panel follows the highlighted finding.
            await pilot.press("down", "up")
            first = app.rows[app.query_one("#findings", DataTable).cursor_row]
            assert first.participants[0] in text_of(app, "#participant")
            await pilot.press("enter")
            assert isinstance(app.screen, FindingScreen)
            shown = str(app.screen.query_one("#finding", Static).render())
            assert first.code in shown and "What to do" in shown
            await pilot.press("escape")
            assert not isinstance(app.screen, FindingScreen)

            # f: a filter by severity or kind.
            await pilot.press("f")
            assert isinstance(app.screen, FilterScreen)
            labels = [label for label, _ in app.screen.choices]
            await pilot.press(*["down"] * labels.index("errors only"), "enter")
            assert kinds(app) and all(f.severity == "error" for f in app.rows)
            await pilot.press("f")
            labels = [label for label, _ in app.screen.choices]
            await pilot.press(*["down"] * labels.index("kind: duplicate"), "enter")
            assert kinds(app) == []
            assert "duplicate" in str(app.query_one("#findings").border_title)
            await pilot.press("f", "enter")  # "everything" again
            assert "stale-caller" in kinds(app)

            # Enter on a matrix cell shows that pair's findings.
            matrix = app.query_one("#matrix", DataTable)
            matrix.focus()
            matrix.cursor_coordinate = matrix.cursor_coordinate._replace(
                row=app.names.index("agent"), column=app.names.index("feat/pricing") + 1
            )
            await pilot.press("enter")
            assert app.rows and all(
                {"agent", "feat/pricing"} <= set(f.participants) for f in app.rows
            )
            assert "agent" in text_of(app, "#participant")

            # p: the plan's order, from `driftcheck plan`.
            await pilot.press("p")
            plan = app.screen
            assert isinstance(plan, PlanScreen)
            await until(pilot, plan.done.is_set)
            words = str(plan.query_one("#plan", Static).render())
            assert "driftcheck plan" in words and "Order" in words
            await pilot.press("escape", "q")
        assert app.return_code == 0

    asyncio.run(drive())
    assert snapshot_repo(shop.repo) == before


def test_a_resize_keeps_every_pane(shop: Shop) -> None:
    async def drive() -> None:
        app = make_app(shop, daemon=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: app.snapshots >= 1)
            await pilot.resize_terminal(120, 40)
            await pilot.pause(0.2)
            assert app.size == (120, 40)
            await pilot.resize_terminal(60, 16)
            await pilot.pause(0.2)
            assert app.query_one("#status").region.bottom <= 16
            assert "finding" in text_of(app, "#status")
            await pilot.press("q")

    asyncio.run(drive())


@linux_only
def test_a_write_into_a_worktree_shows_through_the_daemon(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DRIFTCHECK_DAEMON", "1")
    started = run_cli("daemon", "start", "--repo", str(shop.repo), cwd=shop.repo, env=ON)
    assert started.code == 0, started.stderr
    before = snapshot_repo(shop.repo)

    async def drive() -> None:
        app = make_app(shop, daemon=True)
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: app.snapshots >= 1 and app.mode == "daemon")
            assert "stale-caller" not in kinds(app)
            assert "● daemon" in text_of(app, "#status")
            seen = app.snapshots
            (shop.agent / "orders" / "report.py").write_text(STALE_REPORT)
            took = await until(pilot, lambda: "stale-caller" in kinds(app), seconds=30)
            assert app.snapshots > seen
            new = [f for f in app.rows if app.marks.is_new(f)]
            assert [f.kind for f in new] == ["stale-caller"]
            assert app.rows[0].kind == "stale-caller", "newest first"
            assert cell(app, "agent", "feat/pricing").endswith("E*"), "marked until seen"
            assert app.snapshot is not None and app.snapshot.changed_at.get("agent")
            assert "s ago" in str(participant_text(app.snapshot, "agent"))
            # Highlighting it in the list is seeing it: the marks go.
            app.query_one("#findings").focus()
            await pilot.press("down", "up")
            await until(pilot, lambda: not app.marks.unseen)
            assert not cell(app, "agent", "feat/pricing").endswith("*")
            print(f"write to view: {took * 1000:.0f} ms")

            # A worktree removed while watching: it leaves the matrix, with a warning.
            shutil.rmtree(shop.pricing)
            await until(pilot, lambda: "feat/pricing" not in app.names, seconds=30)
            assert "stale-caller" not in kinds(app)
            assert "pricing" in text_of(app, "#status")

            # The daemon restarting: the view scans alone meanwhile, then uses the new one.
            stopped = run_cli("daemon", "stop", "--repo", str(shop.repo), cwd=shop.repo, env=ON)
            assert stopped.code == 0
            await until(pilot, lambda: app.mode != "daemon", seconds=30)
            await until(pilot, lambda: app.mode == "daemon", seconds=60)
            (shop.agent / "orders" / "report.py").write_text(STALE_REPORT + "\n# more\n")
            count = app.snapshots
            await until(pilot, lambda: app.snapshots > count and app.mode == "daemon")
            await pilot.press("ctrl+c")
        assert app.return_code == 0

    asyncio.run(drive())
    after = snapshot_repo(shop.repo)  # the test wrote into the agent, and removed pricing
    assert after["<git>"] == before["<git>"]
    assert after[str(shop.repo)] == before[str(shop.repo)]


def test_without_a_daemon_a_write_shows_at_the_next_poll(shop: Shop) -> None:
    async def drive() -> None:
        app = make_app(shop, daemon=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: app.snapshots >= 1)
            (shop.agent / "orders" / "report.py").write_text(STALE_REPORT)
            await until(pilot, lambda: "stale-caller" in kinds(app), seconds=30)
            assert app.marks.is_new(app.rows[0])
            await pilot.press("q")

    asyncio.run(drive())


def test_once_prints_one_frame(shop: Shop) -> None:
    (shop.agent / "orders" / "report.py").write_text(STALE_REPORT)
    before = snapshot_repo(shop.repo)
    result = run_cli("watch", "--once", "--size", "80x24", cwd=shop.agent)
    assert result.code == 0, result.stderr
    lines = result.stdout.removesuffix("\n").split("\n")
    assert len(lines) == 24 and max(len(line) for line in lines) <= 80
    frame = result.stdout
    assert "participants" in frame and "findings" in frame
    assert "DC204" in frame and "polling" in frame
    assert "1 main" in frame and "feat/pricing" in frame
    assert "q quit" in lines[-1]
    assert snapshot_repo(shop.repo) == before


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--trunk", "no-such-ref"], "unknown ref for --trunk: no-such-ref"),
        (["--size", "10x2"], "--size 10x2"),
        (["--repo", "/no/such/folder"], "is not a folder"),
    ],
)
def test_bad_input_is_one_line(shop: Shop, args: list[str], words: str) -> None:
    result = run_cli("watch", "--once", *args, cwd=shop.repo)
    assert result.code == 2
    assert words in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_outside_a_repository_is_one_line(tmp_path: Path) -> None:
    result = run_cli("watch", "--once", cwd=tmp_path)
    assert result.code == 2
    assert result.stderr.startswith("driftcheck: error:")
    assert len(result.stderr.strip().splitlines()) == 1


def test_no_color_never_breaks_the_drawing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Textual's monochrome filter (NO_COLOR) fails on a segment without a style,
    which a DataTable draws now and then; the view's own filter passes it through."""
    monkeypatch.setenv("NO_COLOR", "1")
    app = WatchApp(None, root=Path("."), trunk=None, refs=())
    filters = [f for f in app._filters if isinstance(f, Monochrome)]
    assert filters and all(type(f) is not Monochrome for f in filters)
    drawn = filters[0].apply([Segment("x", None)], Color(0, 0, 0))
    assert [s.text for s in drawn] == ["x"]
    with pytest.raises(AttributeError):
        Monochrome().apply([Segment("x", None)], Color(0, 0, 0))
