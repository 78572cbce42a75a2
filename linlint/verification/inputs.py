"""Sets of inputs to run a model on: seeded arrays at the base sizes and at size variants.

The shapes come from ``linlint.verification.input_sizes`` (base sizes, and
variants of the symbolic dimensions), the values from
``linlint.verification.input_values`` (floats standard normal, integers small
or across their range, booleans coin flips); the user's own arrays from
``linlint.verification.npz``.

**Regions.** ``input_variants`` gives the fold engine the sets to compare a
small region model on: standard normal, large, all zeros (only the biases and
border corrections remain), and a constant (every element of a zero-padded
border differs from the interior) at the base size; then normal and constant
with every symbolic dimension at each of ``REGION_SIZES``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import onnx

from linlint.verification.input_sizes import (
    FALLBACK_SIZES,
    REGION_SIZES,
    SIZE_VARIANTS,
    Shapes,
    checked_shapes,
    shapes_at,
    variant_shapes,
)
from linlint.verification.input_values import format_shape, input_array, input_dtype


@dataclass(frozen=True)
class InputSet:
    """One set of arrays to run a model on, with a short label for messages."""

    label: str
    feeds: dict[str, np.ndarray]


def _make(
    inputs: list[onnx.ValueInfoProto], shapes: Shapes, seed: int, kind: str
) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        value.name: np.asarray(input_array(value, shapes[value.name], rng, kind))
        for value in inputs
    }


def _label(shapes: Shapes, what: str = "") -> str:
    text = ", ".join(f"{name}={format_shape(shape)}" for name, shape in shapes.items())
    return f"{what} {text}".strip() if what else text or "no inputs"


def make_inputs(
    model: onnx.ModelProto,
    *,
    seed: int = 0,
    input_shapes: Shapes | None = None,
) -> dict[str, np.ndarray]:
    """Seeded random inputs for every graph input at the base sizes, keyed by input name.

    Floats standard normal, integers small and non-negative, booleans coin flips.
    """
    inputs, shapes = checked_shapes(model, input_shapes)
    return _make(inputs, shapes_at(inputs, shapes, None), seed, "normal")


def verification_inputs(
    model: onnx.ModelProto,
    *,
    seed: int = 0,
    runs: int = 1,
    input_shapes: Shapes | None = None,
) -> list[InputSet]:
    """The input sets ``linlint.verify`` runs when the user gives none.

    ``runs`` sets at the base sizes with seeds ``seed, seed + 1, ...`` (integers small in the
    first, across their dtype's range in the others; one more set with wide integers when
    ``runs`` is 1 and the model has integer inputs), then one set per size variant (seeds
    ``seed + runs, ...``, small integers) when the model has symbolic dimensions.
    """
    inputs, shapes = checked_shapes(model, input_shapes)
    base = shapes_at(inputs, shapes, None)
    has_ints = any(input_dtype(value).kind in "iu" for value in inputs)
    sets = []
    count = runs + (1 if runs == 1 and has_ints else 0)
    for i in range(count):
        kind = "wide" if i > 0 and has_ints else "normal"
        what = "wide integers," if kind == "wide" else ""
        sets.append(InputSet(_label(base, what), _make(inputs, base, seed + i, kind)))
    variants = variant_shapes(inputs, shapes, SIZE_VARIANTS, FALLBACK_SIZES)
    for j, at in enumerate(variants):
        sets.append(InputSet(_label(at), _make(inputs, at, seed + count + j, "normal")))
    return sets


def region_input_sets(
    model: onnx.ModelProto,
    *,
    seed: int = 0,
    input_shapes: Shapes | None = None,
) -> list[InputSet]:
    """``input_variants`` with a label on each set."""
    inputs, shapes = checked_shapes(model, input_shapes)
    base = shapes_at(inputs, shapes, None)
    sets = [
        InputSet(_label(base, f"{kind} values,"), _make(inputs, base, seed + i, kind))
        for i, kind in enumerate(("normal", "large", "zeros", "constant"))
    ]
    variants = variant_shapes(inputs, shapes, REGION_SIZES, [None] * len(REGION_SIZES))
    for j, at in enumerate(variants):
        for k, kind in enumerate(("normal", "constant")):
            feeds = _make(inputs, at, seed + 4 + 2 * j + k, kind)
            sets.append(InputSet(_label(at, f"{kind} values,"), feeds))
    return sets


def input_variants(
    model: onnx.ModelProto,
    *,
    seed: int = 0,
    input_shapes: Shapes | None = None,
) -> list[dict[str, np.ndarray]]:
    """Input sets to compare a small region model on (see the module docstring): normal,
    large, zeros and a constant at the base sizes, then normal and constant with every
    symbolic dimension at each of ``REGION_SIZES``. Sets the model cannot run on are for the
    caller to skip (``linlint.verification.compare.compare_models`` does)."""
    return [s.feeds for s in region_input_sets(model, seed=seed, input_shapes=input_shapes)]
