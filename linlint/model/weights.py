"""The values of one tensor as a numpy array, reading only that tensor's own bytes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

from linlint.errors import LinlintError
from linlint.model.external import external_span, read_external_bytes
from linlint.model.tensors import is_external, tensor_label

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


def tensor_array(tensor: onnx.TensorProto, base_dir: str | Path) -> np.ndarray:
    """The values of one tensor, reading only its own external bytes if it has any."""
    if not is_external(tensor):
        try:
            return numpy_helper.to_array(tensor)
        except (ValueError, TypeError) as error:
            raise LinlintError(f"cannot read {tensor_label(tensor)}: {error}") from None
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
                f"cannot read external data of {tensor_label(tensor)}: {error}"
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
        raise LinlintError(f"cannot read {tensor_label(tensor)}: {error}") from None
