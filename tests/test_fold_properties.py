"""Property-based tests: random linear models fold exactly, and the claims match the numbers.

For every model the strategies of ``modelgen`` draw (conv chains in 1-D, 2-D
and 3-D, branch sets, Gemm/MatMul chains, MatMuls on two axes around a Transpose):

* ``check`` and ``fold(verify=False)`` never raise;
* the folded model passes ``onnx.checker`` (full check);
* onnxruntime gives the same outputs for the original and the folded model;
* exactness claims never disagree with the numbers: every finding's fix fits
  its rule; a fold that folded something verifies (ours and ``linlint.verify``);
  LL001/LL004/LL005 findings shrink the node count (or keep it, as Conv +
  border-correction Add, with fewer parametric ops); a model with nothing
  foldable is left as it is; nothing check calls foldable is refused or left;
  the default cost policy never reports more MACs; and folding the folded
  model again folds nothing.

The tests at the end are cases these properties found, kept as plain examples.

CI runs a fixed, derandomized set of examples (about 20 s on 2 cores). To hunt
for bugs, scale up and pick seeds (failures are then saved and replayed)::

    LINLINT_HYPOTHESIS_EXAMPLES=2000 python -m pytest tests/test_fold_properties.py \\
        -x --hypothesis-seed=12345
"""

from __future__ import annotations

import os

import numpy as np
import onnx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from modelgen import (
    Generated,
    axis_mixes,
    blocked_chains,
    branch_sets,
    conv_chains,
    dense_chains,
)
from onnx import TensorProto

import linlint
import tiny
from linlint.rules import foldable_codes

_SCALED = int(os.environ.get("LINLINT_HYPOTHESIS_EXAMPLES", "0"))

# Codes whose findings `fold` rewrites with the default policy (LL002 only with allow_growth).
FOLDABLE = foldable_codes()
# Of those, the codes whose fold leaves fewer ops (LL006 removes an identity activation only).
SHRINKING = {"LL001", "LL004", "LL005"}

RTOL = 1e-4
ATOL_PER_MAGNITUDE = 1e-4  # float32 composition reorders sums: scale atol by the output size


def _settings(ci_examples: int):
    return settings(
        max_examples=_SCALED or ci_examples,
        deadline=None,
        derandomize=not _SCALED,
        database=None if not _SCALED else settings.default.database,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        print_blob=bool(_SCALED),
    )


