"""Dynamic sizes (issue 11, parts 3 and 7): what the cost figures stand on, no decision on a
guessed size, and the sizes every report says it counted and verified at."""

from __future__ import annotations

import json
from pathlib import Path

import onnx
import pytest
from typer.testing import CliRunner

import linlint
from linlint.analysis.regions import DEFAULTED, KNOWN, UNKNOWN
from linlint.analysis.shapes import ShapeOracle
from linlint.cli.app import app
from linlint.folding.costs import model_costs
from tiny import model, weights

SAMPLES = Path(__file__).resolve().parent.parent / "sample_models"
UNET = SAMPLES / "ll002_unet_tail_dynamic_hw.onnx"  # dynamic H/W: LL001 + an undecided LL002
BN_BEFORE_PADDED = SAMPLES / "ll003_bn_before_padded_conv.onnx"  # dynamic H/W, a border map
FIXED = SAMPLES / "ll001_conv1x1_conv1x1.onnx"  # every size fixed

runner = CliRunner()


def run(*args: str | Path):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def custom_op_then(body: str, *, declared: str = "", **inits) -> onnx.ModelProto:
    """``x[1,8,32,32] → custom.Foo → h → body``: a source whose shape the walk cannot tell
    (unless ``declared`` gives ``h`` a value_info)."""
    info = f"<{declared} h>" if declared else ""
    built = model(
        f"""
        g (float[1, 8, 32, 32] x) => (float[] y) {info} {{
            h = custom.Foo(x)
            {body}
        }}""",
        **inits,
    )
    built.opset_import.append(onnx.helper.make_opsetid("custom", 1))
    return built


TWO_VALID_3X3 = """
            [c1] c = Conv<kernel_shape=[3, 3]>(h, w1)
            [c2] y = Conv<kernel_shape=[3, 3]>(c, w2)"""
THREE_BY_THREE = {"w1": weights((8, 8, 3, 3)), "w2": weights((8, 8, 3, 3), seed=1)}


def dynamic(body: str, out: str = "float[]", **inits) -> onnx.ModelProto:
    """``x[1, 8, H, W] → body → y``."""
    return model(f"g (float[1, 8, H, W] x) => ({out} y) {{ {body} }}", **inits)


ONE_BY_ONE = dynamic(
    "[c1] h = Conv(x, w1)  [c2] y = Conv(h, w2)",
    w1=weights((16, 8, 1, 1)),
    w2=weights((8, 16, 1, 1), seed=1),
)


def save(tmp_path: Path, proto: onnx.ModelProto, name: str = "m.onnx") -> Path:
    path = tmp_path / name
    onnx.save(proto, path)
    return path


# ---- unknown shapes: no figure, no decision on a guess ------------------------------------


def test_a_chain_after_a_custom_op_has_unknown_figures():
    (finding,) = linlint.check(custom_op_then(TWO_VALID_3X3, **THREE_BY_THREE))
    assert finding.fix.basis == UNKNOWN


def test_unknown_figures_are_null_in_json_and_unknown_in_text(tmp_path):
    path = save(tmp_path, custom_op_then(TWO_VALID_3X3, **THREE_BY_THREE))
    (fix,) = [f["fix"] for f in json.loads(run("check", "--format", "json", path).stdout)]
    assert fix["macs_before"] is None and fix["elementwise_after"] is None
    assert fix["params_before"] == 1152 and fix["nodes_before"] == 2  # size-free: kept
    assert "fix: exact, MACs unknown, params 1,152 → 1,600" in run("check", path).stdout


def test_a_chain_of_unknown_shape_whose_cost_a_size_decides_is_an_LL002_note():
    # was LL001 "worth folding" on a guessed 1x1; at the real 32x32 folding raises MACs
    (finding,) = linlint.check(custom_op_then(TWO_VALID_3X3, **THREE_BY_THREE))
    assert finding.code == "LL002" and finding.level == "note"
    assert "depends on the shape of `h` (computed by custom.Foo)" in finding.message
    assert "pays at 1x8x1x1 but raises MACs at 1x8x64x64" in finding.message


def test_fold_leaves_a_chain_of_unknown_cost_alone_by_default():
    result = linlint.fold(custom_op_then(TWO_VALID_3X3, **THREE_BY_THREE), verify=False)
    assert not result.folded
    assert [f.code for f in result.remaining] == ["LL002"]


def test_the_same_chain_on_a_declared_shape_is_LL002_with_its_macs():
    declared = custom_op_then(TWO_VALID_3X3, declared="float[1, 8, 32, 32]", **THREE_BY_THREE)
    (finding,) = linlint.check(declared)
    assert finding.code == "LL002" and finding.fix.basis == KNOWN
    assert (finding.fix.macs_before, finding.fix.macs_after) == (969_984, 1_254_400)
    assert not finding.fix.undecided


