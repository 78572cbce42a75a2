"""How each op type absorbs itself into a normal form: one function per op, one table.

An absorber gets the evaluator (constants, shapes, costs), the node and the
forms of its data inputs, and returns the form of its output — or raises
``NotFoldable`` with the reason. Before the first parametric op the family is
unknown, so ops wait in a ``Pending`` form and are replayed by
``materialize`` once a Conv, ConvTranspose, Gemm or MatMul fixes it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import onnx

from linlint.analysis.forms import (
    ConvForm,
    ConvTransposeForm,
    DenseForm,
    NotFoldable,
    Pending,
    out_size,
)
from linlint.analysis.shapes import ShapeOracle
from linlint.analysis.sweep import GraphAnalysis, NodeState
from linlint.model.graphs import attr

#: Ops that compute nothing at inference time: folded away by passing their input through.
NOOP_OPS = frozenset({"Identity", "Dropout"})


def external_weight(ga: GraphAnalysis, name: str) -> bool:
    """Whether a constant may live in an external file (computed ones count as such)."""
    scope, initializer = ga.defining_scope(name)
    if initializer is not None:
        return getattr(initializer, "data_location", 0) == onnx.TensorProto.EXTERNAL
    if scope is None:
        return False
    node = scope.graph.node[scope.producer[name]]
    if node.op_type == "Constant":
        return any(a.t.data_location == onnx.TensorProto.EXTERNAL for a in node.attribute)
    return True  # computed from constants, maybe external ones


def reads_external(ga: GraphAnalysis, indices) -> bool:
    """Whether a region's weights may need an external file."""
    for j in indices:
        state = ga.nodes[j]
        if state.kind is None:
            continue
        for name in state.node.input:
            if name and name not in state.data and external_weight(ga, name):
                return True
    return False


class WeightsNotHeld(Exception):
    """A weight lives in an external file and this evaluation does not read files."""


class Evaluator:
    """Constants, shapes and per-node costs for evaluating one region."""

    def __init__(
        self, ga: GraphAnalysis, shapes: ShapeOracle, numeric: bool, held_only: bool = False
    ) -> None:
        self.ga = ga
        self.shapes = shapes
        self.numeric = numeric
        self.held_only = held_only  # never read weights from external files
        self.costs: dict[int, tuple[int, int]] = {}
        self.source: str | None = None

    def const_shape(self, name: str) -> tuple[int, ...] | None:
        _, initializer = self.ga.defining_scope(name)
        if initializer is not None:
            return tuple(initializer.dims)
        value = self.ga.const_value(name)
        if value is not None:
            return tuple(value.shape)
        return self.shapes.local(self.ga, name)

    def small(self, name: str) -> np.ndarray | None:
        """A small constant's value (pads, axes, slopes), read even when checking."""
        return self.ga.const_value(name) if name else None

    def value(self, name: str) -> np.ndarray | None:
        """A weight's value in float64 when folding; None when only checking."""
        if not self.numeric or not name:
            return None
        v = self.ga.const_value(name, large=True)
        if v is None:
            if self.held_only and external_weight(self.ga, name):
                raise WeightsNotHeld(name)
            raise NotFoldable(f"the value of '{name}' is not known before run time")
        v = np.asarray(v, dtype=np.float64)
        if not np.all(np.isfinite(v)):
            raise NotFoldable(f"the weight '{name}' holds NaN or Inf")
        return v

    def nonzero(self, name: str) -> bool:
        """Whether a bias/shift may be nonzero (unknown values count as nonzero)."""
        if not name:
            return False
        v = self.small(name)
        return v is None or bool(np.any(v != 0))

    def source_shape(self) -> tuple[int, ...] | None:
        """The source's shape: declared, or derived locally."""
        return self.shapes.local(self.ga, self.source) if self.source else None

    def source_fixed(self) -> bool:
        """Whether the model itself fixes every size of the source's shape."""
        return self.shapes.fixed(self.ga, self.source)

    def fallback_cost(self, s: NodeState) -> tuple[int, int]:
        node = s.node
        w_name = next((t for t in node.input if t and t not in s.data), "")
        w_shape = self.const_shape(w_name) or ()
        params = math.prod(w_shape) if w_shape else 0
        out = self.shapes.local(self.ga, node.output[0]) or ()
        if node.op_type == "Conv" and len(w_shape) > 2:
            return math.prod(w_shape) * math.prod(out[:1] + out[2:]), params
        if node.op_type == "ConvTranspose" and len(w_shape) > 2:
            inp = self.shapes.local(self.ga, node.input[0]) or ()
            return math.prod(w_shape) * math.prod(inp[:1] + inp[2:]), params
        rows = math.prod(out[:-1]) if len(out) > 1 else 1
        return rows * params, params


