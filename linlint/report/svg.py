"""Inline SVG of a finding: its region before the fold, and after it, side by side.

Each diagram (``drawing``) is laid out by ``layout.layered`` (top to bottom). A box is a
``<g class="node …">`` with a rectangle and two lines of text (the op label, the name);
an arrow is a ``<path class="edge …">`` with the tensor's shape beside it. Weight-carrying
ops are filled blue, the ops between white, neighbours outside the region dashed grey,
graph inputs and outputs rounded. The arrows the region reads (``source``) are green, the
one it computes (``exit``) orange, an intermediate read outside it red and dashed.
Everything is plain SVG and inline CSS: no script, no font, nothing fetched.
"""

from __future__ import annotations

from dataclasses import replace

from linlint.report.drawing import Diagram
from linlint.report.escape import html_text
from linlint.report.layout import Layout, layered

CHAR = 7.0  # width of one character of the 11.5px monospace labels
SHAPE_CHAR = 5.9  # of the 9.5px shapes
LINE = 14.0
PAD = 8.0
GAP = 70.0  # between the two diagrams, for the fold arrow

STYLE = """
.ll-drawing text{font:11.5px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;fill:#1f2328}
.ll-drawing .node rect{stroke:#57606a;stroke-width:1;fill:#fff}
.ll-drawing .node.param rect{fill:#dbeafe;stroke:#1d4ed8;stroke-width:1.6}
.ll-drawing .node.neighbour rect{fill:#f6f8fa;stroke:#8c959f;stroke-dasharray:4 3}
.ll-drawing .node.neighbour text,.ll-drawing .node.terminal text{fill:#57606a}
.ll-drawing .node.terminal rect{fill:#f6f8fa;stroke:#8c959f}
.ll-drawing .node .name{fill:#57606a;font-size:10.5px}
.ll-drawing .edge{fill:none;stroke:#57606a;stroke-width:1.2}
.ll-drawing .edge.source{stroke:#1a7f37;stroke-width:2}
.ll-drawing .edge.exit{stroke:#bc4c00;stroke-width:2}
.ll-drawing .edge.out{stroke:#cf222e;stroke-dasharray:5 3}
.ll-drawing .shape{font-size:9.5px;fill:#6e7781}
.ll-drawing .caption{font-weight:bold;fill:#24292f}
.ll-drawing .fold{stroke:#24292f;stroke-width:2;fill:none}
"""


def _box_size(op: str, name: str) -> tuple[float, float]:
    return max(len(op), len(name), 4) * CHAR + 2 * PAD, 2 * LINE + PAD


def _layout(diagram: Diagram) -> Layout:
    sizes = {b.id: _box_size(b.op, b.name) for b in diagram.boxes}
    layout = layered(sizes, [(a.tail, a.head) for a in diagram.arrows])
    right = layout.width
    for arrow, points in zip(diagram.arrows, layout.paths, strict=True):
        if arrow.shape and len(points) >= 2:  # room for the shape beside the arrow
            middle = (points[-2][0] + points[-1][0]) / 2
            right = max(right, middle + 8 + len(arrow.shape) * SHAPE_CHAR)
    return replace(layout, width=right)


def _diagram(diagram: Diagram, layout: Layout, dx: float, dy: float, part: str, marker: str):
    out = [f'<g class="{part}" transform="translate({dx:.1f},{dy:.1f})">']
    labelled: set[tuple[str, str]] = set()  # a tensor read several times shows its shape once
    for arrow, points in zip(diagram.arrows, layout.paths, strict=True):
        d = "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in points)
        title = html_text(f"{arrow.tensor} {arrow.shape}".strip())
        out.append(
            f'<path class="edge {arrow.role}" d="{d}" marker-end="url(#{marker})">'
            f"<title>{title}</title></path>"
        )
        if arrow.shape and len(points) >= 2 and (arrow.tensor, arrow.tail) not in labelled:
            labelled.add((arrow.tensor, arrow.tail))
            (x0, y0), (x1, y1) = points[-2], points[-1]
            out.append(
                f'<text class="shape" x="{(x0 + x1) / 2 + 4:.1f}" y="{(y0 + y1) / 2 + 3:.1f}">'
                f"{html_text(arrow.shape)}</text>"
            )
    for box in diagram.boxes:
        p = layout.boxes[box.id]
        rx = 12 if box.kind == "terminal" else 4
        out.append(
            f'<g class="node {box.kind}" data-id="{html_text(box.id)}">'
            f"<title>{html_text(box.op)} {html_text(box.name)}</title>"
            f'<rect x="{p.x:.1f}" y="{p.y:.1f}" width="{p.width:.1f}" height="{p.height:.1f}" '
            f'rx="{rx}"/>'
            f'<text x="{p.centre:.1f}" y="{p.y + LINE:.1f}" text-anchor="middle">'
            f"{html_text(box.op)}</text>"
            f'<text class="name" x="{p.centre:.1f}" y="{p.y + 2 * LINE:.1f}" '
            f'text-anchor="middle">{html_text(box.name)}</text></g>'
        )
    out.append("</g>")
    return out


def region_svg(before: Diagram, after: Diagram | None, key: str, note: str = "") -> str:
    """One ``<svg>``: *before* on the left, *after* on the right (or ``note`` where the
    region has no exact fold). ``key`` makes the arrowhead's id unique in the page."""
    marker = f"ll-arrow-{key}"
    top = 22.0
    first = _layout(before)
    second = _layout(after) if after is not None else None
    width = first.width + GAP + (second.width if second else max(len(note) * CHAR, 120))
    height = top + max(first.height, second.height if second else 40)
    out = [
        f'<svg class="ll-drawing" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}">',
        f'<defs><marker id="{marker}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" '
        f'markerHeight="8" markerUnits="userSpaceOnUse" orient="auto-start-reverse">'
        f'<path d="M0,0 L10,5 L0,10 z" fill="#57606a"/></marker></defs>',
        '<text class="caption" x="8" y="14">before</text>',
    ]
    out += _diagram(before, first, 0, top, "before", marker)
    mid = top + min(first.height, second.height if second else 40) / 2
    x0 = first.width + 10
    out.append(
        f'<path class="fold" d="M{x0:.1f},{mid:.1f} L{x0 + GAP - 20:.1f},{mid:.1f}" '
        f'marker-end="url(#{marker})"/>'
    )
    left = first.width + GAP
    if second is not None and after is not None:
        out.append(f'<text class="caption" x="{left + 8:.1f}" y="14">after the fold</text>')
        out += _diagram(after, second, left, top, "after", marker)
    else:
        out.append(
            f'<text class="caption" x="{left:.1f}" y="{mid + 4:.1f}">{html_text(note)}</text>'
        )
    out.append("</svg>")
    return "".join(out)
