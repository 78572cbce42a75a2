"""Specifications of linlint.verify and the inputs it runs on (linlint.inputs)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import linlint.verification
from linlint.errors import LinlintError
from linlint.inputs import graph_inputs, load_npz, make_inputs, parse_input_shape
from linlint.loader import load_model
from linlint.verification import verify

NP_TYPES = {
    TensorProto.FLOAT: np.float32,
    TensorProto.FLOAT16: np.float16,
    TensorProto.DOUBLE: np.float64,
}


def _mul_model(
    scale: np.ndarray | None = None,
    *,
    elem_type: int = TensorProto.FLOAT,
    shape: list[int | str] | None = None,
    output: str = "y",
) -> onnx.ModelProto:
    """y = x * scale, with x of shape [N, 4] by default and a float weight of 4 values."""
    np_type = NP_TYPES[elem_type]
    if scale is None:
        scale = np.array([0.5, -1.25, 2.0, 3.0])
    graph = helper.make_graph(
        [helper.make_node("Mul", ["x", "s"], [output], name="scale")],
        "g",
        [helper.make_tensor_value_info("x", elem_type, shape or ["N", 4])],
        [helper.make_tensor_value_info(output, elem_type, None)],
        [numpy_helper.from_array(np.asarray(scale, dtype=np_type), "s")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _perturbed(relative: float, elem_type: int = TensorProto.FLOAT) -> onnx.ModelProto:
    return _mul_model(np.array([0.5, -1.25, 2.0, 3.0]) * (1 + relative), elem_type=elem_type)


# verify: the verdict


def test_identical_models_verify() -> None:
    result = verify(_mul_model(), _mul_model())
    assert result.ok
    assert result.summary().startswith("verified: 1 output equal within tolerance")
    assert result.outputs[0].name == "y"
    assert result.outputs[0].max_abs == 0.0


def test_a_perturbed_weight_fails_and_the_summary_names_the_output() -> None:
    result = verify(_mul_model(), _perturbed(0.01))
    assert not result.ok
    summary = result.summary()
    assert summary.startswith("verification failed over 1 run: output 'y' differs: max abs")
    assert "\n" not in summary


def test_float16_gets_a_tolerance_that_fits_its_precision() -> None:
    assert verify(
        _mul_model(elem_type=TensorProto.FLOAT16), _perturbed(2e-3, TensorProto.FLOAT16)
    ).ok
    assert not verify(_mul_model(), _perturbed(2e-3)).ok


def test_float64_gets_a_tight_tolerance() -> None:
    double = TensorProto.DOUBLE
    assert not verify(_mul_model(elem_type=double), _perturbed(1e-7, double)).ok
    assert verify(_mul_model(elem_type=double), _perturbed(1e-13, double)).ok
    assert verify(_mul_model(), _perturbed(1e-7)).ok


def test_explicit_tolerances_override_the_defaults() -> None:
    assert verify(_mul_model(), _perturbed(0.01), rtol=0.02, atol=0.0).ok


def test_three_runs_use_three_input_sets() -> None:
    result = verify(_mul_model(), _mul_model(), runs=3)
    assert result.ok and result.runs == 3
    assert result.summary().endswith("over 3 runs")


def test_inputs_from_an_npz_file_are_fed_to_both_models(tmp_path: Path) -> None:
    data = tmp_path / "inputs.npz"
    np.savez(data, x=np.ones((5, 4), np.float32))
    result = verify(_mul_model(), _mul_model(), inputs=data)
    assert result.ok and result.runs == 1
    assert result.outputs[0].shape == (5, 4)


def test_an_npz_without_an_input_is_refused_naming_it(tmp_path: Path) -> None:
    data = tmp_path / "inputs.npz"
    np.savez(data, other=np.ones((5, 4), np.float32))
    with pytest.raises(LinlintError, match="no array for model input 'x'"):
        verify(_mul_model(), _mul_model(), inputs=data)


def test_benchmark_fills_both_latencies() -> None:
    result = verify(_mul_model(), _mul_model(), benchmark=True)
    assert result.latency_original_ms is not None and result.latency_original_ms > 0
    assert result.latency_candidate_ms is not None and result.latency_candidate_ms > 0
    assert "median latency" in result.summary()


def test_different_output_names_do_not_verify() -> None:
    result = verify(_mul_model(), _mul_model(output="z"))
    assert not result.ok
    assert "lacks output 'y'" in result.summary()
    assert "extra output 'z'" in result.summary()


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
    monkeypatch.setattr(linlint.verification, "PROTOBUF_LIMIT", 64)
    assert verify(_mul_model(), _mul_model()).ok


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
    code = "import sys, linlint.verification; sys.exit('onnxruntime' in sys.modules)"
    root = str(Path(__file__).resolve().parents[1])
    assert subprocess.run([sys.executable, "-c", code], cwd=root).returncode == 0


# inputs


def test_parse_input_shape_reads_name_and_dims() -> None:
    assert parse_input_shape("pixel_values=1x3x224x224") == ("pixel_values", (1, 3, 224, 224))


def test_parse_input_shape_rejects_bad_syntax() -> None:
    with pytest.raises(LinlintError, match="bad input shape 'x=1x'"):
        parse_input_shape("x=1x")


def test_graph_inputs_skip_initializers() -> None:
    model = _mul_model()
    model.graph.input.append(helper.make_tensor_value_info("s", TensorProto.FLOAT, [4]))
    assert [value.name for value in graph_inputs(model)] == ["x"]


def test_make_inputs_fills_symbolic_dims_with_one_or_the_given_shape() -> None:
    assert make_inputs(_mul_model())["x"].shape == (1, 4)
    assert make_inputs(_mul_model(), input_shapes={"x": (6, 4)})["x"].shape == (6, 4)


def test_make_inputs_is_seeded() -> None:
    first = make_inputs(_mul_model(), seed=3)["x"]
    np.testing.assert_array_equal(first, make_inputs(_mul_model(), seed=3)["x"])
    assert not np.array_equal(first, make_inputs(_mul_model(), seed=4)["x"])


def test_make_inputs_follows_each_input_type() -> None:
    graph = helper.make_graph(
        [],
        "g",
        [
            helper.make_tensor_value_info("h", TensorProto.FLOAT16, [3]),
            helper.make_tensor_value_info("i", TensorProto.INT64, [50]),
            helper.make_tensor_value_info("b", TensorProto.BOOL, [2, 2]),
        ],
        [],
    )
    feeds = make_inputs(helper.make_model(graph))
    assert feeds["h"].dtype == np.float16
    assert feeds["i"].dtype == np.int64 and set(np.unique(feeds["i"])) <= {0, 1, 2, 3}
    assert feeds["b"].dtype == np.bool_


def test_make_inputs_refuses_a_sequence_input_naming_it() -> None:
    sequence = helper.make_tensor_sequence_value_info("seq", TensorProto.FLOAT, [2])
    model = helper.make_model(helper.make_graph([], "g", [sequence], []))
    with pytest.raises(LinlintError, match="input 'seq' is a sequence"):
        make_inputs(model)


def test_make_inputs_refuses_a_string_input_naming_it() -> None:
    text = helper.make_tensor_value_info("text", TensorProto.STRING, [1])
    model = helper.make_model(helper.make_graph([], "g", [text], []))
    with pytest.raises(LinlintError, match="input 'text' has unsupported element type string"):
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
