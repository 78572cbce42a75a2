"""What a fold becomes: the op types the rewrite writes for a normal form.

The one place that decides it: ``rewrite.emit`` checks what it writes against
``emitted_ops``, and the cost figures count these ops.
"""

from __future__ import annotations

import numpy as np

from linlint.analysis.forms import ConvForm, DenseForm


def dense_uses_gemm(form: DenseForm) -> bool:
    return form.used_gemm and form.rank == 2 and not form.tail


def has_bias(form) -> bool:
    """Whether the folded op needs a bias: the offset the shapes say, or, with weights,
    whether the bias holds anything but zeros."""
    b = getattr(form, "b", None)
    return bool(np.any(b != 0)) if b is not None else bool(form.offset)


def emitted_ops(form) -> tuple[str, ...]:
    """The op types ``rewrite.emit`` writes for a form, in order: the one place that
    decides what a fold becomes (the cost figures count these)."""
    if isinstance(form, DenseForm):
        if dense_uses_gemm(form):
            return ("Gemm",)
        bias = ("Add",) if has_bias(form) else ()
        return ("MatMul", *bias, *(step[0] for step in form.tail))
    if isinstance(form, ConvForm):
        return ("Conv", "Add") if form.corr else ("Conv",)
    return ("ConvTranspose",)


def needs_broadcast(form) -> bool:
    """Whether the folded ops add a bias or a map by broadcasting (an Add, a Gemm's C)."""
    ops = emitted_ops(form)
    return "Add" in ops or ("Gemm" in ops and has_bias(form))
