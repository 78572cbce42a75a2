"""Window arithmetic shared by the conv forms and the shape pass: output sizes, grouped
weights as dense ones and back, and a plain float64 convolution for border maps."""

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
