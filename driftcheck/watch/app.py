"""`driftcheck watch`: the participants matrix, the findings, one participant and
a status line, kept current by the feed (source.py) in a thread of its own.

The feed posts each snapshot as a message (thread-safe in Textual); the app only
re-renders what it holds. Reading what it shows asks nothing of git, so the view
itself never polls: only the feed decides when a scan happens.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.color import Color
from textual.containers import Horizontal
from textual.filter import Monochrome
from textual.message import Message
from textual.widgets import DataTable, Footer, Static

from driftcheck.model import Finding
from driftcheck.report import terminal_safe
from driftcheck.watch import render
from driftcheck.watch.render import Filter
from driftcheck.watch.screens import FilterScreen, FindingScreen, PlanScreen
from driftcheck.watch.snapshot import Marks, Snapshot, matrix
from driftcheck.watch.source import Feed, Status


class _SafeMonochrome(Monochrome):
    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        plain = Style.null()
        fixed = [s if s.style is not None else Segment(s.text, plain) for s in segments]
        return super().apply(fixed, background)


@dataclass
class Fed(Message):
    """A snapshot or a status from the feed's thread."""

    item: Snapshot | Status


class FindingsTable(DataTable[Text]):
    """The findings, newest first; moving onto a row is seeing it."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "open", "open", show=False)]

    def _moved(self) -> None:
        app = self.app
        if isinstance(app, WatchApp):
            app.seen_row(self.cursor_row)

    def action_cursor_up(self) -> None:
        super().action_cursor_up()
        self._moved()

    def action_cursor_down(self) -> None:
        super().action_cursor_down()
        self._moved()

    def action_open(self) -> None:
        app = self.app
        if isinstance(app, WatchApp):
            app.open_finding(self.cursor_row)

    def on_focus(self) -> None:
        self._moved()


class MatrixTable(DataTable[Text]):
    """Participants by participants: count and worst severity per pair."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "pick", "pair", show=False)]

    def action_pick(self) -> None:
        app = self.app
        if isinstance(app, WatchApp):
            app.pick_pair(self.cursor_row, self.cursor_column)


