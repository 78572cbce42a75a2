"""Real-architecture benchmark models, in the shapes torch exporters write them.

Each builder returns an ``onnx.ModelProto`` built here with onnx.helper and numpy
(seeded random weights, no downloads): one small piece of a published network at its
real channel counts and resolution, exported the way ``torch.onnx.export`` (opset 17,
eval mode) writes it — node names such as ``/features/transition1/conv/Conv``,
tensors ``..._output_0``, weights named after the module parameters, a Linear on 3-D
input as ``MatMul`` with a transposed weight (``onnx::MatMul_N``) then ``Add(bias, y)``,
GELU as ``Div → Erf → Add → Mul → Mul``, ReLU6 as ``Clip``, scalars as ``Constant``
nodes, shapes read at run time (``Shape → Gather → Unsqueeze → Concat → Reshape``)
where the module reads ``x.shape``, and no ``value_info``.

``ARCHS`` maps a name to its builder; a builder's docstring says what it holds. Every
model passes ``onnx.checker`` (full check) and runs in onnxruntime in about 20 ms or
less on one core.

    python bench/archs.py OUTDIR     # write every model as OUTDIR/NAME.onnx
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import onnx
from models import F32, model_proto
from onnx import helper, numpy_helper

PRODUCER = "linlint bench/archs.py"


class Net:
    """A graph under construction, its nodes and tensors named as torch.onnx.export does."""

    def __init__(self, name: str, seed: int) -> None:
        self.name = name
        self.rng = np.random.default_rng(seed)
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.inputs: list[onnx.ValueInfoProto] = []
        self._names: dict[str, int] = {}
        self._folded = 0  # onnx::Op_N: weights the exporter computed (a transposed Linear)

    # ----------------------------------------------------------------- tensors and nodes

    def input(self, name: str, shape: Sequence[int]) -> str:
        self.inputs.append(helper.make_tensor_value_info(name, F32, list(shape)))
        return name

    def tensor(self, name: str, value: np.ndarray) -> str:
        """An initializer holding ``value`` (float64 values are stored as float32)."""
        if value.dtype == np.float64:
            value = value.astype(np.float32)
        self.inits.append(numpy_helper.from_array(value, name))
        return name

    def weight(self, name: str, shape: Sequence[int], std: float, mean: float = 0.0) -> str:
        return self.tensor(name, mean + std * self.rng.standard_normal(tuple(shape)))

    def positive(self, name: str, shape: Sequence[int]) -> str:
        return self.tensor(name, self.rng.uniform(0.5, 1.5, tuple(shape)))

    def op(self, op_type: str, inputs: Sequence[str], path: str = "", **attrs) -> str:
        """One node named ``/path/Op`` (``_1``, ``_2`` on repeats); its output's name."""
        base = "/" + path.replace(".", "/") + "/" + op_type if path else "/" + op_type
        k = self._names.get(base, 0)
        self._names[base] = k + 1
        name = base if k == 0 else f"{base}_{k}"
        out = f"{name}_output_0"
        self.nodes.append(helper.make_node(op_type, list(inputs), [out], name=name, **attrs))
        return out

    def const(self, value, path: str = "", dtype=np.float32) -> str:
        """A ``Constant`` node, as torch writes scalars and literal shapes."""
        array = np.asarray(value, dtype=dtype)
        return self.op("Constant", [], path, value=numpy_helper.from_array(array))

    # ----------------------------------------------------------------- layers

    def conv(
        self,
        x: str,
        path: str,
        cin: int,
        cout: int,
        k: int,
        *,
        stride: int = 1,
        pad: int | None = None,
        groups: int = 1,
        bias: bool = True,
        gain: float = 2.0,
    ) -> str:
        shape = (cout, cin // groups, k, k)
        args = [x, self.weight(f"{path}.weight", shape, (gain / math.prod(shape[1:])) ** 0.5)]
        if bias:
            args.append(self.weight(f"{path}.bias", (cout,), 0.05))
        p = k // 2 if pad is None else pad
        return self.op(
            "Conv",
            args,
            path,
            dilations=[1, 1],
            group=groups,
            kernel_shape=[k, k],
            pads=[p, p, p, p],
            strides=[stride, stride],
        )

    def bn(self, x: str, path: str, c: int) -> str:
        args = [
            x,
            self.positive(f"{path}.weight", (c,)),
            self.weight(f"{path}.bias", (c,), 0.1),
            self.weight(f"{path}.running_mean", (c,), 0.1),
            self.positive(f"{path}.running_var", (c,)),
        ]
        return self.op("BatchNormalization", args, path, epsilon=1e-5, momentum=0.9)

    def matmul(self, x: str, path: str, din: int, dout: int, gain: float = 1.0) -> str:
        """``x @ W.T`` for a torch weight W (dout, din): the exporter stores W.T as one tensor."""
        self._folded += 1
        w = self.weight(f"onnx::MatMul_{self._folded}", (din, dout), (gain / din) ** 0.5)
        return self.op("MatMul", [x, w], path)

    def linear(self, x: str, path: str, din: int, dout: int, gain: float = 1.0) -> str:
        """``nn.Linear`` on 3-D input: MatMul, then ``Add(bias, y)`` (the bias first)."""
        y = self.matmul(x, path, din, dout, gain)
        return self.op("Add", [self.weight(f"{path}.bias", (dout,), 0.02), y], path)

    def gemm(self, x: str, path: str, din: int, dout: int, gain: float = 1.0) -> str:
        """``nn.Linear`` on 2-D input: Gemm with ``transB=1``."""
        w = self.weight(f"{path}.weight", (dout, din), (gain / din) ** 0.5)
        b = self.weight(f"{path}.bias", (dout,), 0.02)
        return self.op("Gemm", [x, w, b], path, alpha=1.0, beta=1.0, transB=1)

    def layernorm(self, x: str, path: str, c: int, eps: float = 1e-6) -> str:
        g = self.tensor(f"{path}.weight", 1 + 0.1 * self.rng.standard_normal(c))
        b = self.weight(f"{path}.bias", (c,), 0.02)
        return self.op("LayerNormalization", [x, g, b], path, axis=-1, epsilon=eps)

    def gelu(self, x: str, path: str) -> str:
        """``nn.GELU()`` (exact) as torch writes it before opset 20."""
        y = self.op("Erf", [self.op("Div", [x, self.const(math.sqrt(2.0), path)], path)], path)
        y = self.op("Add", [y, self.const(1.0, path)], path)
        return self.op("Mul", [self.op("Mul", [x, y], path), self.const(0.5, path)], path)

    def relu6(self, x: str, path: str) -> str:
        return self.op("Clip", [x, self.const(0.0, path), self.const(6.0, path)], path)

    def dims(self, x: str, path: str, axes: Sequence[int]) -> list[str]:
        """``x.shape[a]`` for each axis, as 1-D tensors ready for Concat (dynamic export)."""
        shape = self.op("Shape", [x], path)
        out = []
        for a in axes:
            d = self.op("Gather", [shape, self.const(a, path, np.int64)], path, axis=0)
            out.append(self.op("Unsqueeze", [d, self.const([0], path, np.int64)], path))
        return out

    def model(self, outputs: Sequence[str]) -> onnx.ModelProto:
        """The finished model; output shapes from onnx shape inference (no value_info)."""
        graph = helper.make_graph(
            self.nodes,
            self.name,
            self.inputs,
            [helper.make_tensor_value_info(o, F32, None) for o in outputs],
            self.inits,
        )
        model = model_proto(graph, PRODUCER)
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True, data_prop=True)
        known = {vi.name: vi for vi in (*inferred.graph.value_info, *inferred.graph.output)}
        for out in model.graph.output:
            out.CopyFrom(known[out.name])
        return model


