"""Specifications of linlint.verify and the inputs it runs on (linlint.verification.inputs)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import linlint
import linlint.verification.sessions
import tiny
from linlint.errors import LinlintError
from linlint.model.load import load_model
from linlint.verification.compare import compare_models, verify
from linlint.verification.input_sizes import graph_inputs, parse_input_shape
from linlint.verification.inputs import input_variants, make_inputs
from linlint.verification.npz import load_npz
from linlint.verification.output_comparison import NOISE_MULTIPLE

# element types by their name in ONNX's text syntax
NP_TYPES = {"float": np.float32, "float16": np.float16, "double": np.float64}
SCALE = np.array([0.5, -1.25, 2.0, 3.0])


def _mul_model(
    scale: np.ndarray = SCALE, *, elem: str = "float", shape: str = "N, 4", output: str = "y"
) -> onnx.ModelProto:
    """y = x * scale, with x of shape [N, 4] by default and a float weight of 4 values."""
    return tiny.model(
        f"g ({elem}[{shape}] x) => ({elem}[] {output}) {{ [scale] {output} = Mul(x, s) }}",
        s=np.asarray(scale, dtype=NP_TYPES[elem]),
    )


def _perturbed(relative: float, elem: str = "float", shape: str = "N, 4") -> onnx.ModelProto:
    return _mul_model(SCALE * (1 + relative), elem=elem, shape=shape)


# verify: the verdict


def test_identical_models_verify() -> None:
    result = verify(_mul_model(), _mul_model())
    assert result.ok
    assert result.summary() == (
        "verified: 1 output (max abs 0: identical) over 3 runs at x=1x4, 7x4, 9x4"
    )
    assert result.outputs[0].name == "y"
    assert result.outputs[0].max_abs == 0.0


def test_a_perturbed_weight_fails_and_the_summary_names_the_output() -> None:
    result = verify(_mul_model(shape="2, 4"), _perturbed(0.01, shape="2, 4"))
    assert not result.ok
    summary = result.summary()
    assert summary.startswith("verification failed over 1 run: output `y` differs: max abs")
    assert "the original's own float32 noise" in summary and "allowed 16×" in summary
    assert "\n" not in summary


def test_float16_gets_a_tolerance_that_fits_its_precision() -> None:
    assert verify(_mul_model(elem="float16"), _perturbed(2e-3, "float16")).ok
    assert not verify(_mul_model(), _perturbed(2e-3)).ok


def test_float64_gets_a_tight_tolerance() -> None:
    assert not verify(_mul_model(elem="double"), _perturbed(1e-7, "double")).ok
    assert not verify(_mul_model(elem="double"), _perturbed(1e-13, "double")).ok
    assert verify(_mul_model(elem="double"), _perturbed(1e-15, "double")).ok
    assert verify(_mul_model(), _perturbed(1e-7)).ok


def test_explicit_tolerances_override_the_defaults() -> None:
    assert verify(_mul_model(), _perturbed(0.01), rtol=0.02, atol=0.0).ok


def test_three_runs_use_three_input_sets() -> None:
    result = verify(_mul_model(shape="2, 4"), _mul_model(shape="2, 4"), runs=3)
    assert result.ok and result.runs == 3
    assert result.summary().endswith("over 3 runs")


def test_a_symbolic_dim_adds_a_run_at_each_size_variant() -> None:
    result = verify(_mul_model(), _mul_model(), runs=3)
    assert result.ok and result.runs == 3 + 2


def test_inputs_from_an_npz_file_are_fed_to_both_models(tmp_path: Path) -> None:
    data = tmp_path / "inputs.npz"
    np.savez(data, x=np.ones((5, 4), np.float32))
    result = verify(_mul_model(), _mul_model(), inputs=data)
    assert result.ok and result.runs == 1
    assert result.outputs[0].shape == (5, 4)


def test_an_npz_without_an_input_is_refused_naming_it(tmp_path: Path) -> None:
    data = tmp_path / "inputs.npz"
    np.savez(data, other=np.ones((5, 4), np.float32))
    with pytest.raises(LinlintError, match="no array for model input `x`"):
        verify(_mul_model(), _mul_model(), inputs=data)


def test_benchmark_fills_both_latencies() -> None:
    result = verify(_mul_model(), _mul_model(), benchmark=True)
    assert result.latency_original_ms is not None and result.latency_original_ms > 0
    assert result.latency_candidate_ms is not None and result.latency_candidate_ms > 0
    assert "median latency" in result.summary()


def test_different_output_names_do_not_verify() -> None:
    result = verify(_mul_model(), _mul_model(output="z"))
    assert not result.ok
    assert "lacks output `y`" in result.summary()
    assert "extra output `z`" in result.summary()


def test_different_output_shapes_do_not_verify() -> None:
    wide = _mul_model(np.ones((2, 4)))
    result = verify(_mul_model(), wide, input_shapes={"x": (1, 4)})
    assert not result.ok
    assert "shape (2, 4) in the candidate, (1, 4) in the original" in result.summary()


def test_nan_positions_must_agree() -> None:
    with_nan = _mul_model(np.array([0.5, np.nan, 2.0, 3.0]))
    assert verify(with_nan, with_nan).ok
    result = verify(_mul_model(), with_nan)
    assert not result.ok and "NaN at different positions" in result.summary()


def test_nan_and_an_infinity_may_trade_places_as_a_reassociated_sum_does() -> None:
    """Inf·1 + Inf·(−1) is NaN; Inf·(1 − 1) too, but Inf·(2 − 1) is Inf: a fold that
    reassociates a sum of infinities may give ±Inf where the original gives NaN (fuzz seed
    48, cases 1224-1228: an int64 input cast to float16 overflows, then two MatMuls)."""
    with_nan = _mul_model(np.array([0.5, np.nan, 2.0, 3.0]))
    with_inf = _mul_model(np.array([0.5, np.inf, 2.0, 3.0]))
    with_minus_inf = _mul_model(np.array([0.5, -np.inf, 2.0, 3.0]))
    positive = {"x": np.ones((1, 4), np.float32)}
    assert verify(with_nan, with_inf, inputs=positive).ok
    result = verify(with_inf, with_minus_inf, inputs=positive)
    assert not result.ok and "different signs" in result.summary()


def test_models_given_as_paths_with_external_data_verify(tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    onnx.save_model(_mul_model(), path, save_as_external_data=True, size_threshold=0)
    assert verify(path, _mul_model()).ok


def test_a_proto_pointing_to_external_data_verifies_with_its_folder(tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    onnx.save_model(_mul_model(), path, save_as_external_data=True, size_threshold=0)
    assert verify(_mul_model(), load_model(path), base_dir=tmp_path).ok


def test_a_proto_past_the_protobuf_limit_is_run_from_a_temporary_copy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sessions = linlint.verification.sessions
    monkeypatch.setattr(sessions, "PROTOBUF_LIMIT", 64)
    written: list[tuple[Path, bool]] = []
    real_save = sessions.save_model

    def save_model(model, path, **options):
        real_save(model, path, **options)
        written.append((Path(path), options.get("external_data", False)))

    monkeypatch.setattr(sessions, "save_model", save_model)
    assert verify(_mul_model(), _mul_model()).ok
    # both models went to onnxruntime as files with external data, since removed
    assert [(path.name, external) for path, external in written] == [
        ("original.onnx", True),
        ("candidate.onnx", True),
    ]
    assert not any(path.exists() or path.parent.exists() for path, _ in written)


def test_an_invalid_candidate_is_one_error_naming_it() -> None:
    broken = _mul_model()
    broken.graph.node[0].op_type = "NoSuchOp"
    with pytest.raises(LinlintError, match="cannot load the candidate model") as caught:
        verify(_mul_model(), broken)
    assert "\n" not in str(caught.value)


def test_a_missing_model_path_is_one_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "missing.onnx"
    with pytest.raises(LinlintError, match="no such file") as caught:
        verify(missing, _mul_model())
    assert str(missing) in str(caught.value)


def test_verify_does_not_import_onnxruntime_until_called() -> None:
    code = "import sys, linlint.verification.compare; sys.exit('onnxruntime' in sys.modules)"
    root = str(Path(__file__).resolve().parents[1])
    assert subprocess.run([sys.executable, "-c", code], cwd=root).returncode == 0


# inputs


def test_parse_input_shape_reads_name_and_dims() -> None:
    assert parse_input_shape("pixel_values=1x3x224x224") == ("pixel_values", (1, 3, 224, 224))


def test_parse_input_shape_rejects_bad_syntax() -> None:
    with pytest.raises(LinlintError, match="bad input shape `x=1x`"):
        parse_input_shape("x=1x")


def test_graph_inputs_skip_initializers() -> None:
    model = _mul_model()
    model.graph.input.append(tiny.value("s", TensorProto.FLOAT, [4]))
    assert [value.name for value in graph_inputs(model)] == ["x"]


def test_make_inputs_fills_symbolic_dims_with_one_or_the_given_shape() -> None:
    assert make_inputs(_mul_model())["x"].shape == (1, 4)
    assert make_inputs(_mul_model(), input_shapes={"x": (6, 4)})["x"].shape == (6, 4)


def test_make_inputs_is_seeded() -> None:
    first = make_inputs(_mul_model(), seed=3)["x"]
    np.testing.assert_array_equal(first, make_inputs(_mul_model(), seed=3)["x"])
    assert not np.array_equal(first, make_inputs(_mul_model(), seed=4)["x"])


def test_make_inputs_follows_each_input_type() -> None:
    feeds = make_inputs(tiny.model("g (float16[3] h, int64[50] i, bool[2, 2] b) => () {}"))
    assert feeds["h"].dtype == np.float16
    assert feeds["i"].dtype == np.int64 and set(np.unique(feeds["i"])) <= {0, 1, 2, 3}
    assert feeds["b"].dtype == np.bool_


def test_make_inputs_refuses_a_sequence_input_naming_it() -> None:
    sequence = helper.make_tensor_sequence_value_info("seq", TensorProto.FLOAT, [2])
    model = tiny.from_nodes([], [sequence], [])
    with pytest.raises(LinlintError, match="input `seq` is a sequence"):
        make_inputs(model)


def test_make_inputs_refuses_a_string_input_naming_it() -> None:
    model = tiny.model("g (string[1] text) => () {}")
    with pytest.raises(LinlintError, match="input `text` has unsupported element type string"):
        make_inputs(model)


def test_make_inputs_refuses_a_shape_that_contradicts_a_fixed_dim() -> None:
    with pytest.raises(LinlintError, match="size 4 on axis 1"):
        make_inputs(_mul_model(), input_shapes={"x": (1, 5)})


def test_load_npz_refuses_a_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "none.npz"
    with pytest.raises(LinlintError, match="no such file") as caught:
        load_npz(missing)
    assert str(missing) in str(caught.value)


def test_load_npz_refuses_a_file_that_is_not_an_npz(tmp_path: Path) -> None:
    bogus = tmp_path / "inputs.npz"
    bogus.write_text("not numpy")
    with pytest.raises(LinlintError, match="cannot read inputs"):
        load_npz(bogus)


# verify: the tolerance is the original's own noise, elementwise


def _matmul_model(weight: np.ndarray, *, elem: str = "float") -> onnx.ModelProto:
    """y = x @ weight, x of shape [N, rows of weight]."""
    return tiny.model(
        f"g ({elem}[N, {weight.shape[0]}] x) => ({elem}[] y) {{ [matmul] y = MatMul(x, w) }}",
        w=np.asarray(weight, dtype=NP_TYPES[elem]),
    )


def _initializer(model: onnx.ModelProto, name: str) -> np.ndarray:
    (tensor,) = [t for t in model.graph.initializer if t.name == name]
    return numpy_helper.to_array(tensor).copy()


def _replace_initializer(model: onnx.ModelProto, name: str, array: np.ndarray) -> None:
    (tensor,) = [t for t in model.graph.initializer if t.name == name]
    tensor.CopyFrom(tiny.tensor(name, array.astype(numpy_helper.to_array(tensor).dtype)))


def _conv_initializers(model: onnx.ModelProto) -> tuple[str, str]:
    """Names of the weight and bias of the one Conv of a folded model."""
    (conv,) = [n for n in model.graph.node if n.op_type == "Conv"]
    return conv.input[1], conv.input[2]


def _margin(result) -> str:
    lines = [
        f"{c.name}: max abs {c.max_abs:.3g}, noise {c.noise:.3g}, ratio {c.ratio:.3g} "
        f"(allowed {c.allowed})"
        for c in result.outputs
    ]
    return result.summary() + "\n" + "\n".join(lines)


def test_one_large_element_does_not_hide_wrong_small_ones() -> None:
    """[1.2e4, .05, .05, .05] against [1.2e4, 0, 0, 0]: a bound scaled by the largest value
    (1e-5 · 1.2e4 = 0.12) would pass it; the noise of each element does not."""
    weight = np.full((16, 4), 0.05 / 16)
    weight[:, 0] = 1.2e4 / 16
    zeroed = weight.copy()
    zeroed[:, 1:] = 0.0
    ones = {"x": np.ones((1, 16), np.float32)}
    result = verify(_matmul_model(weight), _matmul_model(zeroed), inputs=ones)
    assert not result.ok, _margin(result)
    (output,) = result.outputs
    assert output.max_abs == pytest.approx(0.05, rel=1e-3)
    assert output.max_abs < 1e-5 * 1.2e4  # what the old scaled tolerance allowed
    assert output.ratio > 1e4, _margin(result)
    assert not verify(_matmul_model(weight), _matmul_model(zeroed)).ok  # random inputs too


def test_a_float16_all_zero_candidate_fails_for_small_outputs() -> None:
    """Outputs of a few 1e-3 in float16: an absolute floor of 1e-2 would pass all zeros."""
    rng = np.random.default_rng(0)
    weight = rng.standard_normal((8, 4)) * 1e-3
    result = verify(
        _matmul_model(weight, elem="float16"), _matmul_model(np.zeros((8, 4)), elem="float16")
    )
    assert not result.ok, _margin(result)
    assert result.outputs[0].max_abs < 1e-2
    assert result.outputs[0].ratio > 100, _margin(result)


def test_a_correct_float16_fold_passes() -> None:
    assert verify(_mul_model(elem="float16"), _mul_model(SCALE, elem="float16")).ok


def test_a_weight_perturbed_by_1e_3_relative_fails(sample) -> None:
    folded = linlint.fold(sample("ll001_conv3x3_conv1x1")).model
    weight_name, _ = _conv_initializers(folded)
    weight = _initializer(folded, weight_name)
    weight[0, 0, 1, 1] *= 1 + 1e-3
    _replace_initializer(folded, weight_name, weight)
    result = verify(sample("ll001_conv3x3_conv1x1"), folded)
    assert not result.ok, _margin(result)
    assert result.outputs[0].ratio > 10 * result.outputs[0].allowed, _margin(result)


def test_a_bias_wrong_on_one_channel_fails(sample) -> None:
    folded = linlint.fold(sample("ll004_repvgg_block")).model
    _, bias_name = _conv_initializers(folded)
    bias = _initializer(folded, bias_name)
    bias[3] += 1e-3
    _replace_initializer(folded, bias_name, bias)
    result = verify(sample("ll004_repvgg_block"), folded)
    assert not result.ok, _margin(result)
    assert result.outputs[0].ratio > 10 * result.outputs[0].allowed, _margin(result)


def test_a_border_correction_wrong_on_one_row_fails(sample) -> None:
    """The fold of a biased 1x1 into a padded 3x3 adds a border map; forget its top row."""
    path = sample("ll001_biased_1x1_into_padded_3x3")
    folded = linlint.fold(path).model
    (border_name,) = [t.name for t in folded.graph.initializer if t.name.endswith(".border")]
    border = _initializer(folded, border_name)
    border[:, :, 0, 1:-1] = border[:, :, 1, 1:-1]  # the top row as if it were interior
    _replace_initializer(folded, border_name, border)
    result = verify(path, folded)
    assert not result.ok, _margin(result)
    assert result.outputs[0].ratio > 1e3, _margin(result)


def _conv_image_model(
    kernel: int = 1, *, reshape_to: list[int] | None = None, seed: int = 1
) -> onnx.ModelProto:
    """y = Conv k x k (4 -> 4, no padding: runs only when H, W >= k) of x[1, 4, H, W]; with
    ``reshape_to``, then a Reshape to it."""
    w = tiny.weights((4, 4, kernel, kernel), seed)
    header = "g (float[1, 4, H, W] x) => (float[] y)"
    if not reshape_to:
        return tiny.model(f"{header} {{ [conv] y = Conv(x, w) }}", w=w)
    return tiny.model(
        f"{header} {{ [conv] c = Conv(x, w)  [reshape] y = Reshape(c, shape) }}",
        w=w,
        shape=np.array(reshape_to, np.int64),
    )


def test_a_candidate_right_at_size_1_but_of_another_shape_at_7_fails() -> None:
    original = _conv_image_model()
    candidate = _conv_image_model(reshape_to=[1, 4, 1, -1])  # right only when H == 1
    assert verify(original, candidate, inputs=make_inputs(original)).ok  # size 1 only: equal
    result = verify(original, candidate)
    assert not result.ok
    assert "shape (1, 4, 1, 49) in the candidate, (1, 4, 7, 7) in the original" in result.summary()


def test_a_candidate_that_cannot_run_where_the_original_can_fails() -> None:
    original = _conv_image_model()
    candidate = _conv_image_model(reshape_to=[1, 4, 1, 1])  # runs only at size 1
    result = verify(original, candidate)
    assert not result.ok
    assert result.problem.startswith("the candidate cannot run on x=1x4x7x7, where the original")


def _reshape_model(rows: int) -> onnx.ModelProto:
    """y = Reshape(x[N, 4], [rows, 4]) * 2: runs only when N == rows."""
    return tiny.model(
        """g (float[N, 4] x) => (float[] y) {
            [reshape] r = Reshape(x, shape)
            [double] y = Mul(r, two)
        }""",
        shape=np.array([rows, 4], np.int64),
        two=np.array(2.0, np.float32),
    )


def test_input_sets_the_original_cannot_run_on_are_skipped_and_said() -> None:
    result = verify(_reshape_model(1), _reshape_model(1))
    assert result.ok and result.runs == 1
    assert len(result.skipped) == 2 and result.skipped[0].startswith("x=7x4: ")
    assert "(2 input sets the original cannot run on skipped)" in result.summary()


def test_verification_fails_when_the_original_runs_on_no_input_set() -> None:
    result = verify(_reshape_model(2), _reshape_model(2))
    assert not result.ok and result.runs == 0
    assert "runs on none of the 3 input sets" in result.summary()
    assert "proves nothing" in result.summary()


def test_given_inputs_the_original_cannot_run_on_are_an_error() -> None:
    with pytest.raises(LinlintError, match="failed to run the original model"):
        verify(_reshape_model(1), _reshape_model(1), inputs={"x": np.ones((3, 4), np.float32)})


def _int_model(offset: int) -> onnx.ModelProto:
    return tiny.model(
        "g (int64[N] i) => (int64[] y) { [add] y = Add(i, k) }", k=np.array(offset, np.int64)
    )


def test_integer_outputs_must_be_exactly_equal() -> None:
    same = verify(_int_model(1), _int_model(1))
    assert same.ok and same.summary().startswith("verified: 1 output exactly equal")
    result = verify(_int_model(1), _int_model(2))
    assert not result.ok and result.outputs[0].max_abs == 1.0
    assert "(exact int64)" in result.summary()


def test_user_tolerances_replace_the_noise_bound_and_the_noise_is_still_reported() -> None:
    result = verify(_mul_model(), _perturbed(0.01), atol=0.2)
    assert result.ok
    (output,) = result.outputs
    assert output.allowed is None and output.atol == 0.2 and output.rtol == 0.0
    assert output.ratio > NOISE_MULTIPLE and output.noise > 0
    assert "within the given tolerance" in result.summary()
    assert not verify(_mul_model(), _perturbed(0.01), atol=0.0, rtol=0.0).ok


def test_each_comparison_carries_the_noise_it_was_judged_against_and_the_ratio() -> None:
    result = verify(_mul_model(), _perturbed(1e-6))
    (output,) = result.outputs
    assert output.allowed == NOISE_MULTIPLE
    assert output.noise > 0
    assert output.ratio == pytest.approx(output.max_abs / output.noise, rel=0.5)
    assert output.ok == (output.ratio <= NOISE_MULTIPLE)


def test_the_summary_is_one_line_that_states_the_margin(sample) -> None:
    path = sample("repvgg_net_train")
    result = verify(path, linlint.fold(path, verify=False).model, runs=2)
    assert result.ok, _margin(result)
    pattern = (
        r"verified: 1 output \(max abs \S+, at worst \S+× the original's own float32 noise, "
        r"allowed 16×\) over 2 runs"
    )
    assert re.fullmatch(pattern, result.summary()), result.summary()


# verify: a correct deep fold passes, with margin


def test_a_correct_fold_of_a_deep_training_form_net_passes_with_margin(sample) -> None:
    """mobileone_deep_train: 192 weight ops in 43 multi-branch blocks, folded to 44. Its
    float32 rounding noise is ~1e-4 on logits of ~5, far past any fixed 1e-5 tolerance."""
    path = sample("mobileone_deep_train")
    result = linlint.fold(path, runs=2)
    assert len(result.folded) == 43 and {r.code for r in result.folded} == {"LL004"}
    assert result.after.param_ops == 44
    verification = result.verification
    assert verification.ok, _margin(verification)
    (output,) = verification.outputs
    assert output.max_abs > 1e-6, _margin(verification)  # a real deviation, not a copy
    assert output.ratio < NOISE_MULTIPLE / 4, _margin(verification)


def test_the_hand_reparameterized_deep_twin_passes_too(sample) -> None:
    result = verify(sample("mobileone_deep_train"), sample("mobileone_deep_deploy"), runs=2)
    assert result.ok, _margin(result)
    assert result.outputs[0].ratio < NOISE_MULTIPLE / 4, _margin(result)


# compare_models: a region and its fold, on input variants


def _valid_conv_model(kernel: int, *, reshape_to: list[int] | None = None) -> onnx.ModelProto:
    return _conv_image_model(kernel, reshape_to=reshape_to, seed=2)


def test_compare_models_skips_the_sets_the_original_cannot_run_on() -> None:
    region = _valid_conv_model(3)
    result = compare_models(region, region, input_variants(region))
    assert result.ok, result.summary()
    assert result.runs == 4  # normal and constant at sizes 7 and 9; sizes 1 and 2 are too small
    assert len(result.skipped) == 6


def test_compare_models_fails_when_the_candidate_cannot_run_where_the_original_can() -> None:
    region = _valid_conv_model(3)
    candidate = _valid_conv_model(3, reshape_to=[1, 4, 5, 5])  # runs at size 7 only
    result = compare_models(region, candidate, input_variants(region))
    assert not result.ok
    assert result.problem.startswith("the candidate cannot run on x=1x4x9x9, where the original")


def test_compare_models_fails_when_no_input_set_runs() -> None:
    region = _valid_conv_model(11)
    result = compare_models(region, region, input_variants(region))
    assert not result.ok and result.runs == 0
    assert "proves nothing" in result.summary()


def test_compare_models_catches_a_fold_wrong_only_on_the_border(sample) -> None:
    """A padded 3x3 fold whose border map is wrong on its top row, as a region of fixed size."""
    path = sample("ll001_biased_1x1_into_padded_3x3")
    original = load_model(path)
    folded = linlint.fold(path).model
    (border_name,) = [t.name for t in folded.graph.initializer if t.name.endswith(".border")]
    border = _initializer(folded, border_name)
    border[:, :, 0, :] = 0.0
    _replace_initializer(folded, border_name, border)
    sets = input_variants(original)
    assert compare_models(original, linlint.fold(path).model, sets).ok
    result = compare_models(original, folded, sets)
    assert not result.ok and result.outputs[0].ratio > 1e3, _margin(result)
