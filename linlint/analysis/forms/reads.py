"""What a folded op reads against what the ops it replaces read, for each output.

On finite values a zero weight changes nothing, but ``0·Inf`` is NaN: a fold that reads,
with a zero weight, an input the original never reads for that output turns an Inf there
into NaN where the original stays finite. So a fold is exact only where its op reads no
more than the original, position by position and channel by channel:

- chained convs: the sums ``a·d1 + s1·b·d2`` of their taps fill the composed kernel
  (``chained_taps``), and their channel groups cover the composed group
  (``chained_groups_fill``);
- one conv flattened into a Gemm: its windows read every input position
  (``unread_positions``);
- parallel branches: their windows together fill the common window (``branch_taps``) and
  their groups the common group (``summed_groups_fill``); a concatenation's channels each
  read only their branch's window and group (``ConvForm.partial_reads``).
"""

from __future__ import annotations

import itertools
from typing import Protocol

from linlint.analysis.forms.affine import NotFoldable
from linlint.analysis.forms.kernels import gcd_all


class ConvForm(Protocol):
    """What these checks read of a conv form (``linlint.analysis.forms.conv.ConvForm``)."""

    cin: int
    cout: int
    groups: int
    kernel: tuple[int, ...]
    dilations: tuple[int, ...]
    pads_begin: tuple[int, ...]
    pads_end: tuple[int, ...]

    @property
    def nd(self) -> int: ...


def chained_taps(k1: int, d1: int, s1: int, k2: int, d2: int) -> int:
    """How many distinct input positions one output of conv1 (kernel ``k1``, dilation
    ``d1``, stride ``s1``) then conv2 (``k2``, ``d2``) reads, along one axis: the sums
    ``a·d1 + s1·b·d2``. Fewer than the composed kernel's taps means that kernel would also
    read positions the two never read for that output."""
    return len({a * d1 + s1 * b * d2 for a in range(k1) for b in range(k2)})


def unread_positions(length: int, out: int, k: int, s: int, d: int, pb: int) -> int:
    """How many of ``length`` input positions no window of an ``out``-long output reads."""
    read = {q * s + j * d - pb for q in range(out) for j in range(k)}
    return sum(1 for p in range(length) if p not in read)


def chained_groups_fill(cin: int, cmid: int, g1: int, cout: int, g2: int, g: int) -> bool:
    """Whether conv1 (``cin → cmid`` in ``g1`` groups) then conv2 (``cmid → cout`` in
    ``g2``) read, for every output, every input channel of its group in one conv of ``g``
    groups: the mid channels of a conv2 group span whole conv1 groups enough to cover it."""
    if g1 == 1 or g2 == 1:
        return True  # one of the two reads every channel for every output
    s1, s2 = cmid // g1, cmid // g2  # mid channels per conv1 group, per conv2 group
    for j in range(g2):
        first, last = j * s2, (j + 1) * s2 - 1
        read = (last // s1 - first // s1 + 1) * (cin // g1)
        if read < cin // g:
            return False
    return True


def summed_groups_fill(forms: list[ConvForm], g: int) -> bool:
    """Whether, for every output channel, the summed branches read together every input
    channel of its group in one conv of ``g`` groups."""
    if len({f.groups for f in forms}) == 1 or any(f.groups == 1 for f in forms):
        return True
    cin, cout = forms[0].cin, forms[0].cout
    for c in range(cout):
        read: set[int] = set()
        for f in forms:
            k = c // (cout // f.groups)
            read.update(range(k * (cin // f.groups), (k + 1) * (cin // f.groups)))
        if len(read) < cin // g:
            return False
    return True


def branch_window(f: ConvForm, dil, pb) -> tuple[slice, ...]:
    """Where branch ``f``'s kernel sits in a common window (dilation ``dil``, pads ``pb``),
    axis by axis: the taps it reads."""
    out = []
    for a in range(f.nd):
        off = (-f.pads_begin[a] + pb[a]) // dil[a]
        step = f.dilations[a] // dil[a] if f.kernel[a] > 1 else 1
        out.append(slice(off, off + step * (f.kernel[a] - 1) + 1, step))
    return tuple(out)


def branch_taps(f: ConvForm, dil, pb) -> set[tuple[int, ...]]:
    """The taps of a common window (dilation ``dil``, pads ``pb``) that branch ``f`` reads."""
    axes = [range(s.start, s.stop, s.step) for s in branch_window(f, dil, pb)]
    return set(itertools.product(*axes))


def common_window(forms: list[ConvForm]) -> tuple[tuple[int, ...], ...]:
    """Dilation, kernel and pads of one window that holds every branch's kernel where its
    pads put it; refused when the pads do not centre the kernels alike."""
    dil, kernel, pb, pe = [], [], [], []
    for a in range(forms[0].nd):
        starts = [-f.pads_begin[a] for f in forms]
        ends = [-f.pads_begin[a] + f.dilations[a] * (f.kernel[a] - 1) for f in forms]
        lo, hi = min(starts), max(ends)
        steps = [f.dilations[a] for f in forms if f.kernel[a] > 1]
        steps += [s - lo for s in starts]
        g = gcd_all(steps)
        tails = {f.pads_end[a] - e for f, e in zip(forms, ends, strict=True)}
        if len(tails) != 1:
            raise NotFoldable("the branches' pads do not centre their kernels")
        dil.append(g)
        kernel.append((hi - lo) // g + 1)
        pb.append(-lo)
        pe.append(hi + tails.pop())
    if min(pe) < 0:
        raise NotFoldable("the branches' pads do not centre their kernels")
    return tuple(dil), tuple(kernel), tuple(pb), tuple(pe)
