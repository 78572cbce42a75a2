"""Each op's output shape from its node and its first input's shape: the rules the shape
walk (``shapes.ShapeOracle.local``) applies, one function per op in one table
(``SHAPE_OF``), and the op families that keep or broadcast their input's shape."""

from __future__ import annotations

import math

import numpy as np

from linlint.analysis.forms.kernels import out_size, same_out_size, transpose_out_size
from linlint.analysis.shape_values import (
    SHAPE_FROM_VALUES,
    axes_of,
    broadcast,
    unsqueezed,
    value,
)
from linlint.model.graphs import attr, text_attr

Shape = tuple[int, ...]


SAME_SHAPE = frozenset(
    """Relu LeakyRelu PRelu Sigmoid Tanh Elu Selu Celu Gelu Softplus Softsign HardSigmoid
    HardSwish Mish Swish Erf Exp Log Abs Neg Sqrt Clip Softmax LogSoftmax LayerNormalization
    InstanceNormalization GroupNormalization RMSNormalization BatchNormalization LRN Dropout
    Identity Cast QuantizeLinear DequantizeLinear Round Floor Ceil Reciprocal ThresholdedRelu
    Sign Shrink Hardmax""".split()
)
REDUCE_OPS = """ReduceMean ReduceSum ReduceMax ReduceMin ReduceProd ReduceL1 ReduceL2
    ReduceLogSum ReduceLogSumExp ReduceSumSquare""".split()
BROADCAST = frozenset({"Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Sum", "Mean", "Where"})


def _window(node, x: Shape, kernel, channels: int) -> Shape:
    """Output shape of a Conv or pooling window over ``x`` (N, C, *spatial)."""
    nd = len(kernel)
    strides = attr(node, "strides") or [1] * nd
    dilations = attr(node, "dilations") or [1] * nd
    pads = attr(node, "pads") or [0] * (2 * nd)
    auto = text_attr(node, "auto_pad", "NOTSET")
    ceil = int(attr(node, "ceil_mode", 0))
    out = []
    for a in range(nd):
        n, k, st, d = x[2 + a], kernel[a], strides[a], dilations[a]
        if auto in ("SAME_UPPER", "SAME_LOWER"):
            out.append(same_out_size(n, st))
            continue
        pb, pe = (0, 0) if auto == "VALID" else (pads[a], pads[nd + a])
        out.append(out_size(n, k, st, d, pb, pe, bool(ceil)))
    return (x[0], channels, *out)


def _conv_shape(ga, node, x, oracle, depth):
    w = oracle.local(ga, node.input[1], depth)
    return None if w is None or len(x) != len(w) else _window(node, x, w[2:], w[0])


def _conv_transpose_shape(ga, node, x, oracle, depth):
    """ConvTranspose: ``output_shape`` when given, else each axis from its window; the
    channels are the weight's second axis times the groups."""
    w = oracle.local(ga, node.input[1], depth)
    if w is None or len(x) != len(w):
        return None
    channels = w[1] * int(attr(node, "group", 1))
    given = attr(node, "output_shape")
    if given:
        return (x[0], channels, *given[-(len(x) - 2) :])
    nd = len(x) - 2
    kernel = attr(node, "kernel_shape") or w[2:]
    strides = attr(node, "strides") or [1] * nd
    dilations = attr(node, "dilations") or [1] * nd
    extra = attr(node, "output_padding") or [0] * nd
    pads = attr(node, "pads") or [0] * (2 * nd)
    auto = text_attr(node, "auto_pad", "NOTSET")
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        return (x[0], channels, *(n * st for n, st in zip(x[2:], strides, strict=True)))
    if auto == "VALID":
        pads = [0] * (2 * nd)
    out = [
        transpose_out_size(x[2 + a], kernel[a], strides[a], dilations[a], pads[a],
                           pads[nd + a], extra[a])
        for a in range(nd)
    ]  # fmt: skip
    return (x[0], channels, *out)


def _pool_shape(ga, node, x, oracle, depth):
    return _window(node, x, list(attr(node, "kernel_shape")), x[1])


def _global_pool_shape(ga, node, x, oracle, depth):
    return (x[0], x[1]) + (1,) * (len(x) - 2)


def _matmul_shape(ga, node, x, oracle, depth):
    """numpy matmul: a 1-D side gains and loses an axis, leading axes broadcast."""
    w = oracle.local(ga, node.input[1], depth)
    if w is None or not x or not w or x[-1] != (w[0] if len(w) == 1 else w[-2]):
        return None
    if len(w) == 1:
        return tuple(x[:-1])
    if len(x) == 1:
        return tuple(w[:-2]) + (w[-1],)
    lead = broadcast([tuple(x[:-2]), tuple(w[:-2])])
    return None if lead is None else lead + (x[-2], w[-1])


