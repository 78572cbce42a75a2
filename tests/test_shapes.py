"""Specifications of the local shape walk: where it gives a shape, onnx's shape inference
gives the same one (inference runs here, in the tests, never in the tool)."""

from __future__ import annotations

import re

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


MATMULS = [
    # (shape of a, shape of b): two activations, numpy's matmul rules
    ((2, 3, 5, 4), (2, 3, 4, 6)),  # attention scores: q @ k^T per head
    ((1, 3, 5, 4), (2, 1, 4, 6)),  # leading axes broadcast
    ((5, 4), (2, 3, 4, 6)),
    ((2, 3, 5, 4), (4,)),
    ((4,), (2, 4, 6)),
]


@pytest.mark.parametrize("a, b", MATMULS)
def test_the_shape_of_a_matmul_of_two_activations_is_the_one_onnx_infers(a, b):
    model = tiny.model(
        f"g (float{list(a)} x, float{list(b)} z) => (int64[r] y) {{"
        " u = Relu(z)\n h = MatMul(x, u)\n y = Shape(h) }"
    )
    walked, inferred = _walk_and_inference(model, "h")
    assert walked == inferred


# Shape arithmetic as TorchScript exports it: a Reshape's (Expand's, ConstantOfShape's,
# Resize's) target computed from Shape(x) at run time. onnx's inference (with data
# propagation) resolves some of these and not others (Div, a -1 next to a symbolic
# size): where it gives a size it must be the walk's, and onnxruntime's run gives all.

SIZES = {
    "zero": np.array(0, np.int64),
    "one": np.array(1, np.int64),
    "two": np.array(2, np.int64),
    "three": np.array(3, np.int64),
    "ax0": np.array([0], np.int64),
    "m1": np.array([-1], np.int64),
    "s0": np.array([0], np.int64),
    "s2": np.array([2], np.int64),
}
GATHERS = """
    s = Shape(x)
    b = Gather <axis = 0> (s, zero)
    c = Gather <axis = 0> (s, one)
    h = Gather <axis = 0> (s, two)
    ub = Unsqueeze(b, ax0)
    uc = Unsqueeze(c, ax0)
    uh = Unsqueeze(h, ax0)"""
SHAPE_ARITHMETIC = {
    # x.view(x.size(0), -1): a classifier head's flatten
    "flatten": ("float[B, 3, 4, 5]", "t = Concat <axis = 0> (ub, m1)\n y = Reshape(x, t)"),
    # x.view(b, c, h * w): spatial flatten (mixer, resmlp, poolformer stems)
    "flatten_spatial": (
        "float[B, 3, 4, 5]",
        """w = Gather <axis = 0> (s, three)
        hw = Mul(h, w)
        uhw = Unsqueeze(hw, ax0)
        t = Concat <axis = 0> (ub, uc, uhw)
        y = Reshape(x, t)""",
    ),
    # x.transpose(1, 2).reshape(B, N, C)
    "transpose_reshape": (
        "float[B, 6, 10]",
        """xt = Transpose <perm = [0, 2, 1]> (x)
        t = Concat <axis = 0> (ub, uh, uc)
        y = Reshape(xt, t)""",
    ),
    # x.flatten(2): Shape → Slice → Concat(-1)
    "flatten_from_2": (
        "float[B, 3, 4, 5]",
        "k = Slice(s, s0, s2)\n t = Concat <axis = 0> (k, m1)\n y = Reshape(x, t)",
    ),
    # x.reshape(B, N, heads, C // heads): attention heads
    "heads": (
        "float[B, 10, 12]",
        """d = Div(h, three)
        ud = Unsqueeze(d, ax0)
        t = Concat <axis = 0> (ub, uc, three_1, ud)
        y = Reshape(x, t)""",
    ),
    # x.expand(b, 4, -1) as torch writes it: -1 kept where Equal(t, -1)
    "expand": (
        "float[B, 1, 5]",
        """t = Concat <axis = 0> (ub, four_1, m1)
        minus = Equal(t, m1)
        keep = Where(minus, one_1, t)
        y = Expand(x, keep)""",
    ),
    "constant_of_shape": (
        "float[B, 3, 4, 5]",
        "k = Slice(s, s0, s2)\n t = Concat <axis = 0> (k, uh)\n y = ConstantOfShape(t)",
    ),
    "flatten_op": ("float[B, 3, 4, 5]", "y = Flatten <axis = 2> (x)"),
    "slice_gather_tile": (
        "float[B, 3, 4, 5]",
        """sl = Slice(x, s0, s2, one_1)
        g = Gather <axis = 2> (sl, one)
        y = Tile(g, reps)""",
    ),
    # F.interpolate(x, size=(2 * h, 2 * w)): sizes from the input's shape
    "resize_sizes": (
        "float[B, 3, 4, 5]",
        """w = Gather <axis = 0> (s, three)
        uw = Unsqueeze(w, ax0)
        hw = Concat <axis = 0> (uh, uw)
        sizes_hw = Mul(hw, two)
        k = Slice(s, s0, s2)
        sz = Concat <axis = 0> (k, sizes_hw)
        y = Resize <mode = "nearest"> (x, , , sz)""",
    ),
    "resize_scales": ("float[B, 3, 4, 5]", 'y = Resize <mode = "nearest"> (x, , scales)'),
}
EXTRA = {
    "three_1": np.array([3], np.int64),
    "four_1": np.array([4], np.int64),
    "one_1": np.array([1], np.int64),
    "reps": np.array([1, 2, 3], np.int64),
    "scales": np.array([1, 1, 2, 1.5], np.float32),
}


