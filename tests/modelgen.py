"""Hypothesis strategies that build random, valid ONNX models full of linear structure.

Every strategy draws a ``Generated``: a float32, opset-17 ``ModelProto`` built
with ``onnx.helper``, the concrete inputs to run it on, and a ``sketch`` (one
line per op) that hypothesis prints for a falsifying example. Sizes stay small
so one onnxruntime run takes milliseconds. Weights come from a drawn numpy seed
(hypothesis shrinks the structure, not the values); constants are sometimes
``Constant`` nodes instead of initializers, and sometimes shared between ops.

* ``conv_chains(nd=None)`` — 1-D/2-D/3-D chains of 2–3 Convs: random kernels,
  strides, dilations, pads (sometimes asymmetric, sometimes ``auto_pad``),
  groups (dense, grouped, depthwise), bias (none, random, zero);
  BatchNormalization / per-channel Mul, Add, Sub, Div, Neg between or after;
  zero Pad or AveragePool (``count_include_pad=1`` or unpadded) before a
  conv; now and then a ConvTranspose first, a Relu barrier, an identity
  activation, symbolic input dims, or a near-miss (a constant that varies
  spatially, a Pad with a nonzero value or a crop, an AveragePool that
  excludes its pads, an intermediate tensor that is also a graph output, a
  Flatten → Gemm tail).
* ``branch_sets()`` — 2–4 branches from one source (RepVGG, ACNet, DBB-like
  or random: convs with BN, identities, AveragePools, 1x1→KxK) summed (Add,
  Sum, Mean, Sub) or concatenated on channels, then maybe a conv or an affine;
  pads that sometimes centre the kernels and sometimes do not; strides that
  differ only where the output shapes still match; sometimes two blocks in
  series.
* ``dense_chains()`` — Gemm (transB, alpha, beta, C of shape [n], [1,n], [1])
  and MatMul on 2-D and N-D inputs, bias Adds, per-feature Mul/Add/Sub/Div,
  BatchNormalization on 2-D tensors, Reshape / Flatten / Squeeze / Unsqueeze
  that merge, split, add or drop leading axes, Identity, Dropout, summed or
  concatenated dense branches, and near-misses (a reshape of the last axis,
  a constant on the left, a row-varying Gemm C or Add, BatchNormalization on a
  non-feature axis).
* ``axis_mixes()`` — ``x[…, N, C] → MatMul → Transpose → MatMul`` on the new last axis
  (MLP-Mixer without its activation): bias Adds and per-feature affines on either side,
  constants over the last two axes after, maybe a Transpose back and another MatMul; the
  Transpose mostly swaps the last two axes, now and then it is another perm; sometimes a
  symbolic batch, rarely a symbolic N.
* ``models()`` — any of the first three.

A generated model is valid by construction: ``onnx.checker`` (full check)
accepts it and onnxruntime runs it on ``Generated.feeds``. ``Builder`` and the
op helpers (``conv``, ``batchnorm``, ``arith``, ``zero_pad``, ...) take ``draw``
and can be reused to compose new strategies.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import onnx
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
IR_VERSION = 8
F32 = TensorProto.FLOAT

# How often a rare option is drawn (out of RARE_OF): near-misses, barriers, dynamic dims.
RARE_OF = 20
MAX_CHANNELS = 8
# Kernel, stride and dilation ranges; a fuzzing run may raise them (more tap alignments).
MAX_KERNEL = 3
MAX_STRIDE = 2
MAX_DILATION = 2
MAX_SPATIAL = {1: 20, 2: 9, 3: 6}


@dataclass
class Generated:
    """A random model, the inputs to run it on, and a one-line sketch of what it is."""

    model: onnx.ModelProto
    feeds: dict[str, np.ndarray]
    sketch: list[str] = field(default_factory=list)

    @property
    def dynamic(self) -> bool:
        """Whether some graph input has a symbolic dimension."""
        return any(
            not d.HasField("dim_value")
            for vi in self.model.graph.input
            for d in vi.type.tensor_type.shape.dim
        )


class Builder:
    """Nodes, initializers and the shape of every tensor of one graph under construction."""

    def __init__(self, seed: int, constants: str = "initializers", share: bool = False) -> None:
        self.rng = np.random.default_rng(seed)
        self.constants = constants  # "initializers", "nodes" (Constant) or "mixed"
        self.share = share  # weights of equal shape are sometimes one shared tensor
        self._weights: dict[tuple[int, ...], str] = {}
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.inputs: list[onnx.ValueInfoProto] = []
        self.outputs: list[str] = []
        self.shapes: dict[str, tuple[int, ...]] = {}
        self.feeds: dict[str, np.ndarray] = {}
        self.sketch: list[str] = []
        self._count = 0

    def fresh(self, prefix: str) -> str:
        self._count += 1
        return f"{prefix}_{self._count}"

    def input(self, shape: tuple[int, ...], symbolic: tuple[int, ...] = ()) -> str:
        name = self.fresh("x")
        dims = [f"d{a}" if a in symbolic else n for a, n in enumerate(shape)]
        self.inputs.append(helper.make_tensor_value_info(name, F32, dims))
        self.shapes[name] = tuple(shape)
        self.feeds[name] = self.rng.standard_normal(shape).astype(np.float32)
        return name

    def const(self, array: np.ndarray, prefix: str = "c", dtype=np.float32) -> str:
        name = self.fresh(prefix)
        tensor = numpy_helper.from_array(np.asarray(array, dtype=dtype), name)
        as_node = self.constants == "nodes" or (
            self.constants == "mixed" and self.rng.integers(2) == 1
        )
        if as_node:
            self.nodes.append(helper.make_node("Constant", [], [name], value=tensor))
        else:
            self.inits.append(tensor)
        self.shapes[name] = tuple(np.shape(array))
        return name

    def weight(self, shape: tuple[int, ...], fan_in: int) -> str:
        shape = tuple(shape)
        if self.share and shape in self._weights and self.rng.integers(2) == 1:
            return self._weights[shape]
        w = self.rng.standard_normal(shape) / math.sqrt(max(fan_in, 1))
        self._weights[shape] = self.const(w, "w")
        return self._weights[shape]

    def vector(self, shape: tuple[int, ...], kind: str) -> np.ndarray:
        """Constants for affine ops: 'scale' stays away from 0, 'shift' is normal."""
        if kind == "scale":
            magnitude = self.rng.uniform(0.5, 1.5, shape)
            return magnitude * self.rng.choice([-1.0, 1.0], shape)
        return self.rng.standard_normal(shape) * 0.5

    def op(
        self, op_type: str, inputs: list[str], shape: tuple[int, ...], note: str = "", **attrs
    ) -> str:
        out = self.fresh(op_type.lower())
        self.nodes.append(
            helper.make_node(op_type, inputs, [out], name=self.fresh(op_type), **attrs)
        )
        self.shapes[out] = tuple(shape)
        self.sketch.append(note or op_type)
        return out

    def output(self, name: str) -> None:
        if name not in self.outputs:
            self.outputs.append(name)

    def _output_info(self, name: str, dynamic: bool) -> onnx.ValueInfoProto:
        shape = self.shapes[name]
        dims = [f"{name}_d{a}" for a in range(len(shape))] if dynamic else list(shape)
        return helper.make_tensor_value_info(name, F32, dims)

    def build(self) -> Generated:
        dynamic = any(
            not d.HasField("dim_value") for vi in self.inputs for d in vi.type.tensor_type.shape.dim
        )
        graph = helper.make_graph(
            self.nodes,
            "random",
            self.inputs,
            [self._output_info(o, dynamic) for o in self.outputs],
            initializer=self.inits,
        )
        model = helper.make_model(
            graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="modelgen"
        )
        model.ir_version = IR_VERSION
        return Generated(model, dict(self.feeds), list(self.sketch))


def new_builder(draw) -> Builder:
    """A builder with a drawn weight seed; constants now and then as Constant nodes or shared."""
    constants = draw(st.sampled_from(["initializers", "initializers", "nodes", "mixed"]))
    share = rare(draw)
    b = Builder(draw(seeds()), constants, share)
    b.sketch.append(f"constants={constants} share={share}")
    return b


def kernel_sizes():
    return st.integers(1, MAX_KERNEL)


def stride_sizes():
    return st.integers(1, MAX_STRIDE)


def dilation_sizes():
    return st.integers(1, MAX_DILATION)


def rare(draw) -> bool:
    return draw(st.integers(0, RARE_OF - 1)) == 0


def seeds():
    return st.integers(0, 2**32 - 1)


def out_size(n: int, k: int, s: int, d: int, pb: int, pe: int) -> int:
    return (n + pb + pe - d * (k - 1) - 1) // s + 1


def per_axis(draw, nd: int, values):
    """One value for every axis, or one value for all of them."""
    if draw(st.booleans()):
        return (draw(values),) * nd
    return tuple(draw(values) for _ in range(nd))


# ---- shared pieces of the conv family ----------------------------------------------------------


def channel_const_shape(draw, b: Builder, t: str, near_miss: bool = True) -> tuple[int, ...]:
    """A constant shape that broadcasts per channel on an N C spatial… tensor (or, rarely, not)."""
    shape = b.shapes[t]
    c, rank = shape[1], len(shape)
    if near_miss and rare(draw):
        if shape[-1] > 1:
            return (1,) * (rank - 1) + (shape[-1],)  # varies along the last spatial axis
        return (1, c) + tuple(shape[2:])
    options = [(c,) + (1,) * (rank - 2), (1, c) + (1,) * (rank - 2), (1,), ()]
    return draw(st.sampled_from(options))


def batchnorm(draw, b: Builder, t: str) -> str:
    c = b.shapes[t][1]
    gamma = b.vector((c,), "scale")
    beta, mean = b.vector((c,), "shift"), b.vector((c,), "shift")
    var = b.rng.uniform(0.5, 2.0, (c,))
    eps = draw(st.sampled_from([1e-5, 1e-3]))
    names = [b.const(v, "bn") for v in (gamma, beta, mean, var)]
    return b.op("BatchNormalization", [t] + names, b.shapes[t], note="BN", epsilon=eps)


def arith(draw, b: Builder, t: str, const_shape: tuple[int, ...]) -> str:
    """x·c, x+c, x−c, c−x, x/c or −x, with c of ``const_shape``."""
    op = draw(st.sampled_from(["Mul", "Add", "Sub", "RSub", "Div", "Neg"]))
    shape = b.shapes[t]
    if op == "Neg":
        return b.op("Neg", [t], shape)
    kind = "scale" if op in ("Mul", "Div") else "shift"
    if op != "Div" and rare(draw):
        c = np.zeros(const_shape)  # a zero shift or scale: still exact
    else:
        c = b.vector(const_shape, kind)
    name = b.const(c)
    out_shape = tuple(np.broadcast_shapes(shape, const_shape))
    note = f"{op} {list(const_shape)}"
    if op == "RSub":
        return b.op("Sub", [name, t], out_shape, note=note)
    if op in ("Mul", "Add") and draw(st.booleans()):
        return b.op(op, [name, t], out_shape, note=note)
    return b.op(op, [t, name], out_shape, note=note)


def channel_affine(draw, b: Builder, t: str) -> str:
    if draw(st.integers(0, 2)) == 0:
        return batchnorm(draw, b, t)
    return arith(draw, b, t, channel_const_shape(draw, b, t))


def identity_activation(draw, b: Builder, t: str) -> str:
    shape = b.shapes[t]
    which = draw(st.sampled_from(["leaky", "clip", "identity", "dropout"]))
    if which == "leaky":
        return b.op("LeakyRelu", [t], shape, note="LeakyRelu(1)", alpha=1.0)
    if which == "clip":
        return b.op("Clip", [t], shape, note="Clip()")
    if which == "identity":
        return b.op("Identity", [t], shape)
    return b.op("Dropout", [t], shape)


def conv(
    draw,
    b: Builder,
    t: str,
    *,
    cout: int | None = None,
    kernel: tuple[int, ...] | None = None,
    strides: tuple[int, ...] | None = None,
    dilations: tuple[int, ...] | None = None,
    pads: tuple[tuple[int, ...], tuple[int, ...]] | None = None,
    groups: int | None = None,
    auto_pad: bool = True,
    unpadded: int = 25,
) -> str:
    """A random Conv on ``t``; any argument given is kept as is (the caller checked it).

    ``unpadded`` is the chance (in percent) of no pads when they are drawn: a chain
    folds exactly only if every conv after the first spatial one is unpadded.
    """
    shape = b.shapes[t]
    cin, spatial = shape[1], shape[2:]
    nd = len(spatial)
    if groups is None:
        mode = draw(st.sampled_from(["dense", "dense", "grouped", "depthwise"]))
        divisors = [g for g in range(1, cin + 1) if cin % g == 0 and (cout or g) % g == 0]
        depthwise = cin if (cout or cin) % cin == 0 else 1
        groups = {"dense": 1, "grouped": draw(st.sampled_from(divisors)), "depthwise": depthwise}[
            mode
        ]
    if cout is None:
        cout = groups * draw(st.integers(1, max(1, MAX_CHANNELS // groups)))
    assert cin % groups == 0 and cout % groups == 0
    kernel = kernel or per_axis(draw, nd, kernel_sizes())
    strides = strides or per_axis(draw, nd, stride_sizes())
    dilations = dilations or per_axis(draw, nd, dilation_sizes())
    attrs: dict = {}
    mode = "explicit"
    if pads is None and auto_pad and rare(draw):
        mode = draw(st.sampled_from(["SAME_UPPER", "SAME_LOWER", "VALID"]))
    if mode == "explicit":
        if pads is None:
            if draw(st.integers(0, 99)) < unpadded:
                pb = pe = (0,) * nd
            elif draw(st.booleans()):
                pb = pe = per_axis(draw, nd, st.integers(0, 2))
            else:
                pb = tuple(draw(st.integers(0, 2)) for _ in range(nd))
                pe = tuple(draw(st.integers(0, 2)) for _ in range(nd))
        else:
            pb, pe = pads
        kernel = tuple(
            k if n + p + q >= d * (k - 1) + 1 else 1
            for n, k, d, p, q in zip(spatial, kernel, dilations, pb, pe, strict=True)
        )
        out = tuple(
            out_size(n, k, s, d, p, q)
            for n, k, s, d, p, q in zip(spatial, kernel, strides, dilations, pb, pe, strict=True)
        )
        attrs["pads"] = list(pb) + list(pe)
        note_pads = f"pads {list(pb) + list(pe)}"
    else:
        if mode == "VALID":
            kernel = tuple(
                k if n >= d * (k - 1) + 1 else 1
                for n, k, d in zip(spatial, kernel, dilations, strict=True)
            )
            out = tuple(
                out_size(n, k, s, d, 0, 0)
                for n, k, s, d in zip(spatial, kernel, strides, dilations, strict=True)
            )
        else:  # onnxruntime has no dilated SAME convs
            dilations = (1,) * nd
            out = tuple(-(-n // s) for n, s in zip(spatial, strides, strict=True))
        attrs["auto_pad"] = mode
        note_pads = mode
    fan_in = cin // groups * math.prod(kernel)
    inputs = [t, b.weight((cout, cin // groups) + kernel, fan_in)]
    bias = draw(st.sampled_from(["none", "random", "random", "zero"]))
    if bias != "none":
        inputs.append(b.const(np.zeros(cout) if bias == "zero" else b.vector((cout,), "shift")))
    if draw(st.booleans()):
        attrs["kernel_shape"] = list(kernel)
    if any(s > 1 for s in strides) or draw(st.booleans()):
        attrs["strides"] = list(strides)
    if any(d > 1 for d in dilations) or draw(st.booleans()):
        attrs["dilations"] = list(dilations)
    if groups > 1 or draw(st.booleans()):
        attrs["group"] = groups
    note = (
        f"Conv{nd}d {cin}->{cout} k{list(kernel)} s{list(strides)} d{list(dilations)} "
        f"{note_pads} g{groups} bias={bias}"
    )
    return b.op("Conv", inputs, (shape[0], cout) + out, note=note, **attrs)


def conv_transpose(draw, b: Builder, t: str) -> str:
    shape = b.shapes[t]
    cin, spatial = shape[1], shape[2:]
    nd = len(spatial)
    groups = draw(st.sampled_from([g for g in range(1, cin + 1) if cin % g == 0]))
    cout = groups * draw(st.integers(1, max(1, MAX_CHANNELS // groups)))
    kernel = per_axis(draw, nd, kernel_sizes())
    strides = per_axis(draw, nd, stride_sizes())
    pb = tuple(draw(st.integers(0, k - 1)) for k in kernel)
    pe = tuple(draw(st.integers(0, k - 1)) for k in kernel)
    outpad = tuple(draw(st.integers(0, s - 1)) for s in strides)
    out = tuple(
        s * (n - 1) + op + k - p - q
        for n, s, op, k, p, q in zip(spatial, strides, outpad, kernel, pb, pe, strict=True)
    )
    if min(out) < 1:
        pb = pe = (0,) * nd
        out = tuple(
            s * (n - 1) + op + k
            for n, s, op, k in zip(spatial, strides, outpad, kernel, strict=True)
        )
    inputs = [t, b.weight((cin, cout // groups) + kernel, cin // groups * math.prod(kernel))]
    if draw(st.booleans()):
        inputs.append(b.const(b.vector((cout,), "shift")))
    return b.op(
        "ConvTranspose",
        inputs,
        (shape[0], cout) + out,
        note=f"ConvTranspose{nd}d {cin}->{cout} k{list(kernel)} s{list(strides)} g{groups}",
        kernel_shape=list(kernel),
        strides=list(strides),
        pads=list(pb) + list(pe),
        output_padding=list(outpad),
        group=groups,
    )


def zero_pad(draw, b: Builder, t: str) -> str:
    shape = b.shapes[t]
    nd = len(shape) - 2
    pb = tuple(draw(st.integers(0, 2)) for _ in range(nd))
    pe = tuple(draw(st.integers(0, 2)) for _ in range(nd))
    if rare(draw):  # a crop: negative pads
        pe = tuple(-1 if n > 2 else p for n, p in zip(shape[2:], pe, strict=True))
    pads = np.array([0, 0, *pb, 0, 0, *pe], dtype=np.int64)
    inputs = [t, b.const(pads, "pads", dtype=np.int64)]
    value = draw(st.sampled_from(["absent", "zero", "empty"]))
    if rare(draw):
        value = "one"
    if value in ("zero", "one"):
        inputs.append(b.const(np.array(float(value == "one")), "value"))
    elif value == "empty":
        inputs.append("")
    out = (shape[0], shape[1]) + tuple(n + p + q for n, p, q in zip(shape[2:], pb, pe, strict=True))
    note = f"Pad {pads.tolist()} value={value}"
    return b.op("Pad", inputs, out, note=note)


def average_pool(draw, b: Builder, t: str) -> str:
    shape = b.shapes[t]
    spatial = shape[2:]
    nd = len(spatial)
    kernel = tuple(
        min(k, n) for k, n in zip(per_axis(draw, nd, kernel_sizes()), spatial, strict=True)
    )
    strides = per_axis(draw, nd, stride_sizes())
    padded = draw(st.booleans())
    pb = tuple(draw(st.integers(0, k - 1)) if padded else 0 for k in kernel)
    pe = tuple(draw(st.integers(0, k - 1)) if padded else 0 for k in kernel)
    include = 1 if not padded or not rare(draw) else 0
    out = tuple(
        out_size(n, k, s, 1, p, q)
        for n, k, s, p, q in zip(spatial, kernel, strides, pb, pe, strict=True)
    )
    attrs = {"kernel_shape": list(kernel), "strides": list(strides)}
    if padded:
        attrs["pads"] = list(pb) + list(pe)
    divides = all(
        (n + p + q - k) % s == 0
        for n, k, s, p, q in zip(spatial, kernel, strides, pb, pe, strict=True)
    )
    if divides and draw(st.integers(0, 3)) == 0:
        attrs["ceil_mode"] = 1  # where it rounds nothing
    if include or draw(st.booleans()):
        attrs["count_include_pad"] = include
    note = f"AveragePool k{list(kernel)} s{list(strides)} pads {list(pb) + list(pe)} cip={include}"
    return b.op("AveragePool", [t], (shape[0], shape[1]) + out, note=note, **attrs)


def conv_input(draw, nd: int | None = None, min_size: int = 1):
    """A builder with one N C spatial… input; rarely with symbolic batch or spatial dims."""
    b = new_builder(draw)
    nd = nd or draw(st.sampled_from([1, 2, 2, 3]))
    c = draw(st.integers(1, 6))
    spatial = tuple(draw(st.integers(min_size, MAX_SPATIAL[nd])) for _ in range(nd))
    symbolic: tuple[int, ...] = ()
    if rare(draw):
        symbolic = draw(st.sampled_from([(0,), tuple(range(2, nd + 2)), tuple(range(nd + 2))]))
    x = b.input((1, c) + spatial, symbolic)
    b.sketch.append(f"input {[1, c, *spatial]} symbolic={list(symbolic)}")
    return b, x


# ---- 1. conv chains ------------------------------------------------------------------------------


def _between(draw, b: Builder, t: str, before_conv: bool, first: bool = False) -> str:
    """Zero or more ops between convs: affines, and before a conv a Pad or an AveragePool.

    A Pad after a spatial conv can never fold exactly: it comes mostly before the first.
    """
    choices = ["affine", "affine", "pad", "pool"] if first else ["affine"] * 4 + ["pool", "pad"]
    for _ in range(draw(st.integers(0, 2))):
        what = draw(st.sampled_from(choices))
        if rare(draw):
            what = draw(st.sampled_from(["relu", "identity_act"]))
        if what == "affine":
            t = channel_affine(draw, b, t)
        elif what == "pad" and before_conv:
            t = zero_pad(draw, b, t)
        elif what == "pool" and before_conv:
            t = average_pool(draw, b, t)
        elif what == "relu":
            t = b.op("Relu", [t], b.shapes[t])
        elif what == "identity_act":
            t = identity_activation(draw, b, t)
    return t


@st.composite
def conv_chains(draw, nd: int | None = None) -> Generated:
    """2–3 convs in series (rarely a ConvTranspose first) with affine ops around them."""
    b, t = conv_input(draw, nd, min_size=3)
    n_convs = draw(st.integers(2, 3))
    t = _between(draw, b, t, before_conv=True, first=True)
    for i in range(n_convs):
        if i == 0 and draw(st.integers(0, 5)) == 0:
            t = conv_transpose(draw, b, t)
        else:
            t = conv(draw, b, t, unpadded=25 if i == 0 else 70)
        if i + 1 < n_convs and rare(draw):
            b.output(t)  # an intermediate tensor that is also a graph output
        t = _between(draw, b, t, before_conv=i + 1 < n_convs)
    if rare(draw):  # a Flatten → Gemm tail
        shape = b.shapes[t]
        width = math.prod(shape[1:])
        t = b.op("Flatten", [t], (shape[0], width), axis=1)
        n = draw(st.integers(1, MAX_CHANNELS))
        t = b.op("Gemm", [t, b.weight((width, n), width)], (shape[0], n))
    b.output(t)
    return b.build()


# ---- 2. branch sets ------------------------------------------------------------------------------


def _fit_pads(draw, n: int, target: int, k: int, s: int, d: int, centre: bool):
    """Begin/end pads giving output size ``target``, or None; centred when asked and possible."""
    totals = [p for p in range(0, 5) if n + p >= d * (k - 1) + 1]
    totals = [p for p in totals if out_size(n, k, s, d, p, 0) == target]
    if not totals:
        return None
    if centre:
        exact = [p for p in totals if p == d * (k - 1)]
        if exact:
            half = exact[0] // 2
            return half, exact[0] - half
    total = draw(st.sampled_from(totals))
    pb = draw(st.integers(0, total))
    return pb, total - pb


def _branch_conv(
    draw, b, x, target, stride, cout, kernel, centre, groups=None, bn=None
) -> str | None:
    shape = b.shapes[x]
    nd = len(shape) - 2
    dil = per_axis(draw, nd, dilation_sizes()) if rare(draw) else (1,) * nd
    pb, pe = [], []
    for a in range(nd):
        fit = _fit_pads(draw, shape[2 + a], target[a], kernel[a], stride[a], dil[a], centre)
        if fit is None:
            return None
        pb.append(fit[0])
        pe.append(fit[1])
    cin = shape[1]
    if groups is None:
        common = math.gcd(cin, cout)
        groups = draw(st.sampled_from([1, 1, common])) if common > 1 else 1
    t = conv(
        draw,
        b,
        x,
        cout=cout,
        kernel=kernel,
        strides=stride,
        dilations=dil,
        pads=(tuple(pb), tuple(pe)),
        groups=groups,
    )
    if bn if bn is not None else draw(st.booleans()):
        t = batchnorm(draw, b, t)
    return t


def _branch(draw, b: Builder, x: str, style: str, index: int, target, stride, cout, centre):
    """One branch of a set: its output tensor, or None when it cannot match ``target``."""
    shape = b.shapes[x]
    nd = len(shape) - 2
    cin = shape[1]
    identity_ok = cout == cin and all(s == 1 for s in stride) and tuple(shape[2:]) == target
    if style == "repvgg":
        kind = ["conv3", "conv1", "bn_identity"][index]
    elif style == "acnet":
        kind = ["conv3", "conv_1x3", "conv_3x1"][index]
    else:
        kind = draw(
            st.sampled_from(
                ["conv", "conv", "conv1", "identity", "bn_identity", "affine", "pool", "dbb"]
            )
        )
    if kind in ("identity", "bn_identity", "affine"):
        if not identity_ok:
            return None
        if kind == "identity":
            return x
        if kind == "bn_identity":
            return batchnorm(draw, b, x)
        return arith(draw, b, x, channel_const_shape(draw, b, x, near_miss=False))
    if kind == "pool":
        if cout != cin:
            return None
        kernel = per_axis(draw, nd, kernel_sizes())
        pads = []
        for a in range(nd):
            fit = _fit_pads(draw, shape[2 + a], target[a], kernel[a], stride[a], 1, centre)
            if fit is None or max(fit) >= kernel[a]:
                return None
            pads.append(fit)
        pb, pe = tuple(p for p, _ in pads), tuple(q for _, q in pads)
        include = 0 if any(pb + pe) and rare(draw) else 1
        t = b.op(
            "AveragePool",
            [x],
            (shape[0], cin) + tuple(target),
            note=f"AveragePool k{list(kernel)} pads {list(pb + pe)} cip={include}",
            kernel_shape=list(kernel),
            strides=list(stride),
            pads=list(pb + pe),
            count_include_pad=include,
        )
        return batchnorm(draw, b, t) if draw(st.booleans()) else t
    if kind == "dbb":  # 1x1 (+BN) then KxK
        mid = draw(st.integers(1, MAX_CHANNELS))
        t = conv(
            draw,
            b,
            x,
            cout=mid,
            kernel=(1,) * nd,
            strides=(1,) * nd,
            dilations=(1,) * nd,
            pads=((0,) * nd, (0,) * nd),
            groups=1,
        )
        if draw(st.booleans()):
            t = batchnorm(draw, b, t)
        kernel = per_axis(draw, nd, kernel_sizes())
        return _branch_conv(draw, b, t, target, stride, cout, kernel, centre, groups=1)
    kernel = {
        "conv3": (3,) * nd,
        "conv1": (1,) * nd,
        "conv_1x3": (1,) * (nd - 1) + (3,),
        "conv_3x1": (3,) + (1,) * (nd - 1),
    }.get(kind)
    if kernel is None:
        kernel = per_axis(draw, nd, kernel_sizes())
    bn = True if style == "repvgg" else None
    return _branch_conv(draw, b, x, target, stride, cout, kernel, centre, bn=bn)


@st.composite
def branch_sets(draw) -> Generated:
    """2–4 branches from one source, summed or concatenated on channels, maybe then a conv.

    Now and then two such blocks in series, or the block behind an affine op.
    """
    nd = draw(st.sampled_from([1, 2, 2, 2, 3]))
    b, x = conv_input(draw, nd, min_size=2)
    if rare(draw):
        x = channel_affine(draw, b, x)  # an affine before the fork: the source stays the input
    for _ in range(2 if draw(st.integers(0, 3)) == 0 else 1):
        x = _branch_block(draw, b, x)
        if rare(draw):
            x = b.op("Relu", [x], b.shapes[x])
    b.output(x)
    return b.build()


def _branch_block(draw, b: Builder, x: str) -> str:
    nd = len(b.shapes[x]) - 2
    shape = b.shapes[x]
    cin, spatial = shape[1], shape[2:]
    style = draw(st.sampled_from(["repvgg", "acnet", "random", "random"]))
    if style == "acnet" and nd == 1:
        style = "random"
    join = draw(st.sampled_from(["Add", "Sum", "Concat", "Add", "Sum", "Mean", "Sub"]))
    stride = per_axis(draw, nd, stride_sizes()) if draw(st.booleans()) else (1,) * nd
    centre = draw(st.booleans()) or style in ("repvgg", "acnet") and not rare(draw)
    if style == "repvgg":
        cout, count = cin, 3 if stride == (1,) * nd else 2
    else:
        cout = cin if draw(st.booleans()) else draw(st.integers(1, MAX_CHANNELS))
        count = 3 if style == "acnet" else draw(st.integers(2, 4))
    if join == "Sub":
        count = 2
    # The first branch fixes the output size: a centred conv with the set's stride.
    target = tuple(
        out_size(n, 3 if n >= 2 else 1, s, 1, 1, 1) for n, s in zip(spatial, stride, strict=True)
    )
    if draw(st.booleans()):
        target = tuple(out_size(n, 1, s, 1, 0, 0) for n, s in zip(spatial, stride, strict=True))
    branches = []
    for i in range(count):
        own_stride = stride
        if i > 0 and rare(draw):  # a different stride: kept only if the shapes still match
            own_stride = per_axis(draw, nd, stride_sizes())
        out_c = cout if join != "Concat" else draw(st.sampled_from([cout, cin, 1, 2]))
        t = _branch(draw, b, x, style, i, target, own_stride, out_c, centre)
        if t is not None:
            branches.append(t)
    if len(branches) < 2:
        # Always have two: a plain centred-or-not conv with the set's stride.
        for _ in range(2 - len(branches)):
            t = None
            while t is None:
                k = per_axis(draw, nd, kernel_sizes())
                t = _branch_conv(draw, b, x, target, stride, cout, k, centre)
                if t is None:
                    t = _branch_conv(draw, b, x, target, stride, cout, (1,) * nd, centre)
            branches.append(t)
    channels = [b.shapes[t][1] for t in branches]
    out_shape = (1, channels[0]) + tuple(target)
    if join == "Concat":
        axis = draw(st.sampled_from([1, -(nd + 1)]))
        out_shape = (1, sum(channels)) + tuple(target)
        y = b.op("Concat", branches, out_shape, note=f"Concat axis={axis}", axis=axis)
    elif join in ("Sum", "Mean"):
        y = b.op(join, branches, out_shape)
    elif join == "Sub":
        y = b.op("Sub", branches[:2], out_shape)
    else:
        y = branches[0]
        for t in branches[1:]:
            y = b.op("Add", [y, t] if draw(st.booleans()) else [t, y], out_shape)
    after = draw(st.sampled_from(["none", "conv1", "conv", "affine"]))
    if join == "Concat" and after == "none" and draw(st.booleans()):
        after = "conv1"
    if after == "conv1":
        y = conv(
            draw,
            b,
            y,
            kernel=(1,) * nd,
            strides=(1,) * nd,
            dilations=(1,) * nd,
            pads=((0,) * nd, (0,) * nd),
            groups=1,
        )
    elif after == "conv":
        y = conv(draw, b, y)
    elif after == "affine":
        y = channel_affine(draw, b, y)
    if draw(st.booleans()):
        y = channel_affine(draw, b, y)
    return y


# ---- 3. dense chains -----------------------------------------------------------------------------


def _feature_const_shape(draw, b: Builder, t: str) -> tuple[int, ...]:
    shape = b.shapes[t]
    n = shape[-1]
    if rare(draw) and len(shape) >= 2 and shape[-2] > 1:
        return (shape[-2], n)  # varies by row
    options = [(n,), (1, n), (1,), ()]
    if len(shape) >= 3:
        options.append((1,) * (len(shape) - 1) + (n,))
    return draw(st.sampled_from(options))


def _gemm(draw, b: Builder, t: str, n: int) -> str:
    rows, k = b.shapes[t]
    trans_b = draw(st.booleans())
    alpha = draw(st.sampled_from([1.0, 1.0, 0.5, -2.0]))
    beta = draw(st.sampled_from([1.0, 1.0, 0.25, 0.0]))
    w = b.weight((n, k) if trans_b else (k, n), k)
    inputs = [t, w]
    c_kind = draw(st.sampled_from(["none", "n", "1n", "1"]))
    if rare(draw) and rows > 1:
        c_kind = "rows"
    c_shape = {"none": None, "n": (n,), "1n": (1, n), "1": (1,), "rows": (rows, n)}[c_kind]
    if c_shape is not None:
        inputs.append(b.const(b.vector(c_shape, "shift")))
    attrs = {}
    if trans_b or draw(st.booleans()):
        attrs["transB"] = int(trans_b)
    if alpha != 1.0 or draw(st.booleans()):
        attrs["alpha"] = alpha
    if beta != 1.0 or draw(st.booleans()):
        attrs["beta"] = beta
    note = f"Gemm {k}->{n} transB={int(trans_b)} alpha={alpha} beta={beta} C={c_kind}"
    return b.op("Gemm", inputs, (rows, n), note=note, **attrs)


def _matmul(draw, b: Builder, t: str, n: int) -> str:
    shape = b.shapes[t]
    k = shape[-1]
    if rare(draw) and len(shape) == 2:  # the constant on the left
        m = draw(st.integers(1, 4))
        w = b.weight((m, shape[0]), shape[0])
        return b.op("MatMul", [w, t], (m, k), note=f"MatMul const-left {m}x{shape[0]}")
    w = b.weight((k, n), k)
    return b.op("MatMul", [t, w], shape[:-1] + (n,), note=f"MatMul {k}->{n}")


def _reshape(draw, b: Builder, t: str) -> str:
    """Merge, split, squeeze or unsqueeze leading axes (rarely: change the last axis)."""
    shape = b.shapes[t]
    lead, n = shape[:-1], shape[-1]
    rows = math.prod(lead)
    what = draw(st.sampled_from(["merge", "split", "unsqueeze", "squeeze"]))
    if what == "squeeze" and not (len(shape) >= 3 and 1 in lead):
        what = "unsqueeze"
    if what == "merge" and len(lead) < 2:
        what = "split"
    if rare(draw):
        what = "last"
    if what in ("squeeze", "unsqueeze"):
        if what == "squeeze":
            axis = draw(st.sampled_from([a for a, d in enumerate(lead) if d == 1]))
            out = shape[:axis] + shape[axis + 1 :]
        else:
            axis = draw(st.integers(0, len(lead)))
            out = shape[:axis] + (1,) + shape[axis:]
        spec = (
            axis if draw(st.booleans()) else axis - (len(shape) if what == "squeeze" else len(out))
        )
        axes = b.const(np.array([spec], dtype=np.int64), "axes", dtype=np.int64)
        op = "Squeeze" if what == "squeeze" else "Unsqueeze"
        return b.op(op, [t, axes], out, note=f"{op} {list(shape)} axes=[{spec}]")
    if what == "last":  # a near-miss: the last axis changes
        if n % 2 == 0 and n > 1:
            target = lead + (n // 2, 2)
        elif len(lead) >= 2:
            target = lead[:-1] + (lead[-1] * n,)
        else:
            target = shape + (1,)
    elif what == "merge":
        target = (rows, n)
    else:
        splits = [(a, rows // a) for a in range(1, rows + 1) if rows % a == 0]
        target = draw(st.sampled_from(splits)) + (n,)
    if what == "merge" and draw(st.integers(0, 2)) == 0:
        axis = len(shape) - 1
        return b.op("Flatten", [t], target, note=f"Flatten {list(shape)} axis={axis}", axis=axis)
    spec = list(target)
    if draw(st.booleans()):
        spec[draw(st.integers(0, len(spec) - 2)) if len(spec) > 1 else 0] = -1
    copies = [a for a in range(min(len(spec), len(shape))) if spec[a] == shape[a] != 0]
    if copies and draw(st.integers(0, 2)) == 0:
        spec[draw(st.sampled_from(copies))] = 0  # 0 copies the input's dim
    shape_name = b.const(np.array(spec, dtype=np.int64), "shape", dtype=np.int64)
    return b.op("Reshape", [t, shape_name], target, note=f"Reshape {list(shape)}->{spec}")


def _dense_step(draw, b: Builder, t: str, want_param: bool) -> str:
    shape = b.shapes[t]
    if want_param:
        n = draw(st.integers(1, MAX_CHANNELS))
        if len(shape) == 2 and draw(st.booleans()):
            return _gemm(draw, b, t, n)
        return _matmul(draw, b, t, n)
    choices = ["bias", "affine", "affine", "reshape", "identity", "dropout"]
    if len(shape) == 2:
        choices.append("bn")  # BatchNorm1d: axis 1 is the features
    what = draw(st.sampled_from(choices))
    if rare(draw):
        what = draw(st.sampled_from(["bn", "relu", "leaky"]))
    if what == "bias":
        c = b.const(b.vector((shape[-1],), "shift"))
        return b.op("Add", [t, c] if draw(st.booleans()) else [c, t], shape, note="bias Add")
    if what == "affine":
        return arith(draw, b, t, _feature_const_shape(draw, b, t))
    if what == "reshape":
        return _reshape(draw, b, t)
    if what == "identity":
        return b.op("Identity", [t], shape)
    if what == "dropout":
        inputs = [t]
        if draw(st.booleans()):
            inputs.append(b.const(np.array(draw(st.sampled_from([0.0, 0.5]))), "ratio"))
            if draw(st.booleans()):
                inputs.append(b.const(np.array(False), "training", dtype=np.bool_))
        return b.op("Dropout", inputs, shape)
    if what == "bn":  # normalizes axis 1: the features only for 2-D tensors
        return batchnorm(draw, b, t)
    if what == "relu":
        return b.op("Relu", [t], shape)
    return b.op("LeakyRelu", [t], shape, note="LeakyRelu(1)", alpha=1.0)


def _dense_chain(draw, b: Builder, t: str, params: int) -> str:
    for _ in range(params):
        for _ in range(draw(st.integers(0, 2))):
            t = _dense_step(draw, b, t, want_param=False)
        t = _dense_step(draw, b, t, want_param=True)
    for _ in range(draw(st.integers(0, 2))):
        t = _dense_step(draw, b, t, want_param=False)
    return t


@st.composite
def dense_chains(draw) -> Generated:
    """Gemm / MatMul chains on 2-D or N-D inputs, sometimes with summed or concatenated branches."""
    b = new_builder(draw)
    d = draw(st.integers(1, MAX_CHANNELS))
    lead = draw(st.sampled_from([(1,), (1,), (2,), (2, 3), (3, 2), (1, 2, 3)]))
    symbolic = (0,) if rare(draw) else ()
    t = b.input(lead + (d,), symbolic)
    b.sketch.append(f"input {[*lead, d]} symbolic={list(symbolic)}")
    if draw(st.integers(0, 3)) == 0:
        t = _dense_chain(draw, b, t, draw(st.integers(0, 1)))
        fork = t
        width = draw(st.integers(1, MAX_CHANNELS))
        join = draw(st.sampled_from(["Add", "Sum", "Concat"]))
        branches = []
        for _ in range(draw(st.integers(2, 3))):
            if draw(st.integers(0, 3)) == 0 and join != "Concat" and b.shapes[fork][-1] == width:
                branches.append(fork)
                continue
            y = _dense_step(draw, b, fork, want_param=True)
            shape = b.shapes[y]
            if shape[-1] != width and join != "Concat":
                w = b.weight((shape[-1], width), shape[-1])
                y = b.op("MatMul", [y, w], shape[:-1] + (width,))
            if draw(st.booleans()):
                y = _dense_step(draw, b, y, want_param=False)
            branches.append(y)
        shapes = {b.shapes[y][:-1] for y in branches}
        if len(shapes) > 1:  # a branch reshaped or multiplied from the left: several outputs
            for y in branches[1:]:
                b.output(y)
            branches = branches[:1]
        if len(branches) == 1:
            t = branches[0]
        elif join == "Concat":
            out = b.shapes[branches[0]][:-1] + (sum(b.shapes[y][-1] for y in branches),)
            t = b.op("Concat", branches, out, note="Concat axis=-1", axis=-1)
        elif join == "Sum":
            t = b.op("Sum", branches, b.shapes[branches[0]])
        else:
            t = branches[0]
            for y in branches[1:]:
                t = b.op("Add", [t, y], b.shapes[y])
        t = _dense_chain(draw, b, t, draw(st.integers(0, 1)))
    else:
        t = _dense_chain(draw, b, t, draw(st.integers(1, 3)))
    b.output(t)
    return b.build()


@st.composite
def blocked_chains(draw) -> tuple[Generated, int, int]:
    """Two chains of plain parametric ops with an op between that no normal form absorbs,
    and the number of parametric ops before and after it.

    Dense: MatMuls on ``[rows, d]``, then a Mul by a per-row scale or a ReduceMean over
    the rows, then MatMuls. Conv: 1x1 Convs, then GlobalAveragePool → Flatten or
    ReduceMean → Reshape (a classifier head as either torch exporter writes it), then
    Gemms. Each side folds on its own; the region as a whole does not.
    """
    b = new_builder(draw)
    before, after = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    if draw(st.booleans()):
        rows, d = draw(st.integers(2, 4)), draw(st.integers(1, MAX_CHANNELS))
        t = b.input((rows, d))
        b.sketch.append(f"input {[rows, d]}")
        for _ in range(before):
            n = draw(st.integers(1, MAX_CHANNELS))
            t = b.op("MatMul", [t, b.weight((b.shapes[t][-1], n), n)], (rows, n))
        if draw(st.booleans()):
            scale = b.const(b.vector(b.shapes[t], "scale"))
            t = b.op("Mul", [t, scale], b.shapes[t], note="Mul by a per-row scale")
        else:
            shape = (1, b.shapes[t][-1])
            t = b.op("ReduceMean", [t], shape, note="ReduceMean rows", axes=[0], keepdims=1)
        for _ in range(after):
            n = draw(st.integers(1, MAX_CHANNELS))
            t = b.op("MatMul", [t, b.weight((b.shapes[t][-1], n), n)], b.shapes[t][:-1] + (n,))
    else:
        c, size = draw(st.integers(1, MAX_CHANNELS)), draw(st.integers(1, 4))
        t = b.input((1, c, size, size))
        b.sketch.append(f"input {[1, c, size, size]}")
        for _ in range(before):
            n = draw(st.integers(1, MAX_CHANNELS))
            w = b.weight((n, b.shapes[t][1], 1, 1), b.shapes[t][1])
            t = b.op("Conv", [t, w], (1, n, size, size), note=f"Conv 1x1 ->{n}")
        c = b.shapes[t][1]
        if draw(st.booleans()):
            t = b.op("GlobalAveragePool", [t], (1, c, 1, 1))
            t = b.op("Flatten", [t], (1, c), axis=1)
        else:
            t = b.op("ReduceMean", [t], (1, c, 1, 1), axes=[-1, -2], keepdims=1)
            t = b.op("Reshape", [t, b.const(np.array([1, c]), "shape", np.int64)], (1, c))
        for _ in range(after):
            n = draw(st.integers(1, MAX_CHANNELS))
            w = b.weight((n, b.shapes[t][-1]), n)
            t = b.op("Gemm", [t, w], (1, n), note=f"Gemm ->{n}", transB=1)
    b.output(t)
    return b.build(), before, after


def _pair_const_shape(draw, b: Builder, t: str) -> tuple[int, ...]:
    """A constant that broadcasts over the last two axes of ``t`` (rarely: along another)."""
    shape = b.shapes[t]
    p, q = shape[-2:]
    if rare(draw) and len(shape) >= 3 and shape[-3] > 1:
        return (shape[-3], 1, 1)  # varies along a leading axis
    return draw(st.sampled_from([(q,), (p, 1), (p, q), (1, q), (1,), ()]))


def _mixing_transpose(draw, b: Builder, t: str) -> tuple[str, list[int]]:
    """A Transpose that mostly swaps the last two axes, now and then permutes them otherwise."""
    shape = b.shapes[t]
    rank = len(shape)
    perm = [*range(rank - 2), rank - 1, rank - 2]
    if draw(st.integers(0, 3)) == 0:
        perm = list(draw(st.permutations(range(rank))))
    out = tuple(shape[p] for p in perm)
    return b.op("Transpose", [t], out, note=f"Transpose {perm}", perm=perm), perm


@st.composite
def axis_mixes(draw) -> Generated:
    """``x[…, N, C] → MatMul (C→C') → Transpose → MatMul`` on the new last axis (MLP-Mixer's
    token and channel mixing without an activation): one MatMul on the two axes flattened
    where the Transpose swaps the last two axes. Bias Adds and per-feature affines on either
    side, constants over the last two axes after, maybe the swap back and another MatMul;
    sometimes a perm that moves other axes, a symbolic batch or (rarely) a symbolic N."""
    b = new_builder(draw)
    lead = draw(st.sampled_from([(), (1,), (2,), (2, 3), (1, 2)]))
    n, c = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    symbolic = ()
    if lead and draw(st.integers(0, 3)) == 0:
        symbolic = (0,)
    if rare(draw):
        symbolic = symbolic + (len(lead),)  # N itself
    t = b.input(lead + (n, c), symbolic)
    b.sketch.append(f"input {[*lead, n, c]} symbolic={list(symbolic)}")
    t = _matmul(draw, b, t, draw(st.integers(1, 6)))
    for _ in range(draw(st.integers(0, 2))):
        t = _dense_step(draw, b, t, want_param=False) if rare(draw) else channel_step(draw, b, t)
    rank = len(b.shapes[t])
    t, perm = _mixing_transpose(draw, b, t)
    if draw(st.booleans()):  # per feature along the axis the features moved to
        axis = perm.index(rank - 1)
        const_shape = tuple(b.shapes[t][a] if a == axis else 1 for a in range(rank))
        t = arith(draw, b, t, const_shape[axis:] if draw(st.booleans()) else const_shape)
    t = _matmul(draw, b, t, draw(st.integers(1, 6)))
    for _ in range(draw(st.integers(0, 2))):
        t = arith(draw, b, t, _pair_const_shape(draw, b, t))
    if draw(st.integers(0, 2)) == 0:
        t, _ = _mixing_transpose(draw, b, t)
        if draw(st.booleans()):
            t = _matmul(draw, b, t, draw(st.integers(1, 6)))
    if draw(st.booleans()):
        t = b.op("Relu", [t], b.shapes[t])
    b.output(t)
    return b.build()


def channel_step(draw, b: Builder, t: str) -> str:
    """A bias Add or a per-feature affine on the last axis."""
    if draw(st.booleans()):
        c = b.const(b.vector((b.shapes[t][-1],), "shift"))
        return b.op("Add", [t, c], b.shapes[t], note="bias Add")
    return arith(draw, b, t, _feature_const_shape(draw, b, t))


def models():
    """Any generated model: a conv chain, a branch set or a dense chain."""
    return st.one_of(conv_chains(), branch_sets(), dense_chains())


__all__ = [
    "Builder",
    "Generated",
    "axis_mixes",
    "blocked_chains",
    "branch_sets",
    "conv_chains",
    "dense_chains",
    "models",
]