# --------------------------------------------------------------------------- architectures


def densenet_transitions() -> onnx.ModelProto:
    """DenseNet-121 from the end of dense block 1: three transitions (BN → Relu → Conv 1×1
    256→128 → AveragePool 2×2/2) at 56×56, 28×28 and 14×14, a dense block of 4 layers
    (growth 32, Concat of all features) between each two."""
    net = Net("densenet_transitions", seed=1)
    x = net.input("input", (1, 256, 56, 56))
    for t in (1, 2, 3):
        p = f"features.transition{t}"
        y = net.op("Relu", [net.bn(x, f"{p}.norm", 256)], f"{p}.relu")
        y = net.conv(y, f"{p}.conv", 256, 128, 1, bias=False)
        x = net.op(
            "AveragePool",
            [y],
            f"{p}.pool",
            ceil_mode=0,
            count_include_pad=1,
            kernel_shape=[2, 2],
            pads=[0, 0, 0, 0],
            strides=[2, 2],
        )
        if t == 3:
            break
        features, c = [x], 128
        for k in range(1, 5):
            q = f"features.denseblock{t + 1}.denselayer{k}"
            y = net.op("Concat", features, q, axis=1)
            y = net.op("Relu", [net.bn(y, f"{q}.norm1", c)], f"{q}.relu1")
            y = net.conv(y, f"{q}.conv1", c, 128, 1, bias=False)
            y = net.op("Relu", [net.bn(y, f"{q}.norm2", 128)], f"{q}.relu2")
            features.append(net.conv(y, f"{q}.conv2", 128, 32, 3, bias=False))
            c += 32
        x = net.op("Concat", features, f"features.denseblock{t + 1}", axis=1)
    return net.model([x])