def test_a_dense_chain_after_a_custom_op_pays_at_every_size():
    body = """
            f = Flatten(h)
            [fc1] g1 = Gemm<transB=1>(f, w1)
            [fc2] y = Gemm<transB=1>(g1, w2)"""
    proto = custom_op_then(body, w1=weights((16, 8192)), w2=weights((4, 16), seed=1))
    (finding,) = linlint.check(proto)
    assert finding.code == "LL001" and finding.fix.basis == UNKNOWN


def test_a_fold_that_pays_at_every_size_is_decided_on_an_unknown_shape():
    body = """
            [conv] c = Conv<kernel_shape=[3, 3], pads=[1, 1, 1, 1]>(h, w)
            [bn] y = BatchNormalization(c, s, b, m, v)"""
    ones, zeros = weights((8,)) ** 0 + 1, weights((8,)) * 0
    proto = custom_op_then(body, w=weights((8, 8, 3, 3)), s=ones, b=zeros, m=zeros, v=ones)
    (finding,) = linlint.check(proto)
    assert finding.code == "LL005" and finding.fix.basis == UNKNOWN


def test_fold_totals_leave_out_parametric_ops_of_unknown_shape():
    proto = custom_op_then(TWO_VALID_3X3, **THREE_BY_THREE)
    costs = model_costs(proto)
    assert (costs.param_ops, costs.unknown_macs, costs.macs) == (2, 2, 0)


# ---- defaulted symbolic sizes: say which, decide only where no size changes the answer ---


def test_figures_on_symbolic_sizes_say_the_sizes_they_took():
    (finding,) = linlint.check(ONE_BY_ONE)
    assert finding.code == "LL001" and finding.fix.basis == DEFAULTED
    assert [(f.name, f.shape, f.given) for f in finding.fix.sizes] == [("x", (1, 8, 1, 1), False)]


def test_the_text_report_says_the_sizes_on_the_fix_line_and_once_per_file(tmp_path):
    two = dynamic(
        "[a1] h = Conv(x, w1)  [a2] r = Conv(h, w2)  z = Relu(r)"
        "  [b1] k = Conv(z, w1)  [b2] y = Conv(k, w2)",
        w1=weights((16, 8, 1, 1)),
        w2=weights((8, 16, 1, 1), seed=1),
    )
    out = run("check", save(tmp_path, two)).stdout
    assert out.count("nodes 2 → 1 (at H=1, W=1)") == 2
    note = "the figures take the symbolic sizes `H`, `W` as 1 (the model does not fix them)"
    assert out.count(note) == 1
    assert "pass `--input-shape x=1x8x<H>x<W>` with the sizes it runs at" in out


def test_json_records_the_basis_and_the_sizes_used(tmp_path):
    data = json.loads(run("check", "--format", "json", save(tmp_path, ONE_BY_ONE)).stdout)
    fix = data[0]["fix"]
    assert fix["basis"] == "defaulted" and fix["undecided"] == ""
    assert fix["sizes"] == [
        {"input": "x", "shape": [1, 8, 1, 1], "free": {"H": 1, "W": 1}, "given": False}
    ]


def test_a_cost_decision_a_symbolic_size_changes_asks_for_input_shape():
    codes = {f.code: f for f in linlint.check(UNET)}
    assert codes["LL001"].fix.basis == DEFAULTED and not codes["LL001"].fix.undecided
    message = codes["LL002"].message
    assert "it pays at H=1, W=1 but raises MACs at H=64, W=64" in message
    assert "pass `--input-shape x=1x8x<H>x<W>` to decide" in message


def test_a_single_op_region_a_symbolic_size_decides_is_an_LL002_note_too():
    # a DenseNet transition after a pool: at H=W=1 its input is empty, at 64 it pays (LL007)
    transition = dynamic(
        "p0 = AveragePool<kernel_shape=[2, 2], strides=[2, 2]>(x)  r = Relu(p0)"
        "  [conv] h = Conv(r, w)  [pool] y = AveragePool<kernel_shape=[2, 2], strides=[2, 2]>(h)",
        w=weights((16, 8, 1, 1)),
    )
    (finding,) = linlint.check(transition)
    assert finding.code == "LL002"
    assert "saves no time at H=1, W=1 but pays at H=64, W=64" in finding.message
    given = linlint.check(transition, input_shapes={"x": (1, 8, 64, 64)})
    assert [f.code for f in given] == ["LL007"]


def test_fold_does_not_fold_a_chain_a_symbolic_size_decides():
    result = linlint.fold(UNET, verify=False)
    assert [r.nodes for r in result.folded] == [("up", "up_conv")]


