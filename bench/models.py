"""Deterministic benchmark models, built with onnx.helper and numpy.

* ``hybrid(path, n_nodes)`` — a two-tower network of about ``n_nodes`` nodes:
  a conv stack (Conv/BatchNormalization/Relu blocks, residual blocks, a few
  RepVGG-style branch blocks and Conv→Conv chains) and a transformer stack
  (LayerNormalization, Q/K/V MatMul+Add, Reshape/Transpose, Softmax
  attention, GELU decomposed as exporters write it, residual Adds, and in one
  block out of eight a second FFN projection with no activation between).
  With ``weights="external"`` (the default) every weight is external data in
  one sparse file beside the model, and the protobuf is streamed block by
  block from a serialized template: 300k nodes take a couple of seconds and
  memory stays flat. With ``weights="random"`` the weights are seeded random
  values inline (small sizes only: for onnxruntime runs).
* ``llm(path)`` — the same transformer blocks at LLM widths (d=1024,
  ffn=4096): about 1 GB of external weights, written sparsely.
* ``repvgg(path)`` — RepVGG-A0 in training form (22 blocks of 3×3+BN, 1×1+BN,
  identity BN, Add, Relu) at 1×3×224×224, random weights.
* ``mlp(path)`` — a 4096-wide MLP whose layers are Gemms, two groups of them
  with no activation between (exported-Linear style, ``transB=1``).
* ``tiny(path)`` — Conv → BatchNormalization → Relu, for start-up timing.
* ``small_zoo(folder, n)`` — ``n`` small models of varied sizes and seeds.

Run ``python bench/models.py OUTDIR`` to write one of each (small sizes).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
IR_VERSION = 8
PRODUCER = "linlint bench/models.py"
F32 = TensorProto.FLOAT
TAG = "#BLOCK#"  # 7 characters, replaced by the block's 7-digit index
PREV = "#PREVB#"  # the previous block of the same tower
OFF_WIDTH = 16  # external-data offsets are written as 16 digits
ALIGN = 64
GAIN = 1.0  # weight variance × fan-in of random conv-tower weights: activations stay O(1)


def _off_token(k: int) -> str:
    token = f"#OFF{k:03d}"
    return token + "#" * (OFF_WIDTH - len(token))


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


# --------------------------------------------------------------------------- weights


class ExternalWeights:
    """Weights as external data: offsets are tokens until a block is placed in the file."""

    def __init__(self, location: str) -> None:
        self.location = location
        self.sizes: list[int] = []

    def make(self, name: str, shape: tuple[int, ...], init: str, scale: float) -> TensorProto:
        del init, scale
        t = TensorProto()
        t.name = name
        t.data_type = F32
        t.dims.extend(shape)
        nbytes = 4 * math.prod(shape)
        for key, value in (
            ("location", self.location),
            ("offset", _off_token(len(self.sizes))),
            ("length", str(nbytes)),
        ):
            entry = t.external_data.add()
            entry.key, entry.value = key, value
        t.data_location = TensorProto.EXTERNAL
        self.sizes.append(nbytes)
        return t


class RandomWeights:
    """Seeded random weights stored inline (float32)."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.sizes: list[int] = []

    def make(self, name: str, shape: tuple[int, ...], init: str, scale: float) -> TensorProto:
        if init == "ones":  # around ``scale``
            a = scale * (1 + 0.1 * self.rng.standard_normal(shape))
        elif init == "positive":
            a = self.rng.uniform(0.5, 1.5, shape)
        else:
            a = scale * self.rng.standard_normal(shape)
        return numpy_helper.from_array(a.astype(np.float32), name)


# --------------------------------------------------------------------------- blocks