def repvgg_blocks() -> onnx.ModelProto:
    """RepVGG-A0 stage 3 in training form at 56×56 in: a stride-2 block 48→96 (3×3+BN,
    1×1+BN, summed, Relu), then three 96→96 blocks with the identity BN as third branch."""
    net = Net("repvgg_blocks", seed=2)
    x, cin = net.input("input", (1, 48, 56, 56)), 48
    for j in range(4):
        p, stride = f"stage3.{j}", 2 if j == 0 else 1
        dense = net.conv(x, f"{p}.rbr_dense.conv", cin, 96, 3, stride=stride, bias=False, gain=1.0)
        dense = net.bn(dense, f"{p}.rbr_dense.bn", 96)
        one = net.conv(x, f"{p}.rbr_1x1.conv", cin, 96, 1, stride=stride, bias=False, gain=1.0)
        y = net.op("Add", [dense, net.bn(one, f"{p}.rbr_1x1.bn", 96)], p)
        if stride == 1:
            y = net.op("Add", [y, net.bn(x, f"{p}.rbr_identity", 96)], p)
        x, cin = net.op("Relu", [y], f"{p}.nonlinearity"), 96
    return net.model([x])


def mobileone_blocks() -> onnx.ModelProto:
    """MobileOne-S0 blocks in training form, 128 channels at 28×28: twice a depthwise
    block (four 3×3 depthwise conv+BN branches, a 1×1 depthwise conv+BN scale branch,
    an identity BN, summed, Relu) then a pointwise block (four 1×1 conv+BN, identity BN)."""
    net = Net("mobileone_blocks", seed=3)
    x, c = net.input("input", (1, 128, 28, 28)), 128
    for j in range(4):
        p = f"stage2.{j}"
        dw = j % 2 == 0
        k, groups = (3, c) if dw else (1, 1)
        out = net.bn(x, f"{p}.rbr_skip", c)
        if dw:
            scale = net.conv(x, f"{p}.rbr_scale.conv", c, c, 1, groups=c, bias=False, gain=0.25)
            out = net.op("Add", [net.bn(scale, f"{p}.rbr_scale.bn", c), out], p)
        for i in range(4):
            q = f"{p}.rbr_conv.{i}"
            y = net.conv(x, f"{q}.conv", c, c, k, groups=groups, bias=False, gain=0.25)
            out = net.op("Add", [out, net.bn(y, f"{q}.bn", c)], p)
        x = net.op("Relu", [out], f"{p}.activation")
    return net.model([x])


