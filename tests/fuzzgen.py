"""Random ONNX models that mix linear, affine, shape, nonlinear and unknown ops, for fuzzing.

``modelgen`` draws models that are *full of* linear structure (conv chains,
branch sets, dense chains); this module draws models where that structure
is tangled with everything else an export contains, so that check and fold
meet graphs they were not written against. A model is a chain of 2–9 steps
from one input; each step is one op, a branch set, an If, or a "motif"
(modelgen's conv chains, branch blocks and dense chains, grown on the current
tensor, or MatMul → shape ops on any axis → MatMul):

* linear: Conv (1-D/2-D/3-D, groups, dilations, pads, ``auto_pad`` SAME/VALID
  with strides), ConvTranspose, MatMul with a constant on the right, on the
  left, batched or 1-D, Gemm (transA, transB, alpha, beta, C of every
  broadcastable shape, the constant as A or as B), Einsum with a constant;
* affine: BatchNormalization, Add/Sub/Mul/Div/Neg with constants of every
  broadcastable shape (one of more rank than the tensor too), Pad (constant
  with any value, edge, reflect, wrap, crops, an ``axes`` input), AveragePool
  (pads, ``auto_pad``, dilations, count_include_pad), GlobalAveragePool,
  ReduceMean/ReduceSum, Resize (``axes`` too), Identity, Dropout,
  LeakyRelu(alpha=1), Clip without bounds, Sum/Mean/Concat of one tensor,
  Cast to another float type and back;
* shape: Reshape (0 and -1 entries, allowzero), Transpose, Flatten, Squeeze
  (with or without axes), Unsqueeze, Slice (negative steps too), Split (parts
  concatenated back in any order, or made graph outputs, or left unused;
  ``num_outputs``), Concat, Gather (scalar indices too), Tile,
  DepthToSpace/SpaceToDepth;
* branches and joins: 2–3 branches from one tensor joined by Add, Sub, Sum,
  Mean, Concat (linear), Mul, Max, or an unknown two-input op (nonlinear); a
  second graph input joined in (different sources); If on a constant
  condition whose branches read the outer tensor; intermediate tensors that
  are also graph outputs;
* nonlinear: Relu, Sigmoid, Tanh, LeakyRelu with a random alpha (1 included,
  which is the identity), Clip with bounds, Elu, Softplus, Abs, Gelu (opset
  20+), Pow, a constant divided by the tensor, MaxPool, Softmax, LogSoftmax,
  LayerNormalization, InstanceNormalization, decomposed GELU / Swish /
  HardSwish, Mul and MatMul of two non-constant tensors, QuantizeLinear →
  DequantizeLinear;
* unknown: ops of the custom domain ``fuzz.custom`` (one and two inputs),
  runnable in onnxruntime because each ships as a model-local function with a
  nonlinear body, and ``com.microsoft`` Gelu.

Around that: opsets 17, 18, 19 and 21 (each op in the forms its opset allows);
float32 or float16; symbolic input dims (the feeds keep the drawn sizes);
constants as initializers (raw or typed fields) or Constant nodes (``value``,
``value_ints``, ``value_float(s)``), sometimes shared; value_info for every
tensor or none; now and then no node names at all. Three mixes weight the
families: everything, linear families only (long affine regions through shape
ops and joins), or barrier-heavy.

``FuzzGenerated.barriers`` maps every node that is nonlinear *on its actual
input* to its op type (a Relu on a tensor that is already non-negative is
not; a LeakyRelu with alpha 1 is not; If counts as one): no finding may name
one of them. Unnamed models key them ``#index``. Models are small (a tensor
never grows much past ``MAX_ELEMS`` elements), valid for ``onnx.checker``
(full check) and runnable by onnxruntime on ``Generated.feeds``.

``fuzz_models()`` is the strategy; ``run_properties(gen, allow_growth)`` runs
every property on one model and returns an ``Outcome`` (used by
``tests/test_fuzz.py`` and ``bench/fuzz.py``).
"""

from __future__ import annotations

import math
import traceback
from dataclasses import dataclass, field

import numpy as np
import onnx
from hypothesis import strategies as st
from modelgen import (
    IR_VERSION,
    OPSET,
    Builder,
    Generated,
    arith,
    average_pool,
    batchnorm,
    conv,
    conv_transpose,
    identity_activation,
    out_size,
    seeds,
)
from modelgen import _between as conv_chain_between
from modelgen import _branch_block as branch_block
from modelgen import _dense_chain as dense_chain
from onnx import TensorProto, helper, numpy_helper

MAX_ELEMS = 1024  # growing ops (Concat, Pad, Resize, Tile, ...) only below a quarter of this
MAX_STEPS = 9
MAX_CHANNELS_FOR_CONV = 24
CUSTOM_DOMAIN = "fuzz.custom"
DEFAULT_DOMAINS = ("", "ai.onnx")

#: Op types that are nonlinear whatever their attributes or inputs (in the default domain).
NONLINEAR_OPS = frozenset(
    {
        "Sigmoid",
        "Tanh",
        "Softmax",
        "LogSoftmax",
        "LayerNormalization",
        "InstanceNormalization",
        "MaxPool",
        "Erf",
        "Elu",
        "Softplus",
        "Abs",
        "Max",
        "QuantizeLinear",
        "Gelu",
        "Pow",
        "If",  # control flow: a barrier, whatever its branches compute
    }
)
#: Outputs that are non-negative whatever the input (the engine knows a subset of these).
_NONNEG_OUTPUT = frozenset({"Relu", "Sigmoid", "Softmax", "Abs", "Exp", "Softplus"})
#: Ops that keep a non-negative input non-negative (values are moved or picked, not mixed).
_NONNEG_KEEP = frozenset(
    {
        "Identity",
        "Dropout",
        "Reshape",
        "Flatten",
        "Transpose",
        "Squeeze",
        "Unsqueeze",
        "Slice",
        "Split",
        "Gather",
        "Tile",
        "MaxPool",
        "DepthToSpace",
        "SpaceToDepth",
        "LeakyRelu",
        "Clip",
    }
)


def numel(shape) -> int:
    return math.prod(shape)


@dataclass
class FuzzGenerated(Generated):
    """A generated model plus the names of its nonlinear nodes (name -> op type)."""

    barriers: dict[str, str] = field(default_factory=dict)
    op_types: dict[str, str] = field(default_factory=dict)
    unnamed: bool = False  # main-graph nodes have no names (barriers are keyed "#index")


# ---- the builder --------------------------------------------------------------------------------


def _functions() -> dict[str, tuple[int, onnx.FunctionProto]]:
    """Custom ops as model-local functions: name -> (number of inputs, function)."""

    def fn(name, inputs, nodes):
        return helper.make_function(
            CUSTOM_DOMAIN,
            name,
            inputs,
            ["Y"],
            nodes,
            opset_imports=[helper.make_opsetid("", OPSET)],
        )

    n = helper.make_node
    return {
        "FuzzTanh": (1, fn("FuzzTanh", ["X"], [n("Tanh", ["X"], ["Y"], name="fn_tanh")])),
        "FuzzSwish": (
            1,
            fn(
                "FuzzSwish",
                ["X"],
                [
                    n("Sigmoid", ["X"], ["S"], name="fn_sigmoid"),
                    n("Mul", ["X", "S"], ["Y"], name="fn_mul"),
                ],
            ),
        ),
        "FuzzAbs": (1, fn("FuzzAbs", ["X"], [n("Abs", ["X"], ["Y"], name="fn_abs")])),
        "FuzzSoftsign": (
            1,
            fn("FuzzSoftsign", ["X"], [n("Softsign", ["X"], ["Y"], name="fn_softsign")]),
        ),
        "FuzzGate": (
            2,
            fn(
                "FuzzGate",
                ["A", "B"],
                [
                    n("Sigmoid", ["B"], ["S"], name="fn_sigmoid"),
                    n("Mul", ["A", "S"], ["Y"], name="fn_mul"),
                ],
            ),
        ),
    }


FUNCTIONS = _functions()


