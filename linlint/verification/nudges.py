"""Moving floats by one ulp: every float element of a set of inputs, or every float weight of
a model, up or down at random (seeded). The original model's runs on such moved values
measure its own rounding noise (``linlint.verification.noise``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx

from linlint.model.graphs import attribute

#: Ops whose float constant inputs are weights (nudged); others' (Resize scales, Pad
#: values, Range bounds, quantization scales) are left alone: they decide sizes or steps.
_WEIGHT_CONSUMERS = frozenset(
    {
        "Add", "BatchNormalization", "Conv", "ConvTranspose", "Div", "Einsum", "Gemm",
        "InstanceNormalization", "LayerNormalization", "MatMul", "Mean", "Mul", "PRelu",
        "Sub", "Sum",
    }
)  # fmt: skip
NUDGE_SEED = 0x11C0DE


def finfo(dtype: np.dtype) -> Any:
    """``np.finfo`` of a float dtype, bfloat16 included."""
    dtype = np.dtype(dtype)
    if dtype.name == "bfloat16":
        import ml_dtypes

        return ml_dtypes.finfo(dtype)
    return np.finfo(dtype)


def _is_float(array: np.ndarray) -> bool:
    return array.dtype.kind == "f" or array.dtype.name == "bfloat16"


def has_floats(feeds: dict[str, np.ndarray]) -> bool:
    """Whether any of the arrays is a float one (bfloat16 included)."""
    return any(_is_float(array) for array in feeds.values())


def _random_bits(rng: np.random.Generator, count: int) -> np.ndarray:
    """``count`` fair coin flips, as bools."""
    packed = np.frombuffer(rng.bytes((count + 7) // 8), np.uint8)
    return np.unpackbits(packed)[:count].view(np.bool_)


def nudged(feeds: dict[str, np.ndarray], rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Every finite, non-zero float element moved by one ulp up or down (at random)."""
    moved = {}
    for name, array in feeds.items():
        if not _is_float(array):
            moved[name] = array
            continue
        unsigned = np.dtype(f"u{array.dtype.itemsize}")
        values = np.ascontiguousarray(array).reshape(-1)
        movable = np.isfinite(values) & (values != 0)
        up = _random_bits(rng, values.size) & (np.abs(values) < finfo(array.dtype).max)
        # sign and magnitude: +1 on the bits is one ulp away from zero, -1 (mod 2^k) towards
        step = (movable & up).astype(unsigned) - (movable & ~up).astype(unsigned)
        moved[name] = (values.view(unsigned) + step).view(array.dtype).reshape(array.shape)
    return moved


def _nudged_array(array: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return nudged({"a": array}, rng)["a"]


def _weight_names(graph: onnx.GraphProto) -> set[str]:
    """Float constants of the main graph that only ops in ``_WEIGHT_CONSUMERS`` read."""
    consumers: dict[str, set[str]] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, set()).add(node.op_type)
    outputs = {value.name for value in graph.output}
    return {
        name for name, ops in consumers.items() if ops <= _WEIGHT_CONSUMERS and name not in outputs
    }


def nudged_weights(proto: onnx.ModelProto, seed: int) -> onnx.ModelProto | None:
    """A copy of the model with every float weight moved by one ulp up or down; None when it
    has no float weight."""
    from onnx import numpy_helper

    copy = onnx.ModelProto()
    copy.CopyFrom(proto)
    rng = np.random.default_rng([NUDGE_SEED, seed, 1])
    names = _weight_names(copy.graph)
    floats = {onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16, onnx.TensorProto.DOUBLE}
    tensors = [t for t in copy.graph.initializer if t.name in names]
    values = [
        attribute(node, "value")
        for node in copy.graph.node
        if node.op_type == "Constant" and node.output[0] in names
    ]
    tensors += [value.t for value in values if value is not None]
    moved = 0
    for tensor in tensors:
        if tensor.data_type not in floats:
            continue
        array = numpy_helper.to_array(tensor)
        tensor.CopyFrom(numpy_helper.from_array(_nudged_array(array, rng), tensor.name))
        moved += 1
    return copy if moved else None
