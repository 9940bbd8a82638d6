"""Human output: a summary line, the pair matrix, findings by pair, then warnings.

Everything a person needs to act on a finding is printed with it (conflict type,
line ranges on each side, signatures, call sites), so nobody has to open the other
agent's worktree to understand it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from driftcheck.model import TEXTUAL_CONFLICT, Finding, ScanResult, Severity
from driftcheck.report import (
    group_by_participants,
    headline,
    involved,
    line_range,
    pair_matrix,
    pairs_without_merge_base,
    run_facts,
    terminal_safe,
)

# Names longer than this make the matrix number its columns instead.
_SHORT_NAME = 12
# Row labels longer than this are shortened in the middle.
_MAX_LABEL = 40
# Long details (function bodies, many hunks) are cut so one finding stays readable.
_MAX_VALUE_LINES = 6
_MAX_HUNKS = 5
_MAX_EXCERPT_LINES = 8
_MAX_ITEMS = 8

_ANSI = {
    "bold": "1",
    "dim": "2",
    "red": "31",
    "yellow": "33",
    "cyan": "36",
}
_SEVERITY_STYLE = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
_SEVERITY_WIDTH = max(len(s.value) for s in Severity)
# textual-conflict details keys rendered specially, not by the generic renderer.
_TEXTUAL_KEYS = frozenset(
    {
        "conflict_type",
        "hunks",
        "left",
        "right",
        "git_messages",
        "git_path",
        "left_hunk",
        "right_hunk",
        "related_paths",
    }
)


class Painter:
    """Wraps text in ANSI codes only when colour was asked for."""

    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, text: str, *styles: str) -> str:
        if not self.color or not styles or not text:
            return text
        codes = ";".join(_ANSI[s] for s in styles)
        return f"\x1b[{codes}m{text}\x1b[0m"


def render(result: ScanResult, *, color: bool = False) -> str:
    paint = Painter(color)
    facts = " · ".join([headline(result), *run_facts(result)])
    sections: list[list[str]] = [[f"{paint('driftcheck:', 'bold')} {facts}"]]
    if len(result.participants) >= 2:
        sections.append(_matrix(result, paint))
    for names, findings in group_by_participants(result):
        sections.append(_group(result, names, findings, paint))
    sections.extend(_trailer(result, paint))
    text = "\n\n".join("\n".join(lines) for lines in sections)
    return terminal_safe(text, own_colors=color)


# --- matrix -----------------------------------------------------------------------


def _shorten(name: str, width: int) -> str:
    """Cut the middle: branch names differ at both ends (agent prefix, topic suffix)."""
    if len(name) <= width:
        return name
    keep = width - 1
    return name[: (keep + 1) // 2] + "…" + name[len(name) - keep // 2 :]


def _matrix(result: ScanResult, paint: Painter) -> list[str]:
    names = [p.name for p in result.participants]
    cells = pair_matrix(result)
    numbered = max(len(n) for n in names) > _SHORT_NAME
    if numbered:
        # Columns become 1..n; the row labels double as the legend.
        headers = [str(i) for i in range(1, len(names) + 1)]
        labels = [f"{i}  {_shorten(n, _MAX_LABEL)}" for i, n in enumerate(names, 1)]
    else:
        headers = list(names)
        labels = list(names)
    width = max(2, *(len(h) for h in headers))
    label_width = max(len(label) for label in labels)

    lines = ["  " + " " * label_width + "".join("  " + h.rjust(width) for h in headers)]
    for label, row in zip(labels, names, strict=True):
        cells_text = []
        for column in names:
            count = cells.get((row, column), 0)
            # An empty diagonal means "no finding alone", not a zero pair count.
            cell = str(count) if count else ("·" if row == column else "0")
            padding = "  " + " " * (width - len(cell))
            cells_text.append(padding + paint(cell, "bold" if count else "dim"))
        lines.append("  " + label.ljust(label_width) + "".join(cells_text))
    if any(cells.get((name, name)) for name in names):
        # The diagonal is not a pair: say what its counts are.
        lines.append(paint("  (the diagonal counts findings about one participant alone)", "dim"))
    return lines


# --- findings ---------------------------------------------------------------------


def _group(
    result: ScanResult, names: tuple[str, ...], findings: list[Finding], paint: Painter
) -> list[str]:
    title = " ↔ ".join(names) if len(names) > 1 else f"{names[0]} only"
    lines = [paint(title, "bold")]
    for finding in findings:
        lines.extend(_finding(result, finding, paint))
    return lines


def _location(finding: Finding) -> str:
    if not finding.path:
        return ""
    return f"{finding.path}:{finding.line}" if finding.line else finding.path


def _finding(result: ScanResult, finding: Finding, paint: Painter) -> list[str]:
    name = finding.severity.value
    severity = paint(name, _SEVERITY_STYLE[finding.severity], "bold")
    head = [f"  {severity}{' ' * (_SEVERITY_WIDTH - len(name))}  {finding.code} {finding.kind}"]
    if location := _location(finding):
        head.append(paint(location, "bold"))
    if finding.symbol:
        head.append(f"({finding.symbol})")
    lines = ["  ".join(head)]

    indent = " " * (2 + _SEVERITY_WIDTH + 2)
    lines.extend(indent + line for line in finding.message.splitlines() or [""])
    details = dict(finding.details)
    if finding.kind == TEXTUAL_CONFLICT:
        detail_lines = _textual_details(result, finding, details)
        details = {k: v for k, v in details.items() if k not in _TEXTUAL_KEYS}
    else:
        detail_lines = []
    for key, value in details.items():
        detail_lines.extend(_value_lines(_label(key), value))
    lines.extend(indent + paint(line, "dim") for line in detail_lines)
    return lines


def finding_lines(result: ScanResult, finding: Finding) -> list[str]:
    """One finding as `scan` prints it, details included (the live view's full finding)."""
    return terminal_safe("\n".join(_finding(result, finding, Painter(False)))).splitlines()


def _textual_details(result: ScanResult, finding: Finding, details: Mapping[str, Any]) -> list[str]:
    """Conflict type, both sides' line ranges per hunk, then each side's text."""
    names = involved(result, finding)
    left = str(details.get("left") or (names[0] if names else "left"))
    right = str(details.get("right") or (names[1] if len(names) > 1 else "right"))
    lines = []
    conflict_type = details.get("conflict_type")
    if conflict_type:
        lines.append(f"conflict: {conflict_type}")
    hunks = [h for h in details.get("hunks") or [] if isinstance(h, Mapping)]
    for hunk in hunks[:_MAX_HUNKS]:
        lines.append(
            f"{left} {line_range(hunk.get('left'))} ↔ {right} {line_range(hunk.get('right'))}"
        )
    if len(hunks) > _MAX_HUNKS:
        lines.append(f"… {len(hunks) - _MAX_HUNKS} more hunks")
    # For a content conflict git only says "Merge conflict in <path>"; for renames,
    # modes and file/directory clashes its own words explain what happened.
    if conflict_type != "content":
        lines.extend(f"git: {m}" for m in details.get("git_messages") or [])
    git_path = details.get("git_path")
    if git_path and git_path != finding.path:
        lines.append(f"git path: {git_path}")
    # Each side's text is what makes the conflict actionable without the other tree.
    for side, key in ((left, "left_hunk"), (right, "right_hunk")):
        if isinstance(details.get(key), str):
            lines.extend(_excerpt(f"{side} has:", details[key]))
    return lines


def _excerpt(title: str, text: str) -> list[str]:
    body = text.splitlines()
    lines = [title] + [f"  │ {line}" for line in body[:_MAX_EXCERPT_LINES]]
    if len(body) > _MAX_EXCERPT_LINES:
        lines.append(f"  … {len(body) - _MAX_EXCERPT_LINES} more lines")
    return lines


def _label(key: str) -> str:
    return str(key).replace("_", " ")


def _scalar(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _is_location(value: Any) -> bool:
    return isinstance(value, Mapping) and isinstance(value.get("path"), str)


def _location_text(value: Mapping[str, Any]) -> str:
    """'path:line' followed by whatever else the location carries (call text, ...)."""
    where = f"{value['path']}:{value['line']}" if value.get("line") else str(value["path"])
    if value.get("participant"):
        where += f" in {value['participant']}"
    shown = ("path", "line", "participant")
    rest = [f"{_label(k)}: {_scalar(v)}" for k, v in value.items() if k not in shown]
    return "  ".join([where, *rest])


def _value_lines(label: str, value: Any, depth: int = 0) -> list[str]:
    """Render one details entry as indented lines, whatever its shape; an entry that
    says nothing (no value, an empty list) is left out rather than shown as "—"."""
    pad = "  " * depth
    if value is None or (isinstance(value, Sequence | Mapping) and not value):
        return []
    if _is_location(value):
        return [f"{pad}{label}: {_location_text(value)}"]
    if isinstance(value, Mapping):
        lines = [f"{pad}{label}:"]
        for key, item in list(value.items())[:_MAX_ITEMS]:
            lines.extend(_value_lines(_label(key), item, depth + 1))
        return lines + _more(len(value), depth + 1)
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        if all(not isinstance(item, Mapping | Sequence) or isinstance(item, str) for item in value):
            return [f"{pad}{label}: {', '.join(_scalar(item) for item in value) or '—'}"]
        lines = [f"{pad}{label}:"]
        for item in value[:_MAX_ITEMS]:
            if _is_location(item):
                lines.append(f"{pad}  - {_location_text(item)}")
            elif isinstance(item, Mapping):
                inline = ", ".join(f"{_label(k)}: {_scalar(v)}" for k, v in item.items())
                lines.append(f"{pad}  - {inline}")
            else:
                lines.append(f"{pad}  - {_scalar(item)}")
        return lines + _more(len(value), depth + 1)
    return _text_lines(label, _scalar(value), pad)


def _more(total: int, depth: int) -> list[str]:
    hidden = total - _MAX_ITEMS
    return [f"{'  ' * depth}… {hidden} more"] if hidden > 0 else []


def _text_lines(label: str, text: str, pad: str) -> list[str]:
    """A value that may span lines (a signature, a body): first line inline, rest below."""
    first, *rest = text.splitlines() or [""]
    lines = [f"{pad}{label}: {first}"]
    lines.extend(f"{pad}  {line}" for line in rest[: _MAX_VALUE_LINES - 1])
    if len(rest) > _MAX_VALUE_LINES - 1:
        lines.append(f"{pad}  … {len(rest) - _MAX_VALUE_LINES + 1} more lines")
    return lines


# --- warnings ---------------------------------------------------------------------


def _trailer(result: ScanResult, paint: Painter) -> list[list[str]]:
    # Skipped worktrees arrive as warnings too, so stats["skipped_participants"]
    # is not printed again here.
    sections = []
    if result.warnings:
        sections.append(
            [paint("warnings:", "bold", "yellow")] + [f"  - {w}" for w in result.warnings]
        )
    if unrelated := pairs_without_merge_base(result):
        lines = [paint("pairs without a merge base (not compared):", "bold")]
        lines.extend("  - " + " ↔ ".join(pair) for pair in unrelated)
        sections.append(lines)
    return sections