class FuzzBuilder(Builder):
    """modelgen's Builder, plus barrier bookkeeping, custom functions, names and a dtype."""

    def __init__(
        self, seed: int, constants: str = "initializers", share: bool = False, float16=False
    ):
        super().__init__(seed, constants, share)
        self.dtype = np.float16 if float16 else np.float32
        self.elem = TensorProto.FLOAT16 if float16 else TensorProto.FLOAT
        self.barriers: dict[str, str] = {}
        self.op_types: dict[str, str] = {}
        self.nonneg: set[str] = set()
        self.consts: set[str] = set()
        self.functions: dict[str, onnx.FunctionProto] = {}
        self.domains: dict[str, int] = {}
        self.mix = "mixed"  # which entry of MIXES step() draws from
        self.opset = OPSET  # the default domain's version; ops draw the forms it allows
        self.value_info = False  # keep the shapes onnx infers for every tensor, as exports do
        self.unnamed = False  # no node names: findings then say #index

    @property
    def float16(self) -> bool:
        return self.dtype == np.float16

    def input(self, shape, symbolic=()) -> str:
        name = self.fresh("x")
        dims = [f"{name}_d{a}" if a in symbolic else n for a, n in enumerate(shape)]
        self.inputs.append(helper.make_tensor_value_info(name, self.elem, dims))
        self.shapes[name] = tuple(shape)
        self.feeds[name] = self.rng.standard_normal(shape).astype(self.dtype)
        return name

    def const(self, array, prefix: str = "c", dtype=None) -> str:
        """A constant of the model's float type, or of ``dtype`` when given."""
        dtype = dtype or self.dtype
        name = self.fresh(prefix)
        array = np.asarray(array, dtype=dtype)
        tensor = numpy_helper.from_array(array, name)
        as_node = self.constants == "nodes" or (
            self.constants == "mixed" and self.rng.integers(2) == 1
        )
        # Exporters also write constants as typed attributes (value_ints, value_float,
        # value_floats) and initializers as typed fields (float_data, int64_data), not raw bytes.
        plain = self.rng.integers(3) == 0
        if as_node:
            node_name = self.fresh("Constant")
            attrs = {"value": tensor}
            if plain and dtype == np.int64 and array.ndim == 1:
                attrs = {"value_ints": [int(v) for v in array]}
            elif plain and dtype == np.float32 and array.ndim == 0:
                attrs = {"value_float": float(array)}
            elif plain and dtype == np.float32 and array.ndim == 1:
                attrs = {"value_floats": [float(v) for v in array]}
            self.nodes.append(helper.make_node("Constant", [], [name], name=node_name, **attrs))
            self.op_types[node_name] = "Constant"
        elif plain and dtype in (np.float32, np.int64):
            elem = TensorProto.FLOAT if dtype == np.float32 else TensorProto.INT64
            values = array.ravel().tolist()
            self.inits.append(helper.make_tensor(name, elem, array.shape, values, raw=False))
        else:
            self.inits.append(tensor)
        self.shapes[name] = tuple(np.shape(array))
        self.consts.add(name)
        return name

    def ints(self, values, prefix: str = "i") -> str:
        return self.const(np.array(values, dtype=np.int64), prefix, dtype=np.int64)

    def op(self, op_type, inputs, shape, note: str = "", **attrs) -> str:
        return self.multi(op_type, inputs, [shape], note, **attrs)[0]

    def multi(self, op_type, inputs, shapes, note: str = "", domain: str = "", **attrs):
        """A node with one output per shape; records whether it is a barrier on its input."""
        bounds = attrs.pop("_bounds", None)  # Clip's bounds: bookkeeping, not an attribute
        outs = [self.fresh(op_type.lower()) for _ in shapes]
        name = self.fresh(op_type)
        extra = {"domain": domain} if domain else {}
        self.nodes.append(
            helper.make_node(op_type, list(inputs), outs, name=name, **extra, **attrs)
        )
        for o, s in zip(outs, shapes, strict=True):
            self.shapes[o] = tuple(s)
        self.sketch.append(note or op_type)
        self.op_types[name] = op_type
        dynamic = [t for t in inputs if t and t not in self.consts]
        if self._nonlinear(op_type, domain, inputs, dynamic, attrs, bounds):
            self.barriers[name] = op_type if not domain else f"{domain}.{op_type}"
        if not domain and (
            op_type in _NONNEG_OUTPUT
            or (op_type in _NONNEG_KEEP and dynamic and all(t in self.nonneg for t in dynamic))
        ):
            self.nonneg.update(outs)
        return outs

    def _nonlinear(self, op_type, domain, inputs, dynamic, attrs, bounds) -> bool:
        if domain not in DEFAULT_DOMAINS:
            return True
        if op_type in NONLINEAR_OPS:
            return True
        if op_type == "Relu":
            return dynamic[0] not in self.nonneg
        if op_type == "LeakyRelu":
            return float(np.float32(attrs.get("alpha", 0.01))) != 1.0
        if op_type == "Clip":
            return bounds is not None and any(v is not None for v in bounds)
        if op_type == "Div":
            return len(dynamic) > 1 or dynamic != [inputs[0]]
        if op_type in ("Mul", "MatMul", "Gemm", "Einsum"):
            return len(dynamic) > 1
        return False

    def custom(self, fname: str, inputs: list[str], shape) -> str:
        _, function = FUNCTIONS[fname]
        self.functions[fname] = function
        self.domains[CUSTOM_DOMAIN] = 1
        return self.multi(fname, inputs, [shape], f"{CUSTOM_DOMAIN}.{fname}", CUSTOM_DOMAIN)[0]

    def _output_info(self, name: str, dynamic: bool) -> onnx.ValueInfoProto:
        shape = self.shapes[name]
        dims = [f"{name}_d{a}" for a in range(len(shape))] if dynamic else list(shape)
        return helper.make_tensor_value_info(name, self.elem, dims)

    def build(self) -> FuzzGenerated:
        gen = super().build()
        model = gen.model
        model.opset_import[0].version = self.opset
        for d, v in sorted(self.domains.items()):
            model.opset_import.append(helper.make_opsetid(d, v))
        model.ir_version = max(IR_VERSION, helper.find_min_ir_version_for(model.opset_import[:1]))
        for k in sorted(self.functions):
            function = onnx.FunctionProto()
            function.CopyFrom(self.functions[k])
            function.opset_import[0].version = self.opset
            model.functions.append(function)
        if self.value_info:
            model = onnx.shape_inference.infer_shapes(model, strict_mode=True)
        barriers, op_types = dict(self.barriers), dict(self.op_types)
        if self.unnamed:  # the main graph's nodes lose their names (subgraphs keep theirs)
            for index, node in enumerate(model.graph.node):
                label = f"#{index}"
                if node.name in barriers:
                    barriers[label] = barriers.pop(node.name)
                op_types[label] = op_types.pop(node.name, node.op_type)
                node.name = ""
        return FuzzGenerated(model, gen.feeds, gen.sketch, barriers, op_types, self.unnamed)


# ---- small helpers -------------------------------------------------------------------------------


def rare(draw, of: int = 12) -> bool:
    return draw(st.integers(0, of - 1)) == 0


def widths(draw, top: int = 8) -> int:
    """An output width; 1 (where shapes degenerate: squeezable, broadcastable) often."""
    return 1 if rare(draw, 5) else draw(st.integers(1, top))


def _small(b: FuzzBuilder, t: str, factor: int = 4) -> bool:
    """Whether ``t`` may grow (Concat, Pad, Resize, Tile...) and stay within MAX_ELEMS."""
    return numel(b.shapes[t]) * factor <= MAX_ELEMS


def _broadcast_shape(draw, shape, grow: bool = False) -> tuple[int, ...]:
    """A constant shape that broadcasts onto ``shape``: some axes kept, the others 1."""
    kind = draw(st.sampled_from(["last", "channel", "scalar", "subset", "full", "rank0", "expand"]))
    rank = len(shape)
    if kind == "expand" and rank < 5 and grow:  # one axis more: the output's rank grows
        return (1,) + tuple(n if draw(st.booleans()) else 1 for n in shape)
    if kind == "last":
        return (shape[-1],)
    if kind == "channel" and rank >= 2:
        return (shape[1],) + (1,) * (rank - 2)
    if kind == "scalar":
        return (1,)
    if kind == "rank0":
        return ()
    if kind == "full":
        return tuple(shape)
    dims = tuple(n if draw(st.booleans()) else 1 for n in shape)
    drop = draw(st.integers(0, rank))
    return dims[drop:]


# ---- linear ops ----------------------------------------------------------------------------------


