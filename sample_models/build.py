"""Write the sample models linlint is tested on.

Every model is small (all but the deep MobileOne twins tiny), float32, built with
``onnx.helper`` and numpy from a fixed seed, so running this script twice writes
byte-identical files::

    python sample_models/build.py [OUTDIR]    # default: this folder

``EXPECTED`` maps each file stem to what ``linlint check`` must report on it
(default settings) and how many parametric ops (Conv, ConvTranspose, Gemm,
MatMul with a constant operand) remain after ``linlint fold`` with the
default policy (``None``: fold must leave the model unchanged).

The ``*_deploy`` models are the re-parameterized forms of their ``*_train``
twins, computed here in float64 from the train weights; the tests check with
onnxruntime that each pair computes the same function.
"""

import sys
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
IR_VERSION = 8
PRODUCER = "linlint sample_models/build.py"
BN_EPS = 1e-5
F32 = TensorProto.FLOAT


@dataclass(frozen=True)
class Expect:
    """What linlint must say about one sample model."""

    codes: tuple[str, ...]  # sorted codes of all findings of `linlint check`, with repeats
    params_after_fold: int | None  # parametric ops after default `linlint fold`; None = unchanged
    what: str  # one line: what the model shows


EXPECTED: dict[str, Expect] = {}
_BUILDERS: dict[str, Callable[[np.random.Generator], onnx.ModelProto]] = {}


def _sample(
    codes: Sequence[str], params_after_fold: int | None, what: str, seed_from: str = ""
) -> Callable:
    """Register a builder named after its file stem, with its expectation and its seed.

    The seed comes from ``seed_from`` (shared by train/deploy twins) or the stem.
    """

    def register(fn: Callable[[np.random.Generator], onnx.ModelProto]) -> Callable:
        stem = fn.__name__
        if stem in EXPECTED:
            raise ValueError(f"duplicate sample model {stem}")
        EXPECTED[stem] = Expect(tuple(sorted(codes)), params_after_fold, what)
        seed = zlib.crc32((seed_from or stem).encode())

        def build() -> onnx.ModelProto:
            model = fn(np.random.default_rng(seed))
            model.graph.name = stem
            return model

        _BUILDERS[stem] = build
        return fn

    return register


# --------------------------------------------------------------------------- helpers


def _randn(rng: np.random.Generator, *shape: int, scale: float = 0.1) -> np.ndarray:
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def _bn_params(rng: np.random.Generator, c: int) -> dict[str, np.ndarray]:
    return {
        "scale": (1.0 + 0.1 * rng.standard_normal(c)).astype(np.float32),
        "bias": (0.1 * rng.standard_normal(c)).astype(np.float32),
        "mean": (0.1 * rng.standard_normal(c)).astype(np.float32),
        "var": rng.uniform(0.5, 1.5, c).astype(np.float32),
    }


def _pads(p: int | Sequence[int]) -> list[int]:
    return [p] * 4 if isinstance(p, int) else list(p)


