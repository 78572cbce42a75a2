"""Differential fuzzing: random models that mix every kind of op, through check and fold.

``fuzzgen.fuzz_models()`` draws models that tangle linear, affine and shape
ops with branches, nonlinearities, unknown (custom-domain) ops and If
subgraphs, over opsets 17–21; ``fuzzgen.run_properties`` checks on each:

* ``check`` never raises on a valid model;
* no finding (of ``check``, or left after ``fold``) names a node that is
  nonlinear on its input;
* ``fold`` leaves its argument alone, its result passes ``onnx.checker``
  (full check), keeps every nonlinear node, and computes in onnxruntime what
  the original computes (and ``linlint.verify`` agrees when it folded);
* folding the folded model folds nothing more.

CI runs a fixed, derandomized set of examples. To hunt for bugs, scale up
(failures are then saved in hypothesis' database and replayed)::

    LINLINT_FUZZ_EXAMPLES=3000 python -m pytest tests/test_fuzz.py -x

or run a campaign outside pytest: ``python bench/fuzz.py --examples 5000``.
"""

from __future__ import annotations

import collections
import os
import re
import subprocess
import sys

import numpy as np
import onnx
from fuzzgen import FuzzGenerated, fuzz_models, run_properties
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper

from conftest import ROOT
from linlint.findings import Finding, Fix

_SCALED = int(os.environ.get("LINLINT_FUZZ_EXAMPLES", "0"))
CI_EXAMPLES = 300


def _describe(gen: FuzzGenerated, outcome) -> str:
    lines = [f"[{kind}] {message.strip()}" for kind, message in outcome.failures]
    return "\n".join(lines + ["model:", *gen.sketch, f"nonlinear nodes: {gen.barriers}"])


@settings(
    max_examples=_SCALED or CI_EXAMPLES,
    deadline=None,
    derandomize=not _SCALED,
    database=None if not _SCALED else settings.default.database,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=bool(_SCALED),
)
@given(gen=fuzz_models(), allow_growth=st.booleans())
def test_check_and_fold_keep_their_promises_on_random_models(gen, allow_growth):
    outcome = run_properties(gen, allow_growth)
    assert not outcome.failures, _describe(gen, outcome)
    assert outcome.checked and outcome.folded


# ---- the generator keeps its own promises ------------------------------------------------------

#: Op types (and custom ops) a few hundred drawn models must contain between them.
MUST_COVER = {
    "Conv", "ConvTranspose", "MatMul", "Gemm", "Einsum",
    "BatchNormalization", "Add", "Sub", "Mul", "Div", "Neg", "Pad", "AveragePool",
    "ReduceMean", "ReduceSum", "Resize", "Identity", "Dropout",
    "Reshape", "Transpose", "Flatten", "Squeeze", "Unsqueeze", "Slice", "Split", "Concat",
    "Gather", "Sum", "Mean", "Max",
    "Relu", "Sigmoid", "Tanh", "LeakyRelu", "Clip", "MaxPool", "Softmax",
    "LayerNormalization", "InstanceNormalization", "Erf", "QuantizeLinear", "If",
    "FuzzTanh", "FuzzSwish", "FuzzAbs", "FuzzSoftsign", "FuzzGate", "Gelu",
}  # fmt: skip


