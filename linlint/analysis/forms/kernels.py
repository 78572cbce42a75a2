"""Window arithmetic shared by the conv forms, the absorbers and the shape pass: output
sizes (explicit pads, ``SAME`` pads, ConvTranspose), ``SAME`` pads, grouped weights as
dense ones and back, and a plain float64 convolution for border maps."""

from __future__ import annotations

import itertools
import math

import numpy as np


def gcd_all(values) -> int:
    """The gcd of ``values``; 1 for none (or all zero)."""
    g = 0
    for v in values:
        g = math.gcd(g, int(v))
    return g or 1


def window_span(length: int, k: int, d: int, pb: int, pe: int) -> int:
    """How far the first tap of a window of size ``k``, dilation ``d`` can move over
    ``length`` padded by ``pb``/``pe``: the strides fit in it (flooring or ceiling)."""
    return length + pb + pe - d * (k - 1) - 1


def out_size(length: int, k: int, s: int, d: int, pb: int, pe: int, ceil: bool = False) -> int:
    """Output length of a window (conv or pool) of size ``k``, stride ``s``, dilation ``d``
    over ``length`` padded by ``pb``/``pe``: the one formula every stage uses."""
    span = window_span(length, k, d, pb, pe)
    return max(0, (-(-span // s) if ceil else span // s) + 1)


def same_out_size(length: int, s: int) -> int:
    """Output length of a window padded ``SAME_UPPER``/``SAME_LOWER``: ``ceil(length / s)``."""
    return -(-length // s)


def same_pads(length: int, k: int, s: int, d: int, upper: bool) -> tuple[int, int]:
    """Begin and end pads of a ``SAME`` window (``SAME_UPPER`` when ``upper``): the total
    that gives ``same_out_size``, the odd pad at the end (upper) or the beginning."""
    total = max((same_out_size(length, s) - 1) * s + d * (k - 1) + 1 - length, 0)
    small, big = total // 2, total - total // 2
    return (small, big) if upper else (big, small)


def transpose_out_size(length: int, k: int, s: int, d: int, pb: int, pe: int, extra: int) -> int:
    """Output length of a ConvTranspose window of size ``k``, stride ``s``, dilation ``d``
    over ``length``, cropped by ``pb``/``pe`` and lengthened by ``extra``
    (``output_padding``); zero or less when the crops eat it all."""
    return s * (length - 1) + extra + (k - 1) * d + 1 - pb - pe


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


def conv_nd(image, w, *, groups, strides, dilations, pads_begin, pads_end) -> np.ndarray:
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
