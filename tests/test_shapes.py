"""Specifications of the local shape walk: where it gives a shape, onnx's shape inference
gives the same one (inference runs here, in the tests, never in the tool)."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

import tiny
from linlint.analysis.shapes import ShapeOracle
from linlint.analysis.sweep import analyze_model


def _walk_and_inference(model: onnx.ModelProto, tensor: str):
    ga = analyze_model(model)
    walked = ShapeOracle(model).local(ga, tensor)
    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    declared = {vi.name: vi for vi in inferred.graph.value_info}
    dims = declared[tensor].type.tensor_type.shape.dim
    return walked, tuple(d.dim_value for d in dims)


REDUCTIONS = [
    # (opset, node text, extra initializers)
    (17, "h = ReduceMean <axes = [-1, -2], keepdims = 1> (x)", {}),
    (17, "h = ReduceMean <axes = [2, 3], keepdims = 0> (x)", {}),
    (17, "h = ReduceMax <keepdims = 0> (x)", {}),
    (17, "h = ReduceSum (x, axes)", {"axes": np.array([1], np.int64)}),
    (18, "h = ReduceMean (x, axes)", {"axes": np.array([-1], np.int64)}),
    (18, "h = ReduceL2 <keepdims = 0> (x, axes)", {"axes": np.array([0, 3], np.int64)}),
    (18, "h = ReduceMean <noop_with_empty_axes = 1> (x)", {}),
]


@pytest.mark.parametrize("opset, text, inits", REDUCTIONS)
def test_the_shape_of_a_reduction_is_the_one_onnx_infers(opset, text, inits):
    model = tiny.model(
        f"g (float[2, 3, 5, 7] x) => (int64[r] y) {{ {text}\n y = Shape(h) }}",
        opset=opset,
        **inits,
    )
    walked, inferred = _walk_and_inference(model, "h")
    assert walked == inferred


CONV_TRANSPOSES = [
    # (attributes in text syntax, weight shape [cin, cout/group, k...])
    ("kernel_shape = [3, 3]", (4, 2, 3, 3)),
    ("strides = [2, 2], pads = [1, 1, 1, 1]", (4, 2, 3, 3)),
    ("strides = [2, 3], output_padding = [1, 2], dilations = [2, 1]", (4, 3, 3, 2)),
    ("group = 2, strides = [2, 2]", (4, 1, 2, 2)),
    ('auto_pad = "SAME_UPPER", strides = [2, 2]', (4, 2, 3, 3)),
    ('auto_pad = "VALID", strides = [3, 1]', (4, 2, 2, 2)),
    ("output_shape = [11, 12], strides = [2, 2]", (4, 2, 3, 3)),
]


@pytest.mark.parametrize("attrs, w_shape", CONV_TRANSPOSES)
def test_the_shape_of_a_conv_transpose_is_the_one_onnx_infers(attrs, w_shape):
    model = tiny.model(
        f"g (float[2, 4, 5, 6] x) => (int64[r] y) {{ h = ConvTranspose <{attrs}> (x, w)\n"
        " y = Shape(h) }",
        w=np.ones(w_shape, np.float32),
    )
    walked, inferred = _walk_and_inference(model, "h")
    assert walked == inferred
