"""``CommutedForm``: average pools moved before the pointwise map they followed.

A pointwise map (a 1x1, stride-1 Conv with its bias, and the per-channel affine ops
around it) mixes channels at each position; an average pool averages positions in each
channel alike. The two commute — ``pool(conv1x1(x)) = conv1x1(pool(x))`` — as long as the
pool maps a constant to itself (no padding it counts, no partial window), which the bias
needs. Pooling first runs the conv on the pooled image: a 2x2 stride-2 pool makes it 4x
cheaper, where fusing the two into one Conv 2x2 stride 2 (``ConvForm``) would keep the
multiply-adds and multiply the weights by 4 (a DenseNet transition).
"""

from __future__ import annotations

from dataclasses import dataclass

from onnx import NodeProto

from linlint.analysis.forms.conv import ConvForm


@dataclass(frozen=True)
class CommutedForm:
    """The ``pools`` (the model's own nodes, in order) on the source, then ``inner``: one
    pointwise conv whose spatial size is the pooled one."""

    pools: tuple[NodeProto, ...]
    inner: ConvForm

    def macs(self) -> int:
        return self.inner.macs()

    def params(self) -> int:
        return self.inner.params()

    def emitted_ops(self) -> tuple[str, ...]:
        """The op types the fold writes: the pools, then the conv."""
        return (*(p.op_type for p in self.pools), *self.inner.emitted_ops())

    def needs_broadcast(self) -> bool:
        return self.inner.needs_broadcast()

    @property
    def W(self):  # noqa: N802 (the weights' name in every form)
        return self.inner.W

    @property
    def b(self):
        return self.inner.b

    @property
    def cin(self) -> int:
        return self.inner.cin
