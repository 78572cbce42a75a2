"""How each op type absorbs itself into a normal form: one function per op, one table.

An absorber gets the evaluator (constants, shapes, costs), the node and the
forms of its data inputs, and returns the form of its output — or raises
``NotFoldable`` with the reason. Before the first parametric op the family is
unknown, so ops wait in a ``Pending`` form and are replayed by
``materialize`` once a Conv, ConvTranspose, Gemm or MatMul fixes it.

The absorbers, by op family: ``parametric`` (Conv, ConvTranspose, MatMul, Gemm),
``channel`` (BatchNormalization and arithmetic by per-channel constants), ``joins``
(branches summed or concatenated), ``windows`` (zero Pad, AveragePool) and
``shape_ops`` (Reshape and kin after a Gemm/MatMul, with ``flatten`` for a conv
output flattened for a Gemm, and ``mix`` for a MatMul over a second axis after a
Transpose); ``ABSORBERS`` below maps op types to them.
"""

from __future__ import annotations

from collections.abc import Callable

from linlint.analysis.absorb.channel import absorb_arith, absorb_batchnorm
from linlint.analysis.absorb.evaluator import Evaluator, WeightsNotHeld, reads_external
from linlint.analysis.absorb.joins import absorb_join
from linlint.analysis.absorb.parametric import (
    absorb_conv,
    absorb_conv_transpose,
    absorb_gemm,
    absorb_matmul,
)
from linlint.analysis.absorb.pending import Pending, materialize
from linlint.analysis.absorb.shape_ops import absorb_reshape, absorb_transpose
from linlint.analysis.absorb.windows import absorb_avgpool, absorb_pad

#: The absorber of each op type; an op not here is not folded through.
ABSORBERS: dict[str, Callable] = {
    "Conv": absorb_conv,
    "ConvTranspose": absorb_conv_transpose,
    "MatMul": absorb_matmul,
    "Gemm": absorb_gemm,
    "BatchNormalization": absorb_batchnorm,
    "Add": absorb_arith,
    "Sub": absorb_arith,
    "Mul": absorb_arith,
    "Div": absorb_arith,
    "Neg": absorb_arith,
    "Sum": absorb_join,
    "Mean": absorb_join,
    "Concat": absorb_join,
    "Pad": absorb_pad,
    "AveragePool": absorb_avgpool,
    "Reshape": absorb_reshape,
    "Flatten": absorb_reshape,
    "Squeeze": absorb_reshape,
    "Unsqueeze": absorb_reshape,
    "Transpose": absorb_transpose,
}

#: Ops that compute nothing at inference time: folded away by passing their input through.
NOOP_OPS = frozenset({"Identity", "Dropout"})

__all__ = [
    "ABSORBERS",
    "NOOP_OPS",
    "Evaluator",
    "Pending",
    "WeightsNotHeld",
    "materialize",
    "reads_external",
]
