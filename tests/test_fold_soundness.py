"""Folds never write a wrong model.

Each test builds the model an adversarial review found, folds it, and judges
the result on inputs the fold never saw (other sizes, extreme values, other
values of overridable initializers) with onnxruntime directly. Where the
right answer is "do not fold", ``check`` must say why, and ``check`` and
``fold`` must agree.
"""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

import linlint
import tiny
from conftest import ROOT

DATA = ROOT / "tests" / "data"


def _run(model: onnx.ModelProto, feeds: dict) -> list[np.ndarray]:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, feeds)


def _same(model, folded, feeds, rtol=1e-4, atol=1e-5):
    for a, b in zip(_run(model, feeds), _run(folded, feeds), strict=True):
        assert a.shape == b.shape
        if a.dtype.kind in "iub":
            np.testing.assert_array_equal(a, b)
        else:
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


def _exact(findings) -> dict[str, bool]:
    return {f.code: f.fix.exact for f in findings}


# ---- integer arithmetic --------------------------------------------------------------------------


def _int_matmul_div():
    return tiny.from_nodes(
        [
            helper.make_node("MatMul", ["x", "w"], ["h"], name="mm"),
            helper.make_node("Div", ["h", "ten"], ["y"], name="div"),
        ],
        [tiny.value("x", TensorProto.INT64, [2, 3])],
        [tiny.value("y", TensorProto.INT64, [2, 1])],
        [tiny.tensor("w", np.ones((3, 1), np.int64)), tiny.tensor("ten", np.array(10, np.int64))],
    )


def test_integer_matmul_then_div_is_not_folded_nor_called_exact():
    model = _int_matmul_div()
    result = linlint.fold(model, verify=False)
    assert not result.changed
    x = np.array([[10, 20, 30], [1, 2, 3]], np.int64)
    assert _run(result.model, {"x": x})[0].ravel().tolist() == [6, 0]
    assert not any(f.fix.exact for f in linlint.check(model))


def test_int32_weight_products_that_overflow_are_not_folded():
    big = np.array([[1 << 16]], np.int32)
    model = tiny.from_nodes(
        [
            helper.make_node("MatMul", ["x", "w1"], ["h"], name="mm1"),
            helper.make_node("MatMul", ["h", "w2"], ["y"], name="mm2"),
        ],
        [tiny.value("x", TensorProto.INT32, [2, 1])],
        [tiny.value("y", TensorProto.INT32, [2, 1])],
        [tiny.tensor("w1", big), tiny.tensor("w2", big)],
    )
    result = linlint.fold(model, verify=False)
    x = np.array([[1], [3]], np.int32)
    _same(model, result.model, {"x": x})
    assert not result.changed
    [finding] = linlint.check(model)
    assert finding.code == "LL003" and "integer arithmetic (int32)" in finding.fix.reason


# ---- identity-activation facts per dtype ---------------------------------------------------------


@pytest.mark.parametrize("elem", [TensorProto.INT8, TensorProto.INT32])
def test_relu_after_abs_is_not_the_identity_on_integers(elem):
    dtype = helper.tensor_dtype_to_np_dtype(elem)
    model = tiny.from_nodes(
        [
            helper.make_node("Abs", ["x"], ["a"], name="abs"),
            helper.make_node("Relu", ["a"], ["y"], name="relu"),
        ],
        [tiny.value("x", elem, [4])],
        [tiny.value("y", elem, [4])],
        opset=14,
    )
    assert not [f for f in linlint.check(model) if f.code == "LL006"]
    folded = linlint.fold(model, verify=False).model
    assert [n.op_type for n in folded.graph.node] == ["Abs", "Relu"]
    x = np.array([np.iinfo(dtype).min, -1, 0, 5], dtype)
    assert _run(folded, {"x": x})[0].tolist() == [0, 1, 0, 5]


def test_relu_after_abs_is_still_the_identity_on_floats():
    model = tiny.from_nodes(
        [
            helper.make_node("Abs", ["x"], ["a"], name="abs"),
            helper.make_node("Relu", ["a"], ["y"], name="relu"),
        ],
        [tiny.value("x", TensorProto.FLOAT, [4])],
        [tiny.value("y", TensorProto.FLOAT, [4])],
    )
    assert [f.code for f in linlint.check(model)] == ["LL006"]


# ---- joins of broadcast branches -----------------------------------------------------------------


def _broadcast_join(tail1, tail2, inits=()):
    rng = np.random.default_rng(0)
    w1 = rng.standard_normal((4, 5)).astype(np.float32)
    w2 = rng.standard_normal((4, 5)).astype(np.float32)
    return tiny.from_nodes(
        [
            helper.make_node("MatMul", ["x", "w1"], ["h1"], name="mm1"),
            helper.make_node("MatMul", ["x", "w2"], ["h2"], name="mm2"),
            tail1,
            tail2,
            helper.make_node("Add", ["t1", "t2"], ["y"], name="join"),
        ],
        [tiny.value("x", TensorProto.FLOAT, ["M", 4])],
        [tiny.value("y", TensorProto.FLOAT, None)],
        [tiny.tensor("w1", w1), tiny.tensor("w2", w2), *inits],
    )