class Block:
    """The nodes and weights of one block; tensor names carry the block's tag."""

    def __init__(self, tag: str, weights, gain: float = 2.0, gamma: float = 1.0) -> None:
        self.tag = tag
        self.weights = weights
        self.gain = gain  # weight variance × fan-in (2: He init)
        self.gamma = gamma  # BatchNormalization scales are drawn around this
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[TensorProto] = []
        self.out = f"b{tag}/out"

    def t(self, suffix: str) -> str:
        return f"b{self.tag}/{suffix}"

    def node(self, op: str, inputs: list[str], output: str, **attrs) -> str:
        name = output if output != self.out else self.t(op.lower())
        self.nodes.append(helper.make_node(op, inputs, [output], name=name, **attrs))
        return output

    def w(self, suffix: str, shape: tuple[int, ...], init: str = "normal", scale=None) -> str:
        name = self.t(suffix)
        if scale is None:
            fan_in = math.prod(shape[1:]) if len(shape) > 1 else 1
            scale = math.sqrt(self.gain / max(fan_in, 1))
        self.inits.append(self.weights.make(name, shape, init, scale))
        return name

    def bn(self, x: str, c: int, suffix: str, out: str | None = None) -> str:
        args = [
            x,
            self.w(f"{suffix}.g", (c,), "ones", self.gamma),
            self.w(f"{suffix}.b", (c,), "normal", 0.05),
            self.w(f"{suffix}.m", (c,), "normal", 0.05),
            self.w(f"{suffix}.v", (c,), "positive"),
        ]
        return self.node("BatchNormalization", args, out or self.t(suffix), epsilon=1e-5)

    def conv(self, x, cin, cout, k, suffix, stride=1, bias=True, out=None) -> str:
        args = [x, self.w(f"{suffix}.w", (cout, cin, k, k))]
        if bias:
            args.append(self.w(f"{suffix}.bias", (cout,), "normal", 0.05))
        p = k // 2
        return self.node(
            "Conv",
            args,
            out or self.t(suffix),
            kernel_shape=[k, k],
            pads=[p, p, p, p],
            strides=[stride, stride],
        )


@dataclass(frozen=True)
class Dims:
    channels: int = 32  # conv tower width
    size: int = 16  # conv tower spatial size
    tokens: int = 16
    d: int = 64
    heads: int = 4
    ffn: int = 256


# Shared constants (inline, tiny) that transformer blocks read.
def _shared_constants(dims: Dims) -> list[TensorProto]:
    dh = dims.d // dims.heads
    i64 = np.int64
    return [
        numpy_helper.from_array(np.array([1, dims.tokens, dims.heads, dh], i64), "c/heads_shape"),
        numpy_helper.from_array(np.array([1, dims.tokens, dims.d], i64), "c/model_shape"),
        numpy_helper.from_array(np.array(math.sqrt(dh), np.float32), "c/sqrt_dh"),
        numpy_helper.from_array(np.array(math.sqrt(2.0), np.float32), "c/sqrt2"),
        numpy_helper.from_array(np.array(1.0, np.float32), "c/one"),
        numpy_helper.from_array(np.array(0.5, np.float32), "c/half"),
    ]


def conv_block(kind: str, b: Block, x: str, dims: Dims) -> None:
    c = dims.channels
    if kind == "conv_relu":
        b.node("Relu", [b.conv(x, c, c, 3, "conv")], b.out)
    elif kind == "conv_bn_relu":
        y = b.bn(b.conv(x, c, c, 3, "conv", bias=False), c, "bn")
        b.node("Relu", [y], b.out)
    elif kind == "residual":
        y = b.node("Relu", [b.conv(x, c, c, 3, "conv1")], b.t("relu1"))
        y = b.conv(y, c, c, 3, "conv2")
        b.node("Relu", [b.node("Add", [y, x], b.t("add"))], b.out)
    elif kind == "chain":  # 3×3 then 1×1, nothing between: LL001
        y = b.conv(b.conv(x, c, c, 3, "conv3x3"), c, c, 1, "conv1x1")
        b.node("Relu", [y], b.out)
    elif kind == "repvgg":  # 3×3+BN, 1×1+BN, identity BN, summed: LL004
        y3 = b.bn(b.conv(x, c, c, 3, "conv3x3", bias=False), c, "bn3x3")
        y1 = b.bn(b.conv(x, c, c, 1, "conv1x1", bias=False), c, "bn1x1")
        yi = b.bn(x, c, "bnid")
        s = b.node("Add", [b.node("Add", [y3, y1], b.t("add1")), yi], b.t("add2"))
        b.node("Relu", [s], b.out)
    else:
        raise ValueError(kind)


