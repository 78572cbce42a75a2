"""Real-world model shapes: old and new opsets, symbolic dims, several inputs and outputs,
float16/float64, a model past 2 GB, QDQ models, and the models the installed onnx ships.

Each linear pattern is checked twice: ``check`` gives the expected finding, and ``fold``
rewrites it and verifies the result with onnxruntime (``FoldResult.verification``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import linlint
import linlint.verification.inputs
import tiny
from linlint.errors import LinlintError
from linlint.folding.pipeline import FoldResult
from linlint.rules import foldable_codes
from linlint.verification.noise import default_tolerances

PARAM_OPS = {"Conv", "ConvTranspose", "Gemm", "MatMul", "Einsum"}


# ----------------------------------------------------------------------------- building models


class Graph:
    """A model built node by node (for ``tiny.from_nodes``): seeded weights in one dtype,
    one opset."""

    def __init__(self, opset: int, dtype=np.float32, seed: int = 0) -> None:
        self.opset = opset
        self.dtype = np.dtype(dtype)
        self.elem = helper.np_dtype_to_tensor_dtype(self.dtype)
        self.rng = np.random.default_rng(seed)
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.inputs: list[onnx.ValueInfoProto] = []
        self.outputs: list[onnx.ValueInfoProto] = []

    def input(self, name: str, shape, elem: int | None = None) -> str:
        self.inputs.append(tiny.value(name, elem or self.elem, shape))
        return name

    def output(self, name: str, shape) -> str:
        self.outputs.append(tiny.value(name, self.elem, shape))
        return name

    def const(self, name: str, array) -> str:
        self.inits.append(tiny.tensor(name, array))
        return name

    def weight(self, name: str, *shape: int, scale: float = 0.3) -> str:
        return self.const(name, (self.rng.standard_normal(shape) * scale).astype(self.dtype))

    def positive(self, name: str, n: int) -> str:
        return self.const(name, (0.5 + self.rng.random(n)).astype(self.dtype))

    def node(self, op: str, inputs, name: str, out: str | None = None, **attrs) -> str:
        out = out or f"{name}_out"
        self.nodes.append(helper.make_node(op, list(inputs), [out], name=name, **attrs))
        return out

    def conv(self, name, x, cin, cout, k=1, pads=0, bias=True, out=None, **attrs) -> str:
        inputs = [x, self.weight(f"{name}.weight", cout, cin, k, k)]
        if bias:
            inputs.append(self.weight(f"{name}.bias", cout))
        if pads:
            attrs["pads"] = [pads] * 4
        return self.node("Conv", inputs, name, out, kernel_shape=[k, k], **attrs)

    def model(self) -> onnx.ModelProto:
        # IR 4 at least: before it every initializer had to be listed as a graph input too,
        # which test_ir3_model_whose_initializers_are_inputs_folds covers on its own.
        opset = [helper.make_opsetid("", self.opset)]
        oldest = helper.find_min_ir_version_for(opset) if self.opset > 6 else 3
        return tiny.from_nodes(
            self.nodes, self.inputs, self.outputs, self.inits, opset=self.opset, ir=max(4, oldest)
        )


def codes(findings) -> list[str]:
    return sorted(f.code for f in findings)


def param_ops(model: onnx.ModelProto) -> list[str]:
    return [n.op_type for n in model.graph.node if n.op_type in PARAM_OPS]


def assert_folds_and_verifies(model: onnx.ModelProto, **options) -> FoldResult:
    result = linlint.fold(model, **options)
    assert result.folded, f"nothing folded; refused: {result.refused}"
    assert result.verification is not None and result.verification.ok, result.verification.summary()
    assert [f for f in result.remaining if f.level != "note"] == []
    onnx.checker.check_model(result.model)
    return result


# ----------------------------------------------------------------------------- opset coverage


def conv_then_conv(opset: int) -> onnx.ModelProto:
    g = Graph(opset)
    x = g.input("x", [1, 4, 8, 8])
    h = g.conv("conv1", x, 4, 8, k=3, pads=1)
    g.conv("conv2", h, 8, 4, out="y")
    g.output("y", [1, 4, 8, 8])
    return g.model()


@pytest.mark.parametrize("opset", [1, 11])
def test_conv_conv_is_found_and_folded(opset: int) -> None:
    model = conv_then_conv(opset)
    assert codes(linlint.check(model)) == ["LL001"]
    result = assert_folds_and_verifies(model)
    assert param_ops(result.model) == ["Conv"]


def conv_then_bn(opset: int, **attrs) -> onnx.ModelProto:
    g = Graph(opset)
    x = g.input("x", [1, 4, 8, 8])
    h = g.conv("conv", x, 4, 6, k=3, pads=1)
    params = [
        g.positive("bn.scale", 6),
        g.weight("bn.bias", 6),
        g.weight("bn.mean", 6),
        g.positive("bn.var", 6),
    ]
    g.node("BatchNormalization", [h, *params], "bn", "y", epsilon=1e-3, **attrs)
    g.output("y", [1, 6, 8, 8])
    return g.model()


@pytest.mark.parametrize(
    ("opset", "attrs"),
    [(7, {"spatial": 1}), (9, {}), (14, {}), (14, {"training_mode": 0}), (15, {})],
    ids=["7-spatial", "9", "14", "14-inference", "15"],
)
def test_conv_batchnorm_is_found_and_folded(opset: int, attrs: dict) -> None:
    model = conv_then_bn(opset, **attrs)
    assert codes(linlint.check(model)) == ["LL005"]
    result = assert_folds_and_verifies(model)
    assert [n.op_type for n in result.model.graph.node] == ["Conv"]


@pytest.mark.parametrize("opset", [14, 15])
def test_batchnorm_in_training_mode_is_a_barrier(opset: int) -> None:
    assert linlint.check(conv_then_bn(opset, training_mode=1)) == []


def gemm_then_gemm(opset: int, *, bias: bool = True) -> onnx.ModelProto:
    g = Graph(opset)
    x = g.input("x", [3, 8])
    first = [x, g.weight("fc1.weight", 6, 8)] + ([g.weight("fc1.bias", 6)] if bias else [])
    h = g.node("Gemm", first, "fc1", transB=1, alpha=0.5, beta=2.0)
    second = [h, g.weight("fc2.weight", 6, 5)] + ([g.weight("fc2.bias", 5)] if bias else [])
    g.node("Gemm", second, "fc2", "y", alpha=1.5, beta=0.5)
    g.output("y", [3, 5])
    return g.model()


@pytest.mark.parametrize("opset", [7, 9, 11, 13])
def test_gemm_gemm_is_found_and_folded(opset: int) -> None:
    model = gemm_then_gemm(opset)
    assert codes(linlint.check(model)) == ["LL001"]
    result = assert_folds_and_verifies(model)
    assert param_ops(result.model) == ["Gemm"]


@pytest.mark.parametrize("opset", [11, 13])
def test_gemm_gemm_without_bias_is_found_and_folded(opset: int) -> None:
    model = gemm_then_gemm(opset, bias=False)
    assert codes(linlint.check(model)) == ["LL001"]
    assert param_ops(assert_folds_and_verifies(model).model) == ["Gemm"]


@pytest.mark.parametrize("opset", [7, 9])
def test_gemm_gemm_with_a_zero_bias_folds_to_a_matmul_where_a_gemm_needs_its_c(opset: int):
    """Before opset 11 a Gemm must have a C: a fold whose bias is all zeros is a MatMul."""
    model = gemm_then_gemm(opset)
    for t in model.graph.initializer:
        if t.name.endswith(".bias"):
            t.CopyFrom(numpy_helper.from_array(np.zeros(t.dims, np.float32), t.name))
    assert codes(linlint.check(model)) == ["LL001"]
    result = assert_folds_and_verifies(model)
    onnx.checker.check_model(result.model, full_check=True)
    assert param_ops(result.model) == ["MatMul"]


def mlp_around(opset: int, middle) -> onnx.ModelProto:
    """x → MatMul → middle(g, h) → MatMul → y, on a [2, 8] input."""
    g = Graph(opset)
    x = g.input("x", [2, 8])
    h = g.node("MatMul", [x, g.weight("fc1.weight", 8, 8)], "fc1")
    h = middle(g, h)
    g.node("MatMul", [h, g.weight("fc2.weight", 8, 8)], "fc2", "y")
    g.output("y", [2, 8])
    return g.model()


def dropout(opset: int, training: bool | None = None):
    def middle(g: Graph, h: str) -> str:
        if opset < 12:
            return g.node("Dropout", [h], "dropout", ratio=0.3)
        inputs = [h, g.const("dropout.ratio", np.array(0.3, np.float32))]
        if training is not None:
            inputs.append(g.const("dropout.training_mode", np.array(training)))
        return g.node("Dropout", inputs, "dropout")

    return mlp_around(opset, middle)


@pytest.mark.parametrize(
    ("opset", "training"),
    [(7, None), (10, None), (12, None), (12, False), (13, False)],
    ids=["7", "10-ratio-attribute", "12-no-training-input", "12-inference", "13-inference"],
)
def test_dropout_in_inference_is_transparent(opset: int, training) -> None:
    model = dropout(opset, training)
    assert codes(linlint.check(model)) == ["LL001"]
    result = assert_folds_and_verifies(model)
    assert [n.op_type for n in result.model.graph.node] == ["MatMul"]


@pytest.mark.parametrize("opset", [12, 13])
def test_dropout_in_training_mode_is_a_barrier(opset: int) -> None:
    assert linlint.check(dropout(opset, True)) == []


def test_dropout_with_a_runtime_training_flag_is_a_barrier() -> None:
    def middle(g: Graph, h: str) -> str:
        flag = g.input("training", [], elem=TensorProto.BOOL)
        ratio = g.const("dropout.ratio", np.array(0.3, np.float32))
        return g.node("Dropout", [h, ratio, flag], "dropout")

    assert linlint.check(mlp_around(13, middle)) == []


def clip(opset: int, low: float | None, high: float | None):
    def middle(g: Graph, h: str) -> str:
        if opset < 11:
            bounds = {k: v for k, v in (("min", low), ("max", high)) if v is not None}
            return g.node("Clip", [h], "clip", **bounds)
        inputs = [
            h,
            "" if low is None else g.const("clip.min", np.array(low, np.float32)),
            "" if high is None else g.const("clip.max", np.array(high, np.float32)),
        ]
        while inputs[-1] == "":
            inputs.pop()
        return g.node("Clip", inputs, "clip")

    return mlp_around(opset, middle)


@pytest.mark.parametrize("opset", [6, 11, 13])
def test_clip_with_bounds_is_a_barrier(opset: int) -> None:
    assert linlint.check(clip(opset, 0.0, 6.0)) == []
    assert linlint.check(clip(opset, 0.0, None)) == []


@pytest.mark.parametrize("opset", [6, 11, 13])
def test_clip_without_bounds_is_a_barrier(opset: int) -> None:
    """An absent bound is the type's lowest/highest finite value: Clip() clamps ±Inf."""
    assert linlint.check(clip(opset, None, None)) == []