def repghost_blocks() -> onnx.ModelProto:
    """RepGhostNet bottlenecks in training form, 24→72→24 at 56×56, two of them: each
    RepGhost module is a 1×1 conv+BN (+Relu in the first), a 3×3 depthwise conv+BN and
    an identity BN of the conv's output summed (+Relu in the first); residual Add."""
    net = Net("repghost_blocks", seed=4)
    x = net.input("input", (1, 24, 56, 56))
    for j in range(2):
        shortcut, y = x, x
        for g, (cin, cout, relu) in enumerate(((24, 72, True), (72, 24, False))):
            p = f"blocks.1.{j}.ghost{g + 1}"
            y1 = net.conv(y, f"{p}.primary_conv.0", cin, cout, 1, bias=False, gain=1.0)
            y1 = net.bn(y1, f"{p}.primary_conv.1", cout)
            if relu:
                y1 = net.op("Relu", [y1], f"{p}.primary_conv.2")
            y2 = net.conv(y1, f"{p}.cheap_operation.0", cout, cout, 3, groups=cout, bias=False)
            y2 = net.bn(y2, f"{p}.cheap_operation.1", cout)
            y = net.op("Add", [y2, net.bn(y1, f"{p}.fusion_bn.0", cout)], p)
            if relu:
                y = net.op("Relu", [y], f"{p}.relu")
        x = net.op("Add", [y, shortcut], f"blocks.1.{j}")
    return net.model([x])


def convnext_layerscale() -> onnx.ModelProto:
    """A ConvNeXt-T stage-1 block (96 channels at 56×56): depthwise conv 7×7, Transpose to
    NHWC, LayerNorm, Linear 96→384 (MatMul+Add), GELU, Linear 384→96, Mul(γ) (LayerScale),
    Transpose back, residual Add."""
    net = Net("convnext_layerscale", seed=5)
    x = net.input("input", (1, 96, 56, 56))
    p = "stages.0.blocks.0"
    y = net.conv(x, f"{p}.dwconv", 96, 96, 7, groups=96, gain=1.0)
    y = net.op("Transpose", [y], p, perm=[0, 2, 3, 1])
    y = net.layernorm(y, f"{p}.norm", 96)
    y = net.gelu(net.linear(y, f"{p}.pwconv1", 96, 384), f"{p}.act")
    y = net.linear(y, f"{p}.pwconv2", 384, 96)
    gamma = net.weight(f"{p}.gamma", (96,), 0.1, mean=0.5)
    y = net.op("Mul", [gamma, y], p)
    y = net.op("Transpose", [y], p, perm=[0, 3, 1, 2])
    return net.model([net.op("Add", [x, y], p)])


