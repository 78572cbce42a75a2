"""Inputs to run a model on: seeded random tensors from its input types, or the user's ``.npz``.

Symbolic or unknown dimensions take the user's ``NAME=1x3x224x224`` shape
(whole shape, by input name) or 1. Floats are standard normal in the input's
dtype, integers small and non-negative (0..3) so they are valid as indices
into most axes, booleans fair coin flips.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import onnx
from onnx import helper

from linlint.errors import LinlintError

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
_SHAPE_SYNTAX = re.compile(r"^\s*(?P<name>.+?)\s*=\s*(?P<dims>\d+(?:\s*[xX]\s*\d+)*)\s*$")


def parse_input_shape(text: str) -> tuple[str, tuple[int, ...]]:
    """Parse ``NAME=1x3x224x224`` into ``("NAME", (1, 3, 224, 224))``."""
    match = _SHAPE_SYNTAX.match(text)
    if match is None:
        raise LinlintError(
            f"bad input shape '{text}': expected NAME=DIMxDIM..., e.g. input=1x3x224x224"
        )
    dims = tuple(int(d) for d in re.split(r"\s*[xX]\s*", match["dims"].strip()))
    return match["name"], dims


def graph_inputs(model: onnx.ModelProto) -> list[onnx.ValueInfoProto]:
    """The inputs a caller must feed: graph inputs that are not initializers."""
    graph = model.graph
    constant = {t.name for t in graph.initializer}
    constant.update(s.values.name for s in graph.sparse_initializer)
    return [value for value in graph.input if value.name not in constant]


def _input_shape(value: onnx.ValueInfoProto, override: tuple[int, ...] | None) -> tuple[int, ...]:
    tensor_type = value.type.tensor_type
    known = tensor_type.HasField("shape")
    dims = list(tensor_type.shape.dim) if known else []
    if override is not None:
        if known and len(dims) != len(override):
            raise LinlintError(
                f"input '{value.name}' has rank {len(dims)}, "
                f"but the given shape {_format_shape(override)} has rank {len(override)}"
            )
        for axis, (dim, given) in enumerate(zip(dims, override, strict=False)):
            if dim.HasField("dim_value") and dim.dim_value != given:
                raise LinlintError(
                    f"input '{value.name}' has size {dim.dim_value} on axis {axis}, "
                    f"but the given shape {_format_shape(override)} says {given}"
                )
        return tuple(override)
    if not known:
        raise LinlintError(
            f"input '{value.name}' has unknown rank; give its shape as NAME=DIMxDIM..."
        )
    return tuple(dim.dim_value if dim.HasField("dim_value") else 1 for dim in dims)


def _format_shape(shape: tuple[int, ...]) -> str:
    return "x".join(str(d) for d in shape) if shape else "(scalar)"


def _bfloat16_dtype() -> np.dtype | None:
    try:
        import ml_dtypes
    except ImportError:  # pragma: no cover - ml_dtypes ships with onnx
        return None
    return np.dtype(ml_dtypes.bfloat16)


def _random_tensor(
    value: onnx.ValueInfoProto, shape: tuple[int, ...], rng: np.random.Generator
) -> np.ndarray:
    elem_type = value.type.tensor_type.elem_type
    if elem_type in _FLOAT_TYPES:
        if elem_type == onnx.TensorProto.BFLOAT16:
            dtype = _bfloat16_dtype()
            if dtype is None:
                raise LinlintError(f"input '{value.name}' is bfloat16, which numpy cannot hold")
        else:
            dtype = helper.tensor_dtype_to_np_dtype(elem_type)
        return rng.standard_normal(shape).astype(dtype)
    if elem_type in _INT_TYPES:
        dtype = helper.tensor_dtype_to_np_dtype(elem_type)
        return rng.integers(0, 4, size=shape).astype(dtype)
    if elem_type == onnx.TensorProto.BOOL:
        return np.asarray(rng.random(shape) < 0.5)
    type_name = onnx.TensorProto.DataType.Name(elem_type) if elem_type else "undefined"
    raise LinlintError(f"input '{value.name}' has unsupported element type {type_name.lower()}")


def make_inputs(
    model: onnx.ModelProto,
    *,
    seed: int = 0,
    input_shapes: dict[str, tuple[int, ...]] | None = None,
) -> dict[str, np.ndarray]:
    """Seeded random inputs for every graph input, keyed by input name."""
    inputs = graph_inputs(model)
    shapes = dict(input_shapes or {})
    unknown = sorted(set(shapes) - {value.name for value in inputs})
    if unknown:
        names = ", ".join(f"'{name}'" for name in unknown)
        raise LinlintError(f"input shape given for {names}, but the model has no such input")
    rng = np.random.default_rng(seed)
    feeds: dict[str, np.ndarray] = {}
    for value in inputs:
        kind = value.type.WhichOneof("value")
        if kind != "tensor_type":
            what = {
                "sequence_type": "a sequence",
                "map_type": "a map",
                "optional_type": "an optional",
                "sparse_tensor_type": "a sparse tensor",
            }.get(kind or "", "of unknown type")
            raise LinlintError(f"input '{value.name}' is {what}; only tensor inputs are supported")
        shape = _input_shape(value, shapes.get(value.name))
        feeds[value.name] = np.asarray(_random_tensor(value, shape, rng))
    return feeds


def load_npz(path: str | Path, *, expected: Iterable[str] | None = None) -> dict[str, np.ndarray]:
    """Arrays of an ``.npz`` file by name; with ``expected``, every such name must be present."""
    path = Path(path)
    shown = str(path)
    if path.is_dir():
        raise LinlintError("is a directory, not an .npz file", shown)
    if not path.exists():
        raise LinlintError("no such file or directory", shown)
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise LinlintError("not an .npz archive (a single .npy array?)", shown)
        with archive:
            arrays = {name: archive[name] for name in archive.files}
    except LinlintError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise LinlintError(f"cannot read inputs (.npz): {reason}", shown) from None
    if expected is not None:
        missing = [name for name in expected if name not in arrays]
        if missing:
            names = ", ".join(f"'{name}'" for name in missing)
            raise LinlintError(f"no array for model input {names}", shown)
    return arrays