@pytest.mark.parametrize("opset", [11, 13])
def test_clip_between_infinities_is_the_identity(opset: int) -> None:
    model = clip(opset, -np.inf, np.inf)
    assert codes(linlint.check(model)) == ["LL001", "LL006"]
    result = assert_folds_and_verifies(model)
    assert [n.op_type for n in result.model.graph.node] == ["MatMul"]


def pad_then_conv(opset: int, value: float = 0.0, mode: str | None = None) -> onnx.ModelProto:
    g = Graph(opset)
    x = g.input("x", [1, 4, 8, 8])
    pads = [0, 0, 1, 1, 0, 0, 1, 1]
    extra = {} if mode is None else {"mode": mode}
    if opset < 11:
        h = g.node("Pad", [x], "pad", pads=pads, value=value, **extra)
    else:
        pads_t = g.const("pad.pads", np.array(pads, np.int64))
        value_t = g.const("pad.value", np.array(value, np.float32))
        h = g.node("Pad", [x, pads_t, value_t], "pad", **extra)
    g.conv("conv", h, 4, 4, k=3, out="y")
    g.output("y", [1, 4, 8, 8])
    return g.model()


@pytest.mark.parametrize("opset", [2, 11, 13, 18])
def test_zero_pad_into_conv_is_found_and_folded(opset: int) -> None:
    model = pad_then_conv(opset)
    assert codes(linlint.check(model)) == ["LL005"]
    result = assert_folds_and_verifies(model)
    assert [n.op_type for n in result.model.graph.node] == ["Conv"]