class Graph:
    """A small builder over onnx.helper: nodes, initializers, inputs and outputs."""

    def __init__(self, rng: np.random.Generator, unnamed: bool = False) -> None:
        self.rng = rng
        self.unnamed = unnamed
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.inputs: list[onnx.ValueInfoProto] = []
        self.outputs: list[onnx.ValueInfoProto] = []

    # graph interface
    def input(self, name: str, shape: Sequence[int], elem: int = F32) -> str:
        self.inputs.append(helper.make_tensor_value_info(name, elem, list(shape)))
        return name

    def output(self, name: str, shape: Sequence[int], elem: int = F32) -> str:
        self.outputs.append(helper.make_tensor_value_info(name, elem, list(shape)))
        return name

    def const(self, name: str, array: np.ndarray) -> str:
        self.inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def node(
        self,
        op: str,
        inputs: Sequence[str],
        name: str,
        outputs: Sequence[str] | None = None,
        domain: str = "",
        **attrs: object,
    ) -> str:
        """Add a node; its single output is named after the node unless given."""
        outs = list(outputs) if outputs is not None else [name]
        self.nodes.append(
            helper.make_node(
                op, list(inputs), outs, name="" if self.unnamed else name, domain=domain, **attrs
            )
        )
        return outs[0]

    def graph(self, name: str) -> onnx.GraphProto:
        return helper.make_graph(
            self.nodes, name, self.inputs, self.outputs, initializer=self.inits
        )

    # layers with their own weights
    def conv(
        self,
        name: str,
        x: str,
        c_in: int,
        c_out: int,
        k: int | tuple[int, int] = 3,
        pads: int | Sequence[int] = 0,
        stride: int = 1,
        group: int = 1,
        bias: bool = True,
        w: np.ndarray | None = None,
        b: np.ndarray | None = None,
        out: str | None = None,
    ) -> str:
        kh, kw = (k, k) if isinstance(k, int) else k
        if w is None:
            w = _randn(self.rng, c_out, c_in // group, kh, kw)
        inputs = [x, self.const(f"{name}.weight", w)]
        if bias:
            if b is None:
                b = _randn(self.rng, c_out)
            inputs.append(self.const(f"{name}.bias", b))
        attrs: dict[str, object] = {
            "kernel_shape": [kh, kw],
            "pads": _pads(pads),
            "strides": [stride, stride],
        }
        if group != 1:
            attrs["group"] = group
        return self.node("Conv", inputs, name, outputs=[out] if out else None, **attrs)

    def bn(self, name: str, x: str, c: int, p: dict[str, np.ndarray] | None = None) -> str:
        p = p if p is not None else _bn_params(self.rng, c)
        ins = [x] + [self.const(f"{name}.{k}", p[k]) for k in ("scale", "bias", "mean", "var")]
        return self.node("BatchNormalization", ins, name, epsilon=BN_EPS)

    def gemm(
        self, name: str, x: str, n_in: int, n_out: int, trans_b: bool = True, bias: bool = True
    ) -> str:
        shape = (n_out, n_in) if trans_b else (n_in, n_out)
        inputs = [x, self.const(f"{name}.weight", _randn(self.rng, *shape))]
        if bias:
            inputs.append(self.const(f"{name}.bias", _randn(self.rng, n_out)))
        attrs = {"transB": 1} if trans_b else {}
        return self.node("Gemm", inputs, name, **attrs)

    def matmul(self, name: str, x: str, n_in: int, n_out: int) -> str:
        return self.node(
            "MatMul", [x, self.const(f"{name}.weight", _randn(self.rng, n_in, n_out))], name
        )

    def add_bias(self, name: str, x: str, n: int) -> str:
        return self.node("Add", [x, self.const(f"{name}.bias", _randn(self.rng, n))], name)

    def relu(self, name: str, x: str, out: str | None = None) -> str:
        return self.node("Relu", [x], name, outputs=[out] if out else None)


def _model(
    g: Graph, opsets: Sequence[tuple[str, int]] = (), functions: Sequence = ()
) -> onnx.ModelProto:
    model = helper.make_model(
        g.graph("main"),
        opset_imports=[helper.make_opsetid("", OPSET)]
        + [helper.make_opsetid(d, v) for d, v in opsets],
        producer_name=PRODUCER,
        functions=list(functions),
    )
    model.ir_version = IR_VERSION
    return model


def _simple(
    rng: np.random.Generator,
    body: Callable[[Graph, str], str],
    x_shape: Sequence[int],
    y_shape: Sequence[int],
    unnamed: bool = False,
    **kw,
) -> onnx.ModelProto:
    """One input ``x``; ``body(g, "x")`` adds nodes, its last node's output becomes ``y``."""
    g = Graph(rng, unnamed=unnamed)
    g.input("x", x_shape)
    last = body(g, "x")
    if g.nodes[-1].output[0] != last:
        raise ValueError("the body must return the output of its last node")
    g.nodes[-1].output[0] = "y"
    g.output("y", y_shape)
    return _model(g, **kw)


# --------------------------------------------------------------------------- LL001


@_sample(["LL001"], 1, "Conv 1x1 -> Conv 1x1 with biases: one Conv 1x1")
def ll001_conv1x1_conv1x1(rng):
    def body(g, x):
        h = g.conv("conv1", x, 8, 8, k=1)
        return g.conv("conv2", h, 8, 8, k=1)

    return _simple(rng, body, [1, 8, 16, 16], [1, 8, 16, 16])


@_sample(["LL001"], 1, "Conv 3x3 pad 1 -> Conv 1x1 (no padding after): one Conv 3x3, fewer MACs")
def ll001_conv3x3_conv1x1(rng):
    def body(g, x):
        h = g.conv("conv1", x, 8, 8, k=3, pads=1)
        h = g.conv("conv2", h, 8, 8, k=1)
        return g.relu("relu", h)

    return _simple(rng, body, [1, 8, 16, 16], [1, 8, 16, 16])


@_sample(["LL001"], 1, "Linear -> Linear exported as two Gemm (transB=1): one Gemm 64->32")
def ll001_gemm_gemm_mlp(rng):
    def body(g, x):
        h = g.gemm("fc1", x, 64, 64)
        h = g.gemm("fc2", h, 64, 32)
        return g.relu("relu", h)

    return _simple(rng, body, [4, 64], [4, 32])


@_sample(["LL001"], 1, "Linear -> Linear exported as MatMul + Add on a 3-D input: one MatMul + Add")
def ll001_matmul_add_3d_mlp(rng):
    def body(g, x):
        h = g.matmul("fc1.matmul", x, 64, 64)
        h = g.add_bias("fc1.add", h, 64)
        h = g.matmul("fc2.matmul", h, 64, 32)
        return g.add_bias("fc2.add", h, 32)

    return _simple(rng, body, [2, 5, 64], [2, 5, 32])


@_sample(
    ["LL001"],
    1,
    "ExpandNets layer: Conv 1x1 8->32 (no bias) -> Conv 3x3 32->32 -> Conv 1x1 32->8: one Conv 3x3",
)
def ll001_expandnets_1x1_3x3_1x1(rng):
    def body(g, x):
        h = g.conv("expand", x, 8, 32, k=1, bias=False)
        h = g.conv("conv3x3", h, 32, 32, k=3, pads=1)
        return g.conv("project", h, 32, 8, k=1)

    return _simple(rng, body, [1, 8, 16, 16], [1, 8, 16, 16])


@_sample(
    ["LL001"], 1, "Gemm -> Gemm whose weights come from Constant and ConstantOfShape + Cast nodes"
)
def ll001_weights_from_constant_nodes(rng):
    g = Graph(rng)
    g.input("x", [4, 32])
    w1 = g.node(
        "Constant", [], "fc1.weight", value=numpy_helper.from_array(_randn(rng, 32, 32), "w1")
    )
    b1 = g.node("Constant", [], "fc1.bias", value=numpy_helper.from_array(_randn(rng, 32), "b1"))
    shape = g.node(
        "Constant",
        [],
        "fc2.weight_shape",
        value=numpy_helper.from_array(np.array([32, 16], dtype=np.int64), "shape"),
    )
    w2_f64 = g.node(
        "ConstantOfShape",
        [shape],
        "fc2.weight_f64",
        value=numpy_helper.from_array(np.array([0.05], dtype=np.float64), "fill"),
    )
    w2 = g.node("Cast", [w2_f64], "fc2.weight", to=F32)
    b2 = g.node("Constant", [], "fc2.bias", value_floats=[float(v) for v in _randn(rng, 16)])
    h = g.node("Gemm", ["x", w1, b1], "fc1", transB=1)
    g.node("Gemm", [h, w2, b2], "fc2", outputs=["y"])
    g.output("y", [4, 16])
    return _model(g)


@_sample(
    ["LL001"],
    3,
    "If node 'branch': then = Conv 1x1 -> Conv 1x1 (outer-scope weights), "
    "else = Conv -> Relu -> Conv",
)
def ll001_chain_in_if_branch(rng):
    main = Graph(rng)
    main.input("x", [1, 8, 8, 8])
    main.input("cond", [], TensorProto.BOOL)

    then = Graph(rng)
    # weights of the then-branch live in the main graph (outer scope)
    w1 = main.const("then_conv1.weight", _randn(rng, 8, 8, 1, 1))
    b1 = main.const("then_conv1.bias", _randn(rng, 8))
    w2 = main.const("then_conv2.weight", _randn(rng, 8, 8, 1, 1))
    b2 = main.const("then_conv2.bias", _randn(rng, 8))
    conv_attrs = {"kernel_shape": [1, 1], "pads": [0, 0, 0, 0], "strides": [1, 1]}
    h = then.node("Conv", ["x", w1, b1], "then_conv1", **conv_attrs)
    then.node("Conv", [h, w2, b2], "then_conv2", outputs=["y_then"], **conv_attrs)
    then.output("y_then", [1, 8, 8, 8])

    els = Graph(rng)  # weights as the subgraph's own initializers
    h = els.conv("else_conv1", "x", 8, 8, k=1)
    h = els.relu("else_relu", h)
    els.conv("else_conv2", h, 8, 8, k=1, out="y_else")
    els.output("y_else", [1, 8, 8, 8])

    main.node(
        "If",
        ["cond"],
        "branch",
        outputs=["y"],
        then_branch=then.graph("then_branch"),
        else_branch=els.graph("else_branch"),
    )
    main.output("y", [1, 8, 8, 8])
    return _model(main)


@_sample(["LL001"], 1, "Conv 1x1 -> Conv 1x1 with empty node names (findings name nodes by index)")
def ll001_unnamed_nodes(rng):
    def body(g, x):
        h = g.conv("conv1", x, 8, 8, k=1, out="h")
        return g.conv("conv2", h, 8, 8, k=1)

    return _simple(rng, body, [1, 8, 16, 16], [1, 8, 16, 16], unnamed=True)


@_sample(
    ["LL001"],
    1,
    "Decoder upsampling without an activation: ConvTranspose 2x2 stride 2 (no bias) -> Conv "
    "3x3 pad 1: one ConvTranspose 4x4 stride 2 (its response is zero where the conv pads)",
)
def ll001_convtranspose_conv3x3(rng):
    def body(g, x):
        w = g.const("up.weight", _randn(rng, 8, 8, 2, 2))
        h = g.node("ConvTranspose", [x, w], "up", kernel_shape=[2, 2], strides=[2, 2])
        h = g.conv("conv", h, 8, 4, k=3, pads=1)
        return g.relu("relu", h)

    return _simple(rng, body, [1, 8, 8, 8], [1, 4, 16, 16])


@_sample(
    ["LL003"],
    None,
    "Near fold: ConvTranspose 2x2 stride 2 with a bias -> Conv 3x3 pad 1: the conv's zero "
    "padding sees zeros where the ConvTranspose's output would be its bias",
)
def ll003_convtranspose_bias_conv3x3(rng):
    def body(g, x):
        w = g.const("up.weight", _randn(rng, 8, 8, 2, 2))
        b = g.const("up.bias", _randn(rng, 8))
        h = g.node("ConvTranspose", [x, w, b], "up", kernel_shape=[2, 2], strides=[2, 2])
        h = g.conv("conv", h, 8, 4, k=3, pads=1)
        return g.relu("relu", h)

    return _simple(rng, body, [1, 8, 8, 8], [1, 4, 16, 16])


@_sample(
    ["LL001"],
    1,
    "Gemm with transA = 1 (features on axis 0) -> Gemm: one Gemm that reads its input "
    "transposed the same way",
)
def ll001_gemm_transa_chain(rng):
    g = Graph(rng)
    g.input("x", [32, 4])
    w1 = g.const("fc1.weight", _randn(rng, 32, 64))
    h = g.node("Gemm", ["x", w1, g.const("fc1.bias", _randn(rng, 64))], "fc1", transA=1)
    g.gemm("fc2", h, 64, 16)
    g.nodes[-1].output[0] = "y"
    g.output("y", [4, 16])
    return _model(g)


@_sample(
    ["LL001"],
    1,
    "Last conv without an activation before the classifier: Conv 3x3 stride 2 -> Flatten -> "
    "Gemm on a fixed 6x6 image: one Flatten -> Gemm, fewer MACs",
)
def ll001_conv_flatten_gemm(rng):
    def body(g, x):
        h = g.conv("features.conv", x, 8, 4, k=3, pads=1, stride=2)
        h = g.node("Flatten", [h], "flatten", axis=1)
        return g.gemm("classifier", h, 36, 3)

    return _simple(rng, body, [1, 8, 6, 6], [1, 3])


@_sample(["LL001"], 1, "Linear -> Linear exported as MatMul + Add on a 2-D input: one Gemm")
def ll001_matmul_add_2d_mlp(rng):
    def body(g, x):
        h = g.add_bias("fc1.add", g.matmul("fc1.matmul", x, 32, 64), 64)
        h = g.add_bias("fc2.add", g.matmul("fc2.matmul", h, 64, 16), 16)
        return g.relu("relu", h)

    return _simple(rng, body, [4, 32], [4, 16])


@_sample(
    ["LL001", "LL005"],
    2,
    "Classifier head that lost its activation, TorchScript export: Conv -> BN -> Relu -> "
    "GlobalAveragePool -> Flatten -> Gemm -> Gemm: the two Gemm fold to one",
)
def ll001_classifier_head_torchscript(rng):
    def body(g, x):
        h = g.bn("stem.bn", g.conv("stem.conv", x, 3, 16, k=3, pads=1), 16)
        h = g.relu("stem.relu", h)
        h = g.node("GlobalAveragePool", [h], "head.pool")
        h = g.node("Flatten", [h], "head.flatten", axis=1)
        h = g.gemm("head.fc1", h, 16, 32)
        return g.gemm("head.fc2", h, 32, 10)

    return _simple(rng, body, [1, 3, 8, 8], [1, 10])


@_sample(
    ["LL001", "LL005"],
    2,
    "Classifier head that lost its activation, dynamo export: Conv -> BN -> Relu -> "
    "ReduceMean -> Reshape -> Gemm -> Gemm: the two Gemm fold to one",
)
def ll001_classifier_head_dynamo(rng):
    def body(g, x):
        h = g.bn("node_batch_norm", g.conv("node_conv2d", x, 3, 16, k=3, pads=1), 16)
        h = g.relu("node_relu", h)
        h = g.node("ReduceMean", [h], "node_mean", axes=[-1, -2], keepdims=1)
        h = g.node("Reshape", [h, g.const("val_shape", np.array([1, 16]))], "node_view")
        h = g.gemm("node_linear", h, 16, 32)
        return g.gemm("node_linear_1", h, 32, 10)

    return _simple(rng, body, [1, 3, 8, 8], [1, 10])


# --------------------------------------------------------------------------- PyTorch exports
#
# Net (sample_models/blocks/model.py): two Blocks whose `act` is an nn.Identity, so each
# block's `expand` (Conv 3x3) and `conv` (Conv 1x1) compose to one conv, then a Linear head.
# The same weights, written as each exporter names and annotates the nodes.

BLOCKS_SOURCE = Path(__file__).resolve().parent / "blocks" / "model.py"
#: Where the dynamo sample says the source was: the machine that exported it.
BLOCKS_EXPORTED_FROM = "/home/ci/work/blocks/model.py"
TORCH_SITE = "/home/ci/.venv/lib/python3.11/site-packages/torch"
_BLOCK_CLASSES = ["model.Net", "torch.nn.modules.container.Sequential", "model.Block"]


def _blocks_weights(rng: np.random.Generator) -> dict[str, np.ndarray]:
    w = {}
    for i in range(2):
        w[f"blocks.{i}.expand.weight"] = _randn(rng, 16, 8, 3, 3)
        w[f"blocks.{i}.expand.bias"] = _randn(rng, 16)
        w[f"blocks.{i}.conv.weight"] = _randn(rng, 8, 16, 1, 1)
        w[f"blocks.{i}.conv.bias"] = _randn(rng, 8)
    w["head.weight"] = _randn(rng, 10, 8)
    w["head.bias"] = _randn(rng, 10)
    return w


def _source_line(code: str) -> int:
    """The line of ``sample_models/blocks/model.py`` that holds ``code``."""
    lines = BLOCKS_SOURCE.read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if code in line)


