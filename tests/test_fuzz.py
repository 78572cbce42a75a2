"""Differential fuzzing: random models that mix every kind of op, through check and fold.

``fuzzgen.fuzz_models()`` draws models that tangle linear, affine and shape
ops with branches, nonlinearities, unknown (custom-domain) ops and If
subgraphs (on constant, boolean-input, overridable or data-dependent
conditions), in float32/16/64 or with integer (int8/32/64) regions, over
opsets 4–21, IR 3 (every initializer a graph input) or IR >= 4 (some
initializers also graph inputs: overridable defaults), with sparse
initializers, external data, symbolic / unknown dims or no input shape,
sources of data-dependent size, broadcasting joins, ceil_mode pools, Inf and
zero-divisor constants, fp16 weights whose products overflow (see fuzzgen's
docstring); ``fuzzgen.run_properties`` checks on each:

* ``check`` and ``fold`` raise nothing but ``LinlintError`` on a valid model
  (a LinlintError is a refusal, not a failure; a native abort kills the run);
* no finding (of ``check``, or left after ``fold``) names a node that is
  nonlinear on its input;
* ``fold`` leaves its argument (ModelProto, or model file and .data file)
  alone, its result (written with external data when it came from a file)
  passes ``onnx.checker`` (full check), keeps every nonlinear node, and
  computes in onnxruntime what the original computes (and ``linlint.verify``
  agrees when it folded);
* on inputs the fold never saw (``fuzzgen.judge``): other sizes for every
  open dim, extreme values (INT_MIN for integers), negated inputs and flipped
  boolean inputs (both branches of every If), other values for overridable
  initializers — judged outside linlint, integers exactly, floats by
  ``|a - b| <= rtol·(|a| + rms(a)) + tiny + 10·noise`` (fuzzgen.JUDGE_TOLERANCE);
* a region ``check`` reports exact under a foldable rule is folded or listed
  in ``FoldResult.refused``; ``FoldResult.remaining`` is what ``check`` says of
  the folded model;
* folding the folded model folds nothing more.

CI runs a fixed, derandomized set of examples without the generator features
of ``fuzzgen.PENDING`` (they find engine bugs not fixed yet; each has an
``xfail(strict=True)`` regression test below). To hunt for bugs, scale up
(every feature is drawn; failures are saved in hypothesis' database and
replayed)::

    LINLINT_FUZZ_EXAMPLES=3000 python -m pytest tests/test_fuzz.py -x

or run a campaign outside pytest: ``python bench/fuzz.py --examples 5000``.
"""

from __future__ import annotations

import collections
import os
import re
import subprocess
import sys

import fuzzgen
import numpy as np
import onnx
from fuzzgen import PENDING, FuzzGenerated, fuzz_models, run_properties
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper

import tiny
from conftest import ROOT
from linlint.checking.findings import Finding, Fix

_SCALED = int(os.environ.get("LINLINT_FUZZ_EXAMPLES", "0"))
CI_EXAMPLES = 300
#: What CI does not draw: the features that find engine bugs not fixed yet.
HELD_BACK = frozenset() if _SCALED else frozenset(PENDING)


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
@given(gen=fuzz_models(held_back=HELD_BACK), allow_growth=st.booleans())
def test_check_and_fold_keep_their_promises_on_random_models(gen, allow_growth):
    outcome = run_properties(gen, allow_growth)
    assert not outcome.failures, _describe(gen, outcome)
    assert (outcome.checked and outcome.folded) or outcome.refused


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
    "GlobalAveragePool", "Abs", "Cast", "Shape", "Range", "NonZero", "ConstantOfShape", "TopK",
    "Greater", "Less", "Not", "Tile", "Loop",
}  # fmt: skip
#: Model-wide features (FuzzGenerated.features) the same models must have between them.
MUST_HAVE_FEATURES = {
    "float32", "float16", "float64", "int8", "int32", "int64", "Loop", "subgraph initializers",
    "If reading a region's inside", "IR 3", "opset 11-16", "opset 4-8", "initializer inputs",
    "sparse initializers", "sparse constants", "external data", "symbolic dims", "unknown dims",
    "unknown rank",
    "size-agnostic ops", "If on the data", "If on an input", "If on an overridable initializer",
    "non-finite constants", "fp16 big weights", "opaque source (range)",
    "opaque source (nonzero)", "opaque source (data)", "opaque source (topk)",
}  # fmt: skip
#: Op forms of older opsets and rarer attributes (see _forms).
MUST_HAVE_FORMS = {
    "AveragePool ceil_mode=1", "BatchNormalization spatial=0", "Squeeze axes attribute",
    "Unsqueeze axes attribute", "ReduceSum axes attribute", "Reshape shape attribute",
    "Constant sparse_value", "Div on integers", "MatMul on integers", "Relu on integers",
    "Cast from integers", "If on a computed condition",
}  # fmt: skip


