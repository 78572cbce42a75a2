"""Specifications of the runtime cost model: what a fold is estimated to save, the figures a
finding and a fold report carry, and the folds it keeps from being written."""

from __future__ import annotations

from pathlib import Path

import onnx

import linlint
from linlint.analysis.cost_model import NS_PER_BYTE, NS_PER_MAC, NS_PER_NODE, Work

SAMPLES = Path(__file__).resolve().parent.parent / "sample_models"


def _load(stem: str) -> onnx.ModelProto:
    return onnx.load(SAMPLES / f"{stem}.onnx")


def test_the_estimate_adds_multiply_adds_bytes_moved_and_nodes():
    work = Work(macs=1000, elementwise=10, moved=80, nodes=2)
    assert work.estimate_ns() == 1000 * NS_PER_MAC + 80 * NS_PER_BYTE + 2 * NS_PER_NODE


def test_a_conv_bn_finding_counts_the_bn_pass_its_parameters_and_its_node():
    (finding,) = linlint.check(_load("ll005_conv_bn"))
    fix = finding.fix
    assert (fix.params_before, fix.params_after) == (616, 584)  # the BN's four vectors count
    assert (fix.elementwise_before, fix.elementwise_after) == (2048, 0)
    assert (fix.nodes_before, fix.nodes_after) == (2, 1)
    # the BN reads x and its vectors and writes y; both sides move the 3x3 conv's im2col buffer
    assert fix.moved_before - fix.moved_after == 2 * 2048 * 4 + 4 * 8 * 4


def test_a_fold_reports_the_same_figures_as_the_finding_it_folds():
    model = _load("ll005_conv_bn")
    (finding,) = linlint.check(model)
    (folded,) = linlint.fold(model, verify=False).folded
    fix = finding.fix
    assert (folded.macs_before, folded.macs_after) == (fix.macs_before, fix.macs_after)
    assert (folded.params_before, folded.params_after) == (fix.params_before, fix.params_after)
    assert (folded.elementwise_before, folded.elementwise_after) == (
        fix.elementwise_before,
        fix.elementwise_after,
    )
    assert (folded.nodes_before, folded.nodes_after) == (fix.nodes_before, fix.nodes_after)


def test_a_border_map_whose_pass_costs_more_than_it_saves_is_a_note_and_never_folded():
    model = _load("ll003_bn_before_padded_conv_fixed_size")
    (finding,) = linlint.check(model)
    assert finding.code == "LL003" and finding.level == "note"
    assert "border-correction map of 2,048 elements" in finding.fix.reason
    assert "costs more than it saves" in finding.fix.reason
    assert not linlint.fold(model, verify=False).changed


def test_input_normalization_folds_its_scale_into_the_stem_and_keeps_its_shift():
    model = _load("ll005_input_normalization_before_stem")
    (finding,) = linlint.check(model)
    assert finding.code == "LL005" and finding.nodes == ("normalize_div", "stem")
    result = linlint.fold(model)
    assert [n.op_type for n in result.model.graph.node] == ["Sub", "Conv", "Relu"]
    assert result.after.params < result.before.params  # no full-size map was written
    assert result.verification.ok


def test_a_border_map_that_saves_a_conv_is_kept():
    (finding,) = linlint.check(_load("ll001_biased_1x1_into_padded_3x3"))
    assert finding.code == "LL001" and finding.fix.exact
    assert finding.fix.elementwise_after > 0  # the map's Add is counted, and still worth it