@pytest.mark.parametrize("opset", [2, 11])
def test_pad_that_a_conv_cannot_absorb_is_not_folded(opset: int) -> None:
    for model in (pad_then_conv(opset, value=1.0), pad_then_conv(opset, mode="reflect")):
        result = linlint.fold(model)
        assert not result.changed
        assert [f for f in linlint.check(model) if f.level != "note"] == []


def conv_resize_conv(opset: int, op: str) -> onnx.ModelProto:
    g = Graph(opset)
    x = g.input("x", [1, 4, 6, 6])
    h = g.conv("conv1", x, 4, 4)
    scales = g.const("scales", np.array([1, 1, 2, 2], np.float32))
    if op == "Upsample":
        h = g.node("Upsample", [h, scales], "upsample", mode="nearest")
    else:
        h = g.node("Resize", [h, "", scales], "resize", mode="nearest")
    g.conv("conv2", h, 4, 4, out="y")
    g.output("y", [1, 4, 12, 12])
    return g.model()


@pytest.mark.parametrize(
    ("opset", "op"),
    [(9, "Upsample"), (11, "Resize"), (13, "Resize"), (19, "Resize")],
    ids=["upsample-9", "resize-11", "resize-13", "resize-19"],
)
def test_resize_between_convs_is_linear_but_not_foldable(opset: int, op: str) -> None:
    model = conv_resize_conv(opset, op)
    (finding,) = linlint.check(model)
    assert (finding.code, finding.level) == ("LL003", "note")
    assert "is linear but has no exact single-op form" in finding.message
    assert f"does not fold through {op}" in finding.message
    assert not finding.fix.exact
    assert not linlint.fold(model, allow_growth=True).changed


