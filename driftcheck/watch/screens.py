"""The live view's other screens: one finding in full, the filter, the plan."""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.css.query import NoMatches
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, OptionList, Static

from driftcheck.watch.render import Filter


class FindingScreen(Screen[None]):
    """Both sides' code, each side's change of the symbol, and what to do."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "back"),
        Binding("q", "app.pop_screen", "back", show=False),
        Binding("enter", "app.pop_screen", "back", show=False),
    ]

    def __init__(self, text: Text) -> None:
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="finding-scroll"):
            yield Static(self.text, id="finding")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#finding-scroll").focus()


class FilterScreen(ModalScreen[Filter | None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "cancel")]

    def __init__(self, choices: list[tuple[str, Filter]]) -> None:
        super().__init__()
        self.choices = choices

    def compose(self) -> ComposeResult:
        options = OptionList(*(label for label, _ in self.choices), id="filters")
        options.border_title = "show"
        yield options

    def on_mount(self) -> None:
        self.query_one("#filters").focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.choices[event.option_index][1])

    def action_cancel(self) -> None:
        self.dismiss(None)


class PlanScreen(Screen[None]):
    """`driftcheck plan`'s order, computed when asked (it is a scan and more)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "back"),
        Binding("q", "app.pop_screen", "back", show=False),
        Binding("p", "app.pop_screen", "back", show=False),
    ]

    def __init__(self, root: Path, trunk: str | None, refs: tuple[str, ...]) -> None:
        super().__init__()
        self.root, self.trunk, self.refs = root, trunk, refs
        self.done = threading.Event()  # tests wait on it

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="plan-scroll"):
            yield Static(Text("planning the merges…", style="dim"), id="plan")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#plan-scroll").focus()
        threading.Thread(target=self._plan, daemon=True).start()

    def _plan(self) -> None:
        from driftcheck.engine.options import ScanOptions
        from driftcheck.errors import UsageError
        from driftcheck.plan.build import plan
        from driftcheck.report import render_plan

        options = ScanOptions(repo=str(self.root), trunk=self.trunk, ref_patterns=self.refs)
        try:
            text = Text(render_plan(plan(options), "text", color=False))
        except UsageError as exc:
            text = Text(f"no plan: {exc}", style="bold red")
        except Exception as exc:  # shown, never a crash of the view
            text = Text(f"planning failed: {exc!r}", style="bold red")
        with contextlib.suppress(RuntimeError):  # the app has gone meanwhile
            self.app.call_from_thread(self._show, text)

    def _show(self, text: Text) -> None:
        with contextlib.suppress(NoMatches):  # the person left this screen meanwhile
            self.query_one("#plan", Static).update(text)
        self.done.set()
