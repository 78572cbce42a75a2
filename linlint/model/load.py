"""Find and load ONNX models without reading their weights, and read weights one tensor at a time.

``load_model`` parses the protobuf with external data left on disk and turns
every way a file can fail to be a usable model into one ``LinlintError``. It
checks each tensor's external data (location inside the model's folder, file
present, bytes in range) from file metadata only; ``tensor_array`` then reads
the bytes of exactly one tensor, which is all that ``fold`` needs.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

import numpy as np
import onnx
from google.protobuf.message import DecodeError
from onnx import helper, numpy_helper

from linlint.errors import LinlintError

_DEFAULT_DOMAINS = ("", "ai.onnx")

# Element types whose raw bytes pack several values per byte: bits per element.
_PACKED_BITS = {
    onnx.TensorProto.INT4: 4,
    onnx.TensorProto.UINT4: 4,
    onnx.TensorProto.FLOAT4E2M1: 4,
    onnx.TensorProto.INT2: 2,
    onnx.TensorProto.UINT2: 2,
    onnx.TensorProto.FLOAT6E2M3: 6,
    onnx.TensorProto.FLOAT6E3M2: 6,
}

# Element types numpy reads directly from little-endian bytes.
_PLAIN_DTYPES = {
    onnx.TensorProto.FLOAT: "<f4",
    onnx.TensorProto.DOUBLE: "<f8",
    onnx.TensorProto.FLOAT16: "<f2",
    onnx.TensorProto.INT8: "i1",
    onnx.TensorProto.INT16: "<i2",
    onnx.TensorProto.INT32: "<i4",
    onnx.TensorProto.INT64: "<i8",
    onnx.TensorProto.UINT8: "u1",
    onnx.TensorProto.UINT16: "<u2",
    onnx.TensorProto.UINT32: "<u4",
    onnx.TensorProto.UINT64: "<u8",
    onnx.TensorProto.BOOL: "?",
    onnx.TensorProto.COMPLEX64: "<c8",
    onnx.TensorProto.COMPLEX128: "<c16",
}


@dataclass(frozen=True)
class ExternalSpan:
    """Where one tensor's bytes live: a file inside the model's folder and a byte range."""

    file: Path
    offset: int
    length: int


def discover(paths: Sequence[str | Path]) -> list[Path]:
    """Expand command-line paths into model files.

    A file is taken as given, whatever its extension; a directory is searched
    recursively for ``*.onnx`` files, in sorted order. Each file appears once.
    """
    found: list[Path] = []
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            try:
                models = sorted(p for p in path.rglob("*.onnx") if p.is_file())
            except OSError as error:
                raise LinlintError(f"cannot search folder: {error}", str(path)) from None
            if not models:
                raise LinlintError("no .onnx files found", str(path))
        elif path.exists():
            models = [path]
        else:
            raise LinlintError("no such file or directory", str(path))
        for model in models:
            if model not in seen:
                seen.add(model)
                found.append(model)
    return found


def load_model(path: str | Path, *, load_weights: bool = False) -> onnx.ModelProto:
    """Parse an ONNX model with its external data left on disk, or raise one ``LinlintError``.

    External data is validated (inside the model's folder, file present, range
    in bounds) but not read, unless ``load_weights`` is true.
    """
    path = Path(path)
    shown = str(path)
    if path.is_dir():
        raise LinlintError("is a directory, not an ONNX model file", shown)
    if not path.exists():
        raise LinlintError("no such file or directory", shown)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise LinlintError(f"cannot read file: {error.strerror or error}", shown) from None
    if not data:
        raise LinlintError("empty file, not an ONNX model", shown)
    model = onnx.ModelProto()
    try:
        model.ParseFromString(data)
    except (DecodeError, ValueError, RuntimeError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise LinlintError(f"not an ONNX model (protobuf parse failed: {reason})", shown) from None
    del data
    _check_header(model, shown)
    validate_external_data(model, path.parent, shown=shown)
    if load_weights:
        load_external_data(model, path.parent, shown=shown)
    return model


def load_external_data(
    model: onnx.ModelProto, base_dir: str | Path, *, shown: str | None = None
) -> None:
    """Read every external tensor's bytes into the proto (``raw_data``), in place.

    Like onnx's ``load_external_data_for_model``, but it reads exactly the
    validated byte range and also covers sparse and nested tensors.
    """
    for tensor in iter_tensors(model):
        if is_external(tensor):
            data = read_external_bytes(tensor, base_dir, shown=shown)
            tensor.raw_data = data
            tensor.ClearField("data_location")
            del tensor.external_data[:]


def _check_header(model: onnx.ModelProto, shown: str) -> None:
    """Reject protobufs that parsed but are not models this onnx can read."""
    if not model.HasField("graph"):
        raise LinlintError("not an ONNX model (no graph; truncated or another file type)", shown)
    if model.ir_version <= 0:
        raise LinlintError("not an ONNX model (no IR version)", shown)
    if model.ir_version > onnx.IR_VERSION:
        raise LinlintError(
            f"IR version {model.ir_version} is newer than the installed onnx "
            f"{onnx.__version__} supports (IR version {onnx.IR_VERSION})",
            shown,
        )
    if not model.opset_import:
        raise LinlintError("not a valid ONNX model (no opset import; truncated?)", shown)
    newest = onnx.defs.onnx_opset_version()
    for opset in model.opset_import:
        if opset.domain in _DEFAULT_DOMAINS and opset.version > newest:
            raise LinlintError(
                f"opset {opset.version} is newer than the installed onnx "
                f"{onnx.__version__} supports (opset {newest})",
                shown,
            )


def iter_tensors(model: onnx.ModelProto) -> Iterator[onnx.TensorProto]:
    """Every TensorProto stored in the model: initializers, attribute tensors, subgraphs.

    Covers sparse initializers (values and indices), node attributes (``t``,
    ``tensors``, sparse tensors) in the main graph, every nested subgraph,
    local functions and training-info graphs.
    """
    yield from _graph_tensors(model.graph)
    for function in model.functions:
        yield from _node_tensors(function.node)
    for info in model.training_info:
        yield from _graph_tensors(info.initialization)
        yield from _graph_tensors(info.algorithm)


def _graph_tensors(graph: onnx.GraphProto) -> Iterator[onnx.TensorProto]:
    yield from graph.initializer
    for sparse in graph.sparse_initializer:
        yield sparse.values
        yield sparse.indices
    yield from _node_tensors(graph.node)


def _node_tensors(nodes: Sequence[onnx.NodeProto]) -> Iterator[onnx.TensorProto]:
    kinds = onnx.AttributeProto
    for node in nodes:
        for attribute in node.attribute:
            kind = attribute.type
            if kind in _PLAIN_KINDS:
                continue
            if kind == kinds.TENSOR:
                yield attribute.t
            elif kind == kinds.TENSORS:
                yield from attribute.tensors
            elif kind == kinds.SPARSE_TENSOR:
                yield attribute.sparse_tensor.values
                yield attribute.sparse_tensor.indices
            elif kind == kinds.SPARSE_TENSORS:
                for sparse in attribute.sparse_tensors:
                    yield sparse.values
                    yield sparse.indices
            elif kind == kinds.GRAPH:
                yield from _graph_tensors(attribute.g)
            elif kind == kinds.GRAPHS:
                for graph in attribute.graphs:
                    yield from _graph_tensors(graph)
            else:  # no declared type (very old exporters): look at every field
                if attribute.HasField("t"):
                    yield attribute.t
                yield from attribute.tensors
                if attribute.HasField("sparse_tensor"):
                    yield attribute.sparse_tensor.values
                    yield attribute.sparse_tensor.indices
                for sparse in attribute.sparse_tensors:
                    yield sparse.values
                    yield sparse.indices
                if attribute.HasField("g"):
                    yield from _graph_tensors(attribute.g)
                for graph in attribute.graphs:
                    yield from _graph_tensors(graph)


_PLAIN_KINDS = frozenset(
    {
        onnx.AttributeProto.FLOAT,
        onnx.AttributeProto.INT,
        onnx.AttributeProto.STRING,
        onnx.AttributeProto.FLOATS,
        onnx.AttributeProto.INTS,
        onnx.AttributeProto.STRINGS,
    }
)


def is_external(tensor: onnx.TensorProto) -> bool:
    """True when the tensor's values live in a file next to the model."""
    return tensor.data_location == onnx.TensorProto.EXTERNAL


