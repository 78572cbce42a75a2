"""Shape ops on a Gemm/MatMul output: Reshape, Flatten, Squeeze and Unsqueeze that keep
the last axis, and Transpose (which moves it), commute with a ``DenseForm`` and are
re-applied after the folded MatMul."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import onnx

from linlint.analysis.absorb.evaluator import Evaluator
from linlint.analysis.absorb.flatten import flatten_conv
from linlint.analysis.absorb.pending import Pending
from linlint.analysis.forms import ConvForm, DenseForm, NotFoldable
from linlint.analysis.forms.affine import STATIC_SHAPES
from linlint.analysis.forms.dense import swap_last_two
from linlint.analysis.shapes import reshaped, transpose_perm
from linlint.analysis.sweep import NodeState
from linlint.model.graphs import attr
from linlint.wording import quoted


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
            return f.then(s, absorb_reshape)
        if fixed:
            raise NotFoldable(
                f"{quoted(s.name)} changes the last axis before the first parametric op"
            )
        raise NotFoldable(
            f"{quoted(s.name)} may change the last axis before the first parametric op: whether it "
            f"keeps it depends on sizes the model does not fix; {STATIC_SHAPES}"
        )
    if isinstance(f, ConvForm):
        return flatten_conv(ev, s, f)
    if not isinstance(f, DenseForm):
        raise NotFoldable(f"{quoted(s.name)} reshapes a Conv output")
    if f.feature_axis is not None:
        raise NotFoldable(f"{quoted(s.name)} reshapes after a Transpose moved the features")
    if f.pair:
        raise NotFoldable(f"{quoted(s.name)} reshapes the result of a MatMul that mixes two axes")
    keeps = False
    rank = None
    extra: tuple = ()
    patch = False
    if op == "Reshape":
        if len(node.input) < 2:
            raise NotFoldable(f"{quoted(s.name)} holds its target in an attribute (opset < 5)")
        target = ev.small(node.input[1])
        if target is None:
            before = _shape_read_form(ev, f, node.input[1])
            if before is not None:  # Reshape(h, Shape(t)): back to t's shape, the MatMul's own
                return replace(f, tail=(), rank=before.rank)
            raise NotFoldable(f"the target shape of {quoted(s.name)} is not known before run time")
        target = [int(t) for t in np.ravel(target)]
        rank = len(target)
        zeros = [i for i, t in enumerate(target) if t == 0]
        if zeros and (f.rank is None or attr(node, "allowzero", 0)):
            raise NotFoldable(
                f"{quoted(s.name)} copies dims (0 entries) of a tensor of unknown rank"
            )
        # a 0 copies the input's dim at its index: fine for leading dims, and for the
        # last one only where it lands on the last axis again
        for i in zeros:
            if i == f.rank - 1 and i != rank - 1:
                raise NotFoldable(f"{quoted(s.name)} copies the feature width into a leading axis")
        last = target[-1] if target else None
        if last == f.dout:
            keeps, patch = True, True
        elif last == 0 and f.rank == rank:
            keeps = True
        elif last != -1:
            raise NotFoldable(f"{quoted(s.name)} changes the last axis")
        extra = (tuple(target),)
    elif op == "Flatten":
        axis = int(attr(node, "axis", 1))
        keeps = f.rank is not None and axis in (-1, f.rank - 1)
        rank = 2
    elif op in ("Squeeze", "Unsqueeze"):
        axes = _axes(ev, node)
        if len(node.input) > 1 and node.input[1]:  # opset 13+: re-emitted with its axes
            if axes is None:
                raise NotFoldable(f"the axes of {quoted(s.name)} are not known before run time")
            extra = (tuple(axes),)
        if axes is not None and f.rank is not None:
            out_rank = f.rank - len(axes) if op == "Squeeze" else f.rank + len(axes)
            norm = {a % (f.rank if op == "Squeeze" else out_rank) for a in axes}
            last = f.rank - 1 if op == "Squeeze" else out_rank - 1
            keeps = bool(axes) and last not in norm
            if not keeps:
                raise NotFoldable(f"{quoted(s.name)} moves the last axis")
            rank = out_rank
    if op == "Squeeze" and not _axes(ev, node):
        raise NotFoldable(f"{quoted(s.name)} squeezes every axis of size 1, the width may be one")
    if not keeps:
        fixed = ev.shapes.fixed(ev.ga, node.input[0]) and ev.shapes.fixed(ev.ga, node.output[0])
        if not fixed:  # symbolic dims count as 1: they prove nothing here
            raise NotFoldable(
                f"{quoted(s.name)} may change the last axis: whether it keeps it depends on sizes "
                f"the model does not fix; {STATIC_SHAPES}"
            )
        in_shape = ev.shapes.local(ev.ga, node.input[0])
        out_shape = ev.shapes.local(ev.ga, node.output[0])
        if not (in_shape and out_shape and in_shape[-1] == out_shape[-1] == f.dout):
            raise NotFoldable(f"{quoted(s.name)} changes the last axis")
        rank = len(out_shape)
        f = replace(f, width_bound=True)  # it keeps the last axis at this width only
    tail = f.tail
    if op == "Reshape" and 0 not in extra[0]:
        # A Reshape to an explicit target undoes every reshape before it (none moves data)
        while tail and tail[-1][0] in RESHAPES:
            tail = tail[:-1]
        if not tail and _restores_source(ev, f, extra[0]):
            return replace(f, tail=(), rank=len(extra[0]))
    return replace(f, tail=tail + (_step(node, extra, patch),), rank=rank)


#: Tail steps that only regroup the axes in row-major order.
RESHAPES = frozenset({"Reshape", "Flatten", "Squeeze", "Unsqueeze"})


def _shape_read_form(ev: Evaluator, f: DenseForm, target: str) -> DenseForm | None:
    """The form of the region tensor ``t`` when ``target`` is ``Shape(t)`` and a Reshape
    to it undoes the tail: ``t`` is a dense result before any re-applied shape op, as
    wide as ``f``, and the tail holds reshapes only."""
    index = ev.ga.producer.get(target)
    if index is None:
        return None
    node = ev.ga.nodes[index].node
    if node.op_type != "Shape" or len(node.attribute) or not node.input:
        return None
    before = ev.forms.get(node.input[0])
    if f.has_shape_of(before) and all(step[0] in RESHAPES for step in f.tail):
        return before
    return None


def _restores_source(ev: Evaluator, f: DenseForm, target: tuple[int, ...]) -> bool:
    """Whether a Reshape to ``target`` gives the folded MatMul's own output shape, on
    sizes the model fixes: then it is the identity there and is not re-applied."""
    source = ev.source_shape()
    if not source or not ev.source_fixed() or f.transposed_source or f.flattened_source:
        return False
    out = (*source[:-1], f.dout)
    return reshaped(list(target), out) == out


def absorb_transpose(ev: Evaluator, s: NodeState, forms: list):
    """A Transpose after a Gemm/MatMul is re-applied after the folded MatMul like a shape
    op; it moves the features to another axis, where per-channel constants then apply."""
    f = forms[0]
    if isinstance(f, Pending):
        raise NotFoldable(
            f"linlint does not fold through Transpose before the first MatMul ({quoted(s.name)})"
        )
    if isinstance(f, ConvForm):
        return _transpose_conv(s, f)
    if not isinstance(f, DenseForm):
        raise NotFoldable(f"{quoted(s.name)} moves the axes of a ConvTranspose output")
    if f.rank is None:
        raise NotFoldable(f"{quoted(s.name)} transposes a tensor of unknown rank")
    if f.pair:  # its features are its last two axes: only a swap of the two keeps them
        perm = _perm(s, f.rank)
        if perm == list(range(f.rank)):
            return f
        if perm != swap_last_two(f.rank):
            raise NotFoldable(f"{quoted(s.name)} moves the axes of a MatMul that mixes two axes")
        return f.then_swap()
    moved = _perm(s, f.rank).index(f.feature_position())
    axis = None if moved == f.rank - 1 else moved
    return replace(f, tail=f.tail + (_step(s.node, (), False),), feature_axis=axis)


def _transpose_conv(s: NodeState, f: ConvForm) -> ConvForm:
    """A Transpose after a conv (NCHW → NHWC) is re-applied after the folded Conv; two that
    undo each other vanish."""
    rank = f.nd + 2
    before = f.perm or tuple(range(rank))
    composed = tuple(before[p] for p in _perm(s, rank))
    return replace(f, perm=None if composed == tuple(range(rank)) else composed)


def _perm(s: NodeState, rank: int) -> list[int]:
    """The Transpose's perm over ``rank`` axes, or NotFoldable when it does not fit them."""
    perm = transpose_perm(s.node, rank)
    if sorted(perm) != list(range(rank)):
        raise NotFoldable(f"the perm of {quoted(s.name)} does not fit its input's rank")
    return perm


def _step(node, extra: tuple, patch: bool) -> tuple:
    """One tail step: the op, a copy of its attributes, its constant inputs, the patch flag."""
    attrs = []
    for a in node.attribute:
        copy = onnx.AttributeProto()
        copy.CopyFrom(a)
        attrs.append(copy)
    return (node.op_type, attrs, extra, patch)