@pytest.mark.parametrize(
    "case",
    [
        (
            helper.make_node("Unsqueeze", ["h1", "ax0"], ["t1"], name="u1"),
            helper.make_node("Unsqueeze", ["h2", "ax1"], ["t2"], name="u2"),
            [
                tiny.tensor("ax0", np.array([0], np.int64)),
                tiny.tensor("ax1", np.array([1], np.int64)),
            ],
        ),
        (
            helper.make_node("Reshape", ["h1", "s1"], ["t1"], name="r1"),
            helper.make_node("Reshape", ["h2", "s2"], ["t2"], name="r2"),
            [
                tiny.tensor("s1", np.array([1, -1, 5], np.int64)),
                tiny.tensor("s2", np.array([-1, 1, 5], np.int64)),
            ],
        ),
    ],
    ids=["unsqueeze", "reshape"],
)
def test_branches_with_different_tails_joined_by_broadcast_are_not_merged(case):
    tail1, tail2, inits = case
    model = _broadcast_join(tail1, tail2, inits)
    folded = linlint.fold(model, verify=False).model
    for m in (1, 3):
        x = np.random.default_rng(m).standard_normal((m, 4)).astype(np.float32)
        _same(model, folded, {"x": x})
        assert _run(folded, {"x": x})[0].shape == (m, m, 5)


# ---- size-dependent exactness --------------------------------------------------------------------


def _conv_then_ceil_pool():
    rng = np.random.default_rng(1)
    return tiny.from_nodes(
        [
            helper.make_node("Conv", ["x", "w"], ["h"], name="conv", kernel_shape=[3, 3]),
            helper.make_node(
                "AveragePool", ["h"], ["y"], name="pool", kernel_shape=[2, 2], strides=[2, 2],
                ceil_mode=1,
            ),
        ],
        [tiny.value("x", TensorProto.FLOAT, [1, 4, "H", "W"])],
        [tiny.value("y", TensorProto.FLOAT, None)],
        [tiny.tensor("w", rng.standard_normal((4, 4, 3, 3)).astype(np.float32))],
    )  # fmt: skip


@pytest.mark.parametrize("shapes", [{"x": (1, 4, 6, 6)}, None], ids=["input-shape", "default"])
def test_a_fold_exact_only_at_some_sizes_is_not_made_on_sizes_the_model_does_not_fix(shapes):
    model = _conv_then_ceil_pool()
    result = linlint.fold(model, input_shapes=shapes, allow_growth=True, verify=False)
    assert [i.SerializeToString() for i in result.model.graph.input] == [
        i.SerializeToString() for i in model.graph.input
    ]
    for size in (6, 7, 9):
        x = np.random.default_rng(size).standard_normal((1, 4, size, size)).astype(np.float32)
        _same(model, result.model, {"x": x})


# ---- partial broadcast in the shape walk ---------------------------------------------------------


def test_a_sum_with_an_operand_of_unknown_shape_has_an_unknown_shape():
    rng = np.random.default_rng(2)
    c = 3
    model = tiny.from_nodes(
        [
            helper.make_node("ConvTranspose", ["x", "wt"], ["up"], name="up", strides=[2, 2],
                             kernel_shape=[2, 2]),
            helper.make_node("Relu", ["x"], ["r"], name="relu"),
            helper.make_node("GlobalAveragePool", ["r"], ["g"], name="gap"),
            helper.make_node("Add", ["up", "g"], ["s"], name="sum"),
            helper.make_node("Relu", ["s"], ["s2"], name="relu2"),
            helper.make_node("Conv", ["s2", "w1", "b1"], ["h"], name="c1", kernel_shape=[1, 1]),
            helper.make_node("Conv", ["h", "w2"], ["y"], name="c2", kernel_shape=[3, 3],
                             pads=[1, 1, 1, 1]),
        ],
        [tiny.value("x", TensorProto.FLOAT, [1, c, 4, 4])],
        [tiny.value("y", TensorProto.FLOAT, None)],
        [
            tiny.tensor("wt", rng.standard_normal((c, c, 2, 2)).astype(np.float32)),
            tiny.tensor("w1", rng.standard_normal((c, c, 1, 1)).astype(np.float32)),
            tiny.tensor("b1", rng.standard_normal(c).astype(np.float32)),
            tiny.tensor("w2", rng.standard_normal((c, c, 3, 3)).astype(np.float32)),
        ],
    )  # fmt: skip
    folded = linlint.fold(model, verify=False).model
    x = rng.standard_normal((1, c, 4, 4)).astype(np.float32)
    _same(model, folded, {"x": x})


# ---- channel broadcast before the first Conv / MatMul --------------------------------------------


def test_a_constant_that_broadcasts_channels_before_a_conv_is_not_folded_and_others_still_are():
    rng = np.random.default_rng(3)
    model = tiny.from_nodes(
        [
            helper.make_node("Mul", ["x", "c"], ["m"], name="scale"),
            helper.make_node("Conv", ["m", "w"], ["h"], name="conv", kernel_shape=[1, 1]),
            helper.make_node("Relu", ["h"], ["r"], name="relu"),
            helper.make_node("Conv", ["r", "w2"], ["h2"], name="c2", kernel_shape=[1, 1]),
            helper.make_node("Conv", ["h2", "w3"], ["y"], name="c3", kernel_shape=[1, 1]),
        ],
        [tiny.value("x", TensorProto.FLOAT, [1, 1, "H", "W"])],
        [tiny.value("y", TensorProto.FLOAT, None)],
        [
            tiny.tensor("c", rng.standard_normal((1, 3, 1, 1)).astype(np.float32)),
            tiny.tensor("w", rng.standard_normal((2, 3, 1, 1)).astype(np.float32)),
            tiny.tensor("w2", rng.standard_normal((2, 2, 1, 1)).astype(np.float32)),
            tiny.tensor("w3", rng.standard_normal((2, 2, 1, 1)).astype(np.float32)),
        ],
    )
    findings = linlint.check(model)
    assert not [f for f in findings if "scale" in f.nodes]
    result = linlint.fold(model)
    assert result.verification is not None and result.verification.ok
    assert [r.nodes for r in result.folded] == [("c2", "c3")]
    x = rng.standard_normal((1, 1, 5, 5)).astype(np.float32)
    _same(model, result.model, {"x": x})


