"""Reporters: turn a `ScanResult` into text, JSON, Markdown, SARIF or an HTML page,
and a `Plan` into text, JSON, Markdown or the same HTML page.

A reporter never analyses; it only orders, counts and formats what the detectors
found. `render()` is the one entry point; each format lives in its own module and
is imported only when asked for, so `--format json` never pays for the others.

The helpers below are the facts several formats share (ordering, the pair matrix,
the summary words), kept here so text and Markdown cannot disagree about them.
"""

from __future__ import annotations

import importlib
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from driftcheck.model import (
    CONFLICTS,
    DUPLICATE,
    DUPLICATES,
    Finding,
    Plan,
    PlanEdge,
    ScanResult,
    Severity,
)

# Format name -> module; each module exposes `render(result, *, color) -> str`.
_REPORTERS: dict[str, str] = {
    "text": "driftcheck.report.text",
    "json": "driftcheck.report.json_report",
    "markdown": "driftcheck.report.markdown",
    "sarif": "driftcheck.report.sarif",
    "html": "driftcheck.report.html",
}
FORMATS: tuple[str, ...] = tuple(_REPORTERS)
# Format name -> module exposing `render_plan(plan, *, color) -> str`.
_PLAN_REPORTERS: dict[str, str] = {
    "text": "driftcheck.report.plan_text",
    "json": "driftcheck.report.json_report",
    "markdown": "driftcheck.report.plan_markdown",
    "html": "driftcheck.report.html",
}
PLAN_FORMATS: tuple[str, ...] = tuple(_PLAN_REPORTERS)

# One line per finding code; the same table is documented in docs/json-schema.md.
CODE_TITLES: dict[str, str] = {
    "DC101": "Both sides change the same lines (content conflict)",
    "DC102": "Both sides add the same path with different contents (add/add)",
    "DC103": "One side modifies a file the other deletes (modify/delete)",
    "DC104": "One side renames a file the other deletes (rename/delete)",
    "DC105": "Both sides change a binary file",
    "DC106": "A path is a file on one side and a directory on the other",
    "DC107": "Both sides rename the same file to different names (rename/rename)",
    "DC108": "Both sides give the same path distinct file modes",
    "DC109": "Another kind of textual merge conflict",
    "DC201": "A caller uses a signature the other side changed",
    "DC202": "A caller uses a symbol the other side removed",
    "DC203": "A caller uses a symbol the other side renamed",
    "DC204": "A caller imports a symbol the other side moved",
    "DC205": "A new implementer lacks a member the other side makes required",
    "DC301": "Both sides add near-identical implementations",
    "DC302": "Both sides add the same name with different bodies",
    "DC303": "A new symbol duplicates one that already exists in the base",
    "DC401": "Both sides change the same body differently",
    "DC402": "One side deletes a symbol the other modifies",
    "DC403": "Both sides add the same name with different definitions",
    "DC404": "Both sides set the same constant to different values",
    "DC501": "The project's checker fails on the merge, on neither side",
    "DC502": "The merge could not be verified",
    "DC601": "The edit changes a symbol another worktree claims or changes",
}


def render(result: ScanResult, fmt: str, *, color: bool) -> str:
    """Render `result` in format `fmt` ("text", "json", "markdown" or "sarif").

    The returned string has no trailing newline; the caller decides how to write it.
    Only the text format uses `color`; the others are always plain.
    """
    return _reporter(_REPORTERS, fmt).render(result, color=color)


def render_plan(plan: Plan, fmt: str, *, color: bool) -> str:
    """Render a merge plan in format `fmt` ("text", "json", "markdown" or "html")."""
    return _reporter(_PLAN_REPORTERS, fmt).render_plan(plan, color=color)


def _reporter(modules: dict[str, str], fmt: str) -> Any:
    """The module rendering `fmt`, imported on first use."""
    try:
        return importlib.import_module(modules[fmt])
    except KeyError:
        choices = ", ".join(modules)
        raise ValueError(f"unknown report format {fmt!r} (choose one of {choices})") from None


