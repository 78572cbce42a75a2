"""fold on every sample model: the promised number of parametric ops, verified by onnxruntime."""

from __future__ import annotations

import onnx
import pytest

import linlint
from conftest import SAMPLES, load_build

EXPECTED = load_build().EXPECTED
STEMS = sorted(EXPECTED)


@pytest.mark.parametrize("stem", STEMS)
def test_fold_reaches_the_promised_parametric_ops_and_verifies(stem):
    expect = EXPECTED[stem]
    result = linlint.fold(SAMPLES / f"{stem}.onnx", runs=2)
    if expect.params_after_fold is None:
        assert not result.changed, [f.message for f in result.folded]
        assert result.after == result.before
        return
    assert result.after.param_ops == expect.params_after_fold
    assert result.changed
    assert result.verification is not None and result.verification.ok, result.verification.summary()
    onnx.checker.check_model(result.model, full_check=True)


@pytest.mark.parametrize("stem", STEMS)
def test_folding_a_folded_model_folds_nothing_more(stem):
    first = linlint.fold(SAMPLES / f"{stem}.onnx", verify=False)
    second = linlint.fold(first.model, verify=False)
    assert second.folded == []


@pytest.mark.parametrize("stem", [s for s in STEMS if s.endswith("_train")])
def test_training_form_folds_to_as_many_convs_as_its_deploy_twin(stem):
    deploy = SAMPLES / f"{stem.removesuffix('_train')}_deploy.onnx"
    folded = linlint.fold(SAMPLES / f"{stem}.onnx").model
    count = lambda m: sum(1 for n in m.graph.node if n.op_type == "Conv")  # noqa: E731
    assert count(folded) == count(onnx.load(deploy))


def test_fold_keeps_graph_inputs_outputs_opsets_and_metadata(sample):
    model = onnx.load(sample("repvgg_net_train"))
    model.metadata_props.add(key="author", value="someone")
    model.doc_string = "kept"
    folded = linlint.fold(model).model
    assert [i.name for i in folded.graph.input] == [i.name for i in model.graph.input]
    assert [o.name for o in folded.graph.output] == [o.name for o in model.graph.output]
    assert list(folded.opset_import) == list(model.opset_import)
    assert folded.doc_string == "kept"
    assert {p.key: p.value for p in folded.metadata_props} == {"author": "someone"}


def test_fold_removes_initializers_it_no_longer_uses(sample):
    folded = linlint.fold(sample("ll005_conv_bn")).model
    used = {i for n in folded.graph.node for i in n.input}
    assert all(t.name in used for t in folded.graph.initializer)


def test_fold_does_not_change_the_model_it_is_given(sample):
    model = onnx.load(sample("ll001_conv1x1_conv1x1"))
    before = model.SerializeToString()
    linlint.fold(model)
    assert model.SerializeToString() == before


def test_fold_leaves_linear_bottlenecks_unless_growth_is_allowed(sample):
    path = sample("ll002_linear_bottleneck_1x1")
    assert not linlint.fold(path).changed
    grown = linlint.fold(path, allow_growth=True)
    assert grown.after.param_ops == 1
    assert grown.verification.ok


def test_fold_never_folds_inexact_chains(sample):
    result = linlint.fold(sample("ll003_conv3x3_conv3x3_padded"), allow_growth=True)
    assert not result.changed
    assert [f.code for f in result.remaining] == ["LL003"]


def test_fold_respects_ignore(sample):
    result = linlint.fold(sample("ll006_leakyrelu_alpha1"), ignore=["LL001"])
    assert [f.code for f in result.folded] == ["LL006"]
    assert result.after.param_ops == 2


@pytest.mark.parametrize(
    "stem, ops",
    [
        ("ll001_matmul_add_2d_mlp", ["Gemm", "Relu"]),  # MatMul + Add on 2-D: one Gemm
        ("ll001_matmul_add_3d_mlp", ["MatMul", "Add"]),  # a Gemm reads 2-D only
        ("ll001_classifier_head_dynamo", ["Conv", "Relu", "ReduceMean", "Reshape", "Gemm"]),
        ("ll005_linear_bn_through_flatten", ["MatMul", "Add"]),  # the reshapes cancel
        ("ll001_gemm_transa_chain", ["Gemm"]),  # transA = 1 kept on the one Gemm
        ("ll001_conv_flatten_gemm", ["Flatten", "Gemm"]),  # the conv as one dense map
        ("ll005_nhwc_affine_after_conv", ["Conv", "Transpose", "Relu"]),  # NHWC affine folds
    ],
)
def test_a_dense_fold_writes_as_few_nodes_as_its_rank_allows(sample, stem, ops):
    result = linlint.fold(sample(stem), verify=False)
    assert [n.op_type for n in result.model.graph.node] == ops


def test_weights_held_in_constant_nodes_count_as_parameters(sample):
    """Weights written as Constant (and ConstantOfShape + Cast) nodes, as paddle2onnx does,
    are parameters before the fold as much as initializers are after it."""
    result = linlint.fold(sample("ll001_weights_from_constant_nodes"), verify=False)
    # Gemm 32→32 and 32→16 with biases, then one Gemm 32→16 with its bias
    assert (result.before.params, result.after.params) == (32 * 32 + 32 + 32 * 16 + 16, 528)