def deit_layerscale() -> onnx.ModelProto:
    """A CaiT/DeiT-III-style encoder block at DeiT-Tiny width (197 tokens × 192, 3 heads)
    with LayerScale on both residual branches (Linear → Mul(γ) → Add), exported with
    dynamic shapes: the head split and merge Reshapes read ``x.shape``
    (Shape → Gather → Unsqueeze → Concat)."""
    net = Net("deit_layerscale", seed=6)
    d, heads, n = 192, 3, 197
    dh = d // heads
    x = net.input("input", (1, n, d))
    p = "blocks.0"
    h = net.layernorm(x, f"{p}.norm1", d)
    a = f"{p}.attn"
    b, t = net.dims(h, a, (0, 1))
    target = net.op(
        "Concat", [b, t, *(net.const([v], a, np.int64) for v in (3, heads, dh))], a, axis=0
    )
    qkv = net.op("Reshape", [net.linear(h, f"{a}.qkv", d, 3 * d), target], a)
    qkv = net.op("Transpose", [qkv], a, perm=[2, 0, 3, 1, 4])
    q, k, v = (net.op("Gather", [qkv, net.const(i, a, np.int64)], a, axis=0) for i in range(3))
    scores = net.op("MatMul", [q, net.op("Transpose", [k], a, perm=[0, 1, 3, 2])], a)
    scores = net.op("Mul", [scores, net.const(dh**-0.5, a)], a)
    y = net.op("MatMul", [net.op("Softmax", [scores], a, axis=-1), v], a)
    y = net.op("Transpose", [y], a, perm=[0, 2, 1, 3])
    b, t, c = net.dims(h, a, (0, 1, 2))
    y = net.op("Reshape", [y, net.op("Concat", [b, t, c], a, axis=0)], a)
    y = net.linear(y, f"{a}.proj", d, d)
    x = net.op("Add", [x, net.op("Mul", [net.weight(f"{p}.gamma_1", (d,), 0.1, 0.5), y], p)], p)
    y = net.layernorm(x, f"{p}.norm2", d)
    y = net.gelu(net.linear(y, f"{p}.mlp.fc1", d, 4 * d), f"{p}.mlp.act")
    y = net.linear(y, f"{p}.mlp.fc2", 4 * d, d)
    x = net.op("Add", [x, net.op("Mul", [net.weight(f"{p}.gamma_2", (d,), 0.1, 0.5), y], p)], p)
    return net.model([x])


def levit_linear_bn() -> onnx.ModelProto:
    """LeViT-128S stage-1 MLP blocks (196 tokens × 128, hidden 256), four residual blocks
    of Linear_BN → Hardswish → Linear_BN, each Linear_BN as torch writes ``bn(l(x).flatten
    (0, 1)).reshape_as(l(x))``: MatMul → Flatten → BatchNormalization → Reshape(Shape)."""
    net = Net("levit_linear_bn", seed=7)
    x = net.input("input", (1, 196, 128))

    def linear_bn(x: str, path: str, din: int, dout: int) -> str:
        y = net.matmul(x, f"{path}.c", din, dout, gain=2.0)
        z = net.op("Flatten", [y], path, axis=2)
        z = net.bn(z, f"{path}.bn", dout)
        return net.op("Reshape", [z, net.op("Shape", [y], path)], path)

    for j in range(4):
        p = f"blocks.{2 * j + 1}.m"
        y = net.op("HardSwish", [linear_bn(x, f"{p}.0", 128, 256)], f"{p}.1")
        x = net.op("Add", [x, linear_bn(y, f"{p}.2", 256, 128)], f"blocks.{2 * j + 1}")
    return net.model([x])


def mlp_head() -> onnx.ModelProto:
    """MobileNetV2's last layers with a two-layer classifier that lost its activation:
    Conv 1×1 320→1280 (BN folded by the exporter) → ReLU6 (Clip) at 7×7 →
    GlobalAveragePool → Flatten → Gemm 1280→1024 → Gemm 1024→1000."""
    net = Net("mlp_head", seed=8)
    x = net.input("input", (1, 320, 7, 7))
    y = net.relu6(net.conv(x, "features.18.0", 320, 1280, 1), "features.18.2")
    y = net.op("Flatten", [net.op("GlobalAveragePool", [y], "")], "", axis=1)
    y = net.gemm(y, "classifier.1", 1280, 1024)
    return net.model([net.gemm(y, "classifier.2", 1024, 1000)])