def stack_trace(frames: Sequence[tuple[str, str, str]], source: str = BLOCKS_EXPORTED_FROM) -> str:
    """``pkg.torch.onnx.stack_trace`` as the dynamo exporter writes it (FX's ``stack_trace``,
    outermost frame first): each frame is ``(file, function, code)``; the file ``model.py``
    is ``source``, any other is under torch's ``site-packages`` folder; lines of model.py
    are looked up, torch's are those of torch 2.9."""
    torch_lines = {
        ("nn/modules/container.py", "input = module(input)"): 250,
        ("nn/modules/conv.py", "return self._conv_forward(input, self.weight, self.bias)"): 554,
        ("nn/modules/conv.py", "return F.conv2d("): 549,
        ("nn/modules/linear.py", "return F.linear(input, self.weight, self.bias)"): 134,
    }
    out = []
    for file, function, code in frames:
        if file == "model.py":
            path, line = source, _source_line(code)
        else:
            path, line = f"{TORCH_SITE}/{file}", torch_lines[(file, code)]
        out.append(f'File "{path}", line {line}, in {function}\n    {code}')
    return "\n  ".join(out)


def _dynamo_meta(node: onnx.NodeProto, scopes, classes, fx_node: str, trace: str) -> None:
    """The metadata the dynamo exporter writes on every node, in its order."""
    namespace = "/".join(f"{s}: {c}" for s, c in zip(scopes, classes, strict=True))
    for key, value in (
        ("namespace", namespace),
        ("pkg.torch.onnx.class_hierarchy", repr(list(classes))),
        ("pkg.torch.onnx.fx_node", fx_node),
        ("pkg.torch.onnx.name_scopes", repr(list(scopes))),
        ("pkg.torch.onnx.stack_trace", trace),
    ):
        node.metadata_props.add(key=key, value=value)


def _torch_model(g: Graph, version: str) -> onnx.ModelProto:
    model = _model(g)
    model.producer_name, model.producer_version = "pytorch", version
    return model


@_sample(
    ["LL001", "LL001"],
    3,
    "Two blocks whose activation is an nn.Identity, exported with dynamo=True: every node "
    "carries the module path, class and stack trace (pkg.torch.onnx.*); the findings name "
    "blocks.N.expand -> blocks.N.conv and model.py's line",
    seed_from="blocks",
)
def ll001_blocks_dynamo(rng):
    w = _blocks_weights(rng)
    g = Graph(rng)
    h = g.input("x", [1, 8, 16, 16])
    caller = ("model.py", "forward", "x = self.blocks(x)")
    in_sequential = ("nn/modules/container.py", "forward", "input = module(input)")
    conv_frames = [
        (
            "nn/modules/conv.py",
            "forward",
            "return self._conv_forward(input, self.weight, self.bias)",
        ),
        ("nn/modules/conv.py", "_conv_forward", "return F.conv2d("),
    ]
    fx = 0
    for i in range(2):
        block = [
            ("model.py", "forward", "x = self.expand(x)"),
            ("model.py", "forward", "return torch.relu(self.conv(x))"),
        ]
        for part, k, pads, call in (("expand", 3, 1, block[0]), ("conv", 1, 0, block[1])):
            name = "conv2d" if fx == 0 else f"conv2d_{fx}"
            fx += 1
            prefix = f"p_blocks_{i}_{part}"
            weight = g.const(f"{prefix}_weight", w[f"blocks.{i}.{part}.weight"])
            bias = g.const(f"{prefix}_bias", w[f"blocks.{i}.{part}.bias"])
            g.node(
                "Conv",
                [h, weight, bias],
                f"node_{name}",
                outputs=[name],
                kernel_shape=[k, k],
                pads=[pads] * 4,
                strides=[1, 1],
                dilations=[1, 1],
                group=1,
            )
            scopes = ["", "blocks", f"blocks.{i}", f"blocks.{i}.{part}", name]
            classes = [*_BLOCK_CLASSES, "torch.nn.modules.conv.Conv2d", "aten.conv2d.default"]
            fx_node = (
                f"%{name} : [num_users=1] = call_function[target=torch.ops.aten.conv2d.default]"
                f"(args = (%{h}, %{prefix}_weight, %{prefix}_bias, [1, 1], [{pads}, {pads}]), "
                "kwargs = {})"
            )
            trace = stack_trace([caller, in_sequential, call, *conv_frames])
            _dynamo_meta(g.nodes[-1], scopes, classes, fx_node, trace)
            h = name
        relu = "relu" if i == 0 else f"relu_{i}"
        g.node("Relu", [h], f"node_{relu}", outputs=[relu])
        fx_node = (
            f"%{relu} : [num_users=1] = call_function[target=torch.ops.aten.relu.default]"
            f"(args = (%{h},), kwargs = {{}})"
        )
        scopes, classes = (
            ["", "blocks", f"blocks.{i}", relu],
            [*_BLOCK_CLASSES, "aten.relu.default"],
        )
        _dynamo_meta(
            g.nodes[-1], scopes, classes, fx_node, stack_trace([caller, in_sequential, block[1]])
        )
        h = relu
    head_call = ("model.py", "forward", "return self.head(x.mean((2, 3)))")
    g.node("ReduceMean", [h], "node_mean", outputs=["mean"], axes=[2, 3], keepdims=0)
    fx_node = (
        "%mean : [num_users=1] = call_function[target=torch.ops.aten.mean.dim]"
        f"(args = (%{h}, [2, 3]), kwargs = {{}})"
    )
    _dynamo_meta(
        g.nodes[-1], ["", "mean"], ["model.Net", "aten.mean.dim"], fx_node, stack_trace([head_call])
    )
    weight, bias = (
        g.const("p_head_weight", w["head.weight"]),
        g.const("p_head_bias", w["head.bias"]),
    )
    g.node("Gemm", ["mean", weight, bias], "node_linear", outputs=["linear"], transB=1)
    fx_node = (
        "%linear : [num_users=1] = call_function[target=torch.ops.aten.linear.default]"
        "(args = (%mean, %p_head_weight, %p_head_bias), kwargs = {})"
    )
    linear_frame = (
        "nn/modules/linear.py",
        "forward",
        "return F.linear(input, self.weight, self.bias)",
    )
    _dynamo_meta(
        g.nodes[-1],
        ["", "head", "linear"],
        ["model.Net", "torch.nn.modules.linear.Linear", "aten.linear.default"],
        fx_node,
        stack_trace([head_call, linear_frame]),
    )
    g.output("linear", [1, 10])
    return _torch_model(g, "2.9.0")


@_sample(
    ["LL001", "LL001"],
    3,
    "ll001_blocks_dynamo's net exported with dynamo=False: no metadata; TorchScript names "
    "each node by its module scopes (/blocks/blocks.0/expand/Conv) and keeps parameter names",
    seed_from="blocks",
)
def ll001_blocks_torchscript(rng):
    w = _blocks_weights(rng)
    g = Graph(rng)
    h = g.input("x", [1, 8, 16, 16])
    for i in range(2):
        scope = f"/blocks/blocks.{i}"
        for part, k, pads in (("expand", 3, 1), ("conv", 1, 0)):
            module = f"blocks.{i}.{part}"
            inputs = [h, g.const(f"{module}.weight", w[f"{module}.weight"])]
            inputs.append(g.const(f"{module}.bias", w[f"{module}.bias"]))
            name = f"{scope}/{part}/Conv"
            h = g.node(
                "Conv",
                inputs,
                name,
                outputs=[f"{name}_output_0"],
                dilations=[1, 1],
                group=1,
                kernel_shape=[k, k],
                pads=[pads] * 4,
                strides=[1, 1],
            )
        h = g.node("Relu", [h], f"{scope}/Relu", outputs=[f"{scope}/Relu_output_0"])
    h = g.node(
        "ReduceMean", [h], "/ReduceMean", outputs=["/ReduceMean_output_0"], axes=[2, 3], keepdims=0
    )
    inputs = [h, g.const("head.weight", w["head.weight"]), g.const("head.bias", w["head.bias"])]
    g.node("Gemm", inputs, "/head/Gemm", outputs=["y"], alpha=1.0, beta=1.0, transB=1)
    g.output("y", [1, 10])
    return _torch_model(g, "2.5.1")


# --------------------------------------------------------------------------- LL002


@_sample(
    ["LL002"],
    None,
    "Linear bottleneck: Conv 1x1 64->8 -> Conv 1x1 8->64; folding would cost 4x the MACs",
)
def ll002_linear_bottleneck_1x1(rng):
    def body(g, x):
        h = g.conv("reduce", x, 64, 8, k=1)
        h = g.conv("expand", h, 8, 64, k=1)
        return g.relu("relu", h)

    return _simple(rng, body, [1, 64, 8, 8], [1, 64, 8, 8])


@_sample(
    ["LL002"],
    None,
    "Depthwise Conv 3x3 -> pointwise Conv 1x1 16->32: one dense Conv 3x3 would cost more",
)
def ll002_depthwise_pointwise(rng):
    def body(g, x):
        h = g.conv("depthwise", x, 16, 16, k=3, pads=1, group=16)
        h = g.conv("pointwise", h, 16, 32, k=1)
        return g.relu("relu", h)

    return _simple(rng, body, [1, 16, 8, 8], [1, 32, 8, 8])


@_sample(["LL002"], None, "Low-rank factorized dense layer: Gemm 64->4 -> Gemm 4->64 (transB=0)")
def ll002_gemm_low_rank(rng):
    def body(g, x):
        h = g.gemm("down", x, 64, 4, trans_b=False)
        return g.gemm("up", h, 4, 64, trans_b=False)

    return _simple(rng, body, [2, 64], [2, 64])


@_sample(
    ["LL002"],
    None,
    "Mixer block without its activation: x[B, 4 tokens, 6 channels] -> MatMul 6->5 + bias -> "
    "Transpose(0,2,1) -> MatMul 4->3 over the tokens + bias: one MatMul on the flattened "
    "4x6 -> 5x3 axes (a Kronecker product, 24x15 weights for 42) would double the MACs",
)
def ll002_matmul_transpose_matmul(rng):
    def body(g, x):
        h = g.add_bias("channel_mix.add", g.matmul("channel_mix.matmul", x, 6, 5), 5)
        h = g.node("Transpose", [h], "tokens_last", perm=[0, 2, 1])
        h = g.add_bias("token_mix.add", g.matmul("token_mix.matmul", h, 4, 3), 3)
        return g.relu("act", h)

    return _simple(rng, body, ["B", 4, 6], ["B", 5, 3])