def test_a_constant_that_broadcasts_features_before_a_matmul_is_not_folded():
    rng = np.random.default_rng(4)
    model = tiny.from_nodes(
        [
            helper.make_node("Mul", ["x", "c"], ["m"], name="scale"),
            helper.make_node("MatMul", ["m", "w"], ["y"], name="mm"),
        ],
        [tiny.value("x", TensorProto.FLOAT, ["M", 1])],
        [tiny.value("y", TensorProto.FLOAT, None)],
        [
            tiny.tensor("c", rng.standard_normal((1, 3)).astype(np.float32)),
            tiny.tensor("w", rng.standard_normal((3, 2)).astype(np.float32)),
        ],
    )
    folded = linlint.fold(model, verify=False).model
    x = rng.standard_normal((4, 1)).astype(np.float32)
    _same(model, folded, {"x": x})


# ---- initializers that are graph inputs ----------------------------------------------------------


def _overridable_chain(ir: int):
    rng = np.random.default_rng(5)
    w1 = rng.standard_normal((3, 3, 1, 1)).astype(np.float32)
    w2 = rng.standard_normal((3, 3, 1, 1)).astype(np.float32)
    inputs = [
        tiny.value("x", TensorProto.FLOAT, [1, 3, 4, 4]),
        tiny.value("w1", TensorProto.FLOAT, [3, 3, 1, 1]),
    ]
    if ir < 4:
        inputs.append(tiny.value("w2", TensorProto.FLOAT, [3, 3, 1, 1]))
    model = tiny.from_nodes(
        [
            helper.make_node("Conv", ["x", "w1"], ["h"], name="c1", kernel_shape=[1, 1]),
            helper.make_node("Conv", ["h", "w2"], ["y"], name="c2", kernel_shape=[1, 1]),
        ],
        inputs,
        [tiny.value("y", TensorProto.FLOAT, [1, 3, 4, 4])],
        [tiny.tensor("w1", w1), tiny.tensor("w2", w2)],
        opset=9 if ir < 4 else 17,
        ir=ir,
    )
    return model


def test_an_initializer_that_is_a_graph_input_is_an_input_not_a_constant():
    model = _overridable_chain(ir=8)
    result = linlint.fold(model, verify=False)
    assert "w1" in [i.name for i in result.model.graph.input]
    rng = np.random.default_rng(6)
    x = rng.standard_normal((1, 3, 4, 4)).astype(np.float32)
    other = rng.standard_normal((3, 3, 1, 1)).astype(np.float32)
    _same(model, result.model, {"x": x, "w1": other})
    _same(model, result.model, {"x": x})


def test_before_ir_4_initializers_listed_as_inputs_stay_constants():
    result = linlint.fold(_overridable_chain(ir=3))
    assert result.changed and result.verification.ok


# ---- check and fold agree ------------------------------------------------------------------------


def _conv_chain_with(w1, w2, elem=TensorProto.FLOAT, extra=None):
    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["h"], name="c1", kernel_shape=[1, 1]),
        helper.make_node("Conv", ["h", "w2"], ["y"], name="c2", kernel_shape=[1, 1]),
    ]
    inits = [tiny.tensor("w1", w1), tiny.tensor("w2", w2)]
    if extra is not None:
        nodes[1].output[0] = "z"
        nodes.append(extra[0])
        inits.append(extra[1])
    return tiny.from_nodes(
        nodes, [tiny.value("x", elem, [1, 2, 3, 3])], [tiny.value("y", elem, [1, 2, 3, 3])], inits
    )


def _agree(model):
    """check's exactness is fold's decision: exact regions fold, the others are refused."""
    findings = [f for f in linlint.check(model) if f.code != "LL006"]
    result = linlint.fold(model, allow_growth=True, verify=False)
    exact = [f for f in findings if f.fix.exact]
    assert bool(exact) == result.changed, (findings, result.refused)
    return findings, result


def test_a_division_by_a_constant_holding_zero_is_inexact_in_check_and_fold():
    w = np.ones((2, 2, 1, 1), np.float32)
    div = helper.make_node("Div", ["z", "d"], ["y"], name="div")
    model = _conv_chain_with(
        w, w, extra=(div, tiny.tensor("d", np.array([1, 0], np.float32).reshape(1, 2, 1, 1)))
    )
    findings, _ = _agree(model)
    assert findings and "zero" in findings[0].fix.reason


def test_a_weight_holding_inf_is_inexact_in_check_and_fold():
    w = np.ones((2, 2, 1, 1), np.float32)
    bad = w.copy()
    bad[0, 0] = np.inf
    findings, _ = _agree(_conv_chain_with(bad, w))
    assert findings and "Inf" in findings[0].fix.reason


def test_batchnorm_7_with_per_element_statistics_is_inexact_in_check_and_fold():
    w = np.ones((2, 2, 1, 1), np.float32)
    shape = (2 * 3 * 3,)
    bn = helper.make_node(
        "BatchNormalization", ["z", "g", "b", "m", "v"], ["y"], name="bn", spatial=0
    )
    model = _conv_chain_with(w, w, extra=(bn, tiny.tensor("g", np.ones(shape, np.float32))))
    for name in ("b", "m"):
        model.graph.initializer.append(tiny.tensor(name, np.zeros(shape, np.float32)))
    model.graph.initializer.append(tiny.tensor("v", np.ones(shape, np.float32)))
    model.opset_import[0].version = 7
    model.ir_version = 3
    findings, result = _agree(model)
    assert not result.changed or all("bn" not in r.nodes for r in result.folded)


def test_fp16_weight_products_beyond_its_range_are_inexact_in_check_and_fold():
    w = np.full((2, 2, 1, 1), 300.0, np.float16)
    findings, result = _agree(_conv_chain_with(w, w, TensorProto.FLOAT16))
    assert findings and not result.changed
    assert "float16" in findings[0].fix.reason


