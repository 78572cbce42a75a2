"""Specifications of linlint.model.load: finding model files, loading safely, reading weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import tiny
from linlint.errors import LinlintError
from linlint.model.find import discover
from linlint.model.load import load_model
from linlint.model.tensors import uses_external_data
from linlint.model.weights import tensor_array


def _matmul_model(weight: np.ndarray | None = None, *, opset: int = 17) -> onnx.ModelProto:
    """y = x @ W with a 16x8 float32 weight (512 bytes of raw data)."""
    if weight is None:
        weight = np.arange(128, dtype=np.float32).reshape(16, 8) / 7
    rows, columns = weight.shape
    return tiny.model(
        f"g (float[1, {rows}] x) => (float[1, {columns}] y) {{ [mm] y = MatMul(x, W) }}",
        opset=opset,
        W=weight,
    )


def _save_external(model: onnx.ModelProto, path: Path, location: str = "w.bin") -> Path:
    onnx.save_model(model, path, save_as_external_data=True, location=location, size_threshold=0)
    return path


def _set_entry(path: Path, key: str, value: str) -> None:
    """Rewrite one external-data field of the first initializer, leaving the data alone."""
    model = onnx.load(path, load_external_data=False)
    for entry in model.graph.initializer[0].external_data:
        if entry.key == key:
            entry.value = value
            break
    else:
        entry = model.graph.initializer[0].external_data.add()
        entry.key, entry.value = key, value
    path.write_bytes(model.SerializeToString())


def _load_error(path: Path, **kwargs) -> str:
    before = path.read_bytes() if path.is_file() else None
    with pytest.raises(LinlintError) as caught:
        load_model(path, **kwargs)
    if before is not None:
        assert path.read_bytes() == before
    message = str(caught.value)
    assert "\n" not in message
    assert str(path) in message
    return message


# discover


def test_discover_takes_a_file_as_given_whatever_its_extension(tmp_path: Path) -> None:
    model = tmp_path / "model.bin"
    model.write_bytes(b"x")
    assert discover([model]) == [model]


def test_discover_searches_a_directory_recursively_in_sorted_order(tmp_path: Path) -> None:
    for name in ("b.onnx", "a.onnx", "sub/c.onnx", "sub/notes.txt"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    assert discover([tmp_path]) == [
        tmp_path / "a.onnx",
        tmp_path / "b.onnx",
        tmp_path / "sub" / "c.onnx",
    ]


def test_discover_lists_a_file_once_when_named_twice(tmp_path: Path) -> None:
    model = tmp_path / "a.onnx"
    model.write_bytes(b"x")
    assert discover([model, tmp_path]) == [model]


def test_discover_rejects_a_path_that_does_not_exist(tmp_path: Path) -> None:
    missing = tmp_path / "nope.onnx"
    with pytest.raises(LinlintError, match="no such file or directory") as caught:
        discover([missing])
    assert str(missing) in str(caught.value)


def test_discover_rejects_a_folder_without_models(tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_text("hi")
    with pytest.raises(LinlintError, match="no .onnx files found") as caught:
        discover([tmp_path])
    assert str(tmp_path) in str(caught.value)


# load_model: files that are not models


def test_load_model_reads_a_valid_model(tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    onnx.save_model(_matmul_model(), path)
    assert load_model(path).graph.node[0].op_type == "MatMul"


def test_load_model_rejects_an_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.onnx"
    path.write_bytes(b"")
    assert "empty file" in _load_error(path)


def test_load_model_rejects_random_bytes(tmp_path: Path) -> None:
    path = tmp_path / "noise.onnx"
    path.write_bytes(np.random.default_rng(0).bytes(1000))
    assert "not an ONNX model" in _load_error(path)


def test_load_model_rejects_a_text_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.onnx"
    path.write_text("this is a text file, not a model\n")
    assert "not an ONNX model" in _load_error(path)


def test_load_model_rejects_a_truncated_model(tmp_path: Path) -> None:
    data = _matmul_model().SerializeToString()
    path = tmp_path / "cut.onnx"
    path.write_bytes(data[: len(data) // 2])
    assert "protobuf parse failed" in _load_error(path)


def test_load_model_rejects_a_model_cut_after_its_graph(tmp_path: Path) -> None:
    model = _matmul_model()
    model.ClearField("opset_import")
    path = tmp_path / "no_opset.onnx"
    path.write_bytes(model.SerializeToString())
    assert "no opset import" in _load_error(path)


def test_load_model_rejects_a_model_without_a_graph(tmp_path: Path) -> None:
    model = _matmul_model()
    model.ClearField("graph")
    path = tmp_path / "no_graph.onnx"
    path.write_bytes(model.SerializeToString())
    assert "no graph" in _load_error(path)


def test_load_model_rejects_an_ir_version_newer_than_onnx_knows(tmp_path: Path) -> None:
    model = _matmul_model()
    model.ir_version = onnx.IR_VERSION + 1
    path = tmp_path / "future_ir.onnx"
    path.write_bytes(model.SerializeToString())
    assert f"IR version {onnx.IR_VERSION + 1} is newer" in _load_error(path)


def test_load_model_rejects_an_opset_newer_than_onnx_knows(tmp_path: Path) -> None:
    newest = onnx.defs.onnx_opset_version()
    path = tmp_path / "future_opset.onnx"
    path.write_bytes(_matmul_model(opset=newest + 1).SerializeToString())
    assert f"opset {newest + 1} is newer" in _load_error(path)


def test_load_model_rejects_a_directory(tmp_path: Path) -> None:
    folder = tmp_path / "model.onnx"
    folder.mkdir()
    assert "is a directory" in _load_error(folder)


def test_load_model_rejects_a_missing_file(tmp_path: Path) -> None:
    assert "no such file" in _load_error(tmp_path / "gone.onnx")


# load_model: external data


def test_load_model_leaves_external_data_on_disk(tmp_path: Path) -> None:
    path = _save_external(_matmul_model(), tmp_path / "m.onnx")
    weight = load_model(path).graph.initializer[0]
    assert weight.data_location == TensorProto.EXTERNAL
    assert not weight.raw_data


def test_load_model_with_weights_reads_external_data(tmp_path: Path) -> None:
    path = _save_external(_matmul_model(), tmp_path / "m.onnx")
    weight = load_model(path, load_weights=True).graph.initializer[0]
    assert weight.data_location == TensorProto.DEFAULT
    np.testing.assert_array_equal(
        numpy_helper.to_array(weight), numpy_helper.to_array(_matmul_model().graph.initializer[0])
    )


def test_load_model_rejects_a_missing_external_data_file(tmp_path: Path) -> None:
    path = _save_external(_matmul_model(), tmp_path / "m.onnx")
    (tmp_path / "w.bin").unlink()
    assert "`w.bin` of tensor `W` is missing" in _load_error(path)


def test_load_model_rejects_an_absolute_external_data_location(tmp_path: Path) -> None:
    path = _save_external(_matmul_model(), tmp_path / "m.onnx")
    _set_entry(path, "location", str(tmp_path / "w.bin"))
    assert "is an absolute path" in _load_error(path)


def test_load_model_rejects_an_external_location_escaping_with_dotdot(tmp_path: Path) -> None:
    inner = tmp_path / "inner"
    inner.mkdir()
    path = _save_external(_matmul_model(), inner / "m.onnx")
    (inner / "w.bin").rename(tmp_path / "w.bin")
    _set_entry(path, "location", "../w.bin")
    assert "escapes the model's folder" in _load_error(path)


def test_load_model_rejects_an_external_location_escaping_through_a_symlink(
    tmp_path: Path,
) -> None:
    inner = tmp_path / "inner"
    inner.mkdir()
    path = _save_external(_matmul_model(), inner / "m.onnx")
    (inner / "w.bin").rename(tmp_path / "w.bin")
    (inner / "w.bin").symlink_to(tmp_path / "w.bin")
    assert "resolves outside the model's folder" in _load_error(path)


def test_load_model_accepts_a_location_with_dotdot_that_stays_inside(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    path = _save_external(_matmul_model(), tmp_path / "m.onnx")
    _set_entry(path, "location", "sub/../w.bin")
    assert load_model(path).graph.initializer[0].data_location == TensorProto.EXTERNAL


def test_load_model_rejects_external_data_past_the_end_of_its_file(tmp_path: Path) -> None:
    path = _save_external(_matmul_model(), tmp_path / "m.onnx")
    _set_entry(path, "offset", "100")
    assert "has only 512 bytes" in _load_error(path)


def test_load_model_rejects_external_data_whose_length_does_not_fit_the_shape(
    tmp_path: Path,
) -> None:
    path = _save_external(_matmul_model(), tmp_path / "m.onnx")
    _set_entry(path, "length", "256")
    assert "need 512" in _load_error(path)


def test_load_model_checks_external_constants_inside_subgraphs(tmp_path: Path) -> None:
    model = tiny.constant_in_branches(tiny.tensor("c", np.ones((16, 16), np.float32)))
    path = tmp_path / "if.onnx"
    onnx.save_model(
        model,
        path,
        save_as_external_data=True,
        location="c.bin",
        convert_attribute=True,
        size_threshold=0,
    )
    assert uses_external_data(load_model(path))
    (tmp_path / "c.bin").unlink()
    assert "`c.bin` of tensor `c` is missing" in _load_error(path)


# tensor_array and uses_external_data


def test_tensor_array_reads_one_external_tensor_by_its_offset(tmp_path: Path) -> None:
    first = tiny.tensor("A", np.full((300,), 7, np.float32))
    second = tiny.tensor("B", np.arange(300, dtype=np.float32))
    model = _matmul_model()
    model.graph.initializer.extend([first, second])
    path = _save_external(model, tmp_path / "m.onnx")
    loaded = load_model(path)
    b = next(t for t in loaded.graph.initializer if t.name == "B")
    assert int(next(e.value for e in b.external_data if e.key == "offset")) > 0
    np.testing.assert_array_equal(tensor_array(b, tmp_path), np.arange(300, dtype=np.float32))


def test_tensor_array_reads_external_bfloat16(tmp_path: Path) -> None:
    values = np.linspace(-2, 2, 64, dtype=np.float32)
    tensor = helper.make_tensor("bf", TensorProto.BFLOAT16, [64], values)
    model = _matmul_model()
    model.graph.initializer.append(tensor)
    path = _save_external(model, tmp_path / "m.onnx")
    bf = next(t for t in load_model(path).graph.initializer if t.name == "bf")
    np.testing.assert_array_equal(
        tensor_array(bf, tmp_path).astype(np.float32),
        numpy_helper.to_array(tensor).astype(np.float32),
    )


def test_tensor_array_reads_an_inline_tensor(tmp_path: Path) -> None:
    weight = _matmul_model().graph.initializer[0]
    np.testing.assert_array_equal(tensor_array(weight, tmp_path), numpy_helper.to_array(weight))


def test_tensor_array_refuses_external_data_outside_the_folder(tmp_path: Path) -> None:
    tensor = tiny.tensor("t", np.ones(4, np.float32))
    tensor.ClearField("raw_data")
    tensor.data_location = TensorProto.EXTERNAL
    entry = tensor.external_data.add()
    entry.key, entry.value = "location", "../../etc/passwd"
    with pytest.raises(LinlintError, match="escapes the model's folder"):
        tensor_array(tensor, tmp_path)


def test_uses_external_data_tells_inline_from_external(tmp_path: Path) -> None:
    path = _save_external(_matmul_model(), tmp_path / "m.onnx")
    assert uses_external_data(load_model(path))
    assert not uses_external_data(_matmul_model())