# --------------------------------------------------------------------------- LL003


@_sample(
    ["LL003"],
    None,
    "Conv 3x3 pad 1 -> Conv 3x3 pad 1: linear, but the second conv's zero padding breaks a 5x5",
)
def ll003_conv3x3_conv3x3_padded(rng):
    def body(g, x):
        h = g.conv("conv1", x, 8, 8, k=3, pads=1)
        h = g.conv("conv2", h, 8, 8, k=3, pads=1)
        return g.relu("relu", h)

    return _simple(rng, body, [1, 8, 16, 16], [1, 8, 16, 16])


@_sample(
    ["LL003"],
    None,
    "Conv 1x1 -> Conv 1x1 where conv1's output is also a graph output: cannot be removed",
)
def ll003_intermediate_is_output(rng):
    g = Graph(rng)
    g.input("x", [1, 8, 16, 16])
    h = g.conv("conv1", "x", 8, 8, k=1, out="features")
    g.conv("conv2", h, 8, 8, k=1, out="y")
    g.output("y", [1, 8, 16, 16])
    g.output("features", [1, 8, 16, 16])
    return _model(g)


@_sample(
    ["LL003"],
    None,
    "Add(Conv 3x3(x), Conv 3x3(Conv 1x1 with bias(x))) on a dynamic image size: the bias meets "
    "zero padding and no fixed border map can correct it",
)
def ll003_branch_offset_before_padded_conv(rng):
    def body(g, x):
        a = g.conv("conv_a", x, 8, 8, k=3, pads=1)
        b = g.conv("conv_b1", x, 8, 8, k=1, bias=True)
        b = g.conv("conv_b2", b, 8, 8, k=3, pads=1)
        s = g.node("Add", [a, b], "add")
        return g.relu("relu", s)

    return _simple(rng, body, [1, 8, "height", "width"], [1, 8, "height", "width"])


@_sample(
    ["LL001"],
    1,
    "Conv 1x1 with bias -> Conv 3x3 pad 1 on a fixed 16x16 image: exact as one Conv 3x3 plus an "
    "Add of a constant border-correction map",
)
def ll001_biased_1x1_into_padded_3x3(rng):
    def body(g, x):
        h = g.conv("expand", x, 8, 16, k=1, bias=True)
        h = g.conv("conv3x3", h, 16, 8, k=3, pads=1)
        return g.relu("relu", h)

    return _simple(rng, body, [1, 8, 16, 16], [1, 8, 16, 16])


@_sample(
    ["LL003"],
    None,
    "BatchNormalization before a zero-padded Conv 3x3 (images of any size): its scale would "
    "fold exactly, its shift differs at the borders",
)
def ll003_bn_before_padded_conv(rng):
    g = Graph(rng)
    g.input("x", [1, 8, "H", "W"])
    h = g.relu("relu_in", "x")
    h = g.bn("bn", h, 8)
    h = g.conv("conv", h, 8, 8, k=3, pads=1)
    g.relu("relu", h, out="y")
    g.output("y", [1, 8, "H", "W"])
    return _model(g)


@_sample(
    ["LL003"],
    None,
    "BatchNormalization before a zero-padded Conv 3x3 at a fixed 16x16: exact only with a "
    "border-correction map, whose pass costs more than the BatchNormalization it saves",
)
def ll003_bn_before_padded_conv_fixed_size(rng):
    def body(g, x):
        h = g.relu("relu_in", x)
        h = g.bn("bn", h, 8)
        h = g.conv("conv", h, 8, 8, k=3, pads=1)
        return g.relu("relu", h)

    return _simple(rng, body, [1, 8, 16, 16], [1, 8, 16, 16])


@_sample(
    ["LL005"],
    1,
    "Input normalization (Sub mean, Div std) before a zero-padded stride-2 stem Conv 3x3: the "
    "Div folds into the stem; the Sub would need a border map that costs more than it saves",
)
def ll005_input_normalization_before_stem(rng):
    def body(g, x):
        mean = g.const("mean", np.array([0.485, 0.456, 0.406], np.float32).reshape(1, 3, 1, 1))
        std = g.const("std", np.array([0.229, 0.224, 0.225], np.float32).reshape(1, 3, 1, 1))
        h = g.node("Sub", [x, mean], "normalize_sub")
        h = g.node("Div", [h, std], "normalize_div")
        h = g.conv("stem", h, 3, 16, k=3, pads=1, stride=2)
        return g.relu("relu", h)

    return _simple(rng, body, [1, 3, 64, 64], [1, 16, 32, 32])


@_sample(
    ["LL007"],
    1,
    "DenseNet transition: Conv 1x1 (32->16) -> AveragePool 2x2 stride 2: pooling first is exact "
    "and takes a quarter of the multiply-adds (fusing them into a Conv 2x2 stride 2 would not)",
)
def ll007_densenet_transition(rng):
    def body(g, x):
        h = g.relu("relu_in", x)
        h = g.conv("transition.conv", h, 32, 16, k=1, bias=False)
        return g.node("AveragePool", [h], "transition.pool", kernel_shape=[2, 2], strides=[2, 2])

    return _simple(rng, body, [1, 32, 16, 16], [1, 16, 8, 8])


# --------------------------------------------------------------------------- LL004


@_sample(
    ["LL004"],
    1,
    "RepVGG block before re-parameterization: Sum(Conv3x3+BN, Conv1x1+BN, BN(x)) -> Relu",
)
def ll004_repvgg_block(rng):
    def body(g, x):
        a = g.bn("bn3x3", g.conv("conv3x3", x, 8, 8, k=3, pads=1, bias=False), 8)
        b = g.bn("bn1x1", g.conv("conv1x1", x, 8, 8, k=1, bias=False), 8)
        c = g.bn("bn_identity", x, 8)
        s = g.node("Sum", [a, b, c], "sum")
        return g.relu("relu", s)

    return _simple(rng, body, [1, 8, 16, 16], [1, 8, 16, 16])


@_sample(
    ["LL002", "LL004"],
    2,
    "1x1 conv without activation into a re-parameterizable depthwise block (RepGhost, FastViT): "
    "Conv 1x1 -> Add(dw Conv 3x3 + BN, BN(x)): the block folds to one depthwise Conv 3x3; "
    "folding the 1x1 in too would raise MACs",
)
def ll004_depthwise_block_after_pointwise(rng):
    def body(g, x):
        h = g.conv("cheap.conv", x, 8, 16, k=1)
        a = g.bn("dw.bn", g.conv("dw.conv", h, 16, 16, k=3, pads=1, group=16, bias=False), 16)
        b = g.bn("dw.bn_identity", h, 16)
        s = g.node("Add", [a, b], "dw.add")
        return g.relu("relu", s)

    return _simple(rng, body, [1, 8, 16, 16], [1, 16, 16, 16])


@_sample(
    ["LL004"],
    1,
    "LoRA adapter after onnxslim: Reshape -> Gemm -> Reshape (the base Linear on 3-D) plus "
    "MatMul -> MatMul -> Mul(scale) (the adapter), added: one MatMul + Add",
)
def ll004_lora_after_onnxslim(rng):
    def body(g, x):
        h = g.node("Reshape", [x, g.const("base.flat", np.array([-1, 16]))], "base.flatten")
        h = g.gemm("base.linear", h, 16, 8, trans_b=False)
        base = g.node("Reshape", [h, g.const("base.shape", np.array([2, 5, 8]))], "base.unflatten")
        a = g.matmul("lora.A", x, 16, 4)
        b = g.matmul("lora.B", a, 4, 8)
        b = g.node("Mul", [b, g.const("lora.scaling", np.array(0.5, np.float32))], "lora.scale")
        return g.node("Add", [base, b], "lora.add")

    return _simple(rng, body, [2, 5, 16], [2, 5, 8])


@_sample(["LL004"], 1, "ACNet block: Conv3x3+BN + Conv1x3+BN + Conv3x1+BN, added: one Conv 3x3")
def ll004_acnet_block(rng):
    def body(g, x):
        a = g.bn("bn_square", g.conv("conv_square", x, 8, 8, k=3, pads=1, bias=False), 8)
        b = g.bn("bn_hor", g.conv("conv_hor", x, 8, 8, k=(1, 3), pads=[0, 1, 0, 1], bias=False), 8)
        c = g.bn("bn_ver", g.conv("conv_ver", x, 8, 8, k=(3, 1), pads=[1, 0, 1, 0], bias=False), 8)
        s = g.node("Add", [a, b], "add1")
        s = g.node("Add", [s, c], "add2")
        return g.relu("relu", s)

    return _simple(rng, body, [1, 8, 16, 16], [1, 8, 16, 16])


@_sample(
    ["LL004"],
    1,
    "Diverse Branch Block: Conv3x3, Conv1x1, Conv1x1->Conv3x3, Conv1x1->AvgPool, added",
)
def ll004_dbb_block(rng):
    def body(g, x):
        a = g.conv("conv3x3", x, 8, 8, k=3, pads=1, bias=True)
        b = g.conv("conv1x1", x, 8, 8, k=1, bias=False)
        c = g.conv("conv1x1_kxk.reduce", x, 8, 8, k=1, bias=False)
        c = g.conv("conv1x1_kxk.conv3x3", c, 8, 8, k=3, pads=1, bias=False)
        d = g.conv("conv1x1_avg.conv", x, 8, 8, k=1, bias=False)
        d = g.node(
            "AveragePool",
            [d],
            "conv1x1_avg.avgpool",
            kernel_shape=[3, 3],
            strides=[1, 1],
            pads=[1, 1, 1, 1],
            count_include_pad=1,
        )
        s = g.node("Add", [a, b], "add1")
        s = g.node("Add", [s, c], "add2")
        s = g.node("Add", [s, d], "add3")
        return g.relu("relu", s)

    return _simple(rng, body, [1, 8, 16, 16], [1, 8, 16, 16])


@_sample(
    ["LL004"],
    1,
    "Residual x + Conv3x3(x) with no activation between: one Conv 3x3 (identity in its centre)",
)
def ll004_residual_x_plus_conv(rng):
    def body(g, x):
        h = g.conv("conv", x, 8, 8, k=3, pads=1)
        s = g.node("Add", [x, h], "residual_add")
        return g.relu("relu", s)

    return _simple(rng, body, [1, 8, 16, 16], [1, 8, 16, 16])