def squeeze_unsqueeze(opset: int):
    """MatMul → Unsqueeze(0) → Squeeze(0) → MatMul: the reshape round trip keeps the last axis."""

    def middle(g: Graph, h: str) -> str:
        if opset < 13:
            h = g.node("Unsqueeze", [h], "unsqueeze", axes=[0])
            return g.node("Squeeze", [h], "squeeze", axes=[0])
        axes = g.const("axes", np.array([0], np.int64))
        h = g.node("Unsqueeze", [h, axes], "unsqueeze")
        return g.node("Squeeze", [h, axes], "squeeze")

    return mlp_around(opset, middle)


@pytest.mark.parametrize("opset", [11, 13], ids=["axes-attribute-11", "axes-input-13"])
def test_squeeze_unsqueeze_between_matmuls_is_found_and_folded(opset: int) -> None:
    model = squeeze_unsqueeze(opset)
    assert codes(linlint.check(model)) == ["LL001"]
    result = assert_folds_and_verifies(model)
    assert param_ops(result.model) == ["MatMul"]


# ----------------------------------------------------------------------------- shapes and types


def mlp_3d(dtype=np.float32, shape=("batch", "seq", 8)) -> onnx.ModelProto:
    g = Graph(17, dtype)
    x = g.input("x", list(shape))
    h = g.node("MatMul", [x, g.weight("fc1.weight", 8, 16)], "fc1")
    h = g.node("Add", [h, g.weight("fc1.bias", 16)], "fc1.add")
    h = g.node("MatMul", [h, g.weight("fc2.weight", 16, 8)], "fc2")
    g.node("Add", [h, g.weight("fc2.bias", 8)], "fc2.add", "y")
    g.output("y", list(shape))
    return g.model()


