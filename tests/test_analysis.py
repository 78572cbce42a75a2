"""The one-sweep analysis: constness, sources, joins, subgraphs, and broken graphs."""

from __future__ import annotations

import onnx
import pytest

import linlint
import tiny
from linlint.analysis.sweep import analyze_model
from linlint.errors import LinlintError

IMAGE = "float[1, 4, 8, 8]"


def test_a_node_reading_a_tensor_nobody_produces_is_a_clear_error():
    model = tiny.model(
        f"g ({IMAGE} x) => (float y) {{ [c] y = Conv(ghost, w) }}", w=tiny.weights((4, 4, 1, 1))
    )
    with pytest.raises(LinlintError, match="ghost.*no node produces"):
        analyze_model(model)


def test_a_graph_with_a_cycle_is_a_clear_error():
    model = tiny.model(
        f"""g ({IMAGE} x) => (float y) {{
            [first] a = Add(x, b)
            [second] b = Relu(a)
            [out] y = Identity(b)
        }}"""
    )
    with pytest.raises(LinlintError, match="topologically sorted or has a cycle"):
        analyze_model(model)


def test_a_tensor_produced_twice_is_a_clear_error():
    model = tiny.model(f"g ({IMAGE} x) => (float y) {{ [a] y = Relu(x) [b] y = Sigmoid(x) }}")
    with pytest.raises(LinlintError, match="produced twice"):
        analyze_model(model)


def test_weights_computed_by_constant_nodes_count_as_constant():
    ones = ", ".join(["1.0"] * 16)
    model = tiny.model(
        f"""g ({IMAGE} x) => (float y) {{
            w = Constant <value = float[4, 4, 1, 1] {{{ones}}}> ()
            w2 = Identity(w)
            [c1] h = Conv(x, w2)
            [c2] y = Conv(h, w2)
        }}"""
    )
    assert [f.code for f in linlint.check(model)] == ["LL001"]


def test_a_weight_that_is_a_graph_input_is_not_constant():
    model = tiny.model(
        f"""g ({IMAGE} x, float[4, 4, 1, 1] w) => (float y) {{
            [c1] h = Conv(x, w)
            [c2] y = Conv(h, w)
        }}"""
    )
    assert linlint.check(model) == []


def test_joins_of_different_sources_end_the_region():
    model = tiny.model(
        f"""g ({IMAGE} x, {IMAGE} z) => (float y) {{
            [c1] a = Conv(x, w)
            [c2] b = Conv(z, w)
            [add] y = Add(a, b)
        }}""",
        w=tiny.weights((4, 4, 1, 1)),
    )
    assert linlint.check(model) == []


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
    model = tiny.model(
        'g (float["n", 4, "h", "w"] x) => (float y) { [c1] h1 = Conv(x, w) [c2] y = Conv(h1, w) }',
        w=tiny.weights((4, 4, 1, 1)),
    )
    small = linlint.check(model)[0].fix.macs_before
    big = linlint.check(model, input_shapes={"x": (1, 4, 16, 16)})[0].fix.macs_before
    assert big == small * 256


def test_check_never_reads_external_weights(tmp_path, monkeypatch):
    import onnx.external_data_helper as edh

    import linlint.model.weights

    model = tiny.model(
        f"g ({IMAGE} x) => (float y) {{ [c1] h = Conv(x, w) [c2] y = Conv(h, w) }}",
        w=tiny.weights((4, 4, 3, 3)),
    )
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


def test_a_per_channel_scale_after_a_conv_transpose_folds_into_it():
    """Regression: the channel check read an attribute ConvTransposeForm lacked, the crash
    was caught as 'could not analyse', and the region gave no finding."""
    model = tiny.model(
        """g (float[1, 4, 5, 5] x) => (float[1, 3, 10, 10] y) {
            [up] u = ConvTranspose<strides=[2, 2], kernel_shape=[2, 2]>(x, w, b)
            [scale] y = Mul(u, s)
        }""",
        w=tiny.weights((4, 3, 2, 2)),
        b=tiny.weights((3,), seed=1),
        s=tiny.weights((1, 3, 1, 1), seed=2),
    )
    (finding,) = linlint.check(model)
    assert finding.code == "LL005" and finding.fix.exact
    result = linlint.fold(model)
    assert [n.op_type for n in result.model.graph.node] == ["ConvTranspose"]
    assert result.verification.ok
