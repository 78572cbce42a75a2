"""Specifications of model.write.save_model: atomic writes, external data, clear failures."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, numpy_helper

import linlint.model.write
import tiny
from conftest import SAMPLES
from linlint.errors import LinlintError
from linlint.model.cleanup import remove_unreferenced_data
from linlint.model.load import load_model
from linlint.model.weights import tensor_array
from linlint.model.write import save_model

WEIGHT = np.arange(512, dtype=np.float32).reshape(32, 16) / 9


def _model(weight: np.ndarray = WEIGHT) -> onnx.ModelProto:
    """y = x @ W, W 32x16 float32 (2 KiB, above the external-data threshold) plus a tiny bias."""
    return tiny.model(
        """g (float[1, 32] x) => (float[1, 16] y) {
            [mm] h = MatMul(x, W)
            [add] y = Add(h, b)
        }""",
        W=weight,
        b=np.ones(16, np.float32),
    )


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

    monkeypatch.setattr(linlint.model.write.os, "fsync", full_disk)
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


def test_save_model_in_place_writes_fresh_data_and_keeps_the_file_the_proto_reads(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "m"
    folder.mkdir()
    path = folder / "m.onnx"
    save_model(_model(), path, external_data=True)
    save_model(load_model(path), path, base_dir=folder)
    assert _listing(folder) == ["m.onnx", "m.onnx.1.data", "m.onnx.data"]
    assert _locations(path) == {"m.onnx.1.data"}
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
    monkeypatch.setattr(linlint.model.write, "PROTOBUF_LIMIT", 1024)
    save_model(_model(), tmp_path / "big.onnx")
    assert _listing(tmp_path) == ["big.onnx", "big.onnx.data"]


def test_save_model_keeps_a_nodes_own_tensors_inline_as_onnx_save_does(tmp_path: Path) -> None:
    """A Constant's value (here in a subgraph) stays in the .onnx file: onnx.save keeps node
    attributes inline, and tools reading the .onnx alone need them."""
    model = tiny.constant_in_branches(tiny.tensor("c", np.arange(512, dtype=np.float32)))
    out = tmp_path / "if.onnx"
    save_model(model, out, external_data=True)
    on_disk = onnx.load(out, load_external_data=False)
    constant = on_disk.graph.node[0].attribute[0].g.node[0].attribute[0].t
    assert constant.data_location != TensorProto.EXTERNAL
    assert load_model(out, load_weights=True) == model


# --- Data files shared with other models ------------------------------------------------

W_OLD = WEIGHT
W_NEW = (WEIGHT * 2 + 1).astype(np.float32)
W_SRC = (WEIGHT - 3).astype(np.float32)
V = (np.arange(512, dtype=np.float32).reshape(16, 32) / 7).astype(np.float32)

Values = dict[str, np.ndarray]


def _mlp(w: np.ndarray) -> onnx.ModelProto:
    """y = (x @ W) @ V with two 2 KiB weights: a fold changes W, V stays in the data file."""
    return tiny.model(
        """g (float[1, 32] x) => (float[1, 32] y) {
            [mm1] h = MatMul(x, W)
            [mm2] y = MatMul(h, V)
        }""",
        W=w,
        V=V,
    )


def _onnx_save(model: onnx.ModelProto, path: Path, location: str) -> None:
    """Save as onnx itself (and other tools) do, weights in ``location`` next to ``path``."""
    onnx.save_model(model, path, save_as_external_data=True, location=location, size_threshold=1024)


def _refolded(path: Path, weight: np.ndarray = W_NEW) -> onnx.ModelProto:
    """What fold hands to save_model: the model at ``path`` with W replaced, V still on disk."""
    model = load_model(path)
    tensor = next(t for t in model.graph.initializer if t.name == "W")
    tensor.CopyFrom(tiny.tensor("W", weight))
    return model


def _values(path: Path) -> Values:
    """What onnx itself reads from ``path``: checked, external data loaded, every initializer."""
    model = onnx.load(path)
    onnx.checker.check_model(model)
    return {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}


def _assert_values(path: Path, expected: Values) -> None:
    actual = _values(path)
    assert sorted(actual) == sorted(expected), path
    for name, array in expected.items():
        np.testing.assert_array_equal(actual[name], array, err_msg=f"{path}: {name}")


def _locations(path: Path) -> set[str]:
    model = onnx.load(path, load_external_data=False)
    return {
        e.value for t in model.graph.initializer for e in t.external_data if e.key == "location"
    }


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_save_model_in_place_leaves_a_sibling_copy_that_shares_the_data_file_intact(
    tmp_path: Path,
) -> None:
    target, copy = tmp_path / "m.onnx", tmp_path / "copy.onnx"
    _onnx_save(_mlp(W_OLD), target, "m.onnx.data")
    copy.write_bytes(target.read_bytes())
    data_before = (tmp_path / "m.onnx.data").read_bytes()
    save_model(_refolded(target), target, base_dir=tmp_path)
    _assert_values(copy, {"W": W_OLD, "V": V})
    _assert_values(target, {"W": W_NEW, "V": V})
    assert (tmp_path / "m.onnx.data").read_bytes() == data_before
    assert _locations(target) == {"m.onnx.1.data"}


def test_save_model_never_overwrites_the_inputs_weights_stored_under_the_outputs_data_name(
    tmp_path: Path,
) -> None:
    source, out = tmp_path / "model.onnx", tmp_path / "folded.onnx"
    _onnx_save(_mlp(W_OLD), source, "folded.onnx.data")
    data_before = (tmp_path / "folded.onnx.data").read_bytes()
    save_model(_refolded(source), out, base_dir=tmp_path)
    _assert_values(source, {"W": W_OLD, "V": V})
    _assert_values(out, {"W": W_NEW, "V": V})
    assert (tmp_path / "folded.onnx.data").read_bytes() == data_before
    assert _locations(out) == {"folded.onnx.1.data"}


def test_save_model_removes_the_data_file_only_the_previous_target_used(tmp_path: Path) -> None:
    out = tmp_path / "out.onnx"
    save_model(_mlp(W_OLD), out, external_data=True)
    save_model(_mlp(W_NEW), out, external_data=True)
    assert _listing(tmp_path) == ["out.onnx", "out.onnx.1.data"]
    _assert_values(out, {"W": W_NEW, "V": V})


def test_save_model_removes_the_previous_targets_data_file_when_the_new_model_is_inline(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out.onnx"
    _onnx_save(_mlp(W_OLD), out, "weights.bin")
    save_model(_mlp(W_NEW), out, external_data=False)
    assert _listing(tmp_path) == ["out.onnx"]
    _assert_values(out, {"W": W_NEW, "V": V})


def _split_external(path: Path) -> None:
    """The MLP with W in ``w.bin`` and V in ``v.bin``, as some exporters write one file a tensor."""
    model = _mlp(W_OLD)
    for tensor in model.graph.initializer:
        location = f"{tensor.name.lower()}.bin"
        (path.parent / location).write_bytes(tensor.raw_data)
        tensor.ClearField("raw_data")
        tensor.data_location = TensorProto.EXTERNAL
        entry = tensor.external_data.add()
        entry.key, entry.value = "location", location
    onnx.save_model(model, path)


def test_save_model_in_place_removes_the_file_of_a_replaced_weight_and_keeps_the_rest(
    tmp_path: Path,
) -> None:
    target = tmp_path / "m.onnx"
    _split_external(target)
    save_model(_refolded(target), target, base_dir=tmp_path)
    assert _listing(tmp_path) == ["m.onnx", "m.onnx.data", "v.bin"]  # the proto still reads v.bin
    _assert_values(target, {"W": W_NEW, "V": V})


def test_save_model_keeps_the_previous_targets_data_file_when_a_sibling_uses_it(
    tmp_path: Path,
) -> None:
    out, copy = tmp_path / "out.onnx", tmp_path / "copy.onnx"
    save_model(_mlp(W_OLD), out, external_data=True)
    copy.write_bytes(out.read_bytes())
    save_model(_mlp(W_NEW), out, external_data=True)
    assert _listing(tmp_path) == ["copy.onnx", "out.onnx", "out.onnx.1.data", "out.onnx.data"]
    _assert_values(copy, {"W": W_OLD, "V": V})
    _assert_values(out, {"W": W_NEW, "V": V})


def test_save_model_keeps_the_previous_targets_data_file_when_a_sibling_subgraph_uses_it(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out.onnx"
    save_model(_mlp(W_OLD), out, external_data=True)
    weight = next(
        t for t in onnx.load(out, load_external_data=False).graph.initializer if t.name == "W"
    )
    onnx.save_model(tiny.constant_in_branches(weight), tmp_path / "branchy.onnx")
    save_model(_mlp(W_NEW), out, external_data=True)
    assert "out.onnx.data" in _listing(tmp_path)
    loaded = load_model(tmp_path / "branchy.onnx", load_weights=True)
    constant = loaded.graph.node[0].attribute[0].g.node[0].attribute[0].t
    np.testing.assert_array_equal(numpy_helper.to_array(constant), W_OLD)


def test_save_model_keeps_the_previous_targets_data_file_when_a_sibling_cannot_be_read(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out.onnx"
    save_model(_mlp(W_OLD), out, external_data=True)
    (tmp_path / "broken.onnx").write_bytes(b"\xff\xff not a model")
    save_model(_mlp(W_NEW), out, external_data=True)
    assert "out.onnx.data" in _listing(tmp_path)


def test_save_model_keeps_the_previous_targets_data_file_when_it_has_another_hard_link(
    tmp_path: Path,
) -> None:
    out, elsewhere = tmp_path / "out.onnx", tmp_path / "elsewhere"
    elsewhere.mkdir()
    save_model(_mlp(W_OLD), out, external_data=True)
    os.link(tmp_path / "out.onnx.data", elsewhere / "out.onnx.data")
    save_model(_mlp(W_NEW), out, external_data=True)
    assert "out.onnx.data" in _listing(tmp_path)


def test_save_model_in_place_twice_in_a_row_leaves_the_target_one_existing_data_file(
    tmp_path: Path,
) -> None:
    target = tmp_path / "m.onnx"
    save_model(_mlp(W_OLD), target, external_data=True)
    first = _refolded(target, W_NEW)
    save_model(first, target, base_dir=tmp_path)
    save_model(first, target, base_dir=tmp_path)  # the same proto again: its files are kept
    _assert_values(target, {"W": W_NEW, "V": V})
    save_model(_refolded(target, W_SRC), target, base_dir=tmp_path)  # reloaded in between
    _assert_values(target, {"W": W_SRC, "V": V})
    (location,) = _locations(target)
    assert (tmp_path / location).is_file()
    assert not [name for name in _listing(tmp_path) if name.endswith(".tmp")]


def test_remove_unreferenced_data_after_an_in_place_write_drops_the_old_data_file(
    tmp_path: Path,
) -> None:
    target = tmp_path / "m.onnx"
    _onnx_save(_mlp(W_OLD), target, "m.onnx.data")
    model = _refolded(target)
    save_model(model, target, base_dir=tmp_path)
    assert remove_unreferenced_data(model, tmp_path) == [tmp_path / "m.onnx.data"]
    assert _listing(tmp_path) == ["m.onnx", "m.onnx.1.data"]
    _assert_values(target, {"W": W_NEW, "V": V})


def test_remove_unreferenced_data_keeps_a_data_file_a_sibling_uses(tmp_path: Path) -> None:
    target, copy = tmp_path / "m.onnx", tmp_path / "copy.onnx"
    _onnx_save(_mlp(W_OLD), target, "m.onnx.data")
    copy.write_bytes(target.read_bytes())
    model = _refolded(target)
    save_model(model, target, base_dir=tmp_path)
    assert remove_unreferenced_data(model, tmp_path) == []
    _assert_values(copy, {"W": W_OLD, "V": V})


# --- Failing each step of a write ----------------------------------------------------------


class _Faults:
    """Counts the file-system steps of a write; step number ``fail_at`` raises EIO."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, fail_at: int | None) -> None:
        self.steps = 0
        self.fail_at = fail_at
        self.failed: str | None = None
        for name in ("open", "replace", "fsync", "fchmod", "unlink"):
            monkeypatch.setattr(os, name, self._counted(name, getattr(os, name)))
        make_temp = linlint.model.write.temp_file
        monkeypatch.setattr(
            linlint.model.write,
            "temp_file",
            lambda folder, name, temps: _FaultySink(make_temp(folder, name, temps), self),
        )

    def step(self, name: str) -> None:
        self.steps += 1
        if self.steps == self.fail_at:
            self.failed = name
            raise OSError(errno.EIO, "Input/output error")

    def _counted(self, name: str, function: Callable) -> Callable:
        def counted(*args, **kwargs):
            self.step(name)
            return function(*args, **kwargs)

        return counted


