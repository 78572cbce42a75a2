"""Sliding windows: the attributes of a Conv or pool window (``ints``, ``conv_pads``), and
the window ops that become depthwise convs — zero Pad and AveragePool."""

from __future__ import annotations

import math

import numpy as np

from linlint.analysis.absorb.evaluator import Evaluator
from linlint.analysis.absorb.pending import Pending
from linlint.analysis.forms import ConvForm, NotFoldable
from linlint.analysis.forms.affine import STATIC_SHAPES
from linlint.analysis.forms.kernels import same_pads, window_span
from linlint.analysis.sweep import NodeState
from linlint.model.graphs import attr, text_attr
from linlint.wording import quoted


def ints(node, name: str, n: int, default: int) -> tuple[int, ...]:
    """An ints attribute, or ``n`` times ``default`` when absent."""
    value = attr(node, name)
    return tuple(int(v) for v in value) if value else (default,) * n


def conv_pads(node, kernel, strides, dilations, spatial, fixed_sizes=True) -> tuple[tuple, tuple]:
    """Begin and end pads of a Conv/AveragePool, resolving auto_pad."""
    nd = len(kernel)
    auto = text_attr(node, "auto_pad", "NOTSET")
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        if not fixed_sizes and any(s > 1 for s in strides):
            named = quoted(node.name) if node.name else node.op_type
            raise NotFoldable(
                f"{named} pads SAME with a stride: its pads depend on an "
                f"image size the model does not fix; {STATIC_SHAPES}"
            )
        upper = auto == "SAME_UPPER"
        pads = [
            same_pads(n, k, s, d, upper)
            for n, k, s, d in zip(spatial, kernel, strides, dilations, strict=True)
        ]
        return tuple(b for b, _ in pads), tuple(e for _, e in pads)
    if auto == "VALID":
        return (0,) * nd, (0,) * nd
    pads = ints(node, "pads", 2 * nd, 0)
    return tuple(pads[:nd]), tuple(pads[nd:])


def absorb_pad(ev: Evaluator, s: NodeState, forms: list):
    """A zero Pad of spatial axes: a 1x1 depthwise conv of ones with those pads."""
    node = s.node
    mode = text_attr(node, "mode", "constant")
    if mode != "constant":
        raise NotFoldable(f"{quoted(s.name)} pads in {mode} mode, not with zeros")
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
        raise NotFoldable(f"the pads of {quoted(s.name)} are not known before run time")
    if value != 0.0:
        raise NotFoldable(f"{quoted(s.name)} pads with {value}, not zero")
    pads = [int(p) for p in np.asarray(pads).reshape(-1)]
    f = forms[0]
    if isinstance(f, Pending):
        return f.then(s, absorb_pad)
    if not isinstance(f, ConvForm) or f.perm is not None:
        raise NotFoldable(f"{quoted(s.name)} pads a Gemm/MatMul or transposed output")
    rank = f.nd + 2
    n = len(pads) // 2
    axes_list = list(range(n)) if axes is None else [int(a) % rank for a in np.ravel(axes)]
    full_b, full_e = [0] * rank, [0] * rank
    for a, p, q in zip(axes_list, pads[:n], pads[n:], strict=True):
        full_b[a], full_e[a] = p, q
    if full_b[0] or full_e[0] or full_b[1] or full_e[1]:
        raise NotFoldable(f"{quoted(s.name)} pads the batch or channel axis")
    if min(full_b + full_e) < 0:
        raise NotFoldable(f"{quoted(s.name)} crops (negative pads)")
    c = f.cout
    ones = (1,) * f.nd
    return f.then_conv(
        w_shape=(c, 1) + ones,
        groups=c,
        strides=ones,
        dilations=ones,
        pads_begin=tuple(full_b[2:]),
        pads_end=tuple(full_e[2:]),
        w=np.ones((c, 1) + ones) if ev.numeric else None,
        b=None,
        has_bias=False,
        what=quoted(s.name),
    )


def absorb_avgpool(ev: Evaluator, s: NodeState, forms: list):
    """An AveragePool that counts its pads: a depthwise conv of ``1/k``."""
    node = s.node
    f = forms[0]
    if isinstance(f, Pending):
        return f.then(s, absorb_avgpool)
    if not isinstance(f, ConvForm) or f.perm is not None:
        raise NotFoldable(f"{quoted(s.name)} pools a Gemm/MatMul or transposed output")
    kernel = tuple(int(k) for k in attr(node, "kernel_shape"))
    nd = len(kernel)
    strides = ints(node, "strides", nd, 1)
    dilations = ints(node, "dilations", nd, 1)
    pb, pe = conv_pads(node, kernel, strides, dilations, f.spatial, f.fixed_sizes)
    if (any(pb) or any(pe)) and not int(attr(node, "count_include_pad", 0)):
        raise NotFoldable(f"{quoted(s.name)} pads without count_include_pad: its divisor varies")
    if int(attr(node, "ceil_mode", 0)) and any(st > 1 for st in strides):
        if not f.fixed_sizes:
            raise NotFoldable(
                f"{quoted(s.name)} uses ceil_mode with a stride: exact only on sizes its stride "
                f"divides, and the model does not fix the size; {STATIC_SHAPES}"
            )
        for n, k, st, d, a, b in zip(f.spatial, kernel, strides, dilations, pb, pe, strict=True):
            if window_span(n, k, d, a, b) % st:
                raise NotFoldable(f"{quoted(s.name)} uses ceil_mode on a size it does not divide")
    c = f.cout
    return f.then_conv(
        w_shape=(c, 1) + kernel,
        groups=c,
        strides=strides,
        dilations=dilations,
        pads_begin=pb,
        pads_end=pe,
        w=np.full((c, 1) + kernel, 1.0 / math.prod(kernel)) if ev.numeric else None,
        b=None,
        has_bias=False,
        what=quoted(s.name),
    )