@_sample(
    ["LL004"],
    1,
    "Concat(Conv3x3(x), Conv1x1(x)) -> Conv 1x1 16->8: one Conv 3x3 8->8",
)
def ll004_concat_then_conv1x1(rng):
    def body(g, x):
        a = g.conv("conv3x3", x, 8, 8, k=3, pads=1)
        b = g.conv("conv1x1", x, 8, 8, k=1)
        c = g.node("Concat", [a, b], "concat", axis=1)
        h = g.conv("fuse", c, 16, 8, k=1)
        return g.relu("relu", h)

    return _simple(rng, body, [1, 8, 16, 16], [1, 8, 16, 16])


# --------------------------------------------------------------------------- LL005


@_sample(["LL005"], 1, "BatchNormalization left after a Conv 3x3 (not fused)")
def ll005_conv_bn(rng):
    def body(g, x):
        h = g.conv("conv", x, 8, 8, k=3, pads=1)
        h = g.bn("bn", h, 8)
        return g.relu("relu", h)

    return _simple(rng, body, [1, 8, 16, 16], [1, 8, 16, 16])


@_sample(
    ["LL005"], 1, "Gemm followed by a per-feature Mul and Add by constants (an unfused affine)"
)
def ll005_gemm_mul_add(rng):
    def body(g, x):
        h = g.gemm("fc", x, 32, 16)
        h = g.node("Mul", [h, g.const("scale", 1.0 + _randn(rng, 16))], "scale_mul")
        h = g.node("Add", [h, g.const("shift", _randn(rng, 16))], "shift_add")
        return g.relu("relu", h)

    return _simple(rng, body, [4, 32], [4, 16])


@_sample(["LL005"], 1, "BatchNormalization after a ConvTranspose 3x3 stride 2 (not fused)")
def ll005_convtranspose_bn(rng):
    def body(g, x):
        w = g.const("deconv.weight", _randn(rng, 8, 8, 3, 3))
        b = g.const("deconv.bias", _randn(rng, 8))
        h = g.node(
            "ConvTranspose",
            [x, w, b],
            "deconv",
            kernel_shape=[3, 3],
            strides=[2, 2],
            pads=[1, 1, 1, 1],
            output_padding=[1, 1],
        )
        h = g.bn("bn", h, 8)
        return g.relu("relu", h)

    return _simple(rng, body, [1, 8, 8, 8], [1, 8, 16, 16])


@_sample(
    ["LL005"],
    1,
    "Per-channel Mul before a padded Conv 3x3: a pure scale is exact to absorb despite padding",
)
def ll005_scale_before_padded_conv(rng):
    def body(g, x):
        h = g.relu("relu_in", x)
        scale = g.const("channel_scale", 1.0 + _randn(rng, 1, 8, 1, 1))
        h = g.node("Mul", [h, scale], "scale_mul")
        h = g.conv("conv", h, 8, 8, k=3, pads=1)
        return g.relu("relu", h)

    return _simple(rng, body, [1, 8, 16, 16], [1, 8, 16, 16])


@_sample(
    ["LL005"], 1, "Explicit zero Pad node before an unpadded Conv 3x3: belongs in the conv's pads"
)
def ll005_pad_into_conv(rng):
    def body(g, x):
        h = g.relu("relu_in", x)
        pads = g.const("pad.pads", np.array([0, 0, 1, 1, 0, 0, 1, 1], dtype=np.int64))
        value = g.const("pad.value", np.array(0.0, dtype=np.float32))
        h = g.node("Pad", [h, pads, value], "pad", mode="constant")
        h = g.conv("conv", h, 8, 8, k=3, pads=0)
        return g.relu("relu", h)

    return _simple(rng, body, [1, 8, 16, 16], [1, 8, 16, 16])


@_sample(
    ["LL005"],
    1,
    "Attention query scaling (BART/Whisper/OPT): MatMul -> Add -> Mul(scale) -> Reshape -> "
    "Transpose into heads: the scale folds into the MatMul, the head split stays",
)
def ll005_query_scaling_before_heads(rng):
    def body(g, x):
        h = g.add_bias("q_proj.add", g.matmul("q_proj.matmul", x, 16, 16), 16)
        h = g.node("Mul", [h, g.const("scaling", np.array(0.25, np.float32))], "q_scale")
        h = g.node("Reshape", [h, g.const("heads", np.array([2, 5, 4, 4]))], "split_heads")
        return g.node("Transpose", [h], "heads_first", perm=[0, 2, 1, 3])

    return _simple(rng, body, [2, 5, 16], [2, 4, 5, 4])


@_sample(
    ["LL005"],
    1,
    "LayerScale after a patch merge (DeiT-3/CaiT): Transpose -> Reshape -> MatMul -> Add -> "
    "Mul(gamma): gamma folds into the MatMul, the merge stays",
)
def ll005_layerscale_after_patch_merge(rng):
    def body(g, x):
        h = g.node("Transpose", [x], "merge.transpose", perm=[0, 2, 1, 3])
        h = g.node("Reshape", [h, g.const("merge.shape", np.array([2, 5, 32]))], "merge")
        h = g.add_bias("proj.add", g.matmul("proj.matmul", h, 32, 16), 16)
        gamma = g.const("ls.gamma", _randn(g.rng, 16))
        return g.node("Mul", [h, gamma], "ls")

    return _simple(rng, body, [2, 4, 5, 8], [2, 5, 16])


@_sample(
    ["LL005"],
    1,
    "LayerScale through a Transpose (ConvNeXt): Linear on NHWC -> Transpose to NCHW -> "
    "Mul(gamma [C,1,1]): gamma folds into the Linear across the Transpose",
)
def ll005_layerscale_through_transpose(rng):
    def body(g, x):
        h = g.add_bias("pwconv2.add", g.matmul("pwconv2.matmul", x, 16, 8), 8)
        h = g.node("Transpose", [h], "to_nchw", perm=[0, 3, 1, 2])
        gamma = g.const("layer_scale", _randn(g.rng, 8, 1, 1))
        return g.node("Mul", [h, gamma], "ls")

    return _simple(rng, body, [1, 4, 4, 16], [1, 8, 4, 4])


@_sample(
    ["LL005"],
    1,
    "Affine norm after a residual Add (ResMLP): x + f(x) -> Mul(alpha) -> Add(beta) -> "
    "MatMul: the per-channel affine folds into the MatMul",
)
def ll005_affine_after_residual(rng):
    def body(g, x):
        r = g.node("Tanh", [x], "branch")
        h = g.node("Add", [x, r], "residual")
        h = g.node("Mul", [h, g.const("norm.alpha", _randn(g.rng, 16) + 1)], "norm.mul")
        h = g.node("Add", [h, g.const("norm.beta", _randn(g.rng, 16))], "norm.add")
        h = g.add_bias("fc1.add", g.matmul("fc1.matmul", h, 16, 32), 32)
        return g.relu("act", h)

    return _simple(rng, body, [1, 5, 16], [1, 5, 32])


@_sample(
    ["LL005"],
    1,
    "Linear -> BatchNorm1d over the flattened tokens (LeViT: bn(x.flatten(0, 1)).reshape_as(x)): "
    "MatMul -> Reshape [-1, C] -> BN -> Reshape to Shape(MatMul output): one MatMul + Add",
)
def ll005_linear_bn_through_flatten(rng):
    def body(g, x):
        y = g.matmul("qkv.c", x, 16, 16)
        h = g.node("Reshape", [y, g.const("flat", np.array([-1, 16]))], "flatten_tokens")
        h = g.bn("qkv.bn", h, 16)
        shape = g.node("Shape", [y], "shape_of")
        return g.node("Reshape", [h, shape], "reshape_as")

    return _simple(rng, body, [2, 5, 16], [2, 5, 16])


@_sample(
    ["LL005"],
    1,
    "Per-channel scale and shift after a Conv moved to NHWC (tf2onnx-style layout): Conv -> "
    "Transpose(0,2,3,1) -> Mul(gamma[C]) -> Add(beta[C]): one Conv + its Transpose",
)
def ll005_nhwc_affine_after_conv(rng):
    def body(g, x):
        h = g.conv("conv", x, 4, 8, k=3, pads=1)
        h = g.node("Transpose", [h], "to_nhwc", perm=[0, 2, 3, 1])
        h = g.node("Mul", [h, g.const("bn.scale", 1.0 + _randn(rng, 8))], "bn.mul")
        h = g.node("Add", [h, g.const("bn.shift", _randn(rng, 8))], "bn.add")
        return g.relu("relu", h)

    return _simple(rng, body, [1, 4, 8, 8], [1, 8, 8, 8])


# --------------------------------------------------------------------------- LL006


@_sample(
    ["LL001", "LL006"],
    1,
    "LeakyRelu(alpha=1) is the identity: it hides a Conv 1x1 -> Conv 1x1 chain",
)
def ll006_leakyrelu_alpha1(rng):
    def body(g, x):
        h = g.conv("conv1", x, 8, 8, k=1)
        h = g.node("LeakyRelu", [h], "leaky", alpha=1.0)
        h = g.conv("conv2", h, 8, 8, k=1)
        return g.relu("relu", h)

    return _simple(rng, body, [1, 8, 16, 16], [1, 8, 16, 16])


@_sample(
    ["LL006"], 2, "Relu of a Relu: the second is the identity (removing it leaves the two convs)"
)
def ll006_relu_after_relu(rng):
    def body(g, x):
        h = g.conv("conv1", x, 8, 8, k=3, pads=1)
        h = g.relu("relu1", h)
        h = g.relu("relu1_again", h)
        h = g.conv("conv2", h, 8, 8, k=3, pads=1)
        return g.relu("relu2", h)

    return _simple(rng, body, [1, 8, 16, 16], [1, 8, 16, 16])