def transformer_block(kind: str, b: Block, x: str, dims: Dims) -> None:
    d, f = dims.d, dims.ffn

    def linear(inp: str, din: int, dout: int, suffix: str, out: str | None = None) -> str:
        y = b.node("MatMul", [inp, b.w(f"{suffix}.w", (din, dout), scale=din**-0.5)], b.t(suffix))
        bias = b.w(f"{suffix}.b", (dout,), "normal", 0.02)
        return b.node("Add", [y, bias], out or b.t(f"{suffix}.add"))

    def ln(inp: str, suffix: str) -> str:
        g, beta = b.w(f"{suffix}.g", (d,), "ones", 1.0), b.w(f"{suffix}.b", (d,), "normal", 0.02)
        return b.node("LayerNormalization", [inp, g, beta], b.t(suffix), axis=-1, epsilon=1e-5)

    h = ln(x, "ln1")
    heads = []
    for name, perm in (("q", [0, 2, 1, 3]), ("k", [0, 2, 3, 1]), ("v", [0, 2, 1, 3])):
        y = b.node("Reshape", [linear(h, d, d, name), "c/heads_shape"], b.t(f"{name}.split"))
        heads.append(b.node("Transpose", [y], b.t(f"{name}.t"), perm=perm))
    q, k, v = heads
    s = b.node("Div", [b.node("MatMul", [q, k], b.t("scores")), "c/sqrt_dh"], b.t("scaled"))
    p = b.node("Softmax", [s], b.t("probs"), axis=-1)
    a = b.node("Transpose", [b.node("MatMul", [p, v], b.t("ctx"))], b.t("ctx.t"), perm=[0, 2, 1, 3])
    a = b.node("Reshape", [a, "c/model_shape"], b.t("ctx.merge"))
    r = b.node("Add", [x, linear(a, d, d, "o")], b.t("res1"))
    u = linear(ln(r, "ln2"), d, f, "fc1")
    e = b.node("Erf", [b.node("Div", [u, "c/sqrt2"], b.t("gelu.div"))], b.t("gelu.erf"))
    e = b.node("Add", [e, "c/one"], b.t("gelu.add"))
    g = b.node("Mul", [b.node("Mul", [u, e], b.t("gelu.mul")), "c/half"], b.t("gelu"))
    y = linear(g, f, d, "fc2")
    if kind == "redundant":  # a second projection with no activation between: LL001
        y = linear(y, d, d, "fc3")
    b.node("Add", [r, y], b.out)


CONV_CYCLE = (
    "repvgg",
    "residual",
    "conv_relu",
    "conv_bn_relu",
    "conv_relu",
    "residual",
    "conv_relu",
    "conv_relu",
    "chain",
    "residual",
    "conv_relu",
    "conv_bn_relu",
    "conv_relu",
    "residual",
    "conv_relu",
    "conv_relu",
)
CONV_NODES = {"conv_relu": 2, "conv_bn_relu": 3, "residual": 5, "chain": 3, "repvgg": 8}
TRANSFORMER_NODES = {"plain": 33, "redundant": 35}


def transformer_kind(i: int) -> str:
    return "redundant" if i % 8 == 7 else "plain"


def plan_blocks(n_nodes: int, conv_share: float) -> tuple[list[str], list[str]]:
    """Block kinds of each tower so that the whole model has about ``n_nodes`` nodes."""
    head = 8
    budget = max(n_nodes - head, 40)
    conv_budget = int(budget * conv_share)
    conv: list[str] = []
    used = 2  # stem
    while conv_share > 0 and used < conv_budget:
        kind = CONV_CYCLE[len(conv) % len(CONV_CYCLE)]
        conv.append(kind)
        used += CONV_NODES[kind]
    tr: list[str] = []
    used_tr = 2  # input projection
    while used_tr < budget - used:
        kind = transformer_kind(len(tr))
        tr.append(kind)
        used_tr += TRANSFORMER_NODES[kind]
    return conv, tr


