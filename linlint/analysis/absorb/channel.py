"""Per-channel affines: BatchNormalization, and Add/Sub/Mul/Div/Neg by a constant that
varies along the channel axis at most (Add, Sub with two data inputs are joins)."""

from __future__ import annotations

import numpy as np

from linlint.analysis.absorb.evaluator import Evaluator
from linlint.analysis.absorb.joins import absorb_join
from linlint.analysis.absorb.pending import Pending
from linlint.analysis.forms import ConvForm, DenseForm, NotFoldable
from linlint.analysis.sweep import NodeState
from linlint.model.graphs import attr
from linlint.wording import quoted


def absorb_batchnorm(ev: Evaluator, s: NodeState, forms: list):
    f = forms[0]
    if isinstance(f, Pending):
        return f.then(s, absorb_batchnorm)
    node = s.node
    if ev.ga.opset < 9 and int(attr(node, "spatial", 1)) == 0:
        raise NotFoldable(f"{quoted(s.name)} normalizes every element on its own (spatial = 0)")
    if isinstance(f, DenseForm) and f.pair:
        raise NotFoldable(f"{quoted(s.name)} normalizes the result of a MatMul that mixes two axes")
    if isinstance(f, DenseForm) and f.feature_position() != 1:
        raise NotFoldable(
            f"{quoted(s.name)} normalizes axis 1, the Gemm/MatMul acts on another axis"
        )
    if isinstance(f, ConvForm) and f.channel_position() != 1:
        raise NotFoldable(f"{quoted(s.name)} normalizes axis 1, a Transpose moved the channels")
    scale = shift = None
    if ev.numeric:
        gamma, beta, mean, var = (ev.value(node.input[i]) for i in range(1, 5))
        eps = float(attr(node, "epsilon", 1e-5))
        scale = gamma / np.sqrt(var + eps)
        shift = beta - mean * scale
    channels = (ev.const_shape(node.input[1]) or (0,))[0]
    if channels != f.cout if not isinstance(f, DenseForm) else channels != f.dout:
        raise NotFoldable(f"{quoted(s.name)} has {channels} channels, the tensor another count")
    return f.then_channel_affine(scale, shift, True)


def _channel_vector(ev: Evaluator, f, name: str, what: str) -> np.ndarray | None:
    """Check a constant is per-channel for the form's family; its values as a vector."""
    shape = ev.const_shape(name)
    if shape is None:
        raise NotFoldable(f"the shape of the constant of {what} is unknown")
    if isinstance(f, DenseForm) and f.pair:  # features on the last two axes, [p, q]
        q = f.pair[1]
        padded = (1,) * (f.rank - len(shape)) + tuple(shape)
        last = padded[-2:]
        ok = (
            len(shape) <= f.rank
            and all(d == 1 for d in padded[:-2])
            and last[0] in (1, f.dout // q)
            and last[1] in (1, q)
        )
        if not ok:
            raise NotFoldable(f"the constant of {what} varies along more than the last two axes")
        value = ev.value(name)
        if value is None:
            return None
        return np.broadcast_to(value.reshape(last), (f.dout // q, q)).reshape(-1)
    if isinstance(f, DenseForm) and f.feature_axis is not None:
        width, rank, axis = f.dout, f.rank, f.feature_axis
        padded = (1,) * (rank - len(shape)) + tuple(shape)
        ok = (
            len(shape) <= rank
            and all(d == 1 for i, d in enumerate(padded) if i != axis)
            and padded[axis] in (1, width)
        )
    elif isinstance(f, DenseForm):
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
        axis = f.channel_position()
        ok = (
            len(shape) <= rank
            and all(d == 1 for i, d in enumerate(padded) if i != axis)
            and (padded[axis] in (1, width))
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
        return f.then(s, absorb_arith)
    if op == "Neg":
        return f.then_channel_affine(None if not ev.numeric else -1.0, None, False)
    if op not in ("Add", "Sub", "Mul", "Div"):
        raise NotFoldable(f"linlint does not fold through {op} ({quoted(s.name)})")
    const = next(t for t in node.input if t != s.data[0])
    c = _channel_vector(ev, f, const, quoted(s.name))
    data_first = node.input[0] == s.data[0]
    scale = shift = None
    has_shift = False
    if op == "Mul":
        scale = c
    elif op == "Div":
        if c is not None and np.any(c == 0):
            raise NotFoldable(f"{quoted(s.name)} divides by zero")
        scale = None if c is None else 1.0 / c
    elif op == "Add":
        shift, has_shift = c, ev.nonzero(const)
    elif data_first:
        shift, has_shift = (None if c is None else -c), ev.nonzero(const)
    else:
        scale = None if c is None else -np.ones_like(c)
        shift, has_shift = c, ev.nonzero(const)
    return f.then_channel_affine(scale, shift, has_shift)