class _FaultySink:
    """A temporary file whose writes and flushes are steps that can fail."""

    def __init__(self, file, faults: _Faults) -> None:
        self.file, self.faults = file, faults

    def write(self, data: bytes) -> int:
        self.faults.step("write")
        return self.file.write(data)

    def flush(self) -> None:
        self.faults.step("flush")
        self.file.flush()

    def fileno(self) -> int:
        return self.file.fileno()

    def __enter__(self) -> _FaultySink:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.file.close()


@dataclass
class _Case:
    target: Path
    model: onnx.ModelProto
    base_dir: Path | None
    old: dict[Path, Values]  # every model in the folder and what it holds before the write
    new: Values  # what the target holds after the write


def _in_place_with_a_sibling_copy(folder: Path) -> _Case:
    target, copy = folder / "m.onnx", folder / "copy.onnx"
    _onnx_save(_mlp(W_OLD), target, "m.onnx.data")
    copy.write_bytes(target.read_bytes())
    old = {target: {"W": W_OLD, "V": V}, copy: {"W": W_OLD, "V": V}}
    return _Case(target, _refolded(target), folder, old, {"W": W_NEW, "V": V})


def _over_a_target_with_unshared_data(folder: Path) -> _Case:
    target, source = folder / "out.onnx", folder / "src.onnx"
    save_model(_mlp(W_OLD), target, external_data=True)
    _onnx_save(_mlp(W_SRC), source, "out.onnx.1.data")  # the input holds the next free name
    old = {target: {"W": W_OLD, "V": V}, source: {"W": W_SRC, "V": V}}
    return _Case(target, _refolded(source), folder, old, {"W": W_NEW, "V": V})


