"""``ConvTransposeForm``: one ConvTranspose from the source, absorbing the per-channel
affines and 1x1 convs after it."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from linlint.analysis.forms.affine import (
    AffineOutput,
    NotFoldable,
    bias_through,
    channel_affine,
)


@dataclass(frozen=True, kw_only=True)
class ConvTransposeForm(AffineOutput):
    """One ConvTranspose from the source, absorbing per-channel affines and 1x1 convs after it."""

    cin: int
    cout: int
    groups: int
    kernel: tuple[int, ...]
    offset: bool
    in_spatial: tuple[int, ...]
    W: np.ndarray | None = None  # [cin, cout/groups, *kernel]
    b: np.ndarray | None = None
    numeric: bool = False
    has_param: bool = True
    out_spatial: tuple[int, ...] = ()
    node: object = None  # the original ConvTranspose node, whose attributes the fold keeps
    batch: int = 1

    def macs(self) -> int:
        return (
            self.batch
            * self.cin
            * (self.cout // self.groups)
            * math.prod(self.kernel)
            * math.prod(self.in_spatial)
        )

    def params(self) -> int:
        return self.cin * (self.cout // self.groups) * math.prod(self.kernel) + (
            self.cout if self.offset else 0
        )

    def emitted_ops(self) -> tuple[str, ...]:
        """The op types the fold writes for this form: the ConvTranspose, bias inside."""
        return ("ConvTranspose",)

    def then_channel_affine(self, scale, shift, has_shift: bool) -> ConvTransposeForm:
        """``y·scale + shift`` per output channel."""
        weights, bias = self.W, self.b
        if self.numeric:
            s, bias = channel_affine(scale, shift, self.b, self.cout)
            cin_g, cout_g = self.cin // self.groups, self.cout // self.groups
            per_in = np.stack(
                [s[(i // cin_g) * cout_g : (i // cin_g + 1) * cout_g] for i in range(self.cin)]
            )
            weights = self.W * per_in.reshape(per_in.shape + (1,) * (self.W.ndim - 2))
        return replace(self, offset=self.offset or has_shift, W=weights, b=bias)

    def then_pointwise(
        self, w2: np.ndarray | None, b2, cout2: int, has_bias: bool
    ) -> ConvTransposeForm:
        """Then a 1x1 stride-1 conv to ``cout2`` channels (``w2``/``b2`` when numeric)."""
        if self.groups != 1:
            raise NotFoldable("a grouped ConvTranspose followed by a Conv is not folded")
        weights, bias = self.W, self.b
        if self.numeric:
            m = w2.reshape(w2.shape[0], w2.shape[1])  # [cout2, cout]
            weights = np.einsum("po,io...->ip...", m, self.W)
            bias = bias_through(b2, cout2, m, self.b)
        return replace(self, cout=cout2, offset=self.offset or has_bias, W=weights, b=bias)