def linlint_json(*args: str | Path, cwd: Path) -> tuple[int, list[dict], str]:
    result = subprocess.run(
        [sys.executable, "-m", "linlint", "check", "--isolated", "--no-progress"]
        + ["--format", "json", *(str(a) for a in args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result.returncode, json.loads(result.stdout or "[]"), result.stderr


def test_symbolic_batch_and_sequence_dims(tmp_path: Path) -> None:
    path = tmp_path / "mlp.onnx"
    onnx.save(mlp_3d(), path)
    status, default, stderr = linlint_json(path, cwd=tmp_path)
    assert (status, stderr, [f["code"] for f in default]) == (1, "", ["LL001"])
    status, given, stderr = linlint_json("--input-shape", "x=4x32x8", path, cwd=tmp_path)
    assert (status, stderr, [f["code"] for f in given]) == (1, "", ["LL001"])
    # MACs are for the given input shapes: every row (batch x sequence position) counts;
    # symbolic dims default to 1.
    per_position = 8 * 16 + 16 * 8
    assert default[0]["fix"]["macs_before"] == per_position
    assert given[0]["fix"]["macs_before"] == 4 * 32 * per_position
    assert given[0]["fix"]["macs_after"] == 4 * 32 * 8 * 8
    result = assert_folds_and_verifies(mlp_3d(), input_shapes={"x": (4, 32, 8)})
    assert result.verification.outputs[0].shape == (4, 32, 8)
    assert [d.dim_param for d in result.model.graph.input[0].type.tensor_type.shape.dim] == [
        "batch",
        "seq",
        "",
    ]


def test_symbolic_image_size_takes_the_given_input_shape(tmp_path: Path) -> None:
    g = Graph(17)
    x = g.input("x", ["N", 4, "H", "W"])
    h = g.conv("conv1", x, 4, 8, k=3, pads=1)
    g.conv("conv2", h, 8, 4, out="y")
    g.output("y", ["N", 4, "H", "W"])
    path = tmp_path / "convs.onnx"
    onnx.save(g.model(), path)
    _, default, _ = linlint_json(path, cwd=tmp_path)
    status, given, stderr = linlint_json("--input-shape", "x=2x4x32x24", path, cwd=tmp_path)
    assert (status, stderr, [f["code"] for f in given]) == (1, "", ["LL001"])
    macs = 2 * (8 * 4 * 9 + 4 * 8) * 32 * 24  # batch 2 of 32x24 images
    assert given[0]["fix"]["macs_before"] == macs
    assert default[0]["fix"]["macs_before"] != macs
    assert_folds_and_verifies(onnx.load(path), input_shapes={"x": (2, 4, 32, 24)})


def test_several_inputs_and_outputs() -> None:
    g = Graph(17)
    a = g.input("a", [2, 8])
    b = g.input("b", ["n", 6])
    h = g.node("MatMul", [a, g.weight("fa1.weight", 8, 8)], "fa1")
    g.node("MatMul", [h, g.weight("fa2.weight", 8, 4)], "fa2", "ya")
    h = g.node("Gemm", [b, g.weight("fb1.weight", 6, 6), g.weight("fb1.bias", 6)], "fb1")
    g.node("Gemm", [h, g.weight("fb2.weight", 6, 3), g.weight("fb2.bias", 3)], "fb2", "yb")
    # a relu'd side output of the first chain's input, and a join of the two inputs
    g.node("Relu", [a], "relu", "yr")
    j = g.node("Add", [g.node("MatMul", [a, g.weight("proj.weight", 8, 6)], "proj"), b], "join")
    g.node("MatMul", [j, g.weight("head.weight", 6, 2)], "head", "yj")
    for name, shape in (("ya", [2, 4]), ("yb", ["n", 3]), ("yr", [2, 8]), ("yj", [2, 2])):
        g.output(name, shape)
    model = g.model()
    findings = linlint.check(model)
    assert sorted((f.code, f.nodes) for f in findings) == [
        ("LL001", ("fa1", "fa2")),
        ("LL001", ("fb1", "fb2")),
    ]
    result = assert_folds_and_verifies(model, input_shapes={"b": (2, 6)}, runs=2)
    assert [i.name for i in result.model.graph.input] == ["a", "b"]
    assert [o.name for o in result.model.graph.output] == ["ya", "yb", "yr", "yj"]
    assert sorted(c.name for c in result.verification.outputs) == ["ya", "yb", "yj", "yr"]
    assert sorted(param_ops(result.model)) == ["Gemm", "MatMul", "MatMul", "MatMul"]


@pytest.mark.parametrize("dtype", [np.float16, np.float64], ids=["float16", "float64"])
def test_float16_and_float64_models_fold_in_float64_and_keep_their_dtype(dtype) -> None:
    model = mlp_3d(dtype, shape=(2, 5, 8))
    assert codes(linlint.check(model)) == ["LL001"]
    result = assert_folds_and_verifies(model, runs=3)
    (weight,) = [t for t in result.model.graph.initializer if len(t.dims) == 2]
    (bias,) = [t for t in result.model.graph.initializer if len(t.dims) == 1]
    elem = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    assert weight.data_type == elem and bias.data_type == elem
    # The folded values are the float64 composition, rounded once to the model's dtype.
    w = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in model.graph.initializer}
    want_w = w["fc1.weight"] @ w["fc2.weight"]
    want_b = w["fc1.bias"] @ w["fc2.weight"] + w["fc2.bias"]
    got_w = numpy_helper.to_array(weight)
    got_b = numpy_helper.to_array(bias)
    assert got_w.dtype == dtype and got_b.dtype == dtype
    ulp_w = np.spacing(np.abs(want_w).astype(dtype)).astype(np.float64)
    ulp_b = np.spacing(np.abs(want_b).astype(dtype)).astype(np.float64)
    assert np.all(np.abs(got_w - want_w) <= ulp_w)
    assert np.all(np.abs(got_b - want_b) <= ulp_b)
    rtol, _ = default_tolerances(np.dtype(dtype))
    assert result.verification.outputs[0].rtol == rtol


def conv_chain(dtype) -> onnx.ModelProto:
    g = Graph(17, dtype)
    x = g.input("x", [1, 8, 8, 8])
    h = g.conv("conv1", x, 8, 8, k=3, pads=1)
    g.conv("conv2", h, 8, 4, out="y")
    g.output("y", [1, 4, 8, 8])
    return g.model()


def test_float16_conv_chain_folds() -> None:
    model = conv_chain(np.float16)
    assert codes(linlint.check(model)) == ["LL001"]
    result = assert_folds_and_verifies(model)
    assert {t.data_type for t in result.model.graph.initializer} == {TensorProto.FLOAT16}


def test_float64_conv_chain_folds() -> None:
    """onnxruntime has no float64 Conv on CPU: fold unverified, compare with onnx's reference."""
    from onnx.reference import ReferenceEvaluator

    model = conv_chain(np.float64)
    assert codes(linlint.check(model)) == ["LL001"]
    proven = linlint.fold(model)  # what cannot be proven is not folded
    assert not proven.changed
    assert "onnxruntime cannot load the original model" in proven.refused[0]
    result = linlint.fold(model, verify=False)
    assert param_ops(result.model) == ["Conv"]
    assert {t.data_type for t in result.model.graph.initializer} == {TensorProto.DOUBLE}
    x = np.random.default_rng(0).standard_normal((1, 8, 8, 8))
    (want,) = ReferenceEvaluator(model).run(None, {"x": x})
    (got,) = ReferenceEvaluator(result.model).run(None, {"x": x})
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9 * np.abs(want).max())


def test_ir3_model_whose_initializers_are_inputs_folds() -> None:
    """Before IR 4 every initializer was also listed as a graph input (the shipped light_*
    models are like this): the folded model must keep that rule and gain no inputs."""
    model = conv_then_conv(7)
    model.ir_version = 3
    model.graph.input.extend(
        tiny.value(t.name, t.data_type, list(t.dims)) for t in model.graph.initializer
    )
    onnx.checker.check_model(model)
    assert codes(linlint.check(model)) == ["LL001"]
    result = assert_folds_and_verifies(model)
    initializers = {t.name for t in result.model.graph.initializer}
    inputs = [i.name for i in result.model.graph.input]
    assert inputs[0] == "x" and set(inputs[1:]) == initializers


# ----------------------------------------------------------------------------- past 2 GB

HUGE_SIDE = 15_000  # float32 15000x15000: 900 MB per weight, three of them: 2.7 GB


def _write_huge_model(folder: Path) -> Path:
    """x → MatMul → MatMul → MatMul with 900 MB weights of zeros in model.onnx.data.

    The data file is made sparse (``truncate``): nothing is written or held in memory.
    """
    nbytes = HUGE_SIDE * HUGE_SIDE * 4
    g = Graph(17)
    x = g.input("x", [1, HUGE_SIDE])
    h = x
    for k in range(3):
        weight = onnx.TensorProto(name=f"w{k}", data_type=TensorProto.FLOAT)
        weight.dims.extend([HUGE_SIDE, HUGE_SIDE])
        weight.data_location = TensorProto.EXTERNAL
        for key, value in (
            ("location", "model.onnx.data"),
            ("offset", str(k * nbytes)),
            ("length", str(nbytes)),
        ):
            entry = weight.external_data.add()
            entry.key, entry.value = key, value
        g.inits.append(weight)
        h = g.node("MatMul", [h, f"w{k}"], f"fc{k}", "y" if k == 2 else None)
    g.output("y", [1, HUGE_SIDE])
    path = folder / "model.onnx"
    onnx.save(g.model(), path)
    with open(folder / "model.onnx.data", "wb") as data:
        data.truncate(3 * nbytes)
    return path


@pytest.mark.skipif(
    shutil.disk_usage(os.environ.get("TMPDIR", "/tmp")).free < 6 * 2**30,
    reason="needs 6 GB of free disk",
)
def test_check_never_reads_the_weights_of_a_model_past_2_gb(tmp_path: Path) -> None:
    path = _write_huge_model(tmp_path)
    assert (tmp_path / "model.onnx.data").stat().st_size > 2**31
    assert path.stat().st_size < 4096
    command = [sys.executable, "-m", "linlint", "check", "--isolated", "--no-progress"]
    command += ["--format", "json", str(path)]
    started = time.monotonic()
    with open(tmp_path / "stdout", "wb") as out, open(tmp_path / "stderr", "wb") as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, cwd=tmp_path)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.monotonic() - started
    stderr = (tmp_path / "stderr").read_text()
    assert process.returncode == 1, stderr
    assert stderr == ""
    (finding,) = json.loads((tmp_path / "stdout").read_text())
    assert finding["code"] == "LL001"
    assert finding["nodes"] == ["fc0", "fc1", "fc2"]
    assert finding["fix"]["macs_before"] == 3 * HUGE_SIDE**2
    assert finding["fix"]["macs_after"] == HUGE_SIDE**2
    peak_mb = usage.ru_maxrss / 1024  # kilobytes on Linux
    assert peak_mb < 500, f"check peaked at {peak_mb:.0f} MB: it read the weights"
    assert elapsed < 60