def _new_file_named_after_the_inputs_data(folder: Path) -> _Case:
    source = folder / "model.onnx"
    _onnx_save(_mlp(W_OLD), source, "folded.onnx.data")
    old = {source: {"W": W_OLD, "V": V}}
    return _Case(folder / "folded.onnx", _refolded(source), folder, old, {"W": W_NEW, "V": V})


def _write(case: _Case, monkeypatch: pytest.MonkeyPatch, fail_at: int | None):
    with monkeypatch.context() as patch:
        faults = _Faults(patch, fail_at)
        try:
            save_model(case.model, case.target, base_dir=case.base_dir)
        except LinlintError as error:
            return faults, error
    return faults, None


@pytest.mark.parametrize(
    "scenario",
    [
        _in_place_with_a_sibling_copy,
        _over_a_target_with_unshared_data,
        _new_file_named_after_the_inputs_data,
    ],
)
def test_save_model_failing_at_any_step_leaves_every_model_loadable_and_no_temporary_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scenario: Callable[[Path], _Case]
) -> None:
    dry = tmp_path / "dry"
    dry.mkdir()
    faults, error = _write(scenario(dry), monkeypatch, None)
    assert error is None
    total = faults.steps
    failed_kinds = set()
    for fail_at in range(1, total + 1):
        folder = tmp_path / f"fail{fail_at}"
        folder.mkdir()
        case = scenario(folder)
        before = _snapshot(folder)
        faults, error = _write(case, monkeypatch, fail_at)
        assert faults.failed is not None, f"step {fail_at} of {total} was not taken"
        failed_kinds.add(faults.failed)
        where = f"step {fail_at} ({faults.failed})"
        listing = _listing(folder)
        assert not [name for name in listing if name.endswith(".tmp")], where
        if error is not None:
            assert str(case.target) in str(error) and "\n" not in str(error), where
            assert "Input/output error" in str(error), where
            assert _snapshot(folder) == before, where  # nothing changed, nothing left behind
        else:  # a failure after the commit: the write stands, a stale file may stay
            _assert_values(case.target, case.new)
            assert set(listing) <= set(before) | _locations(case.target) | {case.target.name}
        for path, values in case.old.items():
            if path != case.target or error is not None:
                _assert_values(path, values)
    assert {"open", "write", "flush", "fchmod", "fsync", "replace"} <= failed_kinds
    if scenario is _over_a_target_with_unshared_data:
        assert "unlink" in failed_kinds  # removing the previous target's data file


