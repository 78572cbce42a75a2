"""Carrying a normal form through a region: each node, in order, absorbs itself into the
form its input carries (``linlint.analysis.absorb`` holds the per-op rules)."""

from __future__ import annotations

from collections.abc import Collection

from linlint.analysis.absorb import ABSORBERS, NOOP_OPS, Evaluator, Pending, materialize
from linlint.analysis.discover import RawRegion
from linlint.analysis.forms import NotFoldable
from linlint.analysis.optable import Kind
from linlint.analysis.sweep import NodeState
from linlint.wording import quoted


def carry(
    ev: Evaluator, raw: RawRegion, states: list[NodeState], passthrough: Collection[int] = ()
) -> tuple[object, dict[str, object]]:
    """The form of the region's output, and the form of every tensor on the way; raises
    ``NotFoldable`` with the reason where an op cannot be absorbed. Nodes in
    ``passthrough`` (node indices) are skipped as if they were the identity."""
    forms: dict[str, object] = {t: Pending() for t in raw.sources}
    ev.forms = forms
    for s in states:
        absorb = ABSORBERS.get(s.node.op_type)
        if s.kind == Kind.IDENTITY or s.node.op_type in NOOP_OPS or s.index in passthrough:
            result = forms[s.data[0]]
        elif absorb is None:
            raise NotFoldable(f"linlint does not fold through {s.node.op_type} ({quoted(s.name)})")
        else:
            result = absorb(ev, s, [forms[t] for t in s.data])
        for o in s.node.output:
            if o:
                forms[o] = result
    form = forms[raw.output]
    if isinstance(form, Pending):
        form = materialize(ev, form, None, None)
    if getattr(form, "partial_reads", False):
        raise NotFoldable(
            "concatenated branches read different windows: one Conv would read, for the "
            "channels of a smaller window, positions that branch never reads (an Inf there "
            "gives NaN)"
        )
    return form, forms