def _gemm_shape(ga, node, x, oracle, depth):
    w = oracle.local(ga, node.input[1], depth)
    if w is None or len(x) != 2:
        return None
    rows = x[1] if attr(node, "transA", 0) else x[0]
    return (rows, w[0] if attr(node, "transB", 0) else w[1])


def _flatten_shape(ga, node, x, oracle, depth):
    axis = int(attr(node, "axis", 1)) % (len(x) or 1)
    return (math.prod(x[:axis]), math.prod(x[axis:]))


def _reduce_shape(ga, node, x, oracle, depth):
    """Reduce*: axes from the attribute, or (ReduceSum from opset 13, the others from 18)
    from the second input; no axes reduces every axis unless ``noop_with_empty_axes``."""
    if len(node.input) > 1 and node.input[1]:
        axes = value(oracle, ga, node.input[1], depth)
        if axes is None:
            return None
        axes = [int(a) for a in np.ravel(axes)]
    else:
        axes = list(attr(node, "axes") or [])
    if not axes:
        if int(attr(node, "noop_with_empty_axes", 0)):
            return tuple(x)
        axes = list(range(len(x)))
    axes = {a % len(x) for a in axes}
    keep = int(attr(node, "keepdims", 1))
    return tuple(1 if i in axes else d for i, d in enumerate(x) if keep or i not in axes)


def transpose_perm(node, rank: int) -> list[int]:
    """A Transpose's perm: its attribute, or the axes reversed when it has none."""
    perm = attr(node, "perm")
    return [int(p) for p in perm] if perm else list(range(rank))[::-1]


def _transpose_shape(ga, node, x, oracle, depth):
    return tuple(x[p] for p in transpose_perm(node, len(x)))


def _concat_shape(ga, node, x, oracle, depth):
    shapes = [oracle.local(ga, i, depth) for i in node.input if i]
    if any(s is None for s in shapes):
        return None
    axis = int(attr(node, "axis", 0)) % len(x)
    out = list(x)
    out[axis] = sum(s[axis] for s in shapes)
    return tuple(out)


def _pad_shape(ga, node, x, oracle, depth):
    if len(node.input) > 1 and node.input[1]:
        pads = value(oracle, ga, node.input[1], depth)
        axes = value(oracle, ga, node.input[3], depth) if len(node.input) > 3 else None
        if axes is None and len(node.input) > 3 and node.input[3]:
            return None
    else:
        pads, axes = attr(node, "pads") or attr(node, "paddings"), None
    if pads is None:
        return None
    pads = [int(p) for p in list(pads.reshape(-1) if hasattr(pads, "reshape") else pads)]
    rank = len(x)
    axes = list(range(rank)) if axes is None else [int(a) % rank for a in axes.reshape(-1)]
    out = list(x)
    n = len(pads) // 2
    for a, p, q in zip(axes, pads[:n], pads[n:], strict=True):
        out[a] = max(0, out[a] + p + q)
    return tuple(out)


def _squeeze_shape(ga, node, x, oracle, depth):
    axes = axes_of(oracle, ga, node, depth)
    if axes is None and len(node.input) > 1 and node.input[1]:
        return None  # axes not known before run time
    if node.op_type == "Unsqueeze":
        return None if axes is None else unsqueezed(x, axes, len(x) + len(axes))
    if not axes and node.input[0] in oracle.symbolic:
        return None  # every axis of size 1: a defaulted or given size may be one
    drop = {a % len(x) for a in axes} if axes else {i for i, d in enumerate(x) if d == 1}
    return tuple(d for i, d in enumerate(x) if i not in drop)


#: Shape functions: an op's output shape from its node and its first input's shape ``x``.
SHAPE_OF = {
    "Squeeze": _squeeze_shape,
    "Unsqueeze": _squeeze_shape,
    "Pad": _pad_shape,
    "Conv": _conv_shape,
    "ConvTranspose": _conv_transpose_shape,
    "MaxPool": _pool_shape,
    "AveragePool": _pool_shape,
    "LpPool": _pool_shape,
    "GlobalAveragePool": _global_pool_shape,
    "GlobalMaxPool": _global_pool_shape,
    "GlobalLpPool": _global_pool_shape,
    "MatMul": _matmul_shape,
    "Gemm": _gemm_shape,
    "Flatten": _flatten_shape,
    **dict.fromkeys(REDUCE_OPS, _reduce_shape),
    "Transpose": _transpose_shape,
    "Concat": _concat_shape,
    **SHAPE_FROM_VALUES,
}
