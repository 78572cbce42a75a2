"""The one-sweep analysis: constness, sources, joins, subgraphs, and broken graphs."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import linlint
from linlint.analysis.sweep import analyze_model
from linlint.errors import LinlintError


def _model(nodes, inits=(), inputs=None, outputs=None, opset=17):
    inputs = inputs or [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8, 8])]
    outputs = outputs or [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)]
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def _w(name, shape, seed=0):
    rng = np.random.default_rng(seed)
    return numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32), name)


def _conv(name, x, w, y):
    return helper.make_node("Conv", [x, w], [y], name=name)


def test_a_node_reading_a_tensor_nobody_produces_is_a_clear_error():
    model = _model([_conv("c", "ghost", "w", "y")], [_w("w", [4, 4, 1, 1])])
    with pytest.raises(LinlintError, match="ghost.*no node produces"):
        analyze_model(model)


def test_a_graph_with_a_cycle_is_a_clear_error():
    nodes = [
        helper.make_node("Add", ["x", "b"], ["a"], name="first"),
        helper.make_node("Relu", ["a"], ["b"], name="second"),
        helper.make_node("Identity", ["b"], ["y"], name="out"),
    ]
    with pytest.raises(LinlintError, match="topologically sorted or has a cycle"):
        analyze_model(_model(nodes))


def test_a_tensor_produced_twice_is_a_clear_error():
    nodes = [
        helper.make_node("Relu", ["x"], ["y"], name="a"),
        helper.make_node("Sigmoid", ["x"], ["y"], name="b"),
    ]
    with pytest.raises(LinlintError, match="produced twice"):
        analyze_model(_model(nodes))


def test_weights_computed_by_constant_nodes_count_as_constant():
    value = numpy_helper.from_array(np.ones([4, 4, 1, 1], np.float32), "v")
    nodes = [
        helper.make_node("Constant", [], ["w"], value=value),
        helper.make_node("Identity", ["w"], ["w2"]),
        _conv("c1", "x", "w2", "h"),
        _conv("c2", "h", "w2", "y"),
    ]
    assert [f.code for f in linlint.check(_model(nodes))] == ["LL001"]


def test_a_weight_that_is_a_graph_input_is_not_constant():
    inputs = [
        helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8, 8]),
        helper.make_tensor_value_info("w", TensorProto.FLOAT, [4, 4, 1, 1]),
    ]
    nodes = [_conv("c1", "x", "w", "h"), _conv("c2", "h", "w", "y")]
    assert linlint.check(_model(nodes, inputs=inputs)) == []


def test_joins_of_different_sources_end_the_region():
    inputs = [
        helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8, 8]),
        helper.make_tensor_value_info("z", TensorProto.FLOAT, [1, 4, 8, 8]),
    ]
    nodes = [
        _conv("c1", "x", "w", "a"),
        _conv("c2", "z", "w", "b"),
        helper.make_node("Add", ["a", "b"], ["y"], name="add"),
    ]
    assert linlint.check(_model(nodes, [_w("w", [4, 4, 1, 1])], inputs=inputs)) == []


def test_findings_inside_subgraphs_name_their_graph(sample):
    findings = linlint.check(sample("ll001_chain_in_if_branch"))
    assert [f.graph for f in findings] == ["branch/then_branch"]


def test_nodes_without_names_are_named_by_index(sample):
    (finding,) = linlint.check(sample("ll001_unnamed_nodes"))
    assert finding.nodes == ("#0", "#1")


def test_findings_name_the_nodes_of_the_chain_in_order(sample):
    (finding,) = linlint.check(sample("ll001_expandnets_1x1_3x3_1x1"))
    assert len(finding.nodes) == 3
    assert finding.message.endswith("= one Conv 3x3 (8→8)")


def test_every_fix_record_has_costs_before_and_after(sample):
    (finding,) = linlint.check(sample("ll001_gemm_gemm_mlp"))
    assert finding.fix.exact
    assert finding.fix.macs_before > finding.fix.macs_after > 0
    assert finding.fix.params_before > finding.fix.params_after > 0


def test_inexact_findings_say_why(sample):
    (finding,) = linlint.check(sample("ll003_conv3x3_conv3x3_padded"))
    assert not finding.fix.exact
    assert "zero-pads" in finding.fix.reason


def test_input_shapes_fill_symbolic_dims_for_costs():
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 4, "h", "w"])]
    nodes = [_conv("c1", "x", "w", "h1"), _conv("c2", "h1", "w", "y")]
    model = _model(nodes, [_w("w", [4, 4, 1, 1])], inputs=inputs)
    small = linlint.check(model)[0].fix.macs_before
    big = linlint.check(model, input_shapes={"x": (1, 4, 16, 16)})[0].fix.macs_before
    assert big == small * 256


def test_check_never_reads_external_weights(tmp_path, monkeypatch):
    import onnx.external_data_helper as edh

    import linlint.model.weights

    nodes = [_conv("c1", "x", "w", "h"), _conv("c2", "h", "w", "y")]
    model = _model(nodes, [_w("w", [4, 4, 3, 3])])
    onnx.save(
        model,
        tmp_path / "m.onnx",
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location="m.data",
        size_threshold=0,
    )

    def refuse(*args, **kwargs):
        raise AssertionError("check read external weights")

    monkeypatch.setattr(linlint.model.weights, "tensor_array", refuse)
    monkeypatch.setattr(edh, "load_external_data_for_tensor", refuse)
    monkeypatch.setattr(edh, "load_external_data_for_model", refuse)
    findings = linlint.check(tmp_path / "m.onnx")
    assert [f.code for f in findings] == ["LL001"]