# --- shared facts -----------------------------------------------------------------


# Control characters other than newline and tab, except driftcheck's own colour codes:
# a file name or a line of code from a worktree must not drive the user's terminal
# (move the cursor, rewrite lines, set the title or the clipboard).
_CONTROL = re.compile(r"\x1b\[[0-9;]*m|[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def terminal_safe(text: str, *, own_colors: bool = False) -> str:
    """`text` with control characters shown as escapes (`\x1b`), as git quotes them;
    with `own_colors`, plain colour codes (the reporter's own) are kept."""

    def shown(match: re.Match[str]) -> str:
        found = match.group()
        if len(found) > 1:
            return found if own_colors else "\\x1b" + found[1:]
        return f"\\x{ord(found):02x}"

    return _CONTROL.sub(shown, text)


def plural(count: int, word: str, words: str | None = None) -> str:
    return f"{count} {word if count == 1 else (words or word + 's')}"


def fingerprints(findings: list[Finding]) -> list[str]:
    """One fingerprint per finding, distinct even when their identifying parts agree.

    Two call sites of the same changed function in one file give two findings with the
    same kind, code, path, symbol and participants. Code scanning treats results with
    equal fingerprints as one alert, so the second and later of such a group (in report
    order, i.e. by line) get their occurrence number mixed in; the first keeps the
    plain recipe, so a lone finding's alert is unaffected.
    """
    seen: dict[str, int] = {}
    prints: list[str] = []
    for finding in findings:
        base = finding.fingerprint()
        seen[base] = seen.get(base, 0) + 1
        prints.append(finding.fingerprint(occurrence=seen[base]))
    return prints


def ordered_findings(result: ScanResult) -> list[Finding]:
    """Findings in the one order every format uses, independent of detector order."""
    return sorted(result.findings, key=Finding.sort_key)


def involved(result: ScanResult, finding: Finding) -> tuple[str, ...]:
    """The finding's participants, deduplicated, in the order the scan listed them.

    Detectors may name a pair either way round; normalising here makes `a ↔ b` and
    `b ↔ a` one group. Names the scan does not list (should not happen) go last.
    """
    position = {p.name: i for i, p in enumerate(result.participants)}
    unique = dict.fromkeys(finding.participants)
    return tuple(sorted(unique, key=lambda name: (position.get(name, len(position)), name)))


def group_by_participants(
    result: ScanResult,
) -> list[tuple[tuple[str, ...], list[Finding]]]:
    """Findings grouped by the set of participants they involve (usually a pair).

    Groups holding the most severe findings come first, then scan order.
    """
    position = {p.name: i for i, p in enumerate(result.participants)}
    groups: dict[tuple[str, ...], list[Finding]] = {}
    for finding in ordered_findings(result):
        groups.setdefault(involved(result, finding), []).append(finding)

    def group_order(item: tuple[tuple[str, ...], list[Finding]]) -> tuple[Any, ...]:
        names, findings = item
        worst = max(f.severity.rank for f in findings)
        return (-worst, [position.get(n, len(position)) for n in names], names)

    return sorted(groups.items(), key=group_order)


def pair_matrix(result: ScanResult) -> dict[tuple[str, str], int]:
    """Finding counts per (row, column) participant; symmetric by construction.

    A finding involving [a, b] counts in a/b and b/a; one involving a single
    participant (e.g. a duplicate of a base symbol) counts on the diagonal a/a.
    """
    cells: Counter[tuple[str, str]] = Counter()
    for finding in result.findings:
        names = involved(result, finding)
        if len(names) == 1:
            cells[names[0], names[0]] += 1
            continue
        for row in names:
            for column in names:
                if row != column:
                    cells[row, column] += 1
    return dict(cells)


def severity_counts(findings: Iterable[Finding]) -> dict[Severity, int]:
    counts = Counter(f.severity for f in findings)
    return {severity: counts.get(severity, 0) for severity in Severity}


def describe_severities(findings: Sequence[Finding]) -> str:
    """'2 errors, 1 warning' — only the severities present, most severe first."""
    counts = severity_counts(findings)
    words = {
        Severity.ERROR: ("error", "errors"),
        Severity.WARNING: ("warning", "warnings"),
        Severity.INFO: ("info", "info"),
    }
    return ", ".join(
        plural(counts[severity], *words[severity]) for severity in Severity if counts[severity]
    )


def headline(result: ScanResult) -> str:
    """'3 findings (2 errors, 1 warning) among 4 participants' or 'no drift among ...'."""
    among = plural(len(result.participants), "participant")
    if not result.findings:
        return f"no drift among {among}"
    found = plural(len(result.findings), "finding")
    return f"{found} ({describe_severities(result.findings)}) among {among}"


def run_facts(result: ScanResult) -> list[str]:
    """The scan's size and cost, e.g. ['6 pairs, 3 analysed', '120 ms']."""
    stats = result.stats
    facts: list[str] = []
    if isinstance(stats.get("pairs"), int):
        pairs = plural(stats["pairs"], "pair")
        analysed = stats.get("pairs_analysed")
        facts.append(f"{pairs}, {analysed} analysed" if isinstance(analysed, int) else pairs)
    elapsed = stats.get("elapsed_ms")
    if isinstance(elapsed, int | float) and not isinstance(elapsed, bool):
        facts.append(f"{elapsed / 1000:.1f} s" if elapsed >= 10_000 else f"{round(elapsed)} ms")
    return facts


def line_range(span: Sequence[int] | None) -> str:
    """'lines 10–14', 'line 7', or 'no lines' for a [start, end] hunk side."""
    if not span:
        return "no lines"
    start, end = span[0], span[-1]
    return f"line {start}" if start == end else f"lines {start}–{end}"


def pairs_without_merge_base(result: ScanResult) -> list[tuple[str, ...]]:
    pairs = result.stats.get("pairs_without_merge_base") or []
    return [tuple(str(name) for name in pair) for pair in pairs]


def finding_edges(result: ScanResult) -> list[PlanEdge]:
    """One edge per pair of participants with findings between them, and per kind:
    `duplicates` for duplicate findings, `conflicts` for every other kind. The pair
    is named in scan order; `findings` holds the codes, each once, sorted."""
    position = {p.name: i for i, p in enumerate(result.participants)}
    codes: dict[tuple[str, str, str], set[str]] = {}
    for finding in result.findings:
        names = involved(result, finding)
        kind = DUPLICATES if finding.kind == DUPLICATE else CONFLICTS
        for n, left in enumerate(names):
            for right in names[n + 1 :]:
                codes.setdefault((left, right, kind), set()).add(finding.code)
    ordered = sorted(
        codes.items(),
        key=lambda item: (position.get(item[0][0], 0), position.get(item[0][1], 0), item[0][2]),
    )
    return [
        PlanEdge(source=left, target=right, kind=kind, findings=tuple(sorted(found)))
        for (left, right, kind), found in ordered
    ]


def clusters(names: Sequence[str], edges: Iterable[PlanEdge]) -> list[list[str]]:
    """Connected groups of two or more participants (edges joining them), members
    in the order of `names`, groups by their first member."""
    position = {name: i for i, name in enumerate(names)}
    parent = {name: name for name in names}

    def root(name: str) -> str:
        while parent[name] != name:
            parent[name] = parent[parent[name]]
            name = parent[name]
        return name

    for edge in edges:
        if edge.source in parent and edge.target in parent:
            a, b = sorted((root(edge.source), root(edge.target)), key=position.__getitem__)
            parent[b] = a
    groups: dict[str, list[str]] = {}
    for name in names:
        groups.setdefault(root(name), []).append(name)
    found = [members for members in groups.values() if len(members) > 1]
    return sorted(found, key=lambda members: position[members[0]])