def _ints(node, name: str, n: int, default: int) -> tuple[int, ...]:
    value = attr(node, name)
    return tuple(int(v) for v in value) if value else (default,) * n


def conv_pads(node, kernel, strides, dilations, spatial, static=True) -> tuple[tuple, tuple]:
    """Begin and end pads of a Conv/AveragePool, resolving auto_pad."""
    nd = len(kernel)
    auto = attr(node, "auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        if not static and any(s > 1 for s in strides):
            raise NotFoldable(
                f"{node.name or node.op_type} pads SAME with a stride: its pads depend on an "
                "image size the model does not fix"
            )
        pb, pe = [], []
        for n, k, s, d in zip(spatial, kernel, strides, dilations, strict=True):
            total = max((math.ceil(n / s) - 1) * s + d * (k - 1) + 1 - n, 0)
            small, big = total // 2, total - total // 2
            pb.append(small if auto == "SAME_UPPER" else big)
            pe.append(big if auto == "SAME_UPPER" else small)
        return tuple(pb), tuple(pe)
    if auto == "VALID":
        return (0,) * nd, (0,) * nd
    pads = _ints(node, "pads", 2 * nd, 0)
    return tuple(pads[:nd]), tuple(pads[nd:])


def materialize(
    ev: Evaluator, pending: Pending, family: str | None, channels: int | None, nd: int = 0
):
    """Turn waiting ops into a concrete form of ``family`` over ``channels``."""
    if family is None or channels is None:
        raise NotFoldable("the region has no parametric op to carry its normal form")
    shape = ev.source_shape()
    axis = 1 if family == "conv" else -1
    ranked = bool(shape) and (len(shape) == nd + 2 if family == "conv" else True)
    if pending.ops:
        # A constant before the first parametric op may broadcast the source's channels
        # (x[1,1,H,W] · c[1,3,1,1] → Conv over 3 channels): the form is sized from the source.
        known = ranked and ev.shapes.fixed_axis(ev.ga, ev.source, axis)
        if known and shape[axis] != channels:
            raise NotFoldable(
                f"the region's input has {shape[axis]} channels; a constant broadcasts them to "
                f"the {channels} its first parametric op reads"
            )
        if not known and any(_widens(ev, op, family, nd) for op in pending.ops):
            raise NotFoldable(
                "the model does not fix the channels of the region's input: a constant before "
                "the first parametric op may broadcast them"
            )
    if family == "conv":
        spatial = tuple(shape[2:]) if ranked else (1,) * nd
        form = ConvForm.identity(channels, spatial, ev.numeric)
        form.batch = shape[0] if ranked else 1
        form.static = ranked and ev.source_fixed()
    else:
        rank = len(shape) if shape else None
        rows = math.prod(shape[:-1]) if shape and len(shape) > 1 else 1
        form = DenseForm.identity(channels, rows, rank, ev.numeric)
    for state in pending.ops:
        form = ABSORBERS[state.node.op_type](ev, state, [form])
    return form


def _widens(ev: Evaluator, state: NodeState, family: str, nd: int) -> bool:
    """Whether a constant operand of this op has more than one entry on the channel axis."""
    node = state.node
    if node.op_type not in ("Add", "Sub", "Mul", "Div"):
        return False
    const = next((t for t in node.input if t and t not in state.data), "")
    shape = ev.const_shape(const)
    if shape is None:
        return True
    if family == "conv":  # the channel axis is the (nd + 1)-th from the end
        return len(shape) > nd and shape[-(nd + 1)] != 1
    return bool(shape) and shape[-1] != 1


def _family(form) -> tuple[str, int, int]:
    if isinstance(form, ConvForm):
        return "conv", form.cin, form.nd
    if isinstance(form, DenseForm):
        return "dense", form.din, 0
    raise NotFoldable("a ConvTranspose inside branches is not folded")


# ---- parametric ops ---------------------------------------------------------------------------


def absorb_conv(ev: Evaluator, s: NodeState, forms: list):
    node = s.node
    w_shape = ev.const_shape(node.input[1])
    if not w_shape or len(w_shape) < 3:
        raise NotFoldable(f"the weight shape of {s.name} is unknown")
    groups = int(attr(node, "group", 1))
    nd = len(w_shape) - 2
    f = forms[0]
    if isinstance(f, Pending):
        f = materialize(ev, f, "conv", w_shape[1] * groups, nd)
    strides = _ints(node, "strides", nd, 1)
    dilations = _ints(node, "dilations", nd, 1)
    bias = node.input[2] if len(node.input) > 2 else ""
    has_bias = ev.nonzero(bias)
    if isinstance(f, ConvTransposeForm):
        pb, pe = conv_pads(node, w_shape[2:], strides, dilations, f.out_spatial)
        pointwise = all(k == 1 for k in w_shape[2:]) and all(x == 1 for x in strides)
        if not pointwise or any(pb) or any(pe):
            raise NotFoldable(f"{s.name} after a ConvTranspose is not a 1x1 stride-1 conv")
        if groups != 1:
            raise NotFoldable(f"{s.name} after a ConvTranspose is grouped")
        ev.costs[s.index] = (
            f.batch * w_shape[0] * w_shape[1] * math.prod(f.out_spatial),
            math.prod(w_shape) + (w_shape[0] if bias else 0),
        )
        return f.then_pointwise(
            ev.value(node.input[1]), ev.value(bias) if bias else None, w_shape[0], has_bias
        )
    if not isinstance(f, ConvForm):
        raise NotFoldable(f"{s.name} reads a tensor computed by a Gemm/MatMul")
    pb, pe = conv_pads(node, w_shape[2:], strides, dilations, f.spatial, f.static)
    out = tuple(
        out_size(n, k, st, d, a, b)
        for n, k, st, d, a, b in zip(
            f.spatial, w_shape[2:], strides, dilations, pb, pe, strict=True
        )
    )
    ev.costs[s.index] = (
        f.batch * math.prod(w_shape) * math.prod(out),
        math.prod(w_shape) + (w_shape[0] if bias else 0),
    )
    return f.then_conv(
        tuple(w_shape),
        groups,
        strides,
        dilations,
        pb,
        pe,
        ev.value(node.input[1]),
        ev.value(bias) if bias else None,
        has_bias,
        s.name,
    )


def absorb_conv_transpose(ev: Evaluator, s: NodeState, forms: list):
    node = s.node
    f = forms[0]
    if not isinstance(f, Pending) or f.ops:
        raise NotFoldable(f"{s.name}: a ConvTranspose after other linear ops is not folded")
    w_shape = ev.const_shape(node.input[1])
    if not w_shape or len(w_shape) < 3:
        raise NotFoldable(f"the weight shape of {s.name} is unknown")
    groups = int(attr(node, "group", 1))
    nd = len(w_shape) - 2
    shape = ev.source_shape()
    spatial = tuple(shape[2:]) if shape and len(shape) == nd + 2 else (1,) * nd
    strides = _ints(node, "strides", nd, 1)
    dilations = _ints(node, "dilations", nd, 1)
    outpad = _ints(node, "output_padding", nd, 0)
    pads = _ints(node, "pads", 2 * nd, 0)
    out_spatial = tuple(
        max(
            1,
            strides[a] * (spatial[a] - 1)
            + outpad[a]
            + (w_shape[2 + a] - 1) * dilations[a]
            + 1
            - pads[a]
            - pads[nd + a],
        )
        for a in range(nd)
    )
    out_shape = ev.shapes.local(ev.ga, node.output[0]) if attr(node, "output_shape") else None
    if out_shape and len(out_shape) == nd + 2:
        out_spatial = tuple(out_shape[2:])
    bias = node.input[2] if len(node.input) > 2 else ""
    cout = w_shape[1] * groups
    form = ConvTransposeForm(
        w_shape[0],
        cout,
        groups,
        tuple(w_shape[2:]),
        ev.nonzero(bias),
        spatial,
        ev.value(node.input[1]),
        ev.value(bias) if bias else None,
        ev.numeric,
    )
    form.out_spatial = out_spatial
    form.node = node
    form.batch = shape[0] if shape and len(shape) == nd + 2 else 1
    ev.costs[s.index] = (form.macs(), math.prod(w_shape) + (cout if bias else 0))
    return form


def absorb_matmul(ev: Evaluator, s: NodeState, forms: list):
    node = s.node
    if s.data[0] != node.input[0]:
        raise NotFoldable(f"{s.name} multiplies by a constant on the left")
    w_shape = ev.const_shape(node.input[1])
    if not w_shape:
        raise NotFoldable(f"the weight shape of {s.name} is unknown")
    if len(w_shape) != 2:
        raise NotFoldable(f"{s.name} has a {len(w_shape)}-D weight")
    f = forms[0]
    if isinstance(f, Pending):
        f = materialize(ev, f, "dense", w_shape[0])
    if not isinstance(f, DenseForm):
        raise NotFoldable(f"{s.name} reads a tensor computed by a Conv")
    ev.costs[s.index] = (f.rows * w_shape[0] * w_shape[1], w_shape[0] * w_shape[1])
    return f.then_matmul(w_shape, ev.value(node.input[1]), s.name)


def absorb_gemm(ev: Evaluator, s: NodeState, forms: list):
    node = s.node
    if s.data[0] != node.input[0]:
        raise NotFoldable(f"{s.name} has its constant as A")
    if int(attr(node, "transA", 0)):
        raise NotFoldable(f"{s.name} transposes its input (transA = 1)")
    b_shape = ev.const_shape(node.input[1])
    if not b_shape or len(b_shape) != 2:
        raise NotFoldable(f"the weight shape of {s.name} is unknown")
    trans_b = int(attr(node, "transB", 0))
    k, n = (b_shape[1], b_shape[0]) if trans_b else b_shape
    alpha = float(attr(node, "alpha", 1.0))
    beta = float(attr(node, "beta", 1.0))
    f = forms[0]
    if isinstance(f, Pending):
        f = materialize(ev, f, "dense", k)
    if not isinstance(f, DenseForm):
        raise NotFoldable(f"{s.name} reads a tensor computed by a Conv")
    c_name = node.input[2] if len(node.input) > 2 else ""
    params = k * n
    w = ev.value(node.input[1])
    if w is not None:
        w = alpha * (w.T if trans_b else w)
    f = f.then_matmul((k, n), w, s.name)
    if c_name:
        c_shape = ev.const_shape(c_name) or ()
        if len(c_shape) == 2 and c_shape[0] != 1:
            raise NotFoldable(f"the C of {s.name} varies by row")
        params += math.prod(c_shape)
        c = ev.value(c_name)
        shift = None if c is None else beta * np.broadcast_to(c.reshape(-1), (n,))
        f = f.then_channel_affine(None, shift, ev.nonzero(c_name) and beta != 0)
    ev.costs[s.index] = (f.rows * k * n, params)
    return replace(f, used_gemm=True, rank=2 if f.rank is None else f.rank)


# ---- affine ops ---------------------------------------------------------------------------------


def absorb_batchnorm(ev: Evaluator, s: NodeState, forms: list):
    f = forms[0]
    if isinstance(f, Pending):
        return Pending(f.ops + [s])
    node = s.node
    if ev.ga.opset < 9 and int(attr(node, "spatial", 1)) == 0:
        raise NotFoldable(f"{s.name} normalizes every element on its own (spatial = 0)")
    if isinstance(f, DenseForm) and f.rank != 2:
        raise NotFoldable(f"{s.name} normalizes axis 1, the Gemm/MatMul acts on the last axis")
    scale = shift = None
    if ev.numeric:
        gamma, beta, mean, var = (ev.value(node.input[i]) for i in range(1, 5))
        eps = float(attr(node, "epsilon", 1e-5))
        scale = gamma / np.sqrt(var + eps)
        shift = beta - mean * scale
    channels = (ev.const_shape(node.input[1]) or (0,))[0]
    if channels != f.cout if not isinstance(f, DenseForm) else channels != f.dout:
        raise NotFoldable(f"{s.name} has {channels} channels, the tensor another count")
    return f.then_channel_affine(scale, shift, True)


def _channel_vector(ev: Evaluator, f, name: str, what: str) -> np.ndarray | None:
    """Check a constant is per-channel for the form's family; its values as a vector."""
    shape = ev.const_shape(name)
    if shape is None:
        raise NotFoldable(f"the shape of the constant of {what} is unknown")
    if isinstance(f, DenseForm):
        width = f.dout
        ok = all(d == 1 for d in shape[:-1]) and (not shape or shape[-1] in (1, width))
        if len(shape) > (f.rank if f.rank is not None else 1):
            ok = False  # it would broadcast the result to a higher rank
    else:
        width = f.cout
        rank = len(f.kernel) + 2
        if not f.has_param:  # still the source itself: the constant must not raise its rank
            source = ev.source_shape()
            if source is None or len(shape) > len(source):
                raise NotFoldable(
                    f"the constant of {what} may broadcast its input to a higher rank"
                )
        padded = (1,) * (rank - len(shape)) + tuple(shape)
        ok = (
            len(shape) <= rank
            and all(d == 1 for i, d in enumerate(padded) if i != 1)
            and (padded[1] in (1, width))
        )
    if not ok:
        raise NotFoldable(f"the constant of {what} varies along more than the channel axis")
    value = ev.value(name)
    return None if value is None else np.broadcast_to(value.reshape(-1), (width,))


def absorb_arith(ev: Evaluator, s: NodeState, forms: list):
    node = s.node
    op = node.op_type
    if op in ("Add", "Sub", "Sum", "Mean", "Concat") and len(s.data) > 1:
        return absorb_join(ev, s, forms)
    f = forms[0]
    if isinstance(f, Pending):
        return Pending(f.ops + [s])
    if op == "Neg":
        return f.then_channel_affine(None if not ev.numeric else -1.0, None, False)
    if op not in ("Add", "Sub", "Mul", "Div"):
        raise NotFoldable(f"linlint does not fold through {op} ({s.name})")
    const = next(t for t in node.input if t != s.data[0])
    c = _channel_vector(ev, f, const, s.name)
    data_first = node.input[0] == s.data[0]
    scale = shift = None
    has_shift = False
    if op == "Mul":
        scale = c
    elif op == "Div":
        if c is not None and np.any(c == 0):
            raise NotFoldable(f"{s.name} divides by zero")
        scale = None if c is None else 1.0 / c
    elif op == "Add":
        shift, has_shift = c, ev.nonzero(const)
    elif data_first:
        shift, has_shift = (None if c is None else -c), ev.nonzero(const)
    else:
        scale = None if c is None else -np.ones_like(c)
        shift, has_shift = c, ev.nonzero(const)
    return f.then_channel_affine(scale, shift, has_shift)


def absorb_join(ev: Evaluator, s: NodeState, forms: list):
    node = s.node
    op = node.op_type
    dynamic = [t for t in node.input if t]
    if len(dynamic) != len(s.data):
        raise NotFoldable(f"{s.name} also adds a constant")
    concrete = [f for f in forms if not isinstance(f, Pending)]
    if not concrete:
        raise NotFoldable(f"the branches join at {s.name} before any parametric op")
    family, channels, nd = _family(concrete[0])
    forms = [
        materialize(ev, f, family, channels, nd) if isinstance(f, Pending) else f for f in forms
    ]
    if any(_family(f)[0] != family for f in forms):
        raise NotFoldable(f"{s.name} joins a Conv branch with a Gemm/MatMul branch")
    signs = [1.0] * len(forms)
    if op == "Sub":
        signs = [1.0, -1.0]
    elif op == "Mean":
        signs = [1.0 / len(forms)] * len(forms)
    concat = op == "Concat"
    if concat:
        axis = int(attr(node, "axis", 0))
        if family == "conv" and axis not in (1, -(nd + 1)):
            raise NotFoldable(f"{s.name} concatenates along axis {axis}, not channels")
        rank = forms[0].rank if family == "dense" else nd + 2
        if family == "dense" and axis != -1 and (rank is None or axis != rank - 1):
            raise NotFoldable(f"{s.name} concatenates along axis {axis}, not features")
    cls = ConvForm if family == "conv" else DenseForm
    return cls.combine(forms, signs, concat)


def absorb_pad(ev: Evaluator, s: NodeState, forms: list):
    node = s.node
    mode = attr(node, "mode", b"constant")
    mode = mode.decode() if isinstance(mode, bytes) else mode
    if mode != "constant":
        raise NotFoldable(f"{s.name} pads in {mode} mode, not with zeros")
    if ev.ga.opset < 11:
        pads = attr(node, "pads") or attr(node, "paddings")
        value = float(attr(node, "value", 0.0))
        axes = None
    else:
        pads = ev.small(node.input[1]) if len(node.input) > 1 else None
        value_t = ev.small(node.input[2]) if len(node.input) > 2 and node.input[2] else None
        value = (
            0.0
            if value_t is None and not (len(node.input) > 2 and node.input[2])
            else (None if value_t is None else float(np.asarray(value_t).reshape(-1)[0]))
        )
        axes = ev.small(node.input[3]) if len(node.input) > 3 and node.input[3] else None
    if pads is None or value is None:
        raise NotFoldable(f"the pads of {s.name} are not known before run time")
    if value != 0.0:
        raise NotFoldable(f"{s.name} pads with {value}, not zero")
    pads = [int(p) for p in np.asarray(pads).reshape(-1)]
    f = forms[0]
    if isinstance(f, Pending):
        return Pending(f.ops + [s])
    if not isinstance(f, ConvForm):
        raise NotFoldable(f"{s.name} pads a Gemm/MatMul output")
    rank = f.nd + 2
    n = len(pads) // 2
    axes_list = list(range(n)) if axes is None else [int(a) % rank for a in np.ravel(axes)]
    full_b, full_e = [0] * rank, [0] * rank
    for a, p, q in zip(axes_list, pads[:n], pads[n:], strict=True):
        full_b[a], full_e[a] = p, q
    if full_b[0] or full_e[0] or full_b[1] or full_e[1]:
        raise NotFoldable(f"{s.name} pads the batch or channel axis")
    if min(full_b + full_e) < 0:
        raise NotFoldable(f"{s.name} crops (negative pads)")
    c = f.cout
    w = np.ones((c, 1) + (1,) * f.nd) if ev.numeric else None
    return f.then_conv(
        (c, 1) + (1,) * f.nd,
        c,
        (1,) * f.nd,
        (1,) * f.nd,
        tuple(full_b[2:]),
        tuple(full_e[2:]),
        w,
        None,
        False,
        s.name,
    )


def absorb_avgpool(ev: Evaluator, s: NodeState, forms: list):
    node = s.node
    f = forms[0]
    if isinstance(f, Pending):
        return Pending(f.ops + [s])
    if not isinstance(f, ConvForm):
        raise NotFoldable(f"{s.name} pools a Gemm/MatMul output")
    kernel = tuple(int(k) for k in attr(node, "kernel_shape"))
    nd = len(kernel)
    strides = _ints(node, "strides", nd, 1)
    dilations = _ints(node, "dilations", nd, 1)
    pb, pe = conv_pads(node, kernel, strides, dilations, f.spatial, f.static)
    if (any(pb) or any(pe)) and not int(attr(node, "count_include_pad", 0)):
        raise NotFoldable(f"{s.name} pads without count_include_pad: its divisor varies")
    if int(attr(node, "ceil_mode", 0)) and any(st > 1 for st in strides):
        if not f.static:
            raise NotFoldable(
                f"{s.name} uses ceil_mode with a stride: exact only on sizes its stride "
                "divides, and the model does not fix the size"
            )
        for n, k, st, d, a, b in zip(f.spatial, kernel, strides, dilations, pb, pe, strict=True):
            if (n + a + b - d * (k - 1) - 1) % st:
                raise NotFoldable(f"{s.name} uses ceil_mode on a size it does not divide")
    c = f.cout
    w = np.full((c, 1) + kernel, 1.0 / math.prod(kernel)) if ev.numeric else None
    return f.then_conv((c, 1) + kernel, c, strides, dilations, pb, pe, w, None, False, s.name)


def _axes(ev: Evaluator, node) -> list[int] | None:
    value = attr(node, "axes")
    if value is None and len(node.input) > 1 and node.input[1]:
        value = ev.small(node.input[1])
        if value is None:
            return None
    return [int(a) for a in np.ravel(value)] if value is not None else []


def absorb_reshape(ev: Evaluator, s: NodeState, forms: list):
    """Shape ops that keep the last axis commute with a DenseForm: they are re-applied
    after the folded MatMul, in order (the Reshape target's width patched)."""
    node = s.node
    op = node.op_type
    f = forms[0]
    if isinstance(f, Pending):
        in_shape = ev.shapes.local(ev.ga, node.input[0])
        out_shape = ev.shapes.local(ev.ga, node.output[0])
        # symbolic dims count as 1: they prove nothing here
        fixed = ev.shapes.fixed(ev.ga, node.input[0]) and ev.shapes.fixed(ev.ga, node.output[0])
        if fixed and in_shape and out_shape and in_shape[-1:] == out_shape[-1:]:
            return Pending(f.ops + [s])
        raise NotFoldable(f"{s.name} may change the last axis before the first parametric op")
    if not isinstance(f, DenseForm):
        raise NotFoldable(f"{s.name} reshapes a Conv output")
    keeps = False
    rank = None
    extra: tuple = ()
    patch = False
    if op == "Reshape":
        if len(node.input) < 2:
            raise NotFoldable(f"{s.name} holds its target in an attribute (opset < 5)")
        target = ev.small(node.input[1])
        if target is None:
            raise NotFoldable(f"the target shape of {s.name} is not known before run time")
        target = [int(t) for t in np.ravel(target)]
        rank = len(target)
        zeros = [i for i, t in enumerate(target) if t == 0]
        if zeros and (f.rank is None or attr(node, "allowzero", 0)):
            raise NotFoldable(f"{s.name} copies dims (0 entries) of a tensor of unknown rank")
        # a 0 copies the input's dim at its index: fine for leading dims, and for the
        # last one only where it lands on the last axis again
        for i in zeros:
            if i == f.rank - 1 and i != rank - 1:
                raise NotFoldable(f"{s.name} copies the feature width into a leading axis")
        last = target[-1] if target else None
        if last == f.dout:
            keeps, patch = True, True
        elif last == 0 and f.rank == rank:
            keeps = True
        elif last != -1:
            raise NotFoldable(f"{s.name} changes the last axis")
        extra = (tuple(target),)
    elif op == "Flatten":
        axis = int(attr(node, "axis", 1))
        keeps = f.rank is not None and axis in (-1, f.rank - 1)
        rank = 2
    elif op in ("Squeeze", "Unsqueeze"):
        axes = _axes(ev, node)
        if len(node.input) > 1 and node.input[1]:  # opset 13+: re-emitted with its axes
            if axes is None:
                raise NotFoldable(f"the axes of {s.name} are not known before run time")
            extra = (tuple(axes),)
        if axes is not None and f.rank is not None:
            out_rank = f.rank - len(axes) if op == "Squeeze" else f.rank + len(axes)
            norm = {a % (f.rank if op == "Squeeze" else out_rank) for a in axes}
            last = f.rank - 1 if op == "Squeeze" else out_rank - 1
            keeps = bool(axes) and last not in norm
            if not keeps:
                raise NotFoldable(f"{s.name} moves the last axis")
            rank = out_rank
    if op == "Squeeze" and not _axes(ev, node):
        raise NotFoldable(f"{s.name} squeezes every axis of size 1, the width may be one")
    if not keeps:
        fixed = ev.shapes.fixed(ev.ga, node.input[0]) and ev.shapes.fixed(ev.ga, node.output[0])
        if not fixed:  # symbolic dims count as 1: they prove nothing here
            raise NotFoldable(f"{s.name} may change the last axis")
        in_shape = ev.shapes.local(ev.ga, node.input[0])
        out_shape = ev.shapes.local(ev.ga, node.output[0])
        if not (in_shape and out_shape and in_shape[-1] == out_shape[-1] == f.dout):
            raise NotFoldable(f"{s.name} changes the last axis")
        rank = len(out_shape)
    attrs = []
    for a in node.attribute:
        copy = onnx.AttributeProto()
        copy.CopyFrom(a)
        attrs.append(copy)
    step = (op, attrs, extra, patch)
    return replace(f, tail=f.tail + (step,), rank=rank)


ABSORBERS: dict[str, Callable] = {
    "Conv": absorb_conv,
    "ConvTranspose": absorb_conv_transpose,
    "MatMul": absorb_matmul,
    "Gemm": absorb_gemm,
    "BatchNormalization": absorb_batchnorm,
    "Add": absorb_arith,
    "Sub": absorb_arith,
    "Mul": absorb_arith,
    "Div": absorb_arith,
    "Neg": absorb_arith,
    "Sum": absorb_join,
    "Mean": absorb_join,
    "Concat": absorb_join,
    "Pad": absorb_pad,
    "AveragePool": absorb_avgpool,
    "Reshape": absorb_reshape,
    "Flatten": absorb_reshape,
    "Squeeze": absorb_reshape,
    "Unsqueeze": absorb_reshape,
}