def uses_external_data(model: onnx.ModelProto) -> bool:
    """True when any tensor of the model keeps its values in an external file."""
    return any(is_external(tensor) for tensor in iter_tensors(model))


def validate_external_data(
    model: onnx.ModelProto, base_dir: str | Path, *, shown: str | None = None
) -> None:
    """Check every external tensor's location and byte range without reading any data."""
    files: dict[str, tuple[Path, int]] = {}
    for tensor in iter_tensors(model):
        if is_external(tensor):
            external_span(tensor, base_dir, shown=shown, files=files)


@functools.lru_cache(maxsize=64)
def _itemsize(data_type: int) -> int | None:
    try:
        return helper.tensor_dtype_to_np_dtype(data_type).itemsize
    except (KeyError, ValueError, TypeError):
        return None


def expected_nbytes(tensor: onnx.TensorProto) -> int | None:
    """Bytes the tensor's raw data must have, or None for variable-size types (strings)."""
    count = math.prod(int(d) for d in tensor.dims)
    bits = _PACKED_BITS.get(tensor.data_type)
    if bits is not None:
        return (count * bits + 7) // 8
    if tensor.data_type in (onnx.TensorProto.STRING, onnx.TensorProto.UNDEFINED):
        return None
    itemsize = _itemsize(tensor.data_type)
    return None if itemsize is None else count * itemsize


