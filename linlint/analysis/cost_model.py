"""What a region costs on the runtime, before and after a fold, and which of the two is
cheaper.

A fold is worth writing when the folded model runs faster on onnxruntime's CPU provider,
not only when it has fewer multiply-adds. Three things take the time of a small linear
region there, and the estimate adds them up:

* **multiply-adds** of the parametric ops (Conv, Gemm, MatMul, ConvTranspose);
* **memory passes** of the elementwise and data-moving ops (BatchNormalization, Mul, Add,
  Pad, AveragePool, Transpose, a border-correction Add): each reads its tensor operands
  and writes its output — a full-size constant map is read like an activation;
* **nodes**: each costs a kernel launch whatever its size.

A Conv that is neither pointwise nor depthwise also moves its im2col buffer
(``expansion_bytes``).

Ops onnxruntime runs as views of their input (Reshape, Flatten, Squeeze, Unsqueeze,
Identity, Dropout) move no memory and are counted as nodes only.

The rates are measured on onnxruntime 1.2x/1.3x CPU, two threads, float32 (``bench/
cost_model.py`` measures them again and prints the table; ``bench/arch_latency.py`` checks the
decisions against measured latency): a Conv or MatMul runs at about 80 G multiply-adds/s,
an elementwise pass moves about 80 GB/s while its tensors stay in cache, a node costs
about a quarter of a microsecond. Only the ratios matter: the estimate compares two forms
of the same region on the same machine.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

#: Nanoseconds per multiply-add of a parametric op.
NS_PER_MAC = 0.012
#: Nanoseconds per byte an elementwise op reads or writes.
NS_PER_BYTE = 0.0125
#: Nanoseconds of overhead per node.
NS_PER_NODE = 250.0

#: Ops onnxruntime runs without moving memory: they cost a node, no pass.
VIEW_OPS = frozenset({"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Dropout"})
#: Parametric ops: their cost is multiply-adds (the region's evaluation counts them).
PARAMETRIC_OPS = frozenset({"Conv", "ConvTranspose", "Gemm", "MatMul", "Einsum"})


@dataclass(frozen=True)
class Work:
    """The runtime work of a region or of its folded form."""

    macs: int = 0
    #: Elementwise operations: the elements each non-parametric, non-view op computes.
    elementwise: int = 0
    #: Bytes the non-parametric, non-view ops read and write.
    moved: int = 0
    nodes: int = 0

    def __add__(self, other: Work) -> Work:
        return Work(
            self.macs + other.macs,
            self.elementwise + other.elementwise,
            self.moved + other.moved,
            self.nodes + other.nodes,
        )

    def estimate_ns(self) -> float:
        """The estimated time on onnxruntime's CPU provider, in nanoseconds."""
        return self.macs * NS_PER_MAC + self.moved * NS_PER_BYTE + self.nodes * NS_PER_NODE


def elements(shape: Iterable[int] | None) -> int:
    """The element count of a shape; 0 when unknown."""
    if shape is None:
        return 0
    dims = tuple(shape)
    if any(not isinstance(d, int) or d < 0 for d in dims):
        return 0
    return math.prod(dims)


def node_work(op_type: str, operand_elements: Iterable[int], out_elements: int, itemsize: int):
    """One node's work: a view costs a node; an elementwise or data-moving op computes its
    largest operand's elements and reads every operand and writes its output."""
    if op_type in VIEW_OPS:
        return Work(nodes=1)
    operands = [n for n in operand_elements if n]
    largest = max([out_elements, *operands])
    moved = (sum(operands) + out_elements) * itemsize
    return Work(elementwise=largest, moved=moved, nodes=1)


def emitted_work(
    ops: Iterable[str],
    macs: int,
    source_elements: int,
    out_elements: int,
    itemsize: int,
    added_elements: int = 0,
) -> Work:
    """The work of the ops a fold writes (``ops`` in order): ``macs`` for the parametric
    op, a pass over the source for each op before it (a Transpose of the source) and over
    the output for each after (a bias or border-correction Add, a Transpose, views); the
    first Add after the parametric op also reads what it adds (``added_elements``: a bias
    vector, a border map)."""
    work = Work(macs=macs)
    seen_param = False
    for op in ops:
        if op in PARAMETRIC_OPS:
            seen_param = True
            work += Work(nodes=1)
            continue
        n = out_elements if seen_param else source_elements
        extra = 0
        if op == "Add" and seen_param and added_elements:
            extra, added_elements = added_elements, 0
        work += node_work(op, [n, extra], n, itemsize)
    return work


def expansion_bytes(
    cin: int,
    groups: int,
    kernel: tuple[int, ...],
    strides: tuple[int, ...],
    padded: bool,
    out_positions: int,
    itemsize: int,
) -> int:
    """The bytes a Conv's im2col buffer moves (written, then read by the GEMM): onnxruntime
    expands every conv but a pointwise one (1x1, stride 1, no pads) and a depthwise one
    into ``cin·k`` values per output position. This is why a Conv 2x2 stride 2 is slower
    than the Conv 1x1 and AveragePool it fuses, at the same multiply-adds."""
    pointwise = all(k == 1 for k in kernel) and all(s == 1 for s in strides) and not padded
    if pointwise or (groups == cin and groups > 1):
        return 0
    return 2 * cin * math.prod(kernel) * out_positions * itemsize


def cheaper(after: Work, before: Work) -> bool:
    """Whether ``after`` is estimated to run faster than ``before``."""
    return after.estimate_ns() < before.estimate_ns()