# ----------------------------------------------------------------------------- QDQ models


def _dequantized_weight(g: Graph, name: str, *shape: int, axis: int | None = None) -> str:
    w = g.rng.standard_normal(shape).astype(np.float32) * 0.3
    if axis is None:
        scale = np.array(np.abs(w).max() / 127, np.float32)
        zero = np.array(0, np.int8)
        q = np.clip(np.round(w / scale), -127, 127).astype(np.int8)
        attrs = {}
    else:
        scale = (np.abs(w).reshape(shape[0], -1).max(axis=1) / 127).astype(np.float32)
        zero = np.zeros(shape[0], np.int8)
        q = np.clip(np.round(w / scale.reshape(-1, *[1] * (len(shape) - 1))), -127, 127)
        q = q.astype(np.int8)
        attrs = {"axis": axis}
    inputs = [g.const(f"{name}.q", q), g.const(f"{name}.scale", scale)]
    inputs.append(g.const(f"{name}.zero_point", zero))
    return g.node("DequantizeLinear", inputs, f"{name}.dequantize", **attrs)


def qdq_stack(*, per_channel: bool) -> onnx.ModelProto:
    """uint8 input → DequantizeLinear → Conv → QuantizeLinear → DequantizeLinear → Conv."""
    axis = 0 if per_channel else None
    g = Graph(13)
    xq = g.input("x_quantized", [1, 4, 8, 8], elem=TensorProto.UINT8)
    scale = g.const("x.scale", np.array(0.05, np.float32))
    zero = g.const("x.zero_point", np.array(128, np.uint8))
    x = g.node("DequantizeLinear", [xq, scale, zero], "x.dequantize")
    w1 = _dequantized_weight(g, "conv1.weight", 8, 4, 3, 3, axis=axis)
    h = g.node("Conv", [x, w1, g.weight("conv1.bias", 8)], "conv1", kernel_shape=[3, 3])
    scale = g.const("h.scale", np.array(0.1, np.float32))
    zero = g.const("h.zero_point", np.array(0, np.int8))
    h = g.node("QuantizeLinear", [h, scale, zero], "h.quantize")
    h = g.node("DequantizeLinear", [h, scale, zero], "h.dequantize")
    w2 = _dequantized_weight(g, "conv2.weight", 4, 8, 1, 1, axis=axis)
    g.node("Conv", [h, w2, g.weight("conv2.bias", 4)], "conv2", "y", kernel_shape=[1, 1])
    g.output("y", [1, 4, 6, 6])
    return g.model()


