"""A MatMul over a second axis: ``x[…, N, C] → MatMul(W1) → Transpose(last two) →
MatMul(W2 [N, N'])`` (MLP-Mixer's token and channel mixing without an activation) is one
MatMul on the last two axes flattened (``DenseForm.then_mix``). It holds ``N·C·C'·N'``
weights for the chain's ``C·C' + N·N'`` and costs that many MACs per row, so it is folded
only as growth (LL002, ``fold --allow-growth``): where it would not raise the region's
MACs (a width of 1 or 2 on the way) it is left as it is, and so is a weight larger than
``MAX_DENSE``."""

from __future__ import annotations

from linlint.analysis.absorb.evaluator import Evaluator
from linlint.analysis.absorb.flatten import MAX_DENSE
from linlint.analysis.forms import DenseForm, NotFoldable
from linlint.analysis.forms.affine import STATIC_SHAPES
from linlint.analysis.sweep import NodeState
from linlint.wording import quoted


def mix_axes(ev: Evaluator, s: NodeState, f: DenseForm, w_shape, w) -> DenseForm:
    """``f`` (a dense form whose last two axes a Transpose swapped) then the MatMul ``s`` of
    weight ``w`` (shape ``w_shape``) on its new last axis, the source's second-to-last."""
    if f.pair:
        raise NotFoldable(f"{quoted(s.name)} follows a MatMul that mixes two axes")
    if not f.swaps_last_two() or f.transposed_source or f.flattened_source:
        raise NotFoldable(f"{quoted(s.name)} reads the last axis, a Transpose moved the features")
    n, width = w_shape
    axis = f.rank - 2
    source = ev.source_shape()
    if not (source and len(source) == f.rank and ev.shapes.fixed_axis(ev.ga, ev.source, axis)):
        raise NotFoldable(
            f"{quoted(s.name)} reads axis {axis} of the region's input, whose size the model "
            f"does not fix; {STATIC_SHAPES}"
        )
    if source[axis] != n:
        raise NotFoldable(f"{quoted(s.name)} expects {n} rows, gets {source[axis]}")
    if ev.ga.opset < 5:
        raise NotFoldable(f"{quoted(s.name)} mixes two axes: the fold needs a Reshape of opset 5")
    size = n * f.din * f.dout * width
    if size > MAX_DENSE:
        raise NotFoldable(
            f"{quoted(s.name)} mixes two axes: as one MatMul on them flattened it has "
            f"{size:,} weights"
        )
    form = f.then_mix(n, w_shape, w)
    # the region's parametric ops so far, s too: the ops after a mix cost no MACs
    macs = sum(m for m, _ in ev.costs.values())
    if form.macs() <= macs:
        weights = sum(p for _, p in ev.costs.values())
        raise NotFoldable(
            f"{quoted(s.name)} mixes two axes: one MatMul on them flattened "
            f"({form.din}→{form.dout}) "
            f"would not raise MACs ({macs:,} → {form.macs():,}) but holds "
            f"{form.din * form.dout:,} weights for {weights:,}; linlint folds a MatMul over a "
            f"second axis only as growth"
        )
    return form
