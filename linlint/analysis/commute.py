"""The commuted alternative of a region: its average pools moved before its pointwise map.

``commuted`` carries the region's normal form with its pools skipped; where what remains
is one pointwise conv (1x1, stride 1, no pads, no border map, channels first) and every
pool maps a constant to itself, the region equals the pools on its source followed by
that conv at the pooled size (``forms.commuted``). ``evaluate`` then keeps whichever of
the fused form, the commuted one and the region as it is costs least.
"""

from __future__ import annotations

import math
from dataclasses import replace

from linlint.analysis.absorb import Evaluator
from linlint.analysis.absorb.windows import ints
from linlint.analysis.carry import carry
from linlint.analysis.cost_model import Work, elements, emitted_work, node_work
from linlint.analysis.discover import RawRegion
from linlint.analysis.forms import ConvForm, NotFoldable
from linlint.analysis.forms.commuted import CommutedForm
from linlint.analysis.optable import Kind
from linlint.analysis.shapes import ShapeOracle
from linlint.analysis.sweep import GraphAnalysis, NodeState
from linlint.model.graphs import attr, text_attr

#: Window ops that average each channel alike, and so commute with a pointwise map.
POOLS = frozenset({"AveragePool", "GlobalAveragePool"})


def commuted(
    ga: GraphAnalysis,
    raw: RawRegion,
    states: list[NodeState],
    shapes: ShapeOracle,
    numeric: bool,
    held_only: bool = False,
) -> CommutedForm | None:
    """The region as its pools then one pointwise conv, or None where it is not that."""
    pools = [s for s in states if s.node.op_type in POOLS]
    if not pools or raw.blocked or raw.shape_reads or len(raw.sources) != 1:
        return None
    if any(s.kind == Kind.JOIN and len(s.data) > 1 for s in states):
        return None
    ev = Evaluator(ga, shapes, numeric, held_only)
    ev.source = raw.sources[0]
    try:
        form, _ = carry(ev, raw, states, passthrough={s.index for s in pools})
    except NotFoldable:
        return None
    if not isinstance(form, ConvForm) or form.perm is not None or form.corr:
        return None
    if any(k != 1 for k in form.kernel) or any(s != 1 for s in form.strides):
        return None
    if any(form.pads_begin) or any(form.pads_end):
        return None
    if not all(_keeps_constants(s, form.offset) for s in pools):
        return None
    out = shapes.local(ga, raw.output)
    if out is None:  # sizes unknown: the costs cannot rank it, but the form stands
        return CommutedForm(tuple(s.node for s in pools), form)
    if len(out) != form.nd + 2:
        return None
    inner = replace(form, spatial=tuple(out[2:]), batch=out[0])
    return CommutedForm(tuple(s.node for s in pools), inner)


def _keeps_constants(s: NodeState, offset: bool) -> bool:
    """Whether the pool maps a constant image to itself (needed only where the map carries
    an offset): no padding it counts in its divisor, no partial window."""
    node = s.node
    if node.op_type == "GlobalAveragePool" or not offset:
        return True
    nd = len(attr(node, "kernel_shape") or ())
    padded = any(ints(node, "pads", 2 * nd, 0))
    auto = text_attr(node, "auto_pad", "NOTSET")
    if int(attr(node, "ceil_mode", 0)) or auto not in ("NOTSET", "VALID"):
        return False
    return not padded or not int(attr(node, "count_include_pad", 0))


def commuted_work(
    ga: GraphAnalysis,
    form: CommutedForm,
    shapes: ShapeOracle,
    source: str,
    output: str,
    itemsize: int,
) -> Work:
    """The work of the commuted form: each pool over the source's channels, then the conv."""
    inner = form.inner
    src = shapes.local(ga, source)
    work, channels_in = Work(), inner.cin
    n_in = elements(src)
    for node in form.pools:
        pool_out = shapes.local(ga, node.output[0])
        at = pool_out[1] if pool_out and len(pool_out) > 1 and pool_out[1] else channels_in
        n_out = elements(pool_out) * channels_in // at if at else 0
        work += node_work(node.op_type, [n_in], n_out, itemsize)
        n_in = n_out
    out_n = inner.batch * inner.cout * math.prod(inner.spatial)
    return work + emitted_work(inner.emitted_ops(), inner.macs(), n_in, out_n, itemsize)