# ---- crashes -------------------------------------------------------------------------------------


def _conv_pair(weight_inputs=("w1", "w2"), shape=(1, 2, 4, 4)):
    return (
        [
            helper.make_node(
                "Conv", ["x", weight_inputs[0]], ["h"], name="c1", kernel_shape=[1, 1]
            ),
            helper.make_node(
                "Conv", ["h", weight_inputs[1]], ["y"], name="c2", kernel_shape=[1, 1]
            ),
        ],
        [tiny.value("x", TensorProto.FLOAT, list(shape))],
        [tiny.value("y", TensorProto.FLOAT, list(shape))],
    )


def test_a_model_with_a_sparse_initializer_checks_and_folds():
    nodes, inputs, outputs = _conv_pair()
    model = tiny.from_nodes(
        nodes, inputs, outputs, [tiny.tensor("w2", np.ones((2, 2, 1, 1), np.float32))]
    )
    values = tiny.tensor("w1", np.array([1.0, 2.0], np.float32))
    indices = tiny.tensor("w1_indices", np.array([0, 3], np.int64))
    model.graph.sparse_initializer.append(helper.make_sparse_tensor(values, indices, [2, 2, 1, 1]))
    assert [f.code for f in linlint.check(model)] == ["LL001"]
    result = linlint.fold(model)
    assert result.verification is None or result.verification.ok
    x = np.random.default_rng(0).standard_normal((1, 2, 4, 4)).astype(np.float32)
    _same(model, result.model, {"x": x})


def test_a_weight_computed_through_hundreds_of_constant_nodes_folds():
    nodes, inputs, outputs = _conv_pair(("w1_400", "w2"))
    chain = [
        helper.make_node("Identity", [f"w1_{k}"], [f"w1_{k + 1}"], name=f"id{k}")
        for k in range(400)
    ]
    rng = np.random.default_rng(1)
    inits = [
        tiny.tensor("w1_0", rng.standard_normal((2, 2, 1, 1)).astype(np.float32)),
        tiny.tensor("w2", rng.standard_normal((2, 2, 1, 1)).astype(np.float32)),
    ]
    model = tiny.from_nodes(chain + nodes, inputs, outputs, inits)
    assert [f.code for f in linlint.check(model)] == ["LL001"]
    result = linlint.fold(model)
    assert result.changed and result.verification.ok


def test_a_negative_declared_size_is_an_unknown_size():
    nodes, inputs, outputs = _conv_pair(shape=(-1, 2, -1, -1))
    rng = np.random.default_rng(2)
    inits = [
        tiny.tensor(n, rng.standard_normal((2, 2, 1, 1)).astype(np.float32)) for n in ("w1", "w2")
    ]
    model = tiny.from_nodes(nodes, inputs, outputs, inits)
    result = linlint.fold(model)
    assert result.changed and result.verification.ok
    result = linlint.fold(model, input_shapes={"x": (2, 2, 5, 5)})
    assert result.changed and result.verification.ok


def test_an_opset_4_reshape_with_its_target_as_an_attribute_is_checked_and_folded():
    rng = np.random.default_rng(3)
    model = tiny.from_nodes(
        [
            helper.make_node("Gemm", ["x", "w1"], ["h"], name="fc1"),
            helper.make_node("Reshape", ["h"], ["r"], name="reshape", shape=[2, 3]),
            helper.make_node("Gemm", ["r", "w2"], ["y"], name="fc2"),
        ],
        [tiny.value("x", TensorProto.FLOAT, [2, 3])],
        [tiny.value("y", TensorProto.FLOAT, [2, 3])],
        [tiny.tensor(n, rng.standard_normal((3, 3)).astype(np.float32)) for n in ("w1", "w2")],
        opset=4,
        ir=3,
    )
    for init in model.graph.initializer:
        model.graph.input.append(tiny.value(init.name, TensorProto.FLOAT, [3, 3]))
    linlint.check(model)
    result = linlint.fold(model)
    assert result.verification is None or result.verification.ok


def test_fold_keeps_the_weights_training_info_binds():
    nodes, inputs, outputs = _conv_pair()
    rng = np.random.default_rng(4)
    inits = [
        tiny.tensor(n, rng.standard_normal((2, 2, 1, 1)).astype(np.float32)) for n in ("w1", "w2")
    ]
    model = tiny.from_nodes(nodes, inputs, outputs, inits)
    algorithm = helper.make_graph(
        [helper.make_node("Identity", ["w1"], ["w1_new"])],
        "step",
        [],
        [tiny.value("w1_new", TensorProto.FLOAT, [2, 2, 1, 1])],
    )
    info = model.training_info.add()
    info.algorithm.CopyFrom(algorithm)
    binding = info.update_binding.add()
    binding.key, binding.value = "w1", "w1_new"
    result = linlint.fold(model)
    assert result.changed
    names = {t.name for t in result.model.graph.initializer}
    assert "w1" in names