def op_conv(draw, b: FuzzBuilder, t: str, preserve: bool):
    shape = b.shapes[t]
    if not 3 <= len(shape) <= 5 or shape[1] > MAX_CHANNELS_FOR_CONV:
        return None
    nd = len(shape) - 2
    if preserve:
        cin = shape[1]
        kernel = tuple(draw(st.sampled_from([1, 3])) for _ in range(nd))
        dil = tuple(draw(st.sampled_from([1, 1, 2])) for _ in range(nd))
        pads = tuple(d * (k - 1) // 2 for k, d in zip(kernel, dil, strict=True))
        groups = draw(st.sampled_from([g for g in (1, 1, cin) if cin % g == 0]))
        return conv(
            draw,
            b,
            t,
            cout=cin,
            kernel=kernel,
            strides=(1,) * nd,
            dilations=dil,
            pads=(pads, pads),
            groups=groups,
        )
    return conv(draw, b, t, unpadded=draw(st.sampled_from([25, 70])))


def op_conv_auto_pad(draw, b: FuzzBuilder, t: str, preserve: bool):
    """A Conv with auto_pad (SAME_UPPER, SAME_LOWER, VALID): pads that depend on the size."""
    shape = b.shapes[t]
    if preserve or not 3 <= len(shape) <= 5 or shape[1] > MAX_CHANNELS_FOR_CONV:
        return None
    nd, cin = len(shape) - 2, shape[1]
    mode = draw(st.sampled_from(["SAME_UPPER", "SAME_LOWER", "VALID"]))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    strides = tuple(draw(st.integers(1, 2)) for _ in range(nd))
    if mode == "VALID":
        kernel = tuple(k if k <= n else 1 for k, n in zip(kernel, shape[2:], strict=True))
        out = tuple(
            out_size(n, k, s, 1, 0, 0) for n, k, s in zip(shape[2:], kernel, strides, strict=True)
        )
    else:
        out = tuple(-(-n // s) for n, s in zip(shape[2:], strides, strict=True))
    groups = draw(st.sampled_from([g for g in (1, 1, cin) if cin % g == 0]))
    cout = groups * widths(draw, max(1, 8 // groups))
    inputs = [t, b.weight((cout, cin // groups) + kernel, cin // groups * math.prod(kernel))]
    if draw(st.booleans()):
        inputs.append(b.const(b.vector((cout,), "shift")))
    note = f"Conv{nd}d {cin}->{cout} k{list(kernel)} s{list(strides)} {mode} g{groups}"
    attrs = {"auto_pad": mode, "strides": list(strides), "group": groups}
    if draw(st.booleans()):
        attrs["kernel_shape"] = list(kernel)
    return b.op("Conv", inputs, (shape[0], cout) + out, note=note, **attrs)


def op_conv_transpose(draw, b: FuzzBuilder, t: str, preserve: bool):
    shape = b.shapes[t]
    if preserve or not 3 <= len(shape) <= 5 or shape[1] > MAX_CHANNELS_FOR_CONV:
        return None
    if not _small(b, t):
        return None
    return conv_transpose(draw, b, t)


def op_matmul(draw, b: FuzzBuilder, t: str, preserve: bool):
    shape = b.shapes[t]
    if not shape or shape[-1] > 64:
        return None
    k = shape[-1]
    n = k if preserve else widths(draw)
    form = draw(st.sampled_from(["right", "right", "right", "left", "batched"]))
    if form == "left" and len(shape) >= 2 and shape[-2] <= 32:
        rows = shape[-2]
        m = rows if preserve else widths(draw, 6)
        w = b.weight((m, rows), rows)
        return b.op("MatMul", [w, t], shape[:-2] + (m, k), note=f"MatMul const-left {m}x{rows}")
    if not preserve and len(shape) >= 2 and rare(draw, 10):  # a 1-D weight drops the last axis
        w = b.weight((k,), k)
        return b.op("MatMul", [t, w], shape[:-1], note=f"MatMul {k}->(vector)")
    if form == "batched" and len(shape) >= 3:
        lead = shape[-3] if draw(st.booleans()) else 1
        w = b.weight((lead, k, n), k)
        return b.op("MatMul", [t, w], shape[:-1] + (n,), note=f"MatMul batched [{lead},{k},{n}]")
    w = b.weight((k, n), k)
    return b.op("MatMul", [t, w], shape[:-1] + (n,), note=f"MatMul {k}->{n}")


def op_gemm(draw, b: FuzzBuilder, t: str, preserve: bool):
    shape = b.shapes[t]
    if len(shape) != 2 or max(shape) > 64:
        return None
    r, c = shape
    trans_a, trans_b = draw(st.booleans()), draw(st.booleans())
    const_a = rare(draw, 6)
    if not const_a:  # t is A
        m, kk = (c, r) if trans_a else (r, c)
        if preserve and m != r:
            return None
        n = c if preserve else widths(draw)
        w = b.weight((n, kk) if trans_b else (kk, n), kk)
        inputs = [t, w]
    else:  # t is B
        kk, n = (c, r) if trans_b else (r, c)
        m = kk if preserve else widths(draw, 6)
        if preserve and (m, n) != (r, c):
            return None
        a = b.weight((kk, m) if trans_a else (m, kk), kk)
        inputs = [a, t]
    c_kind = draw(st.sampled_from(["none", "n", "1n", "1", "mn", "m1"]))
    c_shape = {"none": None, "n": (n,), "1n": (1, n), "1": (1,), "mn": (m, n), "m1": (m, 1)}
    if c_shape[c_kind] is not None:
        inputs.append(b.const(b.vector(c_shape[c_kind], "shift")))
    alpha = draw(st.sampled_from([1.0, 1.0, 0.5, -2.0]))
    beta = draw(st.sampled_from([1.0, 1.0, 0.25, 0.0]))
    attrs = {}
    if trans_a or draw(st.booleans()):
        attrs["transA"] = int(trans_a)
    if trans_b or draw(st.booleans()):
        attrs["transB"] = int(trans_b)
    if alpha != 1.0 or draw(st.booleans()):
        attrs["alpha"] = alpha
    if beta != 1.0 or draw(st.booleans()):
        attrs["beta"] = beta
    note = (
        f"Gemm const-{'A' if const_a else 'B'} ({m},{kk})x({kk},{n}) transA={int(trans_a)} "
        f"transB={int(trans_b)} alpha={alpha} beta={beta} C={c_kind}"
    )
    return b.op("Gemm", inputs, (m, n), note=note, **attrs)


def op_einsum(draw, b: FuzzBuilder, t: str, preserve: bool):
    shape = b.shapes[t]
    if not shape or shape[-1] > 64:
        return None
    k = shape[-1]
    n = k if preserve else widths(draw)
    form = draw(st.sampled_from(["ellipsis", "ij", "kj", "transpose", "bij"]))
    if form == "ij" and len(shape) == 2:
        w = b.weight((k, n), k)
        return b.op("Einsum", [t, w], (shape[0], n), note="Einsum ij,jk->ik", equation="ij,jk->ik")
    if form == "kj" and len(shape) == 2:  # the weight stored transposed
        w = b.weight((n, k), k)
        return b.op("Einsum", [t, w], (shape[0], n), note="Einsum ij,kj->ik", equation="ij,kj->ik")
    if form == "bij" and len(shape) == 3:
        w = b.weight((k, n), k)
        out = shape[:-1] + (n,)
        return b.op("Einsum", [t, w], out, note="Einsum bij,jk->bik", equation="bij,jk->bik")
    if form == "transpose" and len(shape) == 2 and (not preserve or shape[0] == shape[1]):
        return b.op("Einsum", [t], shape[::-1], note="Einsum ij->ji", equation="ij->ji")
    w = b.weight((k, n), k)
    return b.op(
        "Einsum", [t, w], shape[:-1] + (n,), note="Einsum ...j,jk->...k", equation="...j,jk->...k"
    )


# ---- affine ops ----------------------------------------------------------------------------------


def op_batchnorm(draw, b: FuzzBuilder, t: str, preserve: bool):
    if len(b.shapes[t]) < 2:
        return None
    return batchnorm(draw, b, t)


def op_arith(draw, b: FuzzBuilder, t: str, preserve: bool):
    return arith(draw, b, t, _broadcast_shape(draw, b.shapes[t], grow=not preserve))


def op_identity_like(draw, b: FuzzBuilder, t: str, preserve: bool):
    """Identity, Dropout, LeakyRelu(1), Clip(): affine (the engine flags some as identities)."""
    return identity_activation(draw, b, t)


def op_single_join(draw, b: FuzzBuilder, t: str, preserve: bool):
    """Sum, Mean or Concat of one tensor: the identity."""
    op = draw(st.sampled_from(["Sum", "Mean", "Concat"]))
    if op == "Concat":
        axis = draw(st.integers(-len(b.shapes[t]), len(b.shapes[t]) - 1))
        return b.op(op, [t], b.shapes[t], note=f"Concat of one axis={axis}", axis=axis)
    return b.op(op, [t], b.shapes[t], note=f"{op} of one")


_CASTS = {
    TensorProto.FLOAT: np.float32,
    TensorProto.DOUBLE: np.float64,
    TensorProto.FLOAT16: np.float16,
}


def op_cast_round_trip(draw, b: FuzzBuilder, t: str, preserve: bool):
    """Cast to another float type (maybe an Add/Mul by a constant there) and back."""
    shape = b.shapes[t]
    inner = draw(st.sampled_from([e for e in _CASTS if e != b.elem]))
    h = b.op("Cast", [t], shape, note=f"Cast to {TensorProto.DataType.Name(inner)}", to=inner)
    if draw(st.booleans()):
        op = draw(st.sampled_from(["Add", "Mul"]))
        c = b.vector(_broadcast_shape(draw, shape)[-1:], "scale" if op == "Mul" else "shift")
        h = b.op(op, [h, b.const(c, "c", dtype=_CASTS[inner])], shape, note=f"{op} (cast)")
    return b.op("Cast", [h], shape, note="Cast back", to=b.elem)


def op_pad(draw, b: FuzzBuilder, t: str, preserve: bool):
    shape = b.shapes[t]
    if preserve or not _small(b, t):
        return None
    rank = len(shape)
    mode = draw(st.sampled_from(["constant", "constant", "edge", "reflect", "wrap"]))
    if mode == "wrap" and b.opset < 19:
        mode = "constant"
    axes = [a for a in range(rank) if draw(st.booleans())] or [rank - 1]
    pb, pe = [0] * rank, [0] * rank
    for a in axes:
        limit = min(2, shape[a] - 1) if mode == "reflect" else 2
        limit = min(limit, shape[a]) if mode == "wrap" else limit
        pb[a] = draw(st.integers(0, max(limit, 0)))
        pe[a] = draw(st.integers(0, max(limit, 0)))
        if mode == "constant" and shape[a] > 2 and rare(draw, 6):
            pe[a] = -1  # a crop
    with_axes = b.opset >= 18 and draw(st.booleans())
    if with_axes:  # pads for the listed axes only, in the listed order
        listed = list(draw(st.permutations(axes)))
        inputs = [t, b.ints([pb[a] for a in listed] + [pe[a] for a in listed], "pads")]
        axes_spec = [a - rank if draw(st.booleans()) else a for a in listed]
    else:
        inputs = [t, b.ints(pb + pe, "pads")]
    attrs = {}
    if mode != "constant" or draw(st.booleans()):
        attrs["mode"] = mode
    if mode == "constant":
        value = draw(st.sampled_from(["absent", "zero", "empty", "random"]))
        if value in ("zero", "random"):
            v = 0.0 if value == "zero" else float(b.rng.standard_normal())
            inputs.append(b.const(np.array(v), "value"))
        elif value == "empty" or with_axes:
            inputs.append("")
    elif with_axes:
        inputs.append("")
    if with_axes:
        inputs.append(b.ints(axes_spec, "pad_axes"))
    out = tuple(n + p + q for n, p, q in zip(shape, pb, pe, strict=True))
    axes_note = f" axes={axes_spec}" if with_axes else ""
    return b.op("Pad", inputs, out, note=f"Pad {mode} {pb + pe}{axes_note}", **attrs)


def op_avgpool(draw, b: FuzzBuilder, t: str, preserve: bool):
    shape = b.shapes[t]
    if not 3 <= len(shape) <= 5:
        return None
    nd = len(shape) - 2
    if preserve:
        k = draw(st.sampled_from([1, 3]))
        pads = [k // 2] * (2 * nd)
        include = draw(st.sampled_from([0, 1]))
        return b.op(
            "AveragePool",
            [t],
            shape,
            note=f"AveragePool k{k} same cip={include}",
            kernel_shape=[k] * nd,
            pads=pads,
            count_include_pad=include,
        )
    if rare(draw, 5):
        return b.op("GlobalAveragePool", [t], shape[:2] + (1,) * nd)
    if rare(draw, 3):  # auto_pad, and dilations from opset 19
        return _pool(draw, b, t, "AveragePool", dilations=b.opset >= 19)
    return average_pool(draw, b, t)


def _pool(draw, b: FuzzBuilder, t: str, op: str, dilations: bool) -> str:
    """AveragePool or MaxPool with random kernel, strides, pads or auto_pad, maybe dilations."""
    shape = b.shapes[t]
    auto_pad = draw(st.sampled_from(["", "", "SAME_UPPER", "SAME_LOWER", "VALID"]))
    kernel, strides, dil, pb, pe, out = [], [], [], [], [], []
    for n in shape[2:]:
        k, s = draw(st.integers(1, 3)), draw(st.integers(1, 2))
        d = draw(st.integers(1, 2)) if dilations and auto_pad != "SAME_UPPER" else 1
        p, q = (
            (draw(st.integers(0, k - 1)), draw(st.integers(0, k - 1))) if not auto_pad else (0, 0)
        )
        if auto_pad.startswith("SAME"):
            d, k = 1, max(k, s)  # onnxruntime computes negative pads for kernels below the stride
        elif n + p + q < d * (k - 1) + 1:
            k, d, p, q = 1, 1, 0, 0
        kernel.append(k)
        strides.append(s)
        dil.append(d)
        pb.append(p)
        pe.append(q)
        out.append(-(-n // s) if auto_pad.startswith("SAME") else out_size(n, k, s, d, p, q))
    attrs: dict = {"kernel_shape": kernel, "strides": strides}
    if auto_pad:
        attrs["auto_pad"] = auto_pad
    else:
        attrs["pads"] = pb + pe
    if any(d > 1 for d in dil) or (dilations and draw(st.booleans())):
        attrs["dilations"] = dil
    if op == "AveragePool":
        attrs["count_include_pad"] = draw(st.sampled_from([0, 1, 1]))
    note = f"{op} k{kernel} s{strides} d{dil} {auto_pad or f'pads {pb + pe}'}"
    return b.op(op, [t], shape[:2] + tuple(out), note=note, **attrs)


def op_reduce(draw, b: FuzzBuilder, t: str, preserve: bool):
    shape = b.shapes[t]
    rank = len(shape)
    if rank < 2:
        return None
    axes = sorted({draw(st.integers(0, rank - 1)) for _ in range(draw(st.integers(1, 2)))})
    keep = draw(st.sampled_from([0, 1]))
    if preserve and not (keep and all(shape[a] == 1 for a in axes)):
        return None
    out = tuple(
        (1 if keep else None) if a in axes else n
        for a, n in enumerate(shape)
        if keep or a not in axes
    )
    spec = [a - rank if draw(st.booleans()) else a for a in axes]
    op = draw(st.sampled_from(["ReduceMean", "ReduceSum"]))
    note = f"{op} axes={spec} keepdims={keep}"
    if op == "ReduceSum" or b.opset >= 18:  # axes: an input from 13 (Sum) and 18 (Mean)
        return b.op(op, [t, b.ints(spec, "axes")], out, note=note, keepdims=keep)
    return b.op(op, [t], out, note=note, axes=spec, keepdims=keep)


def op_resize(draw, b: FuzzBuilder, t: str, preserve: bool):
    shape = b.shapes[t]
    if preserve or len(shape) != 4 or not _small(b, t, 4):
        return None
    mode = draw(st.sampled_from(["nearest", "linear"]))
    scales = [1.0, 1.0, float(draw(st.sampled_from([1, 2]))), float(draw(st.sampled_from([1, 2])))]
    if scales == [1.0, 1.0, 1.0, 1.0]:
        scales[-1] = 2.0
    attrs = {"mode": mode}
    modes = ["half_pixel", "asymmetric", "align_corners", "pytorch_half_pixel"]
    if b.opset >= 19:
        modes.append("half_pixel_symmetric")
    if draw(st.booleans()):
        attrs["coordinate_transformation_mode"] = draw(st.sampled_from(modes))
    given = scales
    if b.opset >= 18 and draw(st.booleans()):  # scales for the listed axes only
        attrs["axes"] = [2, 3] if draw(st.booleans()) else [-1, -2]
        given = [scales[a] for a in attrs["axes"]]
    inputs = [t, "", b.const(np.array(given), "scales", dtype=np.float32)]
    out = tuple(int(math.floor(n * s)) for n, s in zip(shape, scales, strict=True))
    return b.op("Resize", inputs, out, note=f"Resize {mode} {scales}", **attrs)


# ---- shape ops -----------------------------------------------------------------------------------


def _factorizations(total: int, parts: int) -> list[tuple[int, ...]]:
    if parts == 1:
        return [(total,)]
    result = []
    for d in range(1, total + 1):
        if total % d == 0:
            result.extend((d,) + rest for rest in _factorizations(total // d, parts - 1))
            if len(result) > 60:
                break
    return result


def op_reshape(draw, b: FuzzBuilder, t: str, preserve: bool):
    shape = b.shapes[t]
    rank = len(shape)
    total = numel(shape)
    if preserve:
        target = shape
    else:
        what = draw(st.sampled_from(["merge", "split", "random", "ones"]))
        if what == "merge" and rank >= 2:
            a = draw(st.integers(0, rank - 2))
            target = shape[:a] + (shape[a] * shape[a + 1],) + shape[a + 2 :]
        elif what == "split":
            a = draw(st.integers(0, rank - 1))
            d = draw(st.sampled_from(_factorizations(shape[a], 2)))
            target = shape[:a] + d + shape[a + 1 :]
        elif what == "ones":
            a = draw(st.integers(0, rank))
            target = shape[:a] + (1,) + shape[a:]
        else:
            target = draw(st.sampled_from(_factorizations(total, draw(st.integers(1, 4)))))
        if len(target) > 5 or not target:
            return None
    spec = list(target)
    copies = [a for a in range(min(len(spec), rank)) if spec[a] == shape[a] != 0]
    if copies and draw(st.booleans()):
        spec[draw(st.sampled_from(copies))] = 0  # 0 copies the input's dim
    free = [a for a in range(len(spec)) if spec[a] != 0]
    if free and draw(st.booleans()):
        spec[draw(st.sampled_from(free))] = -1
    attrs = {"allowzero": 1} if 0 not in spec and rare(draw, 6) else {}
    return b.op(
        "Reshape", [t, b.ints(spec, "shape")], target, note=f"Reshape {shape}->{spec}", **attrs
    )


def op_transpose(draw, b: FuzzBuilder, t: str, preserve: bool):
    shape = b.shapes[t]
    rank = len(shape)
    if rank < 2:
        return None
    if preserve:
        pairs = [(i, j) for i in range(rank) for j in range(i + 1, rank) if shape[i] == shape[j]]
        perm = list(range(rank))
        if pairs:
            i, j = draw(st.sampled_from(pairs))
            perm[i], perm[j] = perm[j], perm[i]
    else:
        perm = list(draw(st.permutations(range(rank))))
    out = tuple(shape[p] for p in perm)
    if not preserve and perm == list(range(rank))[::-1] and draw(st.booleans()):
        return b.op("Transpose", [t], out, note="Transpose (default perm)")
    return b.op("Transpose", [t], out, note=f"Transpose {perm}", perm=perm)


def op_flatten(draw, b: FuzzBuilder, t: str, preserve: bool):
    shape = b.shapes[t]
    rank = len(shape)
    if preserve:
        return None
    axis = draw(st.integers(0, rank))
    out = (numel(shape[:axis]), numel(shape[axis:]))
    spec = axis - rank if axis < rank and draw(st.booleans()) else axis
    return b.op("Flatten", [t], out, note=f"Flatten axis={spec}", axis=spec)


def op_squeeze(draw, b: FuzzBuilder, t: str, preserve: bool):
    shape = b.shapes[t]
    rank = len(shape)
    if preserve:
        return None
    ones = [a for a, n in enumerate(shape) if n == 1]
    if ones and rank > 1 and draw(st.booleans()):
        axes = sorted(set(draw(st.lists(st.sampled_from(ones), min_size=1, max_size=2))))
        if len(axes) == rank:
            axes = axes[:-1]
        out = tuple(n for a, n in enumerate(shape) if a not in axes)
        spec = [a - rank if draw(st.booleans()) else a for a in axes]
        if len(ones) < rank and rare(draw, 4):  # no axes: every axis of size 1 goes
            out = tuple(n for n in shape if n != 1)
            return b.op("Squeeze", [t], out, note="Squeeze (all ones)")
        return b.op("Squeeze", [t, b.ints(spec, "axes")], out, note=f"Squeeze {spec}")
    if rank >= 5:
        return None
    a = rank if rare(draw, 3) else draw(st.integers(0, rank))  # after the last axis: often
    out = shape[:a] + (1,) + shape[a:]
    spec = a - (rank + 1) if draw(st.booleans()) else a
    return b.op("Unsqueeze", [t, b.ints([spec], "axes")], out, note=f"Unsqueeze [{spec}]")


def op_slice(draw, b: FuzzBuilder, t: str, preserve: bool):
    shape = b.shapes[t]
    rank = len(shape)
    axes = [a for a in range(rank) if shape[a] > 1]
    if not axes:
        return None
    chosen = sorted(set(draw(st.lists(st.sampled_from(axes), min_size=1, max_size=2))))
    starts, ends, steps, out = [], [], [], list(shape)
    for a in chosen:
        n = shape[a]
        if preserve:
            start, end, step = 0, draw(st.sampled_from([n, 2**62])), 1
        else:
            step = draw(st.sampled_from([1, 1, 2, -1]))
            start = draw(st.integers(-n, n - 1))
            end = draw(st.sampled_from([n, -n - 1, draw(st.integers(-n, n)), 2**62, -(2**62)]))
        size = len(range(n)[slice(start, end, step)])
        if size == 0:
            return None
        starts.append(start)
        ends.append(end)
        steps.append(step)
        out[a] = size
    inputs = [t, b.ints(starts, "starts"), b.ints(ends, "ends")]
    spec = [a - rank if draw(st.booleans()) else a for a in chosen]
    if any(s != 1 for s in steps) or draw(st.booleans()):
        inputs += [b.ints(spec, "axes"), b.ints(steps, "steps")]
    elif draw(st.booleans()) or chosen != list(range(len(chosen))):
        inputs.append(b.ints(spec, "axes"))
    return b.op("Slice", inputs, tuple(out), note=f"Slice axes={spec} {starts}:{ends}:{steps}")


def op_split(draw, b: FuzzBuilder, t: str, preserve: bool):
    shape = b.shapes[t]
    rank = len(shape)
    axes = [a for a in range(rank) if shape[a] >= 2]
    if not axes:
        return None
    a = draw(st.sampled_from(axes))
    n = shape[a]
    parts = draw(st.integers(2, min(3, n)))
    cuts = sorted(
        draw(st.lists(st.integers(1, n - 1), min_size=parts - 1, max_size=parts - 1, unique=True))
    )
    sizes = [q - p for p, q in zip([0] + cuts, cuts + [n], strict=True)]
    shapes = [shape[:a] + (s,) + shape[a + 1 :] for s in sizes]
    spec = a - rank if draw(st.booleans()) else a
    equal = len(set(sizes)) == 1
    attrs = {"axis": spec}
    inputs = [t, b.ints(sizes, "split")]
    if equal and draw(st.booleans()):
        inputs = [t]
        if b.opset >= 18:
            attrs["num_outputs"] = parts
    outs = b.multi("Split", inputs, shapes, note=f"Split axis={spec} {sizes}", **attrs)
    what = "concat" if preserve else draw(st.sampled_from(["concat", "concat", "pick", "outputs"]))
    if what == "concat":
        order = list(draw(st.permutations(range(len(outs)))))
        return b.op(
            "Concat", [outs[i] for i in order], shape, note=f"Concat {order} axis={spec}", axis=spec
        )
    keep = draw(st.integers(0, len(outs) - 1))
    if what == "outputs":
        for i, o in enumerate(outs):
            if i != keep:
                b.output(o)
    # "pick": the other parts are simply unused outputs of the Split
    return outs[keep]


def op_concat_self(draw, b: FuzzBuilder, t: str, preserve: bool):
    shape = b.shapes[t]
    if preserve or not _small(b, t, 3):
        return None
    rank = len(shape)
    a = draw(st.integers(-rank, rank - 1))
    other = t
    if draw(st.booleans()):
        other = op_arith(draw, b, t, True)
    k = draw(st.integers(2, 3)) if other == t else 2
    ins = [t] * (k - 1) + [other] if draw(st.booleans()) else [other] + [t] * (k - 1)
    out = list(shape)
    out[a] = shape[a] * k
    return b.op("Concat", ins, tuple(out), note=f"Concat self x{k} axis={a}", axis=a)


def op_gather(draw, b: FuzzBuilder, t: str, preserve: bool):
    shape = b.shapes[t]
    rank = len(shape)
    a = draw(st.integers(0, rank - 1))
    n = shape[a]
    if preserve:
        indices = list(draw(st.permutations(range(n))))
        ind_shape: tuple[int, ...] = (n,)
    elif rank > 1 and rare(draw, 5):
        indices = draw(st.integers(-n, n - 1))
        ind_shape = ()
    else:
        indices = draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=4))
        ind_shape = (len(indices),)
    out = shape[:a] + ind_shape + shape[a + 1 :]
    spec = a - rank if draw(st.booleans()) else a
    return b.op(
        "Gather",
        [t, b.ints(indices, "indices")],
        out,
        note=f"Gather axis={spec} {indices}",
        axis=spec,
    )


def op_tile(draw, b: FuzzBuilder, t: str, preserve: bool):
    shape = b.shapes[t]
    if preserve or not _small(b, t, 4):
        return None
    reps = [1] * len(shape)
    reps[draw(st.integers(0, len(shape) - 1))] = 2
    out = tuple(n * r for n, r in zip(shape, reps, strict=True))
    return b.op("Tile", [t, b.ints(reps, "repeats")], out, note=f"Tile {reps}")


def op_depth_space(draw, b: FuzzBuilder, t: str, preserve: bool):
    shape = b.shapes[t]
    if preserve or len(shape) != 4:
        return None
    n, c, h, w = shape
    if c % 4 == 0 and draw(st.booleans()):
        mode = draw(st.sampled_from(["DCR", "CRD"]))
        out = (n, c // 4, h * 2, w * 2)
        return b.op("DepthToSpace", [t], out, note=f"DepthToSpace {mode}", blocksize=2, mode=mode)
    if h % 2 == 0 and w % 2 == 0:
        return b.op("SpaceToDepth", [t], (n, c * 4, h // 2, w // 2), blocksize=2)
    return None


# ---- nonlinear ops -------------------------------------------------------------------------------


def op_activation(draw, b: FuzzBuilder, t: str, preserve: bool):
    shape = b.shapes[t]
    which = draw(
        st.sampled_from(
            ["Relu", "Relu", "Sigmoid", "Tanh", "LeakyRelu", "Clip", "Elu", "Softplus", "Abs"]
        )
    )
    if which == "Abs" and b.opset >= 20 and draw(st.booleans()):
        approximate = draw(st.sampled_from(["none", "tanh"]))
        return b.op("Gelu", [t], shape, note=f"Gelu({approximate})", approximate=approximate)
    if which == "LeakyRelu":
        alpha = draw(st.sampled_from([0.01, 0.1, 0.2, 1.0, 1.0, -0.5, 2.0, 0.0]))
        return b.op("LeakyRelu", [t], shape, note=f"LeakyRelu({alpha})", alpha=alpha)
    if which == "Clip":
        lo = draw(st.sampled_from([None, -1.0, 0.0]))
        hi = draw(st.sampled_from([1.0, 6.0] if lo is None else [None, 1.0, 6.0]))
        inputs = [t, b.const(np.array(lo), "min") if lo is not None else ""]
        if hi is not None:
            inputs.append(b.const(np.array(hi), "max"))
        while inputs[-1] == "":
            inputs.pop()
        return b.op("Clip", inputs, shape, note=f"Clip({lo}, {hi})", _bounds=(lo, hi))
    return b.op(which, [t], shape)


def op_softmax(draw, b: FuzzBuilder, t: str, preserve: bool):
    shape = b.shapes[t]
    rank = len(shape)
    axis = draw(st.integers(-rank, rank - 1))
    op = draw(st.sampled_from(["Softmax", "Softmax", "LogSoftmax"]))
    return b.op(op, [t], shape, note=f"{op} axis={axis}", axis=axis)


def op_layernorm(draw, b: FuzzBuilder, t: str, preserve: bool):
    shape = b.shapes[t]
    rank = len(shape)
    axis = draw(st.integers(-rank, rank - 1))
    norm_shape = shape[axis:]
    inputs = [t, b.const(b.vector(norm_shape, "scale"), "ln_scale")]
    if draw(st.booleans()):
        inputs.append(b.const(b.vector(norm_shape, "shift"), "ln_bias"))
    eps = draw(st.sampled_from([1e-5, 1e-3]))
    return b.op(
        "LayerNormalization", inputs, shape, note=f"LayerNorm axis={axis}", axis=axis, epsilon=eps
    )


def op_instancenorm(draw, b: FuzzBuilder, t: str, preserve: bool):
    shape = b.shapes[t]
    if not 3 <= len(shape) <= 5:
        return None
    c = shape[1]
    scale = b.const(b.vector((c,), "scale"), "in_scale")
    bias = b.const(b.vector((c,), "shift"), "in_bias")
    return b.op("InstanceNormalization", [t, scale, bias], shape, epsilon=1e-3)


def op_maxpool(draw, b: FuzzBuilder, t: str, preserve: bool):
    shape = b.shapes[t]
    if not 3 <= len(shape) <= 5:
        return None
    nd = len(shape) - 2
    if preserve:
        k = draw(st.sampled_from([1, 3]))
        return b.op(
            "MaxPool",
            [t],
            shape,
            note=f"MaxPool k{k} same",
            kernel_shape=[k] * nd,
            pads=[k // 2] * 2 * nd,
        )
    if rare(draw, 3):
        return _pool(draw, b, t, "MaxPool", dilations=True)
    kernel, strides, dil, pb, pe, out = [], [], [], [], [], []
    for n in shape[2:]:
        k, s, d = draw(st.integers(1, 3)), draw(st.integers(1, 2)), draw(st.sampled_from([1, 1, 2]))
        p, q = draw(st.integers(0, k - 1)), draw(st.integers(0, k - 1))
        if n + p + q < d * (k - 1) + 1:
            k, d, p, q = 1, 1, 0, 0
        kernel.append(k)
        strides.append(s)
        dil.append(d)
        pb.append(p)
        pe.append(q)
        out.append(out_size(n, k, s, d, p, q))
    return b.op(
        "MaxPool",
        [t],
        shape[:2] + tuple(out),
        note=f"MaxPool k{kernel} s{strides} d{dil} pads {pb + pe}",
        kernel_shape=kernel,
        strides=strides,
        dilations=dil,
        pads=pb + pe,
    )


def op_decomposed(draw, b: FuzzBuilder, t: str, preserve: bool):
    """GELU as x·0.5·(1+erf(x/√2)), Swish as x·sigmoid(x), HardSwish as x·clip(x+3,0,6)/6."""
    shape = b.shapes[t]
    which = draw(st.sampled_from(["gelu", "gelu", "swish", "hardswish"]))
    if which == "gelu":
        d = b.op("Div", [t, b.const(np.array(math.sqrt(2.0)))], shape, note="gelu Div √2")
        e = b.op("Erf", [d], shape)
        a = b.op("Add", [e, b.const(np.array(1.0))], shape, note="gelu Add 1")
        if draw(st.booleans()):
            m = b.op("Mul", [t, a], shape, note="gelu Mul x")
            return b.op("Mul", [m, b.const(np.array(0.5))], shape, note="gelu Mul 0.5")
        h = b.op("Mul", [t, b.const(np.array(0.5))], shape, note="gelu Mul 0.5")
        return b.op("Mul", [h, a], shape, note="gelu Mul x/2")
    if which == "swish":
        s = b.op("Sigmoid", [t], shape)
        return b.op("Mul", [t, s] if draw(st.booleans()) else [s, t], shape, note="swish Mul")
    a = b.op("Add", [t, b.const(np.array(3.0))], shape, note="hardswish Add 3")
    c = b.op(
        "Clip",
        [a, b.const(np.array(0.0), "min"), b.const(np.array(6.0), "max")],
        shape,
        note="hardswish Clip(0, 6)",
        _bounds=(0.0, 6.0),
    )
    m = b.op("Mul", [t, c], shape, note="hardswish Mul")
    return b.op("Div", [m, b.const(np.array(6.0))], shape, note="hardswish Div 6")


def op_dynamic_product(draw, b: FuzzBuilder, t: str, preserve: bool):
    """Mul or MatMul of two non-constant tensors (attention-like)."""
    shape = b.shapes[t]
    if len(shape) >= 2 and shape[-2] <= 16 and draw(st.booleans()):
        if preserve and shape[-1] != shape[-2]:
            return None
        rank = len(shape)
        perm = list(range(rank - 2)) + [rank - 1, rank - 2]
        tt = b.op("Transpose", [t], shape[:-2] + (shape[-1], shape[-2]), perm=perm)
        return b.op("MatMul", [t, tt], shape[:-1] + (shape[-2],), note="MatMul x·xᵀ")
    other = t if draw(st.booleans()) else op_arith(draw, b, t, True)
    return b.op("Mul", [t, other], shape, note="Mul of two tensors")


def op_elementwise_nonlinear(draw, b: FuzzBuilder, t: str, preserve: bool):
    """Pow by a constant exponent, or a constant divided by the tensor (kept away from 0)."""
    shape = b.shapes[t]
    if draw(st.booleans()):
        exponent = draw(st.sampled_from([2.0, 3.0, 1.0]))
        e = b.const(np.array(exponent), "exponent")
        return b.op("Pow", [t, e], shape, note=f"Pow {exponent}")
    s = b.op("Sigmoid", [t], shape)
    d = b.op("Add", [s, b.const(np.array(0.5))], shape, note="Add 0.5")
    return b.op("Div", [b.const(np.array(2.0)), d], shape, note="Div 2 / x")


def op_qdq(draw, b: FuzzBuilder, t: str, preserve: bool):
    if b.float16:  # QuantizeLinear-13 takes float32 only
        return None
    shape = b.shapes[t]
    scale = b.const(np.array(draw(st.sampled_from([0.02, 0.05, 0.1]))), "q_scale")
    signed = draw(st.booleans())
    zp_value = np.array(0 if signed else 128, dtype=np.int8 if signed else np.uint8)
    zp = b.const(zp_value, "q_zp", dtype=zp_value.dtype)
    q = b.op("QuantizeLinear", [t, scale, zp], shape)
    return b.op("DequantizeLinear", [q, scale, zp], shape)


# ---- unknown ops ---------------------------------------------------------------------------------


def op_custom(draw, b: FuzzBuilder, t: str, preserve: bool):
    shape = b.shapes[t]
    if rare(draw, 8):
        b.domains["com.microsoft"] = 1
        return b.multi("Gelu", [t], [shape], "com.microsoft.Gelu", "com.microsoft")[0]
    fname = draw(st.sampled_from(["FuzzTanh", "FuzzSwish", "FuzzAbs", "FuzzSoftsign", "FuzzGate"]))
    if FUNCTIONS[fname][0] == 2:
        other = op_arith(draw, b, t, True) if draw(st.booleans()) else t
        ins = [t, other] if draw(st.booleans()) else [other, t]
        return b.custom(fname, ins, shape)
    return b.custom(fname, [t], shape)


# ---- branches and joins --------------------------------------------------------------------------


def _join(draw, b: FuzzBuilder, ys: list[str], preserve: bool) -> str:
    shape = b.shapes[ys[0]]
    rank = len(shape)
    choices = ["Add", "Add", "Sum", "Sub", "Mean", "Mul", "Max", "gate"]
    if not preserve and _small(b, ys[0], len(ys) + 1):
        choices += ["Concat", "Concat"]
    join = draw(st.sampled_from(choices))
    if join == "Concat":
        a = draw(st.integers(-rank, rank - 1))
        out = list(shape)
        out[a] = shape[a] * len(ys)
        return b.op("Concat", ys, tuple(out), note=f"join Concat axis={a}", axis=a)
    if join in ("Sum", "Mean", "Max"):
        return b.op(join, ys, shape, note=f"join {join}")
    if join == "gate":
        y = ys[0]
        for z in ys[1:]:
            y = b.custom("FuzzGate", [y, z], shape)
        return y
    y = ys[0]
    for z in ys[1:]:
        y = b.op(join, [y, z] if draw(st.booleans()) else [z, y], shape, note=f"join {join}")
    return y


def op_branch(draw, b: FuzzBuilder, t: str, preserve: bool, depth: int = 0):
    if depth >= 2:
        return None
    free = not preserve and rare(draw, 4)
    ys = []
    for _ in range(draw(st.integers(2, 3))):
        y = t
        for _ in range(draw(st.integers(0, 3))):
            y = step(draw, b, y, preserve=not free, depth=depth + 1)
        ys.append(y)
    groups: dict[tuple[int, ...], list[str]] = {}
    for y in ys:
        groups.setdefault(b.shapes[y], []).append(y)
    if b.shapes[t] in groups and len(groups[b.shapes[t]]) >= 2:
        main = groups[b.shapes[t]]
    else:
        main = max(groups.values(), key=len)
    for y in ys:  # branches that cannot be joined are graph outputs
        if y not in main and y != t:
            b.output(y)
    if len(main) < 2:
        return main[0]
    return _join(draw, b, main, preserve)


def op_if(draw, b: FuzzBuilder, t: str, preserve: bool, depth: int = 0):
    """If on a constant condition; each branch runs 1–3 shape-keeping steps on the outer ``t``."""
    if depth >= 1:
        return None
    shape = b.shapes[t]
    if any(n.op_type == "Cast" and t in n.output for n in b.nodes):
        # onnxruntime 1.2x (without graph optimizations) loses a Cast's output that only
        # If branches read ("Missing Input"); an Identity in between keeps it.
        t = b.op("Identity", [t], shape)
    cond = b.const(np.array(draw(st.booleans())), "cond", dtype=np.bool_)
    graphs = []
    for branch in ("then", "else"):
        outer, b.nodes = b.nodes, []
        shared, b._weights = b._weights, {}  # a weight made inside is not visible outside
        b.sketch.append(f"If {branch} branch:")
        y = t
        for _ in range(draw(st.integers(1, 3))):
            y = step(draw, b, y, preserve=True, depth=2)
        if not b.nodes or b.nodes[-1].output[0] != y:
            y = b.op("Identity", [y], shape)
        body, b.nodes, b._weights = b.nodes, outer, shared
        out = helper.make_tensor_value_info(y, b.elem, list(shape))
        graphs.append(helper.make_graph(body, f"{branch}_{b.fresh('g')}", [], [out]))
    return b.op("If", [cond], shape, then_branch=graphs[0], else_branch=graphs[1])


def op_second_input(draw, b: FuzzBuilder, t: str, preserve: bool):
    """A second graph input of t's shape, maybe through a linear op, joined to t."""
    shape = b.shapes[t]
    x2 = b.input(shape)
    b.sketch.append(f"second input {list(shape)}")
    if draw(st.booleans()):
        x2 = (
            draw(st.sampled_from([op_matmul, op_arith, op_conv, op_batchnorm]))(draw, b, x2, True)
            or x2
        )
    join = draw(st.sampled_from(["Add", "Sub", "Concat"] if not preserve else ["Add", "Sub"]))
    if join == "Concat" and _small(b, t, 2):
        a = draw(st.integers(0, len(shape) - 1))
        out = list(shape)
        out[a] *= 2
        return b.op("Concat", [t, x2], tuple(out), note=f"Concat with input axis={a}", axis=a)
    return b.op("Add" if join != "Sub" else "Sub", [t, x2], shape, note=f"{join} with input")


# ---- motifs: modelgen's linear structure, grown on the current tensor ---------------------------


def op_motif(draw, b: FuzzBuilder, t: str, preserve: bool):
    """2–3 convs with affines, pads and pools between; a branch set; or a Gemm/MatMul chain."""
    shape = b.shapes[t]
    if preserve:
        return None
    if 3 <= len(shape) <= 5 and shape[1] <= MAX_CHANNELS_FOR_CONV:
        if shape[0] == 1 and draw(st.integers(0, 2)) == 0:  # modelgen's branch sets: batch 1
            return branch_block(draw, b, t)
        n_convs = draw(st.integers(2, 3))
        t = conv_chain_between(draw, b, t, before_conv=True, first=True)
        for i in range(n_convs):
            if i == 0 and _small(b, t) and rare(draw, 4):
                t = conv_transpose(draw, b, t)
            else:
                t = conv(draw, b, t, unpadded=25 if i == 0 else 70)
            t = conv_chain_between(draw, b, t, before_conv=i + 1 < n_convs)
        width = numel(b.shapes[t][1:])
        if width <= 256 and rare(draw, 4):  # Conv → Flatten → Gemm / MatMul
            rows = b.shapes[t][0]
            t = b.op("Flatten", [t], (rows, width), axis=1)
            n = widths(draw)
            op = draw(st.sampled_from(["Gemm", "MatMul"]))
            t = b.op(op, [t, b.weight((width, n), width)], (rows, n), note=f"{op} {width}->{n}")
        return t
    if len(shape) < 2 or shape[-1] > 64:
        return None
    if draw(st.booleans()):  # MatMul/Gemm → shape ops on any axis → MatMul/Gemm
        t = draw(st.sampled_from([op_matmul, op_gemm]))(draw, b, t, False) or t
        for _ in range(draw(st.integers(1, 2))):
            what = draw(st.sampled_from([op_squeeze, op_squeeze, op_reshape, op_flatten]))
            t = what(draw, b, t, False) or t
        if b.shapes[t] and b.shapes[t][-1] <= 64:
            t = draw(st.sampled_from([op_matmul, op_gemm]))(draw, b, t, False) or t
        return t
    return dense_chain(draw, b, t, draw(st.integers(2, 3)))


# ---- the step and the strategy -------------------------------------------------------------------

#: The ops of each family, with how often each is drawn.
OPS = {
    "linear": {op_conv: 3, op_matmul: 3, op_gemm: 2, op_conv_auto_pad: 1, op_conv_transpose: 1}
    | {op_einsum: 1},
    "affine": {op_batchnorm: 1, op_arith: 2, op_identity_like: 1, op_pad: 1, op_avgpool: 1}
    | {op_reduce: 1, op_resize: 1, op_single_join: 1, op_cast_round_trip: 1},
    "shape": {op_reshape: 1, op_transpose: 1, op_flatten: 1, op_squeeze: 1, op_slice: 1}
    | {op_split: 1, op_concat_self: 1, op_gather: 1, op_tile: 1, op_depth_space: 1},
    "nonlinear": {op_activation: 2, op_softmax: 1, op_layernorm: 1, op_maxpool: 1}
    | {op_decomposed: 1, op_dynamic_product: 1, op_qdq: 1, op_instancenorm: 1}
    | {op_elementwise_nonlinear: 1},
    "unknown": {op_custom: 1},
    "motif": {op_motif: 1},
}
#: How often each family is drawn, per kind of model: "mixed" has everything; "linear" has
#: no barriers, so that long affine regions run through shape ops and joins; "barriers" has
#: many nonlinear and unknown ops among the linear ones. Branch sets come on top (depth < 2).
MIXES = {
    "mixed": {"linear": 4, "affine": 3, "shape": 2, "nonlinear": 2, "unknown": 1, "motif": 3},
    "linear": {"linear": 4, "affine": 3, "shape": 3, "motif": 2},
    "barriers": {"linear": 3, "affine": 1, "shape": 1, "nonlinear": 3, "unknown": 2, "motif": 1},
}


def _weighted(weights: dict) -> list:
    return [k for k, n in weights.items() for _ in range(n)]


def step(draw, b: FuzzBuilder, t: str, preserve: bool = False, depth: int = 0) -> str:
    """One op (or a branch set) on ``t``; with ``preserve``, the output has t's shape."""
    for _ in range(4):
        cat = draw(st.sampled_from(_weighted(MIXES[b.mix]) + ["branch"] * (2 if depth < 2 else 0)))
        if cat == "branch":
            out = op_branch(draw, b, t, preserve, depth)
        elif cat == "linear" and rare(draw, 30) and depth == 0:
            out = op_second_input(draw, b, t, preserve)
        elif cat == "shape" and rare(draw, 12) and depth == 0:
            out = op_if(draw, b, t, preserve, depth)
        else:
            out = draw(st.sampled_from(_weighted(OPS[cat])))(draw, b, t, preserve)
        if out is not None and numel(b.shapes[out]) <= 2 * MAX_ELEMS and b.shapes[out]:
            return out
        if out is not None:
            b.output(out)  # too big or a scalar to go on from: an output, start again from t
    return identity_activation(draw, b, t)


def _input(draw, b: FuzzBuilder) -> str:
    kind = draw(st.sampled_from(["conv2d", "conv2d", "conv1d", "dense", "dense3", "conv3d"]))
    batch = draw(st.sampled_from([1, 1, 2]))
    if kind.startswith("conv"):
        nd = {"conv1d": 1, "conv2d": 2, "conv3d": 3}[kind]
        top = {1: 12, 2: 8, 3: 4}[nd]
        shape = (batch, draw(st.integers(1, 6))) + tuple(
            draw(st.integers(1, top)) for _ in range(nd)
        )
    elif kind == "dense":
        shape = (batch * draw(st.integers(1, 3)), draw(st.integers(1, 8)))
    else:
        shape = (batch, draw(st.integers(1, 4)), draw(st.integers(1, 8)))
    symbolic: tuple[int, ...] = ()
    if rare(draw, 4):  # symbolic dims: the feeds still have the drawn sizes
        rank = len(shape)
        symbolic = draw(st.sampled_from([(0,), tuple(range(1, rank)), tuple(range(rank))]))
    b.sketch.append(f"input {list(shape)} symbolic={list(symbolic)}")
    return b.input(shape, symbolic)


@st.composite
def fuzz_models(draw) -> FuzzGenerated:
    """A random model: a chain of 2–MAX_STEPS steps, each an op of any family or a branch set."""
    constants = draw(st.sampled_from(["initializers", "initializers", "nodes", "mixed"]))
    share = rare(draw, 10)
    float16 = rare(draw, 10)
    b = FuzzBuilder(draw(seeds()), constants, share, float16)
    b.mix = draw(st.sampled_from(["mixed", "mixed", "linear", "barriers"]))
    b.opset = draw(st.sampled_from([OPSET, OPSET, 18, 19, 21]))
    b.value_info = draw(st.integers(0, 2)) == 0
    b.unnamed = rare(draw, 10)
    b.sketch.append(
        f"opset={b.opset} mix={b.mix} constants={constants} share={share} float16={float16} "
        f"value_info={b.value_info} unnamed={b.unnamed}"
    )
    t = _input(draw, b)
    for _ in range(draw(st.integers(2, MAX_STEPS))):
        t = step(draw, b, t)
        if rare(draw, 25):
            b.output(t)  # an intermediate tensor that is also a graph output
    b.output(t)
    return b.build()


# ---- the properties ------------------------------------------------------------------------------

#: Tolerances per output dtype: (rtol, atol per unit of output magnitude, input perturbation).
TOLERANCES = {np.float32: (1e-4, 1e-4, 1e-5), np.float16: (2e-2, 2e-2, 5e-3)}
NOISE_FACTOR = 10.0  # outputs may differ by this many times what a tiny input change makes


@dataclass
class Outcome:
    """What happened to one model: counts for the campaign, and the failed properties."""

    checked: bool = False
    findings: int = 0
    codes: tuple[str, ...] = ()
    folded: bool = False  # fold ran without error
    folded_something: bool = False
    verified: bool = False  # outputs compared (and matched) after a fold that changed the model
    linlint_verify_ok: bool | None = None
    failures: list[tuple[str, str]] = field(default_factory=list)

    def fail(self, kind: str, message: str) -> None:
        self.failures.append((kind, message))


def session(model: onnx.ModelProto):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.log_severity_level = 4  # a run that fails is reported as a failure, not logged
    return ort.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )


def compare_outputs(model, folded, feeds) -> str | None:
    """None when every output of ``folded`` matches ``model``'s on ``feeds``, else why not.

    The bound per output is ``atol·magnitude + rtol·|want| + NOISE_FACTOR·noise``, where
    ``noise`` is how much the original's output moves when the inputs move by a relative
    ``perturbation`` (two tries): a nonlinearity that amplifies rounding (LayerNorm over two
    nearly equal values) widens its own bound; a wrong fold is off by far more.
    """
    names = [o.name for o in model.graph.output]
    if [o.name for o in folded.graph.output] != names:
        return f"output names changed: {[o.name for o in folded.graph.output]} != {names}"
    original = session(model)
    want = original.run(None, feeds)
    got = session(folded).run(None, feeds)
    rng = np.random.default_rng(0)
    noisy = []
    dtype = next(iter(feeds.values())).dtype.type if feeds else np.float32
    rtol, atol, eps = TOLERANCES.get(dtype, TOLERANCES[np.float32])
    for _ in range(2):
        moved = {
            k: (v * (1 + eps * rng.standard_normal(v.shape))).astype(v.dtype)
            for k, v in feeds.items()
        }
        noisy.append(original.run(None, moved))
    for i, (name, w, g) in enumerate(zip(names, want, got, strict=True)):
        if g.shape != w.shape or g.dtype != w.dtype:
            return f"output {name}: {g.dtype}{list(g.shape)} != {w.dtype}{list(w.shape)}"
        if w.dtype.kind != "f":
            if not np.array_equal(w, g):
                return f"output {name} (integer) differs"
            continue
        w64, g64 = w.astype(np.float64), g.astype(np.float64)
        if not np.isfinite(w64).all():
            continue  # an overflow in the original proves nothing either way
        magnitude = float(np.max(np.abs(w64), initial=0.0))
        noise = max(
            float(np.max(np.abs(n[i].astype(np.float64) - w64), initial=0.0)) for n in noisy
        )
        if not np.isfinite(noise):
            continue
        bound = atol * max(magnitude, 1e-3) + rtol * np.abs(w64) + NOISE_FACTOR * noise
        error = np.abs(g64 - w64)
        if not np.isfinite(g64).all() or (error > bound).any():
            worst = float(np.nanmax(np.where(np.isfinite(error), error, np.inf)))
            return (
                f"output {name} differs after folding: max abs error {worst:.3g} for "
                f"magnitude {magnitude:.3g} (noise {noise:.3g})"
            )
    return None


def _barrier_hits(gen: FuzzGenerated, findings) -> list[str]:
    hits = []
    for f in findings:
        bad = [n for n in f.nodes if n in gen.barriers]
        if bad:
            kinds = ", ".join(f"{n} ({gen.barriers[n]})" for n in bad)
            hits.append(f"{f.code} names nonlinear node(s) {kinds}: {f.message}")
    return hits


def _all_nodes(graph: onnx.GraphProto):
    for node in graph.node:
        yield node
        for a in node.attribute:
            for g in [a.g] if a.type == onnx.AttributeProto.GRAPH else a.graphs:
                yield from _all_nodes(g)


def _lost_barriers(gen: FuzzGenerated, folded: onnx.ModelProto) -> list[str]:
    """Nonlinear nodes of the original that the folded model no longer has."""
    kept = {n.name: n.op_type for n in _all_nodes(folded.graph) if n.name}
    lost = [n for n, op in gen.barriers.items() if not n.startswith("#")]
    lost = [n for n in lost if kept.get(n) != gen.barriers[n].split(".")[-1]]
    unnamed = [op.split(".")[-1] for n, op in gen.barriers.items() if n.startswith("#")]
    have = [n.op_type for n in folded.graph.node]
    for op in sorted(set(unnamed)):  # unnamed: as many of each op type as before
        if have.count(op) < unnamed.count(op):
            lost.append(f"{unnamed.count(op) - have.count(op)} unnamed {op}")
    return lost


def run_properties(gen: FuzzGenerated, allow_growth: bool) -> Outcome:
    """Every fuzz property on one model; failures are collected, never raised."""
    import linlint

    out = Outcome()
    model = gen.model
    try:
        onnx.checker.check_model(model, full_check=True)
        session(model).run(None, gen.feeds)
    except Exception as e:  # the generator broke its promise: not an engine bug
        out.fail("generator", f"{type(e).__name__}: {e}")
        return out
    before = model.SerializeToString()

    try:
        findings = linlint.check(model)
    except Exception:
        out.fail("check crashed", traceback.format_exc(limit=-6))
        return out
    out.checked, out.findings = True, len(findings)
    out.codes = tuple(sorted(f.code for f in findings))
    for hit in _barrier_hits(gen, findings):
        out.fail("finding names a nonlinear node", hit)

    try:
        result = linlint.fold(model, verify=False, allow_growth=allow_growth)
    except Exception:
        out.fail("fold crashed", traceback.format_exc(limit=-6))
        return out
    out.folded, out.folded_something = True, bool(result.folded)
    if model.SerializeToString() != before:
        out.fail("fold changed its input", "the ModelProto given to fold was modified")
    folded = result.model
    try:
        onnx.checker.check_model(folded, full_check=True)
    except Exception as e:
        out.fail("folded model invalid", f"{type(e).__name__}: {e}")
        return out
    lost = _lost_barriers(gen, folded)
    if lost:
        out.fail("fold removed a nonlinear node", f"{lost} are gone from the folded model")
    try:
        problem = compare_outputs(model, folded, gen.feeds)
    except Exception as e:
        problem = f"onnxruntime cannot run the folded model: {type(e).__name__}: {e}"
    if problem:
        out.fail("folded model computes something else", problem)
    elif result.folded:
        out.verified = True
    if result.folded and not gen.dynamic and not problem:
        verification = linlint.verify(model, folded)
        out.linlint_verify_ok = verification.ok
        if not verification.ok:
            out.fail("linlint.verify rejects a correct fold", verification.summary())
    if not gen.unnamed:  # (#index labels of the folded model are not the original's)
        for hit in _barrier_hits(gen, result.remaining):
            out.fail("remaining finding names a nonlinear node", hit)

    try:
        again = linlint.fold(folded, verify=False, allow_growth=allow_growth)
    except Exception:
        out.fail("fold of the folded model crashed", traceback.format_exc(limit=-6))
        return out
    if again.folded:
        what = "; ".join(f"{r.code} {list(r.nodes)}" for r in again.folded)
        out.fail("fold is not idempotent", f"a second fold folded more: {what}")
    return out


__all__ = [
    "FuzzBuilder",
    "FuzzGenerated",
    "Outcome",
    "compare_outputs",
    "fuzz_models",
    "run_properties",
]
