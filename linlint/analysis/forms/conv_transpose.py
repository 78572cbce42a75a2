"""``ConvTransposeForm``: one ConvTranspose from the source, absorbing the per-channel
affines and 1x1 convs after it, and a stride-1 spatial conv where that is exact.

A bias-free ConvTranspose without pads gives its whole response: zero outside its
output. A stride-1 conv after it with pads no wider than its kernel less one therefore
sees, in its zero padding, what the response is there anyway, and the two are one
ConvTranspose: kernel ``K = W1 ⋆ W2`` (each offset ``a`` of W1 with each ``b`` of W2 lands
at ``a + (k2 - 1) - b``), the conv's pads becoming the ConvTranspose's crops
``k2 - 1 - p``, the conv's bias its bias."""

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
    #: The crops (ConvTranspose pads) once a spatial conv was absorbed; None: the node's own.
    pads: tuple[int, ...] | None = None

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

    def channel_position(self) -> int:
        """The index of the channel axis in the output (channels first, always)."""
        return 1

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

    def then_spatial_conv(
        self,
        *,
        w_shape: tuple[int, ...],
        pads_begin: tuple[int, ...],
        pads_end: tuple[int, ...],
        out_spatial: tuple[int, ...],
        w: np.ndarray | None,
        b: np.ndarray | None,
        has_bias: bool,
        what: str,
    ) -> ConvTransposeForm:
        """Then a stride-1, undilated, ungrouped conv (``w``/``b`` when numeric)."""
        k2 = tuple(w_shape[2:])
        if self.groups != 1:
            raise NotFoldable(f"{what} follows a grouped ConvTranspose")
        if self.offset:
            raise NotFoldable(
                f"{what} zero-pads a ConvTranspose output with a bias: the borders differ"
            )
        if self.pads is not None or _crops(self.node):
            raise NotFoldable(f"{what} zero-pads a cropped ConvTranspose output")
        if any(p > k - 1 for p, k in zip((*pads_begin, *pads_end), k2 * 2, strict=True)):
            raise NotFoldable(f"{what} pads wider than its kernel")
        if w_shape[1] != self.cout:
            raise NotFoldable(f"{what} expects {w_shape[1]} channels, gets {self.cout}")
        kernel = tuple(a + b - 1 for a, b in zip(self.kernel, k2, strict=True))
        weights = self.W
        if self.numeric:
            weights = np.zeros((self.cin, w_shape[0], *kernel))
            for offset in np.ndindex(*k2):  # W2's offset b lands W1 at a + (k2 - 1) - b
                at = tuple(
                    slice(k - 1 - o, k - 1 - o + n)
                    for k, o, n in zip(k2, offset, self.kernel, strict=True)
                )
                weights[(slice(None), slice(None), *at)] += np.einsum(
                    "im...,om->io...", self.W, w[(slice(None), slice(None), *offset)]
                )
        crops = tuple(k - 1 - p for k, p in zip(k2, pads_begin, strict=True)) + tuple(
            k - 1 - p for k, p in zip(k2, pads_end, strict=True)
        )
        return replace(
            self,
            cout=w_shape[0],
            kernel=kernel,
            offset=has_bias,
            W=weights,
            b=b if has_bias else None,
            out_spatial=out_spatial,
            pads=crops,
        )

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


def _crops(node) -> bool:
    """Whether the ConvTranspose node crops its response or shapes its output otherwise
    (pads, output_padding, output_shape, auto_pad, dilations)."""
    for a in node.attribute:
        if a.name in ("pads", "output_padding", "dilations") and any(
            v != (1 if a.name == "dilations" else 0) for v in a.ints
        ):
            return True
        if a.name == "output_shape":
            return True
        if a.name == "auto_pad" and a.s not in (b"", b"NOTSET"):
            return True
    return False
