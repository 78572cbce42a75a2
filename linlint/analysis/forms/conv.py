"""``ConvForm``: ``y = conv(x, W, b)`` over the source's spatial axes, and how a conv, a
per-channel affine or a join of branches composes into it.

Exactness facts: conv2 with zero pads after conv1 composes only when conv1
is a 1x1, stride-1 map without offset; otherwise the borders differ (unless the sizes
are fixed and conv1 is pointwise: then a border-correction map ``C`` is added). Parallel
forms sum only with equal strides and pads that centre them.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, replace

import numpy as np

from linlint.analysis.forms.affine import (
    AffineOutput,
    NotFoldable,
    bias_through,
    channel_affine,
)
from linlint.analysis.forms.kernels import (
    collapse_groups,
    conv_nd,
    expand_groups,
    gcd_all,
    out_size,
)
from linlint.analysis.forms.reads import (
    branch_taps,
    branch_window,
    chained_groups_fill,
    chained_taps,
    common_window,
    summed_groups_fill,
)


@dataclass(frozen=True, kw_only=True)
class ConvForm(AffineOutput):
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
    fixed_sizes: bool = False  # spatial sizes are fixed by the model: border maps are allowed
    batch: int = 1  # the source's leading dim: MACs are for the given input shapes
    corr: bool = False  # carries an additive border-correction map
    C: np.ndarray | None = None  # [cout, *spatial], the map (numeric)
    #: A Transpose after the conv (NCHW → NHWC), re-applied after the fold; per-channel
    #: constants then apply along the axis the channels moved to. None: no Transpose.
    perm: tuple[int, ...] | None = None
    #: Some output channels read fewer taps than ``kernel`` (branches of different windows
    #: concatenated): one Conv would read the others with zero weights, and ``0·Inf`` is
    #: NaN. A conv that mixes every channel (groups 1) after it reads the whole window.
    partial_reads: bool = False

    def channel_position(self) -> int:
        """The index of the channel axis in the output."""
        return 1 if self.perm is None else self.perm.index(1)

    @classmethod
    def identity(
        cls,
        channels: int,
        spatial: tuple[int, ...],
        numeric: bool,
        *,
        batch: int,
        fixed_sizes: bool,
    ) -> ConvForm:
        """The source itself: a 1x1 depthwise conv of ones."""
        one = (1,) * len(spatial)
        zero = (0,) * len(spatial)
        return cls(
            cin=channels,
            cout=channels,
            groups=channels,
            kernel=one,
            strides=one,
            dilations=one,
            pads_begin=zero,
            pads_end=zero,
            offset=False,
            spatial=spatial,
            W=np.ones((channels, 1) + one) if numeric else None,
            numeric=numeric,
            fixed_sizes=fixed_sizes,
            batch=batch,
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

    def emitted_ops(self) -> tuple[str, ...]:
        """The op types the fold writes for this form, in order (the costs count them)."""
        turn = ("Transpose",) if self.perm else ()
        return (*(("Conv", "Add") if self.corr else ("Conv",)), *turn)

    # -- series ---------------------------------------------------------------------------

    def then_conv(
        self,
        *,
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
        if self.perm is not None:
            raise NotFoldable(f"{what} reads the channels on an axis a Transpose moved")
        """This form, then a conv of weight shape ``w_shape`` (``w``/``b`` when numeric)."""
        cout, cmid_g = w_shape[0], w_shape[1]
        k2 = tuple(w_shape[2:])
        if cmid_g * groups != self.cout:
            raise NotFoldable(f"{what} expects {cmid_g * groups} channels, gets {self.cout}")
        if len(k2) != self.nd:
            raise NotFoldable(f"{what} has {len(k2)} spatial axes, the source {self.nd}")
        padded = any(pads_begin) or any(pads_end)
        pointwise = all(k == 1 for k in self.kernel) and all(s == 1 for s in self.strides)
        use_map = padded and pointwise and self.offset and self.fixed_sizes
        if padded and not self.pointwise_linear and not use_map:
            offset = self.offset and all(k == 1 for k in self.kernel)
            cause = "an offset (bias or shift)" if offset else "a spatial kernel or stride"
            mapped = pointwise and self.offset  # exact with a border map on fixed sizes
            raise NotFoldable(
                f"{what} zero-pads a tensor computed with {cause}: the borders differ"
                + (
                    "; a border-correction map would make it exact, but only on sizes the "
                    "model fixes (a model exported with static shapes)"
                    if mapped
                    else ""
                ),
                offset_at_borders=offset,
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
            gcd_all(([d1[a]] if k1[a] > 1 else []) + ([s1[a] * dilations[a]] if k2[a] > 1 else []))
            for a in range(self.nd)
        )
        kernel = tuple(span[a] // dil[a] + 1 for a in range(self.nd))
        if any(
            chained_taps(k1[a], d1[a], s1[a], k2[a], dilations[a]) < kernel[a]
            for a in range(self.nd)
        ):
            # exact on finite values, but an Inf or NaN at a gap would reach that output
            raise NotFoldable(
                f"{what} after a stride or dilation that leaves gaps: one Conv would also "
                "read positions the two never read for that output (an Inf there gives NaN)"
            )
        new_groups = math.gcd(self.groups, groups)
        if not chained_groups_fill(self.cin, self.cout, self.groups, cout, groups, new_groups):
            raise NotFoldable(
                f"{what} and the conv before it group their channels differently: one Conv "
                "would also read channels the two never read for that output (an Inf there "
                "gives NaN)"
            )
        if padded:
            pb = tuple(p + q for p, q in zip(self.pads_begin, pads_begin, strict=True))
            pe = tuple(p + q for p, q in zip(self.pads_end, pads_end, strict=True))
        else:
            pb, pe = self.pads_begin, self.pads_end
        weights = bias = border = None
        if self.numeric:
            border = self._border_map(
                use_map,
                w,
                groups=groups,
                strides=strides,
                dilations=dilations,
                pads_begin=pads_begin,
                pads_end=pads_end,
            )
            b1 = None if use_map else self.b  # the map carries the offset the pads see
            if self._depthwise_pointwise():
                weights, bias = self._scaled_input(w, b, b1, groups, new_groups)
            else:
                weights, bias = self._composed(w, b, b1, groups, new_groups, dilations, dil, kernel)
        return ConvForm(
            cin=self.cin,
            cout=cout,
            groups=new_groups,
            kernel=kernel,
            strides=tuple(a * b_ for a, b_ in zip(s1, strides, strict=True)),
            dilations=dil,
            pads_begin=pb,
            pads_end=pe,
            offset=has_bias if use_map else (self.offset or has_bias),
            spatial=spatial,
            W=weights,
            b=bias,
            numeric=self.numeric,
            has_param=True,
            fixed_sizes=self.fixed_sizes,
            corr=self.corr or use_map,
            batch=self.batch,
            C=border,
            partial_reads=self.partial_reads and groups != 1,
        )

    def _border_map(self, use_map: bool, w, **conv) -> np.ndarray | None:
        """The additive map after the next conv: this form's map, and (``use_map``) its
        offset as an image, through the next conv (``conv``: its geometry)."""
        image = None
        if use_map:
            image = np.broadcast_to(
                self.b.reshape((-1,) + (1,) * self.nd), (self.cout,) + self.spatial
            )
        if self.C is not None:
            image = self.C if image is None else image + self.C
        return None if image is None else conv_nd(image, w, **conv)

    def _scaled_input(self, w, b, b1, groups: int, new_groups: int):
        """x ↦ x·s[c] (+ t[c]) per channel, then the conv: scale the conv's input channels."""
        scale = self.W.reshape(-1)  # [cin] (= cmid)
        per_in = expand_groups(w, groups, self.cout)  # [cout, cmid, k2]
        dense = per_in * scale.reshape(1, -1, *(1,) * self.nd)
        taps = per_in.sum(axis=tuple(range(2, per_in.ndim)))
        return collapse_groups(dense, new_groups), bias_through(b, w.shape[0], taps, b1)

    def _composed(self, w, b, b1, groups: int, new_groups: int, dilations, dil, kernel):
        """This form's kernel, then ``w`` at ``dilations``: one ``kernel`` at ``dil``."""
        s1, d1, k1 = self.strides, self.dilations, self.kernel
        w1 = expand_groups(self.W, self.groups, self.cin)  # [cmid, cin, k1]
        w2 = expand_groups(w, groups, self.cout)  # [cout, cmid, k2]
        k2 = w2.shape[2:]
        comp = np.zeros((w2.shape[0], self.cin) + kernel)
        for j1 in itertools.product(*(range(k) for k in k1)):
            a1 = w1[(slice(None), slice(None)) + j1]
            for j2 in itertools.product(*(range(k) for k in k2)):
                u = tuple(
                    (d1[a] * j1[a] + s1[a] * dilations[a] * j2[a]) // dil[a] for a in range(self.nd)
                )
                comp[(slice(None), slice(None)) + u] += w2[(slice(None), slice(None)) + j2] @ a1
        taps = w2.sum(axis=tuple(range(2, w2.ndim)))
        return collapse_groups(comp, new_groups), bias_through(b, w2.shape[0], taps, b1)

    def then_channel_affine(self, scale, shift, has_shift: bool) -> ConvForm:
        """``y·scale + shift`` per output channel (BN, Mul/Add/Sub/Div by constants)."""
        weights, bias, border = self.W, self.b, self.C
        if self.numeric:
            s, bias = channel_affine(scale, shift, self.b, self.cout)
            weights = self.W * s.reshape((-1,) + (1,) * (self.W.ndim - 1))
            if self.C is not None:
                border = self.C * s.reshape((-1,) + (1,) * self.nd)
        return replace(self, offset=self.offset or has_shift, W=weights, b=bias, C=border)

    # -- parallel -------------------------------------------------------------------------

    @staticmethod
    def combine(forms: list[ConvForm], signs: list[float], concat: bool) -> ConvForm:
        """Sum (or concatenate along channels) forms that read the same source."""
        concat = concat and len(forms) > 1  # a Concat of one input changes nothing
        first = forms[0]
        if any(f.perm is not None for f in forms):
            raise NotFoldable("a branch transposes its channels")
        for f in forms[1:]:
            if f.strides != first.strides:
                raise NotFoldable("branches have different strides")
            if f.cin != first.cin:
                raise NotFoldable("branches read different channel counts")
            if not concat and f.cout != first.cout:
                raise NotFoldable("branches have different channel counts")
            if f.spatial != first.spatial:
                raise NotFoldable("branches have different output sizes")
        dil, kernel, pb, pe = common_window(forms)
        reads = [branch_taps(f, dil, pb) for f in forms]
        full = math.prod(kernel)
        if len(set().union(*reads)) < full:
            # exact on finite values, but an Inf or NaN at such a tap would reach the output
            raise NotFoldable(
                "the branches' windows leave gaps: one Conv would also read positions no "
                "branch reads for that output (an Inf there gives NaN)"
            )
        groups = 1 if concat else gcd_all(f.groups for f in forms)
        partial = any(f.partial_reads for f in forms) or (
            # a concatenated branch's channels read its own window and its own channel group
            concat
            and any(
                len(r) < math.prod(kernel) or f.groups > 1
                for r, f in zip(reads, forms, strict=True)
            )
        )
        if not concat and not summed_groups_fill(forms, groups):
            raise NotFoldable(
                "the branches group their channels differently: one Conv would also read "
                "channels no branch reads for that output (an Inf there gives NaN)"
            )
        corr = any(f.corr for f in forms)
        weights = bias = border = None
        if first.numeric and corr:
            maps = [
                sign * (np.zeros((f.cout,) + f.spatial) if f.C is None else f.C)
                for f, sign in zip(forms, signs, strict=True)
            ]
            border = np.concatenate(maps) if concat else sum(maps)
        if first.numeric:
            parts, biases = [], []
            for f, sign in zip(forms, signs, strict=True):
                dense = np.zeros((f.cout, f.cin) + kernel)
                index = (slice(None), slice(None), *branch_window(f, dil, pb))
                dense[index] += sign * expand_groups(f.W, f.groups, f.cin)
                parts.append(dense)
                biases.append(sign * (np.zeros(f.cout) if f.b is None else f.b))
            if concat:
                weights, bias = np.concatenate(parts, axis=0), np.concatenate(biases)
            else:
                weights, bias = collapse_groups(sum(parts), groups), sum(biases)
        return ConvForm(
            cin=first.cin,
            cout=sum(f.cout for f in forms) if concat else first.cout,
            groups=groups,
            kernel=kernel,
            strides=first.strides,
            dilations=dil,
            pads_begin=pb,
            pads_end=pe,
            offset=any(f.offset for f in forms),
            spatial=first.spatial,
            W=weights,
            b=bias,
            numeric=first.numeric,
            has_param=any(f.has_param for f in forms),
            fixed_sizes=all(f.fixed_sizes for f in forms),
            corr=corr,
            batch=first.batch,
            C=border,
            partial_reads=partial,
        )
