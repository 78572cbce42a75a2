"""Inputs to run a model on: seeded random tensors from its input types, or the user's ``.npz``.

**Sizes.** A dimension is *symbolic* when the model does not fix it: a
``dim_param``, no value at all, or a negative ``dim_value`` (paddle2onnx
writes -1 for "unknown"). The *base* size of a symbolic dimension is the
user's ``NAME=1x3x224x224`` (whole shape, by input name) or 1. One size
proves little: a candidate can match the original at size 1 and not at
another (a Reshape hard-coded to the traced size, a border correction that
assumes one image size, a stride that divides one size and not the next), and
a 1x1 image exercises no border at all. So verification also runs with every
symbolic dimension at ``SIZE_VARIANTS`` = 7, then 9: odd, so no stride of 2,
4, 8, 16 or 32 divides them; larger than the usual 3x3 / 5x5 kernels, so an
output has both border and interior elements; and two of them, so a size
that only happens to work is caught by the other. When a variant would make
an input more than ``VARIANT_GROWTH`` times larger than at its base size (a
symbolic batch in front of a 224x224 image), the smaller
``FALLBACK_SIZES`` = 2, 3 stand in. A size the original model itself does
not accept is skipped by the verification, not counted against the
candidate.

**Values.** Floats are standard normal in the input's dtype. Integers are
often indices, so one set (the first) draws them small and non-negative
(0..3, valid on most axes); other sets draw them across the dtype's whole
range, extremes included (an index set the original refuses is skipped, like
a size). Booleans are fair coin flips. An input that would need more than
``MAX_INPUT_BYTES`` (declared sizes like 1x8x10⁹x10⁹) is refused with one
line naming it, never left to numpy.

**Regions.** ``input_variants`` gives the fold engine the sets to compare a
small region model on: standard normal, large (``LARGE_SCALE`` per dtype:
large enough that a bias is negligible beside the weights' products, small
enough that a float16 accumulation does not overflow to inf), all zeros (only
the biases and border corrections remain), and a constant (every element of a
zero-padded border differs from the interior) at the base size; then normal
and constant at ``REGION_SIZES`` = 2, 7, 9 for every symbolic dimension (2:
every output element touches a border; 7, 9: as above).
"""

from __future__ import annotations

import math
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
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

#: Sizes every symbolic dimension also takes in verification (all dims at once), after the base.
SIZE_VARIANTS = (7, 9)
#: Stand-ins for SIZE_VARIANTS when those would grow an input more than VARIANT_GROWTH times.
FALLBACK_SIZES = (2, 3)
VARIANT_GROWTH = 4
#: Below this many elements a variant is cheap whatever its growth.
_CHEAP_ELEMENTS = 1 << 16
#: Sizes every symbolic dimension takes in ``input_variants`` (region sets), after the base.
REGION_SIZES = (2, 7, 9)
#: The largest input array made (bytes); more is refused with a LinlintError.
MAX_INPUT_BYTES = 1 << 31
#: Scale of the "large" region values, by dtype: products of thousands of terms stay finite.
LARGE_SCALE = {"float16": 32.0, "bfloat16": 1e4, "float32": 1e4, "float64": 1e8}
#: The value of the "constant" region set.
CONSTANT_VALUE = 1.5
_SMALL_INT_HIGH = 4  # small integers are 0..3


@dataclass(frozen=True)
class InputSet:
    """One set of arrays to run a model on, with a short label for messages."""

    label: str
    feeds: dict[str, np.ndarray]


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


def _fixed(dim: onnx.TensorShapeProto.Dimension) -> int | None:
    """The declared size of a dimension, or None when it is symbolic (negative counts so)."""
    if dim.HasField("dim_value") and dim.dim_value >= 0:
        return int(dim.dim_value)
    return None


def symbolic_axes(value: onnx.ValueInfoProto) -> list[int] | None:
    """Axes of an input the model does not fix; None when even its rank is unknown."""
    tensor_type = value.type.tensor_type
    if not tensor_type.HasField("shape"):
        return None
    return [axis for axis, dim in enumerate(tensor_type.shape.dim) if _fixed(dim) is None]


def _input_shape(
    value: onnx.ValueInfoProto, override: tuple[int, ...] | None, size: int | None = None
) -> tuple[int, ...]:
    """The base shape of an input (``override`` or 1 on symbolic dims); with ``size``, every
    symbolic dimension takes that size instead."""
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
            fixed = _fixed(dim)
            if fixed is not None and fixed != given:
                raise LinlintError(
                    f"input '{value.name}' has size {fixed} on axis {axis}, "
                    f"but the given shape {_format_shape(override)} says {given}"
                )
        if size is None or not known:
            return tuple(override)
        return tuple(
            given if _fixed(dim) is not None else size
            for dim, given in zip(dims, override, strict=True)
        )
    if not known:
        raise LinlintError(
            f"input '{value.name}' has unknown rank; give its shape as NAME=DIMxDIM..."
        )
    return tuple(
        fixed if (fixed := _fixed(dim)) is not None else (1 if size is None else size)
        for dim in dims
    )