def run(model: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.log_severity_level = 3
    session = ort.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    return session.run(None, feeds)


def assert_same_outputs(gen: Generated, folded: onnx.ModelProto) -> None:
    names = [o.name for o in gen.model.graph.output]
    assert [o.name for o in folded.graph.output] == names
    expected = run(gen.model, gen.feeds)
    actual = run(folded, gen.feeds)
    for name, want, got in zip(names, expected, actual, strict=True):
        assert got.shape == want.shape, (name, got.shape, want.shape)
        magnitude = float(np.max(np.abs(want), initial=0.0))
        atol = ATOL_PER_MAGNITUDE * max(magnitude, 1e-3)
        error = np.abs(got.astype(np.float64) - want.astype(np.float64))
        bound = atol + RTOL * np.abs(want.astype(np.float64))
        worst = float(np.max(error - bound, initial=-1.0))
        assert worst <= 0, (
            f"output {name} differs after folding: max abs error {error.max():.3g} "
            f"for magnitude {magnitude:.3g}"
        )


def check_properties(gen: Generated, allow_growth: bool) -> None:
    model = gen.model
    onnx.checker.check_model(model, full_check=True)  # the generator's own promise
    before = model.SerializeToString()

    findings = linlint.check(model)
    codes = {f.code for f in findings}
    foldable = FOLDABLE | ({"LL002"} if allow_growth else set())
    for f in findings:  # each finding's own claim fits its rule
        if f.code in SHRINKING:
            assert f.fix.exact and f.fix.macs_after <= f.fix.macs_before, f
        elif f.code == "LL002":  # raises MACs, or may: the figures cannot decide
            grows = f.fix.macs_after > f.fix.macs_before or f.fix.undecided
            assert f.fix.exact and grows, f
        elif f.code == "LL003":
            assert not f.fix.exact and f.fix.reason, f

    result = linlint.fold(model, verify=False, allow_growth=allow_growth)
    assert model.SerializeToString() == before, "fold changed the model it was given"
    onnx.checker.check_model(result.model, full_check=True)
    assert [i.name for i in result.model.graph.input] == [i.name for i in model.graph.input]
    assert_same_outputs(gen, result.model)
    other_floats = {TensorProto.DOUBLE, TensorProto.FLOAT16, TensorProto.BFLOAT16}
    assert not [t.name for t in result.model.graph.initializer if t.data_type in other_floats]

    # check and fold agree: what check calls foldable is folded, nothing is refused. (A
    # later round may fold more than check reported: a border map that turned out
    # per-channel, a chain that an identity activation hid.)
    assert not result.refused, result.refused
    assert {r.code for r in result.folded} <= foldable
    before, after = result.before, result.after
    assert after.nodes <= before.nodes, (before, after)
    if codes & SHRINKING:
        # Fewer nodes, or as many (Conv + border-correction Add) with fewer parametric ops.
        assert (after.nodes, after.param_ops) < (before.nodes, before.param_ops), (
            codes,
            before,
            after,
        )
    if not codes & foldable:
        assert not result.folded, [r.message for r in result.folded]
        assert after.nodes == before.nodes
        assert len(result.model.graph.node) == len(model.graph.node)
    left = {f.code for f in result.remaining} & foldable
    assert not left, [f.message for f in result.remaining if f.code in left]

    # the cost policy: by default never more MACs or parametric ops; counts are counts.
    assert min(before.macs, after.macs, before.params, after.params) >= 0, (before, after)
    if not allow_growth:
        assert after.macs <= before.macs, (before, after)
        assert after.param_ops <= before.param_ops

    # linlint's own verification agrees with ours (it feeds size 1 for symbolic dims).
    if result.folded and not gen.dynamic:
        verification = linlint.verify(model, result.model)
        assert verification.ok, verification.summary()

    again = linlint.fold(result.model, verify=False, allow_growth=allow_growth)
    assert again.folded == [], [r.message for r in again.folded]


@pytest.mark.parametrize("nd", [1, 2, 3])
@_settings(ci_examples=150)
@given(data=st.data(), allow_growth=st.booleans())
def test_conv_chains_fold_exactly(nd, data, allow_growth):
    check_properties(data.draw(conv_chains(nd)), allow_growth)


@_settings(ci_examples=300)
@given(gen=branch_sets(), allow_growth=st.booleans())
def test_branch_sets_fold_exactly(gen, allow_growth):
    check_properties(gen, allow_growth)


@_settings(ci_examples=300)
@given(gen=dense_chains(), allow_growth=st.booleans())
def test_dense_chains_fold_exactly(gen, allow_growth):
    check_properties(gen, allow_growth)


@_settings(ci_examples=150)
@given(gen=axis_mixes(), allow_growth=st.booleans())
def test_matmuls_on_two_axes_fold_exactly(gen, allow_growth):
    check_properties(gen, allow_growth)


@_settings(ci_examples=150)
@given(drawn=blocked_chains())
def test_what_folds_inside_a_region_that_does_not_fold_as_a_whole_is_found_and_folded(drawn):
    """Each side of the op no form absorbs folds to one op (with growth allowed: a side
    may be a bottleneck), exactly, and no finding is left that fold could act on. (Fewer,
    where the op between is a pool that commutes with the side before it.)"""
    gen, before, after = drawn
    check_properties(gen, allow_growth=True)
    result = linlint.fold(gen.model, verify=False, allow_growth=True)
    assert result.after.param_ops <= min(before, 1) + min(after, 1), gen.sketch
    if before >= 2 or after >= 2:
        assert {f.code for f in linlint.check(gen.model)} & (FOLDABLE | {"LL002"}), gen.sketch


# ---- engine bugs the properties found, kept as plain examples ------------------------------------


def _example(text: str, x_shape: tuple, *, seed: int = 0, **inits) -> Generated:
    """The model ``text`` says (ONNX text syntax) with ``inits``, fed a seeded x of ``x_shape``."""
    return Generated(tiny.model(text, **inits), {"x": tiny.weights(x_shape, seed)}, ["regression"])


def test_reshape_of_leading_axes_then_a_matmul_that_changes_the_width_folds():
    """MatMul → Reshape (split rows) → MatMul: the emitted Reshape must use the new width."""
    rng = np.random.default_rng(0)
    gen = _example(
        """g (float[6, 4] x) => (float[2, 3, 2] y) {
            [mm1] h = MatMul(x, w1)
            [reshape] r = Reshape(h, shape)
            [mm2] y = MatMul(r, w2)
        }""",
        (6, 4),
        w1=rng.standard_normal((4, 3)).astype(np.float32),
        w2=rng.standard_normal((3, 2)).astype(np.float32),
        shape=np.array([2, 3, 3], dtype=np.int64),
    )
    check_properties(gen, allow_growth=False)


def test_a_reshape_of_the_last_axis_before_the_first_matmul_is_not_folded_through():
    """Reshape [2, 6] → [4, 3] then MatMul → MatMul: the MatMul cannot move before the Reshape."""
    rng = np.random.default_rng(0)
    gen = _example(
        """g (float[2, 6] x) => (float[4, 2] y) {
            [reshape] r = Reshape(x, shape)
            [mm1] h = MatMul(r, w1)
            [mm2] y = MatMul(h, w2)
        }""",
        (2, 6),
        shape=np.array([4, 3], dtype=np.int64),
        w1=rng.standard_normal((3, 3)).astype(np.float32),
        w2=rng.standard_normal((3, 2)).astype(np.float32),
    )
    check_properties(gen, allow_growth=False)


def test_a_reshape_whose_zero_copies_the_width_folds_with_the_new_width():
    """Reshape [4, 2] → [-1, 0, 2] (the 0 copies the width 2) then MatMul 2→3 → MatMul 3→3."""
    rng = np.random.default_rng(0)
    gen = _example(
        """g (float[4, 2] x) => (float[2, 2, 3] y) {
            [reshape] r = Reshape(x, shape)
            [mm1] h = MatMul(r, w1)
            [mm2] y = MatMul(h, w2)
        }""",
        (4, 2),
        shape=np.array([-1, 0, 2], dtype=np.int64),
        w1=rng.standard_normal((2, 3)).astype(np.float32),
        w2=rng.standard_normal((3, 3)).astype(np.float32),
    )
    check_properties(gen, allow_growth=False)


def test_default_fold_never_reports_more_macs_for_a_reshaped_matmul():
    """Reshape (merge rows) → MatMul → Mul: the same MatMul must cost the same before and after."""
    rng = np.random.default_rng(0)
    gen = _example(
        """g (float[2, 3, 4] x) => (float[6, 4] y) {
            [reshape] r = Reshape(x, shape)
            [mm] h = MatMul(r, w)
            [scale] y = Mul(h, s)
        }""",
        (2, 3, 4),
        shape=np.array([6, 4], dtype=np.int64),
        w=rng.standard_normal((4, 4)).astype(np.float32),
        s=rng.uniform(0.5, 1.5, 4).astype(np.float32),
    )
    check_properties(gen, allow_growth=False)


def test_identity_activations_in_a_row_are_all_removed():
    """Relu → Relu → Relu: both redundant Relus go in one fold, the graph stays connected."""
    gen = _example(
        """g (float[1, 4] x) => (float[1, 4] y) {
            [relu1] a = Relu(x)
            [relu2] b = Relu(a)
            [relu3] c = Relu(b)
            [sigmoid] y = Sigmoid(c)
        }""",
        (1, 4),
    )
    check_properties(gen, allow_growth=False)


def test_default_fold_never_reports_more_macs_once_a_pad_is_folded_away():
    """Pad → Conv 1x1 → Conv 1x1 → Relu: the totals must see the convs' real size before too."""
    rng = np.random.default_rng(0)
    gen = _example(
        """g (float[1, 2, 4, 4] x) => (float[1, 2, 6, 6] y) {
            [pad] p = Pad(x, pads)
            [conv1] h = Conv(p, w1)
            [conv2] z = Conv(h, w2)
            [relu] y = Relu(z)
        }""",
        (1, 2, 4, 4),
        seed=1,
        pads=np.array([0, 0, 1, 1, 0, 0, 1, 1], dtype=np.int64),
        w1=rng.standard_normal((3, 2, 1, 1)).astype(np.float32),
        w2=rng.standard_normal((2, 3, 1, 1)).astype(np.float32),
    )
    check_properties(gen, allow_growth=False)


def test_default_fold_never_reports_more_macs_when_a_symbolic_size_is_below_the_kernel():
    """Symbolic spatial dims count as 1; a 3-tap conv on them must not make the fold look dearer."""
    rng = np.random.default_rng(0)
    gen = _example(
        """g (float[1, 2, L] x) => (float[1, 2, L2] y) {
            [conv3] h = Conv(x, w1)
            [conv1x1] y = Conv(h, w2)
        }""",
        (1, 2, 9),
        seed=1,
        w1=rng.standard_normal((2, 2, 3)).astype(np.float32),
        w2=rng.standard_normal((2, 2, 1)).astype(np.float32),
    )
    check_properties(gen, allow_growth=False)