# --- Through the command line ----------------------------------------------------------------


def _run_fold(*args: object) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "linlint", "fold", *map(str, args)], capture_output=True, text=True
    )


def test_fold_in_place_leaves_a_sibling_copy_sharing_its_data_file_verifiable(
    tmp_path: Path,
) -> None:
    target, copy = tmp_path / "model.onnx", tmp_path / "copy.onnx"
    original = onnx.load(SAMPLES / "ll005_conv_bn.onnx")
    onnx.save_model(
        original, target, save_as_external_data=True, location="model.onnx.data", size_threshold=0
    )
    copy.write_bytes(target.read_bytes())
    expected = _values(copy)
    done = _run_fold("--in-place", target)
    assert done.returncode == 0, done.stderr
    assert "BatchNormalization" not in [n.op_type for n in onnx.load(target).graph.node]
    _values(target)
    actual = _values(copy)
    assert sorted(actual) == sorted(expected)
    for name, values in expected.items():
        np.testing.assert_array_equal(actual[name], values)
    assert _run_fold(copy, "--diff").returncode == 1  # --diff: something would change


def test_fold_to_an_output_whose_data_name_holds_the_inputs_weights_keeps_the_input(
    tmp_path: Path,
) -> None:
    source, out = tmp_path / "model.onnx", tmp_path / "folded.onnx"
    original = onnx.load(SAMPLES / "ll005_conv_bn.onnx")
    onnx.save_model(
        original, source, save_as_external_data=True, location="folded.onnx.data", size_threshold=0
    )
    expected = _values(source)
    done = _run_fold(source, "-o", out)
    assert done.returncode == 0, done.stderr
    assert "BatchNormalization" not in [n.op_type for n in onnx.load(out).graph.node]
    _values(out)
    actual = _values(source)
    for name, values in expected.items():
        np.testing.assert_array_equal(actual[name], values)