def _format_shape(shape: tuple[int, ...]) -> str:
    return "x".join(str(d) for d in shape) if shape else "(scalar)"


def _bfloat16_dtype() -> np.dtype | None:
    try:
        import ml_dtypes
    except ImportError:  # pragma: no cover - ml_dtypes ships with onnx
        return None
    return np.dtype(ml_dtypes.bfloat16)


def _dtype(value: onnx.ValueInfoProto) -> np.dtype:
    """The numpy dtype of a tensor input, or a LinlintError naming what is unsupported."""
    kind = value.type.WhichOneof("value")
    if kind != "tensor_type":
        what = {
            "sequence_type": "a sequence",
            "map_type": "a map",
            "optional_type": "an optional",
            "sparse_tensor_type": "a sparse tensor",
        }.get(kind or "", "of unknown type")
        raise LinlintError(f"input '{value.name}' is {what}; only tensor inputs are supported")
    elem_type = value.type.tensor_type.elem_type
    if elem_type == onnx.TensorProto.BFLOAT16:
        dtype = _bfloat16_dtype()
        if dtype is None:
            raise LinlintError(f"input '{value.name}' is bfloat16, which numpy cannot hold")
        return dtype
    if elem_type in _FLOAT_TYPES or elem_type in _INT_TYPES or elem_type == onnx.TensorProto.BOOL:
        return np.dtype(helper.tensor_dtype_to_np_dtype(elem_type))
    type_name = onnx.TensorProto.DataType.Name(elem_type) if elem_type else "undefined"
    raise LinlintError(f"input '{value.name}' has unsupported element type {type_name.lower()}")


def _check_size(name: str, shape: tuple[int, ...], dtype: np.dtype) -> None:
    count = math.prod(shape)
    needed = count * dtype.itemsize
    if needed > MAX_INPUT_BYTES:
        raise LinlintError(
            f"input '{name}' would need {needed:,} bytes ({_format_shape(shape)} {dtype.name}), "
            f"more than the {MAX_INPUT_BYTES:,} linlint allocates; give a smaller shape as "
            f"--input-shape {name}=DIMxDIM..."
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


def _tensor(
    value: onnx.ValueInfoProto,
    shape: tuple[int, ...],
    rng: np.random.Generator,
    kind: str,
) -> np.ndarray:
    """One input array. ``kind``: normal, wide (integers over the dtype's range), large, zeros,
    constant."""
    dtype = _dtype(value)
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


def _checked_shapes(
    model: onnx.ModelProto, input_shapes: dict[str, tuple[int, ...]] | None
) -> tuple[list[onnx.ValueInfoProto], dict[str, tuple[int, ...]]]:
    inputs = graph_inputs(model)
    shapes = dict(input_shapes or {})
    unknown = sorted(set(shapes) - {value.name for value in inputs})
    if unknown:
        names = ", ".join(f"'{name}'" for name in unknown)
        raise LinlintError(f"input shape given for {names}, but the model has no such input")
    for value in inputs:
        _dtype(value)  # unsupported types are refused before any array is made
    return inputs, shapes


def _shapes_at(
    inputs: list[onnx.ValueInfoProto],
    shapes: dict[str, tuple[int, ...]],
    size: int | None,
) -> dict[str, tuple[int, ...]]:
    return {value.name: _input_shape(value, shapes.get(value.name), size) for value in inputs}


def _make(
    inputs: list[onnx.ValueInfoProto],
    shapes: dict[str, tuple[int, ...]],
    seed: int,
    kind: str,
) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        value.name: np.asarray(_tensor(value, shapes[value.name], rng, kind)) for value in inputs
    }


def _label(shapes: dict[str, tuple[int, ...]], what: str = "") -> str:
    text = ", ".join(f"{name}={_format_shape(shape)}" for name, shape in shapes.items())
    return f"{what} {text}".strip() if what else text or "no inputs"


def make_inputs(
    model: onnx.ModelProto,
    *,
    seed: int = 0,
    input_shapes: dict[str, tuple[int, ...]] | None = None,
) -> dict[str, np.ndarray]:
    """Seeded random inputs for every graph input at the base sizes, keyed by input name.

    Floats standard normal, integers small and non-negative, booleans coin flips.
    """
    inputs, shapes = _checked_shapes(model, input_shapes)
    return _make(inputs, _shapes_at(inputs, shapes, None), seed, "normal")


