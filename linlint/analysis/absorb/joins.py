"""Joins of branches that read the same source: Add, Sub, Sum and Mean of forms sum them,
Concat stacks them along channels (or features)."""

from __future__ import annotations

from linlint.analysis.absorb.evaluator import Evaluator
from linlint.analysis.absorb.pending import Pending, materialize
from linlint.analysis.forms import ConvForm, DenseForm, NotFoldable
from linlint.analysis.sweep import NodeState
from linlint.model.graphs import attr
from linlint.wording import quoted


def _family(form) -> tuple[str, int, int]:
    """A concrete form's family, the channels it reads, and its spatial rank."""
    if isinstance(form, ConvForm):
        return "conv", form.cin, form.nd
    if isinstance(form, DenseForm):
        return "dense", form.din, 0
    raise NotFoldable("a ConvTranspose inside branches is not folded")


def absorb_join(ev: Evaluator, s: NodeState, forms: list):
    node = s.node
    op = node.op_type
    dynamic = [t for t in node.input if t]
    if len(dynamic) != len(s.data):
        raise NotFoldable(f"{quoted(s.name)} also adds a constant")
    concrete = [f for f in forms if not isinstance(f, Pending)]
    if not concrete:
        raise NotFoldable(f"the branches join at {quoted(s.name)} before any parametric op")
    family, channels, nd = _family(concrete[0])
    forms = [
        materialize(ev, f, family, channels, nd) if isinstance(f, Pending) else f for f in forms
    ]
    if any(_family(f)[0] != family for f in forms):
        raise NotFoldable(f"{quoted(s.name)} joins a Conv branch with a Gemm/MatMul branch")
    signs = [1.0] * len(forms)
    if op == "Sub":
        signs = [1.0, -1.0]
    elif op == "Mean":
        signs = [1.0 / len(forms)] * len(forms)
    concat = op == "Concat"
    if concat:
        axis = int(attr(node, "axis", 0))
        if family == "conv" and axis not in (1, -(nd + 1)):
            raise NotFoldable(f"{quoted(s.name)} concatenates along axis {axis}, not channels")
        rank = forms[0].rank if family == "dense" else nd + 2
        if family == "dense" and axis != -1 and (rank is None or axis != rank - 1):
            raise NotFoldable(f"{quoted(s.name)} concatenates along axis {axis}, not features")
    cls = ConvForm if family == "conv" else DenseForm
    return cls.combine(forms, signs, concat)
