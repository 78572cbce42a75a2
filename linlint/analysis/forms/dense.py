"""``DenseForm``: ``y = x·W + b`` on the last axis of the source (Gemm / MatMul), with the
shape ops on leading axes it re-applies after the folded MatMul.

A MatMul on the last axis, a Transpose of the last two axes, and a MatMul on the other one
(``x[…, N, C]·W1`` then ``·W2`` over ``N``) is one MatMul on the two axes flattened: the
weight ``K[(n, c), (c', n')] = W1[c, c']·W2[n, n']`` (a Kronecker product), read as
``Reshape → MatMul → Reshape`` (``pair``). It holds ``N·C × C'·N'`` weights for the chain's
``C·C' + N·N'``: a growth fold."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from linlint.analysis.forms.affine import AffineOutput, NotFoldable, channel_affine


@dataclass(frozen=True, kw_only=True)
class DenseForm(AffineOutput):
    """``y = x·W + b`` on the last axis of the source; leading axes may be reshaped."""

    din: int
    dout: int
    rows: int
    offset: bool
    rank: int | None
    W: np.ndarray | None = None  # [din, dout]
    b: np.ndarray | None = None
    numeric: bool = False
    has_param: bool = False
    #: Shape ops that only move leading axes, re-applied after the MatMul in order:
    #: ``(op_type, attributes, constant inputs, patch_last)``; ``patch_last`` marks a
    #: Reshape target whose last entry is the feature width, set to ``dout`` on emission.
    tail: tuple = ()
    #: Where the features sit after the tail when a Transpose moved them off the last
    #: axis (``None``: the last axis). Per-channel constants then broadcast along it.
    feature_axis: int | None = None
    #: A Gemm took part, in an opset where a Gemm may leave out its C (11 on): a fold
    #: without a bias stays a Gemm.
    used_gemm: bool = False
    #: The first Gemm read its input transposed (transA = 1): the features are the
    #: source's axis 0, and the fold reads the source the same way.
    transposed_source: bool = False
    #: A tail step keeps the last axis only at this width (a Flatten of every axis of a
    #: width-1 tensor): a later op that changes the width would move it.
    width_bound: bool = False
    #: The fold reads the source flattened (``Flatten(axis=1)``): a conv on an image of fixed
    #: size taken as one dense map; the source's channel count (None: not flattened).
    flattened_source: int | None = None
    #: ``(N, Q)``: the fold reads the source's last two axes ``[N, C]`` as one of
    #: ``din = N·C`` features and writes its result's last two as ``[dout // Q, Q]`` (the
    #: tail's one Reshape): a MatMul after a Transpose mixed both axes (None: one axis).
    pair: tuple[int, int] | None = None
    eye: bool = False  # W is the identity, not stored

    @classmethod
    def identity(cls, din: int, rows: int, rank: int | None, numeric: bool) -> DenseForm:
        """The source itself: the identity on ``din`` features, not stored."""
        return cls(din=din, dout=din, rows=rows, offset=False, rank=rank, numeric=numeric, eye=True)

    def feature_position(self) -> int | None:
        """The index of the feature axis in the output (``None`` when the rank is unknown)."""
        if self.feature_axis is not None:
            return self.feature_axis
        return None if self.rank is None else self.rank - 1

    def has_shape_of(self, before: object) -> bool:
        """Whether ``before``, the form of a tensor earlier in the region, is a dense result
        read before any re-applied shape op and as wide as this form: that tensor then has
        the shape of this form's MatMul output."""
        return (
            isinstance(before, DenseForm)
            and self.pair is None
            and not before.tail
            and before.feature_axis is None
            and before.dout == self.dout
        )

    def weight(self) -> np.ndarray:
        return np.eye(self.din) if self.eye else self.W

    def macs(self) -> int:
        return self.rows * self.din * self.dout

    def params(self) -> int:
        return self.din * self.dout + (self.dout if self.offset else 0)

    def uses_gemm(self) -> bool:
        """Whether the fold is one Gemm: on rank 2 with nothing re-applied, where its C holds
        the bias that would otherwise take an Add of its own (MatMul + Add → Gemm), or where
        a Gemm took part and may go without a C. Otherwise a MatMul is the one op."""
        return self.rank == 2 and not self.tail and (self.has_bias() or self.used_gemm)

    def emitted_ops(self) -> tuple[str, ...]:
        """The op types the fold writes for this form, in order (the costs count them)."""
        flat = ("Flatten",) if self.flattened_source else ()
        if self.uses_gemm():
            return (*flat, "Gemm")
        bias = ("Add",) if self.has_bias() else ()
        turn = ("Transpose",) if self.transposed_source else ()
        merge = ("Reshape",) if self.pair else ()
        return (*flat, *turn, *merge, "MatMul", *bias, *(step[0] for step in self.tail))

    def then_matmul(self, w_shape, w, what: str) -> DenseForm:
        """Then ``·w`` (shape ``w_shape``; ``w`` when numeric)."""
        if len(w_shape) != 2:
            raise NotFoldable(f"{what} has a {len(w_shape)}-D weight")
        if self.pair:
            raise NotFoldable(f"{what} follows a MatMul that mixes two axes")
        if self.feature_axis is not None:
            raise NotFoldable(f"{what} reads the last axis, a Transpose moved the features")
        if self.width_bound and w_shape[1] != self.dout:
            raise NotFoldable(
                f"{what} changes the width a shape op before it keeps only at width {self.dout}"
            )
        if w_shape[0] != self.dout:
            raise NotFoldable(f"{what} expects {w_shape[0]} features, gets {self.dout}")
        weights, bias = self.W, self.b
        if self.numeric:
            weights = w.copy() if self.eye else self.W @ w
            bias = None if self.b is None else self.b @ w
        return replace(self, dout=w_shape[1], has_param=True, eye=False, W=weights, b=bias)

    def swaps_last_two(self) -> bool:
        """Whether the tail is one Transpose of the last two axes, the others kept: a
        MatMul after it acts on the source's second-to-last axis."""
        if len(self.tail) != 1 or self.tail[0][0] != "Transpose" or not self.rank:
            return False
        perm = next((list(a.ints) for a in self.tail[0][1] if a.name == "perm"), None)
        return (perm or list(range(self.rank))[::-1]) == swap_last_two(self.rank)

    def then_mix(self, n: int, w_shape, w) -> DenseForm:
        """Then ``·w`` (``[n, n']``) on the source's second-to-last axis (of size ``n``),
        after a Transpose of the last two axes (``swaps_last_two``): one MatMul on the two
        axes flattened, ``K[(n, c), (c', n')] = W[c, c']·w[n, n']``, its bias
        ``b[(c', n')] = b[c']·Σₙ w[n, n']``; the result's last two axes are ``[c', n']``."""
        weights = bias = None
        if self.numeric:
            k = np.einsum("ca,nb->ncab", self.weight(), w)
            weights = k.reshape(n * self.din, self.dout * w_shape[1])
            bias = None if self.b is None else np.outer(self.b, w.sum(axis=0)).reshape(-1)
        return replace(
            self,
            din=n * self.din,
            dout=self.dout * w_shape[1],
            rows=self.rows // n,
            tail=_pair_tail(self.rank, self.dout, w_shape[1]),
            feature_axis=None,
            pair=(n, w_shape[1]),
            has_param=True,
            eye=False,
            W=weights,
            b=bias,
        )

    def then_swap(self) -> DenseForm:
        """Then a Transpose of the last two axes of a form that mixes them (``pair``): its
        output features, ``[p, q]``, are read as ``[q, p]``."""
        n, q = self.pair
        p = self.dout // q
        weights, bias = self.W, self.b
        if self.numeric:
            weights = self.weight().reshape(self.din, p, q).transpose(0, 2, 1)
            weights = weights.reshape(self.din, self.dout)
            if bias is not None:
                bias = bias.reshape(p, q).T.reshape(-1)
        return replace(self, tail=_pair_tail(self.rank, q, p), pair=(n, p), W=weights, b=bias)

    def then_channel_affine(self, scale, shift, has_shift: bool) -> DenseForm:
        """``y·scale + shift`` per output feature."""
        weights, bias = self.W, self.b
        if self.numeric:
            s, bias = channel_affine(scale, shift, self.b, self.dout)
            weights = self.weight() * s[None, :]
        return replace(self, offset=self.offset or has_shift, eye=False, W=weights, b=bias)

    @staticmethod
    def combine(forms: list[DenseForm], signs: list[float], concat: bool) -> DenseForm:
        """Sum (or concatenate along features) forms that read the same source."""
        first = forms[0]
        for f in forms[1:]:
            if f.din != first.din or (not concat and f.dout != first.dout):
                raise NotFoldable("branches have different widths")
            if f.pair or first.pair:
                raise NotFoldable("a branch holds a MatMul that mixes two axes")
            if _tail_key(f.tail) != _tail_key(first.tail) or f.rank != first.rank:
                raise NotFoldable("branches reshape differently")
            if (f.transposed_source, f.flattened_source) != (
                first.transposed_source,
                first.flattened_source,
            ):
                raise NotFoldable("branches read the source differently")
        weights, bias = first.W, first.b
        if first.numeric:
            ws = [sign * f.weight() for f, sign in zip(forms, signs, strict=True)]
            bs = [
                sign * (np.zeros(f.dout) if f.b is None else f.b)
                for f, sign in zip(forms, signs, strict=True)
            ]
            weights = np.concatenate(ws, axis=1) if concat else sum(ws)
            bias = np.concatenate(bs) if concat else sum(bs)
        if concat and any(f.width_bound for f in forms):
            raise NotFoldable("a concatenated branch keeps its shape only at its own width")
        return replace(
            first,
            dout=sum(f.dout for f in forms) if concat else first.dout,
            offset=any(f.offset for f in forms),
            has_param=any(f.has_param for f in forms),
            used_gemm=any(f.used_gemm for f in forms),
            eye=False,
            W=weights,
            b=bias,
        )


def swap_last_two(rank: int) -> list[int]:
    """The perm of a Transpose of the last two of ``rank`` axes, the others kept."""
    return [*range(rank - 2), rank - 1, rank - 2]


def _pair_tail(rank: int, p: int, q: int) -> tuple:
    """The tail of a form that mixes two axes: one Reshape of its features to ``[p, q]``,
    the leading axes copied (0 entries)."""
    return (("Reshape", [], ((0,) * (rank - 2) + (p, q),), False),)


def _tail_key(tail: tuple) -> list:
    """What a tail of shape ops does, to compare branches: the same map, not the same op type
    (a Reshape patched to the width is compared without its last entry)."""
    key = []
    for op, attrs, extra, patch in tail:
        values = tuple(tuple(v)[:-1] if patch else tuple(v) for v in extra)
        key.append((op, tuple(a.SerializeToString() for a in attrs), values, patch))
    return key
