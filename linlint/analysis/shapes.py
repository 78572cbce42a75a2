"""Tensor shapes, found lazily: declared types first, then a local walk back through the
producers (same-shape ops, broadcasts, Conv, pools, MatMul, Gemm, Reshape, …).

Shapes matter only where a finding needs spatial sizes or row counts, so
nothing here runs until a region asks. Symbolic dims (``dim_param``, no value,
or a negative ``dim_value`` as paddle2onnx writes) take their value from the
caller's ``input_shapes`` or default to 1: those sizes serve the cost figures only.
``fixed`` says whether a shape is the model's own (every size on the way declared as
a number): a condition that depends on a size (a border map, ceil_mode dividing, a
Reshape keeping the width) is exact only on fixed shapes, never on a size the user
gave. onnx's global shape inference is never run: on defaulted symbolic sizes it can
abort the process, and it would cost more than the whole analysis.
"""

from __future__ import annotations

import math

import numpy as np
import onnx
from onnx import ModelProto, ValueInfoProto

from linlint.analysis.forms.kernels import out_size, same_out_size, transpose_out_size
from linlint.model.graphs import GRAPH_OPS, attr, node_subgraphs

Shape = tuple[int, ...]


def _dims(vi: ValueInfoProto) -> Shape | None:
    t = vi.type
    if not t.HasField("tensor_type") or not t.tensor_type.HasField("shape"):
        return None
    return tuple(
        d.dim_value if d.HasField("dim_value") and d.dim_value >= 0 else 1
        for d in t.tensor_type.shape.dim
    )


def _concrete(vi: ValueInfoProto) -> bool:
    return all(d.HasField("dim_value") and d.dim_value >= 0 for d in vi.type.tensor_type.shape.dim)