def _forms(gen: FuzzGenerated) -> set[str]:
    """Which of MUST_HAVE_FORMS the model has."""
    forms = set()
    graph = gen.model.graph
    types = {vi.name: vi.type.tensor_type.elem_type for vi in graph.input}
    types.update({t.name: t.data_type for t in graph.initializer})
    integers = {TensorProto.INT8, TensorProto.INT32, TensorProto.INT64}
    produced = {o for n in graph.node for o in n.output}
    for node in graph.node:  # (the main graph: enough for the forms)
        attrs = {a.name: a for a in node.attribute}
        op = node.op_type
        if op == "AveragePool" and "ceil_mode" in attrs and attrs["ceil_mode"].i == 1:
            forms.add("AveragePool ceil_mode=1")
        if op == "BatchNormalization" and "spatial" in attrs and attrs["spatial"].i == 0:
            forms.add("BatchNormalization spatial=0")
        if op in ("Squeeze", "Unsqueeze", "ReduceSum") and "axes" in attrs:
            forms.add(f"{op} axes attribute")
        if op == "Reshape" and "shape" in attrs:
            forms.add("Reshape shape attribute")
        if op == "Constant" and "sparse_value" in attrs:
            forms.add("Constant sparse_value")
        if op == "If" and node.input[0] in produced:
            forms.add("If on a computed condition")
        if op == "Cast" and types.get(node.input[0]) in integers:
            forms.add("Cast from integers")
        if op in ("Div", "MatMul", "Relu") and types.get(node.input[0]) in integers:
            forms.add(f"{op} on integers")
        for o in node.output:  # element types flow: integer ops keep them, Cast sets them
            if op == "Cast":
                types[o] = attrs["to"].i
            elif node.input and node.input[0] in types:
                types[o] = types[node.input[0]]
    return forms


