"""The shapes a model's inputs are run at: the base sizes, and the variants of symbolic ones.

A dimension is *symbolic* when the model does not fix it: a ``dim_param``, no
value at all, or a negative ``dim_value`` (paddle2onnx writes -1 for
"unknown"). The *base* size of a symbolic dimension is the user's
``NAME:1,3,224,224`` or ``NAME=1x3x224x224`` (whole shape, by input name) or 1. One size proves
little: a candidate can match the original at size 1 and not at another (a
Reshape hard-coded to the traced size, a border correction that assumes one
image size, a stride that divides one size and not the next), and a 1x1 image
exercises no border at all. So verification also runs with every symbolic
dimension at ``SIZE_VARIANTS`` = 7, then 9: odd, so no stride of 2, 4, 8, 16
or 32 divides them; larger than the usual 3x3 / 5x5 kernels, so an output has
both border and interior elements; and two of them, so a size that only
happens to work is caught by the other. When a variant would make an input
more than ``VARIANT_GROWTH`` times larger than at its base size (a symbolic
batch in front of a 224x224 image), the smaller ``FALLBACK_SIZES`` = 2, 3
stand in. A size the original model itself does not accept is skipped by the
verification, not counted against the candidate. Region sets take every
symbolic dimension at ``REGION_SIZES`` = 2, 7, 9 (2: every output element
touches a border; 7, 9: as above).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

import onnx

from linlint.errors import LinlintError
from linlint.model.graphs import initializer_names, unknown_input_message
from linlint.verification.input_values import MAX_INPUT_BYTES, format_shape, input_dtype
from linlint.wording import quoted

#: Sizes every symbolic dimension also takes in verification (all dims at once), after the base.
SIZE_VARIANTS = (7, 9)
#: Stand-ins for SIZE_VARIANTS when those would grow an input more than VARIANT_GROWTH times.
FALLBACK_SIZES = (2, 3)
VARIANT_GROWTH = 4
#: Below this many elements a variant is cheap whatever its growth.
_CHEAP_ELEMENTS = 1 << 16
#: Sizes every symbolic dimension takes in ``input_variants`` (region sets), after the base.
REGION_SIZES = (2, 7, 9)

Shapes = dict[str, tuple[int, ...]]


def parse_input_shape(text: str) -> tuple[str, tuple[int, ...]]:
    """Parse ``NAME:1,3,224,224`` (onnxsim's and onnxslim's spelling) or ``NAME=1x3x224x224``
    into ``("NAME", (1, 3, 224, 224))``. The name ends at the last ``=``, or else at the last
    ``:`` (so ``input:0:1,3`` names the input ``input:0``); dims are separated by ``,`` or
    ``x``."""
    separator = "=" if "=" in text else ":"
    name, _, dims = text.rpartition(separator)
    parts = re.split(r"\s*[xX,]\s*", dims.strip())
    if not name.strip() or not all(part.isdigit() for part in parts):
        raise LinlintError(
            f"bad input shape {quoted(text)}: expected `NAME:DIM,DIM,...` or `NAME=DIMxDIM...` "
            "(e.g. `input:1,3,224,224`)"
        )
    return name.strip(), tuple(int(part) for part in parts)


def graph_inputs(model: onnx.ModelProto) -> list[onnx.ValueInfoProto]:
    """The inputs a caller must feed: graph inputs that are not initializers."""
    constant = initializer_names(model.graph)
    return [value for value in model.graph.input if value.name not in constant]


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
                f"input {quoted(value.name)} has rank {len(dims)}, "
                f"but the given shape {format_shape(override)} has rank {len(override)}"
            )
        for axis, (dim, given) in enumerate(zip(dims, override, strict=False)):
            fixed = _fixed(dim)
            if fixed is not None and fixed != given:
                raise LinlintError(
                    f"input {quoted(value.name)} has size {fixed} on axis {axis}, "
                    f"but the given shape {format_shape(override)} says {given}"
                )
        if size is None or not known:
            return tuple(override)
        return tuple(
            given if _fixed(dim) is not None else size
            for dim, given in zip(dims, override, strict=True)
        )
    if not known:
        raise LinlintError(
            f"input {quoted(value.name)} has unknown rank; give its shape as "
            f"{quoted(value.name + '=DIMxDIM...')}"
        )
    return tuple(
        fixed if (fixed := _fixed(dim)) is not None else (1 if size is None else size)
        for dim in dims
    )


def checked_shapes(
    model: onnx.ModelProto, input_shapes: Shapes | None
) -> tuple[list[onnx.ValueInfoProto], Shapes]:
    """The inputs to feed and the user's shapes, both checked: every shape names an input,
    every input has a supported type (refused before any array is made)."""
    inputs = graph_inputs(model)
    shapes = dict(input_shapes or {})
    unknown = sorted(set(shapes) - {value.name for value in inputs})
    if unknown:
        names = [value.name for value in inputs]
        raise LinlintError(unknown_input_message(unknown, [names]))
    for value in inputs:
        input_dtype(value)  # unsupported types are refused before any array is made
    return inputs, shapes


def shapes_at(inputs: list[onnx.ValueInfoProto], shapes: Shapes, size: int | None) -> Shapes:
    """Each input's shape at the base sizes, or with every symbolic dimension at ``size``."""
    return {value.name: _input_shape(value, shapes.get(value.name), size) for value in inputs}


def _has_symbolic(inputs: list[onnx.ValueInfoProto]) -> bool:
    return any(symbolic_axes(value) for value in inputs)


def _elements(shapes: Shapes) -> int:
    return sum(math.prod(shape) for shape in shapes.values())


def _fits(shapes: Shapes, inputs: list[onnx.ValueInfoProto]) -> bool:
    return all(
        math.prod(shapes[value.name]) * input_dtype(value).itemsize <= MAX_INPUT_BYTES
        for value in inputs
    )


def variant_shapes(
    inputs: list[onnx.ValueInfoProto],
    shapes: Shapes,
    sizes: Iterable[int],
    fallbacks: Iterable[int | None],
) -> list[Shapes]:
    """Shapes with every symbolic dimension at each size (or its fallback when the size would
    grow the inputs too much), without repeats of the base or of each other."""
    base = shapes_at(inputs, shapes, None)
    seen = [base]
    variants = []
    if not _has_symbolic(inputs):
        return variants
    for size, fallback in zip(sizes, fallbacks, strict=True):
        at = shapes_at(inputs, shapes, size)
        grown = _elements(at) > max(VARIANT_GROWTH * _elements(base), _CHEAP_ELEMENTS)
        if grown and fallback is not None:
            at = shapes_at(inputs, shapes, fallback)
        if at in seen or not _fits(at, inputs):
            continue
        seen.append(at)
        variants.append(at)
    return variants
