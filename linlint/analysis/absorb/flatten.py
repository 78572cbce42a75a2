"""A conv output flattened for a Gemm: on an image of fixed size, the conv is one dense map.

``Conv → Flatten → Gemm`` (a classifier whose last conv has no activation) is linear in
the flattened input. Where the model fixes the image size, the conv is the matrix
``M[(ci, p), (co, q)] = W[co, ci, j]`` for every output position ``q`` and tap ``j``
reading input position ``p = q·stride + j·dilation − pad`` (zero padding reads nothing),
its bias repeated over the positions (plus a border map, where it has one). The form
becomes a ``DenseForm`` on the flattened source: the fold is ``Flatten → Gemm``. Whether
that is worth it (it often raises MACs) the costs decide, as for any region.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from linlint.analysis.absorb.evaluator import Evaluator
from linlint.analysis.forms import ConvForm, DenseForm, NotFoldable
from linlint.analysis.forms.affine import STATIC_SHAPES
from linlint.analysis.forms.kernels import expand_groups
from linlint.analysis.forms.reads import unread_positions
from linlint.analysis.sweep import NodeState
from linlint.model.graphs import attr
from linlint.wording import quoted

#: The largest conv taken as a dense map (entries of the matrix).
MAX_DENSE = 1 << 22


def flatten_conv(ev: Evaluator, s: NodeState, f: ConvForm) -> DenseForm:
    """The conv form ``f`` followed by ``s`` (a Flatten at axis 1, or a Reshape to
    ``[batch, -1]``) as a dense form on the flattened source."""
    source = ev.source_shape()
    if f.perm is not None:
        raise NotFoldable(f"{quoted(s.name)} flattens a transposed Conv output")
    if not (f.has_param and f.fixed_sizes and ev.source_fixed()) or not source:
        raise NotFoldable(
            f"{quoted(s.name)} flattens a Conv output of a size the model does not fix; "
            f"{STATIC_SHAPES}"
        )
    in_spatial = tuple(source[2:])
    if any(
        unread_positions(n, out, k, st, d, pb)
        for n, out, k, st, d, pb in zip(
            in_spatial, f.spatial, f.kernel, f.strides, f.dilations, f.pads_begin, strict=True
        )
    ):
        raise NotFoldable(
            f"{quoted(s.name)} flattens a Conv that never reads some input positions (a stride "
            "wider than its window): one Gemm would read them (an Inf there gives NaN)"
        )
    din = f.cin * math.prod(in_spatial)
    dout = f.cout * math.prod(f.spatial)
    if not _flattens(ev, s, f.batch, dout):
        raise NotFoldable(f"{quoted(s.name)} reshapes a Conv output")
    if din * dout > MAX_DENSE:
        raise NotFoldable(
            f"{quoted(s.name)} flattens a Conv that as one dense map has {din * dout} weights"
        )
    weights = bias = None
    if ev.numeric:
        weights = _dense(f, in_spatial).reshape(din, dout)
        bias = np.zeros(dout) if f.b is None else np.repeat(f.b, math.prod(f.spatial))
        if f.C is not None:
            bias = bias + f.C.reshape(-1)
    return DenseForm(
        din=din,
        dout=dout,
        rows=f.batch,
        offset=f.offset or f.corr,
        rank=2,
        W=weights,
        b=bias,
        numeric=ev.numeric,
        has_param=True,
        flattened_source=f.cin,
    )


def _flattens(ev: Evaluator, s: NodeState, batch: int, width: int) -> bool:
    """Whether the node is ``[N, C, *spatial] → [N, C·∏spatial]``."""
    node = s.node
    if node.op_type == "Flatten":
        return int(attr(node, "axis", 1)) == 1
    if node.op_type != "Reshape" or len(node.input) < 2:
        return False
    target = ev.small(node.input[1])
    if target is None or np.size(target) != 2:
        return False
    rows, cols = (int(t) for t in np.ravel(target))
    return (rows in (batch, 0) and cols in (width, -1)) or (rows == -1 and cols == width)


def _dense(f: ConvForm, in_spatial: tuple[int, ...]) -> np.ndarray:
    """The conv as a matrix: [cin, *in_spatial, cout, *out_spatial]."""
    w = expand_groups(np.asarray(f.W, dtype=np.float64), f.groups, f.cin)  # [cout, cin, k…]
    m = np.zeros((f.cin, *in_spatial, f.cout, *f.spatial))
    for q in itertools.product(*(range(n) for n in f.spatial)):
        for j in itertools.product(*(range(k) for k in f.kernel)):
            p = tuple(
                q[a] * f.strides[a] + j[a] * f.dilations[a] - f.pads_begin[a] for a in range(len(q))
            )
            if all(0 <= p[a] < in_spatial[a] for a in range(len(p))):
                m[(slice(None), *p, slice(None), *q)] += w[(slice(None), slice(None), *j)].T
    return m