def _arithmetic_model(case: str, batch: str) -> onnx.ModelProto:
    x_type, body = SHAPE_ARITHMETIC[case]
    x_type = x_type.replace("B", batch)
    text = f"g ({x_type} x) => (float[] o) {{ {GATHERS}\n {body}\n o = Identity(y) }}"
    words = set(re.findall(r"\w+", text))
    inits = {k: v for k, v in {**SIZES, **EXTRA}.items() if k in words}
    return tiny.model(text, **inits)


def _run_shape(model: onnx.ModelProto, tensor: str, x_shape) -> tuple[int, ...]:
    import onnxruntime as ort

    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    if tensor not in [o.name for o in probe.graph.output]:
        probe.graph.output.append(onnx.helper.make_empty_tensor_value_info(tensor))
    session = ort.InferenceSession(probe.SerializeToString(), providers=["CPUExecutionProvider"])
    feeds = {"x": np.zeros(x_shape, np.float32)}
    return session.run([tensor], feeds)[0].shape


def _inferred(model: onnx.ModelProto, tensor: str) -> tuple:
    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True, data_prop=True)
    declared = {vi.name: vi for vi in (*inferred.graph.value_info, *inferred.graph.output)}
    return tuple(
        d.dim_value if d.HasField("dim_value") else (d.dim_param or None)
        for d in declared[tensor].type.tensor_type.shape.dim
    )


@pytest.mark.parametrize("case", sorted(SHAPE_ARITHMETIC))
def test_a_shape_computed_from_shapes_is_the_one_onnx_infers_and_runs(case):
    model = _arithmetic_model(case, "2")
    x_shape = tuple(d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim)
    ga = analyze_model(model)
    oracle = ShapeOracle(model)
    walked = oracle.local(ga, "y")
    assert walked == _run_shape(model, "y", x_shape)
    inferred = _inferred(model, "y")
    assert len(inferred) == len(walked)
    assert all(i == w for i, w in zip(inferred, walked, strict=True) if isinstance(i, int))
    assert oracle.fixed(ga, "y") and oracle.sizes(ga, "y") == walked


INFERRED_WHOLE = ["flatten", "flatten_spatial", "transpose_reshape", "flatten_from_2"]


@pytest.mark.parametrize("case", INFERRED_WHOLE)
def test_onnx_inference_gives_every_size_of_the_torchscript_patterns(case):
    model = _arithmetic_model(case, "2")
    assert ShapeOracle(model).local(analyze_model(model), "y") == _inferred(model, "y")