@_sample(
    ["LL001", "LL006"],
    1,
    "Clip(-inf, +inf) is the identity: it hides a Gemm -> Gemm chain",
)
def ll006_clip_infinite_bounds(rng):
    def body(g, x):
        h = g.gemm("fc1", x, 32, 32)
        low = g.const("clip.min", np.array(-np.inf, np.float32))
        high = g.const("clip.max", np.array(np.inf, np.float32))
        h = g.node("Clip", [h, low, high], "clip")
        h = g.gemm("fc2", h, 32, 16)
        return g.relu("relu", h)

    return _simple(rng, body, [4, 32], [4, 16])


@_sample(
    ["LL001", "LL006"],
    1,
    "PRelu with all slopes 1 is the identity: it hides a Conv 1x1 -> Conv 1x1 chain",
)
def ll006_prelu_slope_one(rng):
    def body(g, x):
        h = g.conv("conv1", x, 8, 8, k=1)
        slope = g.const("prelu.slope", np.ones((8, 1, 1), dtype=np.float32))
        h = g.node("PRelu", [h, slope], "prelu")
        h = g.conv("conv2", h, 8, 8, k=1)
        return g.relu("relu", h)

    return _simple(rng, body, [1, 8, 16, 16], [1, 8, 16, 16])


# --------------------------------------------------------------------------- near misses


@_sample([], None, "Near miss: Conv -> Relu -> Conv (a real nonlinearity)")
def nm_relu_between(rng):
    def body(g, x):
        h = g.conv("conv1", x, 8, 8, k=3, pads=1)
        h = g.relu("relu", h)
        return g.conv("conv2", h, 8, 8, k=3, pads=1)

    return _simple(rng, body, [1, 8, 16, 16], [1, 8, 16, 16])


@_sample([], None, "Near miss: Conv -> MaxPool -> Conv (MaxPool is not linear)")
def nm_maxpool_between(rng):
    def body(g, x):
        h = g.conv("conv1", x, 8, 8, k=3, pads=1)
        h = g.node("MaxPool", [h], "maxpool", kernel_shape=[2, 2], strides=[2, 2])
        return g.conv("conv2", h, 8, 8, k=3, pads=1)

    return _simple(rng, body, [1, 8, 16, 16], [1, 8, 8, 8])


@_sample(
    [],
    None,
    "Near miss: MatMul(x, W) with W a graph input (not a constant) -> MatMul with a constant",
)
def nm_weight_is_graph_input(rng):
    g = Graph(rng)
    g.input("x", [2, 16])
    g.input("W", [16, 16])
    h = g.node("MatMul", ["x", "W"], "matmul_dynamic")
    g.node("MatMul", [h, g.const("fc.weight", _randn(rng, 16, 8))], "fc", outputs=["y"])
    g.output("y", [2, 8])
    return _model(g)


@_sample(
    [], None, "Near miss: attention, MatMul(q, k^T) and MatMul(probs, v) multiply two activations"
)
def nm_attention_matmul(rng):
    def body(g, x):
        q = g.matmul("q_proj", x, 16, 16)
        k = g.matmul("k_proj", x, 16, 16)
        v = g.matmul("v_proj", x, 16, 16)
        kt = g.node("Transpose", [k], "k_transpose", perm=[0, 2, 1])
        s = g.node("MatMul", [q, kt], "scores")
        p = g.node("Softmax", [s], "softmax", axis=-1)
        return g.node("MatMul", [p, v], "context")

    return _simple(rng, body, [1, 4, 16], [1, 4, 16])


@_sample(
    [], None, "Near miss: MatMul -> LayerNormalization -> MatMul (LayerNorm uses input statistics)"
)
def nm_layernorm_between(rng):
    def body(g, x):
        h = g.matmul("fc1", x, 16, 32)
        scale = g.const("ln.scale", 1.0 + _randn(rng, 32))
        bias = g.const("ln.bias", _randn(rng, 32))
        h = g.node("LayerNormalization", [h, scale, bias], "ln", axis=-1, epsilon=1e-5)
        return g.matmul("fc2", h, 32, 16)

    return _simple(rng, body, [2, 16], [2, 16])


def _quantized_weight(g: Graph, name: str, w: np.ndarray) -> str:
    """DequantizeLinear(int8 weight, per-tensor scale, zero point 0): a const float weight."""
    scale = np.float32(np.abs(w).max() / 127.0)
    q = np.clip(np.round(w / scale), -127, 127).astype(np.int8)
    return g.node(
        "DequantizeLinear",
        [
            g.const(f"{name}_quantized", q),
            g.const(f"{name}_scale", np.array(scale, dtype=np.float32)),
            g.const(f"{name}_zero_point", np.array(0, dtype=np.int8)),
        ],
        f"{name}_dequantize",
    )


def _qdq(g: Graph, name: str, x: str, scale: float) -> str:
    s = g.const(f"{name}.scale", np.array(scale, dtype=np.float32))
    z = g.const(f"{name}.zero_point", np.array(0, dtype=np.int8))
    q = g.node("QuantizeLinear", [x, s, z], f"{name}.quantize")
    return g.node("DequantizeLinear", [q, s, z], f"{name}.dequantize")


@_sample(
    [], None, "Near miss: QDQ model, QuantizeLinear (rounding) between two Convs with int8 weights"
)
def nm_qdq_between(rng):
    def body(g, x):
        h = _qdq(g, "input_qdq", x, 0.05)
        w1 = _quantized_weight(g, "conv1.weight", _randn(rng, 8, 8, 3, 3))
        h = g.node(
            "Conv",
            [h, w1, g.const("conv1.bias", _randn(rng, 8))],
            "conv1",
            kernel_shape=[3, 3],
            pads=[1, 1, 1, 1],
        )
        h = _qdq(g, "conv1_qdq", h, 0.02)
        w2 = _quantized_weight(g, "conv2.weight", _randn(rng, 8, 8, 3, 3))
        return g.node(
            "Conv",
            [h, w2, g.const("conv2.bias", _randn(rng, 8))],
            "conv2",
            kernel_shape=[3, 3],
            pads=[1, 1, 1, 1],
        )

    return _simple(rng, body, [1, 8, 16, 16], [1, 8, 16, 16])


@_sample(
    [],
    None,
    "Near miss: GELU decomposed as x*(1+erf(x/sqrt2))*0.5 between two MatMul+Add layers",
)
def nm_gelu_decomposed(rng):
    def body(g, x):
        h = g.add_bias("fc1.add", g.matmul("fc1.matmul", x, 16, 32), 32)
        d = g.node(
            "Div", [h, g.const("gelu.sqrt2", np.array(np.sqrt(2.0), np.float32))], "gelu.div"
        )
        e = g.node("Erf", [d], "gelu.erf")
        a = g.node("Add", [e, g.const("gelu.one", np.array(1.0, np.float32))], "gelu.add")
        m = g.node("Mul", [h, a], "gelu.mul")
        m = g.node("Mul", [m, g.const("gelu.half", np.array(0.5, np.float32))], "gelu.mul_half")
        return g.add_bias("fc2.add", g.matmul("fc2.matmul", m, 32, 16), 16)

    return _simple(rng, body, [2, 16], [2, 16])


@_sample([], None, "Near miss: HardSwish decomposed as x*Clip(x+3, 0, 6)/6 between two Convs")
def nm_hardswish_decomposed(rng):
    def body(g, x):
        h = g.conv("conv1", x, 8, 8, k=3, pads=1)
        a = g.node("Add", [h, g.const("hswish.three", np.array(3.0, np.float32))], "hswish.add")
        c = g.node(
            "Clip",
            [
                a,
                g.const("hswish.min", np.array(0.0, np.float32)),
                g.const("hswish.max", np.array(6.0, np.float32)),
            ],
            "hswish.clip",
        )
        m = g.node("Mul", [h, c], "hswish.mul")
        d = g.node("Div", [m, g.const("hswish.six", np.array(6.0, np.float32))], "hswish.div")
        return g.conv("conv2", d, 8, 8, k=1)

    return _simple(rng, body, [1, 8, 16, 16], [1, 8, 16, 16])


@_sample(
    [], None, "Near miss: a custom-domain op (com.example MyOp) between two Convs is a barrier"
)
def nm_custom_op_between(rng):
    # MyOp ships as a model-local function (Tanh) only so that onnxruntime can run the model;
    # to linlint it is an op of an unknown domain.
    my_op = helper.make_function(
        "com.example",
        "MyOp",
        ["X"],
        ["Y"],
        [helper.make_node("Tanh", ["X"], ["Y"], name="my_op_tanh")],
        opset_imports=[helper.make_opsetid("", OPSET)],
    )

    def body(g, x):
        h = g.conv("conv1", x, 8, 8, k=3, pads=1)
        h = g.node("MyOp", [h], "my_op", domain="com.example")
        return g.conv("conv2", h, 8, 8, k=3, pads=1)

    return _simple(
        rng,
        body,
        [1, 8, 16, 16],
        [1, 8, 16, 16],
        opsets=[("com.example", 1)],
        functions=[my_op],
    )


@_sample(
    [],
    None,
    "Near miss: Clip with neither min nor max clamps +-Inf to the largest finite floats",
)
def nm_clip_no_bounds(rng):
    def body(g, x):
        h = g.gemm("fc1", x, 32, 32)
        h = g.node("Clip", [h], "clip")
        h = g.gemm("fc2", h, 32, 16)
        return g.relu("relu", h)

    return _simple(rng, body, [4, 32], [4, 16])


@_sample([], None, "Near miss: LeakyRelu(alpha=0.1) between two Convs is a real nonlinearity")
def nm_leakyrelu_small_alpha(rng):
    def body(g, x):
        h = g.conv("conv1", x, 8, 8, k=3, pads=1)
        h = g.node("LeakyRelu", [h], "leaky", alpha=0.1)
        return g.conv("conv2", h, 8, 8, k=3, pads=1)

    return _simple(rng, body, [1, 8, 16, 16], [1, 8, 16, 16])


@_sample([], None, "Near miss: If whose two branches are each Conv -> Relu -> Conv")
def nm_if_branch_with_relu(rng):
    main = Graph(rng)
    main.input("x", [1, 8, 8, 8])
    main.input("cond", [], TensorProto.BOOL)
    branches = {}
    for side in ("then", "else"):
        g = Graph(rng)
        h = g.conv(f"{side}_conv1", "x", 8, 8, k=3, pads=1)
        h = g.relu(f"{side}_relu", h)
        g.conv(f"{side}_conv2", h, 8, 8, k=1, out=f"y_{side}")
        g.output(f"y_{side}", [1, 8, 8, 8])
        branches[f"{side}_branch"] = g.graph(f"{side}_branch")
    main.node("If", ["cond"], "branch", outputs=["y"], **branches)
    main.output("y", [1, 8, 8, 8])
    return _model(main)


