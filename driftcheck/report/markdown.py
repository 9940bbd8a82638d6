"""GitHub-flavoured Markdown for `$GITHUB_STEP_SUMMARY` or a pull-request comment.

Layout: a summary heading, one table with the pair matrix and each participant's
(PR's) counts, then for every participant the findings that involve it, so each PR
author can read their own section. All text from the scan is escaped: messages and
names may contain `|`, backticks or HTML that would otherwise break the table.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from driftcheck.model import TEXTUAL_CONFLICT, Finding, Participant, ScanResult, Severity
from driftcheck.report import (
    describe_severities,
    headline,
    involved,
    line_range,
    ordered_findings,
    pair_matrix,
    pairs_without_merge_base,
    plural,
    run_facts,
    severity_counts,
)

# Lets a bot find and update its earlier comment instead of posting a new one.
MARKER = "<!-- driftcheck -->"

_ICON = {Severity.ERROR: "❌", Severity.WARNING: "⚠️", Severity.INFO: "ℹ️"}
# The punctuation that can open markup inside a line: code, emphasis, links and
# images (via `[`), HTML, entities, strike-through, table cells, headings. CommonMark
# lets a backslash escape any of them; `(`, `!` and friends are harmless once `[` is.
_MARKUP = re.compile(r"([\\`*_\[\]<>|~&#])")


def render(result: ScanResult, *, color: bool = False) -> str:
    lines = [MARKER, _heading(result), ""]
    facts = run_facts(result)
    if result.trunk:
        facts.append(f"trunk {code(result.trunk, in_table=False)}")
    if facts:
        lines += [" · ".join(facts), ""]
    if result.participants:
        lines += [*_overview(result), ""]
    lines += _by_participant(result)
    lines += _trailer(result)
    return "\n".join(lines).rstrip("\n")


# --- escaping ---------------------------------------------------------------------


def text(value: str, *, in_table: bool = True) -> str:
    """Literal text: markup characters escaped; in a table, newlines become <br>."""
    escaped = _MARKUP.sub(r"\\\1", value)
    if in_table:
        return "<br>".join(escaped.splitlines())
    return escaped


def code(value: str, *, in_table: bool = True) -> str:
    """A code span that survives any backticks inside `value`.

    CommonMark closes a span at the first run of backticks as long as the opener, so
    the fence is one longer than the longest run inside; a space pads content that
    starts or ends with a backtick. In a table `|` must still be escaped, even
    inside a code span, because GFM splits cells before parsing inlines.
    """
    value = " ".join(value.splitlines())
    longest = max((len(run) for run in re.findall(r"`+", value)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    span = f"{fence}{pad}{value}{pad}{fence}"
    return span.replace("|", "\\|") if in_table else span


# --- sections ---------------------------------------------------------------------


def _heading(result: ScanResult) -> str:
    counts = severity_counts(result.findings)
    worst = next((s for s in Severity if counts[s]), None)
    icon = _ICON[worst] if worst else "✅"
    return f"### {icon} driftcheck: {text(headline(result), in_table=False)}"


def _overview(result: ScanResult) -> list[str]:
    """Participants × participants finding counts, then each one's severity totals."""
    names = [p.name for p in result.participants]
    show_matrix = len(names) >= 2
    cells = pair_matrix(result)
    header = ["Participant"]
    if show_matrix:
        header += [code(n) for n in names]
    header += ["Errors", "Warnings", "Info"]
    lines = [
        "| " + " | ".join(header) + " |",
        "|---" + "|---:" * (len(header) - 1) + "|",
    ]
    for participant in result.participants:
        row = [_participant_label(participant)]
        if show_matrix:
            for column in names:
                count = cells.get((participant.name, column), 0)
                row.append(str(count) if count else ("·" if column == participant.name else "0"))
        counts = severity_counts(_involving(result, participant.name))
        row += [str(counts[s]) for s in Severity]
        lines.append("| " + " | ".join(row) + " |")
    return lines


def _participant_label(participant: Participant) -> str:
    label = code(participant.name)
    if participant.branch and participant.branch != participant.name:
        label += f" ({code(participant.branch)})"
    if participant.dirty:
        label += " · uncommitted"
    return label


def _involving(result: ScanResult, name: str) -> list[Finding]:
    return [f for f in ordered_findings(result) if name in f.participants]


def _by_participant(result: ScanResult) -> list[str]:
    lines: list[str] = []
    for participant in result.participants:
        findings = _involving(result, participant.name)
        if not findings:
            continue
        summary = f"{plural(len(findings), 'finding')} ({describe_severities(findings)})"
        lines += [f"#### {code(participant.name, in_table=False)} — {summary}", ""]
        lines += [
            "| Severity | Finding | Location | With | Message |",
            "|---|---|---|---|---|",
        ]
        for finding in findings:
            lines.append(_finding_row(result, finding, participant.name))
        lines.append("")
    return lines


def _finding_row(result: ScanResult, finding: Finding, own: str) -> str:
    others = [n for n in involved(result, finding) if n != own]
    with_cell = ", ".join(code(n) for n in others) if others else "—"
    if finding.path:
        location = finding.path + (f":{finding.line}" if finding.line else "")
        location_cell = code(location)
    else:
        location_cell = "—"
    message = text(finding.message)
    if finding.symbol:
        message += f"<br>symbol {code(finding.symbol)}"
    if finding.kind == TEXTUAL_CONFLICT:
        message += _conflict_note(finding.details)
    severity = f"{_ICON[finding.severity]} {finding.severity.value}"
    kind = f"{finding.code} {finding.kind}"
    return f"| {severity} | {kind} | {location_cell} | {with_cell} | {message} |"


def _conflict_note(details: Mapping[str, Any]) -> str:
    """'<br>content · a lines 3–5 ↔ b lines 4–6' — enough to judge the overlap."""
    parts = []
    if details.get("conflict_type"):
        parts.append(text(str(details["conflict_type"])))
    left, right = str(details.get("left") or "left"), str(details.get("right") or "right")
    hunks = details.get("hunks")
    if isinstance(hunks, list):
        for hunk in hunks[:3]:
            if isinstance(hunk, Mapping):
                parts.append(
                    f"{code(left)} {line_range(hunk.get('left'))} ↔ "
                    f"{code(right)} {line_range(hunk.get('right'))}"
                )
        if len(hunks) > 3:
            parts.append(f"{len(hunks) - 3} more hunks")
    return "<br>" + " · ".join(parts) if parts else ""


def _trailer(result: ScanResult) -> list[str]:
    lines: list[str] = []
    if result.warnings:
        lines += ["**Warnings**", ""]
        lines += [f"- {text(w, in_table=False)}" for w in result.warnings] + [""]
    if unrelated := pairs_without_merge_base(result):
        lines += ["**Pairs without a merge base** (not compared)", ""]
        lines += ["- " + " ↔ ".join(code(n, in_table=False) for n in pair) for pair in unrelated]
        lines.append("")
    return lines
