"""A finding's region as two small diagrams, before and after the fold, for every format
that draws (``svg``, ``markdown``, ``tree``): boxes with an op label and a name, arrows
with the tensor and its shape.

*Before* is the region as it is, with its immediate neighbours (``RegionPicture``'s nodes
and edges, one box and one arrow each). *After* is what the fold writes: the nodes that
produce the region's sources, the folded ops in a chain, and the nodes that read its exit
(nothing between them where the fold removes a node); there is no *after* without an exact
fold. A box's ``kind`` says how it is drawn: ``param`` (a weight-carrying op), ``op``,
``neighbour`` (outside the region) or ``terminal`` (a graph input or output).
"""

from __future__ import annotations

from dataclasses import dataclass

from linlint.analysis.pictures import FoldedOp, PictureNode, RegionPicture

SHORT_OPS = {"BatchNormalization": "BatchNorm", "GlobalAveragePool": "GlobalAvgPool"}
SPATIAL_OPS = ("Conv", "ConvTranspose", "AveragePool", "MaxPool", "LpPool")
MAX_NAME = 28


@dataclass(frozen=True)
class Box:
    id: str
    op: str  # the op label ("Conv 3x3 s2"), or "input" / "output"
    name: str  # the node's name, a weight shape, or a tensor name
    kind: str  # param | op | neighbour | terminal


@dataclass(frozen=True)
class Arrow:
    tail: str
    head: str
    tensor: str
    shape: str  # "1x8x16x16", "" when unknown
    role: str  # source | exit | inner | out


@dataclass(frozen=True)
class Diagram:
    boxes: tuple[Box, ...]
    arrows: tuple[Arrow, ...]


def shape_text(shape) -> str:
    """``[1, None, 8]`` as ``1x?x8``; '' when unknown."""
    if shape is None:
        return ""
    return "x".join("?" if d is None else str(d) for d in shape) or "scalar"


def short_name(name: str, limit: int = MAX_NAME) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def op_label(op_type: str, attributes, weights=()) -> str:
    """``Conv 3x3 s2 g8``, ``Gemm 64→10``, ``BatchNorm``: the op and what sizes it."""
    attrs = dict(attributes)
    label = SHORT_OPS.get(op_type, op_type)
    if op_type in SPATIAL_OPS and attrs.get("kernel"):
        label += " " + "x".join(str(k) for k in attrs["kernel"])
        strides = attrs.get("strides") or ()
        if any(s > 1 for s in strides):
            same = len(set(strides)) == 1
            label += " s" + (str(strides[0]) if same else "x".join(map(str, strides)))
        dilations = attrs.get("dilations") or ()
        if any(d > 1 for d in dilations):
            label += " d" + str(max(dilations))
        if (attrs.get("groups") or 1) > 1:
            label += f" g{attrs['groups']}"
    elif op_type in ("Gemm", "MatMul") and weights:
        first = _shape(weights[0])
        if first is not None and len(first) == 2 and None not in first:
            rows, cols = (first[1], first[0]) if attrs.get("transB") else first
            label += f" {rows}→{cols}"
    return label


def _shape(weight):
    """A weight's shape, from a node's ``(tensor, shape)`` or a folded op's ``shape``."""
    if isinstance(weight, tuple) and len(weight) == 2 and isinstance(weight[0], str):
        return weight[1]
    return weight


def _node_box(node: PictureNode) -> Box:
    if node.role in ("input", "output"):
        return Box(node.id, node.role, short_name(node.name), "terminal")
    kind = "neighbour" if node.role != "region" else "param" if node.parametric else "op"
    label = op_label(node.op_type, node.attributes, node.weights)
    return Box(node.id, label, short_name(node.name), kind)


def _folded_box(index: int, op: FoldedOp) -> Box:
    weight = "x".join(map(str, op.weights[0])) if op.weights else "folded"
    kind = "param" if op.op_type in ("Conv", "ConvTranspose", "Gemm", "MatMul") else "op"
    return Box(f"f{index}", op_label(op.op_type, op.attributes, op.weights), weight, kind)


def before(picture: RegionPicture) -> Diagram:
    """The region and its neighbours, as they are."""
    boxes = tuple(_node_box(n) for n in picture.nodes)
    arrows = tuple(
        Arrow(e.tail, e.head, e.tensor, shape_text(e.shape), e.role) for e in picture.edges
    )
    return Diagram(boxes, arrows)


def after(picture: RegionPicture) -> Diagram | None:
    """What the fold writes between the region's neighbours; None without an exact fold."""
    if picture.folded is None:
        return None
    by_id = {n.id: n for n in picture.nodes}
    entries: dict[tuple[str, str], Arrow] = {}  # (tensor, producer) -> its arrow
    for e in picture.edges:
        if e.role == "source":
            arrow = Arrow(e.tail, "", e.tensor, shape_text(e.shape), "source")
            entries.setdefault((e.tensor, e.tail), arrow)
    exits = [e for e in picture.edges if e.role == "exit"]
    boxes = [_node_box(by_id[tail]) for _, tail in entries]
    folded = [_folded_box(k, op) for k, op in enumerate(picture.folded)]
    boxes += folded
    arrows: list[Arrow] = []
    first = folded[0].id if folded else None
    for (tensor, tail), arrow in entries.items():
        if first is not None:
            arrows.append(Arrow(tail, first, tensor, arrow.shape, "source"))
        else:  # the node is removed: what read its output reads its input
            arrows += [Arrow(tail, e.head, tensor, arrow.shape, "source") for e in exits]
    for a, b in zip(folded, folded[1:], strict=False):
        arrows.append(Arrow(a.id, b.id, "", "", "inner"))
    seen = {b.id for b in boxes}
    for e in exits:
        if e.head not in seen:
            boxes.append(_node_box(by_id[e.head]))
            seen.add(e.head)
        if folded:
            arrows.append(Arrow(folded[-1].id, e.head, e.tensor, shape_text(e.shape), "exit"))
    return Diagram(tuple(boxes), tuple(arrows))