def test_the_generator_covers_every_op_family():
    seen: collections.Counter[str] = collections.Counter()
    opsets, barrier_kinds = set(), set()

    @seed(0)
    @settings(
        max_examples=400,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(gen=fuzz_models())
    def draw(gen):
        stack = list(gen.model.graph.node)
        while stack:
            node = stack.pop()
            seen[node.op_type] += 1
            for a in node.attribute:
                if a.type == onnx.AttributeProto.GRAPH:
                    stack.extend(a.g.node)
        opsets.add(gen.model.opset_import[0].version)
        barrier_kinds.update(gen.barriers.values())

    draw()
    assert not MUST_COVER - set(seen), sorted(MUST_COVER - set(seen))
    assert opsets >= {17, 18, 19, 21}
    assert {"fuzz.custom.FuzzTanh", "com.microsoft.Gelu", "Relu", "MaxPool"} <= barrier_kinds


def _tiny(nodes, inits, out_shape=(1, 4)) -> FuzzGenerated:
    graph = helper.make_graph(
        nodes,
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(out_shape))],
        initializer=[numpy_helper.from_array(v, k) for k, v in inits.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    x = np.random.default_rng(0).standard_normal((1, 4)).astype(np.float32)
    return FuzzGenerated(model, {"x": x}, ["tiny"])


def test_the_properties_are_not_vacuous(monkeypatch):
    """A finding that names a barrier, a wrong fold, a lost barrier: each is reported."""
    import linlint

    rng = np.random.default_rng(0)
    w1, w2 = (rng.standard_normal((4, 4)).astype(np.float32) for _ in range(2))
    gen = _tiny(
        [
            helper.make_node("MatMul", ["x", "w1"], ["h"], name="mm1"),
            helper.make_node("MatMul", ["h", "w2"], ["z"], name="mm2"),
            helper.make_node("Tanh", ["z"], ["y"], name="tanh"),
        ],
        {"w1": w1, "w2": w2},
    )
    gen.barriers = {"tanh": "Tanh", "mm2": "MatMul"}  # pretend: the finding on mm1 → mm2 names it
    outcome = run_properties(gen, allow_growth=False)
    kinds = {kind for kind, _ in outcome.failures}
    assert outcome.folded_something
    assert "finding names a nonlinear node" in kinds
    assert "fold removed a nonlinear node" in kinds  # mm2 is gone after the fold

    real_fold = linlint.fold

    def wrong_fold(model, **options):
        result = real_fold(model, **options)
        for t in result.model.graph.initializer:  # every folded weight off by 1 %
            a = numpy_helper.to_array(t) * np.float32(1.01)
            t.CopyFrom(numpy_helper.from_array(a.astype(np.float32), t.name))
        return result

    monkeypatch.setattr(linlint, "fold", wrong_fold)
    gen.barriers = {"tanh": "Tanh"}
    kinds = {kind for kind, _ in run_properties(gen, allow_growth=False).failures}
    assert "folded model computes something else" in kinds


def test_a_finding_on_a_barrier_is_caught_by_label_in_unnamed_models():
    from fuzzgen import _barrier_hits

    gen = FuzzGenerated(onnx.ModelProto(), {}, [], {"#3": "Relu"}, {}, unnamed=True)
    fix = Fix(True, "", 1, 1, 1, 1)
    finding = Finding("LL001", "x", "warning", "msg", "", "", ("#2", "#3"), fix)
    assert _barrier_hits(gen, [finding])
    assert not _barrier_hits(gen, [Finding("LL001", "x", "warning", "m", "", "", ("#2",), fix)])


# ---- engine bugs the fuzzer found, kept as plain examples --------------------------------------


def _model(nodes, inits, x_dims, y_dims, x_shape) -> FuzzGenerated:
    graph = helper.make_graph(
        nodes,
        "found_by_fuzzing",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x_dims))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(y_dims))],
        initializer=[numpy_helper.from_array(v, k) for k, v in inits.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    x = np.random.default_rng(1).standard_normal(x_shape).astype(np.float32)
    return FuzzGenerated(model, {"x": x}, ["found by fuzzing"])


def test_an_unsqueeze_after_the_last_axis_of_width_one_folds_correctly():
    """MatMul 1→1 → Unsqueeze(-1) → MatMul 1→5: the Unsqueeze adds an axis after the width.

    Re-applied after the folded MatMul it gives [3, 5, 1], not [3, 1, 5] (the width is 1
    before and after the Unsqueeze, so it looked like a leading-axis op). Squeeze of a last
    axis of size 1 goes the same way.
    """
    rng = np.random.default_rng(0)
    gen = _model(
        [
            helper.make_node("MatMul", ["x", "w1"], ["h"], name="mm1"),
            helper.make_node("Unsqueeze", ["h", "axes"], ["r"], name="unsqueeze"),
            helper.make_node("MatMul", ["r", "w2"], ["y"], name="mm2"),
        ],
        {
            "w1": rng.standard_normal((1, 1)).astype(np.float32),
            "axes": np.array([-1], dtype=np.int64),
            "w2": rng.standard_normal((1, 5)).astype(np.float32),
        },
        (3, 1),
        (3, 1, 5),
        (3, 1),
    )
    outcome = run_properties(gen, allow_growth=False)
    assert not outcome.failures, _describe(gen, outcome)


def test_a_strided_same_padded_conv_of_unknown_size_folds_correctly():
    """Conv 3x3 stride 2 auto_pad=SAME_UPPER → Conv 1x1 on [1, 2, H, W].

    SAME pads depend on the size when the stride is above 1 (H even: 0/1, odd: 1/1); the
    fold wrote explicit pads 1/1, wrong for even sizes, and linlint's own verification (size
    1 for symbolic dims) passes it. Found with the sizes unknown after a custom-domain op.
    """
    rng = np.random.default_rng(0)
    gen = _model(
        [
            helper.make_node(
                "Conv",
                ["x", "w1"],
                ["h"],
                name="conv_same",
                auto_pad="SAME_UPPER",
                kernel_shape=[3, 3],
                strides=[2, 2],
            ),
            helper.make_node("Conv", ["h", "w2"], ["y"], name="conv1x1"),
        ],
        {
            "w1": rng.standard_normal((2, 2, 3, 3)).astype(np.float32),
            "w2": rng.standard_normal((2, 2, 1, 1)).astype(np.float32),
        },
        (1, 2, "H", "W"),
        (1, 2, "H2", "W2"),
        (1, 2, 4, 4),
    )
    outcome = run_properties(gen, allow_growth=False)
    assert not outcome.failures, _describe(gen, outcome)


def test_a_constant_that_raises_the_rank_is_not_folded_into_a_matmul_of_unknown_shape():
    """custom op → MatMul 4→3 → Mul by c[1, 1, 3]: the Mul broadcasts [2, 3] up to [1, 2, 3].

    With the MatMul's input shape unknown (after an op of a custom domain), the Mul was
    folded into the weight (LL005) and the output lost its leading axis.
    """
    from fuzzgen import FUNCTIONS

    rng = np.random.default_rng(0)
    gen = _model(
        [
            helper.make_node("FuzzTanh", ["x"], ["s"], name="custom", domain="fuzz.custom"),
            helper.make_node("MatMul", ["s", "w"], ["h"], name="matmul"),
            helper.make_node("Mul", ["h", "c"], ["y"], name="scale"),
        ],
        {
            "w": rng.standard_normal((4, 3)).astype(np.float32),
            "c": rng.uniform(0.5, 1.5, (1, 1, 3)).astype(np.float32),
        },
        (2, 4),
        (1, 2, 3),
        (2, 4),
    )
    gen.model.opset_import.append(helper.make_opsetid("fuzz.custom", 1))
    gen.model.functions.append(FUNCTIONS["FuzzTanh"][1])
    gen.barriers = {"custom": "fuzz.custom.FuzzTanh"}
    outcome = run_properties(gen, allow_growth=False)
    assert not outcome.failures, _describe(gen, outcome)


def test_a_constant_that_raises_the_rank_before_a_conv_is_not_folded_into_it():
    """x[2, 3] → Mul by c[1, 2, 1] → Conv1d → Conv1d: the Mul makes x a [1, 2, 3] tensor.

    The folded Conv was applied to the rank-2 input itself (shapes all known): onnx and
    onnxruntime reject it ("Input tensor must have at least 3 dimensions").
    """
    rng = np.random.default_rng(0)
    gen = _model(
        [
            helper.make_node("Mul", ["x", "c"], ["h"], name="scale"),
            helper.make_node("Conv", ["h", "w1"], ["z"], name="conv1"),
            helper.make_node("Conv", ["z", "w2"], ["y"], name="conv2"),
        ],
        {
            "c": rng.uniform(0.5, 1.5, (1, 2, 1)).astype(np.float32),
            "w1": rng.standard_normal((2, 2, 1)).astype(np.float32),
            "w2": rng.standard_normal((2, 2, 1)).astype(np.float32),
        },
        (2, 3),
        (1, 2, 3),
        (2, 3),
    )
    outcome = run_properties(gen, allow_growth=False)
    assert not outcome.failures, _describe(gen, outcome)


def test_a_reshape_of_a_symbolic_width_before_the_first_matmul_is_not_folded_through():
    """x[N, K] → Reshape [0, 7, 1] → MatMul 1→2 → MatMul 2→1, fed x[6, 7].

    The Reshape splits the last axis (7 → 7 × 1); with K symbolic it was taken for one that
    keeps it, and the folded MatMul was moved before it: a dimension mismatch at run time.
    """
    rng = np.random.default_rng(0)
    gen = _model(
        [
            helper.make_node("Reshape", ["x", "shape"], ["r"], name="reshape"),
            helper.make_node("MatMul", ["r", "w1"], ["h"], name="mm1"),
            helper.make_node("MatMul", ["h", "w2"], ["y"], name="mm2"),
        ],
        {
            "shape": np.array([0, 7, 1], dtype=np.int64),
            "w1": rng.standard_normal((1, 2)).astype(np.float32),
            "w2": rng.standard_normal((2, 1)).astype(np.float32),
        },
        ("N", "K"),
        ("N", 7, 1),
        (6, 7),
    )
    outcome = run_properties(gen, allow_growth=False)
    assert not outcome.failures, _describe(gen, outcome)


def test_a_flatten_of_every_axis_after_a_width_one_matmul_is_not_folded_through():
    """x[N, 6] → MatMul 6→4 → MatMul 4→1 → Flatten(axis=2) → MatMul 1→3, fed x[2, 6].

    Flatten with axis = rank moves the width into the rows; with the width 1 and N symbolic
    it was re-applied after the folded MatMul: [6, 1] instead of [2, 3].
    """
    rng = np.random.default_rng(0)
    gen = _model(
        [
            helper.make_node("MatMul", ["x", "w1"], ["a"], name="mm1"),
            helper.make_node("MatMul", ["a", "w2"], ["h"], name="mm2"),
            helper.make_node("Flatten", ["h"], ["f"], name="flatten", axis=2),
            helper.make_node("MatMul", ["f", "w3"], ["y"], name="mm3"),
        ],
        {
            "w1": rng.standard_normal((6, 4)).astype(np.float32),
            "w2": rng.standard_normal((4, 1)).astype(np.float32),
            "w3": rng.standard_normal((1, 3)).astype(np.float32),
        },
        ("N", 6),
        ("N", 3),
        (2, 6),
    )
    outcome = run_properties(gen, allow_growth=False)
    assert not outcome.failures, _describe(gen, outcome)


def test_fold_does_not_abort_when_a_symbolic_size_filled_with_one_is_below_a_kernel(tmp_path):
    """x[1, 2, H, W] → AveragePool k[3, 1] → Slice → Conv 1x1 → Conv 1x1: a valid model.

    fold's cost totals set H to 1 and ran onnx shape inference: the pool's output dim is
    -1 there, and onnx's Slice inference aborts the whole process (a C++ assertion). Run in
    a child process, so that the abort fails this test instead of killing pytest.
    """
    rng = np.random.default_rng(0)
    gen = _model(
        [
            helper.make_node("AveragePool", ["x"], ["p"], name="pool", kernel_shape=[3, 1]),
            helper.make_node("Slice", ["p", "starts", "ends", "axes"], ["s"], name="slice"),
            helper.make_node("Conv", ["s", "w1"], ["h"], name="conv1"),
            helper.make_node("Conv", ["h", "w2"], ["y"], name="conv2"),
        ],
        {
            "starts": np.array([0], dtype=np.int64),
            "ends": np.array([2**62], dtype=np.int64),
            "axes": np.array([2], dtype=np.int64),
            "w1": rng.standard_normal((2, 2, 1, 1)).astype(np.float32),
            "w2": rng.standard_normal((2, 2, 1, 1)).astype(np.float32),
        },
        (1, 2, "H", "W"),
        (1, 2, "H2", "W"),
        (1, 2, 5, 4),
    )
    path = tmp_path / "model.onnx"
    onnx.save(gen.model, path)
    np.savez(tmp_path / "model.npz", **gen.feeds)
    (tmp_path / "model.json").write_text(
        '{"sketch": [], "barriers": {}, "op_types": {}, "unnamed": false, "allow_growth": false}'
    )
    replay = [sys.executable, str(ROOT / "bench" / "fuzz.py"), "--replay", str(path)]
    result = subprocess.run(replay, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, (result.returncode, result.stdout[-2000:], result.stderr[-2000:])


# ---- the campaign script cannot rot --------------------------------------------------------------


def test_the_fuzz_campaign_runs_and_prints_its_summary(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "fuzz.py"),
            "--examples",
            "20",
            "--out",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    summary = re.search(r"^fuzz summary: generated=(\d+) .* failures=(\d+)$", result.stdout, re.M)
    assert summary, result.stdout
    assert summary.group(1) == "20" and summary.group(2) == "0", result.stdout
    assert "\r" not in result.stderr  # no progress display when not on a terminal
    assert not list(tmp_path.iterdir())  # no failure, no reproducer
