"""Specifications of the cost figures: MACs as onnx shape inference would count them.

linlint never runs onnx's shape inference (it can abort the process on defaulted
symbolic sizes); its local shape walk must still give the same sizes wherever the model
fixes them. Here, in the tests, inference runs and the two are compared.
"""

from __future__ import annotations

import math

import onnx
import pytest

from conftest import SAMPLES, load_build
from linlint.folding.costs import model_costs
from linlint.model.graphs import all_graphs

STEMS = sorted(load_build().EXPECTED)
WEIGHTED = ("Conv", "ConvTranspose", "MatMul", "Gemm")


def _dims(value_info: onnx.ValueInfoProto) -> tuple[int, ...]:
    return tuple(d.dim_value or 1 for d in value_info.type.tensor_type.shape.dim)


def macs_by_inference(model: onnx.ModelProto) -> int:
    """Multiply-accumulates of every op with a constant weight, sizes from onnx inference."""
    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    shapes, constant = {}, set()
    for g in all_graphs(inferred.graph):
        for vi in (*g.value_info, *g.input, *g.output):
            shapes[vi.name] = _dims(vi)
        for t in g.initializer:
            shapes[t.name] = tuple(t.dims)
            constant.add(t.name)
        for node in g.node:
            if not [t for t in node.input if t and t not in constant]:
                constant.update(node.output)  # Constant, and ops of constants only
    total = 0
    for g in all_graphs(inferred.graph):
        for node in g.node:
            if node.op_type not in WEIGHTED or node.input[1] not in constant:
                continue
            w, x, y = (shapes[t] for t in (node.input[1], node.input[0], node.output[0]))
            if node.op_type == "Conv":
                total += math.prod(w) * math.prod(y[:1] + y[2:])
            elif node.op_type == "ConvTranspose":
                total += math.prod(w) * math.prod(x[:1] + x[2:])
            else:
                total += math.prod(y[:-1]) * math.prod(w)
    return total


@pytest.mark.parametrize("stem", STEMS)
def test_the_mac_total_is_the_one_onnx_shape_inference_gives(stem):
    model = onnx.load(SAMPLES / f"{stem}.onnx")
    assert model_costs(model).macs == macs_by_inference(model)
