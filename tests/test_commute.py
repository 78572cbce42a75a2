"""Specifications of commuted folds: an average pool moved before the pointwise map it
followed, where that is exact and cheaper (LL007)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

import linlint
import tiny

SAMPLES = Path(__file__).resolve().parent.parent / "sample_models"


def _run(model: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x})[0]


def _transition(pool: str, *, bias: bool = True, size: str = "H, W") -> onnx.ModelProto:
    b = ", cb" if bias else ""
    inits = {"w": tiny.weights((8, 16, 1, 1))}
    if bias:
        inits["cb"] = tiny.weights((8,), seed=1)
    return tiny.model(
        f"""g (float[N, 16, {size}] x) => (float[] y) {{
            [relu_in] r = Relu(x)
            [conv] c = Conv<kernel_shape=[1, 1]>(r, w{b})
            [pool] p = {pool}(c)
            [relu] y = Relu(p)
        }}""",
        **inits,
    )


def test_a_densenet_transition_folds_to_pool_then_pointwise_conv():
    model = onnx.load(SAMPLES / "ll007_densenet_transition.onnx")
    (finding,) = linlint.check(model)
    assert finding.code == "LL007" and finding.level == "warning"
    assert finding.fix.macs_after * 4 == finding.fix.macs_before
    result = linlint.fold(model)
    assert [n.op_type for n in result.model.graph.node] == ["Relu", "AveragePool", "Conv"]
    assert result.verification.ok


SIZED = {"x": (1, 16, 32, 32)}


@pytest.mark.parametrize("shape", [(1, 16, 8, 8), (3, 16, 10, 6), (2, 16, 7, 9)])
def test_a_commuted_fold_is_exact_at_sizes_it_never_saw(shape):
    model = _transition("AveragePool<kernel_shape=[2, 2], strides=[2, 2]>")
    result = linlint.fold(model, verify=False, input_shapes=SIZED)
    assert [f.code for f in result.folded] == ["LL007"]
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    np.testing.assert_allclose(_run(result.model, x), _run(model, x), rtol=1e-5, atol=1e-5)


def test_a_global_average_pool_after_a_pointwise_conv_runs_first():
    model = _transition("GlobalAveragePool")
    (finding,) = linlint.check(model, input_shapes=SIZED)
    assert finding.code == "LL007"
    result = linlint.fold(model, verify=False, input_shapes=SIZED)
    x = np.random.default_rng(1).standard_normal((2, 16, 5, 7)).astype(np.float32)
    np.testing.assert_allclose(_run(result.model, x), _run(model, x), rtol=1e-5, atol=1e-5)


def test_a_pool_that_counts_its_padding_does_not_move_before_a_bias():
    """At the borders it averages the bias with zeros: the bias would not commute."""
    pool = "AveragePool<kernel_shape=[3, 3], pads=[1, 1, 1, 1], count_include_pad=1>"
    assert not [f for f in linlint.check(_transition(pool)) if f.code == "LL007"]


def test_a_pool_that_counts_its_padding_moves_before_a_map_without_offset():
    pool = (
        "AveragePool<kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], count_include_pad=1>"
    )
    model = _transition(pool, bias=False)
    result = linlint.fold(model, verify=False, input_shapes={"x": (1, 16, 33, 33)})
    assert [f.code for f in result.folded] == ["LL007"]
    x = np.random.default_rng(2).standard_normal((1, 16, 9, 9)).astype(np.float32)
    np.testing.assert_allclose(_run(result.model, x), _run(model, x), rtol=1e-5, atol=1e-5)


def test_at_an_image_size_the_model_does_not_fix_the_pool_is_never_fused_into_the_conv():
    """Costed at the default size 1 the pool has no output: no decision is made on it, and
    the fused Conv 2x2 stride 2 (never cheaper than pooling first) is not proposed."""
    model = _transition("AveragePool<kernel_shape=[2, 2], strides=[2, 2]>")
    assert not [f for f in linlint.check(model) if f.code in ("LL005", "LL001")]


def test_a_pool_already_before_the_conv_is_left_alone():
    model = tiny.model(
        """g (float[1, 16, 8, 8] x) => (float[1, 8, 4, 4] y) {
            [relu_in] r = Relu(x)
            [pool] p = AveragePool<kernel_shape=[2, 2], strides=[2, 2]>(r)
            [conv] c = Conv<kernel_shape=[1, 1]>(p, w)
            [relu] y = Relu(c)
        }""",
        w=tiny.weights((8, 16, 1, 1)),
    )
    assert linlint.check(model) == []


def test_a_spatial_conv_before_a_pool_does_not_commute():
    model = tiny.model(
        """g (float[1, 16, 8, 8] x) => (float[1, 8, 4, 4] y) {
            [relu_in] r = Relu(x)
            [conv] c = Conv<kernel_shape=[3, 3], pads=[1, 1, 1, 1]>(r, w)
            [pool] p = AveragePool<kernel_shape=[2, 2], strides=[2, 2]>(c)
            [relu] y = Relu(p)
        }""",
        w=tiny.weights((8, 16, 3, 3)),
    )
    assert not [f for f in linlint.check(model) if f.code == "LL007"]