def test_the_generator_covers_every_op_family():
    seen: collections.Counter[str] = collections.Counter()
    opsets, barrier_kinds = set(), set()
    features: collections.Counter[str] = collections.Counter()
    forms: set[str] = set()

    @seed(0)
    @settings(
        max_examples=500,
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
        features.update(gen.features)
        forms.update(_forms(gen))

    draw()
    assert not MUST_COVER - set(seen), sorted(MUST_COVER - set(seen))
    assert opsets >= {17, 18, 19, 21}
    assert len(opsets & set(range(11, 17))) >= 4 and min(opsets) < 9, sorted(opsets)
    assert {"fuzz.custom.FuzzTanh", "com.microsoft.Gelu", "Relu", "MaxPool"} <= barrier_kinds
    # A feature or form these draws missed must come up in a search of its own (hypothesis'
    # generation clusters: a rare option can miss one sweep and still be drawn often).
    for feature in sorted(MUST_HAVE_FEATURES - set(features)):
        assert _drawn(lambda gen, f=feature: f in gen.features), f"never drawn: {feature}"
    for form in sorted(MUST_HAVE_FORMS - forms - LEGACY_FORMS):
        assert _drawn(lambda gen, f=form: f in _forms(gen)), f"never drawn: {form}"


class _Drawn(Exception):
    pass


def _drawn(predicate, examples: int = 1500, **strategy) -> bool:
    """Whether fuzz_models(**strategy) draws a model with ``predicate`` within ``examples``."""

    @seed(1)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @given(gen=fuzz_models(**strategy))
    def search(gen):
        if predicate(gen):
            raise _Drawn

    try:
        search()
    except _Drawn:
        return True
    return False


#: Forms of opsets below 9, rare among all models: a draw of old opsets only must have them.
LEGACY_FORMS = {"BatchNormalization spatial=0", "Reshape shape attribute"}


def test_the_generator_draws_the_forms_of_old_opsets():
    forms: set[str] = set()
    opsets = set()

    @seed(0)
    @settings(
        max_examples=80,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(gen=fuzz_models(opsets=(4, 7, 8)))
    def draw(gen):
        forms.update(_forms(gen))
        opsets.add(gen.model.opset_import[0].version)
        assert gen.model.ir_version == 3

    draw()
    assert opsets == {4, 7, 8}
    for form in sorted(LEGACY_FORMS - forms):
        assert _drawn(lambda gen, f=form: f in _forms(gen), 400, opsets=(4, 7, 8)), form


def test_ci_holds_back_only_the_pending_features():
    """The CI run draws every feature but those of fuzzgen.PENDING (bugs not fixed yet)."""
    assert HELD_BACK <= set(PENDING)
    for feature, bug in PENDING.items():
        assert bug, feature


MATMULS = """g (float[1, 4] x) => (float[1, 4] y) {
    [mm1] h = MatMul(x, w1)
    [mm2] y = MatMul(h, w2)
}"""


def _tiny(text: str) -> FuzzGenerated:
    """The model ``text`` says with seeded [4, 4] weights w1 and w2, fed a seeded x[1, 4]."""
    rng = np.random.default_rng(0)
    w1, w2 = (rng.standard_normal((4, 4)).astype(np.float32) for _ in range(2))
    return FuzzGenerated(tiny.model(text, w1=w1, w2=w2), {"x": tiny.weights((1, 4))}, ["tiny"])


def test_the_properties_are_not_vacuous(monkeypatch):
    """A finding that names a barrier, a wrong fold, a lost barrier: each is reported."""
    import linlint

    gen = _tiny(
        """g (float[1, 4] x) => (float[1, 4] y) {
            [mm1] h = MatMul(x, w1)
            [mm2] z = MatMul(h, w2)
            [tanh] y = Tanh(z)
        }"""
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


def test_the_judge_sees_what_the_drawn_inputs_do_not_show():
    """Folds that are right on the drawn inputs and wrong elsewhere: with a NaN where the
    original reads nothing, at another size, in the other branch of an If (a boolean input;
    a condition on the data), with an overridden initializer, at INT_MIN. Each case is an
    original and a (wrong) fold of it."""
    from fuzzgen import judge

    x = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], dtype=np.float32)
    one, two, zero = (np.array(v, dtype=np.float32) for v in (1.0, 2.0, 0.0))
    # Right at 3 rows only: y = x + (rows == 3) - 1.
    sized = (
        tiny.model("g (float[N, 2] x) => (float[N, 2] y) { y = Identity(x) }"),
        tiny.model(
            """g (float[N, 2] x) => (float[N, 2] y) {
                s = Shape <end = 1> (x)
                e = Equal(s, three)
                c = Cast <to = 1> (e)
                d = Sub(c, one)
                y = Add(x, d)
            }""",
            one=one,
            three=np.array([3], dtype=np.int64),
        ),
    )
    # The then branch only.
    branches = """then_branch = then () => (float[3, 2] t) { t = Mul(x, two) },
                  else_branch = else () => (float[3, 2] u) { u = Neg(x) }"""
    flag = (
        tiny.model(
            f"g (float[3, 2] x, bool c) => (float[3, 2] y) {{ y = If <{branches}> (c) }}", two=two
        ),
        tiny.model("g (float[3, 2] x, bool c) => (float[3, 2] y) { y = Mul(x, two) }", two=two),
    )
    # A condition on the data: sum(x) > 0 (true on the drawn inputs).
    data = (
        tiny.model(
            f"""g (float[3, 2] x) => (float[3, 2] y) {{
                s = ReduceSum <keepdims = 0> (x)
                c = Greater(s, zero)
                y = If <{branches}> (c)
            }}""",
            two=two,
            zero=zero,
        ),
        tiny.model("g (float[3, 2] x) => (float[3, 2] y) { y = Mul(x, two) }", two=two),
    )
    # An initializer that is also a graph input, folded as if it were a constant.
    w = np.array([2.0, 3.0], dtype=np.float32)
    overridable = tiny.model(
        "g (float[3, 2] x, float[2] w) => (float[3, 2] y) { y = Mul(x, w) }", w=w
    )
    constant = tiny.model("g (float[3, 2] x) => (float[3, 2] y) { y = Mul(x, w) }", w=w)
    # Relu(Abs(x)) taken for Abs(x) on int32: wrong at INT_MIN only.
    integer = (
        tiny.model("g (int32[3, 2] x) => (int32[3, 2] y) { a = Abs(x)  y = Relu(a) }"),
        tiny.model("g (int32[3, 2] x) => (int32[3, 2] y) { y = Abs(x) }"),
    )
    # One MatMul for Slice → MatMul: zero weights where the original reads nothing.
    w = np.array([[2.0, 3.0]], dtype=np.float32)
    skipping = (
        tiny.model(
            """g (float[1, 8] x) => (float[1, 2] y) {
                s = Slice(x, starts, ends, axes)
                y = MatMul(s, w)
            }""",
            w=w,
            starts=np.array([0]),
            ends=np.array([1]),
            axes=np.array([1]),
        ),
        tiny.model(
            "g (float[1, 8] x) => (float[1, 2] y) { y = MatMul(x, w) }",
            w=np.concatenate([w, np.zeros((7, 2), np.float32)]),
        ),
    )
    cases = {
        "nan": (skipping, {"x": np.arange(8, dtype=np.float32).reshape(1, 8)}),
        "sizes": (sized, {"x": x}),
        "boolean": (flag, {"x": x, "c": np.array(True)}),
        "negated": (data, {"x": x}),
        "initializer": ((overridable, constant), {"x": x}),
        "extreme": (integer, {"x": np.arange(6, dtype=np.int32).reshape(3, 2)}),
    }
    for kind, ((original, folded), feeds) in cases.items():
        assert fuzzgen.compare_outputs(original, folded, feeds) is None, kind  # looks right
        problems, judged = judge(original, folded, feeds)
        assert any(p.startswith(kind) or kind in p for p in problems), (kind, problems, judged)


def test_a_region_check_calls_exact_that_fold_drops_is_a_disagreement(monkeypatch):
    import linlint

    gen = _tiny(MATMULS)
    assert not run_properties(gen, allow_growth=False).failures
    real_fold = linlint.fold

    def lazy_fold(model, **options):  # folds nothing and says nothing about why
        result = real_fold(model, **options)
        result.model, result.folded, result.refused = model, [], []
        return result

    monkeypatch.setattr(linlint, "fold", lazy_fold)
    kinds = {kind for kind, _ in run_properties(gen, allow_growth=False).failures}
    assert "check and fold disagree" in kinds


def test_a_model_with_external_data_is_folded_from_its_file_and_written():
    gen = _tiny(MATMULS)
    gen.external = True
    outcome = run_properties(gen, allow_growth=False)
    assert not outcome.failures, _describe(gen, outcome)
    assert outcome.folded_something and outcome.judged


# ---- engine bugs the fuzzer found, kept as plain examples --------------------------------------


def _found(model: onnx.ModelProto, x: np.ndarray) -> FuzzGenerated:
    """A model the fuzzer found, fed ``x``."""
    return FuzzGenerated(model, {"x": x}, ["found by fuzzing"])


def test_an_unsqueeze_after_the_last_axis_of_width_one_folds_correctly():
    """MatMul 1→1 → Unsqueeze(-1) → MatMul 1→5: the Unsqueeze adds an axis after the width.

    Re-applied after the folded MatMul it gives [3, 5, 1], not [3, 1, 5] (the width is 1
    before and after the Unsqueeze, so it looked like a leading-axis op). Squeeze of a last
    axis of size 1 goes the same way.
    """
    rng = np.random.default_rng(0)
    model = tiny.model(
        """g (float[3, 1] x) => (float[3, 1, 5] y) {
            [mm1] h = MatMul(x, w1)
            [unsqueeze] r = Unsqueeze(h, axes)
            [mm2] y = MatMul(r, w2)
        }""",
        w1=rng.standard_normal((1, 1)).astype(np.float32),
        axes=np.array([-1], dtype=np.int64),
        w2=rng.standard_normal((1, 5)).astype(np.float32),
    )
    gen = _found(model, tiny.weights((3, 1), seed=1))
    outcome = run_properties(gen, allow_growth=False)
    assert not outcome.failures, _describe(gen, outcome)


def test_a_strided_same_padded_conv_of_unknown_size_folds_correctly():
    """Conv 3x3 stride 2 auto_pad=SAME_UPPER → Conv 1x1 on [1, 2, H, W].

    SAME pads depend on the size when the stride is above 1 (H even: 0/1, odd: 1/1); the
    fold wrote explicit pads 1/1, wrong for even sizes, and linlint's own verification (size
    1 for symbolic dims) passes it. Found with the sizes unknown after a custom-domain op.
    """
    rng = np.random.default_rng(0)
    model = tiny.model(
        """g (float[1, 2, H, W] x) => (float[1, 2, H2, W2] y) {
            [conv_same] h = Conv <auto_pad = "SAME_UPPER", kernel_shape = [3, 3], strides = [2, 2]>
                (x, w1)
            [conv1x1] y = Conv(h, w2)
        }""",
        w1=rng.standard_normal((2, 2, 3, 3)).astype(np.float32),
        w2=rng.standard_normal((2, 2, 1, 1)).astype(np.float32),
    )
    gen = _found(model, tiny.weights((1, 2, 4, 4), seed=1))
    outcome = run_properties(gen, allow_growth=False)
    assert not outcome.failures, _describe(gen, outcome)


def test_a_constant_that_raises_the_rank_is_not_folded_into_a_matmul_of_unknown_shape():
    """custom op → MatMul 4→3 → Mul by c[1, 1, 3]: the Mul broadcasts [2, 3] up to [1, 2, 3].

    With the MatMul's input shape unknown (after an op of a custom domain), the Mul was
    folded into the weight (LL005) and the output lost its leading axis.
    """
    from fuzzgen import FUNCTIONS

    rng = np.random.default_rng(0)
    model = tiny.model(
        """g (float[2, 4] x) => (float[1, 2, 3] y) {
            [custom] s = fuzz.custom.FuzzTanh(x)
            [matmul] h = MatMul(s, w)
            [scale] y = Mul(h, c)
        }""",
        w=rng.standard_normal((4, 3)).astype(np.float32),
        c=rng.uniform(0.5, 1.5, (1, 1, 3)).astype(np.float32),
    )
    gen = _found(model, tiny.weights((2, 4), seed=1))
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
    model = tiny.model(
        """g (float[2, 3] x) => (float[1, 2, 3] y) {
            [scale] h = Mul(x, c)
            [conv1] z = Conv(h, w1)
            [conv2] y = Conv(z, w2)
        }""",
        c=rng.uniform(0.5, 1.5, (1, 2, 1)).astype(np.float32),
        w1=rng.standard_normal((2, 2, 1)).astype(np.float32),
        w2=rng.standard_normal((2, 2, 1)).astype(np.float32),
    )
    gen = _found(model, tiny.weights((2, 3), seed=1))
    outcome = run_properties(gen, allow_growth=False)
    assert not outcome.failures, _describe(gen, outcome)


def test_a_reshape_of_a_symbolic_width_before_the_first_matmul_is_not_folded_through():
    """x[N, K] → Reshape [0, 7, 1] → MatMul 1→2 → MatMul 2→1, fed x[6, 7].

    The Reshape splits the last axis (7 → 7 × 1); with K symbolic it was taken for one that
    keeps it, and the folded MatMul was moved before it: a dimension mismatch at run time.
    """
    rng = np.random.default_rng(0)
    model = tiny.model(
        """g (float[N, K] x) => (float[N, 7, 1] y) {
            [reshape] r = Reshape(x, shape)
            [mm1] h = MatMul(r, w1)
            [mm2] y = MatMul(h, w2)
        }""",
        shape=np.array([0, 7, 1], dtype=np.int64),
        w1=rng.standard_normal((1, 2)).astype(np.float32),
        w2=rng.standard_normal((2, 1)).astype(np.float32),
    )
    gen = _found(model, tiny.weights((6, 7), seed=1))
    outcome = run_properties(gen, allow_growth=False)
    assert not outcome.failures, _describe(gen, outcome)


def test_a_flatten_of_every_axis_after_a_width_one_matmul_is_not_folded_through():
    """x[N, 6] → MatMul 6→4 → MatMul 4→1 → Flatten(axis=2) → MatMul 1→3, fed x[2, 6].

    Flatten with axis = rank moves the width into the rows; with the width 1 and N symbolic
    it was re-applied after the folded MatMul: [6, 1] instead of [2, 3].
    """
    rng = np.random.default_rng(0)
    model = tiny.model(
        """g (float[N, 6] x) => (float[N, 3] y) {
            [mm1] a = MatMul(x, w1)
            [mm2] h = MatMul(a, w2)
            [flatten] f = Flatten <axis = 2> (h)
            [mm3] y = MatMul(f, w3)
        }""",
        w1=rng.standard_normal((6, 4)).astype(np.float32),
        w2=rng.standard_normal((4, 1)).astype(np.float32),
        w3=rng.standard_normal((1, 3)).astype(np.float32),
    )
    gen = _found(model, tiny.weights((2, 6), seed=1))
    outcome = run_properties(gen, allow_growth=False)
    assert not outcome.failures, _describe(gen, outcome)


def test_fold_does_not_abort_when_a_symbolic_size_filled_with_one_is_below_a_kernel(tmp_path):
    """x[1, 2, H, W] → AveragePool k[3, 1] → Slice → Conv 1x1 → Conv 1x1: a valid model.

    fold's cost totals set H to 1 and ran onnx shape inference: the pool's output dim is
    -1 there, and onnx's Slice inference aborts the whole process (a C++ assertion). Run in
    a child process, so that the abort fails this test instead of killing pytest.
    """
    rng = np.random.default_rng(0)
    model = tiny.model(
        """g (float[1, 2, H, W] x) => (float[1, 2, H2, W] y) {
            [pool] p = AveragePool <kernel_shape = [3, 1]> (x)
            [slice] s = Slice(p, starts, ends, axes)
            [conv1] h = Conv(s, w1)
            [conv2] y = Conv(h, w2)
        }""",
        starts=np.array([0], dtype=np.int64),
        ends=np.array([2**62], dtype=np.int64),
        axes=np.array([2], dtype=np.int64),
        w1=rng.standard_normal((2, 2, 1, 1)).astype(np.float32),
        w2=rng.standard_normal((2, 2, 1, 1)).astype(np.float32),
    )
    gen = _found(model, tiny.weights((1, 2, 5, 4), seed=1))
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


# ---- engine bugs the fuzzer found: regression tests (xfail(strict=True) while not fixed) ------
# When a fix lands, its test passes and fails as XPASS: remove the mark, and the feature from
# fuzzgen.PENDING (if it has one) so that CI draws it again.


def test_an_integer_division_is_no_part_of_a_linear_region():
    """int64 x[2, 3] → MatMul ones[3, 1] → Div 10 → MatMul [1, 2]: the Div truncates.

    check reports the region MatMul → Div → MatMul as "linear but has no exact single-op
    form" (LL003): it names the Div, which is not linear on integers.
    """
    model = tiny.model(
        """g (int64[2, 3] x) => (int64[2, 2] y) {
            [sum] s = MatMul(x, ones)
            [div] d = Div(s, ten)
            [mm] y = MatMul(d, w)
        }""",
        ones=np.ones((3, 1), dtype=np.int64),
        ten=np.array(10, dtype=np.int64),
        w=np.array([[2, -3]], dtype=np.int64),
    )
    gen = _found(model, np.array([[7, 8, 9], [-7, -8, -9]], dtype=np.int64))
    gen.barriers = {"div": "Div"}
    outcome = run_properties(gen, allow_growth=False)
    assert not outcome.failures, _describe(gen, outcome)


def test_a_cast_out_of_integers_is_no_part_of_a_linear_region():
    """int32 x[2, 3] → MatMul int32 [3, 3] → Cast to float → MatMul [3, 2].

    The int32 MatMul wraps around, the float one does not: LL003 calls MatMul → Cast →
    MatMul linear and names the Cast.
    """
    rng = np.random.default_rng(0)
    model = tiny.model(
        """g (int32[2, 3] x) => (float[2, 2] y) {
            [mm_int] h = MatMul(x, wi)
            [cast] f = Cast <to = 1> (h)
            [mm_float] y = MatMul(f, wf)
        }""",
        wi=rng.integers(-3, 4, (3, 3)).astype(np.int32),
        wf=rng.standard_normal((3, 2)).astype(np.float32),
    )
    gen = _found(model, rng.integers(-20, 21, (2, 3)).astype(np.int32))
    gen.barriers = {"cast": "Cast"}
    outcome = run_properties(gen, allow_growth=False)
    assert not outcome.failures, _describe(gen, outcome)


def test_a_clip_without_bounds_is_kept_where_it_clamps_an_infinity():
    """x[3] → Clip() (no min, no max) → y: onnxruntime clamps ±Inf to ±FLT_MAX (the defaults
    are the type's lowest and highest values), so Clip() is not the identity on Inf.

    LL006 removes it as an identity activation; here an Inf weight makes Inf on any input.
    """
    model = tiny.model(
        "g (float[3] x) => (float[3] y) { [scale] h = Mul(x, w)  [clip] y = Clip(h) }",
        w=np.array([np.inf, -np.inf, 1.0], dtype=np.float32),
    )
    gen = _found(model, np.array([1.0, 2.0, 3.0], dtype=np.float32))
    outcome = run_properties(gen, allow_growth=False)
    assert not outcome.failures, _describe(gen, outcome)


def test_a_fold_inside_an_if_branch_of_an_ir3_model_is_a_valid_model():
    """IR 3, If(cond) then MatMul → MatMul else Identity (cond, weights: initializers, so
    graph inputs too, as IR 3 wants).

    The folded weight becomes an initializer of the then branch, which is no graph input
    there (an If branch has none): onnx.checker and onnxruntime reject the folded model
    ("... in initializer but not in graph input"), and fold with verification refuses it.
    """
    model = tiny.model(
        """g (float[1, 2] x) => (float[1, 2] y) {
            [if] y = If <
                then_branch = then () => (float[1, 2] t) {
                    [mm1] h = MatMul(x, w1)
                    [mm2] t = MatMul(h, w2)
                },
                else_branch = else () => (float[1, 2] e) { [id] e = Identity(x) }
            > (cond)
        }""",
        ir=3,
        cond=np.array(True),
        w1=np.array([[2.0, 1.0], [0.0, 1.0]], dtype=np.float32),
        w2=np.array([[3.0, 0.0], [1.0, 1.0]], dtype=np.float32),
    )
    for t in model.graph.initializer:
        model.graph.input.append(tiny.value(t.name, t.data_type, t.dims))
    gen = _found(model, np.array([[1.0, -1.0]], dtype=np.float32))
    gen.barriers = {"if": "If"}
    outcome = run_properties(gen, allow_growth=False)
    assert not outcome.failures, _describe(gen, outcome)


def test_a_sparse_initializer_of_a_model_with_external_data_stays_readable_by_onnx():
    """A model with external data (a weight that stays) and a sparse initializer (indices of
    1.5 kB, kept in the .onnx file by onnx.save) → fold from the file → write.

    linlint's writer puts the sparse tensor's indices into folded.onnx.data; onnx.load does
    not read external data of sparse tensors (onnxruntime does), so onnx.load leaves them
    unloaded and onnx.checker.check_model(path) fails.
    """
    rng = np.random.default_rng(0)
    w = rng.standard_normal((16, 32)).astype(np.float32)
    w[w < 0.3] = 0
    flat = np.flatnonzero(w)
    model = tiny.model(
        """g (float[2, 16] x) => (float[2, 4] y, float[2, 32] z, float[2, 32] u) {
            [mm1] h = MatMul(x, w1)
            [mm2] y = MatMul(h, w2)
            [relu] r = Relu(x)
            [mm3] z = MatMul(r, sparse)
            [mm4] u = MatMul(r, w3)
        }""",
        w1=rng.standard_normal((16, 16)).astype(np.float32),
        w2=rng.standard_normal((16, 4)).astype(np.float32),
        w3=rng.standard_normal((16, 32)).astype(np.float32),
    )
    model.graph.sparse_initializer.append(
        helper.make_sparse_tensor(
            tiny.tensor("sparse", w.ravel()[flat]),
            tiny.tensor("sparse_indices", flat.astype(np.int64)),
            [16, 32],
        )
    )
    gen = _found(model, rng.standard_normal((2, 16)).astype(np.float32))
    gen.barriers = {"relu": "Relu"}
    gen.external = True
    outcome = run_properties(gen, allow_growth=False)
    assert not outcome.failures, _describe(gen, outcome)


def test_a_model_linlint_wrote_with_a_large_constant_node_folds_again():
    """external data; MatMul → MatMul (folds) → Relu → MatMul by w3 (stays in the .data file)
    → Tanh → MatMul by a Constant node of 1 kB → fold from the file, write, fold the file
    written.

    The writer moves the Constant node's value into folded.onnx.data (onnx.save keeps node
    attributes inline); fold of folded.onnx then crashes where it reads the value
    (numpy_helper.to_array without the model's folder: "should be stored in
    folded.onnx.data, but it is not regular file"; `linlint fold` says "internal error"),
    and so does check where it needs the value (a Reshape's shape, say).
    """
    rng = np.random.default_rng(0)
    weights = {k: rng.standard_normal((16, 16)).astype(np.float32) for k in ("w1", "w2", "w3")}
    constant = tiny.tensor("wc", rng.standard_normal((16, 16)).astype(np.float32))
    model = tiny.from_nodes(
        [
            helper.make_node("MatMul", ["x", "w1"], ["h"], name="mm1"),
            helper.make_node("MatMul", ["h", "w2"], ["a"], name="mm2"),
            helper.make_node("Relu", ["a"], ["r"], name="relu"),
            helper.make_node("MatMul", ["r", "w3"], ["b"], name="mm3"),
            helper.make_node("Tanh", ["b"], ["t"], name="tanh"),
            helper.make_node("Constant", [], ["wc"], name="const", value=constant),
            helper.make_node("MatMul", ["t", "wc"], ["y"], name="mm4"),
        ],
        [tiny.value("x", TensorProto.FLOAT, [2, 16])],
        [tiny.value("y", TensorProto.FLOAT, [2, 16])],
        [tiny.tensor(name, array) for name, array in weights.items()],
    )
    gen = _found(model, rng.standard_normal((2, 16)).astype(np.float32))
    gen.barriers = {"relu": "Relu", "tanh": "Tanh"}
    gen.external = True
    outcome = run_properties(gen, allow_growth=False)
    assert not outcome.failures, _describe(gen, outcome)


def test_a_shape_op_re_emitted_after_a_fold_keeps_its_axes():
    """x[2, K] → custom op (its output's shape: value_info only) → MatMul 7→3 → Unsqueeze
    axes=[1] → Flatten(axis=2) → Gemm (transB) 3→1, with onnx's value_info for every tensor.

    fold (without verification) re-emits the Unsqueeze after the folded MatMul with one
    input and no axes: onnx.checker and onnxruntime reject the model ("Unsqueeze-21 has
    input size 1"). (With verification the region is refused: its input's shape is unknown.)
    """
    from fuzzgen import FUNCTIONS

    rng = np.random.default_rng(0)
    model = tiny.model(
        """g (float[2, K] x) => (float[2, 1] y) {
            [custom] s = fuzz.custom.FuzzTanh(x)
            [mm] h = MatMul(s, w1)
            [unsqueeze] u = Unsqueeze(h, axes)
            [flatten] f = Flatten <axis = 2> (u)
            [gemm] y = Gemm <transB = 1> (f, w2)
        }""",
        opset=21,
        ir=10,
        axes=np.array([1], dtype=np.int64),
        w1=rng.standard_normal((7, 3)).astype(np.float32),
        w2=rng.standard_normal((1, 3)).astype(np.float32),
    )
    gen = _found(model, rng.standard_normal((2, 7)).astype(np.float32))
    gen.model.opset_import.append(helper.make_opsetid("fuzz.custom", 1))
    function = onnx.FunctionProto()
    function.CopyFrom(FUNCTIONS["FuzzTanh"][1])
    function.opset_import[0].version = 21
    gen.model.functions.append(function)
    gen.model = onnx.shape_inference.infer_shapes(gen.model)
    gen.barriers = {"custom": "fuzz.custom.FuzzTanh"}
    outcome = run_properties(gen, allow_growth=False)
    assert not outcome.failures, _describe(gen, outcome)


def test_the_generator_leaves_out_value_info_onnx_infers_without_a_type():
    """(Seed 44, cases 366-370: a QuantizeLinear-21 of an IR 3 model got value_info of
    element type 0, which onnxruntime refuses to load.)"""
    untyped = helper.make_tensor_value_info("q", TensorProto.UNDEFINED, None)
    typed = helper.make_tensor_value_info("r", TensorProto.FLOAT, [2])
    branch = helper.make_graph([], "b", [], [], value_info=[untyped])
    node = helper.make_node("If", ["c"], ["y"], then_branch=branch, else_branch=branch)
    graph = helper.make_graph([node], "g", [], [], value_info=[untyped, typed])
    fuzzgen._drop_untyped_value_info(graph)
    assert [v.name for v in graph.value_info] == ["r"]
    assert list(graph.node[0].attribute[0].g.value_info) == []