# --------------------------------------------------------------------------- RepVGG twins
#
# stem: Conv3x3 s2 + BN and Conv1x1 s2 + BN, added, Relu (4 -> 8 channels, 16x16 -> 8x8)
# stage1: the same with stride 2 (8 -> 16 channels, 8x8 -> 4x4), no identity branch
# stage2, stage3: Conv3x3 + BN, Conv1x1 + BN, identity BN, added, Relu (16 channels)
# head: GlobalAveragePool -> Flatten -> Gemm 16 -> 10

_REPVGG_BLOCKS = (  # name, c_in, c_out, stride
    ("stem", 4, 8, 2),
    ("stage1", 8, 16, 2),
    ("stage2", 16, 16, 1),
    ("stage3", 16, 16, 1),
)
_REPVGG_IN = [1, 4, 16, 16]
_N_CLASSES = 10


def _repvgg_params(rng: np.random.Generator) -> dict:
    p: dict = {}
    for name, c_in, c_out, stride in _REPVGG_BLOCKS:
        block = {
            "w3": _randn(rng, c_out, c_in, 3, 3),
            "bn3": _bn_params(rng, c_out),
            "w1": _randn(rng, c_out, c_in, 1, 1, scale=0.3),
            "bn1": _bn_params(rng, c_out),
        }
        if c_in == c_out and stride == 1:
            block["bn_id"] = _bn_params(rng, c_out)
        p[name] = block
    p["fc.weight"] = _randn(rng, _N_CLASSES, 16)
    p["fc.bias"] = _randn(rng, _N_CLASSES)
    return p