def _tensor_label(tensor: onnx.TensorProto) -> str:
    return f"tensor '{tensor.name}'" if tensor.name else "an unnamed tensor"


def _is_absolute(location: str) -> bool:
    return (
        PurePosixPath(location).is_absolute()
        or PureWindowsPath(location).is_absolute()
        or bool(PureWindowsPath(location).drive)
        or location.startswith(("\\", "/"))
    )


def external_span(
    tensor: onnx.TensorProto,
    base_dir: str | Path,
    *,
    shown: str | None = None,
    files: dict[str, tuple[Path, int]] | None = None,
) -> ExternalSpan:
    """Validate one external tensor and return where its bytes are.

    The location must be relative, must not leave ``base_dir`` (neither by
    ``..`` nor through a symlink), the file must exist, and the byte range
    (offset, length) must lie inside it and match the tensor's size.
    """
    label = _tensor_label(tensor)
    entries = {entry.key: entry.value for entry in tensor.external_data}
    location = entries.get("location", "")
    if not location:
        raise LinlintError(f"external data of {label} has no location", shown)
    if files is not None and location in files:
        resolved, size = files[location]
        return _span_in_file(tensor, entries, location, label, resolved, size, shown)
    resolved, size = _resolve_location(location, base_dir, label, shown)
    if files is not None:
        files[location] = (resolved, size)
    return _span_in_file(tensor, entries, location, label, resolved, size, shown)


