"""Specifications of the input sets linlint runs models on (linlint.verification.inputs)."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

import tiny
from linlint.errors import LinlintError
from linlint.verification.input_values import CONSTANT_VALUE, LARGE_SCALE
from linlint.verification.inputs import (
    input_variants,
    make_inputs,
    region_input_sets,
    verification_inputs,
)


def _inputs(inputs: str) -> onnx.ModelProto:
    """A model of no nodes whose graph inputs are ``inputs`` (ONNX text syntax)."""
    return tiny.model(f"g ({inputs}) => () {{}}")


def _shapes(sets) -> list[tuple[int, ...]]:
    return [s.feeds["x"].shape for s in sets]


# sizes


def test_every_symbolic_dim_is_verified_at_the_base_size_then_7_then_9() -> None:
    sets = verification_inputs(_inputs("float[N, 3, H, W] x"))
    assert _shapes(sets) == [(1, 3, 1, 1), (7, 3, 7, 7), (9, 3, 9, 9)]
    assert [s.label for s in sets] == ["x=1x3x1x1", "x=7x3x7x7", "x=9x3x9x9"]


def test_a_given_shape_is_the_base_and_the_symbolic_dims_still_vary() -> None:
    model = _inputs("float[1, 3, H, W] x")
    sets = verification_inputs(model, input_shapes={"x": (1, 3, 224, 224)})
    assert _shapes(sets) == [(1, 3, 224, 224), (1, 3, 7, 7), (1, 3, 9, 9)]


def test_a_size_variant_equal_to_the_base_is_not_run_twice() -> None:
    sets = verification_inputs(_inputs("float[N, 4] x"), input_shapes={"x": (7, 4)})
    assert _shapes(sets) == [(7, 4), (9, 4)]


def test_runs_give_seeded_sets_at_the_base_size_before_the_variants() -> None:
    sets = verification_inputs(_inputs("float[N, 4] x"), runs=3, seed=5)
    assert _shapes(sets) == [(1, 4), (1, 4), (1, 4), (7, 4), (9, 4)]
    again = verification_inputs(_inputs("float[N, 4] x"), runs=3, seed=5)
    for a, b in zip(sets, again, strict=True):
        np.testing.assert_array_equal(a.feeds["x"], b.feeds["x"])
    assert not np.array_equal(sets[0].feeds["x"], sets[1].feeds["x"])


def test_a_fixed_model_has_no_size_variants() -> None:
    assert _shapes(verification_inputs(_inputs("float[2, 4] x"), runs=2)) == [(2, 4), (2, 4)]


def test_a_symbolic_batch_before_a_large_image_varies_by_the_fallback_sizes() -> None:
    """7 or 9 images of 224x224 would cost 7-9 times the base run: 2 and 3 stand in."""
    sets = verification_inputs(_inputs("float[N, 3, 224, 224] x"))
    assert _shapes(sets) == [(1, 3, 224, 224), (2, 3, 224, 224), (3, 3, 224, 224)]


def test_a_negative_declared_size_counts_as_symbolic() -> None:
    model = _inputs("float[-1, 4] x")  # paddle2onnx writes -1 for an unknown size
    assert make_inputs(model)["x"].shape == (1, 4)
    assert _shapes(verification_inputs(model)) == [(1, 4), (7, 4), (9, 4)]


def test_a_given_shape_may_set_a_negative_declared_size() -> None:
    model = _inputs("float[-1, 4] x")
    assert make_inputs(model, input_shapes={"x": (3, 4)})["x"].shape == (3, 4)
    with pytest.raises(LinlintError, match="size 4 on axis 1"):
        make_inputs(model, input_shapes={"x": (3, 5)})


def test_an_input_too_big_to_allocate_is_one_clear_error() -> None:
    model = _inputs(f"float[1, 8, {10**9}, {10**9}] x")
    with pytest.raises(LinlintError) as caught:
        make_inputs(model)
    message = str(caught.value)
    assert message.startswith("input `x` would need 32,000,000,000,000,000,000 bytes")
    assert "--input-shape x=" in message and "\n" not in message


def test_verify_refuses_an_input_too_big_to_allocate_with_the_same_error() -> None:
    from linlint.verification.compare import verify

    huge = f"float[1, 8, {10**9}, {10**9}]"
    model = tiny.model(f"g ({huge} x) => ({huge} y) {{ y = Relu(x) }}")
    with pytest.raises(LinlintError, match="input `x` would need"):
        verify(model, model)


# values


def _ints() -> onnx.ModelProto:
    return _inputs("int8[64] a, int64[64] b, uint64[64] c")


def test_the_first_set_keeps_small_non_negative_integers_for_indices() -> None:
    first = verification_inputs(_ints(), runs=2)[0].feeds
    for name in "abc":
        assert set(np.unique(first[name]).tolist()) <= {0, 1, 2, 3}


def test_other_sets_draw_integers_across_the_range_with_both_extremes() -> None:
    second = verification_inputs(_ints(), runs=2)[1]
    assert second.label.startswith("wide integers,")
    for name, dtype in (("a", np.int8), ("b", np.int64), ("c", np.uint64)):
        values = second.feeds[name]
        assert values.dtype == dtype
        assert values.min() == np.iinfo(dtype).min and values.max() == np.iinfo(dtype).max


def test_one_run_of_a_model_with_integer_inputs_adds_a_wide_integer_set() -> None:
    sets = verification_inputs(_ints(), runs=1)
    assert len(sets) == 2 and sets[1].feeds["b"].max() == np.iinfo(np.int64).max


# region sets for the fold engine


def test_input_variants_give_normal_large_zeros_and_constant_then_other_sizes() -> None:
    model = _inputs("float[1, 4, H, W] x")
    sets = region_input_sets(model)
    kinds = [s.label.split(" values,")[0] for s in sets]
    assert kinds == ["normal", "large", "zeros", "constant"] + ["normal", "constant"] * 3
    sizes = [1] * 4 + [2, 2, 7, 7, 9, 9]
    assert _shapes(sets) == [(1, 4, size, size) for size in sizes]
    zeros, constant = sets[2].feeds["x"], sets[3].feeds["x"]
    assert not zeros.any() and np.all(constant == CONSTANT_VALUE)
    assert np.abs(sets[1].feeds["x"]).max() > 100  # standard normal times 1e4
    assert [f["x"].shape for f in input_variants(model)] == _shapes(sets)


def test_large_float16_values_stay_far_from_overflow() -> None:
    model = _inputs("float16[64, 64] x")
    large = region_input_sets(model)[1].feeds["x"]
    assert large.dtype == np.float16 and np.isfinite(large).all()
    assert np.abs(large).max() < 8 * LARGE_SCALE["float16"]
    # a sum of 64 products with weights of ~1 stays below float16's 65504
    assert float(np.abs(large.astype(np.float32)).sum(axis=1).max()) < 65504