def normalized_stem_7x7() -> onnx.ModelProto:
    """Input normalization in the graph, (x − mean) / std with [1,3,1,1] buffers, before
    ResNet-50's stem at 224×224: Conv 7×7 stride 2, zero padding 3 (BN folded by the
    exporter) → Relu → MaxPool 3×3/2."""
    net = Net("normalized_stem_7x7", seed=9)
    x = net.input("input", (1, 3, 224, 224))
    mean = net.tensor("mean", np.array([0.485, 0.456, 0.406]).reshape(1, 3, 1, 1))
    std = net.tensor("std", np.array([0.229, 0.224, 0.225]).reshape(1, 3, 1, 1))
    y = net.op("Div", [net.op("Sub", [x, mean]), std])
    y = net.op("Relu", [net.conv(y, "conv1", 3, 64, 7, stride=2)], "relu")
    y = net.op(
        "MaxPool",
        [y],
        "maxpool",
        ceil_mode=0,
        dilations=[1, 1],
        kernel_shape=[3, 3],
        pads=[1, 1, 1, 1],
        strides=[2, 2],
    )
    return net.model([y])


def normalized_stem_3x3() -> onnx.ModelProto:
    """Input normalization in the graph, (x − mean) / std with [3,1,1] buffers, before
    MobileNetV2's stem at 224×224: Conv 3×3 stride 2, zero padding 1, 3→32 → ReLU6, then
    the first inverted residual (depthwise 3×3 → ReLU6 → Conv 1×1 32→16, no activation)."""
    net = Net("normalized_stem_3x3", seed=10)
    x = net.input("input", (1, 3, 224, 224))
    mean = net.tensor("mean", np.array([0.485, 0.456, 0.406]).reshape(3, 1, 1))
    std = net.tensor("std", np.array([0.229, 0.224, 0.225]).reshape(3, 1, 1))
    y = net.op("Div", [net.op("Sub", [x, mean]), std])
    y = net.relu6(net.conv(y, "features.0.0", 3, 32, 3, stride=2), "features.0.2")
    y = net.relu6(net.conv(y, "features.1.conv.0.0", 32, 32, 3, groups=32), "features.1.conv.0.2")
    return net.model([net.conv(y, "features.1.conv.1", 32, 16, 1, gain=1.0)])


def lora_ffn() -> onnx.ModelProto:
    """A ViT-S feed-forward block (128 tokens × 384, hidden 1536) with LoRA adapters
    (rank 8, scaling 2) on both Linears, as PEFT's forward writes it: ``base(x) +
    lora_B(lora_A(x)) * scaling`` — MatMul + Add, MatMul → MatMul → Mul, Add."""
    net = Net("lora_ffn", seed=11)
    x = net.input("input", (1, 128, 384))

    def lora_linear(x: str, path: str, din: int, dout: int) -> str:
        base = net.linear(x, f"{path}.base_layer", din, dout)
        low = net.matmul(x, f"{path}.lora_A.default", din, 8)
        low = net.matmul(low, f"{path}.lora_B.default", 8, dout, gain=0.1)
        return net.op("Add", [base, net.op("Mul", [low, net.const(2.0, path)], path)], path)

    y = net.layernorm(x, "norm", 384)
    y = net.gelu(lora_linear(y, "mlp.fc1", 384, 1536), "mlp.act")
    return net.model([net.op("Add", [x, lora_linear(y, "mlp.fc2", 1536, 384)])])


ARCHS: dict[str, Callable[[], onnx.ModelProto]] = {
    fn.__name__: fn
    for fn in (
        densenet_transitions,
        repvgg_blocks,
        mobileone_blocks,
        repghost_blocks,
        convnext_layerscale,
        deit_layerscale,
        levit_linear_bn,
        mlp_head,
        normalized_stem_7x7,
        normalized_stem_3x3,
        lora_ffn,
    )
}


def main(argv: list[str]) -> None:
    out = Path(argv[1] if len(argv) > 1 else "bench-archs")
    out.mkdir(parents=True, exist_ok=True)
    for name, build in ARCHS.items():
        model = build()
        onnx.save(model, str(out / f"{name}.onnx"))
        print(f"{out / name}.onnx: {len(model.graph.node)} nodes")


if __name__ == "__main__":
    main(sys.argv)
