"""What every normal form shares: the refusal ``NotFoldable``, the bias test, and the
per-channel ``y·scale + shift`` that BN and constant arithmetic apply to an output."""

from __future__ import annotations

import numpy as np

#: What a reason whose fold is exact only on sizes the model fixes ends with: a size the
#: user gives (``--input-shape``) sets the figures, never exactness.
STATIC_SHAPES = "export the model with static shapes to fold it"


class NotFoldable(Exception):
    """The region is linear, but no exact single op replaces it; ``str`` says why.

    ``offset_at_borders``: the cause is an offset (a bias or a shift) that a zero-padded
    conv after it would see at the borders -- the one inexact case that concerns a single
    parametric op (a BatchNormalization before a padded Conv).
    """

    def __init__(self, reason: str, *, offset_at_borders: bool = False) -> None:
        super().__init__(reason)
        self.offset_at_borders = offset_at_borders


class AffineOutput:
    """Base of the normal forms: ``y = A·x + b``, with ``b`` known when the form carries
    weights and ``offset`` saying, from the shapes alone, whether it may be nonzero."""

    b: np.ndarray | None
    offset: bool

    def has_bias(self) -> bool:
        """Whether the folded op needs a bias: the offset the shapes say, or, with weights,
        whether the bias holds anything but zeros."""
        return bool(np.any(self.b != 0)) if self.b is not None else bool(self.offset)

    def emitted_ops(self) -> tuple[str, ...]:
        """The op types the fold writes for this form, in order: the one place that decides
        what a fold becomes (``rewrite.emit`` checks it, the cost figures count it)."""
        raise NotImplementedError

    def needs_broadcast(self) -> bool:
        """Whether the folded ops add a bias or a map by broadcasting (an Add, a Gemm's C)."""
        ops = self.emitted_ops()
        return "Add" in ops or ("Gemm" in ops and self.has_bias())


def channel_affine(scale, shift, bias: np.ndarray | None, n: int):
    """``scale`` over ``n`` channels (None: ones), and ``bias`` (None: zeros) scaled by it
    and shifted by ``shift`` (None: zeros)."""
    s = np.ones(n) if scale is None else np.broadcast_to(scale, (n,))
    t = np.zeros(n) if shift is None else np.broadcast_to(shift, (n,))
    return s, (np.zeros(n) if bias is None else bias) * s + t


def bias_through(b: np.ndarray | None, n: int, m: np.ndarray, b_before: np.ndarray | None):
    """The bias after a linear map ``m`` [n, k] with bias ``b`` (None: zeros), of an input
    that carried bias ``b_before`` (None: none)."""
    bias = np.zeros(n) if b is None else b.astype(np.float64)
    return bias if b_before is None else bias + m @ b_before
