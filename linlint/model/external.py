"""External data: where a tensor's bytes live, checked before anything is read.

``external_span`` validates one external tensor from file metadata only (a
relative location inside the model's folder, reached neither by ``..`` nor
through a symlink, a file that exists, a byte range inside it that matches the
tensor's size); ``validate_external_data`` does so for a whole model;
``read_external_bytes`` then reads exactly that range.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

import onnx

from linlint.errors import LinlintError
from linlint.model.tensors import expected_nbytes, is_external, iter_tensors, tensor_label
from linlint.wording import quoted


@dataclass(frozen=True)
class ExternalSpan:
    """Where one tensor's bytes live: a file inside the model's folder and a byte range."""

    file: Path
    offset: int
    length: int


def validate_external_data(
    model: onnx.ModelProto, base_dir: str | Path, *, shown: str | None = None
) -> None:
    """Check every external tensor's location and byte range without reading any data."""
    files: dict[str, tuple[Path, int]] = {}
    for tensor in iter_tensors(model):
        if is_external(tensor):
            external_span(tensor, base_dir, shown=shown, files=files)


def normal_location(location: str) -> str:
    """A location as a normalized ``/``-separated relative path (``a\\..\\b`` -> ``b``)."""
    return os.path.normpath(location.replace("\\", "/"))


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
    label = tensor_label(tensor)
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
            f"external data location {quoted(location)} of {label} is an absolute path; "
            "it must be relative to the model's folder",
            shown,
        )
    normal = normal_location(location)
    if normal == ".." or normal.startswith("../"):
        raise LinlintError(
            f"external data location {quoted(location)} of {label} escapes the model's folder",
            shown,
        )
    base = Path(base_dir)
    candidate = base / normal
    try:
        resolved = candidate.resolve()
        root = base.resolve()
    except (OSError, RuntimeError) as error:
        raise LinlintError(
            f"cannot resolve external data location {quoted(location)} of {label}: {error}", shown
        ) from None
    if resolved != root and root not in resolved.parents:
        raise LinlintError(
            f"external data location {quoted(location)} of {label} resolves outside the "
            "model's folder",
            shown,
        )
    if not resolved.is_file():
        what = "is not a file" if resolved.exists() else "is missing"
        raise LinlintError(f"external data file {quoted(location)} of {label} {what}", shown)
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
            f"past the end of {quoted(location)} ({size} bytes)",
            shown,
        )
    if length is None:
        length = size - offset
    if offset + length > size:
        raise LinlintError(
            f"external data of {label} needs bytes {offset}..{offset + length} "
            f"but {quoted(location)} has only {size} bytes",
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
            f"cannot read external data of {tensor_label(tensor)}: {error.strerror or error}",
            shown,
        ) from None
    if len(data) != span.length:
        raise LinlintError(f"external data of {tensor_label(tensor)} is truncated", shown)
    return data