# --------------------------------------------------------------------------- writing


class _Template:
    """A block serialized once with tokens in its names and offsets, cut at every token."""

    def __init__(self, build: Callable[[Block], None], location: str) -> None:
        weights = ExternalWeights(location)
        b = Block(TAG, weights)
        build(b)
        g = onnx.GraphProto()
        g.node.extend(b.nodes)
        g.initializer.extend(b.inits)
        data = g.SerializeToString()
        self.sizes = weights.sizes
        self.nbytes = sum(_aligned(s) for s in self.sizes)
        tokens = {TAG.encode(): "tag", PREV.encode(): "prev"}
        tokens.update({_off_token(k).encode(): k for k in range(len(self.sizes))})
        self.parts: list[bytes] = []
        self.keys: list = []
        pos = 0
        while True:
            hits = [(data.find(tok, pos), tok) for tok in tokens]
            hits = [(i, tok) for i, tok in hits if i >= 0]
            if not hits:
                break
            i, tok = min(hits)
            self.parts.append(data[pos:i])
            self.keys.append(tokens[tok])
            pos = i + len(tok)
        self.parts.append(data[pos:])
        self.length = len(data)
        self.nodes = len(b.nodes)

    def render(self, index: int, prev: int, base: int) -> bytes:
        offsets, at = [], base
        for s in self.sizes:
            offsets.append(at)
            at += _aligned(s)
        values = []
        for key in self.keys:
            if key == "tag":
                values.append(b"%07d" % index)
            elif key == "prev":
                values.append(b"%07d" % prev)
            else:
                values.append(b"%016d" % offsets[key])
        out = bytearray(self.parts[0])
        for value, part in zip(values, self.parts[1:], strict=True):
            out += value
            out += part
        return bytes(out)


