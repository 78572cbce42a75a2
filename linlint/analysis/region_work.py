"""What a region's own nodes cost before folding: the multiply-adds of its parametric ops,
the passes of its elementwise ops, its nodes, and every weight and constant it reads."""

from __future__ import annotations

import math
from dataclasses import dataclass

from linlint.analysis.absorb import Evaluator
from linlint.analysis.absorb.windows import ints
from linlint.analysis.cost_model import Work, elements, expansion_bytes, node_work
from linlint.analysis.optable import FLOAT_TYPES, Kind
from linlint.analysis.sweep import NodeState
from linlint.model.graphs import attr, text_attr


@dataclass(frozen=True)
class RegionWork:
    """A region's work on the runtime and the parameters its nodes read."""

    work: Work
    params: int


def region_work(
    ev: Evaluator, states: list[NodeState], counted: list[NodeState], itemsize: int
) -> RegionWork:
    """The work of ``counted`` (the region's nodes that run: not identities or no-ops), and
    the parameters of all of them: parametric ops' weights and biases (as their absorbers
    recorded them, else from the weight's shape) and the float constants the other ops read
    (a BatchNormalization's four vectors, a Mul's scale, a border map)."""
    ga = ev.ga
    work, params = Work(), 0
    counted_ids = {s.index for s in counted}
    for s in states:
        if s.kind == Kind.PARAM:
            macs, p = ev.costs.get(s.index) or ev.fallback_cost(s)
            # (MACs unknown: the region's figures are, ``cost_basis``; 0 stands in)
            work += Work(macs=int(macs or 0), moved=_expansion(ev, s, itemsize), nodes=1)
            params += int(p)
            continue
        constants = [t for t in s.node.input if t and t not in s.data]
        for t in constants:
            if ga.elem_type(t) in FLOAT_TYPES:
                shape = ev.const_shape(t)
                params += math.prod(shape) if shape is not None else 0
        if s.index not in counted_ids:
            continue
        operands = [elements(ev.shapes.local(ga, t)) for t in s.node.input[:1] if t]
        operands += [elements(ev.const_shape(t)) for t in constants if t != s.node.input[0]]
        out = elements(ev.shapes.local(ga, s.node.output[0]))
        work += node_work(s.node.op_type, operands, out, itemsize)
    return RegionWork(work, params)


def _expansion(ev: Evaluator, s: NodeState, itemsize: int) -> int:
    """The im2col bytes of a Conv node (0 for other ops and where shapes are unknown)."""
    node = s.node
    if node.op_type != "Conv" or len(node.input) < 2:
        return 0
    w = ev.const_shape(node.input[1])
    out = ev.shapes.local(ev.ga, node.output[0])
    if not w or len(w) < 3 or not out or len(out) != len(w):
        return 0
    nd = len(w) - 2
    kernel = tuple(w[2:])
    groups = int(attr(node, "group", 1))
    strides = ints(node, "strides", nd, 1)
    pads = ints(node, "pads", 2 * nd, 0)
    padded = any(pads) or text_attr(node, "auto_pad", "NOTSET") not in ("NOTSET", "VALID")
    positions = elements(out) // out[1] if out[1] else 0
    cin = w[1] * groups
    return expansion_bytes(cin, groups, kernel, strides, padded, positions, itemsize)
