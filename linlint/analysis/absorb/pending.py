"""Ops that wait for a family: before the first parametric op the region's normal form
is not known, so ops wait in a ``Pending`` form, and ``materialize`` replays them on the
identity form of the family a Conv, ConvTranspose, Gemm or MatMul fixes."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from linlint.analysis.absorb.evaluator import Evaluator
from linlint.analysis.forms import ConvForm, DenseForm, NotFoldable
from linlint.analysis.forms.affine import STATIC_SHAPES
from linlint.analysis.sweep import NodeState


@dataclass(frozen=True)
class Pending:
    """Ops seen before the first parametric op, each with the absorber that replays it."""

    ops: tuple[tuple[NodeState, Callable], ...] = ()

    def then(self, state: NodeState, absorb: Callable) -> Pending:
        """These ops, then ``state``, replayed by ``absorb`` once the family is known."""
        return Pending(self.ops + ((state, absorb),))


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
        if not known and any(_widens(ev, state, family, nd) for state, _ in pending.ops):
            raise NotFoldable(
                "the model does not fix the channels of the region's input: a constant before "
                f"the first parametric op may broadcast them; {STATIC_SHAPES}"
            )
    # An unknown source takes size 1 (batch, spatial, rows) as a placeholder: exactness does
    # not read it, and figures counted on it are unknown (``cost_basis``), never decided on.
    if family == "conv":
        form = ConvForm.identity(
            channels,
            tuple(shape[2:]) if ranked else (1,) * nd,
            ev.numeric,
            batch=shape[0] if ranked else 1,
            fixed_sizes=ranked and ev.source_fixed(),
        )
    else:
        rank = len(shape) if shape else None
        rows = math.prod(shape[:-1]) if shape and len(shape) > 1 else 1
        form = DenseForm.identity(channels, rows, rank, ev.numeric)
    for state, absorb in pending.ops:
        form = absorb(ev, state, [form])
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
