"""Load an ONNX model without reading its weights (or, on request, with all of them).

``load_model`` parses the protobuf with external data left on disk and turns
every way a file can fail to be a usable model into one ``LinlintError``. It
checks each tensor's external data (``linlint.model.external``) from file
metadata only; ``linlint.model.weights`` then reads one tensor at a time, which
is all that ``fold`` needs.
"""

from __future__ import annotations

from pathlib import Path

import onnx
from google.protobuf.message import DecodeError

from linlint.errors import LinlintError
from linlint.model.external import read_external_bytes, validate_external_data
from linlint.model.find import existing_file
from linlint.model.tensors import is_external, iter_tensors

_DEFAULT_DOMAINS = ("", "ai.onnx")
LFS_POINTER = b"version https://git-lfs.github.com/spec/"
"""How a Git LFS pointer file starts (no protobuf can: ``v`` is an invalid wire type)."""


def load_model(path: str | Path, *, load_weights: bool = False) -> onnx.ModelProto:
    """Parse an ONNX model with its external data left on disk, or raise one ``LinlintError``.

    External data is validated (inside the model's folder, file present, range
    in bounds) but not read, unless ``load_weights`` is true.
    """
    path = existing_file(path, "an ONNX model file")
    shown = str(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise LinlintError(f"cannot read file: {error.strerror or error}", shown) from None
    if not data:
        raise LinlintError("empty file, not an ONNX model", shown)
    if data.startswith(LFS_POINTER):
        raise LinlintError("this is a Git LFS pointer, not the model: run `git lfs pull`", shown)
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
