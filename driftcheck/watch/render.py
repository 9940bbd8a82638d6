"""The words and colours of the live view, as plain functions of a snapshot.

The widgets (app.py, screens.py) only place what these return, so the same cell,
row or panel reads the same in the full-screen view and in `--once`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from rich.text import Text

from driftcheck.model import KINDS, Finding, Severity
from driftcheck.plan.decisions import decision
from driftcheck.report import CODE_TITLES, involved, terminal_safe
from driftcheck.report.text import finding_lines
from driftcheck.watch.snapshot import Cell, Snapshot

SEVERITY_STYLE = {
    Severity.ERROR: "bold white on red",
    Severity.WARNING: "bold black on yellow",
    Severity.INFO: "black on cyan",
}
LETTER = {Severity.ERROR: "E", Severity.WARNING: "W", Severity.INFO: "I"}
NEW_MARK = "●"
_NAME_WIDTH = 12


@dataclass(frozen=True)
class Filter:
    """What the list and the matrix show: a minimum severity, one kind, one pair."""

    severity: Severity | None = None
    kind: str | None = None
    pair: tuple[str, ...] | None = None

    def keeps(self, finding: Finding, *, with_pair: bool = True) -> bool:
        if self.severity is not None and finding.severity.rank < self.severity.rank:
            return False
        if self.kind is not None and finding.kind != self.kind:
            return False
        return not (with_pair and self.pair and set(self.pair) - set(finding.participants))

    def describe(self) -> str:
        words = []
        if self.severity is not None:
            words.append(f"{self.severity.value}+" if self.severity != Severity.ERROR else "errors")
        if self.kind:
            words.append(self.kind)
        if self.pair:
            words.append(" ↔ ".join(self.pair))
        return ", ".join(words) or "all"


def filter_choices(findings: list[Finding]) -> list[tuple[str, Filter]]:
    """What `f` offers: everything, by severity, then by kind (those present first)."""
    present = [k for k in dict.fromkeys(f.kind for f in findings)]
    kinds = present + [k for k in KINDS if k not in present]
    return [
        ("everything", Filter()),
        ("errors only", Filter(severity=Severity.ERROR)),
        ("warnings and errors", Filter(severity=Severity.WARNING)),
        *((f"kind: {kind}", Filter(kind=kind)) for kind in kinds),
    ]


def shorten(name: str, width: int = _NAME_WIDTH) -> str:
    """Cut the middle: branch names differ at both ends (agent prefix, topic suffix)."""
    if len(name) <= width:
        return name
    keep = width - 1
    return name[: (keep + 1) // 2] + "…" + name[len(name) - keep // 2 :]


def cell_text(cell: Cell | None, diagonal: bool) -> Text:
    if cell is None or cell.worst is None:
        return Text("—" if diagonal else "·", style="dim", justify="center")
    label = f"{cell.count}{LETTER[cell.worst]}" + ("*" if cell.new else "")
    style = SEVERITY_STYLE[cell.worst] + (" reverse" if cell.new else "")
    return Text(label, style=style, justify="center")


def pair_label(snapshot: Snapshot, finding: Finding) -> str:
    """'2↔6': the matrix's numbers (its rows name them); the message names them too."""
    number = {name: str(n) for n, name in enumerate(snapshot.names, 1)}
    return "↔".join(number.get(n, "?") for n in involved(snapshot.result, finding))


def severity_text(severity: Severity) -> Text:
    return Text(f" {LETTER[severity]} ", style=SEVERITY_STYLE[severity])


def ago(at: float | None, now: float | None = None) -> str:
    if not at:
        return "not seen yet"
    seconds = max(0, int((time.time() if now is None else now) - at))
    if seconds < 60:
        return f"{seconds} s ago"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min ago"


def participant_text(snapshot: Snapshot, name: str | None, now: float | None = None) -> Text:
    found = snapshot.participant(name) if name else None
    if found is None:
        return Text("no participant", style="dim")
    text = Text()
    text.append(terminal_safe(found.name) + "\n", style="bold")
    if found.kind == "ref":
        text.append(f"ref     {shorten(terminal_safe(found.ref or found.name), 17)}\n")
    else:
        where = found.branch or ("detached HEAD" if found.detached else "—")
        text.append(f"branch  {shorten(terminal_safe(where), 17)}\n")
        text.append("state   ")
        text.append("dirty" if found.dirty else "clean", style="yellow" if found.dirty else "green")
        text.append("\n")
    files = snapshot.result.changed_paths.get(found.name, 0)
    text.append(f"files   {files} changed\n")
    if found.kind == "worktree":
        text.append(f"last    {ago(snapshot.changed_at.get(found.name), now)}\n")
    claims = snapshot.claims.get(found.name, [])
    text.append(f"claims  {len(claims) or 'none'}\n")
    for line in claims[:3]:
        text.append(f"  {terminal_safe(line)}\n", style="dim")
    return text


def status_text(
    snapshot: Snapshot | None, mode: str, updated: float | None, problem: str | None
) -> Text:
    """'● daemon · 3 findings · updated 14:02:11 · analysed 14:02:10, 312 ms'."""
    text = Text()
    marks = {"daemon": ("● daemon", "green"), "starting": ("◐ daemon starting", "yellow")}
    word, style = marks.get(mode, (f"○ polling {_poll_words()}", "yellow"))
    text.append(word, style=style)
    if snapshot is not None:
        count = len(snapshot.result.findings)
        text.append(f" · {count} finding{'s' if count != 1 else ''}")
    if updated:
        text.append(f" · updated {time.strftime('%H:%M:%S', time.localtime(updated))}")
    if snapshot is not None:
        stamp = time.strftime("%H:%M:%S", time.localtime(snapshot.analysed_at))
        elapsed = snapshot.result.stats.get("elapsed_ms")
        text.append(f" · analysed {stamp}" + (f", {elapsed} ms" if elapsed is not None else ""))
    if problem:
        text.append(f" · {problem}", style="bold red")
    elif snapshot is not None and snapshot.result.warnings:
        text.append(f" · {snapshot.result.warnings[-1]}", style="yellow")
    return text


def _poll_words() -> str:
    from driftcheck.watch.source import POLL_S

    return f"{POLL_S:g} s"


def finding_text(snapshot: Snapshot, finding: Finding) -> Text:
    """The whole finding: what, where, both sides as the scan reports them, what to do."""
    text = Text()
    text.append_text(severity_text(finding.severity))
    text.append(f" {finding.code} {finding.kind}  ", style="bold")
    text.append(" ↔ ".join(involved(snapshot.result, finding)) + "\n")
    title = CODE_TITLES.get(finding.code)
    if title:
        text.append(title + "\n", style="italic")
    text.append("\n")
    text.append("\n".join(finding_lines(snapshot.result, finding)) + "\n\n")
    text.append("What to do\n", style="bold underline")
    text.append(decision([finding]) + "\n")
    return text
