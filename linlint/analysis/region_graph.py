"""Building a ``RegionPicture`` (``pictures``) from the analysis of one graph: a region's
nodes, the neighbours that produce what it reads and read what it computes, the tensors
between them with their shapes, and the key attributes and weight shapes of each node."""

from __future__ import annotations

import os

from linlint.analysis.optable import Kind
from linlint.analysis.pictures import (
    Attributes,
    FoldedOp,
    PictureEdge,
    PictureNode,
    RegionPicture,
)
from linlint.analysis.shapes import ShapeOracle
from linlint.analysis.sweep import GraphAnalysis
from linlint.model.graphs import attr

#: The attributes worth showing on a node, in this order, under these names.
KEY_ATTRIBUTES = (
    ("kernel_shape", "kernel"),
    ("strides", "strides"),
    ("dilations", "dilations"),
    ("pads", "pads"),
    ("group", "groups"),
    ("perm", "perm"),
    ("axis", "axis"),
    ("axes", "axes"),
    ("transA", "transA"),
    ("transB", "transB"),
    ("alpha", "alpha"),
    ("beta", "beta"),
    ("min", "min"),
    ("max", "max"),
    ("mode", "mode"),
    ("count_include_pad", "count_include_pad"),
    ("ceil_mode", "ceil_mode"),
    ("equation", "equation"),
)
WEIGHTED_SPATIAL = ("Conv", "ConvTranspose")


def key_attributes(node, weight_shape: tuple[int, ...] | None = None) -> Attributes:
    """The attributes a drawing shows: kernel (from the weight where the node has no
    ``kernel_shape``), strides, pads, groups, perm, axis ... as plain values."""
    found: list[tuple[str, object]] = []
    for onnx_name, shown in KEY_ATTRIBUTES:
        value = attr(node, onnx_name)
        if value is None:
            if onnx_name == "kernel_shape" and node.op_type in WEIGHTED_SPATIAL and weight_shape:
                found.append((shown, tuple(weight_shape[2:])))
            continue
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        elif isinstance(value, (list, tuple)):
            value = tuple(
                v.decode("utf-8", "replace") if isinstance(v, bytes) else v for v in value
            )
        elif not isinstance(value, (int, float, str)):
            continue  # a tensor or a graph: not a key attribute
        found.append((shown, value))
    return tuple(found)


class _Builder:
    """Collects the nodes and edges of one picture, each node once."""

    def __init__(self, ga: GraphAnalysis, shapes: ShapeOracle) -> None:
        self.ga, self.shapes = ga, shapes
        self.ids: dict[object, str] = {}  # node index, or ("input"|"output", tensor) -> id
        self.nodes: list[PictureNode] = []
        self.edges: list[PictureEdge] = []

    def shape(self, tensor: str) -> tuple[int | None, ...] | None:
        try:
            return self.shapes.sizes(self.ga, tensor)
        except Exception:  # a shape the walk cannot tell never stops a report
            return None

    def add_node(self, index: int, role: str) -> str:
        if index in self.ids:
            return self.ids[index]
        state = self.ga.nodes[index]
        node = state.node
        weights = tuple(
            (t, self.shape(t)) for t in node.input if t and t not in state.data and role == "region"
        )
        first = weights[0][1] if weights and node.op_type in WEIGHTED_SPATIAL else None
        node_id = self.ids[index] = f"n{len(self.nodes)}"
        self.nodes.append(
            PictureNode(
                id=node_id,
                name=state.name,
                op_type=node.op_type,
                role=role,
                parametric=state.kind == Kind.PARAM,
                attributes=key_attributes(node, first),
                weights=weights,
            )
        )
        return node_id

    def add_terminal(self, tensor: str, role: str) -> str:
        key = (role, tensor)
        if key not in self.ids:
            self.ids[key] = f"n{len(self.nodes)}"
            self.nodes.append(PictureNode(id=self.ids[key], name=tensor, op_type="", role=role))
        return self.ids[key]

    def producer_id(self, tensor: str) -> str:
        j = self.ga.producer.get(tensor)
        return self.add_terminal(tensor, "input") if j is None else self.add_node(j, "before")

    def edge(self, tensor: str, tail: str, head: str, role: str) -> None:
        self.edges.append(PictureEdge(tensor, tail, head, self.shape(tensor), role))


def region_picture(
    ga: GraphAnalysis,
    members: tuple[int, ...],
    output: str,
    shapes: ShapeOracle,
    folded: tuple[FoldedOp, ...] | None,
) -> RegionPicture | None:
    """The picture of the region of nodes ``members`` (indices, in order) computing
    ``output``: the region, its immediate neighbours, and ``folded``. None where it cannot
    be drawn: a picture never stops a lint run (``LINLINT_DEBUG=1`` raises)."""
    try:
        return _region_picture(ga, members, output, shapes, folded)
    except Exception:
        if os.environ.get("LINLINT_DEBUG"):
            raise
        return None


def _region_picture(ga, members, output, shapes, folded) -> RegionPicture:
    b = _Builder(ga, shapes)
    inside = set(members)
    for j in members:
        b.add_node(j, "region")
    sources: list[str] = []
    for j in members:  # what each region node reads: from inside, or a source
        head = b.ids[j]
        for t in ga.nodes[j].data:
            producer = ga.producer.get(t)
            if producer in inside:
                b.edge(t, b.ids[producer], head, "inner")
            else:
                if t not in sources:
                    sources.append(t)
                b.edge(t, b.producer_id(t), head, "source")
    for j in members:  # what reads the region's tensors outside it
        for t in ga.nodes[j].node.output:
            if not t:
                continue
            role = "exit" if t == output else "out"
            for c in ga.consumers.get(t, ()):
                if c not in inside:
                    b.edge(t, b.ids[j], b.add_node(c, "after"), role)
            if t in ga.outputs:
                b.edge(t, b.ids[j], b.add_terminal(t, "output"), role)
    return RegionPicture(tuple(sources), output, tuple(b.nodes), tuple(b.edges), folded)


def node_picture(ga: GraphAnalysis, index: int, shapes: ShapeOracle) -> RegionPicture | None:
    """The picture of one flagged node (an identity activation): removing it writes nothing."""
    out = ga.nodes[index].node.output[0]
    return region_picture(ga, (index,), out, shapes, ())