@pytest.mark.parametrize("per_channel", [False, True], ids=["per-tensor", "per-channel"])
def test_qdq_stack_is_not_redundant(per_channel: bool) -> None:
    model = qdq_stack(per_channel=per_channel)
    assert linlint.check(model) == []
    assert not linlint.fold(model, allow_growth=True).changed


def test_quantize_linear_is_a_barrier() -> None:
    def middle(g: Graph, h: str) -> str:
        scale = g.const("h.scale", np.array(0.1, np.float32))
        zero = g.const("h.zero_point", np.array(0, np.int8))
        q = g.node("QuantizeLinear", [h, scale, zero], "h.quantize")
        return g.node("DequantizeLinear", [q, scale, zero], "h.dequantize")

    assert linlint.check(mlp_around(13, middle)) == []


# ----------------------------------------------------------------------------- shipped models

ONNX_DATA = Path(onnx.__file__).parent / "backend" / "test" / "data"
SHIPPED = sorted(ONNX_DATA.glob("light/*.onnx")) + sorted(
    path
    for kind in ("node", "pytorch-converted", "pytorch-operator", "simple")
    for path in ONNX_DATA.glob(f"{kind}/*/model.onnx")
)
# Shipped models that are not valid ONNX, with the reason (none so far).
INVALID: dict[str, str] = {}
# What check finds on the shipped models, per model: rule code -> number of findings.
# Every shipped model not listed here has no finding.
SHIPPED_FINDINGS: dict[str, dict[str, int]] = {
    "light/light_densenet121.onnx": {"LL005": 59, "LL007": 3},
    # 7 of them fold inside a region that does not as a whole (AveragePool with borders
    # excluded → Conv 1x1 → BN → Mul → Add): the Conv → … → Add part.
    "light/light_inception_v2.onnx": {"LL005": 69},
    "light/light_resnet50.onnx": {"LL005": 53},
    # Each unit's BN → group Conv 1x1 → BN folds; the channel shuffle (Reshape → Transpose
    # → Reshape) into the depthwise Conv 3x3 stays an LL003 note.
    "light/light_shufflenet.onnx": {"LL003": 16, "LL005": 33},
}


def _shipped_id(path: Path) -> str:
    rel = path.relative_to(ONNX_DATA) if path.is_absolute() else path
    return rel.parent.as_posix() if rel.name == "model.onnx" else rel.as_posix()


# The shipped models with a finding that fold rewrites: fold must fold and verify them.
SHIPPED_FOLDABLE = [
    path for path in SHIPPED if set(SHIPPED_FINDINGS.get(_shipped_id(path), {})) & foldable_codes()
]


