"""A model's cost totals (parametric ops, nodes, MACs, parameters), before or after a fold."""

from __future__ import annotations

import math
from dataclasses import dataclass

from onnx import ModelProto

from linlint.analysis.absorb import Evaluator
from linlint.analysis.optable import Kind
from linlint.analysis.shapes import ShapeOracle
from linlint.analysis.sweep import GraphAnalysis, analyze_model
from linlint.checking.checker import iter_graphs


@dataclass(frozen=True)
class Costs:
    """Model-wide totals, before or after folding."""

    param_ops: int
    nodes: int
    macs: int
    params: int


def model_costs(model: ModelProto, input_shapes=None, ga: GraphAnalysis | None = None) -> Costs:
    """The model's totals; ``ga``: its analysis, when one is at hand (else it is analysed)."""
    if ga is None:
        ga = analyze_model(model)
    # Local shapes, as check uses: onnx inference on defaulted symbolic sizes can abort
    # the process (negative dims reach C++ assertions), and would disagree with check.
    # An oracle of its own: the one a fold or check evaluates regions with remembers shapes.
    shapes = ShapeOracle(model, input_shapes)
    param_ops = nodes = macs = 0
    for g in iter_graphs(ga):
        ev = Evaluator(g, shapes, numeric=False)
        nodes += len(g.nodes)
        for s in g.nodes:
            if s.kind == Kind.PARAM:
                param_ops += 1
                macs += ev.fallback_cost(s)[0]
    params = 0
    for g in iter_graphs(ga):
        for t in g.graph.initializer:
            params += math.prod(t.dims)
    return Costs(param_ops, nodes, macs, params)
