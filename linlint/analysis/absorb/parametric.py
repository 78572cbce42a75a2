"""The parametric ops: Conv, ConvTranspose, MatMul and Gemm, each fixing the region's
family (materializing the ops that waited for it) and recording its cost."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from linlint.analysis.absorb.evaluator import Evaluator
from linlint.analysis.absorb.mix import mix_axes
from linlint.analysis.absorb.pending import Pending, materialize
from linlint.analysis.absorb.windows import conv_pads, ints
from linlint.analysis.forms import ConvForm, ConvTransposeForm, DenseForm, NotFoldable, out_size
from linlint.analysis.forms.kernels import transpose_out_size
from linlint.analysis.sweep import NodeState
from linlint.model.graphs import attr
from linlint.wording import quoted


def absorb_conv(ev: Evaluator, s: NodeState, forms: list):
    node = s.node
    w_shape = ev.const_shape(node.input[1])
    if not w_shape or len(w_shape) < 3:
        raise NotFoldable(f"the weight shape of {quoted(s.name)} is unknown")
    groups = int(attr(node, "group", 1))
    nd = len(w_shape) - 2
    f = forms[0]
    if isinstance(f, Pending):
        f = materialize(ev, f, "conv", w_shape[1] * groups, nd)
    strides = ints(node, "strides", nd, 1)
    dilations = ints(node, "dilations", nd, 1)
    bias = node.input[2] if len(node.input) > 2 else ""
    has_bias = ev.nonzero(bias)
    if not isinstance(f, (ConvForm, ConvTransposeForm)):
        raise NotFoldable(f"{quoted(s.name)} reads a tensor computed by a Gemm/MatMul")
    after_transpose = isinstance(f, ConvTransposeForm)
    spatial = f.out_spatial if after_transpose else f.spatial
    fixed = True if after_transpose else f.fixed_sizes
    pb, pe = conv_pads(node, w_shape[2:], strides, dilations, spatial, fixed)
    out = tuple(
        out_size(n, k, st, d, a, b)
        for n, k, st, d, a, b in zip(spatial, w_shape[2:], strides, dilations, pb, pe, strict=True)
    )
    ev.costs[s.index] = (
        f.batch * math.prod(w_shape) * math.prod(out),
        math.prod(w_shape) + (w_shape[0] if bias else 0),
    )
    w = ev.value(node.input[1])
    b = ev.value(bias) if bias else None
    conv = dict(w_shape=tuple(w_shape), pads_begin=pb, pads_end=pe, w=w, b=b)
    conv.update(has_bias=has_bias, what=quoted(s.name))
    if after_transpose:
        if groups != 1:
            raise NotFoldable(f"{quoted(s.name)} after a ConvTranspose is grouped")
        pointwise = all(k == 1 for k in w_shape[2:]) and all(x == 1 for x in strides)
        if pointwise and not any(pb) and not any(pe):
            return f.then_pointwise(w, b, w_shape[0], has_bias)
        if any(x != 1 for x in (*strides, *dilations)):
            raise NotFoldable(f"{quoted(s.name)} after a ConvTranspose has a stride or dilation")
        return f.then_spatial_conv(out_spatial=out, **conv)
    return f.then_conv(groups=groups, strides=strides, dilations=dilations, **conv)


def absorb_conv_transpose(ev: Evaluator, s: NodeState, forms: list):
    node = s.node
    f = forms[0]
    if not isinstance(f, Pending) or f.ops:
        raise NotFoldable(f"{quoted(s.name)}: a ConvTranspose after other linear ops is not folded")
    w_shape = ev.const_shape(node.input[1])
    if not w_shape or len(w_shape) < 3:
        raise NotFoldable(f"the weight shape of {quoted(s.name)} is unknown")
    groups = int(attr(node, "group", 1))
    nd = len(w_shape) - 2
    shape = ev.source_shape()
    # (an unknown source: 1 as a placeholder, its figures unknown, ``cost_basis``)
    spatial = tuple(shape[2:]) if shape and len(shape) == nd + 2 else (1,) * nd
    strides = ints(node, "strides", nd, 1)
    dilations = ints(node, "dilations", nd, 1)
    outpad = ints(node, "output_padding", nd, 0)
    pads = ints(node, "pads", 2 * nd, 0)
    out_spatial = tuple(
        max(
            1,
            transpose_out_size(
                spatial[a],
                w_shape[2 + a],
                strides[a],
                dilations[a],
                pads[a],
                pads[nd + a],
                outpad[a],
            ),
        )
        for a in range(nd)
    )
    out_shape = ev.shapes.local(ev.ga, node.output[0]) if attr(node, "output_shape") else None
    if out_shape and len(out_shape) == nd + 2:
        out_spatial = tuple(out_shape[2:])
    bias = node.input[2] if len(node.input) > 2 else ""
    cout = w_shape[1] * groups
    form = ConvTransposeForm(
        cin=w_shape[0],
        cout=cout,
        groups=groups,
        kernel=tuple(w_shape[2:]),
        offset=ev.nonzero(bias),
        in_spatial=spatial,
        W=ev.value(node.input[1]),
        b=ev.value(bias) if bias else None,
        numeric=ev.numeric,
        out_spatial=out_spatial,
        node=node,
        batch=shape[0] if shape and len(shape) == nd + 2 else 1,
    )
    ev.costs[s.index] = (form.macs(), math.prod(w_shape) + (cout if bias else 0))
    return form


def absorb_matmul(ev: Evaluator, s: NodeState, forms: list):
    node = s.node
    if s.data[0] != node.input[0]:
        raise NotFoldable(f"{quoted(s.name)} multiplies by a constant on the left")
    w_shape = ev.const_shape(node.input[1])
    if not w_shape:
        raise NotFoldable(f"the weight shape of {quoted(s.name)} is unknown")
    if len(w_shape) != 2:
        raise NotFoldable(f"{quoted(s.name)} has a {len(w_shape)}-D weight")
    f = forms[0]
    if isinstance(f, Pending):
        f = materialize(ev, f, "dense", w_shape[0])
    if not isinstance(f, DenseForm):
        raise NotFoldable(f"{quoted(s.name)} reads a tensor computed by a Conv")
    # its rows: the elements of its input (rows·dout wherever a Transpose put the features)
    # over the width it reads
    ev.costs[s.index] = (f.rows * f.dout * w_shape[1], w_shape[0] * w_shape[1])
    if f.feature_axis is not None or f.pair:
        return mix_axes(ev, s, f, w_shape, ev.value(node.input[1]))
    return f.then_matmul(w_shape, ev.value(node.input[1]), quoted(s.name))


def absorb_gemm(ev: Evaluator, s: NodeState, forms: list):
    node = s.node
    if s.data[0] != node.input[0]:
        raise NotFoldable(f"{quoted(s.name)} has its constant as A")
    trans_a = int(attr(node, "transA", 0))
    b_shape = ev.const_shape(node.input[1])
    if not b_shape or len(b_shape) != 2:
        raise NotFoldable(f"the weight shape of {quoted(s.name)} is unknown")
    trans_b = int(attr(node, "transB", 0))
    k, n = (b_shape[1], b_shape[0]) if trans_b else b_shape
    alpha = float(attr(node, "alpha", 1.0))
    beta = float(attr(node, "beta", 1.0))
    f = forms[0]
    if trans_a:  # the first op only: the fold then reads the source transposed too
        if not isinstance(f, Pending) or f.ops:
            raise NotFoldable(f"{quoted(s.name)} transposes its input (transA = 1) after other ops")
        shape = ev.source_shape()
        rows = shape[1] if shape and len(shape) == 2 else 1  # (unknown: a placeholder)
        f = replace(DenseForm.identity(k, rows, 2, ev.numeric), transposed_source=True)
    elif isinstance(f, Pending):
        f = materialize(ev, f, "dense", k)
    if not isinstance(f, DenseForm):
        raise NotFoldable(f"{quoted(s.name)} reads a tensor computed by a Conv")
    c_name = node.input[2] if len(node.input) > 2 else ""
    params = k * n
    w = ev.value(node.input[1])
    if w is not None:
        w = alpha * (w.T if trans_b else w)
    f = f.then_matmul((k, n), w, quoted(s.name))
    if c_name:
        c_shape = ev.const_shape(c_name) or ()
        if len(c_shape) == 2 and c_shape[0] != 1:
            raise NotFoldable(f"the C of {quoted(s.name)} varies by row")
        params += math.prod(c_shape)
        c = ev.value(c_name)
        shift = None if c is None else beta * np.broadcast_to(c.reshape(-1), (n,))
        f = f.then_channel_affine(None, shift, ev.nonzero(c_name) and beta != 0)
    ev.costs[s.index] = (f.rows * k * n, params)
    rank = 2 if f.rank is None else f.rank
    return replace(f, rank=rank, used_gemm=f.used_gemm or ev.ga.opset >= 11)
