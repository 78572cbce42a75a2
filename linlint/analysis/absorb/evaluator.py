"""What an absorber reads while evaluating one region: constants, shapes and per-node
costs (``Evaluator``), and whether a weight lives in an external file."""

from __future__ import annotations

import math

import numpy as np
import onnx

from linlint.analysis.forms import NotFoldable
from linlint.analysis.shapes import ShapeOracle
from linlint.analysis.sweep import GraphAnalysis, NodeState
from linlint.model.graphs import attribute
from linlint.wording import quoted


def external_weight(ga: GraphAnalysis, name: str) -> bool:
    """Whether a constant may live in an external file (computed ones count as such)."""
    scope, initializer = ga.defining_scope(name)
    if initializer is not None:
        return getattr(initializer, "data_location", 0) == onnx.TensorProto.EXTERNAL
    if scope is None:
        return False
    node = scope.graph.node[scope.producer[name]]
    if node.op_type == "Constant":
        value = attribute(node, "value")
        return value is not None and value.t.data_location == onnx.TensorProto.EXTERNAL
    return True  # computed from constants, maybe external ones


def reads_external(ga: GraphAnalysis, indices) -> bool:
    """Whether a region's weights may need an external file."""
    for j in indices:
        state = ga.nodes[j]
        if state.kind is None:
            continue
        for name in state.node.input:
            if name and name not in state.data and external_weight(ga, name):
                return True
    return False


class WeightsNotHeld(Exception):
    """A weight lives in an external file and this evaluation does not read files."""


class Evaluator:
    """Constants, shapes and per-node costs for evaluating one region."""

    def __init__(
        self, ga: GraphAnalysis, shapes: ShapeOracle, numeric: bool, held_only: bool = False
    ) -> None:
        self.ga = ga
        self.shapes = shapes
        self.numeric = numeric
        self.held_only = held_only  # never read weights from external files
        self.costs: dict[int, tuple[int, int]] = {}
        self.source: str | None = None
        #: The form of every tensor of the region evaluated so far (by tensor name).
        self.forms: dict[str, object] = {}

    def const_shape(self, name: str) -> tuple[int, ...] | None:
        _, initializer = self.ga.defining_scope(name)
        if initializer is not None:
            return tuple(initializer.dims)
        value = self.ga.const_value(name)
        if value is not None:
            return tuple(value.shape)
        return self.shapes.local(self.ga, name)

    def small(self, name: str) -> np.ndarray | None:
        """A small constant's value (pads, axes, slopes), read even when checking."""
        return self.ga.const_value(name) if name else None

    def value(self, name: str) -> np.ndarray | None:
        """A weight's value in float64 when folding; None when only checking."""
        if not self.numeric or not name:
            return None
        v = self.ga.const_value(name, large=True)
        if v is None:
            if self.held_only and external_weight(self.ga, name):
                raise WeightsNotHeld(name)
            raise NotFoldable(f"the value of {quoted(name)} is not known before run time")
        v = np.asarray(v, dtype=np.float64)
        if not np.all(np.isfinite(v)):
            raise NotFoldable(f"the weight {quoted(name)} holds NaN or Inf")
        return v

    def nonzero(self, name: str) -> bool:
        """Whether a bias/shift may be nonzero (unknown values count as nonzero)."""
        if not name:
            return False
        v = self.small(name)
        return v is None or bool(np.any(v != 0))

    def source_shape(self) -> tuple[int, ...] | None:
        """The source's shape: declared, or derived locally."""
        return self.shapes.local(self.ga, self.source) if self.source else None

    def source_fixed(self) -> bool:
        """Whether the model itself fixes every size of the source's shape."""
        return self.shapes.fixed(self.ga, self.source)

    def fallback_cost(self, s: NodeState) -> tuple[int | None, int]:
        """A parametric node's MACs and parameters from its shapes, where no absorber
        recorded them; MACs None where the shape they are counted on is unknown (never
        counted on a guessed size: ``cost_basis`` calls such a region's figures unknown)."""
        node = s.node
        w_name = next((t for t in node.input if t and t not in s.data), "")
        w_shape = self.const_shape(w_name) or ()
        params = math.prod(w_shape) if w_shape else 0
        counted = node.input[0] if node.op_type == "ConvTranspose" else node.output[0]
        shape = self.shapes.local(self.ga, counted)
        if shape is None:
            return None, params
        if node.op_type in ("Conv", "ConvTranspose") and len(w_shape) > 2:
            return math.prod(w_shape) * math.prod(shape[:1] + shape[2:]), params
        rows = math.prod(shape[:-1]) if len(shape) > 1 else 1
        return rows * params, params