class ShapeOracle:
    """Answers ``local(ga, name)`` for the tensors of one model, remembering what it found."""

    def __init__(self, model: ModelProto, input_shapes: dict[str, Shape] | None = None) -> None:
        self.model = model
        self.input_shapes = dict(input_shapes or {})
        self._known: dict[str, Shape] = {}
        self._missing: set[str] = set()  # names ``local`` could not resolve
        self._symbolic: set[str] = set()  # known shapes that hold a defaulted or given size
        self._declared_dims: dict[str, tuple[int | None, ...]] = {}  # None: not a number
        self._collect(model.graph)

    def _collect(self, graph: onnx.GraphProto, body: bool = False) -> None:
        inputs = {vi.name for vi in graph.input}
        if body:
            # A Loop/Scan body's inputs may change shape from one iteration to the next, and
            # a subgraph's declarations (a traced export's) may hold one size of a symbolic
            # outer one: sizes declared in subgraphs are never taken as the model's fixed ones.
            self._symbolic |= {vi.name for vi in list(graph.input) + list(graph.value_info)}
            self._symbolic |= {vi.name for vi in graph.output}
        for vi in list(graph.input) + list(graph.value_info) + list(graph.output):
            dims = _dims(vi)
            if vi.name in self.input_shapes:
                self._known[vi.name] = tuple(self.input_shapes[vi.name])
                if dims is None or not _concrete(vi) or dims != self._known[vi.name]:
                    self._symbolic.add(vi.name)
                continue
            # Symbolic dims of inputs take their default; elsewhere they would contradict
            # what the inputs' defaults compute, so such shapes are left to propagation.
            if dims is not None and (vi.name in inputs or _concrete(vi)):
                self._known.setdefault(vi.name, dims)
                if not _concrete(vi):
                    self._symbolic.add(vi.name)
                    self._declared_dims[vi.name] = tuple(
                        d.dim_value if d.HasField("dim_value") and d.dim_value >= 0 else None
                        for d in vi.type.tensor_type.shape.dim
                    )
        for node in graph.node:
            if node.op_type in GRAPH_OPS or node.domain:
                for _, sub in node_subgraphs(node):
                    self._collect(sub, body=True)

    def declared(self, name: str) -> Shape | None:
        """A shape known without walking (declared, or remembered)."""
        return self._known.get(name)

    def remember(self, name: str, shape: Shape, like: str | None = None) -> None:
        """Record a shape found elsewhere; it is fixed only where ``like``'s shape is."""
        if name not in self._known:
            self._known[name] = tuple(int(d) for d in shape)
            if like is None or like in self._symbolic:
                self._symbolic.add(name)

    def fixed(self, ga, name: str | None) -> bool:
        """Whether ``name``'s shape is known and every size in it is the model's own."""
        return bool(name) and self.local(ga, name) is not None and name not in self._symbolic

    def fixed_axis(self, ga, name: str | None, axis: int) -> bool:
        """Whether one size of ``name``'s shape is the model's own (a declared number)."""
        if self.fixed(ga, name):
            return True
        if not name or name in self.input_shapes or self.local(ga, name) is None:
            return False
        dims = self._declared_dims.get(name)
        return dims is not None and -len(dims) <= axis < len(dims) and dims[axis] is not None

    def local(self, ga, name: str, depth: int = 0) -> Shape | None:
        """The shape of ``name`` from its producers' inputs, walking back through ops that
        keep or broadcast shapes: no global inference. None when that is not enough."""
        known = self._known.get(name)
        if known is not None or depth > 32 or name in self._missing:
            return known
        if name not in ga.producer or name in ga.constant:
            found = _weight_dims(ga, name)  # a constant: its own dims
            if found is not None:
                self._known[name] = found
            if found is not None or name not in ga.producer:
                return found
            # a constant too large to compute here (a DequantizeLinear of int8 weights):
            # its shape from its producer, like any tensor's
        node = ga.nodes[ga.producer[name]].node
        inputs = [i for i in node.input if i]
        op = node.op_type
        if op in SAME_SHAPE and inputs:
            found = self.local(ga, inputs[0], depth + 1)
        elif op in BROADCAST and inputs:
            shapes = [self.local(ga, i, depth + 1) for i in inputs]
            # an operand of unknown shape makes the result unknown
            found = None if any(s is None for s in shapes) else _broadcast(shapes)
        elif op in _SHAPE_OF and inputs and name == node.output[0]:
            first = self.local(ga, inputs[0], depth + 1)
            try:
                found = _SHAPE_OF[op](ga, node, first, self) if first is not None else None
            except (ValueError, TypeError, IndexError, ZeroDivisionError):
                found = None
        else:
            found = None
        if found is not None:
            self._known[name] = found
            if any(i in self._symbolic for i in inputs):
                self._symbolic.add(name)
        else:
            self._missing.add(name)
        return found


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


def _weight_dims(ga, name: str) -> Shape | None:
    _, initializer = ga.defining_scope(name)
    if initializer is not None:
        return tuple(initializer.dims)
    value = ga.const_value(name)
    return None if value is None else tuple(value.shape)