def test_input_shape_decides_a_cost_decision_on_its_sizes():
    findings = linlint.check(UNET, input_shapes={"x": (1, 8, 64, 64)})
    head = next(f for f in findings if f.nodes == ("head1", "head2"))
    assert head.code == "LL002" and head.fix.basis == KNOWN and not head.fix.undecided
    assert (head.fix.macs_before, head.fix.macs_after) == (18_001_152, 24_601_600)


def test_a_small_given_size_decides_it_the_other_way():
    findings = linlint.check(UNET, input_shapes={"x": (1, 8, 4, 4)})
    assert [f.code for f in findings] == ["LL001", "LL001"]


def test_figures_that_no_defaulted_size_changes_are_known():
    two_inputs = model(
        """
        g (float[1, 8, 4, 4] x, float[N, 3] t) => (float[1, 8, 4, 4] y, float[N, 3] u) {
            [c1] h = Conv(x, w1)
            [c2] y = Conv(h, w2)
            u = Relu(t)
        }""",
        w1=weights((16, 8, 1, 1)),
        w2=weights((8, 16, 1, 1), seed=1),
    )
    (finding,) = linlint.check(two_inputs)
    assert finding.fix.basis == KNOWN


def test_a_model_with_fixed_sizes_is_never_evaluated_at_another_size(monkeypatch):
    tried = []
    monkeypatch.setattr(ShapeOracle, "at_size", lambda self, size: tried.append(size))
    linlint.check(FIXED)
    assert tried == []


# ---- exactness that depends on a size: the model must fix it -----------------------------


def test_a_border_map_on_symbolic_sizes_says_the_model_must_fix_them():
    (finding,) = linlint.check(BN_BEFORE_PADDED)
    assert "only on sizes the model fixes (a model exported with static shapes)" in (
        finding.fix.reason
    )


@pytest.mark.parametrize(
    "body",
    [
        "[c1] h = Conv(x, w1, b1)"
        "  p = AveragePool<kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1>(h)"
        "  [c2] y = Conv(p, w2)",
        "[c1] h = Conv(x, w1)"
        '  [c2] y = Conv<kernel_shape=[1, 1], strides=[2, 2], auto_pad="SAME_UPPER">(h, w2)',
    ],
    ids=["ceil_mode", "same_pads_with_a_stride"],
)
def test_a_fold_exact_only_on_fixed_sizes_says_to_export_with_static_shapes(body):
    w1, w2, b1 = weights((16, 8, 1, 1)), weights((8, 16, 1, 1), seed=1), weights((16,), seed=2)
    (finding,) = linlint.check(dynamic(body, w1=w1, w2=w2, b1=b1))
    assert finding.code == "LL003"
    assert finding.fix.reason.endswith("export the model with static shapes to fold it")


def test_input_shape_does_not_make_a_size_dependent_fold_exact():
    (finding,) = linlint.check(BN_BEFORE_PADDED, input_shapes={"x": (1, 8, 16, 16)})
    assert finding.code == "LL003" and "static shapes" in finding.fix.reason


# ---- the sizes verification ran at -------------------------------------------------------


def test_verify_says_the_shapes_it_ran_at_where_the_model_leaves_a_size_open(tmp_path):
    path = save(tmp_path, ONE_BY_ONE)
    summary = linlint.verify(path, path).summary()
    assert summary.endswith("over 3 runs at x=1x8x1x1, 1x8x7x7, 1x8x9x9")


def test_verify_on_fixed_sizes_lists_none():
    summary = linlint.verify(FIXED, FIXED).summary()
    assert summary.endswith("over 1 run")


def test_verify_json_lists_the_shapes(tmp_path):
    path = save(tmp_path, ONE_BY_ONE)
    data = json.loads(run("verify", path, path, "--format", "json").stdout)
    assert data["sizes"] == [{"x": [1, 8, 1, 1]}, {"x": [1, 8, 7, 7]}, {"x": [1, 8, 9, 9]}]


def test_fold_says_it_verified_only_at_the_sizes_the_original_runs_at(tmp_path):
    out = run("fold", UNET, "-o", tmp_path / "out.onnx").stdout
    assert (
        "over 2 runs at x=1x8x7x7, 1x8x9x9 (2 input sets the original cannot run on skipped)" in out
    )


def test_fold_report_gives_each_fold_and_the_totals_their_sizes(tmp_path):
    out = run("fold", UNET, "--diff").stdout.splitlines()
    folded = next(line for line in out if "LL001 folded" in line)
    totals = next(line for line in out if "parametric ops 4 → 3" in line)
    assert folded.endswith("nodes 2 → 1 (at H=1, W=1)")
    assert totals.endswith("(at H=1, W=1)")


def test_explain_says_an_undecided_cost_is_a_note_that_input_shape_decides():
    out = run("explain", "LL002").stdout
    assert "cannot decide" in out and "--input-shape" in out
