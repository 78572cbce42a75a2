"""The values of one input array: its numpy dtype, the bytes it may take, and seeded values.

Floats are standard normal in the input's dtype. Integers are often indices, so
one set (the first) draws them small and non-negative (0..3, valid on most
axes); other sets draw them across the dtype's whole range, extremes included
(an index set the original refuses is skipped, like a size). Booleans are fair
coin flips. An input that would need more than ``MAX_INPUT_BYTES`` (declared
sizes like 1x8x10⁹x10⁹) is refused with one line naming it, never left to
numpy. The region sets also draw "large" values (``LARGE_SCALE`` per dtype:
large enough that a bias is negligible beside the weights' products, small
enough that a float16 accumulation does not overflow to inf), all zeros, and a
constant (``CONSTANT_VALUE``).
"""

from __future__ import annotations

import math

import numpy as np
import onnx
from onnx import helper

from linlint.errors import LinlintError
from linlint.wording import quoted

_FLOAT_TYPES = {
    onnx.TensorProto.FLOAT16,
    onnx.TensorProto.FLOAT,
    onnx.TensorProto.DOUBLE,
    onnx.TensorProto.BFLOAT16,
}
_INT_TYPES = {
    onnx.TensorProto.INT8,
    onnx.TensorProto.INT16,
    onnx.TensorProto.INT32,
    onnx.TensorProto.INT64,
    onnx.TensorProto.UINT8,
    onnx.TensorProto.UINT16,
    onnx.TensorProto.UINT32,
    onnx.TensorProto.UINT64,
}

#: The largest input array made (bytes); more is refused with a LinlintError.
MAX_INPUT_BYTES = 1 << 31
#: Scale of the "large" region values, by dtype: products of thousands of terms stay finite.
LARGE_SCALE = {"float16": 32.0, "bfloat16": 1e4, "float32": 1e4, "float64": 1e8}
#: The value of the "constant" region set.
CONSTANT_VALUE = 1.5
_SMALL_INT_HIGH = 4  # small integers are 0..3


def format_shape(shape: tuple[int, ...]) -> str:
    """``1x3x224x224``, or ``(scalar)`` for a shape of rank 0."""
    return "x".join(str(d) for d in shape) if shape else "(scalar)"


def _bfloat16_dtype() -> np.dtype | None:
    try:
        import ml_dtypes
    except ImportError:  # pragma: no cover - ml_dtypes ships with onnx
        return None
    return np.dtype(ml_dtypes.bfloat16)


def input_dtype(value: onnx.ValueInfoProto) -> np.dtype:
    """The numpy dtype of a tensor input, or a LinlintError naming what is unsupported."""
    kind = value.type.WhichOneof("value")
    if kind != "tensor_type":
        what = {
            "sequence_type": "a sequence",
            "map_type": "a map",
            "optional_type": "an optional",
            "sparse_tensor_type": "a sparse tensor",
        }.get(kind or "", "of unknown type")
        raise LinlintError(
            f"input {quoted(value.name)} is {what}; only tensor inputs are supported"
        )
    elem_type = value.type.tensor_type.elem_type
    if elem_type == onnx.TensorProto.BFLOAT16:
        dtype = _bfloat16_dtype()
        if dtype is None:
            raise LinlintError(f"input {quoted(value.name)} is bfloat16, which numpy cannot hold")
        return dtype
    if elem_type in _FLOAT_TYPES or elem_type in _INT_TYPES or elem_type == onnx.TensorProto.BOOL:
        return np.dtype(helper.tensor_dtype_to_np_dtype(elem_type))
    type_name = onnx.TensorProto.DataType.Name(elem_type) if elem_type else "undefined"
    raise LinlintError(
        f"input {quoted(value.name)} has unsupported element type {type_name.lower()}"
    )


def _check_size(name: str, shape: tuple[int, ...], dtype: np.dtype) -> None:
    count = math.prod(shape)
    needed = count * dtype.itemsize
    if needed > MAX_INPUT_BYTES:
        raise LinlintError(
            f"input {quoted(name)} would need {needed:,} bytes "
            f"({format_shape(shape)} {dtype.name}), "
            f"more than the {MAX_INPUT_BYTES:,} linlint allocates; give a smaller shape as "
            f"{quoted(f'--input-shape {name}=DIMxDIM...')}"
        )


def _integers(dtype: np.dtype, shape: tuple[int, ...], rng: np.random.Generator, wide: bool):
    if not wide:
        return rng.integers(0, _SMALL_INT_HIGH, size=shape).astype(dtype)
    info = np.iinfo(dtype)
    array = rng.integers(info.min, info.max, size=shape, dtype=dtype, endpoint=True)
    flat = array.reshape(-1)
    extremes = np.array([info.min, info.max, 0, 1], dtype=dtype)[: flat.size]
    if flat.size:
        # the extremes at random places, so that an op that meets them does
        flat[rng.choice(flat.size, size=extremes.size, replace=False)] = extremes
    return array


def input_array(
    value: onnx.ValueInfoProto,
    shape: tuple[int, ...],
    rng: np.random.Generator,
    kind: str,
) -> np.ndarray:
    """One input array. ``kind``: normal, wide (integers over the dtype's range), large, zeros,
    constant."""
    dtype = input_dtype(value)
    _check_size(value.name, shape, dtype)
    if dtype == np.bool_:
        if kind in ("zeros", "constant"):
            return np.full(shape, kind == "constant", dtype=np.bool_)
        return np.asarray(rng.random(shape) < 0.5)
    if dtype.kind in "iu":
        if kind == "zeros":
            return np.zeros(shape, dtype)
        if kind == "constant":
            return np.ones(shape, dtype)
        return _integers(dtype, shape, rng, wide=kind in ("wide", "large"))
    if kind == "zeros":
        return np.zeros(shape, dtype)
    if kind == "constant":
        return np.full(shape, CONSTANT_VALUE, dtype=dtype)
    values = rng.standard_normal(shape)
    if kind == "large":
        values = values * LARGE_SCALE.get(dtype.name, 1.0)
    return values.astype(dtype)
