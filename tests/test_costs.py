"""Specifications of the cost figures: MACs as onnx shape inference would count them.

linlint never runs onnx's shape inference (it can abort the process on defaulted
symbolic sizes); its local shape walk must still give the same sizes wherever the model
fixes them. Here, in the tests, inference runs and the two are compared.
"""

from __future__ import annotations

import math
import re

import numpy as np
import onnx
import pytest
from test_shapes import SIZES

import tiny
from conftest import SAMPLES, load_build
from linlint.folding.costs import model_costs
from linlint.model.graphs import all_graphs

STEMS = sorted(load_build().EXPECTED)
WEIGHTED = ("Conv", "ConvTranspose", "MatMul", "Gemm")


def _dims(value_info: onnx.ValueInfoProto) -> tuple[int, ...]:
    return tuple(d.dim_value or 1 for d in value_info.type.tensor_type.shape.dim)


def macs_by_inference(model: onnx.ModelProto) -> int:
    """Multiply-accumulates of every op with a constant weight, sizes from onnx inference."""
    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True, data_prop=True)
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


#: Samples whose symbolic sizes go through ops that change them (a ConvTranspose, unpadded
#: convs): inference leaves those sizes symbolic, which ``_dims`` would count as 1, and at
#: linlint's default of 1 the convs' outputs are empty; both are counted at a given size.
PINNED = {"ll002_unet_tail_dynamic_hw": {"x": (1, 8, 16, 16)}}


@pytest.mark.parametrize("stem", STEMS)
def test_the_mac_total_is_the_one_onnx_shape_inference_gives(stem):
    model = onnx.load(SAMPLES / f"{stem}.onnx")
    pinned = PINNED.get(stem)
    for vi in model.graph.input if pinned else ():
        for dim, size in zip(vi.type.tensor_type.shape.dim, pinned[vi.name], strict=True):
            dim.dim_value = size
    assert model_costs(model, pinned).macs == macs_by_inference(model)


# Weighted ops after shape arithmetic as TorchScript writes it (the Reshape's target
# computed from Shape at run time): before the walk read those values, each such op
# was counted on one row or one pixel.
HEAD = """s = Shape(h)
    b = Gather <axis = 0> (s, zero)
    c = Gather <axis = 0> (s, one)
    ub = Unsqueeze(b, ax0)
    uc = Unsqueeze(c, ax0)"""
SHAPE_ARITHMETIC: dict[str, tuple[str, str, dict]] = {
    # x.view(x.size(0), -1) before the classifier
    "flatten_head": (
        "float[2, 3, 8, 8]",
        f"""h = Conv <pads = [1, 1, 1, 1]> (x, w)
        {HEAD}
        t = Concat <axis = 0> (ub, m1)
        f = Reshape(h, t)
        y = MatMul(f, fc)""",
        {"w": (4, 3, 3, 3), "fc": (256, 10)},
    ),
    # patch embedding then token mixing: x.view(b, c, h * w).transpose(1, 2) @ W
    "mixer_stem": (
        "float[1, 3, 8, 8]",
        f"""h = Conv <strides = [4, 4]> (x, w)
        {HEAD}
        sh = Gather <axis = 0> (s, two)
        sw = Gather <axis = 0> (s, three)
        hw = Mul(sh, sw)
        uhw = Unsqueeze(hw, ax0)
        t = Concat <axis = 0> (ub, uc, uhw)
        f = Reshape(h, t)
        ft = Transpose <perm = [0, 2, 1]> (f)
        y = MatMul(ft, fc)""",
        {"w": (16, 3, 4, 4), "fc": (16, 32)},
    ),
    # x.flatten(2).transpose(1, 2) @ W: Shape → Slice → Concat(-1)
    "patch_embed": (
        "float[1, 3, 8, 8]",
        """h = Conv <strides = [2, 2]> (x, w)
        s = Shape(h)
        k = Slice(s, s0, s2)
        t = Concat <axis = 0> (k, m1)
        f = Reshape(h, t)
        ft = Transpose <perm = [0, 2, 1]> (f)
        y = MatMul(ft, fc)""",
        {"w": (8, 3, 2, 2), "fc": (8, 8)},
    ),
    # F.interpolate(x, size=(2 * h, 2 * w)) then a conv (an FPN's top-down path)
    "upsample_conv": (
        "float[1, 4, 4, 4]",
        """s = Shape(x)
        k = Slice(s, s0, s2)
        hw = Slice(s, s2, s4)
        hw2 = Mul(hw, two_1)
        sz = Concat <axis = 0> (k, hw2)
        u = Resize <mode = "nearest"> (x, , , sz)
        y = Conv <pads = [1, 1, 1, 1]> (u, w)""",
        {"w": (4, 4, 3, 3)},
    ),
}
# the flatten head on a symbolic batch
SHAPE_ARITHMETIC["flatten_head_symbolic"] = (
    "float[N, 3, 8, 8]",
    *SHAPE_ARITHMETIC["flatten_head"][1:],
)
INTS = {**SIZES, "s4": np.array([4], np.int64), "two_1": np.array([2], np.int64)}


def shape_arithmetic_model(case: str) -> onnx.ModelProto:
    x_type, body, weights = SHAPE_ARITHMETIC[case]
    text = f"g ({x_type} x) => (float[] y) {{ {body} }}"
    words = set(re.findall(r"\w+", text))
    inits = {k: v for k, v in INTS.items() if k in words}
    inits.update({k: tiny.weights(shape) for k, shape in weights.items()})
    return tiny.model(text, **inits)


@pytest.mark.parametrize("case", sorted(SHAPE_ARITHMETIC))
def test_the_mac_total_after_shape_arithmetic_is_the_one_onnx_inference_gives(case):
    model = shape_arithmetic_model(case)
    assert model_costs(model).macs == macs_by_inference(model)
