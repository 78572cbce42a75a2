"""Write a model atomically: temporary files in the target folder, then ``os.replace``.

With external data, weights go to ``<out name>.data`` next to the output.
Tensors that still point into the source model's folder are streamed from
there chunk by chunk, so no weight is held in memory twice. The caller's
proto is only read: what gets serialized is a copy without the weight bytes.
On any failure the temporary files are removed and a ``LinlintError`` says
why; the target, if it existed, is left as it was.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import onnx
from google.protobuf.message import EncodeError, Message

from linlint.errors import LinlintError
from linlint.loader import external_span, is_external, iter_tensors, read_external_bytes

PROTOBUF_LIMIT = 2**31 - 1
"""Largest serialized protobuf: a model at least this big must keep its weights outside."""

_EXTERNAL_THRESHOLD = 1024  # in-memory tensors smaller than this stay in the .onnx file
_CHUNK = 16 * 2**20
_BIG_TENSOR = 2**20
_BIG_ALIGN = 2**16  # lets onnxruntime memory-map large weights on every platform
_SMALL_ALIGN = 64


def data_file_name(out_path: str | Path) -> str:
    """The name of the external data file written next to ``out_path``."""
    return Path(out_path).name + ".data"


def serialized_size(model: onnx.ModelProto) -> int:
    """Bytes the model would take serialized; past the protobuf limit if protobuf cannot tell."""
    try:
        return model.ByteSize()
    except (EncodeError, ValueError, RuntimeError, OverflowError):  # upb: EncodeError past 2 GB
        return PROTOBUF_LIMIT + 1


# Message types that can hold a TensorProto somewhere below them: walked field by field.
# Everything else (value infos, type protos, opset ids, ...) is copied whole.
_WALKED = {
    "onnx.ModelProto",
    "onnx.GraphProto",
    "onnx.NodeProto",
    "onnx.AttributeProto",
    "onnx.FunctionProto",
    "onnx.TrainingInfoProto",
    "onnx.SparseTensorProto",
}
_TENSOR = "onnx.TensorProto"

TensorHandler = Callable[[onnx.TensorProto, onnx.TensorProto], None]


def _holds_tensors(node: onnx.NodeProto) -> bool:
    return any(
        a.HasField("t")
        or a.HasField("g")
        or a.HasField("sparse_tensor")
        or len(a.tensors)
        or len(a.graphs)
        or len(a.sparse_tensors)
        for a in node.attribute
    )


def _skeleton_copy(source: Message, target: Message, on_tensor: TensorHandler) -> None:
    """Copy ``source`` into ``target`` except tensors' ``raw_data``, which ``on_tensor`` handles.

    The caller's proto is only read: with upb, clearing and restoring a big
    field would leave the old bytes in the message's arena, doubling its memory.
    """
    kind = source.DESCRIPTOR.full_name
    if kind != _TENSOR and (
        kind not in _WALKED or (kind == "onnx.NodeProto" and not _holds_tensors(source))
    ):
        target.CopyFrom(source)
        return
    for descriptor, value in source.ListFields():
        if kind == _TENSOR and descriptor.name == "raw_data":
            continue
        if descriptor.message_type is None:
            if descriptor.is_repeated:
                getattr(target, descriptor.name).extend(value)
            else:
                setattr(target, descriptor.name, value)
        elif descriptor.is_repeated:
            container = getattr(target, descriptor.name)
            for item in value:
                _skeleton_copy(item, container.add(), on_tensor)
        else:
            _skeleton_copy(value, getattr(target, descriptor.name), on_tensor)
    if kind == _TENSOR:
        on_tensor(source, target)


def _is_read_only(path: Path) -> bool:
    """No write permission bit set, or no write access: even root leaves such a file alone."""
    mode = path.stat().st_mode
    return not (mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)) or not os.access(path, os.W_OK)


def _check_target(out_path: Path, data_path: Path | None, shown: str) -> None:
    folder = out_path.parent
    if not folder.exists():
        raise LinlintError(f"cannot write: folder '{folder}' does not exist", shown)
    if not folder.is_dir():
        raise LinlintError(f"cannot write: '{folder}' is not a folder", shown)
    if not os.access(folder, os.W_OK | os.X_OK) or _is_read_only(folder):
        raise LinlintError(f"cannot write: folder '{folder}' is not writable", shown)
    for target in (out_path, data_path):
        if target is None or not target.exists():
            continue
        if target.is_dir():
            raise LinlintError(f"cannot write: '{target}' is a directory", shown)
        if _is_read_only(target):
            raise LinlintError(f"cannot write: '{target}' is read-only", shown)


def _new_file_mode(target: Path) -> int:
    if target.exists():
        return stat.S_IMODE(target.stat().st_mode)
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def _temp_file(folder: Path, name: str, temps: list[Path]) -> BinaryIO:
    fd, temp_name = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
    temps.append(Path(temp_name))
    return os.fdopen(fd, "wb")


def _copy_range(source: Path, offset: int, length: int, sink: BinaryIO) -> None:
    with source.open("rb") as handle:
        handle.seek(offset)
        remaining = length
        while remaining:
            chunk = handle.read(min(_CHUNK, remaining))
            if not chunk:
                raise OSError(f"'{source}' ended early")
            sink.write(chunk)
            remaining -= len(chunk)


def _no_source(tensor: onnx.TensorProto, shown: str) -> LinlintError:
    return LinlintError(
        f"tensor '{tensor.name}' keeps its data in an external file, "
        "but no source folder was given to read it from",
        shown,
    )


@dataclass
class _Externalizer:
    """Tensor handler: weights go to ``sink`` (the data file), small tensors stay inline."""

    sink: BinaryIO
    data_name: str
    base_dir: Path | None
    shown: str
    offset: int = 0
    moved: int = 0

    def __call__(self, source: onnx.TensorProto, target: onnx.TensorProto) -> None:
        if is_external(source):
            if self.base_dir is None:
                raise _no_source(source, self.shown)
            span = external_span(source, self.base_dir, shown=self.shown)
            self._pad(span.length)
            _copy_range(span.file, span.offset, span.length, self.sink)
            self._point(target, span.length)
        elif source.HasField("raw_data"):
            raw = source.raw_data
            if len(raw) < _EXTERNAL_THRESHOLD:
                target.raw_data = raw
                return
            self._pad(len(raw))
            self.sink.write(raw)
            self._point(target, len(raw))

    def _pad(self, length: int) -> None:
        align = _BIG_ALIGN if length >= _BIG_TENSOR else _SMALL_ALIGN
        padding = -self.offset % align
        if padding:
            self.sink.write(b"\0" * padding)
            self.offset += padding

    def _point(self, target: onnx.TensorProto, length: int) -> None:
        del target.external_data[:]
        for key, value in (
            ("location", self.data_name),
            ("offset", str(self.offset)),
            ("length", str(length)),
        ):
            entry = target.external_data.add()
            entry.key, entry.value = key, value
        target.data_location = onnx.TensorProto.EXTERNAL
        self.offset += length
        self.moved += 1


@dataclass
class _Inliner:
    """Tensor handler: every tensor's bytes go into the proto, external ones read from disk."""

    base_dir: Path | None
    shown: str

    def __call__(self, source: onnx.TensorProto, target: onnx.TensorProto) -> None:
        if is_external(source):
            if self.base_dir is None:
                raise _no_source(source, self.shown)
            target.raw_data = read_external_bytes(source, self.base_dir, shown=self.shown)
            del target.external_data[:]
            target.ClearField("data_location")
        elif source.HasField("raw_data"):
            target.raw_data = source.raw_data