@pytest.mark.parametrize("case", sorted(SHAPE_ARITHMETIC))
def test_a_size_computed_from_a_symbolic_one_is_not_the_models_own(case):
    """On a symbolic batch the walk gives the sizes at its default (1), and ``sizes`` says
    which of them the model fixes: exactly those that stay the same when the batch changes."""
    model = _arithmetic_model(case, "B")
    x_shape = tuple(d.dim_value or 1 for d in model.graph.input[0].type.tensor_type.shape.dim)
    ga = analyze_model(model)
    oracle = ShapeOracle(model)
    at_one = _run_shape(model, "y", x_shape)
    at_three = _run_shape(model, "y", (3, *x_shape[1:]))
    assert oracle.local(ga, "y") == at_one
    assert not oracle.fixed(ga, "y")
    own = tuple(a if a == b else None for a, b in zip(at_one, at_three, strict=True))
    assert oracle.sizes(ga, "y") == own
    inferred = _inferred(model, "y")
    assert all(isinstance(i, int) == (o is not None) for i, o in zip(inferred, own, strict=True)
               if i is not None and not str(i).startswith("unk__"))  # fmt: skip


UNKNOWN = [
    # the target reads the shape of a tensor the walk cannot know (a custom op's output)
    ("z = custom.Foo(x)\n s = Shape(z)\n y = Reshape(x, s)", {}),
    # a -1 the sizes left do not divide (it gave (2, 7) for 15 elements)
    ("y = Reshape(x, t)", {"t": np.array([-1, 7], np.int64)}),
    # two -1 (the walk once gave the shape (-1, -1))
    ("y = Reshape(x, t)", {"t": np.array([-1, -1], np.int64)}),
    # Squeeze of every axis of size 1, on a defaulted size (it dropped the batch)
    ("y = Squeeze(x)", {}),
    # Squeeze of axes not known before run time (it dropped every axis of size 1)
    ("z = custom.Foo(x)\n s = Shape(z)\n y = Squeeze(x, s)", {}),
    # the axes of an Unsqueeze computed from a tensor of unknown shape
    ("z = custom.Foo(x)\n s = Shape(z)\n y = Unsqueeze(x, s)", {}),
]


@pytest.mark.parametrize("text, inits", UNKNOWN)
def test_a_shape_the_walk_cannot_resolve_is_unknown_never_guessed(text, inits):
    model = tiny.model(
        f'<ir_version: 8, opset_import: ["" : 17, "custom" : 1]>\n'
        f"g (float[N, 3, 1, 5] x) => (float[] y) {{ {text} }}",
        **inits,
    )
    ga = analyze_model(model)
    oracle = ShapeOracle(model)
    assert oracle.local(ga, "y") is None
    assert oracle.sizes(ga, "y") is None
    assert not oracle.fixed_axis(ga, "y", 0)


def test_a_size_the_caller_gave_is_not_the_models_own():
    model = _arithmetic_model("flatten_spatial", "B")
    ga = analyze_model(model)
    given = ShapeOracle(model, {"x": (4, 3, 4, 5)})
    assert given.local(ga, "y") == (4, 3, 20)
    assert given.sizes(ga, "y") == (None, 3, 20)
    assert given.fixed_axis(ga, "y", 1) and not given.fixed_axis(ga, "y", 0)


def test_a_conv_on_a_symbolic_image_has_its_channels_known_and_its_sizes_unknown():
    """The default size 1 of a symbolic height gives a 0-high output here (3x3, no pads):
    a cost counted on it would be a guess, and ``sizes`` says so."""
    model = tiny.model(
        "g (float[N, 3, H, 32] x) => (float[] y) { y = Conv(x, w) }",
        w=np.ones((4, 3, 3, 3), np.float32),
    )
    ga = analyze_model(model)
    oracle = ShapeOracle(model)
    assert oracle.local(ga, "y") == (1, 4, 0, 30)
    assert oracle.sizes(ga, "y") == (None, 4, None, 30)
    assert oracle.fixed_axis(ga, "y", 1) and not oracle.fixed_axis(ga, "y", 2)
