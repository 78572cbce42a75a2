"""A model copied without its weight bytes: each tensor's bytes go to a handler.

``skeleton(model, handler)`` copies the model field by field (the caller's proto
is only read) and hands every tensor to ``handler``: an ``Externalizer`` appends
the bytes to the data file being written (aligned, small tensors left inline) and
points the copy there; an ``Inliner`` puts every tensor's bytes back into the
proto, reading external ones from the source folder. A node's own tensors (a
Constant's value) and sparse tensors always stay inline, as ``onnx.save`` keeps
them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import onnx
from google.protobuf.message import Message

from linlint.errors import LinlintError
from linlint.model.external import external_span, read_external_bytes
from linlint.model.tensors import is_external
from linlint.wording import quoted

_EXTERNAL_THRESHOLD = 1024  # in-memory tensors smaller than this stay in the .onnx file
_CHUNK = 16 * 2**20
_BIG_TENSOR = 2**20
_BIG_ALIGN = 2**16  # lets onnxruntime memory-map large weights on every platform
_SMALL_ALIGN = 64

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
    if kind == "onnx.SparseTensorProto":
        on_tensor = _inline(on_tensor)  # onnx.load reads no external data of sparse tensors
    for descriptor, value in source.ListFields():
        if kind == _TENSOR and descriptor.name == "raw_data":
            continue
        if descriptor.message_type is None:
            if descriptor.is_repeated:
                getattr(target, descriptor.name).extend(value)
            else:
                setattr(target, descriptor.name, value)
        else:
            handler = on_tensor
            if kind == "onnx.AttributeProto" and descriptor.name in _INLINE_ATTRIBUTE_FIELDS:
                handler = _inline(on_tensor)  # as onnx.save: a node's own tensors stay inline
            if descriptor.is_repeated:
                container = getattr(target, descriptor.name)
                for item in value:
                    _skeleton_copy(item, container.add(), handler)
            else:
                _skeleton_copy(value, getattr(target, descriptor.name), handler)
    if kind == _TENSOR:
        on_tensor(source, target)


#: Attribute fields holding a node's own tensors (a Constant's value): never moved out.
_INLINE_ATTRIBUTE_FIELDS = frozenset({"t", "tensors", "sparse_tensor", "sparse_tensors"})


def _inline(on_tensor: TensorHandler) -> TensorHandler:
    """The handler for tensors that must stay in the .onnx file."""
    if isinstance(on_tensor, Externalizer):
        return Inliner(on_tensor.base_dir, on_tensor.shown)
    return on_tensor


def _copy_range(source: Path, offset: int, length: int, sink: BinaryIO) -> None:
    with source.open("rb") as handle:
        handle.seek(offset)
        remaining = length
        while remaining:
            chunk = handle.read(min(_CHUNK, remaining))
            if not chunk:
                raise OSError(f"{source} ended early")
            sink.write(chunk)
            remaining -= len(chunk)


def _no_source(tensor: onnx.TensorProto, shown: str) -> LinlintError:
    return LinlintError(
        f"tensor {quoted(tensor.name)} keeps its data in an external file, "
        "but no source folder was given to read it from",
        shown,
    )


@dataclass
class Externalizer:
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
class Inliner:
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


def skeleton(model: onnx.ModelProto, on_tensor: TensorHandler) -> onnx.ModelProto:
    copy = onnx.ModelProto()
    _skeleton_copy(model, copy, on_tensor)
    return copy
