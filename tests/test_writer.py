"""Specifications of linlint.writer.save_model: atomic writes, external data, clear failures."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import linlint.writer
from linlint.errors import LinlintError
from linlint.loader import load_model, tensor_array
from linlint.writer import save_model

WEIGHT = np.arange(512, dtype=np.float32).reshape(32, 16) / 9


def _model(weight: np.ndarray = WEIGHT) -> onnx.ModelProto:
    """y = x @ W, W 32x16 float32 (2 KiB, above the external-data threshold) plus a tiny bias."""
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "W"], ["h"], name="mm"),
            helper.make_node("Add", ["h", "b"], ["y"], name="add"),
        ],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 32])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 16])],
        [
            numpy_helper.from_array(weight, "W"),
            numpy_helper.from_array(np.ones(16, np.float32), "b"),
        ],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _weight(model: onnx.ModelProto, base_dir: Path) -> np.ndarray:
    tensor = next(t for t in model.graph.initializer if t.name == "W")
    return tensor_array(tensor, base_dir)


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _external_source(folder: Path) -> Path:
    """A model saved with its weights in ``w.bin`` next to it."""
    folder.mkdir()
    path = folder / "src.onnx"
    onnx.save_model(
        _model(), path, save_as_external_data=True, location="w.bin", size_threshold=1024
    )
    return path


def test_save_model_writes_a_model_that_loads_back(tmp_path: Path) -> None:
    out = tmp_path / "out.onnx"
    save_model(_model(), out)
    assert onnx.load(out) == _model()
    assert _listing(tmp_path) == ["out.onnx"]


def test_save_model_replaces_an_existing_file_leaving_no_temporary_files(tmp_path: Path) -> None:
    out = tmp_path / "out.onnx"
    out.write_bytes(b"old")
    save_model(_model(), out)
    assert onnx.load(out) == _model()
    assert _listing(tmp_path) == ["out.onnx"]


def test_save_model_keeps_the_permissions_of_the_file_it_replaces(tmp_path: Path) -> None:
    out = tmp_path / "out.onnx"
    out.write_bytes(b"old")
    out.chmod(0o640)
    save_model(_model(), out)
    assert out.stat().st_mode & 0o777 == 0o640


def test_save_model_refuses_a_folder_that_does_not_exist(tmp_path: Path) -> None:
    out = tmp_path / "missing" / "out.onnx"
    with pytest.raises(LinlintError, match="does not exist") as caught:
        save_model(_model(), out)
    assert str(out) in str(caught.value)
    assert _listing(tmp_path) == []


def test_save_model_refuses_a_read_only_target_and_leaves_it_unchanged(tmp_path: Path) -> None:
    out = tmp_path / "out.onnx"
    out.write_bytes(b"precious")
    out.chmod(0o444)
    with pytest.raises(LinlintError, match="read-only") as caught:
        save_model(_model(), out)
    assert str(out) in str(caught.value)
    assert out.read_bytes() == b"precious"
    assert _listing(tmp_path) == ["out.onnx"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write to any folder")
def test_save_model_refuses_a_folder_that_is_not_writable(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(LinlintError, match="not writable"):
            save_model(_model(), folder / "out.onnx")
        assert _listing(folder) == []
    finally:
        folder.chmod(0o755)


def test_save_model_refuses_a_target_that_is_a_directory(tmp_path: Path) -> None:
    (tmp_path / "out.onnx").mkdir()
    with pytest.raises(LinlintError, match="is a directory"):
        save_model(_model(), tmp_path / "out.onnx")
    assert _listing(tmp_path) == ["out.onnx"]


def test_save_model_turns_a_disk_error_into_one_error_and_removes_its_temporary_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out.onnx"
    out.write_bytes(b"old")

    def full_disk(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(linlint.writer.os, "fsync", full_disk)
    with pytest.raises(LinlintError, match="No space left on device") as caught:
        save_model(_model(), out, external_data=True)
    assert str(out) in str(caught.value)
    assert out.read_bytes() == b"old"
    assert _listing(tmp_path) == ["out.onnx"]


def test_save_model_with_external_data_writes_a_data_file_next_to_the_output(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out.onnx"
    save_model(_model(), out, external_data=True)
    assert _listing(tmp_path) == ["out.onnx", "out.onnx.data"]
    loaded = load_model(out)
    weight = next(t for t in loaded.graph.initializer if t.name == "W")
    assert {e.key: e.value for e in weight.external_data}["location"] == "out.onnx.data"
    np.testing.assert_array_equal(_weight(loaded, tmp_path), WEIGHT)


def test_save_model_keeps_small_tensors_inline_with_external_data(tmp_path: Path) -> None:
    out = tmp_path / "out.onnx"
    save_model(_model(), out, external_data=True)
    bias = next(
        t for t in onnx.load(out, load_external_data=False).graph.initializer if t.name == "b"
    )
    assert bias.data_location == TensorProto.DEFAULT


def test_save_model_leaves_the_callers_proto_as_it_was(tmp_path: Path) -> None:
    model = _model()
    before = model.SerializeToString()
    save_model(model, tmp_path / "out.onnx", external_data=True)
    assert model.SerializeToString() == before


def test_save_model_copies_external_weights_from_the_source_folder(tmp_path: Path) -> None:
    source = _external_source(tmp_path / "src")
    data_before = (source.parent / "w.bin").read_bytes()
    model = load_model(source)
    metadata_before = model.SerializeToString()
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    save_model(model, out_dir / "folded.onnx", base_dir=source.parent)
    assert _listing(out_dir) == ["folded.onnx", "folded.onnx.data"]
    np.testing.assert_array_equal(_weight(load_model(out_dir / "folded.onnx"), out_dir), WEIGHT)
    assert model.SerializeToString() == metadata_before
    assert (source.parent / "w.bin").read_bytes() == data_before


def test_save_model_in_place_over_a_model_with_external_data(tmp_path: Path) -> None:
    folder = tmp_path / "m"
    folder.mkdir()
    path = folder / "m.onnx"
    save_model(_model(), path, external_data=True)
    save_model(load_model(path), path, base_dir=folder)
    assert _listing(folder) == ["m.onnx", "m.onnx.data"]
    np.testing.assert_array_equal(_weight(load_model(path), folder), WEIGHT)


def test_save_model_inlines_external_weights_when_asked(tmp_path: Path) -> None:
    source = _external_source(tmp_path / "src")
    out = tmp_path / "inline.onnx"
    save_model(load_model(source), out, base_dir=source.parent, external_data=False)
    weight = next(t for t in onnx.load(out).graph.initializer if t.name == "W")
    assert weight.data_location == TensorProto.DEFAULT
    np.testing.assert_array_equal(numpy_helper.to_array(weight), WEIGHT)


def test_save_model_refuses_external_weights_without_a_source_folder(tmp_path: Path) -> None:
    source = _external_source(tmp_path / "src")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    with pytest.raises(LinlintError, match="no source folder"):
        save_model(load_model(source), out_dir / "out.onnx")
    assert _listing(out_dir) == []


def test_save_model_uses_external_data_for_a_model_past_the_protobuf_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(linlint.writer, "PROTOBUF_LIMIT", 1024)
    save_model(_model(), tmp_path / "big.onnx")
    assert _listing(tmp_path) == ["big.onnx", "big.onnx.data"]


def test_save_model_moves_constants_inside_subgraphs_to_the_data_file(tmp_path: Path) -> None:
    value = numpy_helper.from_array(np.arange(512, dtype=np.float32), "c")
    branch = helper.make_graph(
        [helper.make_node("Constant", [], ["c_out"], value=value)],
        "branch",
        [],
        [helper.make_tensor_value_info("c_out", TensorProto.FLOAT, [512])],
    )
    graph = helper.make_graph(
        [helper.make_node("If", ["cond"], ["y"], then_branch=branch, else_branch=branch)],
        "g",
        [helper.make_tensor_value_info("cond", TensorProto.BOOL, [])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [512])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    out = tmp_path / "if.onnx"
    save_model(model, out, external_data=True)
    on_disk = onnx.load(out, load_external_data=False)
    constant = on_disk.graph.node[0].attribute[0].g.node[0].attribute[0].t
    assert constant.data_location == TensorProto.EXTERNAL
    assert load_model(out, load_weights=True) == model