def _bn_affine(bn: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """BatchNormalization as y = s*x + t per channel, in float64."""
    s = bn["scale"].astype(np.float64) / np.sqrt(bn["var"].astype(np.float64) + BN_EPS)
    t = bn["bias"].astype(np.float64) - bn["mean"].astype(np.float64) * s
    return s, t


def _repvgg_fuse(block: dict, c_in: int, c_out: int) -> tuple[np.ndarray, np.ndarray]:
    """The one Conv 3x3 (weight, bias) equal to the block's branches summed."""
    s3, t3 = _bn_affine(block["bn3"])
    s1, t1 = _bn_affine(block["bn1"])
    w = block["w3"].astype(np.float64) * s3[:, None, None, None]
    w[:, :, 1, 1] += block["w1"].astype(np.float64)[:, :, 0, 0] * s1[:, None]
    b = t3 + t1
    if "bn_id" in block:
        si, ti = _bn_affine(block["bn_id"])
        w[np.arange(c_out), np.arange(c_in), 1, 1] += si
        b = b + ti
    return w.astype(np.float32), b.astype(np.float32)


def _classifier_head(g: Graph, h: str, p: dict) -> None:
    h = g.node("GlobalAveragePool", [h], "head.pool")
    h = g.node("Flatten", [h], "head.flatten", axis=1)
    w, b = g.const("fc.weight", p["fc.weight"]), g.const("fc.bias", p["fc.bias"])
    g.node("Gemm", [h, w, b], "fc", outputs=["logits"], transB=1)
    g.output("logits", [1, _N_CLASSES])


@_sample(
    ["LL004"] * 4,
    5,
    "Small RepVGG net as trained (multi-branch blocks with BN): 4 foldable blocks + Gemm head",
    seed_from="repvgg_net",
)
def repvgg_net_train(rng):
    p = _repvgg_params(rng)
    g = Graph(rng)
    h = g.input("x", _REPVGG_IN)
    for name, c_in, c_out, stride in _REPVGG_BLOCKS:
        blk = p[name]
        a = g.conv(f"{name}.conv3x3", h, c_in, c_out, 3, 1, stride, bias=False, w=blk["w3"])
        a = g.bn(f"{name}.bn3x3", a, c_out, blk["bn3"])
        b = g.conv(f"{name}.conv1x1", h, c_in, c_out, 1, 0, stride, bias=False, w=blk["w1"])
        b = g.bn(f"{name}.bn1x1", b, c_out, blk["bn1"])
        s = g.node("Add", [a, b], f"{name}.add")
        if "bn_id" in blk:
            i = g.bn(f"{name}.bn_identity", h, c_out, blk["bn_id"])
            s = g.node("Add", [s, i], f"{name}.add_identity")
        h = g.relu(f"{name}.relu", s)
    _classifier_head(g, h, p)
    return _model(g)


@_sample(
    [],
    None,
    "repvgg_net_train re-parameterized by hand: one Conv 3x3 + Relu per block, same outputs",
    seed_from="repvgg_net",
)
def repvgg_net_deploy(rng):
    p = _repvgg_params(rng)
    g = Graph(rng)
    h = g.input("x", _REPVGG_IN)
    for name, c_in, c_out, stride in _REPVGG_BLOCKS:
        w, b = _repvgg_fuse(p[name], c_in, c_out)
        h = g.conv(f"{name}.conv", h, c_in, c_out, 3, 1, stride, w=w, b=b)
        h = g.relu(f"{name}.relu", h)
    _classifier_head(g, h, p)
    return _model(g)


# --------------------------------------------------------------------------- ExpandNets twins
#
# Three expanded layers, each Conv1x1 (no bias) -> Conv3x3 pad 1 -> Conv1x1, separated by
# Relu, then GlobalAveragePool -> Flatten -> Gemm. The compact net has one Conv 3x3 per layer.

_EXPAND_LAYERS = (  # name, c_in, c_expanded, c_out
    ("layer1", 4, 16, 8),
    ("layer2", 8, 16, 8),
    ("layer3", 8, 16, 16),
)
_EXPAND_IN = [1, 4, 16, 16]


def _expandnets_params(rng: np.random.Generator) -> dict:
    p: dict = {}
    for name, c_in, c_mid, c_out in _EXPAND_LAYERS:
        p[name] = {
            "w_expand": _randn(rng, c_mid, c_in, 1, 1, scale=0.3),
            "w3": _randn(rng, c_mid, c_mid, 3, 3),
            "b3": _randn(rng, c_mid),
            "w_project": _randn(rng, c_out, c_mid, 1, 1, scale=0.3),
            "b_project": _randn(rng, c_out),
        }
    p["fc.weight"] = _randn(rng, _N_CLASSES, 16)
    p["fc.bias"] = _randn(rng, _N_CLASSES)
    return p


def _expandnets_fuse(layer: dict) -> tuple[np.ndarray, np.ndarray]:
    """Conv1x1 (no bias) -> Conv3x3 -> Conv1x1 as one Conv 3x3 (weight, bias)."""
    we = layer["w_expand"].astype(np.float64)[:, :, 0, 0]
    wp = layer["w_project"].astype(np.float64)[:, :, 0, 0]
    w = np.einsum("om,mnuv,ni->oiuv", wp, layer["w3"].astype(np.float64), we)
    b = wp @ layer["b3"].astype(np.float64) + layer["b_project"].astype(np.float64)
    return w.astype(np.float32), b.astype(np.float32)


@_sample(
    ["LL001"] * 3,
    4,
    "Small CNN as trained with ExpandNets: 3 layers of Conv1x1 -> Conv3x3 -> Conv1x1, + Gemm",
    seed_from="expandnets_cnn",
)
def expandnets_cnn_train(rng):
    p = _expandnets_params(rng)
    g = Graph(rng)
    h = g.input("x", _EXPAND_IN)
    for name, c_in, c_mid, c_out in _EXPAND_LAYERS:
        lay = p[name]
        h = g.conv(f"{name}.expand", h, c_in, c_mid, 1, bias=False, w=lay["w_expand"])
        h = g.conv(f"{name}.conv3x3", h, c_mid, c_mid, 3, 1, w=lay["w3"], b=lay["b3"])
        h = g.conv(f"{name}.project", h, c_mid, c_out, 1, w=lay["w_project"], b=lay["b_project"])
        h = g.relu(f"{name}.relu", h)
    _classifier_head(g, h, p)
    return _model(g)


@_sample(
    [],
    None,
    "expandnets_cnn_train contracted by hand: 3 Conv 3x3 + Gemm, same outputs",
    seed_from="expandnets_cnn",
)
def expandnets_cnn_deploy(rng):
    p = _expandnets_params(rng)
    g = Graph(rng)
    h = g.input("x", _EXPAND_IN)
    for name, c_in, _c_mid, c_out in _EXPAND_LAYERS:
        w, b = _expandnets_fuse(p[name])
        h = g.conv(f"{name}.conv", h, c_in, c_out, 3, 1, w=w, b=b)
        h = g.relu(f"{name}.relu", h)
    _classifier_head(g, h, p)
    return _model(g)


# --------------------------------------------------------------------------- MobileOne twins
#
# A deep MobileOne-S0-shaped net at 224x224, as exported before re-parameterization: the
# depth (2 + 8 + 10 + 1 blocks) and the branch counts of S0 (192 weight ops, 44 once
# folded), with 1/3 to 1/8 of its widths. Each block is
#   depthwise: k x (Conv 3x3 dw + BN) + (Conv 1x1 dw + BN) [+ BN(x) at stride 1], summed, Relu
#   pointwise: k x (Conv 1x1 + BN) [+ BN(x) when c_in == c_out], summed, Relu
# (the Adds in MobileOne's order: scale + identity, then each conv branch); the stem is one
# Conv 3x3 s2 + BN and its 1x1 scale branch. Conv weights are He-scaled over the k branches
# and BN statistics are near their trained values (gamma ~1, running_var ~1), so the
# activations stay O(1) through 43 summed blocks instead of exploding or vanishing.

_MOBILEONE_K = 4  # over-parameterized conv branches per block, as in MobileOne-S0
_MOBILEONE_STEM = 16
_MOBILEONE_STAGES = ((16, 2), (32, 8), (64, 10), (128, 1))  # (width, blocks); stride 2 first
_MOBILEONE_IN = [1, 3, 224, 224]
_MOBILEONE_CLASSES = 100


def _he(rng: np.random.Generator, shape: Sequence[int], fan_in: int, branches: int) -> np.ndarray:
    std = np.sqrt(2.0 / (fan_in * branches))
    return (rng.standard_normal(tuple(shape)) * std).astype(np.float32)


def _mobileone_layout() -> list[tuple[str, str, int, int, int]]:
    """(name, kind, c_in, c_out, stride) of every block: kind is stem, dw or pw."""
    layout = [("stem", "stem", 3, _MOBILEONE_STEM, 2)]
    c = _MOBILEONE_STEM
    for s, (width, blocks) in enumerate(_MOBILEONE_STAGES, start=1):
        for i in range(blocks):
            stride = 2 if i == 0 else 1
            layout.append((f"stage{s}.{i}.dw", "dw", c, c, stride))
            layout.append((f"stage{s}.{i}.pw", "pw", c, width, 1))
            c = width
    return layout


def _conv64(x: np.ndarray, w: np.ndarray, stride: int, group: int) -> np.ndarray:
    """Conv2d of one CHW image in float64, pads k // 2 (enough for the calibration below)."""
    k = w.shape[-1]
    p = k // 2
    xp = np.pad(x, ((0, 0), (p, p), (p, p)))
    h = (x.shape[1] + 2 * p - k) // stride + 1
    wd = (x.shape[2] + 2 * p - k) // stride + 1
    out = np.zeros((w.shape[0], h, wd))
    for u in range(k):
        for v in range(k):
            patch = xp[:, u : u + stride * h : stride, v : v + stride * wd : stride]
            if group == 1:
                out += np.tensordot(w[:, :, u, v], patch, axes=1)
            else:
                out += w[:, 0, u, v][:, None, None] * patch
    return out


def _round_significant(a: np.ndarray, digits: int = 4) -> np.ndarray:
    """Round to a few significant digits, so that the last bits of the float64 calibration
    (which may differ between BLAS builds) never reach the float32 file."""
    exponent = np.floor(np.log10(np.maximum(np.abs(a), 1e-30)))
    return (np.round(a / 10.0**exponent, digits - 1) * 10.0**exponent).astype(np.float32)


def _calibrated_bn(rng: np.random.Generator, y: np.ndarray) -> dict[str, np.ndarray]:
    """BN parameters as after training on activations like ``y`` (CHW, float64): running
    statistics within a few percent of ``y``'s own, gamma ~1, beta ~0."""
    c = y.shape[0]
    mean, var = y.mean(axis=(1, 2)), y.var(axis=(1, 2))
    return {
        "scale": (1.0 + 0.1 * rng.standard_normal(c)).astype(np.float32),
        "bias": (0.1 * rng.standard_normal(c)).astype(np.float32),
        "mean": _round_significant(mean + 0.05 * np.sqrt(var) * rng.standard_normal(c)),
        "var": _round_significant(var * rng.uniform(0.8, 1.25, c)),
    }


def _bn64(y: np.ndarray, bn: dict[str, np.ndarray]) -> np.ndarray:
    s, t = _bn_affine(bn)
    return y * s[:, None, None] + t[:, None, None]


def _mobileone_params(rng: np.random.Generator) -> dict:
    """Weights drawn at random, BN statistics calibrated on one random image in float64."""
    p: dict = {}
    h = rng.standard_normal(_MOBILEONE_IN[1:])
    for name, kind, c_in, c_out, stride in _mobileone_layout():
        k = 1 if kind == "stem" else _MOBILEONE_K
        group = c_in if kind == "dw" else 1
        if kind == "pw":
            shape, fan_in = (c_out, c_in, 1, 1), c_in
        elif kind == "dw":
            shape, fan_in = (c_out, 1, 3, 3), 9
        else:
            shape, fan_in = (c_out, c_in, 3, 3), 9 * c_in
        block: dict = {"convs": [], "scale": None, "identity": None}
        total = 0.0
        for _ in range(k):
            w = _he(rng, shape, fan_in, k + 1)
            y = _conv64(h, w.astype(np.float64), stride, group)
            bn = _calibrated_bn(rng, y)
            block["convs"].append((w, bn))
            total = total + _bn64(y, bn)
        if kind != "pw":  # the 1x1 "scale" branch of a 3x3 block
            w = _he(rng, (c_out, shape[1], 1, 1), shape[1], k + 1)
            y = _conv64(h, w.astype(np.float64), stride, group)
            block["scale"] = (w, _calibrated_bn(rng, y))
            total = total + _bn64(y, block["scale"][1])
        if c_in == c_out and stride == 1:
            block["identity"] = _calibrated_bn(rng, h)
            total = total + _bn64(h, block["identity"])
        h = np.maximum(total, 0.0)
        p[name] = block
    c_last = _MOBILEONE_STAGES[-1][0]
    p["fc.weight"] = _randn(rng, _MOBILEONE_CLASSES, c_last, scale=1.0 / np.sqrt(c_last))
    p["fc.bias"] = _randn(rng, _MOBILEONE_CLASSES)
    return p


def _mobileone_fuse(block: dict, kind: str, c_out: int) -> tuple[np.ndarray, np.ndarray]:
    """The one Conv (weight, bias) equal to the block's branches summed, in float64."""
    kernel = 1 if kind == "pw" else 3
    in_per_group = block["convs"][0][0].shape[1]
    w = np.zeros((c_out, in_per_group, kernel, kernel))
    b = np.zeros(c_out)
    for weight, bn in block["convs"]:
        s, t = _bn_affine(bn)
        w += weight.astype(np.float64) * s[:, None, None, None]
        b += t
    centre = kernel // 2
    if block["scale"] is not None:
        weight, bn = block["scale"]
        s, t = _bn_affine(bn)
        w[:, :, centre, centre] += weight.astype(np.float64)[:, :, 0, 0] * s[:, None]
        b += t
    if block["identity"] is not None:
        s, t = _bn_affine(block["identity"])
        channel = np.arange(c_out)
        w[channel, 0 if kind == "dw" else channel, centre, centre] += s
        b += t
    return w.astype(np.float32), b.astype(np.float32)


def _mobileone_head(g: Graph, h: str, p: dict) -> None:
    h = g.node("GlobalAveragePool", [h], "head.pool")
    h = g.node("Flatten", [h], "head.flatten", axis=1)
    w, b = g.const("fc.weight", p["fc.weight"]), g.const("fc.bias", p["fc.bias"])
    g.node("Gemm", [h, w, b], "fc", outputs=["logits"], transB=1)
    g.output("logits", [1, _MOBILEONE_CLASSES])


@_sample(
    ["LL004"] * (1 + 2 * sum(blocks for _, blocks in _MOBILEONE_STAGES)),
    44,
    "Deep MobileOne-S0-shaped net as trained, 224x224: stem + 21 blocks of k=4 depthwise and "
    "pointwise conv+BN branches (192 weight ops); folds to its deploy twin's 44",
    seed_from="mobileone_deep",
)
def mobileone_deep_train(rng):
    p = _mobileone_params(rng)
    g = Graph(rng)
    h = g.input("x", _MOBILEONE_IN)
    for name, kind, c_in, c_out, stride in _mobileone_layout():
        blk = p[name]
        kernel, pads = (1, 0) if kind == "pw" else (3, 1)
        group = c_in if kind == "dw" else 1
        conv = dict(stride=stride, group=group, bias=False)
        branches = []
        if blk["scale"] is not None:
            a = g.conv(f"{name}.scale.conv", h, c_in, c_out, 1, 0, w=blk["scale"][0], **conv)
            branches.append(g.bn(f"{name}.scale.bn", a, c_out, blk["scale"][1]))
        if blk["identity"] is not None:
            branches.append(g.bn(f"{name}.identity", h, c_out, blk["identity"]))
        for i, (weight, bn) in enumerate(blk["convs"]):
            a = g.conv(f"{name}.conv{i}", h, c_in, c_out, kernel, pads, w=weight, **conv)
            branches.append(g.bn(f"{name}.bn{i}", a, c_out, bn))
        s = branches[0]
        for i, branch in enumerate(branches[1:]):
            s = g.node("Add", [s, branch], f"{name}.add{i}")
        h = g.relu(f"{name}.relu", s)
    _mobileone_head(g, h, p)
    return _model(g)


@_sample(
    [],
    None,
    "mobileone_deep_train re-parameterized by hand: one Conv + Relu per block, same outputs",
    seed_from="mobileone_deep",
)
def mobileone_deep_deploy(rng):
    p = _mobileone_params(rng)
    g = Graph(rng)
    h = g.input("x", _MOBILEONE_IN)
    for name, kind, c_in, c_out, stride in _mobileone_layout():
        w, b = _mobileone_fuse(p[name], kind, c_out)
        kernel, pads = (1, 0) if kind == "pw" else (3, 1)
        group = c_in if kind == "dw" else 1
        h = g.conv(f"{name}.conv", h, c_in, c_out, kernel, pads, stride, group, w=w, b=b)
        h = g.relu(f"{name}.relu", h)
    _mobileone_head(g, h, p)
    return _model(g)


# --------------------------------------------------------------------------- main

#: train model stem -> its re-parameterized deploy twin
TWINS: dict[str, str] = {
    "repvgg_net_train": "repvgg_net_deploy",
    "expandnets_cnn_train": "expandnets_cnn_deploy",
    "mobileone_deep_train": "mobileone_deep_deploy",
}


def build_model(stem: str) -> onnx.ModelProto:
    """The model for one stem (a fresh, seeded build)."""
    return _BUILDERS[stem]()


def build(outdir: str | Path | None = None) -> list[Path]:
    """Write every sample model into ``outdir`` (default: this folder); return the paths."""
    out = Path(outdir) if outdir is not None else Path(__file__).resolve().parent
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for stem in EXPECTED:
        path = out / f"{stem}.onnx"
        path.write_bytes(build_model(stem).SerializeToString(deterministic=True))
        written.append(path)
    return written


def main(argv: Sequence[str]) -> int:
    if len(argv) > 1:
        print("usage: python sample_models/build.py [OUTDIR]", file=sys.stderr)
        return 2
    paths = build(argv[0] if argv else None)
    print(f"wrote {len(paths)} models to {paths[0].parent}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
