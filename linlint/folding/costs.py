"""A model's cost totals (parametric ops, nodes, MACs, parameters), before or after a fold."""

from __future__ import annotations

import math
from dataclasses import dataclass

from onnx import ModelProto

from linlint.analysis.absorb import Evaluator
from linlint.analysis.optable import Kind
from linlint.analysis.shapes import FreeInput, ShapeOracle
from linlint.analysis.sweep import GraphAnalysis, analyze_model
from linlint.checking.checker import iter_graphs
from linlint.model.graphs import initializer_names


@dataclass(frozen=True)
class Costs:
    """Model-wide totals, before or after folding. ``macs`` leaves out the parametric ops
    whose shapes are unknown (``unknown_macs`` of them); where the model leaves a size
    symbolic and the user gave none, ``sizes`` holds the inputs at the sizes counted."""

    param_ops: int
    nodes: int
    macs: int
    params: int
    unknown_macs: int = 0
    sizes: tuple[FreeInput, ...] = ()


def model_costs(model: ModelProto, input_shapes=None, ga: GraphAnalysis | None = None) -> Costs:
    """The model's totals; ``ga``: its analysis, when one is at hand (else it is analysed)."""
    if ga is None:
        ga = analyze_model(model)
    # Local shapes, as check uses: onnx inference on defaulted symbolic sizes can abort
    # the process (negative dims reach C++ assertions), and would disagree with check.
    # An oracle of its own: the one a fold or check evaluates regions with remembers shapes.
    shapes = ShapeOracle(model, input_shapes)
    param_ops = nodes = macs = unknown = 0
    for g in iter_graphs(ga):
        ev = Evaluator(g, shapes, numeric=False)
        nodes += len(g.nodes)
        for s in g.nodes:
            if s.kind == Kind.PARAM:
                param_ops += 1
                counted = ev.fallback_cost(s)[0]
                macs += counted or 0
                unknown += counted is None
    sizes = shapes.free_inputs if shapes.defaulted else ()
    return Costs(param_ops, nodes, macs, _parameters(ga, shapes), unknown, sizes)


def _parameters(ga: GraphAnalysis, shapes: ShapeOracle) -> int:
    """The elements of every stored or constant tensor the computation reads: initializers
    (overridable ones too) and the weights that Constant, ConstantOfShape or any constant
    computation makes (as paddle2onnx and others write weights), each counted once."""
    counted: set[str] = set()
    params = 0
    for g in iter_graphs(ga):
        ev = Evaluator(g, shapes, numeric=False)
        stored = initializer_names(g.graph)
        for s in g.nodes:
            if all(o in g.constant for o in s.node.output if o):
                continue  # a constant computation: its result counts where it is read
            for t in s.node.input:
                if t and t not in counted and (t in g.constant or t in stored):
                    counted.add(t)
                    shape = ev.const_shape(t)
                    params += math.prod(shape) if shape is not None else 0
    return params