def _has_symbolic(inputs: list[onnx.ValueInfoProto]) -> bool:
    return any(symbolic_axes(value) for value in inputs)


def _elements(shapes: dict[str, tuple[int, ...]]) -> int:
    return sum(math.prod(shape) for shape in shapes.values())


def _fits(shapes: dict[str, tuple[int, ...]], inputs: list[onnx.ValueInfoProto]) -> bool:
    return all(
        math.prod(shapes[value.name]) * _dtype(value).itemsize <= MAX_INPUT_BYTES
        for value in inputs
    )


def _variant_shapes(
    inputs: list[onnx.ValueInfoProto],
    shapes: dict[str, tuple[int, ...]],
    sizes: Iterable[int],
    fallbacks: Iterable[int | None],
) -> list[dict[str, tuple[int, ...]]]:
    """Shapes with every symbolic dimension at each size (or its fallback when the size would
    grow the inputs too much), without repeats of the base or of each other."""
    base = _shapes_at(inputs, shapes, None)
    seen = [base]
    variants = []
    if not _has_symbolic(inputs):
        return variants
    for size, fallback in zip(sizes, fallbacks, strict=True):
        at = _shapes_at(inputs, shapes, size)
        grown = _elements(at) > max(VARIANT_GROWTH * _elements(base), _CHEAP_ELEMENTS)
        if grown and fallback is not None:
            at = _shapes_at(inputs, shapes, fallback)
        if at in seen or not _fits(at, inputs):
            continue
        seen.append(at)
        variants.append(at)
    return variants


def verification_inputs(
    model: onnx.ModelProto,
    *,
    seed: int = 0,
    runs: int = 1,
    input_shapes: dict[str, tuple[int, ...]] | None = None,
) -> list[InputSet]:
    """The input sets ``linlint.verify`` runs when the user gives none.

    ``runs`` sets at the base sizes with seeds ``seed, seed + 1, ...`` (integers small in the
    first, across their dtype's range in the others; one more set with wide integers when
    ``runs`` is 1 and the model has integer inputs), then one set per size variant (seeds
    ``seed + runs, ...``, small integers) when the model has symbolic dimensions.
    """
    inputs, shapes = _checked_shapes(model, input_shapes)
    base = _shapes_at(inputs, shapes, None)
    has_ints = any(_dtype(value).kind in "iu" for value in inputs)
    sets = []
    count = runs + (1 if runs == 1 and has_ints else 0)
    for i in range(count):
        kind = "wide" if i > 0 and has_ints else "normal"
        what = "wide integers," if kind == "wide" else ""
        sets.append(InputSet(_label(base, what), _make(inputs, base, seed + i, kind)))
    variants = _variant_shapes(inputs, shapes, SIZE_VARIANTS, FALLBACK_SIZES)
    for j, at in enumerate(variants):
        sets.append(InputSet(_label(at), _make(inputs, at, seed + count + j, "normal")))
    return sets


def region_input_sets(
    model: onnx.ModelProto,
    *,
    seed: int = 0,
    input_shapes: dict[str, tuple[int, ...]] | None = None,
) -> list[InputSet]:
    """``input_variants`` with a label on each set."""
    inputs, shapes = _checked_shapes(model, input_shapes)
    base = _shapes_at(inputs, shapes, None)
    sets = [
        InputSet(_label(base, f"{kind} values,"), _make(inputs, base, seed + i, kind))
        for i, kind in enumerate(("normal", "large", "zeros", "constant"))
    ]
    variants = _variant_shapes(inputs, shapes, REGION_SIZES, [None] * len(REGION_SIZES))
    for j, at in enumerate(variants):
        for k, kind in enumerate(("normal", "constant")):
            feeds = _make(inputs, at, seed + 4 + 2 * j + k, kind)
            sets.append(InputSet(_label(at, f"{kind} values,"), feeds))
    return sets


def input_variants(
    model: onnx.ModelProto,
    *,
    seed: int = 0,
    input_shapes: dict[str, tuple[int, ...]] | None = None,
) -> list[dict[str, np.ndarray]]:
    """Input sets to compare a small region model on (see the module docstring): normal,
    large, zeros and a constant at the base sizes, then normal and constant with every
    symbolic dimension at each of ``REGION_SIZES``. Sets the model cannot run on are for the
    caller to skip (``linlint.verification.compare.compare_models`` does)."""
    return [s.feeds for s in region_input_sets(model, seed=seed, input_shapes=input_shapes)]


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
