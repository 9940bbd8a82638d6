"""The participants' graph as inline SVG, laid out here so the page needs no script.

Clusters are boxes holding their members in a small grid; participants outside
every cluster follow. Items flow left to right and wrap. Edges are gentle curves
between node centres (a curve per kind, so a dependency and a conflict between
the same two participants stay apart): dependencies as blue arrows, conflicts
as red lines, duplicates as dashed red lines.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

from driftcheck.model import DEPENDS_ON, DUPLICATES, PlanEdge

NODE_W, NODE_H = 184, 38
GAP = 26
PAD = 16  # inside a cluster box, around its members
LABEL = 18  # the cluster's label above its members
MAX_WIDTH = 1160
_MAX_NAME = 24
_BEND = {DEPENDS_ON: 0.12, DUPLICATES: -0.16}  # conflicts: -0.08


@dataclass(frozen=True)
class NodeStyle:
    """How a participant is drawn: its CSS role and an optional step number."""

    role: str = ""  # "trunk", "held", "deletable" or ""
    step: int | None = None
    title: str = ""  # tooltip: status words


def render_svg(
    names: Sequence[str],
    edges: Sequence[PlanEdge],
    clusters: Sequence[Sequence[str]],
    styles: Mapping[str, NodeStyle],
) -> str:
    positions, boxes, width, height = _layout(names, clusters)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="participants graph">',
        "<defs>"
        '<marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="#0969da"/></marker></defs>',
    ]
    for number, (x, y, w, h) in enumerate(boxes, 1):
        parts.append(
            f'<g class="cluster" data-cluster="{number}"><rect x="{x}" y="{y}" width="{w}" '
            f'height="{h}" rx="10"/><text x="{x + 10}" y="{y + 14}">cluster {number}</text></g>'
        )
    for edge in edges:
        if edge.source in positions and edge.target in positions:
            parts.append(_edge(edge, positions[edge.source], positions[edge.target]))
    for name in names:
        parts.append(_node(name, positions[name], styles.get(name, NodeStyle())))
    parts.append("</svg>")
    return "".join(parts)


def _layout(
    names: Sequence[str], clusters: Sequence[Sequence[str]]
) -> tuple[dict[str, tuple[float, float]], list[tuple[float, float, float, float]], int, int]:
    """Node centres, cluster boxes (x, y, w, h), and the drawing's size."""
    clustered = {n for c in clusters for n in c}
    items: list[list[str]] = [list(c) for c in clusters]
    singles = [n for n in names if n not in clustered]
    positions: dict[str, tuple[float, float]] = {}
    boxes: list[tuple[float, float, float, float]] = []
    x = y = float(GAP)
    row_height = 0.0
    for members in items:
        columns = min(3, len(members))
        rows = math.ceil(len(members) / columns)
        w = columns * NODE_W + (columns - 1) * GAP + 2 * PAD
        h = rows * NODE_H + (rows - 1) * GAP + 2 * PAD + LABEL
        if x + w > MAX_WIDTH and x > GAP:
            x, y, row_height = float(GAP), y + row_height + GAP, 0.0
        boxes.append((x, y, w, h))
        for i, name in enumerate(members):
            cx = x + PAD + (i % columns) * (NODE_W + GAP) + NODE_W / 2
            cy = y + PAD + LABEL + (i // columns) * (NODE_H + GAP) + NODE_H / 2
            positions[name] = (cx, cy)
        x += w + GAP
        row_height = max(row_height, h)
    for name in singles:
        # Singles sit a little lower in a row of boxes, level with the first members.
        if x + NODE_W > MAX_WIDTH and x > GAP:
            x, y, row_height = float(GAP), y + row_height + GAP, 0.0
        offset = PAD + LABEL if boxes and row_height > NODE_H else 0
        positions[name] = (x + NODE_W / 2, y + offset + NODE_H / 2)
        x += NODE_W + GAP
        row_height = max(row_height, offset + NODE_H)
    width = int(
        max([b[0] + b[2] for b in boxes] + [p[0] + NODE_W / 2 for p in positions.values()] + [0])
        + GAP
    )
    height = int(y + row_height + GAP)
    return positions, boxes, width, height


def _edge(edge: PlanEdge, start: tuple[float, float], end: tuple[float, float]) -> str:
    (x1, y1), (x2, y2) = start, end
    dx, dy = x2 - x1, y2 - y1
    length = math.hypot(dx, dy) or 1.0
    bend = _BEND.get(edge.kind, -0.08) * length
    mx, my = (x1 + x2) / 2 - dy / length * bend, (y1 + y2) / 2 + dx / length * bend
    if edge.kind == DEPENDS_ON:
        # The arrow stops at the provider's border, not under its label.
        x2, y2 = _border(end, (mx, my))
    codes = ", ".join(edge.findings) or ", ".join(edge.symbols[:3])
    title = escape(f"{edge.source} {edge.kind} {edge.target}" + (f": {codes}" if codes else ""))
    marker = ' marker-end="url(#arrow)"' if edge.kind == DEPENDS_ON else ""
    return (
        f'<path class="edge {edge.kind}" data-from="{escape(edge.source)}" '
        f'data-to="{escape(edge.target)}" d="M{x1:.1f},{y1:.1f} Q{mx:.1f},{my:.1f} '
        f'{x2:.1f},{y2:.1f}"{marker}><title>{title}</title></path>'
    )


def _border(centre: tuple[float, float], towards: tuple[float, float]) -> tuple[float, float]:
    """Where the line from `towards` to a node's `centre` crosses its rectangle."""
    cx, cy = centre
    dx, dy = towards[0] - cx, towards[1] - cy
    if dx == 0 and dy == 0:
        return centre
    scale = min(
        (NODE_W / 2) / abs(dx) if dx else math.inf, (NODE_H / 2) / abs(dy) if dy else math.inf
    )
    return cx + dx * scale, cy + dy * scale


def _node(name: str, centre: tuple[float, float], style: NodeStyle) -> str:
    cx, cy = centre
    x, y = cx - NODE_W / 2, cy - NODE_H / 2
    shown = name if len(name) <= _MAX_NAME else name[: _MAX_NAME - 1] + "…"
    badge = ""
    text_x = cx
    if style.step is not None:
        badge = (
            f'<circle class="stepdot" cx="{x + 16}" cy="{cy}" r="10"/>'
            f'<text class="step" x="{x + 16}" y="{cy + 4}" text-anchor="middle">{style.step}</text>'
        )
        text_x = cx + 10
    title = escape(f"{name}: {style.title}" if style.title else name)
    return (
        f'<g class="node {style.role}" data-name="{escape(name)}"><title>{title}</title>'
        f'<rect x="{x}" y="{y}" width="{NODE_W}" height="{NODE_H}" rx="7"/>{badge}'
        f'<text x="{text_x}" y="{cy + 4}" text-anchor="middle">{escape(shown)}</text></g>'
    )
