"""Answers for hooks: agent reasons and context, and the concise pre-commit report.

The context tells the agent, without opening the other worktree, what the other side
did: its new signature, where a symbol moved, the duplicate's path, or the lines of
the other side's hunk.
"""

from __future__ import annotations

from collections.abc import Sequence

from driftcheck.model import Finding, Severity
from driftcheck.report import terminal_safe
from driftcheck.report.quoted import cut, quote_code

CONTEXT_LIMIT = 10_000


def reason(findings: Sequence[Finding], path: str) -> str:
    errors = [f for f in findings if f.severity is Severity.ERROR]
    shown = errors or list(findings)
    first = shown[0].message
    more = f" (+{len(shown) - 1} more)" if len(shown) > 1 else ""
    return f"driftcheck: this edit to {path} drifts from another worktree: {first}{more}"


def context(findings: Sequence[Finding], path: str, current: str | None) -> str:
    """At most CONTEXT_LIMIT characters; the most severe findings come first."""
    lines = [f"driftcheck found {len(findings)} problem(s) with the proposed edit to {path}:"]
    for finding in findings:
        lines.append("")
        tag = f"{finding.severity.value} {finding.kind} {finding.code}"
        lines.append(f"- [{tag}] {finding.message}")
        advice = _advice(finding, current)
        if advice:
            lines.append(f"  What you can do: {advice}")
        lines += [f"  {line}" for line in _specifics(finding, current)]
    lines.append("")
    lines.append(
        "Adapt the edit to the other worktree's version, or coordinate with it; "
        "`driftcheck scan` shows the whole picture."
    )
    text = "\n".join(lines)
    if len(text) > CONTEXT_LIMIT:
        text = text[: CONTEXT_LIMIT - 40].rstrip() + "\n… (truncated by driftcheck)"
    return text


def _advice(finding: Finding, current: str | None) -> str | None:
    """One sentence for the agent about to write, about what *it* can do; the other
    worktree's part is told as a fact in the message."""
    d = finding.details
    if finding.kind != "stale-caller" or current is None:
        return None
    symbol, other = finding.symbol or "it", d.get("changed_by")
    change, new = d.get("change"), d.get("new_qualname")
    if d.get("caller") == current:
        if change == "signature" and d.get("new_signature"):
            return f"call {symbol} the way {other} now defines it: {d['new_signature']}"
        if change in ("renamed", "moved") and isinstance(new, str):
            return f"use {new} instead of {symbol}"
        return f"do not add uses of {symbol}, or agree with {other} that it stays"
    if other == current:
        caller = d.get("caller")
        where = f"{finding.path}:{finding.line}" if finding.path else "its code"
        return (
            f"{caller} uses {symbol} ({where}): keep the old form working (an alias, a "
            f"default) or tell {caller} before this lands"
        )
    return None


def _specifics(finding: Finding, current: str | None) -> list[str]:
    d = finding.details
    out: list[str] = []
    if finding.kind == "textual-conflict":
        out.append(f"conflict type: {d.get('conflict_type')}")
        other_side = "right" if d.get("left") == current else "left"
        other = d.get(other_side)
        for hunk in d.get("hunks", [])[:3]:
            mine = hunk.get("left" if other_side == "right" else "right")
            theirs = hunk.get(other_side)
            out.append(f"your lines {_span(mine)} overlap {other}'s lines {_span(theirs)}")
        text = d.get(f"{other_side}_hunk")
        if isinstance(text, str) and text:
            out += quote_code(text.splitlines(), str(other))
    for key, label in (
        ("new_signature", "their new signature"),
        ("old_signature", "old signature"),
        ("new_qualname", "new name/location"),
        ("reason", "why it breaks"),
        ("call", "call"),
        ("similarity", "similarity"),
    ):
        value = d.get(key)
        if value not in (None, ""):
            out.append(f"{label}: {cut(terminal_safe(str(value)))}")
    for key in ("new_location", "definition", "existing"):
        value = d.get(key)
        if isinstance(value, dict) and value.get("path"):
            out.append(f"{key.replace('_', ' ')}: {value['path']}:{value.get('line')}")
    for loc in d.get("locations", []) or []:
        if isinstance(loc, dict):
            where = f"{loc.get('path')}:{loc.get('line')}"
            out.append(f"{loc.get('participant')} has {loc.get('symbol')} at {where}")
    return out


def _span(value: object) -> str:
    if isinstance(value, list) and len(value) == 2:
        return str(value[0]) if value[0] == value[1] else f"{value[0]}-{value[1]}"
    return "(none)"


def concise(findings: Sequence[Finding], current: str | None) -> str:
    """A pre-commit report: one line per finding, the most severe first."""
    if not findings:
        return "driftcheck: the staged changes do not drift from other worktrees"
    lines = [f"driftcheck: the staged changes drift from other worktrees ({len(findings)}):"]
    for finding in findings:
        where = f"{finding.path}:{finding.line}" if finding.line else (finding.path or "")
        others = ", ".join(p for p in finding.participants if p != current)
        lines.append(
            f"  {finding.severity.value:<7} {finding.code} {where}  {finding.message}"
            + (f"  [with {others}]" if others else "")
        )
    return terminal_safe("\n".join(lines))
