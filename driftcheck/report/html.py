"""One self-contained HTML page for a scan (`scan --format html`) or a merge plan
(`plan --format html`): the participants' graph, the pair matrix as a heat map,
the steps and decisions (a plan only), and each cluster's findings, expandable.

No script and nothing fetched: the style sheet (page.css) is inlined, the graph is
inline SVG laid out in Python, findings expand with <details>, and a Content
Security Policy forbids any request. Every text from a scan is escaped.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from html import escape
from importlib import resources

from driftcheck.model import Finding, Plan, PlanEdge, ScanResult
from driftcheck.report import (
    CODE_TITLES,
    clusters,
    describe_severities,
    finding_edges,
    headline,
    involved,
    ordered_findings,
    pair_matrix,
    plural,
    run_facts,
)
from driftcheck.report.html_graph import NodeStyle, render_svg
from driftcheck.report.plan_text import plan_headline, status_words, work_summary

_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def render(result: ScanResult, *, color: bool = False) -> str:
    return _page(result, None)


def render_plan(plan: Plan, *, color: bool = False) -> str:
    return _page(plan.scan, plan)


def _page(result: ScanResult, plan: Plan | None) -> str:
    title = plan_headline(plan) if plan is not None else f"driftcheck: {headline(result)}"
    names = [p.name for p in result.participants]
    found = finding_edges(result)
    groups = plan.clusters if plan is not None else clusters(names, found)
    edges = plan.edges if plan is not None else found
    body = [f"<h1>{escape(title)}</h1>", _facts(result, plan), _summary(result, plan)]
    body += ["<h2>Participants</h2>", _graph(result, plan, edges, groups)]
    if plan is not None:
        body += _plan_sections(plan)
    if len(names) > 1:
        body += ["<h2>Pair matrix</h2>", _heat_map(result)]
    body += _findings(result, groups)
    body.append(
        "<footer>driftcheck · one file, no network · "
        f"{escape(' · '.join(run_facts(result)))}</footer>"
    )
    css = resources.files("driftcheck.report").joinpath("page.css").read_text(encoding="utf-8")
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<meta http-equiv='Content-Security-Policy' content=\"{_POLICY}\">"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{escape(title)}</title><style>{css}</style></head>"
        f"<body><main>{''.join(body)}</main></body></html>"
    )


def _facts(result: ScanResult, plan: Plan | None) -> str:
    facts = run_facts(result)
    if plan is not None and plan.trunk:
        facts.append(f"trunk {plan.trunk}")
    elif result.trunk:
        facts.append(f"trunk {result.trunk}")
    facts.append(f"repository {result.repo}")
    return f"<p class='facts'>{escape(' · '.join(facts))}</p>"


def _summary(result: ScanResult, plan: Plan | None) -> str:
    cards = [
        (len(result.participants), "participants"),
        (len(result.findings), describe_severities(result.findings) or "no findings"),
    ]
    if plan is not None:
        held = sum(len(r.participants) for r in plan.reconcile_first)
        cards += [
            (len(plan.steps), "steps"),
            (held, "to reconcile first"),
            (sum(1 for r in plan.participants if r.safe_to_delete), "safe to delete"),
        ]
    inner = "".join(
        f"<div class='card'><div class='value'>{value}</div>"
        f"<div class='label'>{escape(label)}</div></div>"
        for value, label in cards
    )
    return f"<div class='summary'>{inner}</div>"


def _graph(
    result: ScanResult, plan: Plan | None, edges: Sequence[PlanEdge], groups: list[list[str]]
) -> str:
    names = [p.name for p in result.participants]
    styles: dict[str, NodeStyle] = {}
    if plan is not None:
        step_of = {n: s.number for s in plan.steps for n in s.merge}
        held = {n for r in plan.reconcile_first for n in r.participants}
        for row in plan.participants:
            role = (
                "trunk"
                if "trunk" in row.status
                else "held"
                if row.name in held
                else "deletable"
                if row.safe_to_delete
                else ""
            )
            styles[row.name] = NodeStyle(role, step_of.get(row.name), ", ".join(row.status))
    svg = render_svg(names, edges, groups, styles)
    legend = [("l-conflict", "conflict"), ("l-dup", "duplicate"), ("l-cluster", "cluster")]
    if plan is not None:
        legend = [("l-dep", "depends on (arrow to what it needs)"), *legend]
        legend += [("l-held", "reconcile first"), ("l-delete", "safe to delete")]
    keys = "".join(f"<span class='{c}'>{escape(t)}</span>" for c, t in legend)
    return f"<div class='card graph'>{svg}<div class='legend'>{keys}</div></div>"


def _plan_sections(plan: Plan) -> list[str]:
    out = ["<h2>Order</h2>"]
    if plan.steps:
        items = []
        for step in plan.steps:
            reasons = "".join(f"<li>{escape(r)}</li>" for r in step.reasons)
            merge = ", ".join(f"<code>{escape(n)}</code>" for n in step.merge)
            items.append(
                f"<li class='step' data-step='{step.number}'><span class='n'>Step "
                f"{step.number}</span>{merge}<ul class='reasons'>{reasons}</ul></li>"
            )
        out.append(f"<ol class='steps'>{''.join(items)}</ol>")
    else:
        out.append("<p class='muted'>Nothing can merge before the decisions below.</p>")
    if plan.reconcile_first:
        out.append("<h2>Reconcile first</h2>")
        for entry in plan.reconcile_first:
            who = ", ".join(f"<code>{escape(n)}</code>" for n in entry.participants)
            codes = " ".join(
                f"<span class='badge {f.severity.value}'>{escape(f.code)}</span>"
                for f in entry.findings[:8]
            )
            out.append(
                f"<div class='decision'><div class='who'>{who} {codes}</div>"
                f"<div>{escape(entry.decision)}</div></div>"
            )
    if plan.cycles:
        out.append("<h2>Dependency cycles</h2><ul>")
        out += [f"<li>{escape(' → '.join([*c, c[0]]))}</li>" for c in plan.cycles]
        out.append("</ul>")
    out += ["<h2>Inventory</h2>", _inventory(plan)]
    return out


def _inventory(plan: Plan) -> str:
    rows = [
        "<tr><th>participant</th><th>kind</th><th>ahead</th><th>behind</th>"
        "<th>uncommitted work</th><th>status</th></tr>"
    ]
    for row in plan.participants:
        rows.append(
            f"<tr data-name='{escape(row.name)}'><td><code>{escape(row.name)}</code></td>"
            f"<td>{escape(row.kind)}</td><td class='num'>{_number(row.ahead)}</td>"
            f"<td class='num'>{_number(row.behind)}</td><td>{escape(work_summary(row))}</td>"
            f"<td>{escape(status_words(row))}</td></tr>"
        )
    return f"<div class='scroll'><table class='inventory'>{''.join(rows)}</table></div>"


def _number(value: int | None) -> str:
    return "·" if value is None else str(value)


def _heat_map(result: ScanResult) -> str:
    names = [p.name for p in result.participants]
    cells = pair_matrix(result)
    most = max(cells.values(), default=0)
    head = "".join(f"<th class='col'>{escape(n)}</th>" for n in names)
    rows = [f"<tr><th></th>{head}</tr>"]
    for row in names:
        tds = []
        for column in names:
            count = cells.get((row, column), 0)
            if row == column and not count:
                tds.append("<td class='cell self'>·</td>")
                continue
            # Darker with more findings; white figures on the darkest cells.
            alpha = 0.12 + 0.78 * count / most if count and most else 0
            ink = "; color: #fff" if alpha > 0.5 else ""
            style = f" style='background: rgba(207, 34, 46, {alpha:.2f}){ink}'" if count else ""
            label = f"{row} ↔ {column}: {plural(count, 'finding')}"
            tds.append(f"<td class='cell'{style} title='{escape(label)}'>{count or ''}</td>")
        rows.append(f"<tr><th>{escape(row)}</th>{''.join(tds)}</tr>")
    return f"<div class='scroll card'><table class='heat'>{''.join(rows)}</table></div>"


def _findings(result: ScanResult, groups: list[list[str]]) -> list[str]:
    if not result.findings:
        return ["<h2>Findings</h2><p class='muted'>No drift.</p>"]
    out = ["<h2>Findings by cluster</h2>"]
    placed: set[int] = set()
    findings = ordered_findings(result)
    for number, members in enumerate(groups, 1):
        inside = set(members)
        mine = [
            (i, f)
            for i, f in enumerate(findings)
            if set(involved(result, f)) <= inside and i not in placed
        ]
        placed |= {i for i, _ in mine}
        out.append(
            f"<section class='cluster-findings' data-cluster='{number}'><h3>Cluster {number}: "
            f"{escape(', '.join(members))} <span class='muted'>({plural(len(mine), 'finding')})"
            "</span></h3>"
        )
        out += [_finding(f) for _, f in mine]
        out.append("</section>")
    rest = [f for i, f in enumerate(findings) if i not in placed]
    if rest:
        out.append("<section class='cluster-findings'><h3>Other findings</h3>")
        out += [_finding(f) for f in rest]
        out.append("</section>")
    return out


def _finding(finding: Finding) -> str:
    where = finding.path or ""
    if finding.path and finding.line:
        where += f":{finding.line}"
    who = " ↔ ".join(dict.fromkeys(finding.participants))
    title = CODE_TITLES.get(finding.code, finding.kind)
    details = json.dumps(dict(finding.details), indent=2, default=str, ensure_ascii=False)
    symbol = f"<p>symbol <code>{escape(finding.symbol)}</code></p>" if finding.symbol else ""
    severity, code = finding.severity.value, escape(finding.code)
    return (
        f"<details class='finding {severity}' data-code='{code}'>"
        f"<summary><span class='badge {severity}'>{severity}</span> <code>{code}</code> "
        f"{escape(title)} · <code>{escape(where)}</code> · {escape(who)}</summary>"
        f"<div class='body'><p>{escape(finding.message)}</p>{symbol}"
        f"<pre>{escape(details)}</pre></div></details>"
    )
