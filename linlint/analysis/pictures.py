"""A finding's region as data, for the reports that draw it: the region's nodes and their
immediate neighbours, the tensors between them, and the ops its fold would write.

``RegionPicture`` holds

- ``nodes``: every node of the region (role ``region``), the nodes that produce what it
  reads (``before``: the producer of a source, or a graph input, role ``input``) and the
  nodes that read what it computes (``after``; a graph output is a node of role
  ``output``) — never more of the graph than that;
- ``edges``: one per tensor read, from its producer's ``id`` to its reader's, with its
  shape where known (a size the model leaves free is None) and its role: ``source`` (a
  tensor the region reads from outside), ``exit`` (the tensor the region computes),
  ``inner`` (between two region nodes), ``out`` (an intermediate read outside);
- ``folded``: the ops the fold writes (``emitted_ops`` of the normal form, in order, with
  kernel, strides, groups and weight shapes), a chain from the source to the exit; None
  when there is no exact fold, ``()`` when the fold removes the node (an identity).

A node's ``origin`` (the source code it came from) is left None here: ``checking.attribution`` fills
it. Weights (constant inputs) are listed per node with their shapes, never drawn as nodes.
``region_graph`` builds a picture from the analysis; this module holds only the records.
"""

from __future__ import annotations

from dataclasses import dataclass

Attributes = tuple[tuple[str, object], ...]


@dataclass(frozen=True)
class PictureNode:
    """One node of the drawing: a node of the region, a neighbour, or a graph input/output."""

    id: str  # unique within the picture: n0, n1, ...
    name: str  # the node's display name (a graph input's or output's tensor name)
    op_type: str  # "" for a graph input or output
    role: str  # region | before | after | input | output
    parametric: bool = False
    attributes: Attributes = ()
    weights: tuple[tuple[str, tuple[int, ...] | None], ...] = ()  # (tensor, shape)
    #: Where the node came from in the source code (``checking.attribution`` fills it in
    #: where the model says: ``block.expand (Conv2d) at model.py:6 in forward``).
    origin: str | None = None

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "op_type": self.op_type,
            "role": self.role,
            "parametric": self.parametric,
            "attributes": dict(self.attributes),
            "weights": [{"tensor": t, "shape": _list(s)} for t, s in self.weights],
            "origin": self.origin,
        }


@dataclass(frozen=True)
class PictureEdge:
    """A tensor from the node that computes it to one node that reads it."""

    tensor: str
    tail: str  # the producing node's id
    head: str  # the reading node's id
    shape: tuple[int | None, ...] | None
    role: str  # source | exit | inner | out

    def to_dict(self) -> dict:
        return {
            "tensor": self.tensor,
            "from": self.tail,
            "to": self.head,
            "shape": _list(self.shape),
            "role": self.role,
        }


@dataclass(frozen=True)
class FoldedOp:
    """One op the fold writes: its type, key attributes and weight shapes."""

    op_type: str
    attributes: Attributes = ()
    weights: tuple[tuple[int, ...], ...] = ()

    def to_dict(self) -> dict:
        return {
            "op_type": self.op_type,
            "attributes": dict(self.attributes),
            "weights": [list(w) for w in self.weights],
        }


@dataclass(frozen=True)
class RegionPicture:
    """A region and its neighbours as a small graph, and what its fold writes."""

    sources: tuple[str, ...]
    exit: str
    nodes: tuple[PictureNode, ...]
    edges: tuple[PictureEdge, ...]
    folded: tuple[FoldedOp, ...] | None

    def to_dict(self) -> dict:
        folded = None if self.folded is None else [op.to_dict() for op in self.folded]
        return {
            "sources": list(self.sources),
            "exit": self.exit,
            "nodes": [n.to_dict() for n in self.nodes],
            "edges": [e.to_dict() for e in self.edges],
            "folded": folded,
        }

    def node(self, node_id: str) -> PictureNode:
        return next(n for n in self.nodes if n.id == node_id)

    @property
    def members(self) -> tuple[PictureNode, ...]:
        """The region's own nodes, in order."""
        return tuple(n for n in self.nodes if n.role == "region")


def _list(shape):
    return None if shape is None else list(shape)