class WatchApp(App[str]):
    CSS_PATH = "watch.tcss"
    ENABLE_COMMAND_PALETTE = False  # `p` is the plan here
    TITLE = "driftcheck watch"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "quit"),
        # Textual's own Ctrl-C copies text; here it quits, as in any terminal tool.
        Binding("ctrl+c", "quit", "quit", show=False, priority=True),
        Binding("f", "filter", "filter"),
        Binding("p", "plan", "plan"),
        Binding("tab", "focus_next", "next pane", show=False),
    ]

    def __init__(
        self,
        feed: Feed | None,
        *,
        root: Path,
        trunk: str | None,
        refs: tuple[str, ...],
        first: Snapshot | None = None,
        once: bool = False,
    ) -> None:
        super().__init__()
        # NO_COLOR: Textual's monochrome filter fails on a segment without a style
        # (seen drawing a DataTable); this one passes such a segment through.
        self._filters = [_SafeMonochrome() if type(f) is Monochrome else f for f in self._filters]
        self.feed = feed
        self.root = root
        self.trunk = trunk
        self.refs = refs
        self.once = once
        self.snapshot: Snapshot | None = first
        self.marks = Marks()
        self.filter = Filter()
        self.mode = "daemon" if first is not None and first.source == "daemon" else "polling"
        self.updated: float | None = time.time() if first is not None else None
        self.problem: str | None = None
        self.rows: list[Finding] = []
        self.names: list[str] = []
        self.snapshots = 0  # applied so far (tests wait on it)
        self._stop = threading.Event()

    def compose(self) -> ComposeResult:
        where = terminal_safe(str(self.root)) + (f" · trunk {self.trunk}" if self.trunk else "")
        title = Text.assemble(("driftcheck watch", "bold"), f" · {where}", no_wrap=True)
        title.overflow = "ellipsis"
        yield Static(title, id="title")
        with Horizontal(id="top"):
            yield MatrixTable(id="matrix", cursor_type="cell", cell_padding=0, fixed_columns=1)
            yield Static(id="participant")
        yield FindingsTable(id="findings", cursor_type="row")
        yield Static(id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#matrix").border_title = "participants"
        self.query_one("#participant").border_title = "participant"
        self.query_one("#findings").border_title = "findings, newest first"
        findings = self.query_one("#findings", FindingsTable)
        for label, width in (("", 1), ("sev", 3), ("code", 5), ("pair", 5), ("message", None)):
            findings.add_column(label, width=width, key=label or "new")
        if self.snapshot is not None:
            self.apply(self.snapshot)
        self.query_one("#findings").focus()
        if self.once:  # once laid out, messages are cut to the real width: then the frame
            self.call_after_refresh(self._once_laid_out)
            return
        self.set_interval(1.0, self._tick)  # "12 s ago" and the clock move on
        if self.feed is not None:
            feed = self.feed
            threading.Thread(
                target=feed.run, args=(self.post_message_from_feed, self._stop), daemon=True
            ).start()

    def post_message_from_feed(self, item: Snapshot | Status) -> None:
        self.post_message(Fed(item))

    def on_unmount(self) -> None:
        self._stop.set()

    @on(Fed)
    def _fed(self, message: Fed) -> None:
        item = message.item
        if isinstance(item, Status):
            self.mode, self.updated, self.problem = item.mode, item.at, item.problem
            self._show_status()
        else:
            self.apply(item)

    # --- rendering -------------------------------------------------------------------

    def apply(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.updated = time.time()
        self.problem = None
        ordered = self.marks.update(snapshot.result.findings, snapshot.analysed_at)
        self._render_matrix(snapshot)
        self._render_findings(ordered)
        self._show_participant()
        self._show_status()
        self.snapshots += 1

    def _render_matrix(self, snapshot: Snapshot) -> None:
        table = self.query_one("#matrix", MatrixTable)
        keep = table.cursor_coordinate
        table.clear(columns=True)
        self.names = snapshot.names
        shown = [f for f in snapshot.result.findings if self.filter.keeps(f, with_pair=False)]
        visible = type(snapshot.result)(**{**vars(snapshot.result), "findings": shown})
        cells = matrix(visible, self.marks)
        table.add_column("", key="name")
        for number, _name in enumerate(self.names, 1):
            table.add_column(str(number), width=4, key=f"c{number}")
        for number, row in enumerate(self.names, 1):
            label = Text(f"{number:>2} {render.shorten(terminal_safe(row))} ", no_wrap=True)
            values = [
                render.cell_text(cells.get((row, column)), row == column) for column in self.names
            ]
            table.add_row(label, *values, key=row)
        if self.names:
            row = min(keep.row, len(self.names) - 1)
            column = min(max(keep.column, 1), len(self.names))  # a cell, not the label
            table.cursor_coordinate = keep._replace(row=row, column=column)

    def _render_findings(self, ordered: list[Finding]) -> None:
        table = self.query_one("#findings", FindingsTable)
        current = self.rows[table.cursor_row] if 0 <= table.cursor_row < len(self.rows) else None
        table.clear()
        assert self.snapshot is not None
        self.rows = [f for f in ordered if self.filter.keeps(f)]
        width = max(20, table.size.width - 26)  # borders and the other columns
        for index, finding in enumerate(self.rows):
            mark = Text(render.NEW_MARK if self.marks.is_new(finding) else " ", style="bold red")
            message = terminal_safe(finding.message.splitlines()[0] if finding.message else "")
            table.add_row(
                mark,
                render.severity_text(finding.severity),
                Text(finding.code),
                Text(render.pair_label(self.snapshot, finding), no_wrap=True),
                Text(message if len(message) <= width else message[: width - 1] + "…"),
                key=str(index),
            )
        table.border_title = f"findings ({len(self.rows)}, {self.filter.describe()}), newest first"
        if current is not None and current in self.rows:
            table.move_cursor(row=self.rows.index(current), animate=False)

    def _show_participant(self) -> None:
        panel = self.query_one("#participant", Static)
        if self.snapshot is None:
            panel.update(Text("waiting for the first scan…", style="dim"))
            return
        name = self._selected_name()
        panel.border_title = render.shorten(terminal_safe(name or "participant"), 24)
        panel.update(render.participant_text(self.snapshot, name))

    def _selected_name(self) -> str | None:
        findings = self.query_one("#findings", FindingsTable)
        if findings.has_focus and 0 <= findings.cursor_row < len(self.rows):
            return self.rows[findings.cursor_row].participants[0]
        table = self.query_one("#matrix", MatrixTable)
        if 0 <= table.cursor_row < len(self.names):
            return self.names[table.cursor_row]
        return self.names[0] if self.names else None

    def _show_status(self) -> None:
        text = render.status_text(self.snapshot, self.mode, self.updated, self.problem)
        self.query_one("#status", Static).update(text)

    def _tick(self) -> None:
        self._show_participant()
        self._show_status()

    def on_resize(self) -> None:
        if self.snapshot is not None:  # messages are cut to the new width
            self.call_after_refresh(self.apply, self.snapshot)

    # --- what the person does ----------------------------------------------------------

    @on(DataTable.CellHighlighted, "#matrix")
    @on(DataTable.RowHighlighted, "#findings")
    def _moved(self) -> None:
        self._show_participant()

    def seen_row(self, row: int) -> None:
        if 0 <= row < len(self.rows) and self.marks.is_new(self.rows[row]):
            self.marks.seen(self.rows[row])
            if self.snapshot is not None:
                self.apply(self.snapshot)

    def open_finding(self, row: int) -> None:
        if self.snapshot is None or not 0 <= row < len(self.rows):
            return
        finding = self.rows[row]
        self.seen_row(row)
        self.push_screen(FindingScreen(render.finding_text(self.snapshot, finding)))

    def pick_pair(self, row: int, column: int) -> None:
        """Enter on a cell: the list shows that pair's findings (`f` shows all again)."""
        if not 0 <= row < len(self.names) or not 1 <= column <= len(self.names):
            return
        pair = tuple(dict.fromkeys([self.names[row], self.names[column - 1]]))
        self.filter = Filter(self.filter.severity, self.filter.kind, pair)
        if self.snapshot is not None:
            self.apply(self.snapshot)
        self.query_one("#findings").focus()

    def action_filter(self) -> None:
        findings = self.snapshot.result.findings if self.snapshot else []

        def chosen(picked: Filter | None) -> None:
            if picked is not None:
                self.filter = picked
                if self.snapshot is not None:
                    self.apply(self.snapshot)

        self.push_screen(FilterScreen(render.filter_choices(findings)), chosen)

    def action_plan(self) -> None:
        self.push_screen(PlanScreen(self.root, self.trunk, self.refs))

    # --- --once ----------------------------------------------------------------------

    def frame_text(self) -> str:
        """The screen as plain text, one line per row (what a terminal would show)."""
        strips = self.screen._compositor.render_strips()  # Textual's own screen render
        return "\n".join(strip.text.rstrip() for strip in strips)

    def _once_laid_out(self) -> None:
        if self.snapshot is not None:
            self.apply(self.snapshot)
        # The footer lays out its keys a moment after the bindings settle (longer on a
        # busy machine): the frame is taken once they are there, or after 5 s anyway.
        until = time.monotonic() + 5.0

        def ready() -> None:
            frame = self.frame_text()
            if frame.split("\n")[-1].strip() or time.monotonic() > until:
                self.exit(frame)
            else:
                self.set_timer(0.05, ready)

        self.set_timer(0.05, ready)
