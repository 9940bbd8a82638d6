"""The merge plan as GitHub-flavoured Markdown (a pull-request comment, a step
summary): the order first, then what to reconcile, the inventory and the
dependencies. Every name and message is escaped as markdown.py escapes them."""

from __future__ import annotations

from driftcheck.model import DEPENDS_ON, Plan
from driftcheck.report.markdown import code, text
from driftcheck.report.plan_text import plan_headline, status_words, work_summary

MARKER = "<!-- driftcheck plan -->"


def render_plan(plan: Plan, *, color: bool = False) -> str:
    icon = "⚠️" if plan.reconcile_first else "✅"
    lines = [MARKER, f"### {icon} {text(plan_headline(plan), in_table=False)}", ""]
    lines += ["#### Order", ""]
    if not plan.steps:
        lines.append("Nothing can merge before the decisions below.")
    for step in plan.steps:
        merge = ", ".join(code(n, in_table=False) for n in step.merge)
        lines.append(f"{step.number}. {merge}")
        lines += [f"   - {text(reason, in_table=False)}" for reason in step.reasons]
    lines.append("")
    if plan.reconcile_first:
        lines += ["#### Reconcile first", ""]
        for entry in plan.reconcile_first:
            who = ", ".join(code(n, in_table=False) for n in entry.participants)
            codes = " ".join(sorted({f.code for f in entry.findings}))
            lines.append(
                f"- {who}{f' ({codes})' if codes else ''}: {text(entry.decision, in_table=False)}"
            )
        lines.append("")
    if plan.clusters:
        lines += ["#### Clusters", ""]
        lines += [
            f"{n}. " + ", ".join(code(m, in_table=False) for m in members)
            for n, members in enumerate(plan.clusters, 1)
        ]
        lines.append("")
    depends = [e for e in plan.edges if e.kind == DEPENDS_ON]
    if depends:
        lines += ["#### Dependencies", ""]
        lines += [
            f"- {code(e.source, in_table=False)} → {code(e.target, in_table=False)}: uses "
            + ", ".join(code(s, in_table=False) for s in e.symbols[:4])
            for e in depends
        ]
        lines += [
            "- cycle: " + " → ".join(code(n, in_table=False) for n in [*c, c[0]])
            for c in plan.cycles
        ]
        lines.append("")
    lines += [
        "#### Inventory",
        "",
        "| Participant | Ahead | Behind | Uncommitted | Status |",
        "|---|---:|---:|---|---|",
    ]
    for row in plan.participants:
        ahead = "·" if row.ahead is None else str(row.ahead)
        behind = "·" if row.behind is None else str(row.behind)
        lines.append(
            f"| {code(row.name)} | {ahead} | {behind} | {text(work_summary(row))} | "
            f"{text(status_words(row))} |"
        )
    return "\n".join(lines).rstrip("\n")
