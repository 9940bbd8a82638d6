"""The merge plan for people: a headline, the inventory, dependencies, clusters,
the numbered steps, what to reconcile first and what is safe to delete.

Names and messages come from other people's branches: every one is passed
through `terminal_safe`, so none can drive the terminal.
"""

from __future__ import annotations

from driftcheck.model import CONFLICTS, DEPENDS_ON, InventoryRow, Plan
from driftcheck.report import plural, terminal_safe
from driftcheck.report.text import Painter

_INDENT = "  "


def render_plan(plan: Plan, *, color: bool = False) -> str:
    paint = Painter(color)
    lines = [paint(terminal_safe(plan_headline(plan)), "bold"), ""]
    lines += _inventory(plan, paint)
    lines += _dependencies(plan, paint)
    lines += _clusters(plan, paint)
    lines += _steps(plan, paint)
    lines += _reconcile(plan, paint)
    deletable = [r for r in plan.participants if r.safe_to_delete]
    if deletable:
        lines += [paint("Safe to delete", "bold")]
        lines += [
            f"{_INDENT}{_safe(r.name)} ({'merged' if r.merged else 'empty'})" for r in deletable
        ]
        lines.append("")
    for warning in plan.scan.warnings:
        lines.append(paint(f"warning: {terminal_safe(warning)}", "yellow"))
    return "\n".join(lines).rstrip("\n")


def plan_headline(plan: Plan) -> str:
    """'driftcheck plan: 9 participants, trunk main: 2 steps, 4 to reconcile first'."""
    facts = [plural(len(plan.scan.participants), "participant")]
    if plan.trunk:
        facts.append(f"trunk {plan.trunk}")
    outcome = [plural(len(plan.steps), "step")]
    held = sum(len(r.participants) for r in plan.reconcile_first)
    if held:
        outcome.append(f"{held} to reconcile first")
    deletable = sum(1 for r in plan.participants if r.safe_to_delete)
    if deletable:
        outcome.append(f"{deletable} safe to delete")
    return f"driftcheck plan: {', '.join(facts)}: {', '.join(outcome)}"


def work_summary(row: InventoryRow) -> str:
    """'2 staged, 1 unstaged, 1 untracked' or ''."""
    parts = [
        f"{count} {word}"
        for count, word in (
            (row.staged, "staged"),
            (row.unstaged, "unstaged"),
            (row.untracked, "untracked"),
        )
        if count
    ]
    return ", ".join(parts) or ("uncommitted work" if row.dirty else "")


def status_words(row: InventoryRow) -> str:
    """The status list, with the pull request named where there is one."""
    words = []
    for word in row.status:
        if word == "has-pr" and row.pr:
            words.append(f"pull request {row.pr}")
        elif word == "uncommitted-not-in-pr":
            words.append("uncommitted work not in its pull request")
        elif word not in ("ahead", "behind", "uncommitted", "staged", "unstaged", "untracked"):
            words.append(word)
    if row.worktree:
        words.append(f"worktree {row.worktree}")
    return ", ".join(words)


def _safe(text: str) -> str:
    return terminal_safe(text)


def _count(value: int | None) -> str:
    return "·" if value is None else str(value)


def _inventory(plan: Plan, paint: Painter) -> list[str]:
    width = max([len(_safe(r.name)) for r in plan.participants] + [11])
    lines = [
        paint("Inventory", "bold"),
        f"{_INDENT}{'participant':<{width}}  ahead  behind  work / status",
    ]
    for row in plan.participants:
        notes = "; ".join(x for x in (work_summary(row), status_words(row)) if x)
        style = ("dim",) if row.safe_to_delete else ()
        lines.append(
            paint(
                f"{_INDENT}{_safe(row.name):<{width}}  "
                f"{_count(row.ahead):>5}  {_count(row.behind):>6}  {_safe(notes)}",
                *style,
            )
        )
    return [*lines, ""]


def _dependencies(plan: Plan, paint: Painter) -> list[str]:
    edges = [e for e in plan.edges if e.kind == DEPENDS_ON]
    if not edges:
        return []
    lines = [paint("Dependencies", "bold")]
    for edge in edges:
        symbols = ", ".join(edge.symbols[:4]) + (" …" if len(edge.symbols) > 4 else "")
        lines.append(_safe(f"{_INDENT}{edge.source} → {edge.target}: uses {symbols}"))
    for cycle in plan.cycles:
        lines.append(paint(_safe(f"{_INDENT}cycle: {' → '.join([*cycle, cycle[0]])}"), "yellow"))
    return [*lines, ""]


def _clusters(plan: Plan, paint: Painter) -> list[str]:
    if not plan.clusters:
        return []
    lines = [paint("Clusters (to reconcile together)", "bold")]
    for number, members in enumerate(plan.clusters, 1):
        inside = set(members)
        codes = sorted(
            {
                c
                for e in plan.edges
                if e.kind != DEPENDS_ON and {e.source, e.target} <= inside
                for c in e.findings
            }
        )
        kinds = {
            e.kind for e in plan.edges if {e.source, e.target} <= inside and e.kind != DEPENDS_ON
        }
        what = "conflicts" if CONFLICTS in kinds else "duplicates"
        lines.append(_safe(f"{_INDENT}{number}. {', '.join(members)}: {what} ({', '.join(codes)})"))
    return [*lines, ""]


def _steps(plan: Plan, paint: Painter) -> list[str]:
    lines = [paint("Order", "bold")]
    if not plan.steps:
        lines.append(f"{_INDENT}nothing can merge before the decisions below")
    for step in plan.steps:
        lines.append(paint(_safe(f"{_INDENT}Step {step.number}: {', '.join(step.merge)}"), "cyan"))
        lines += [_safe(f"{_INDENT * 3}- {reason}") for reason in step.reasons]
    return [*lines, ""]


def _reconcile(plan: Plan, paint: Painter) -> list[str]:
    if not plan.reconcile_first:
        return []
    lines = [paint("Reconcile first", "bold")]
    for entry in plan.reconcile_first:
        lines.append(paint(_safe(f"{_INDENT}• {', '.join(entry.participants)}"), "red"))
        lines.append(_safe(f"{_INDENT * 3}decide: {entry.decision}"))
        for finding in entry.findings[:6]:
            where = (
                f"{finding.path}:{finding.line}"
                if finding.path and finding.line
                else finding.path or ""
            )
            lines.append(
                paint(_safe(f"{_INDENT * 3}{finding.code} {where} {finding.message}"), "dim")
            )
        if len(entry.findings) > 6:
            lines.append(paint(f"{_INDENT * 3}… {len(entry.findings) - 6} more findings", "dim"))
    return [*lines, ""]