def _resolve_location(
    location: str, base_dir: str | Path, label: str, shown: str | None
) -> tuple[Path, int]:
    """The validated file a location names, and its size."""
    if "\0" in location:
        raise LinlintError(f"external data location of {label} is not a valid path", shown)
    if _is_absolute(location):
        raise LinlintError(
            f"external data location '{location}' of {label} is an absolute path; "
            "it must be relative to the model's folder",
            shown,
        )
    normal = os.path.normpath(location.replace("\\", "/"))
    if normal == ".." or normal.startswith("../"):
        raise LinlintError(
            f"external data location '{location}' of {label} escapes the model's folder", shown
        )
    base = Path(base_dir)
    candidate = base / normal
    try:
        resolved = candidate.resolve()
        root = base.resolve()
    except (OSError, RuntimeError) as error:
        raise LinlintError(
            f"cannot resolve external data location '{location}' of {label}: {error}", shown
        ) from None
    if resolved != root and root not in resolved.parents:
        raise LinlintError(
            f"external data location '{location}' of {label} resolves outside the model's folder",
            shown,
        )
    if not resolved.is_file():
        what = "is not a file" if resolved.exists() else "is missing"
        raise LinlintError(f"external data file '{location}' of {label} {what}", shown)
    return resolved, resolved.stat().st_size


def _span_in_file(
    tensor: onnx.TensorProto,
    entries: dict[str, str],
    location: str,
    label: str,
    resolved: Path,
    size: int,
    shown: str | None,
) -> ExternalSpan:
    try:
        offset = int(entries.get("offset", "0") or "0")
        length_text = entries.get("length")
        length = int(length_text) if length_text not in (None, "") else None
    except ValueError:
        raise LinlintError(
            f"external data of {label} has a non-integer offset or length", shown
        ) from None
    if offset < 0 or (length is not None and length < 0):
        raise LinlintError(f"external data of {label} has a negative offset or length", shown)
    if offset > size:
        raise LinlintError(
            f"external data of {label} starts at byte {offset}, "
            f"past the end of '{location}' ({size} bytes)",
            shown,
        )
    if length is None:
        length = size - offset
    if offset + length > size:
        raise LinlintError(
            f"external data of {label} needs bytes {offset}..{offset + length} "
            f"but '{location}' has only {size} bytes",
            shown,
        )
    expected = expected_nbytes(tensor)
    if expected is not None and length != expected:
        raise LinlintError(
            f"external data of {label} is {length} bytes, but its shape and type need {expected}",
            shown,
        )
    return ExternalSpan(resolved, offset, length)


def read_external_bytes(
    tensor: onnx.TensorProto, base_dir: str | Path, *, shown: str | None = None
) -> bytes:
    """The raw bytes of one external tensor, read with a seek (validated first)."""
    span = external_span(tensor, base_dir, shown=shown)
    try:
        with span.file.open("rb") as handle:
            handle.seek(span.offset)
            data = handle.read(span.length)
    except OSError as error:
        raise LinlintError(
            f"cannot read external data of {_tensor_label(tensor)}: {error.strerror or error}",
            shown,
        ) from None
    if len(data) != span.length:
        raise LinlintError(f"external data of {_tensor_label(tensor)} is truncated", shown)
    return data


def tensor_array(tensor: onnx.TensorProto, base_dir: str | Path) -> np.ndarray:
    """The values of one tensor, reading only its own external bytes if it has any."""
    if not is_external(tensor):
        try:
            return numpy_helper.to_array(tensor)
        except (ValueError, TypeError) as error:
            raise LinlintError(f"cannot read {_tensor_label(tensor)}: {error}") from None
    plain = _PLAIN_DTYPES.get(tensor.data_type)
    if plain is not None:
        span = external_span(tensor, base_dir)
        dtype = np.dtype(plain)
        try:
            array = np.fromfile(
                span.file, dtype=dtype, count=span.length // dtype.itemsize, offset=span.offset
            )
        except OSError as error:
            raise LinlintError(
                f"cannot read external data of {_tensor_label(tensor)}: {error}"
            ) from None
        return array.astype(dtype.newbyteorder("="), copy=False).reshape(tuple(tensor.dims))
    inline = onnx.TensorProto()
    inline.CopyFrom(tensor)
    del inline.external_data[:]
    inline.data_location = onnx.TensorProto.DEFAULT
    inline.raw_data = read_external_bytes(tensor, base_dir)
    try:
        return numpy_helper.to_array(inline)
    except (ValueError, TypeError) as error:
        raise LinlintError(f"cannot read {_tensor_label(tensor)}: {error}") from None