def _window(node, x: Shape, kernel, channels: int) -> Shape:
    """Output shape of a Conv or pooling window over ``x`` (N, C, *spatial)."""
    nd = len(kernel)
    strides = attr(node, "strides") or [1] * nd
    dilations = attr(node, "dilations") or [1] * nd
    pads = attr(node, "pads") or [0] * (2 * nd)
    auto = attr(node, "auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto
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


def _conv_shape(ga, node, x, oracle):
    w = oracle.local(ga, node.input[1])
    return None if w is None or len(x) != len(w) else _window(node, x, w[2:], w[0])


def _conv_transpose_shape(ga, node, x, oracle):
    """ConvTranspose: ``output_shape`` when given, else each axis from its window; the
    channels are the weight's second axis times the groups."""
    w = oracle.local(ga, node.input[1])
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
    auto = attr(node, "auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto
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


def _pool_shape(ga, node, x, oracle):
    return _window(node, x, list(attr(node, "kernel_shape")), x[1])


def _global_pool_shape(ga, node, x, oracle):
    return (x[0], x[1]) + (1,) * (len(x) - 2)


def _matmul_shape(ga, node, x, oracle):
    w = oracle.local(ga, node.input[1])
    return None if w is None or len(w) != 2 else tuple(x[:-1]) + (w[1],)


def _gemm_shape(ga, node, x, oracle):
    w = oracle.local(ga, node.input[1])
    if w is None or len(x) != 2:
        return None
    rows = x[1] if attr(node, "transA", 0) else x[0]
    return (rows, w[0] if attr(node, "transB", 0) else w[1])


def _flatten_shape(ga, node, x, oracle):
    axis = int(attr(node, "axis", 1)) % (len(x) or 1)
    return (math.prod(x[:axis]), math.prod(x[axis:]))


def _reshape_shape(ga, node, x, oracle):
    if len(node.input) > 1:
        target = ga.const_value(node.input[1])
    else:  # opset < 5: the target is an attribute
        target = attr(node, "shape")
    if target is None:
        return None
    return reshaped([int(t) for t in np.ravel(target)], x)


def reshaped(target: list[int], shape: Shape) -> Shape:
    """The shape a Reshape to ``target`` gives a tensor of ``shape`` (allowzero = 0): a 0
    copies the input's dim at its index, one -1 takes what is left (0 where nothing is)."""
    dims = [shape[i] if d == 0 and i < len(shape) else d for i, d in enumerate(target)]
    if dims.count(-1) == 1:
        known = math.prod(d for d in dims if d != -1)
        dims[dims.index(-1)] = math.prod(shape) // known if known else 0
    return tuple(dims)


def _reduce_shape(ga, node, x, oracle):
    """Reduce*: axes from the attribute, or (ReduceSum from opset 13, the others from 18)
    from the second input; no axes reduces every axis unless ``noop_with_empty_axes``."""
    if len(node.input) > 1 and node.input[1]:
        axes = ga.const_value(node.input[1])
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


def _transpose_shape(ga, node, x, oracle):
    return tuple(x[p] for p in transpose_perm(node, len(x)))


def _concat_shape(ga, node, x, oracle):
    shapes = [oracle.local(ga, i) for i in node.input if i]
    if any(s is None for s in shapes):
        return None
    axis = int(attr(node, "axis", 0)) % len(x)
    out = list(x)
    out[axis] = sum(s[axis] for s in shapes)
    return tuple(out)


def _pad_shape(ga, node, x, oracle):
    if len(node.input) > 1 and node.input[1]:
        pads = ga.const_value(node.input[1])
        axes = ga.const_value(node.input[3]) if len(node.input) > 3 and node.input[3] else None
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


def _squeeze_shape(ga, node, x, oracle):
    axes = attr(node, "axes")
    if axes is None and len(node.input) > 1 and node.input[1]:
        value = ga.const_value(node.input[1])
        axes = None if value is None else [int(a) for a in value.reshape(-1)]
    rank = len(x)
    if node.op_type == "Squeeze":
        drop = {a % rank for a in axes} if axes else {i for i, d in enumerate(x) if d == 1}
        return tuple(d for i, d in enumerate(x) if i not in drop)
    if axes is None:
        return None
    out_rank = rank + len(axes)
    add = {a % out_rank for a in axes}
    rest = iter(x)
    return tuple(1 if i in add else next(rest) for i in range(out_rank))


#: Shape functions: an op's output shape from its node and its first input's shape ``x``.
_SHAPE_OF = {
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
    "Reshape": _reshape_shape,
    **dict.fromkeys(REDUCE_OPS, _reduce_shape),
    "Transpose": _transpose_shape,
    "Concat": _concat_shape,
}


def _broadcast(shapes: list[Shape]) -> Shape | None:
    """Numpy broadcasting; None where the sizes do not broadcast."""
    rank = max(len(s) for s in shapes)
    padded = [(1,) * (rank - len(s)) + tuple(s) for s in shapes]
    out = []
    for dims in zip(*padded, strict=True):
        sizes = {d for d in dims if d != 1}
        if len(sizes) > 1:
            return None
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)
