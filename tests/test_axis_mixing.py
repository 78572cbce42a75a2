"""MatMul → Transpose → MatMul over two axes (MLP-Mixer without its activation): one MatMul
on the last two axes flattened, a growth fold (LL002, folded only with ``allow_growth``)
where the Transpose swaps exactly those two axes; everything else stays as it was."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

import linlint
import tiny
from linlint.analysis.absorb.flatten import MAX_DENSE

#: What the fold writes: the two axes merged, one MatMul and its bias, the two axes split.
FOLDED = ["Reshape", "MatMul", "Add", "Reshape"]


def _run(model: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x})[0]


def _mixer(perm: str = "0, 2, 1", x: str = "B, 4, 6", y: str = "B, 5, 3", **inits):
    """x → MatMul 6→5 + bias → Transpose(perm) → MatMul 4→3 + bias → Relu."""
    weights = dict(
        w1=tiny.weights((6, 5)),
        b1=tiny.weights((5,), 1),
        w2=tiny.weights((4, 3), 2),
        b2=tiny.weights((3,), 3),
    )
    weights.update(inits)
    return tiny.model(
        f"""g (float[{x}] x) => (float[{y}] y) {{
            [mm1] h = MatMul(x, w1)
            [add1] hb = Add(h, b1)
            [mix] t = Transpose <perm = [{perm}]> (hb)
            [mm2] u = MatMul(t, w2)
            [add2] v = Add(u, b2)
            [act] y = Relu(v)
        }}""",
        **weights,
    )


def test_the_sample_is_a_growth_note_that_only_allow_growth_folds(sample):
    path = sample("ll002_matmul_transpose_matmul")
    [finding] = linlint.check(path)
    assert finding.code == "LL002"
    assert "one MatMul on the last two axes flattened (4x6→5x3) + Add" in finding.message
    # batch 1: 4·6·5 + 5·4·3 multiply-adds before, 24·15 after; 6·5 + 4·3 weights and
    # 5 + 3 biases before
    assert (finding.fix.macs_before, finding.fix.macs_after) == (180, 360)
    assert (finding.fix.params_before, finding.fix.params_after) == (50, 24 * 15 + 15)

    default = linlint.fold(path)
    assert not default.changed and [f.code for f in default.remaining] == ["LL002"]

    grown = linlint.fold(path, allow_growth=True)
    assert [n.op_type for n in grown.model.graph.node] == [*FOLDED, "Relu"]
    assert grown.before.param_ops == 2 and grown.after.param_ops == 1
    assert grown.verification.ok, grown.verification.summary()
    onnx.checker.check_model(grown.model, full_check=True)
    original = onnx.load(path)
    for batch in (1, 2, 7):  # the leading axis stays dynamic
        x = tiny.weights((batch, 4, 6), seed=batch)
        np.testing.assert_allclose(_run(grown.model, x), _run(original, x), rtol=1e-5, atol=1e-5)


def test_a_transpose_back_and_constants_over_both_axes_fold_in():
    """… → MatMul over the tokens → Mul by a [5, 1] scale → Add a [3] shift → Transpose
    back (0, 2, 1) → Sub a [3, 5] constant: one Reshape → MatMul + Add → Reshape."""
    model = tiny.model(
        """g (float[B, 4, 6] x) => (float[B, 3, 5] y) {
            [mm1] h = MatMul(x, w1)
            [mix] t = Transpose <perm = [0, 2, 1]> (h)
            [mm2] u = MatMul(t, w2)
            [scale] s = Mul(u, g)
            [shift] a = Add(s, c)
            [back] r = Transpose <perm = [0, 2, 1]> (a)
            [sub] v = Sub(r, d)
            [act] y = Relu(v)
        }""",
        w1=tiny.weights((6, 5)),
        w2=tiny.weights((4, 3), 1),
        g=tiny.weights((5, 1), 2),
        c=tiny.weights((3,), 3),
        d=tiny.weights((3, 5), 4),
    )
    assert [f.code for f in linlint.check(model)] == ["LL002"]
    grown = linlint.fold(model, allow_growth=True)
    assert [n.op_type for n in grown.model.graph.node] == [*FOLDED, "Relu"]
    assert grown.verification.ok, grown.verification.summary()
    for batch in (1, 3):
        x = tiny.weights((batch, 4, 6), seed=batch)
        np.testing.assert_allclose(_run(grown.model, x), _run(model, x), rtol=1e-5, atol=1e-5)


def test_on_rank_two_the_fold_reads_the_input_as_one_vector():
    """x[4, 6] → MatMul → Transpose → MatMul: Reshape to [24] → MatMul → Reshape to [5, 3]."""
    model = _mixer("1, 0", x="4, 6", y="5, 3")
    grown = linlint.fold(model, allow_growth=True)
    assert [n.op_type for n in grown.model.graph.node] == [*FOLDED, "Relu"]
    assert grown.verification.ok, grown.verification.summary()


@pytest.mark.parametrize(
    "perm, x, y, reason",
    [
        # the Transpose also moves a leading axis: the MatMul reads the batch axis
        ("2, 1, 0", "4, 4, 6", "5, 4, 3", "reads the last axis, a Transpose moved the features"),
        # the mixed axes are not next to each other
        ("0, 3, 2, 1", "1, 4, 2, 6", "1, 5, 2, 3", "reads the last axis"),
    ],
)
def test_a_transpose_that_moves_other_axes_keeps_todays_reason(perm, x, y, reason):
    model = _mixer(perm, x=x, y=y)
    codes = [(f.code, f.fix.reason) for f in linlint.check(model) if f.code == "LL003"]
    assert codes and reason in codes[0][1], codes
    assert not linlint.fold(model, allow_growth=True, verify=False).changed


def test_a_token_count_the_model_does_not_fix_is_not_folded():
    model = _mixer(x="B, N, 6", y="B, 5, 3")
    [finding] = [f for f in linlint.check(model) if f.code == "LL003"]
    assert "whose size the model does not fix" in finding.fix.reason


def test_a_mix_that_would_not_raise_macs_is_left_as_it_is():
    """With one output token the flattened MatMul costs fewer MACs than the chain but holds
    N·C·C' weights: never a default fold (LL001), left as it is."""
    model = _mixer(y="B, 5, 1", w2=tiny.weights((4, 1), 2), b2=tiny.weights((1,), 3))
    findings = linlint.check(model)
    assert "LL001" not in {f.code for f in findings}
    [finding] = [f for f in findings if f.code == "LL003"]
    assert "would not raise MACs" in finding.fix.reason
    assert not linlint.fold(model, verify=False).changed


def test_a_folded_weight_larger_than_the_dense_cap_is_not_built():
    n, c = 64, 64  # 64·64 · 64·64 weights: above MAX_DENSE
    assert n * c * c * n > MAX_DENSE
    model = _mixer(
        x=f"1, {n}, {c}",
        y=f"1, {c}, {n}",
        w1=tiny.weights((c, c)),
        b1=tiny.weights((c,), 1),
        w2=tiny.weights((n, n), 2),
        b2=tiny.weights((n,), 3),
    )
    [finding] = [f for f in linlint.check(model) if f.code == "LL003"]
    assert "weights" in finding.fix.reason and "16,777,216" in finding.fix.reason