def _aligned(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


def _tag(i: int) -> str:
    return f"{i:07d}"


@dataclass
class ModelInfo:
    path: Path
    nodes: int
    weight_bytes: int
    blocks: dict[str, int]


def hybrid(
    path: str | Path,
    n_nodes: int,
    *,
    weights: str = "external",
    dims: Dims | None = None,
    conv_share: float = 0.4,
    seed: int = 0,
    blocks: tuple[list[str], list[str]] | None = None,
) -> ModelInfo:
    """Write the two-tower synthetic model of about ``n_nodes`` nodes to ``path``.

    ``blocks`` gives the block kinds of each tower instead (conv, transformer).
    """
    path = Path(path)
    dims = dims or Dims()
    conv_kinds, tr_kinds = blocks or plan_blocks(n_nodes, conv_share)
    if weights == "random":
        return _hybrid_direct(path, dims, conv_kinds, tr_kinds, seed)
    if weights != "external":
        raise ValueError(weights)
    location = path.stem + ".weights"
    head_w = ExternalWeights(location)
    graph_head, graph_tail, stem_conv, stem_tr = _frame(dims, head_w, conv_kinds, tr_kinds)
    builders = {}
    for kind in dict.fromkeys(conv_kinds):
        builders[("c", kind)] = _Template(
            lambda b, k=kind: conv_block(k, b, f"b{PREV}/out", dims), location
        )
    for kind in dict.fromkeys(tr_kinds):
        builders[("t", kind)] = _Template(
            lambda b, k=kind: transformer_block(k, b, f"b{PREV}/out", dims), location
        )
    order = [("c", k) for k in conv_kinds] + [("t", k) for k in tr_kinds]
    # frame weights go first in the data file; their offsets are fixed in place
    base = 0
    frame_tensors = [t for g in (graph_head, graph_tail) for t in g.initializer if _is_ext(t)]
    for t in frame_tensors:
        _set_offset(t, base)
        base += _aligned(_ext_len(t))
    head_bytes = graph_head.SerializeToString()
    tail_bytes = graph_tail.SerializeToString()
    graph_len = len(head_bytes) + len(tail_bytes) + sum(builders[k].length for k in order)
    model = _model_header()
    nodes = len(graph_head.node) + len(graph_tail.node)
    with open(path, "wb") as out:
        out.write(model.SerializeToString())
        out.write(b"\x3a" + _varint(graph_len))
        out.write(head_bytes)
        prev = {"c": stem_conv, "t": stem_tr}
        for i, key in enumerate(order, start=2):
            tower = key[0]
            template = builders[key]
            out.write(template.render(i, prev[tower], base))
            base += template.nbytes
            prev[tower] = i
            nodes += template.nodes
        out.write(tail_bytes)
    with open(path.parent / location, "wb") as data:
        data.truncate(base)  # sparse: the weights are zeros, never held in memory
    counts: dict[str, int] = {}
    for _, kind in order:
        counts[kind] = counts.get(kind, 0) + 1
    return ModelInfo(path, nodes, base, counts)


def _is_ext(t: TensorProto) -> bool:
    return t.data_location == TensorProto.EXTERNAL


def _ext_len(t: TensorProto) -> int:
    return int(next(e.value for e in t.external_data if e.key == "length"))


def _set_offset(t: TensorProto, offset: int) -> None:
    for e in t.external_data:
        if e.key == "offset":
            e.value = str(offset)


def _model_header() -> onnx.ModelProto:
    m = onnx.ModelProto()
    m.ir_version = IR_VERSION
    m.producer_name = PRODUCER
    op = m.opset_import.add()
    op.domain, op.version = "", OPSET
    return m


def _frame(dims: Dims, weights, conv_kinds, tr_kinds):
    """The graph's inputs, stems, head and outputs, as two partial GraphProtos."""
    c, d = dims.channels, dims.d
    stem_conv, stem_tr = 0, 1
    n = 2 + len(conv_kinds) + len(tr_kinds)
    last_conv = 1 + len(conv_kinds) if conv_kinds else stem_conv
    last_tr = n - 1 if tr_kinds else stem_tr
    head = onnx.GraphProto()
    head.name = "hybrid"
    head.input.extend(
        [
            helper.make_tensor_value_info("image", F32, [1, 3, dims.size, dims.size]),
            helper.make_tensor_value_info("tokens", F32, [1, dims.tokens, d]),
        ]
    )
    head.output.extend([helper.make_tensor_value_info("logits", F32, [1, 10])])
    head.initializer.extend(_shared_constants(dims))
    b = Block(_tag(stem_conv), weights)
    b.node("Relu", [b.conv("image", 3, c, 3, "stem")], b.out)
    t = Block(_tag(stem_tr), weights)
    y = t.node("MatMul", ["tokens", t.w("embed.w", (d, d), scale=d**-0.5)], t.t("embed"))
    t.node("Add", [y, t.w("embed.b", (d,), "normal", 0.02)], t.out)
    head.node.extend(b.nodes + t.nodes)
    head.initializer.extend(b.inits + t.inits)
    tail = onnx.GraphProto()
    h = Block("head000", weights)
    pooled = h.node("GlobalAveragePool", [f"b{_tag(last_conv)}/out"], h.t("gap"))
    flat = h.node("Flatten", [pooled], h.t("flat"), axis=1)
    mean = h.node("ReduceMean", [f"b{_tag(last_tr)}/out"], h.t("mean"), axes=[1], keepdims=0)
    both = h.node("Concat", [flat, mean], h.t("concat"), axis=1)
    w = h.w("fc.w", (c + d, 10), scale=(c + d) ** -0.5)
    h.node("Gemm", [both, w, h.w("fc.b", (10,), "normal", 0.02)], "logits")
    tail.node.extend(h.nodes)
    tail.initializer.extend(h.inits)
    return head, tail, stem_conv, stem_tr


def _hybrid_direct(path: Path, dims, conv_kinds, tr_kinds, seed) -> ModelInfo:
    rng = np.random.default_rng(seed)
    weights = RandomWeights(rng)
    head, tail, stem_conv, stem_tr = _frame(dims, weights, conv_kinds, tr_kinds)
    graph = onnx.GraphProto()
    graph.CopyFrom(head)
    prev = {"c": stem_conv, "t": stem_tr}
    order = [("c", k) for k in conv_kinds] + [("t", k) for k in tr_kinds]
    for i, (tower, kind) in enumerate(order, start=2):
        b = Block(_tag(i), weights, gain=GAIN, gamma=0.7)
        x = f"b{_tag(prev[tower])}/out"
        (conv_block if tower == "c" else transformer_block)(kind, b, x, dims)
        graph.node.extend(b.nodes)
        graph.initializer.extend(b.inits)
        prev[tower] = i
    graph.MergeFrom(tail)
    model = _model_header()
    model.graph.CopyFrom(graph)
    onnx.save(model, str(path))
    counts: dict[str, int] = {}
    for _, kind in order:
        counts[kind] = counts.get(kind, 0) + 1
    nbytes = sum(len(t.raw_data) for t in graph.initializer)
    return ModelInfo(path, len(graph.node), nbytes, counts)


def llm(path: str | Path, *, blocks: int = 21, d: int = 1024, ffn: int = 4096) -> ModelInfo:
    """A transformer at LLM widths, about 1 GB of (sparse, zero) external weights."""
    dims = Dims(tokens=128, d=d, heads=16, ffn=ffn)
    plan = ([], [transformer_kind(i) for i in range(blocks)])
    return hybrid(path, 0, dims=dims, blocks=plan)


# --------------------------------------------------------------------------- benchmark networks

REPVGG_A0 = ((48, 1), (48, 2), (96, 4), (192, 14), (1280, 1))  # (width, blocks), stride 2 first


def repvgg(
    path: str | Path,
    *,
    stages=REPVGG_A0,
    size: int = 224,
    classes: int = 1000,
    seed: int = 0,
) -> ModelInfo:
    """RepVGG in training form: every block is 3×3+BN, 1×1+BN (+ identity BN), Add, Relu."""
    rng = np.random.default_rng(seed)
    weights = RandomWeights(rng)
    nodes, inits = [], []
    x, cin, index = "input", 3, 0
    for width, count in stages:
        for j in range(count):
            stride = 2 if j == 0 else 1
            b = Block(f"{index:07d}", weights, gain=1.0, gamma=0.7)  # activations stay O(1)
            y3 = b.bn(b.conv(x, cin, width, 3, "conv3x3", stride, bias=False), width, "bn3x3")
            y1 = b.conv(x, cin, width, 1, "conv1x1", stride, bias=False)
            y1 = b.bn(y1, width, "bn1x1")
            s = b.node("Add", [y3, y1], b.t("add"))
            if cin == width and stride == 1:
                s = b.node("Add", [s, b.bn(x, width, "bnid")], b.t("add_id"))
            x = b.node("Relu", [s], b.out)
            nodes += b.nodes
            inits += b.inits
            cin = width
            index += 1
    h = Block("head000", weights)
    flat = h.node("Flatten", [h.node("GlobalAveragePool", [x], h.t("gap"))], h.t("flat"), axis=1)
    w = h.w("fc.w", (classes, cin), scale=cin**-0.5)
    h.node("Gemm", [flat, w, h.w("fc.b", (classes,), "normal", 0.01)], "logits", transB=1)
    nodes += h.nodes
    inits += h.inits
    graph = helper.make_graph(
        nodes,
        "repvgg_train",
        [helper.make_tensor_value_info("input", F32, [1, 3, size, size])],
        [helper.make_tensor_value_info("logits", F32, [1, classes])],
        inits,
    )
    return _save(path, graph, index)


def mlp(
    path: str | Path,
    *,
    width: int = 4096,
    classes: int = 1000,
    batch: int = 8,
    pattern: str = "L R L L R L L L",
    seed: int = 0,
) -> ModelInfo:
    """An MLP of Gemm layers (``L``) with Relus (``R``) only where the pattern says."""
    rng = np.random.default_rng(seed)
    tokens = pattern.split()
    n_layers = tokens.count("L")
    nodes, inits = [], []
    x, din, k = "input", width, 0
    for tok in tokens:
        if tok == "R":
            nodes.append(helper.make_node("Relu", [x], [f"relu{k}"], name=f"relu{k}"))
            x = f"relu{k}"
            continue
        k += 1
        dout = classes if k == n_layers else width
        w = rng.standard_normal((dout, din), dtype=np.float32)
        w *= np.float32(din**-0.5)
        bias = (0.01 * rng.standard_normal(dout)).astype(np.float32)
        inits += [
            numpy_helper.from_array(w, f"fc{k}.weight"),
            numpy_helper.from_array(bias, f"fc{k}.bias"),
        ]
        out = "logits" if k == n_layers else f"fc{k}"
        nodes.append(
            helper.make_node(
                "Gemm", [x, f"fc{k}.weight", f"fc{k}.bias"], [out], name=f"fc{k}", transB=1
            )
        )
        x, din = out, dout
    graph = helper.make_graph(
        nodes,
        "mlp",
        [helper.make_tensor_value_info("input", F32, [batch, width])],
        [helper.make_tensor_value_info("logits", F32, [batch, classes])],
        inits,
    )
    return _save(path, graph, n_layers)


def tiny(path: str | Path) -> ModelInfo:
    """Conv → BatchNormalization → Relu on 1×4×8×8."""
    weights = RandomWeights(np.random.default_rng(0))
    b = Block("0000000", weights)
    y = b.bn(b.conv("input", 4, 8, 3, "conv", bias=False), 8, "bn")
    b.node("Relu", [y], "output")
    graph = helper.make_graph(
        b.nodes,
        "tiny",
        [helper.make_tensor_value_info("input", F32, [1, 4, 8, 8])],
        [helper.make_tensor_value_info("output", F32, [1, 8, 8, 8])],
        b.inits,
    )
    return _save(path, graph, 1)


def small_zoo(folder: str | Path, n: int = 200) -> list[ModelInfo]:
    """``n`` small models (about 60 to 400 nodes, tiny widths, random inline weights)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    dims = Dims(channels=8, size=8, tokens=8, d=16, heads=2, ffn=32)
    out = []
    for i in range(n):
        size = 60 + (i * 37) % 340
        share = (0.2, 0.5, 0.8)[i % 3]
        path = folder / f"model_{i:03d}.onnx"
        out.append(hybrid(path, size, weights="random", dims=dims, conv_share=share, seed=i))
    return out


def model_proto(graph: onnx.GraphProto, producer: str = PRODUCER) -> onnx.ModelProto:
    """``graph`` as a model of this module's opset and IR version."""
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name=producer
    )
    model.ir_version = IR_VERSION
    return model


def _save(path: str | Path, graph: onnx.GraphProto, blocks: int) -> ModelInfo:
    onnx.save(model_proto(graph), str(path))
    nbytes = sum(len(t.raw_data) for t in graph.initializer)
    return ModelInfo(Path(path), len(graph.node), nbytes, {"blocks": blocks})


def main(argv: list[str]) -> None:
    out = Path(argv[1] if len(argv) > 1 else "bench-models")
    out.mkdir(parents=True, exist_ok=True)
    for info in (
        hybrid(out / "hybrid_1k.onnx", 1000),
        hybrid(out / "hybrid_1k_random.onnx", 1000, weights="random"),
        llm(out / "llm_1gb.onnx"),
        repvgg(out / "repvgg_a0_train.onnx"),
        mlp(out / "mlp_4096.onnx"),
        tiny(out / "tiny.onnx"),
    ):
        print(f"{info.path}: {info.nodes} nodes, {info.weight_bytes / 2**20:.1f} MB of weights")


if __name__ == "__main__":
    main(sys.argv)