def test_fold_prints_no_numpy_warnings(tmp_path):
    import subprocess
    import sys

    w = np.full((2, 2, 1, 1), 300.0, np.float16)
    div = helper.make_node("Div", ["z", "d"], ["y"], name="div")
    zero = tiny.tensor("d", np.array([1, 0], np.float16).reshape(1, 2, 1, 1))
    onnx.save(_conv_chain_with(w, w, TensorProto.FLOAT16, extra=(div, zero)), tmp_path / "m.onnx")
    result = subprocess.run(
        [sys.executable, "-m", "linlint", "fold", "m.onnx", "--diff", "--allow-growth"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode in (0, 1) and result.stderr == "", result.stderr


# ---- each fold is verified where it happened -----------------------------------------------------


def _sabotage_first_fold(monkeypatch, stem_in_name: str):
    """Make ``emit`` write a wrong weight (1e-3 relative) for the region whose last node's
    name contains ``stem_in_name``: the per-region proof must catch it."""
    import linlint.folding.rounds

    real = linlint.folding.rounds.emit

    def emit(form, source, output, base, dtype, names):
        nodes, inits = real(form, source, output, base, dtype, names)
        if stem_in_name in base:
            weight = numpy_helper.to_array(inits[0]).copy()
            weight.flat[0] *= 1.001
            inits[0].CopyFrom(numpy_helper.from_array(weight, inits[0].name))
        return nodes, inits

    monkeypatch.setattr(linlint.folding.rounds, "emit", emit)


def test_a_region_whose_proof_fails_is_left_as_it_was_and_the_others_still_fold(monkeypatch):
    rng = np.random.default_rng(7)
    w = [rng.standard_normal((3, 3, 1, 1)).astype(np.float32) for _ in range(4)]
    model = tiny.from_nodes(
        [
            helper.make_node("Conv", ["x", "w0"], ["a"], name="a1", kernel_shape=[1, 1]),
            helper.make_node("Conv", ["a", "w1"], ["b"], name="a2", kernel_shape=[1, 1]),
            helper.make_node("Relu", ["b"], ["r"], name="relu"),
            helper.make_node("Conv", ["r", "w2"], ["c"], name="b1", kernel_shape=[1, 1]),
            helper.make_node("Conv", ["c", "w3"], ["y"], name="b2", kernel_shape=[1, 1]),
        ],
        [tiny.value("x", TensorProto.FLOAT, [1, 3, 4, 4])],
        [tiny.value("y", TensorProto.FLOAT, [1, 3, 4, 4])],
        [tiny.tensor(f"w{k}", w[k]) for k in range(4)],
    )
    _sabotage_first_fold(monkeypatch, "a2")
    result = linlint.fold(model)
    assert [r.nodes for r in result.folded] == [("b1", "b2")]
    assert len(result.refused) == 1 and result.refused[0].startswith("a1 → a2: verification")
    assert result.verification.ok
    assert [f.code for f in result.remaining] == ["LL001"]


def test_a_wrong_fold_in_an_if_branch_the_inputs_never_take_is_caught(monkeypatch, sample):
    model = onnx.load(sample("ll001_chain_in_if_branch"))
    names = [n.name for g in _graphs(model.graph) for n in g.node if n.op_type == "Conv"]
    _sabotage_first_fold(monkeypatch, names[-1])
    result = linlint.fold(model)
    assert not result.changed
    assert result.refused and "verification failed" in result.refused[0]


def _graphs(graph):
    yield graph
    for node in graph.node:
        for a in node.attribute:
            if a.type == onnx.AttributeProto.GRAPH:
                yield from _graphs(a.g)


def test_sizes_declared_inside_a_loop_body_are_not_taken_as_fixed():
    """A traced export declares the body's tensors at one size of the symbolic outer input:
    a border-correction map sized from that declaration would be wrong at other sizes."""
    rng = np.random.default_rng(8)
    body = helper.make_graph(
        [
            helper.make_node("Conv", ["v", "w1", "b1"], ["h"], name="c1x1"),
            helper.make_node("Conv", ["h", "w3"], ["v_out"], name="c3x3", pads=[1, 1, 1, 1]),
            helper.make_node("Identity", ["cond"], ["cond_out"], name="keep"),
        ],
        "body",
        [
            tiny.value("i", TensorProto.INT64, []),
            tiny.value("cond", TensorProto.BOOL, []),
            tiny.value("v", TensorProto.FLOAT, [1, 3, 4, 4]),
        ],
        [
            tiny.value("cond_out", TensorProto.BOOL, []),
            tiny.value("v_out", TensorProto.FLOAT, [1, 3, 4, 4]),
        ],
    )
    model = tiny.from_nodes(
        [helper.make_node("Loop", ["trips", "", "x"], ["y"], name="loop", body=body)],
        [tiny.value("x", TensorProto.FLOAT, [1, 3, "H", "W"])],
        [tiny.value("y", TensorProto.FLOAT, [1, 3, "H", "W"])],
        [
            tiny.tensor("trips", np.array(1, np.int64)),
            tiny.tensor("w1", rng.standard_normal((3, 3, 1, 1)).astype(np.float32)),
            tiny.tensor("b1", rng.standard_normal(3).astype(np.float32)),
            tiny.tensor("w3", rng.standard_normal((3, 3, 3, 3)).astype(np.float32) / 3),
        ],
    )
    folded = linlint.fold(model, verify=False).model
    for size in (4, 7):
        x = rng.standard_normal((1, 3, size, size)).astype(np.float32)
        _same(model, folded, {"x": x})


@pytest.mark.parametrize("opset", [6, 7])
def test_a_fold_that_needs_a_broadcasting_add_runs_in_the_models_own_opset(opset):
    """Before opset 7, Add broadcasts only in a legacy form onnxruntime does not run: a
    border-correction map (Conv + Add) is not written there. (16 channels: at fewer, the
    map's pass costs more than the 1x1 conv it saves, and nothing folds at any opset.)"""
    rng = np.random.default_rng(9)
    model = tiny.from_nodes(
        [
            helper.make_node("Conv", ["x", "w1", "b1"], ["h"], name="c1", kernel_shape=[1, 1]),
            helper.make_node(
                "Conv", ["h", "w2"], ["y"], name="c2", kernel_shape=[3, 3], pads=[1, 1, 1, 1]
            ),
        ],
        [tiny.value("x", TensorProto.FLOAT, [1, 16, 5, 5])],
        [tiny.value("y", TensorProto.FLOAT, [1, 16, 5, 5])],
        [
            tiny.tensor("w1", rng.standard_normal((16, 16, 1, 1)).astype(np.float32)),
            tiny.tensor("b1", rng.standard_normal(16).astype(np.float32)),
            tiny.tensor("w2", rng.standard_normal((16, 16, 3, 3)).astype(np.float32)),
        ],
        opset=opset,
        ir=3,
    )
    for init in model.graph.initializer:
        model.graph.input.append(tiny.value(init.name, TensorProto.FLOAT, list(init.dims)))
    result = linlint.fold(model, allow_growth=True, verify=False)
    assert result.changed == (opset >= 7)
    x = rng.standard_normal((1, 16, 5, 5)).astype(np.float32)
    _same(model, result.model, {"x": x})


def test_a_fresh_name_never_takes_an_unread_sparse_initializers_name():
    from linlint.folding.rewrite import Names

    model = tiny.model(
        '<ir_version: 8, opset_import: ["" : 17]> g (float[2] x) => (float[2] y) { y = Relu(x) }'
    )
    values = numpy_helper.from_array(np.ones(1, np.float32), "conv_folded")
    indices = numpy_helper.from_array(np.zeros(1, np.int64), "conv_folded_indices")
    model.graph.sparse_initializer.append(helper.make_sparse_tensor(values, indices, [4]))
    assert Names(model).fresh("conv_folded") != "conv_folded"


def test_a_half_precision_identity_between_casts_is_kept_where_onnxruntime_skips_the_rounding():
    # onnxruntime computes a float16 LeakyRelu in float32 and drops the Casts around it:
    # the original never rounds to float16. Without the LeakyRelu, the Casts would round.
    model = tiny.model(
        """g (float[3] x) => (float[3] y) {
            h = Cast <to = 10> (x)
            [leaky] r = LeakyRelu <alpha = 1.0> (h)
            y = Cast <to = 1> (r)
        }"""
    )
    assert [f.code for f in linlint.check(model)] == ["LL006"]
    result = linlint.fold(model)
    assert not result.folded
    assert any("half precision" in why for why in result.refused)
    x = {"x": np.array([1e6, -1e6, 0.1], np.float32)}
    run = lambda m: ort.InferenceSession(m.SerializeToString()).run(None, x)[0]  # noqa: E731
    np.testing.assert_array_equal(run(result.model), run(model))


def test_a_fold_round_decides_every_graph_before_it_edits_one(monkeypatch):
    """The main graph's fold moves its nodes; an If branch reading the main graph's tensors
    is decided on the analysis from before (the fuzzer found an identity in a branch whose
    element type lookup crashed on a moved index)."""
    import linlint.folding.rounds as rounds

    events = []
    decide, edit = rounds._fold_graph, rounds.replace_nodes
    monkeypatch.setattr(rounds, "_fold_graph", lambda *a: events.append("decide") or decide(*a))
    monkeypatch.setattr(rounds, "replace_nodes", lambda *a: events.append("edit") or edit(*a))
    model = tiny.model(
        """g (float[2, 4] x, bool c) => (float[2, 4] y) {
            [m1] a = MatMul(x, w1)
            [m2] b = MatMul(a, w2)
            y = If (c) <
                then_branch = then_g () => (float[2, 4] t) {
                    i = Identity(b)
                    t = LeakyRelu <alpha = 1.0> (i)
                },
                else_branch = else_g () => (float[2, 4] e) { e = Neg(b) }
            >
        }""",
        w1=tiny.weights((4, 4), 1),
        w2=tiny.weights((4, 4), 2),
    )
    result = linlint.fold(model)
    assert result.verification.ok
    # each fold once: the branch's edit is not lost when the main graph's rewrite copies it
    assert [f.code for f in result.folded] == ["LL001", "LL006"]
    assert events[:5] == ["decide"] * 3 + ["edit"] * 2, events  # main, then, else; 2 edits


def test_a_shape_op_that_keeps_the_width_only_at_width_one_is_no_part_of_a_wider_fold():
    """Flatten(axis=2) of [1, 1] keeps the last axis only because it is 1: after a MatMul
    that widens it to 5, re-applying it would make [5, 1] (found by fuzzing)."""
    model = tiny.model(
        """g (float[1, 3] x) => (float[5] y) {
            h = Gemm(x, w1)
            f = Flatten <axis = 2> (h)
            s = Squeeze(f, axes)
            y = MatMul(s, w2)
        }""",
        w1=tiny.weights((3, 1), 1),
        w2=tiny.weights((1, 5), 2),
        axes=np.array([-2], np.int64),
    )
    # unproven (verify=False): the decision alone must be right
    result = linlint.fold(model, verify=False, allow_growth=True)
    onnx.checker.check_model(result.model, full_check=True)
    x = {"x": np.ones((1, 3), np.float32)}
    run = lambda m: ort.InferenceSession(m.SerializeToString()).run(None, x)[0]  # noqa: E731
    np.testing.assert_allclose(run(result.model), run(model), rtol=1e-5)


@pytest.mark.parametrize("include_pad", [0, 1])
def test_a_padded_average_pool_folds_only_when_it_counts_its_padding(include_pad):
    """Excluding the pads from the divisor makes the border windows weigh differently:
    the pool is no conv there, so the chain through it does not fold into one Conv."""
    window = "kernel_shape = [3, 3], pads = [1, 1, 1, 1]"
    pool = f"AveragePool <{window}, count_include_pad = {include_pad}>"
    model = tiny.model(
        f"""
        g (float[1, 2, 6, 6] x) => (float[1, 2, 6, 6] y) {{
            [conv1] a = Conv(x, w1)
            [pool] p = {pool}(a)
            [conv2] y = Conv(p, w2)
        }}""",
        w1=tiny.weights((2, 2, 1, 1)),
        w2=tiny.weights((2, 2, 1, 1), seed=1),
    )
    result = linlint.fold(model, allow_growth=True)
    ops = [n.op_type for n in result.model.graph.node]
    assert ("AveragePool" in ops) == (include_pad == 0)
    feeds = {"x": np.random.default_rng(3).standard_normal((1, 2, 6, 6), np.float32) * 1e3}
    _same(model, result.model, feeds, rtol=1e-4, atol=1e-2)


# ---- what the original never reads ---------------------------------------------------------------


def _finite_where_the_original_is(model, folded, x: np.ndarray) -> None:
    """An Inf the original never reads for an output leaves that output finite after the
    fold too (a fold that reads it with a zero weight makes 0·Inf = NaN)."""
    (want,), (got,) = _run(model, {"x": x}), _run(folded, {"x": x})
    assert np.isfinite(want).any()
    np.testing.assert_array_equal(np.isfinite(got), np.isfinite(want))


def test_chained_convs_whose_taps_leave_gaps_do_not_fold_into_one_dense_kernel():
    """Conv k=2 stride 3, then Conv k=2: an output reads offsets {0, 1, 3, 4}; one Conv of
    kernel 5 would also read offset 2, with a zero weight."""
    model = tiny.model(
        """
        g (float[1, 1, 1, 12] x) => (float[1, 1, 1, 3] y) {
            [conv1] a = Conv <kernel_shape = [1, 2], strides = [1, 3]> (x, w1)
            [conv2] y = Conv <kernel_shape = [1, 2]> (a, w2)
        }""",
        w1=tiny.weights((1, 1, 1, 2)),
        w2=tiny.weights((1, 1, 1, 2), seed=1),
    )
    findings, result = _agree(model)
    assert not result.changed
    assert "leaves gaps" in findings[0].fix.reason
    x = np.ones((1, 1, 1, 12), np.float32)
    x[..., 2] = np.inf  # offset 2 of the first output
    _finite_where_the_original_is(model, result.model, x)


def _conv_flatten_gemm(kernel: int) -> onnx.ModelProto:
    """A conv of kernel ``kernel``, stride 2, flattened into a Gemm, on a fixed 4x4 image."""
    return tiny.model(
        f"""
        g (float[1, 2, 4, 4] x) => (float[1, 3] y) {{
            [conv] a = Conv <kernel_shape = [{kernel}, {kernel}], strides = [2, 2]> (x, w1)
            [flat] f = Flatten (a)
            [fc] y = Gemm <transB = 1> (f, w2)
        }}""",
        w1=tiny.weights((2, 2, kernel, kernel)),
        w2=tiny.weights((3, 8), seed=1),
    )


def test_a_strided_conv_that_skips_positions_is_not_flattened_into_one_gemm():
    model = _conv_flatten_gemm(1)
    findings, result = _agree(model)
    assert any("never reads some input positions" in f.fix.reason for f in findings)
    x = np.ones((1, 2, 4, 4), np.float32)
    x[0, 0, 1, 1] = np.inf  # a position the stride skips
    _finite_where_the_original_is(model, result.model, x)


def test_a_strided_conv_that_reads_every_position_is_still_exact_as_one_gemm():
    findings = linlint.check(_conv_flatten_gemm(2), isolated=True)
    assert [f.fix.exact for f in findings] == [True]  # (LL002: one Gemm costs more MACs)


def test_the_conv_and_transpose_a_fold_writes_are_no_finding_of_their_own():
    """Mul → Conv 1x1 (a dilation that means nothing on a 1x1 kernel) → Transpose folds to
    Conv → Transpose, and that pair is no region to fold again."""
    model = tiny.model(
        """
        g (float[1, 3, H, W] x) => (float[] y) {
            [scale] m = Mul (x, c)
            [conv] a = Conv <kernel_shape = [1, 1], strides = [1, 2], dilations = [1, 2]> (m, w)
            [t] y = Transpose <perm = [1, 2, 0, 3]> (a)
        }""",
        c=tiny.weights((1, 3, 1, 1)),
        w=tiny.weights((5, 3, 1, 1), seed=1),
    )
    once = linlint.fold(model, isolated=True, allow_growth=True, verify=False)
    assert [r.nodes for r in once.folded] == [("scale", "conv", "t")]
    assert [n.op_type for n in once.model.graph.node] == ["Conv", "Transpose"]
    assert linlint.check(once.model, isolated=True) == []
    again = linlint.fold(once.model, isolated=True, allow_growth=True, verify=False)
    assert not again.changed


def test_a_region_whose_fold_writes_its_own_ops_again_is_not_refolded_round_after_round():
    """Fuzz seed 23, case 654: inside a blocked region, the part Conv 1x1 (dilated) →
    Transpose was an undecided LL002 whose fold is Conv → Transpose again; under
    ``--allow-growth`` every round folded it anew (``Region.rewrites_nothing``)."""
    model = onnx.load(DATA / "fuzz_seed23_case654_refold.onnx")
    findings = linlint.check(model, isolated=True)
    assert not [f for f in findings if f.nodes == ("Conv_125", "Transpose_127")]
    once = linlint.fold(model, isolated=True, allow_growth=True, verify=False)
    again = linlint.fold(once.model, isolated=True, allow_growth=True, verify=False)
    assert not again.changed


def _cross(join: str) -> onnx.ModelProto:
    """A 1x3 conv and a 3x1 conv of one input, joined by ``join``."""
    return tiny.model(
        f"""
        g (float[1, 2, 5, 5] x) => (float[1, 2, 5, 5] y) {{
            [wide] a = Conv <kernel_shape = [1, 3], pads = [0, 1, 0, 1]> (x, w1)
            [tall] b = Conv <kernel_shape = [3, 1], pads = [1, 0, 1, 0]> (x, w2)
            [join] y = {join}
        }}""",
        w1=tiny.weights((2, 2, 1, 3)),
        w2=tiny.weights((2, 2, 3, 1), seed=1),
    )


def test_summed_branches_whose_windows_leave_gaps_do_not_fold_into_one_conv():
    """1x3 + 3x1 read a cross; one 3x3 Conv would read its corners too, with zero weights."""
    model = _cross("Add(a, b)")
    findings, result = _agree(model)
    assert not result.changed
    assert "windows leave gaps" in findings[0].fix.reason
    x = np.ones((1, 2, 5, 5), np.float32)
    x[0, 0, 1, 1] = np.inf  # a corner of the output at (2, 2)'s window, read by no branch
    _finite_where_the_original_is(model, result.model, x)


def _full_and_pointwise(tail: str, width: int) -> onnx.ModelProto:
    """A 3x3 conv and a 1x1 conv of one input, concatenated (then ``tail``)."""
    return tiny.model(
        f"""
        g (float[1, 2, 5, 5] x) => (float[1, {width}, 5, 5] y) {{
            [full] a = Conv <kernel_shape = [3, 3], pads = [1, 1, 1, 1]> (x, w1)
            [point] b = Conv <kernel_shape = [1, 1]> (x, w2)
            [join] j = Concat <axis = 1> (a, b)
            {tail}
        }}""",
        w1=tiny.weights((2, 2, 3, 3)),
        w2=tiny.weights((2, 2, 1, 1), seed=1),
        w3=tiny.weights((2, 4, 1, 1), seed=2),
    )


def test_concatenated_branches_of_different_windows_do_not_fold_into_one_conv():
    """The 1x1 branch's channels would read a 3x3 window with zero weights."""
    model = _full_and_pointwise("y = Identity(j)", width=4)
    findings, result = _agree(model)
    assert not result.changed
    assert "concatenated branches read different windows" in findings[0].fix.reason
    x = np.ones((1, 2, 5, 5), np.float32)
    x[0, 0, 1, 1] = np.inf  # in the 3x3 window of output (2, 2), not at its centre
    _finite_where_the_original_is(model, result.model, x)


def test_concatenated_branches_mixed_by_a_dense_conv_still_fold():
    """After a 1x1 conv that reads every channel, each output reads both windows."""
    model = _full_and_pointwise("[fuse] y = Conv <kernel_shape = [1, 1]> (j, w3)", width=2)
    findings, result = _agree(model)
    assert result.changed and [n.op_type for n in result.model.graph.node] == ["Conv"]
    x = np.random.default_rng(0).standard_normal((1, 2, 5, 5)).astype(np.float32)
    _same(model, result.model, {"x": x})


def _finite_channels(model, folded, shape) -> None:
    """An Inf in input channel 0 leaves the outputs that never read it finite."""
    x = np.ones(shape, np.float32)
    x[0, 0] = np.inf
    _finite_where_the_original_is(model, folded, x)


def test_a_concat_of_one_depthwise_conv_folds_and_keeps_its_groups():
    """(fuzz seed 43, case 1119: the fold wrote one dense Conv that read every channel.)"""
    model = tiny.model(
        """
        g (float[1, 4, 5, 5] x) => (float[1, 4, 5, 5] y) {
            [dw] a = Conv <kernel_shape = [3, 3], pads = [1, 1, 1, 1], group = 4> (x, w)
            [join] y = Concat <axis = 1> (a)
        }""",
        w=tiny.weights((4, 1, 3, 3)),
    )
    _, result = _agree(model)
    (conv,) = result.model.graph.node
    assert next(a.i for a in conv.attribute if a.name == "group") == 4
    _finite_channels(model, result.model, (1, 4, 5, 5))


def test_chained_convs_that_group_channels_differently_do_not_fold():
    """Groups of 2 then of 3 over 6 channels: an output reads 3 input channels, one Conv
    would read all 6 (with zero weights)."""
    model = tiny.model(
        """
        g (float[1, 6, 4, 4] x) => (float[1, 6, 4, 4] y) {
            [halves] a = Conv <kernel_shape = [1, 1], group = 2> (x, w1)
            [thirds] y = Conv <kernel_shape = [1, 1], group = 3> (a, w2)
        }""",
        w1=tiny.weights((6, 3, 1, 1)),
        w2=tiny.weights((6, 2, 1, 1), seed=1),
    )
    findings, result = _agree(model)
    assert not result.changed
    assert "group their channels differently" in findings[0].fix.reason
    _finite_channels(model, result.model, (1, 6, 4, 4))


def test_concatenated_grouped_branches_do_not_fold_into_one_dense_conv():
    model = tiny.model(
        """
        g (float[1, 4, 5, 5] x) => (float[1, 8, 5, 5] y) {
            [dw] a = Conv <kernel_shape = [1, 1], group = 4> (x, w1)
            [pw] b = Conv <kernel_shape = [1, 1]> (x, w2)
            [join] y = Concat <axis = 1> (a, b)
        }""",
        w1=tiny.weights((4, 1, 1, 1)),
        w2=tiny.weights((4, 4, 1, 1), seed=1),
    )
    findings, result = _agree(model)
    assert not result.changed
    assert "concatenated branches read different windows" in findings[0].fix.reason


def test_check_decides_on_the_figures_fold_decides_on():
    """Fuzz seed 43, case 601: check evaluated a region again with its weights on a shape
    oracle that by then knew the region's own output shape, and the undecided LL002 of the
    first look became an LL005 that fold never folded (nor refused)."""
    model = onnx.load(DATA / "fuzz_seed43_case601_revalued.onnx")
    findings = linlint.check(model, isolated=True)
    result = linlint.fold(model, isolated=True, verify=False)
    foldable = [f.nodes for f in findings if f.code in ("LL001", "LL004", "LL005")]
    assert foldable == [r.nodes for r in result.folded]
    assert [f.code for f in findings] == ["LL002"]