def _ort_cannot_run(path: Path) -> str | None:
    """Why onnxruntime cannot run the original model, or None when it can."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 4
    try:
        ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as error:  # noqa: BLE001 - onnxruntime's own exception types
        return " ".join(str(error).split())[:200]
    return None


def test_the_shipped_models_are_there() -> None:
    assert len(list(ONNX_DATA.glob("light/*.onnx"))) >= 9
    assert len(SHIPPED) >= 100


@pytest.mark.parametrize("path", SHIPPED, ids=_shipped_id)
def test_check_finds_what_is_recorded_on_every_shipped_model(path: Path) -> None:
    shown = _shipped_id(path)
    if shown in INVALID:
        with pytest.raises(LinlintError):
            linlint.check(path)
        return
    found = Counter(f.code for f in linlint.check(path))
    assert dict(found) == SHIPPED_FINDINGS.get(shown, {})


def test_the_recorded_findings_name_shipped_models() -> None:
    assert set(SHIPPED_FINDINGS) <= {_shipped_id(path) for path in SHIPPED}


@pytest.mark.parametrize("path", SHIPPED_FOLDABLE, ids=_shipped_id)
def test_fold_verifies_on_every_shipped_model_with_a_foldable_finding(path: Path) -> None:
    assert any(f.code in foldable_codes() for f in linlint.check(path))
    assert _ort_cannot_run(path) is None
    result = linlint.fold(path)
    assert result.folded, result.refused
    assert result.verification is not None
    assert result.verification.ok, result.verification.summary()
    onnx.checker.check_model(result.model)
    assert not any(f.code in foldable_codes() for f in result.remaining)


def _randomized(model: onnx.ModelProto, seed: int = 0) -> onnx.ModelProto:
    """A light_* model with random weights, and without its final Softmax.

    The shipped light models build every weight with ConstantOfShape(0.02): all their
    outputs are the same whatever the input, so a verification on them proves little.
    Here every ConstantOfShape becomes an initializer of random values (He-scaled for
    weights, in [0.5, 1.5] for BatchNormalization scales and variances and Mul factors),
    and the float initializers are redrawn the same way. The graph's structure, names and
    findings stay the same.
    """
    rng = np.random.default_rng(seed)
    out = onnx.ModelProto()
    out.CopyFrom(model)
    g = out.graph
    positive = {n.input[k] for n in g.node if n.op_type == "BatchNormalization" for k in (1, 4)}
    positive |= {i for n in g.node if n.op_type == "Mul" for i in n.input}
    positive |= {n.input[0] for n in g.node if n.op_type == "Unsqueeze" and n.output[0] in positive}

    def fresh(name: str, shape: tuple[int, ...]) -> np.ndarray:
        if name in positive:
            values = rng.uniform(0.5, 1.5, size=shape)
        elif len(shape) >= 2:
            values = rng.standard_normal(shape) * np.sqrt(2 / np.prod(shape[1:]))
        else:
            values = rng.standard_normal(shape) * 0.1
        return values.astype(np.float32)

    for tensor in g.initializer:
        if tensor.data_type == TensorProto.FLOAT:
            tensor.CopyFrom(tiny.tensor(tensor.name, fresh(tensor.name, tuple(tensor.dims))))
    shapes = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    nodes = []
    for node in g.node:
        if node.op_type == "ConstantOfShape" and node.input[0] in shapes:
            shape = tuple(int(d) for d in shapes[node.input[0]])
            tensor = tiny.tensor(node.output[0], fresh(node.output[0], shape))
            g.initializer.append(tensor)
            if out.ir_version < 4:  # then every initializer is a graph input too
                g.input.append(tiny.value(tensor.name, tensor.data_type, shape))
        else:
            nodes.append(node)
    if nodes[-1].op_type == "Softmax" and nodes[-1].output[0] == g.output[0].name:
        g.output[0].name = nodes.pop().input[0]
    del g.node[:]
    g.node.extend(nodes)
    return out


def _outputs(model: onnx.ModelProto, seed: int) -> list[np.ndarray]:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 4
    session = ort.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    feeds = linlint.verification.inputs.make_inputs(model, seed=seed)
    return session.run(None, feeds)


LIGHT_FOLDABLE = [path for path in SHIPPED_FOLDABLE if path.parent.name == "light"]


@pytest.mark.parametrize("path", LIGHT_FOLDABLE, ids=_shipped_id)
def test_fold_verifies_on_light_models_with_random_weights(path: Path) -> None:
    original = onnx.load(path)
    model = _randomized(original)
    onnx.checker.check_model(model)
    # the random weights make the output depend on the input: the verification means something
    first, second = _outputs(model, 0)[0], _outputs(model, 1)[0]
    assert np.abs(first - second).max() > 1e-3 * np.abs(first).max()
    findings = linlint.check(model)
    assert sorted((f.code, f.message) for f in findings) == sorted(
        (f.code, f.message) for f in linlint.check(original)
    )
    result = linlint.fold(model, runs=2)
    assert result.folded, result.refused
    assert result.verification is not None and result.verification.ok, result.verification.summary()
    onnx.checker.check_model(result.model)
    assert result.after.param_ops == result.before.param_ops
    assert result.after.nodes < result.before.nodes


def test_check_command_on_all_shipped_models_at_once(tmp_path: Path) -> None:
    folders = [ONNX_DATA / kind for kind in ("light", "node", "pytorch-converted")]
    folders += [ONNX_DATA / kind for kind in ("pytorch-operator", "simple")]
    status, findings, stderr = linlint_json(*[f for f in folders if f.is_dir()], cwd=tmp_path)
    assert stderr == ""
    assert status in (0, 1)
    by_model: dict[str, set[str]] = {}
    for f in findings:
        name = _shipped_id(Path(f["file"]).resolve().relative_to(ONNX_DATA.resolve()))
        by_model.setdefault(name, set()).add(f["code"])
    assert by_model == {name: set(codes) for name, codes in SHIPPED_FINDINGS.items()}
