"""Normal forms of an affine region, and how each op is absorbed into them.

One normal form per family, carried from the region's source:

* ``ConvForm``: ``y = conv(x, W, b)`` with stride, dilation, pads, groups, over
  the source's spatial axes (an identity is a 1x1 depthwise conv of ones);
* ``ConvTransposeForm``: one ConvTranspose, absorbing what follows it per channel;
* ``DenseForm``: ``y = x·W + b`` on the last axis (Gemm / MatMul).

Every method computes the form's *shape* (kernel, channels, pads, offset) and,
when the form carries weights (``W is not None``), the weights too, in float64.
``check`` runs the shape half only; ``fold`` runs both — so the exactness
decision and the rewrite cannot disagree. Anything that would not be exact
raises ``NotFoldable`` with the sentence the user sees.

Exactness facts (DESIGN.md): conv2 with zero pads after conv1 composes only
when conv1 is a 1x1, stride-1 map without offset; otherwise the borders
differ. Parallel forms sum only with equal strides and pads that centre them.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field, replace

import numpy as np


class NotFoldable(Exception):
    """The region is linear, but no exact single op replaces it; ``str`` says why."""


def _gcd_all(values) -> int:
    g = 0
    for v in values:
        g = math.gcd(g, int(v))
    return g or 1


def out_size(length: int, k: int, s: int, d: int, pb: int, pe: int, ceil: bool = False) -> int:
    """Output length of a window (conv or pool) of size ``k``, stride ``s``, dilation ``d``
    over ``length`` padded by ``pb``/``pe``: the one formula every stage uses."""
    span = length + pb + pe - d * (k - 1) - 1
    return max(0, (-(-span // s) if ceil else span // s) + 1)


def expand_groups(w: np.ndarray, groups: int, cin: int) -> np.ndarray:
    """A grouped conv weight [cout, cin/groups, k…] as a dense one [cout, cin, k…]."""
    if groups == 1:
        return w
    cout = w.shape[0]
    cin_g, cout_g = cin // groups, cout // groups
    dense = np.zeros((cout, cin) + w.shape[2:], dtype=w.dtype)
    for g in range(groups):
        dense[g * cout_g : (g + 1) * cout_g, g * cin_g : (g + 1) * cin_g] = w[
            g * cout_g : (g + 1) * cout_g
        ]
    return dense


def collapse_groups(dense: np.ndarray, groups: int) -> np.ndarray:
    """Inverse of ``expand_groups`` (off-block entries are known to be zero)."""
    if groups == 1:
        return dense
    cout, cin = dense.shape[:2]
    cin_g, cout_g = cin // groups, cout // groups
    return np.concatenate(
        [dense[g * cout_g : (g + 1) * cout_g, g * cin_g : (g + 1) * cin_g] for g in range(groups)],
        axis=0,
    )


def conv_nd(image, w, groups, strides, dilations, pads_begin, pads_end) -> np.ndarray:
    """A plain float64 convolution (no bias) of one image [c, *spatial]: for border maps."""
    c = image.shape[0]
    nd = image.ndim - 1
    padded = np.pad(image, [(0, 0)] + list(zip(pads_begin, pads_end, strict=True)))
    dense = expand_groups(np.asarray(w, dtype=np.float64), groups, c)
    kernel = dense.shape[2:]
    out_shape = tuple(
        out_size(padded.shape[1 + a], kernel[a], strides[a], dilations[a], 0, 0) for a in range(nd)
    )
    out = np.zeros((dense.shape[0],) + out_shape)
    for j in itertools.product(*(range(k) for k in kernel)):
        window = tuple(
            slice(
                dilations[a] * j[a],
                dilations[a] * j[a] + strides[a] * (out_shape[a] - 1) + 1,
                strides[a],
            )
            for a in range(nd)
        )
        tap = dense[(slice(None), slice(None)) + j]
        out += np.tensordot(tap, padded[(slice(None),) + window], axes=([1], [0]))
    return out


@dataclass
class ConvForm:
    """``y = conv(x, W, b)`` from the source; spatial sizes track the costs."""

    cin: int
    cout: int
    groups: int
    kernel: tuple[int, ...]
    strides: tuple[int, ...]
    dilations: tuple[int, ...]
    pads_begin: tuple[int, ...]
    pads_end: tuple[int, ...]
    offset: bool
    spatial: tuple[int, ...]  # output spatial size
    W: np.ndarray | None = None  # [cout, cin/groups, *kernel]
    b: np.ndarray | None = None  # [cout]
    numeric: bool = False
    has_param: bool = False
    static: bool = False  # spatial sizes are fixed by the model: border maps are allowed
    batch: int = 1  # the source's leading dim: MACs are for the given input shapes
    corr: bool = False  # carries an additive border-correction map
    C: np.ndarray | None = None  # [cout, *spatial], the map (numeric)

    @classmethod
    def identity(cls, channels: int, spatial: tuple[int, ...], numeric: bool) -> ConvForm:
        nd = len(spatial)
        one = (1,) * nd
        zero = (0,) * nd
        w = np.ones((channels, 1) + one) if numeric else None
        return cls(
            channels,
            channels,
            channels,
            one,
            one,
            one,
            zero,
            zero,
            False,
            spatial,
            w,
            None,
            numeric,
        )

    @property
    def nd(self) -> int:
        return len(self.kernel)

    @property
    def pointwise_linear(self) -> bool:
        """A 1x1 stride-1 map without offset: zero padding after it is padding before it."""
        return (
            all(k == 1 for k in self.kernel)
            and all(s == 1 for s in self.strides)
            and (not self.offset)
        )

    def _depthwise_pointwise(self) -> bool:
        return (
            self.groups == self.cin == self.cout
            and all(k == 1 for k in self.kernel)
            and all(x == 1 for x in self.strides)
        )

    def macs(self) -> int:
        per_image = self.cout * (self.cin // self.groups) * math.prod(self.kernel)
        return self.batch * per_image * math.prod(self.spatial)

    def params(self) -> int:
        weights = self.cout * (self.cin // self.groups) * math.prod(self.kernel)
        bias = self.cout if self.offset else 0
        border_map = self.cout * math.prod(self.spatial) if self.corr else 0
        return weights + bias + border_map

    # -- series ---------------------------------------------------------------------------

    def then_conv(
        self,
        w_shape: tuple[int, ...],
        groups: int,
        strides: tuple[int, ...],
        dilations: tuple[int, ...],
        pads_begin: tuple[int, ...],
        pads_end: tuple[int, ...],
        w: np.ndarray | None,
        b: np.ndarray | None,
        has_bias: bool,
        what: str,
    ) -> ConvForm:
        cout, cmid_g = w_shape[0], w_shape[1]
        k2 = tuple(w_shape[2:])
        if cmid_g * groups != self.cout:
            raise NotFoldable(f"{what} expects {cmid_g * groups} channels, gets {self.cout}")
        if len(k2) != self.nd:
            raise NotFoldable(f"{what} has {len(k2)} spatial axes, the source {self.nd}")
        padded = any(pads_begin) or any(pads_end)
        pointwise = all(k == 1 for k in self.kernel) and all(s == 1 for s in self.strides)
        use_map = padded and pointwise and self.offset and self.static
        if padded and not self.pointwise_linear and not use_map:
            cause = (
                "an offset (bias or shift)"
                if self.offset and all(k == 1 for k in self.kernel)
                else "a spatial kernel or stride"
            )
            raise NotFoldable(
                f"{what} zero-pads a tensor computed with {cause}: the borders differ"
            )
        spatial = tuple(
            out_size(n, k, s, d, pb, pe)
            for n, k, s, d, pb, pe in zip(
                self.spatial, k2, strides, dilations, pads_begin, pads_end, strict=True
            )
        )
        s1, d1, k1 = self.strides, self.dilations, self.kernel
        span = [d1[a] * (k1[a] - 1) + s1[a] * dilations[a] * (k2[a] - 1) for a in range(self.nd)]
        dil = tuple(
            _gcd_all(([d1[a]] if k1[a] > 1 else []) + ([s1[a] * dilations[a]] if k2[a] > 1 else []))
            for a in range(self.nd)
        )
        kernel = tuple(span[a] // dil[a] + 1 for a in range(self.nd))
        new_groups = math.gcd(self.groups, groups)
        if padded:
            pb = tuple(p + q for p, q in zip(self.pads_begin, pads_begin, strict=True))
            pe = tuple(p + q for p, q in zip(self.pads_end, pads_end, strict=True))
        else:
            pb, pe = self.pads_begin, self.pads_end
        offset = has_bias if use_map else (self.offset or has_bias)
        out = ConvForm(
            self.cin,
            cout,
            new_groups,
            kernel,
            tuple(a * b_ for a, b_ in zip(s1, strides, strict=True)),
            dil,
            pb,
            pe,
            offset,
            spatial,
            numeric=self.numeric,
            has_param=True,
            static=self.static,
            corr=self.corr or use_map,
            batch=self.batch,
        )
        if self.numeric:
            image = None
            if use_map:
                image = np.broadcast_to(
                    self.b.reshape((-1,) + (1,) * self.nd), (self.cout,) + self.spatial
                )
            if self.C is not None:
                image = self.C if image is None else image + self.C
            if image is not None:
                out.C = conv_nd(image, w, groups, strides, dilations, pads_begin, pads_end)
            if use_map:
                self = replace(self, b=None)
        if self.numeric and self._depthwise_pointwise():
            # x ↦ x·s[c] (+ t[c]) per channel, then the conv: scale the conv's input channels.
            scale = self.W.reshape(-1)  # [cin] (= cmid)
            per_in = expand_groups(w, groups, self.cout)  # [cout, cmid, k2]
            dense = per_in * scale.reshape(1, -1, *(1,) * self.nd)
            out.W = collapse_groups(dense, new_groups)
            bias = np.zeros(cout) if b is None else b.astype(np.float64)
            if self.b is not None:
                bias = bias + per_in.sum(axis=tuple(range(2, per_in.ndim))) @ self.b
            out.b = bias
            return out
        if self.numeric:
            w1 = expand_groups(self.W, self.groups, self.cin)  # [cmid, cin, k1]
            w2 = expand_groups(w, groups, self.cout)  # [cout, cmid, k2]
            comp = np.zeros((cout, self.cin) + kernel)
            for j1 in itertools.product(*(range(k) for k in k1)):
                a1 = w1[(slice(None), slice(None)) + j1]
                for j2 in itertools.product(*(range(k) for k in k2)):
                    u = tuple(
                        (d1[a] * j1[a] + s1[a] * dilations[a] * j2[a]) // dil[a]
                        for a in range(self.nd)
                    )
                    comp[(slice(None), slice(None)) + u] += w2[(slice(None), slice(None)) + j2] @ a1
            out.W = collapse_groups(comp, new_groups)
            bias = np.zeros(cout) if b is None else b.astype(np.float64)
            if self.b is not None:
                bias = bias + w2.sum(axis=tuple(range(2, w2.ndim))) @ self.b
            out.b = bias
        return out

    def then_channel_affine(self, scale, shift, has_shift: bool) -> ConvForm:
        """``y·scale + shift`` per output channel (BN, Mul/Add/Sub/Div by constants)."""
        out = replace(self, offset=self.offset or has_shift)
        if self.numeric:
            s = np.ones(self.cout) if scale is None else np.broadcast_to(scale, (self.cout,))
            t = np.zeros(self.cout) if shift is None else np.broadcast_to(shift, (self.cout,))
            out.W = self.W * s.reshape((-1,) + (1,) * (self.W.ndim - 1))
            out.b = (np.zeros(self.cout) if self.b is None else self.b) * s + t
            if self.C is not None:
                out.C = self.C * s.reshape((-1,) + (1,) * self.nd)
        return out

    # -- parallel -------------------------------------------------------------------------

    @staticmethod
    def combine(forms: list[ConvForm], signs: list[float], concat: bool) -> ConvForm:
        """Sum (or concatenate along channels) forms that read the same source."""
        first = forms[0]
        for f in forms[1:]:
            if f.strides != first.strides:
                raise NotFoldable("branches have different strides")
            if f.cin != first.cin:
                raise NotFoldable("branches read different channel counts")
            if not concat and f.cout != first.cout:
                raise NotFoldable("branches have different channel counts")
            if f.spatial != first.spatial:
                raise NotFoldable("branches have different output sizes")
        nd = first.nd
        starts = [[-f.pads_begin[a] for f in forms] for a in range(nd)]
        ends = [
            [-f.pads_begin[a] + f.dilations[a] * (f.kernel[a] - 1) for f in forms]
            for a in range(nd)
        ]
        dil, kernel, pb, pe = [], [], [], []
        for a in range(nd):
            lo, hi = min(starts[a]), max(ends[a])
            steps = [f.dilations[a] for f in forms if f.kernel[a] > 1]
            steps += [s - lo for s in starts[a]]
            g = _gcd_all(steps)
            tails = {f.pads_end[a] - e for f, e in zip(forms, ends[a], strict=True)}
            if len(tails) != 1:
                raise NotFoldable("the branches' pads do not centre their kernels")
            dil.append(g)
            kernel.append((hi - lo) // g + 1)
            pb.append(-lo)
            pe.append(hi + tails.pop())
        if min(pe) < 0:
            raise NotFoldable("the branches' pads do not centre their kernels")
        groups = 1 if concat else _gcd_all(f.groups for f in forms)
        cout = sum(f.cout for f in forms) if concat else first.cout
        out = ConvForm(
            first.cin,
            cout,
            groups,
            tuple(kernel),
            first.strides,
            tuple(dil),
            tuple(pb),
            tuple(pe),
            any(f.offset for f in forms),
            first.spatial,
            numeric=first.numeric,
            has_param=any(f.has_param for f in forms),
            static=all(f.static for f in forms),
            corr=any(f.corr for f in forms),
            batch=first.batch,
        )
        if first.numeric and out.corr:
            maps = [
                sign * (np.zeros((f.cout,) + f.spatial) if f.C is None else f.C)
                for f, sign in zip(forms, signs, strict=True)
            ]
            out.C = np.concatenate(maps) if concat else sum(maps)
        if first.numeric:
            parts, biases = [], []
            for f, sign in zip(forms, signs, strict=True):
                dense = np.zeros((f.cout, f.cin) + tuple(kernel))
                wf = expand_groups(f.W, f.groups, f.cin)
                index = [slice(None), slice(None)]
                for a in range(nd):
                    off = (-f.pads_begin[a] + pb[a]) // dil[a]
                    step = f.dilations[a] // dil[a] if f.kernel[a] > 1 else 1
                    index.append(slice(off, off + step * (f.kernel[a] - 1) + 1, step))
                dense[tuple(index)] += sign * wf
                parts.append(dense)
                biases.append(sign * (np.zeros(f.cout) if f.b is None else f.b))
            if concat:
                out.W = np.concatenate(parts, axis=0)
                out.b = np.concatenate(biases)
            else:
                out.W = collapse_groups(sum(parts), groups)
                out.b = sum(biases)
        return out


@dataclass
class ConvTransposeForm:
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

    def then_channel_affine(self, scale, shift, has_shift: bool) -> ConvTransposeForm:
        out = replace(self, offset=self.offset or has_shift)
        if self.numeric:
            s = np.ones(self.cout) if scale is None else np.broadcast_to(scale, (self.cout,))
            t = np.zeros(self.cout) if shift is None else np.broadcast_to(shift, (self.cout,))
            cin_g, cout_g = self.cin // self.groups, self.cout // self.groups
            per_in = np.stack(
                [s[(i // cin_g) * cout_g : (i // cin_g + 1) * cout_g] for i in range(self.cin)]
            )
            out.W = self.W * per_in.reshape(per_in.shape + (1,) * (self.W.ndim - 2))
            out.b = (np.zeros(self.cout) if self.b is None else self.b) * s + t
        return out

    def then_pointwise(self, w2: np.ndarray | None, b2, cout2: int, has_bias: bool):
        if self.groups != 1:
            raise NotFoldable("a grouped ConvTranspose followed by a Conv is not folded")
        out = replace(self, cout=cout2, offset=self.offset or has_bias)
        if self.numeric:
            m = w2.reshape(w2.shape[0], w2.shape[1])  # [cout2, cout]
            out.W = np.einsum("po,io...->ip...", m, self.W)
            bias = np.zeros(cout2) if b2 is None else b2
            if self.b is not None:
                bias = bias + m @ self.b
            out.b = bias
        return out


@dataclass
class DenseForm:
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
    used_gemm: bool = False
    eye: bool = False  # W is the identity, not stored

    @classmethod
    def identity(cls, din: int, rows: int, rank: int | None, numeric: bool) -> DenseForm:
        return cls(din, din, rows, False, rank, None, None, numeric, eye=True)

    def weight(self) -> np.ndarray:
        return np.eye(self.din) if self.eye else self.W

    def macs(self) -> int:
        return self.rows * self.din * self.dout

    def params(self) -> int:
        return self.din * self.dout + (self.dout if self.offset else 0)

    def then_matmul(self, w_shape, w, what: str) -> DenseForm:
        if len(w_shape) != 2:
            raise NotFoldable(f"{what} has a {len(w_shape)}-D weight")
        if w_shape[0] != self.dout:
            raise NotFoldable(f"{what} expects {w_shape[0]} features, gets {self.dout}")
        out = replace(self, dout=w_shape[1], has_param=True, eye=False)
        if self.numeric:
            out.W = w.copy() if self.eye else self.W @ w
            out.b = None if self.b is None else self.b @ w
        return out

    def then_channel_affine(self, scale, shift, has_shift: bool) -> DenseForm:
        out = replace(self, offset=self.offset or has_shift, eye=False)
        if self.numeric:
            s = np.ones(self.dout) if scale is None else np.broadcast_to(scale, (self.dout,))
            t = np.zeros(self.dout) if shift is None else np.broadcast_to(shift, (self.dout,))
            out.W = self.weight() * s[None, :]
            out.b = (np.zeros(self.dout) if self.b is None else self.b) * s + t
        return out

    @staticmethod
    def combine(forms: list[DenseForm], signs: list[float], concat: bool) -> DenseForm:
        first = forms[0]
        for f in forms[1:]:
            if f.din != first.din or (not concat and f.dout != first.dout):
                raise NotFoldable("branches have different widths")
            if _tail_key(f.tail) != _tail_key(first.tail) or f.rank != first.rank:
                raise NotFoldable("branches reshape differently")
        dout = sum(f.dout for f in forms) if concat else first.dout
        out = replace(
            first,
            dout=dout,
            offset=any(f.offset for f in forms),
            has_param=any(f.has_param for f in forms),
            used_gemm=any(f.used_gemm for f in forms),
            eye=False,
        )
        if first.numeric:
            ws = [sign * f.weight() for f, sign in zip(forms, signs, strict=True)]
            bs = [
                sign * (np.zeros(f.dout) if f.b is None else f.b)
                for f, sign in zip(forms, signs, strict=True)
            ]
            out.W = np.concatenate(ws, axis=1) if concat else sum(ws)
            out.b = np.concatenate(bs) if concat else sum(bs)
        return out


def _tail_key(tail: tuple) -> list:
    """What a tail of shape ops does, to compare branches: the same map, not the same op type
    (a Reshape patched to the width is compared without its last entry)."""
    key = []
    for op, attrs, extra, patch in tail:
        values = tuple(tuple(v)[:-1] if patch else tuple(v) for v in extra)
        key.append((op, tuple(a.SerializeToString() for a in attrs), values, patch))
    return key


@dataclass
class Pending:
    """Ops seen before the first parametric op: replayed once the family is known."""

    ops: list = field(default_factory=list)