def _skeleton(model: onnx.ModelProto, on_tensor: TensorHandler) -> onnx.ModelProto:
    copy = onnx.ModelProto()
    _skeleton_copy(model, copy, on_tensor)
    return copy


def _serialize(model: onnx.ModelProto, shown: str) -> bytes:
    if serialized_size(model) > PROTOBUF_LIMIT:
        raise LinlintError(
            "cannot write: the model is larger than 2 GB; save it with external data", shown
        )
    try:
        return model.SerializeToString()
    except (ValueError, EncodeError, RuntimeError) as error:
        raise LinlintError(f"cannot serialize the model: {error}", shown) from None


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def save_model(
    model: onnx.ModelProto,
    out_path: str | Path,
    *,
    base_dir: str | Path | None = None,
    external_data: bool | None = None,
) -> None:
    """Write ``model`` to ``out_path`` atomically, with its weights outside if needed.

    ``base_dir`` is the folder that tensors still marked as external are read
    from (the source model's folder). ``external_data=None`` writes external
    data when the model already uses it or would pass the 2 GB protobuf limit.
    """
    out_path = Path(out_path)
    shown = str(out_path)
    if out_path.is_symlink():
        out_path = out_path.resolve()
    source = Path(base_dir) if base_dir is not None else None
    if external_data is None:
        external_data = any(is_external(t) for t in iter_tensors(model)) or (
            serialized_size(model) > PROTOBUF_LIMIT
        )
    folder = out_path.parent
    data_name = data_file_name(out_path)
    data_path = folder / data_name if external_data else None
    _check_target(out_path, data_path, shown)

    temps: list[Path] = []
    try:
        data_temp: Path | None = None
        if data_path is not None:
            mode = _new_file_mode(data_path)
            with _temp_file(folder, data_name, temps) as sink:
                handler = _Externalizer(sink, data_name, source, shown)
                payload = _serialize(_skeleton(model, handler), shown)
                sink.flush()
                os.fchmod(sink.fileno(), mode)
                os.fsync(sink.fileno())
            if handler.moved:
                data_temp = temps[-1]
            else:
                temps.pop().unlink()
        elif any(is_external(t) for t in iter_tensors(model)):
            payload = _serialize(_skeleton(model, _Inliner(source, shown)), shown)
        else:
            payload = _serialize(model, shown)
        mode = _new_file_mode(out_path)
        with _temp_file(folder, out_path.name, temps) as sink:
            sink.write(payload)
            sink.flush()
            os.fchmod(sink.fileno(), mode)
            os.fsync(sink.fileno())
        del payload
        if data_temp is not None and data_path is not None:
            os.replace(data_temp, data_path)
        os.replace(temps[-1], out_path)
        temps.clear()
        _fsync_folder(folder)
    except OSError as error:
        raise LinlintError(f"cannot write: {error.strerror or error}", shown) from None
    finally:
        for temp in temps:
            try:
                temp.unlink()
            except OSError:
                pass
