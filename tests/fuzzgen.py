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
* affine: BatchNormalization (opsets 7–8: ``spatial=0`` too), Add/Sub/Mul/Div/
  Neg with constants of every broadcastable shape (one of more rank than the
  tensor too), Pad (constant with any value, edge, reflect, wrap, crops, an
  ``axes`` input), AveragePool (pads, ``auto_pad`` SAME with strides,
  dilations, count_include_pad, ``ceil_mode`` — k2 s2 on odd sizes too),
  GlobalAveragePool, ReduceMean/ReduceSum, Resize (``axes`` too), Identity,
  Dropout, LeakyRelu(alpha=1), Clip without bounds, Sum/Mean/Concat of one
  tensor, Cast to another float type and back;
* shape: Reshape (0 and -1 entries, allowzero), Transpose, Flatten, Squeeze
  (with or without axes), Unsqueeze, Slice (negative steps too), Split (parts
  concatenated back in any order, or made graph outputs, or left unused;
  ``num_outputs``), Concat, Gather (scalar indices too), Tile,
  DepthToSpace/SpaceToDepth;
* branches and joins: 2–3 branches from one tensor joined by Add, Sub, Sum,
  Mean, Concat (linear), Mul, Max, or an unknown two-input op (nonlinear); a
  second graph input joined in (different sources); two MatMul branches whose
  tails differ (unsqueezed at axes 0 and 1, or reshaped to [1, -1, d] and
  [-1, 1, d]) added with broadcasting; ConvTranspose(x) +
  GlobalAveragePool(Relu(x)) then a biased 1x1 → padded 3x3 Conv; a channel
  broadcast (x[N, 1, ...] · c[1, C, 1, ...]) before a Conv; intermediate
  tensors that are also graph outputs;
* If: on a constant, a boolean graph input, an initializer that is also a
  graph input (IR >= 4), or the data (``ReduceSum(x) > 0`` of the first input
  or of the current tensor); branches read the outer tensor, keep their
  weights as initializers of their own sometimes, may nest an If; an If may
  read a tensor that then goes on into a foldable region (an outer-scope read
  of a region's inside); Loop of 1–3 iterations carrying the tensor (the
  body's regions start at a body input, declared with or without a shape);
* sources of unknown size: the tensor gathered by ``Range(0, Shape(t)[a])``,
  by ``NonZero`` of ones or of a mask computed from the values (a barrier),
  TopK's values (a barrier); graph inputs with symbolic dims, dims of no size,
  or no shape at all;
* nonlinear: Relu, Sigmoid, Tanh, LeakyRelu with a random alpha (1 included,
  which is the identity), Clip with bounds, Elu, Softplus, Abs, Gelu (opset
  20+), Pow, a constant divided by the tensor, MaxPool, Softmax, LogSoftmax,
  LayerNormalization, InstanceNormalization, decomposed GELU / Swish /
  HardSwish, Mul and MatMul of two non-constant tensors, QuantizeLinear →
  DequantizeLinear;
* unknown: ops of the custom domain ``fuzz.custom`` (one and two inputs),
  runnable in onnxruntime because each ships as a model-local function with a
  nonlinear body, and ``com.microsoft`` Gelu;
* integer regions (int8/int32/int64 inputs): MatMul by integer constants
  (small, all ones, or large enough that products of two overflow), Add/Sub/
  Mul/Neg by constants, Div by constants (truncating: a barrier; ``MatMul(x,
  ones[k, 1])`` then ``Div(·, 10)`` too), ``Relu(Abs(x))`` (Abs(INT_MIN) =
  INT_MIN: the Relu is a barrier), ReduceSum, Einsum, shape ops, then maybe a
  Cast to a float type (a barrier) and float steps.

Around that (``fuzz_models``): float32, float16 (now and then weights whose
products pass 65504, inputs scaled down), float64 or integer inputs; opsets
17–21, 11–16 (Squeeze/Unsqueeze/ReduceSum axes and Split sizes as attributes,
Resize with a roi, Dropout without a ratio input, ...), and 4, 7, 8 (Pad, Clip,
Slice attributes, non-negative axes, Reshape-1 with its shape attribute;
only what onnxruntime still runs there); IR 3 (every initializer also a graph
input, a constant all the same) or IR >= 4 with some float initializers also
graph inputs (overridable defaults); sparse initializers and sparse Constant
values; external data (the properties fold from the file); non-finite
constants (an Inf in a weight, a 0 in a divisor); constants as initializers
(raw or typed fields) or Constant nodes (``value``, ``value_ints``,
``value_float(s)``), sometimes shared; value_info for every tensor or none; now
and then no node names at all. Mixes weight the families: everything, linear
families only (long affine regions through shape ops and joins),
barrier-heavy, integer, old-opset, and size-agnostic (images or [..., k]
tensors of symbolic size, only ops that run at every size, so that the judge
can run them at other sizes). A step that emits an op the opset does not have,
or that onnxruntime has no kernel for in the tensor's type, is rolled back
(``FuzzBuilder.checkpoint``). ``PENDING`` lists the features that find engine
bugs not fixed yet (CI holds them back).

``FuzzGenerated.barriers`` maps every node that is nonlinear *on its actual
input* to its op type (a Relu on a tensor that is already non-negative is
not — unless the tensor is an integer Abs; a LeakyRelu with alpha 1 is not;
an integer Div is; a Cast into or out of integers is; If counts as one): no
finding may name one of them. Unnamed models key them ``#index``. Models are
small (a tensor never grows much past ``MAX_ELEMS`` elements), valid for
``onnx.checker`` (full check; see ``_checkable`` for inputs of unknown rank
and sparse initializers) and runnable by onnxruntime on ``Generated.feeds``.

``fuzz_models()`` is the strategy; ``run_properties(gen, allow_growth)`` runs
every property on one model and returns an ``Outcome`` (used by
``tests/test_fuzz.py`` and ``bench/fuzz.py``): check and fold raise nothing
but ``LinlintError``; no finding names a barrier; fold leaves its input alone
and writes a valid model (with external data when it came from a file) that
keeps every barrier and computes the original's outputs on the drawn inputs
(``compare_outputs``) and on inputs the fold never saw (``judge``: other sizes
for every open dim, extreme values, negated inputs and flipped boolean inputs
for both If branches, other values for overridable initializers — integers
exactly, floats within ``JUDGE_TOLERANCE``); what check reports exact under a
foldable rule is folded or refused (``disagreements``); fold's remaining
findings are check's of the folded model; a second fold folds nothing.
"""

from __future__ import annotations

import math
import tempfile
import traceback
from dataclasses import dataclass, field
from pathlib import Path

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
    channel_affine,
    conv,
    conv_transpose,
    identity_activation,
    out_size,
    seeds,
    zero_pad,
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
        "TopK",
        "Greater",
        "Less",
        "If",  # control flow: a barrier, whatever its branches compute
        "Loop",
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
    """A generated model plus the names of its nonlinear nodes (name -> op type).

    ``external``: the properties save the model with its weights in a ``.data`` file and
    check and fold it from the path. ``features`` names the model-wide options drawn
    (dtype, IR, opset range, sparse, overridable initializers, ...), for coverage counts.
    """

    barriers: dict[str, str] = field(default_factory=dict)
    op_types: dict[str, str] = field(default_factory=dict)
    unnamed: bool = False  # main-graph nodes have no names (barriers are keyed "#index")
    external: bool = False
    features: tuple[str, ...] = ()

    @property
    def dynamic(self) -> bool:
        """Whether some graph input has a dim without a fixed size, or no shape at all."""
        inits = {t.name for t in self.model.graph.initializer}
        for vi in self.model.graph.input:
            if vi.name in inits:
                continue
            tt = vi.type.tensor_type
            if not tt.HasField("shape") or any(not d.HasField("dim_value") for d in tt.shape.dim):
                return True
        return False


# ---- the builder --------------------------------------------------------------------------------

#: numpy dtype -> ONNX element type, for every dtype a model (or a region of one) may have.
ELEM = {
    np.dtype(np.float32): TensorProto.FLOAT,
    np.dtype(np.float16): TensorProto.FLOAT16,
    np.dtype(np.float64): TensorProto.DOUBLE,
    np.dtype(np.int8): TensorProto.INT8,
    np.dtype(np.int32): TensorProto.INT32,
    np.dtype(np.int64): TensorProto.INT64,
    np.dtype(np.bool_): TensorProto.BOOL,
    np.dtype(np.uint8): TensorProto.UINT8,
}
NUMPY = {v: k.type for k, v in ELEM.items()}
FLOAT_ELEMS = frozenset({TensorProto.FLOAT, TensorProto.FLOAT16, TensorProto.DOUBLE})
INT_ELEMS = frozenset({TensorProto.INT8, TensorProto.INT32, TensorProto.INT64})
_SHAPE_OPS = {"Identity", "Reshape", "Transpose", "Flatten", "Squeeze", "Unsqueeze", "Slice"} | {
    "Split", "Concat", "Gather", "Tile", "Pad", "Cast", "If", "Shape", "Constant", "Range",
    "ConstantOfShape", "NonZero",
}  # fmt: skip
#: The ops onnxruntime's CPU provider runs on integer tensors (probed on 1.2x; Relu on int8
#: and int32 from opset 14): an integer step that emits another op is rolled back.
INT_KERNELS = {
    TensorProto.INT8: _SHAPE_OPS | {"Add", "Sub", "Mul", "Div", "Neg", "Abs", "Relu", "Max"},
    TensorProto.INT32: _SHAPE_OPS
    | {"Add", "Sub", "Mul", "Div", "Neg", "Abs", "Relu", "Max", "MatMul", "ReduceSum", "Einsum"}
    | {"TopK"},
    TensorProto.INT64: _SHAPE_OPS
    | {"Add", "Sub", "Mul", "Div", "Neg", "Abs", "Max", "MatMul", "ReduceSum", "Einsum", "TopK"},
}
#: Ops onnxruntime's CPU provider has no float64 kernel for (probed): rolled back.
NO_DOUBLE_KERNEL = frozenset(
    {"Conv", "ConvTranspose", "AveragePool", "GlobalAveragePool", "Resize", "Elu", "Softplus"}
    | {"Erf", "InstanceNormalization", "LeakyRelu", "Gelu", "Mean", "QuantizeLinear", "Softsign"}
)
#: Below opset 7, onnxruntime runs only these (no Add, Mul, Relu, BatchNormalization...).
LEGACY_KERNELS = frozenset(
    {"Conv", "ConvTranspose", "MatMul", "Transpose", "Flatten", "Reshape", "Identity"}
    | {"GlobalAveragePool", "Concat", "Squeeze", "Unsqueeze", "Pad", "Slice", "Gather"}
    | {"Softmax", "MaxPool", "Split", "ReduceMean", "ReduceSum", "If", "DepthToSpace", "Constant"}
)
_BOOL_OUT = {"Greater", "Less", "Equal", "Not", "And", "Or", "GreaterOrEqual", "LessOrEqual"}
_INT64_OUT = {"Shape", "NonZero", "ArgMax", "ArgMin", "Size"}
#: Ops whose axis attributes may be negative only from opset 11 (before: counted from 0).
_AXIS_OPS = {"Squeeze", "Unsqueeze", "Concat", "Flatten", "Gather", "Split", "Softmax"} | {
    "LogSoftmax",
    "ReduceMean",
    "ReduceSum",
    "Slice",
}


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
    """modelgen's Builder, plus barrier bookkeeping, custom functions, names, dtypes, opsets.

    Every tensor has an element type (``elems``); the model's current one (``dtype``) is
    what new inputs, weights and constants get, and changes after a Cast out of an integer
    region. ``checkpoint``/``rollback`` undo a step that emitted an op the opset or
    onnxruntime does not have (``unsupported``).
    """

    def __init__(
        self, seed: int, constants: str = "initializers", share: bool = False, dtype=np.float32
    ):
        super().__init__(seed, constants, share)
        self.set_dtype(dtype)
        self.barriers: dict[str, str] = {}
        self.op_types: dict[str, str] = {}
        self.nonneg: set[str] = set()
        self.consts: set[str] = set()
        self.opaque: set[str] = set()  # tensors onnx's shape inference has no size for
        self.weight_names: set[str] = set()  # the weights of linear ops (may become sparse)
        self.values: dict[str, np.ndarray] = {}  # every constant's value (axes -> attributes)
        self.elems: dict[str, int] = {}
        self.functions: dict[str, onnx.FunctionProto] = {}
        self.domains: dict[str, int] = {}
        self.mix = "mixed"  # which entry of MIXES step() draws from
        self.opset = OPSET  # the default domain's version; ops draw the forms it allows
        self.ir = 0  # the model's IR version; 0: the lowest its opsets allow (at least 8)
        self.value_info = False  # keep the shapes onnx infers for every tensor, as exports do
        self.unnamed = False  # no node names: findings then say #index
        self.overridable = 0  # initializers (IR >= 4) also declared as graph inputs, at most
        self.force_inputs: set[str] = set()  # initializers that must be graph inputs too
        self.sparse = False  # some initializers / Constant values become sparse tensors
        self.big_weights = False  # some weights x256, inputs /256: fp16 products past 65504
        self.nonfinite = False  # weights with an Inf, Div by constants holding a 0
        self.input_scale = 1.0
        self.held_back: frozenset[str] = frozenset()  # PENDING features not to draw
        self.external = False  # the properties fold it from a file with a .data file beside
        self.first_input = ""
        self.nesting = 0  # If bodies being built around the current step
        self.features: set[str] = set()

    def set_dtype(self, dtype) -> None:
        self.dtype = np.dtype(dtype).type
        self.elem = ELEM[np.dtype(dtype)]

    @property
    def float16(self) -> bool:
        return self.dtype == np.float16

    @property
    def is_int(self) -> bool:
        return self.elem in INT_ELEMS

    def elem_of(self, name: str) -> int:
        return self.elems.get(name, self.elem)

    def body_dims(self, name: str) -> list:
        """The dims to declare for a subgraph's input or output ``name``: its sizes, or (when
        a graph input leaves sizes open) a dim_param per axis: a body declared with the
        drawn sizes would claim them for every size the model runs at."""
        open_sizes = any(
            not vi.type.tensor_type.HasField("shape")
            or any(not d.HasField("dim_value") for d in vi.type.tensor_type.shape.dim)
            for vi in self.inputs
        )
        shape = self.shapes[name]
        return [f"{name}_d{a}" for a in range(len(shape))] if open_sizes else list(shape)

    def input(self, shape, symbolic=(), decl: str = "dims", dtype=None) -> str:
        """A graph input; ``symbolic`` axes get a dim_param (``decl="dims"``), no size at all
        (``"unknown"``), or the input has no shape (``"rank"``). Feeds have the drawn sizes."""
        dtype = np.dtype(dtype or self.dtype)
        elem = ELEM[dtype]
        name = self.fresh("x")
        if decl == "rank":
            info = helper.make_tensor_value_info(name, elem, None)
        else:
            unknown = decl == "unknown"
            dims = [
                (None if unknown else f"{name}_d{a}") if a in symbolic else n
                for a, n in enumerate(shape)
            ]
            info = helper.make_tensor_value_info(name, elem, dims)
        self.inputs.append(info)
        self.shapes[name] = tuple(shape)
        self.elems[name] = elem
        if dtype == np.bool_:
            feed = self.rng.integers(0, 2, shape).astype(np.bool_)
        elif elem in INT_ELEMS:
            top = 8 if dtype == np.int8 else 20
            feed = self.rng.integers(-top, top + 1, shape).astype(dtype)
        else:
            feed = (self.rng.standard_normal(shape) * self.input_scale).astype(dtype)
        self.feeds[name] = np.asarray(feed)
        self.first_input = self.first_input or name
        return name

    def const(self, array, prefix: str = "c", dtype=None, where: str = "") -> str:
        """A constant of the current dtype, or of ``dtype`` when given; ``where="init"``
        makes it an initializer whatever the model's constants option."""
        dtype = dtype or self.dtype
        name = self.fresh(prefix)
        array = np.asarray(array, dtype=dtype)
        tensor = numpy_helper.from_array(array, name)
        as_node = (
            where != "init"
            and self.opset >= 9  # Constant-1 holds floats only
            and (
                self.constants == "nodes"
                or (self.constants == "mixed" and self.rng.integers(2) == 1)
            )
        )
        # Exporters also write constants as typed attributes (value_ints, value_float,
        # value_floats; opset 12 on) and initializers as typed fields (float_data, int64_data),
        # not raw bytes.
        plain = self.rng.integers(3) == 0 and (self.opset >= 12 or not as_node) and array.size
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
        elif plain and dtype in (np.float32, np.int64, np.int32, np.float64):
            elem = ELEM[np.dtype(dtype)]
            values = array.ravel().tolist()
            self.inits.append(helper.make_tensor(name, elem, array.shape, values, raw=False))
        else:
            self.inits.append(tensor)
        self.shapes[name] = tuple(np.shape(array))
        self.elems[name] = ELEM[np.dtype(dtype)]
        self.values[name] = array
        self.consts.add(name)
        return name

    def ints(self, values, prefix: str = "i") -> str:
        return self.const(np.array(values, dtype=np.int64), prefix, dtype=np.int64)

    def weight(self, shape, fan_in: int) -> str:
        shape = tuple(shape)
        key = (shape, self.elem)
        if self.share and key in self._weights and self.rng.integers(2) == 1:
            return self._weights[key]
        if self.is_int:
            w = self._int_weight(shape)
        else:
            w = self.rng.standard_normal(shape) / math.sqrt(max(fan_in, 1))
            if self.big_weights and self.rng.integers(2) == 0:
                w = w * 256.0  # two of these multiplied: entries past float16's 65504
            if self.nonfinite and w.size and self.rng.integers(4) == 0:
                w.flat[self.rng.integers(w.size)] = self.rng.choice([np.inf, -np.inf])
        self._weights[key] = self.const(w, "w")
        self.weight_names.add(self._weights[key])
        return self._weights[key]

    def _int_weight(self, shape) -> np.ndarray:
        kind = self.rng.integers(4)
        if kind == 0:
            return np.ones(shape, dtype=np.int64)
        if kind == 1 and self.dtype != np.int8:  # products of two overflow the dtype
            top = 2**20 if self.dtype == np.int32 else 2**40
            magnitude = self.rng.integers(top // 16, top, shape)
            return magnitude * self.rng.choice([-1, 1], shape)
        return self.rng.integers(-3, 4, shape)

    def vector(self, shape, kind: str) -> np.ndarray:
        """'scale' stays away from 0 (integers: never 0 or -1, Div(INT_MIN, -1) traps),
        'shift' is small; with ``nonfinite``, a float scale sometimes holds a 0."""
        if self.is_int:
            if kind == "scale":
                return self.rng.choice([1, 2, 3, 4, 5, 10, -2, -3, -10], shape)
            return self.rng.integers(-5, 6, shape)
        v = super().vector(shape, kind)
        if self.nonfinite and kind == "scale" and v.size and self.rng.integers(3) == 0:
            v = np.array(v, dtype=np.float64)
            v.flat[self.rng.integers(v.size)] = 0.0  # Div by it: ±Inf
        return v

    def op(self, op_type, inputs, shape, note: str = "", **attrs) -> str:
        return self.multi(op_type, inputs, [shape], note, **attrs)[0]

    def multi(self, op_type, inputs, shapes, note: str = "", domain: str = "", **attrs):
        """A node with one output per shape; records whether it is a barrier on its input.

        Attributes starting with ``_`` are bookkeeping: ``_bounds`` (Clip's bounds),
        ``_elems`` (the outputs' element types when they differ from the input's),
        ``_barrier`` (nonlinear whatever the op: e.g. a Gather by data-dependent indices).
        """
        bounds = attrs.pop("_bounds", None)
        elems = attrs.pop("_elems", None)
        forced = attrs.pop("_barrier", False)
        inputs = list(inputs)
        if not domain:
            inputs = self._legalize(op_type, inputs, shapes, attrs)
        outs = [self.fresh(op_type.lower()) for _ in shapes]
        name = self.fresh(op_type)
        extra = {"domain": domain} if domain else {}
        self.nodes.append(
            helper.make_node(op_type, list(inputs), outs, name=name, **extra, **attrs)
        )
        in_elem = next((self.elem_of(t) for t in inputs if t), self.elem)
        if elems is None:
            elems = [self._out_elem(op_type, inputs, attrs, in_elem)] * len(shapes)
        for o, s, e in zip(outs, shapes, elems, strict=True):
            self.shapes[o] = tuple(s)
            self.elems[o] = e
        self.sketch.append(note or op_type)
        self.op_types[name] = op_type
        if any(t in self.opaque for t in inputs) or op_type == "Einsum":
            self.opaque.update(outs)  # (onnx infers no shape for some Einsums either)
        dynamic = [t for t in inputs if t and t not in self.consts]
        if forced or self._nonlinear(op_type, domain, inputs, dynamic, attrs, bounds, in_elem):
            self.barriers[name] = op_type if not domain else f"{domain}.{op_type}"
        nonneg_out = op_type in _NONNEG_OUTPUT and not (op_type == "Abs" and in_elem in INT_ELEMS)
        if not domain and (
            nonneg_out
            or (op_type in _NONNEG_KEEP and dynamic and all(t in self.nonneg for t in dynamic))
        ):
            self.nonneg.update(outs)
        return outs

    def _out_elem(self, op_type, inputs, attrs, in_elem) -> int:
        if op_type == "Cast":
            return attrs["to"]
        if op_type in _INT64_OUT:
            return TensorProto.INT64
        if op_type in _BOOL_OUT:
            return TensorProto.BOOL
        if op_type == "QuantizeLinear":
            return self.elem_of(inputs[2])
        if op_type == "DequantizeLinear":
            return self.elem_of(inputs[1])
        return in_elem

    def _legalize(self, op_type, inputs, shapes, attrs) -> list[str]:
        """The op in the form its opset has: constant inputs that were attributes before."""
        v = self.opset

        def values(name):
            return [int(x) for x in np.ravel(self.values[name])]

        if v < 13 and op_type in ("Squeeze", "Unsqueeze", "ReduceSum", "Split"):
            if len(inputs) > 1 and inputs[1] in self.values:
                attrs["split" if op_type == "Split" else "axes"] = values(inputs[1])
                inputs = inputs[:1]
        if v < 13 and op_type == "Resize" and len(inputs) > 1 and inputs[1] == "":
            inputs[1] = self.const(np.zeros(0), "roi", dtype=np.float32)  # required before 13
        if v < 12 and op_type == "Dropout":
            inputs = inputs[:1]
        if v < 18 and op_type == "Split":
            attrs.pop("num_outputs", None)
        if v < 11 and op_type == "Pad" and len(inputs) > 1:
            attrs["pads"] = values(inputs[1])
            if len(inputs) > 2 and inputs[2] in self.values:
                attrs["value"] = float(self.values[inputs[2]])
            inputs = inputs[:1]
        if v < 11 and op_type == "Clip" and len(inputs) > 1:
            for key, t in zip(("min", "max"), inputs[1:], strict=False):
                if t:
                    attrs[key] = float(self.values[t])
            inputs = inputs[:1]
        if v < 10 and op_type == "Slice" and len(inputs) <= 4:
            keys = ("starts", "ends", "axes")
            for key, t in zip(keys, inputs[1:], strict=False):
                attrs[key] = values(t)
            inputs = inputs[:1]
        if v < 5 and op_type == "Reshape" and len(inputs) > 1 and inputs[1] in self.values:
            attrs["shape"] = values(inputs[1])
            inputs = inputs[:1]
        if v < 11 and op_type in _AXIS_OPS and inputs and inputs[0] in self.shapes:
            rank = len(self.shapes[inputs[0]])
            if op_type == "Unsqueeze":
                rank = len(shapes[0])
            for key in ("axis", "axes"):
                if key in attrs:
                    a = attrs[key]
                    fix = [x + rank if x < 0 else x for x in (a if isinstance(a, list) else [a])]
                    attrs[key] = fix if isinstance(a, list) else fix[0]
        return inputs

    def _nonlinear(self, op_type, domain, inputs, dynamic, attrs, bounds, in_elem) -> bool:
        if domain not in DEFAULT_DOMAINS:
            return True
        if op_type in NONLINEAR_OPS:
            return True
        if op_type == "Relu":
            return dynamic[0] not in self.nonneg
        if op_type == "LeakyRelu":
            return float(np.float32(attrs.get("alpha", 0.01))) != 1.0
        if op_type == "Clip":
            has = bounds is not None and any(v is not None for v in bounds)
            return has or "min" in attrs or "max" in attrs
        if op_type == "Div":
            # Integer division truncates: nonlinear even by a constant.
            return len(dynamic) > 1 or dynamic != [inputs[0]] or in_elem in INT_ELEMS
        if op_type in ("Mul", "MatMul", "Gemm", "Einsum"):
            return len(dynamic) > 1
        if op_type == "Cast":  # wrap-around of one integer type before, another after
            to = attrs["to"]
            return to != in_elem and (in_elem in INT_ELEMS or to in INT_ELEMS)
        return False

    def unsupported(self, nodes) -> str | None:
        """Why onnxruntime (or the model's opset) cannot run one of ``nodes``, or None."""
        for node in nodes:
            if node.op_type == "Constant":
                continue
            elem = self.elem_of(next((t for t in node.input if t), ""))
            if node.domain == CUSTOM_DOMAIN:
                body = [n.op_type for n in FUNCTIONS[node.op_type][1].node]
                if self.opset < 7:
                    return f"{node.op_type}: its body has no onnxruntime kernels below opset 7"
                if elem not in FLOAT_ELEMS:
                    return f"{node.op_type}: float only"
                if elem == TensorProto.DOUBLE and NO_DOUBLE_KERNEL & set(body):
                    return f"{node.op_type}: no float64 kernel"
                continue
            if node.domain not in DEFAULT_DOMAINS:
                if elem != TensorProto.FLOAT and elem != TensorProto.FLOAT16:
                    return f"{node.domain}.{node.op_type}: float only"
                if self.opset < 13:  # onnxruntime expands it with ops of the model's opset
                    return f"{node.domain}.{node.op_type}: opset 13 on"
                continue
            why = _schema_problem(node, self.opset, [self.elem_of(t) for t in node.input])
            if why:
                return why
            if node.op_type == "Loop":  # (any type; its body's steps were checked)
                continue
            if self.opset < 7 and node.op_type not in LEGACY_KERNELS:
                return f"{node.op_type}-{self.opset}: no onnxruntime kernel"
            if elem == TensorProto.DOUBLE and node.op_type in NO_DOUBLE_KERNEL:
                return f"{node.op_type}: no float64 kernel"
            if elem == TensorProto.DOUBLE and node.op_type == "Clip" and self.opset < 12:
                return "Clip-11: no float64 kernel"
            if elem in INT_ELEMS and node.op_type not in INT_KERNELS[elem]:
                return f"{node.op_type}: no {TensorProto.DataType.Name(elem)} kernel"
            if node.op_type == "Relu" and elem in INT_ELEMS and self.opset < 14:
                return "Relu on integers: opset 14"
            if node.op_type in ("Max", "Min") and elem in INT_ELEMS and self.opset < 8:
                return f"{node.op_type}-6 on integers: no onnxruntime kernel"
        return None

    def checkpoint(self):
        """Everything a step may add, to undo it with ``rollback``."""
        lists = (self.nodes, self.inits, self.inputs, self.outputs, self.sketch)
        dicts = (self.feeds, self.barriers, self.op_types, self.functions, self.domains)
        dicts += (self._weights,)
        sets = (self.nonneg, self.consts, self.force_inputs, self.features, self.opaque)
        return (
            [(x, len(x)) for x in lists],
            [(x, dict(x)) for x in dicts],
            [(x, set(x)) for x in sets],
            (self.dtype, self.first_input),
        )

    def rollback(self, cp) -> None:
        lists, dicts, sets, (dtype, first) = cp
        for x, n in lists:
            del x[n:]
        for x, saved in dicts:
            x.clear()
            x.update(saved)
        for x, saved in sets:
            x.clear()
            x.update(saved)
        self.set_dtype(dtype)
        self.first_input = first

    def custom(self, fname: str, inputs: list[str], shape) -> str:
        _, function = FUNCTIONS[fname]
        self.functions[fname] = function
        self.domains[CUSTOM_DOMAIN] = 1
        return self.multi(fname, inputs, [shape], f"{CUSTOM_DOMAIN}.{fname}", CUSTOM_DOMAIN)[0]

    def _output_info(self, name: str, dynamic: bool) -> onnx.ValueInfoProto:
        shape = self.shapes[name]
        dims = [f"{name}_d{a}" for a in range(len(shape))] if dynamic else list(shape)
        return helper.make_tensor_value_info(name, self.elem_of(name), dims)

    def build(self) -> FuzzGenerated:
        dynamic = any(
            not vi.type.tensor_type.HasField("shape")
            or any(not d.HasField("dim_value") for d in vi.type.tensor_type.shape.dim)
            for vi in self.inputs
        )
        graph = helper.make_graph(
            self.nodes,
            "random",
            self.inputs,
            [self._output_info(o, dynamic) for o in self.outputs],
            initializer=self.inits,
        )
        model = helper.make_model(
            graph, opset_imports=[helper.make_opsetid("", self.opset)], producer_name="fuzzgen"
        )
        for d, v in sorted(self.domains.items()):
            model.opset_import.append(helper.make_opsetid(d, v))
        if self.ir:
            model.ir_version = self.ir
        else:
            model.ir_version = max(
                IR_VERSION, helper.find_min_ir_version_for(model.opset_import[:1])
            )
        for k in sorted(self.functions):
            function = onnx.FunctionProto()
            function.CopyFrom(self.functions[k])
            function.opset_import[0].version = self.opset
            model.functions.append(function)
        if self.value_info:
            try:
                model = onnx.shape_inference.infer_shapes(model, strict_mode=True)
            except Exception:  # (an input of unknown rank, say): no value_info then
                self.features.discard("value_info")
            else:
                _drop_untyped_value_info(model.graph)
        self._declare_initializers(model.graph)
        if self.sparse and model.ir_version >= 4:
            self._make_sparse(model.graph)
        barriers, op_types = dict(self.barriers), dict(self.op_types)
        if self.unnamed:  # the main graph's nodes lose their names (subgraphs keep theirs)
            for index, node in enumerate(model.graph.node):
                label = f"#{index}"
                if node.name in barriers:
                    barriers[label] = barriers.pop(node.name)
                op_types[label] = op_types.pop(node.name, node.op_type)
                node.name = ""
        return FuzzGenerated(
            model,
            dict(self.feeds),
            list(self.sketch),
            barriers,
            op_types,
            self.unnamed,
            external=self.external,
            features=tuple(sorted(self.features)),
        )

    def _declare_initializers(self, graph: onnx.GraphProto) -> None:
        """IR < 4: every initializer is a graph input (a constant all the same). IR >= 4:
        ``force_inputs`` and up to ``overridable`` float initializers are inputs too: defaults
        a caller may override."""
        declared = {vi.name for vi in graph.input}
        if graph.initializer and self.ir and self.ir < 4:
            chosen = [t for t in graph.initializer if t.name not in declared]
        else:
            floats = [
                t.name
                for t in graph.initializer
                if t.data_type in FLOAT_ELEMS and t.name not in self.force_inputs
            ]
            count = min(self.overridable, len(floats))
            picked = set(self.rng.choice(floats, count, replace=False)) if count else set()
            names = picked | self.force_inputs
            chosen = [t for t in graph.initializer if t.name in names and t.name not in declared]
            if chosen:
                self.features.add("initializer inputs")
        for t in chosen:
            graph.input.append(helper.make_tensor_value_info(t.name, t.data_type, t.dims))

    def _make_sparse(self, graph: onnx.GraphProto) -> None:
        """Some weights (initializers or Constant values) become sparse, half their entries 0
        (not other constants: a Resize scale or a quantization scale of 0 is invalid)."""
        declared = {vi.name for vi in graph.input}
        keep = []
        for t in graph.initializer:
            if (
                t.data_type in FLOAT_ELEMS
                and t.name in self.weight_names
                and math.prod(t.dims) >= 2
                and t.name not in declared
                and self.rng.integers(2) == 0
            ):
                graph.sparse_initializer.append(self._sparse(numpy_helper.to_array(t), t.name))
            else:
                keep.append(t)
        if len(keep) != len(graph.initializer):
            del graph.initializer[:]
            graph.initializer.extend(keep)
            self.features.add("sparse initializers")
        for node in graph.node:
            if node.op_type != "Constant" or node.output[0] not in self.weight_names:
                continue
            if self.rng.integers(2) != 0:
                continue
            a = node.attribute[0]
            if a.name == "value" and a.t.data_type in FLOAT_ELEMS and math.prod(a.t.dims) >= 2:
                sparse = self._sparse(numpy_helper.to_array(a.t), node.output[0])
                del node.attribute[:]
                node.attribute.append(helper.make_attribute("sparse_value", sparse))
                self.features.add("sparse constants")

    def _sparse(self, array: np.ndarray, name: str) -> onnx.SparseTensorProto:
        array = np.array(array)
        zero = self.rng.random(array.shape) < 0.5
        zero.flat[self.rng.integers(array.size)] = False  # at least one value
        array[zero] = 0
        flat = np.flatnonzero(array.ravel() != 0)
        if flat.size == 0:
            flat = np.array([0])
        values = numpy_helper.from_array(array.ravel()[flat], name)
        if self.rng.integers(2) == 0 or array.ndim < 2:
            indices = numpy_helper.from_array(flat.astype(np.int64), f"{name}_indices")
        else:
            coords = np.stack(np.unravel_index(flat, array.shape), axis=1).astype(np.int64)
            indices = numpy_helper.from_array(coords, f"{name}_indices")
        return helper.make_sparse_tensor(values, indices, list(array.shape))


def _schema_problem(node: onnx.NodeProto, opset: int, elems=()) -> str | None:
    """Why ``node`` is not an op of ``opset`` (its name, attributes, number of inputs, the
    element types ``elems`` of its inputs)."""
    try:
        schema = onnx.defs.get_schema(node.op_type, opset, "")
    except onnx.defs.SchemaError:
        return f"{node.op_type} does not exist at opset {opset}"
    if schema.deprecated:
        return f"{node.op_type} is deprecated at opset {opset}"
    names = set(schema.attributes)
    for a in node.attribute:
        if a.name not in names:
            return f"{node.op_type}-{schema.since_version} has no attribute {a.name}"
    for name, a in schema.attributes.items():
        if a.required and name not in {x.name for x in node.attribute}:
            return f"{node.op_type}-{schema.since_version} needs attribute {name}"
    n = len(node.input)
    if not schema.min_input <= n <= schema.max_input:
        return f"{node.op_type}-{schema.since_version}: {n} inputs"
    allowed = {c.type_param_str: set(c.allowed_type_strs) for c in schema.type_constraints}
    for i, (t, elem) in enumerate(zip(node.input, elems, strict=False)):
        if not t or not schema.inputs:
            continue
        formal = schema.inputs[min(i, len(schema.inputs) - 1)]
        name = helper.tensor_dtype_to_string(elem).split(".")[-1].lower()
        types = allowed.get(formal.type_str)
        if types is not None and f"tensor({name})" not in types:
            return f"{node.op_type}-{schema.since_version}: input {i} cannot be {name}"
    return None


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
    shape = b.shapes[t]
    if len(shape) < 2:
        return None
    if b.opset < 9 and len(shape) >= 3 and draw(st.integers(0, 2)):
        # BatchNormalization-7: spatial=0 normalizes every activation on its own: the
        # parameters have the shape [C, D1, ...] of one sample.
        gamma = b.vector(shape[1:], "scale")
        beta, mean = b.vector(shape[1:], "shift"), b.vector(shape[1:], "shift")
        var = b.rng.uniform(0.5, 2.0, shape[1:])
        names = [b.const(v, "bn") for v in (gamma, beta, mean, var)]
        return b.op("BatchNormalization", [t] + names, shape, note="BN spatial=0", spatial=0)
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
    if rare(draw, 4) and b.opset >= 10:  # k2 s2 ceil_mode: sizes that do not divide round up
        kernel = [min(2, n) for n in shape[2:]]
        out = [_pool_size(n, k, 2, 1, 0, 0, True) for n, k in zip(shape[2:], kernel, strict=True)]
        include = draw(st.sampled_from([0, 1]))
        return b.op(
            "AveragePool",
            [t],
            shape[:2] + tuple(out),
            note=f"AveragePool k{kernel} s2 ceil_mode=1 cip={include}",
            kernel_shape=kernel,
            strides=[2] * nd,
            ceil_mode=1,
            count_include_pad=include,
        )
    if rare(draw, 3):  # auto_pad, and dilations from opset 19
        return _pool(draw, b, t, "AveragePool", dilations=b.opset >= 19)
    return average_pool(draw, b, t)


def _pool_size(n: int, k: int, s: int, d: int, p: int, q: int, ceil: bool) -> int:
    """A pool's output size as onnxruntime computes it (ceil_mode: see _ceil_agrees)."""
    span = n + p + q - d * (k - 1) - 1
    return (-(-span // s) if ceil else span // s) + 1


def _ceil_agrees(n: int, k: int, s: int, d: int, p: int, q: int) -> bool:
    """Whether onnx's shape inference and onnxruntime agree on a ceil_mode pool's size:
    onnxruntime drops a last window that would start inside the end padding, onnx not."""
    return (_pool_size(n, k, s, d, p, q, True) - 1) * s < n + p


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
        axes = list(zip(shape[2:], kernel, strides, dil, pb, pe, strict=True))
        if b.opset >= 10 and draw(st.integers(0, 2)) == 0 and all(_ceil_agrees(*a) for a in axes):
            attrs["ceil_mode"] = 1
            out = [_pool_size(*a, True) for a in axes]
    if any(d > 1 for d in dil) or (dilations and draw(st.booleans())):
        attrs["dilations"] = dil
    if op == "AveragePool":
        attrs["count_include_pad"] = draw(st.sampled_from([0, 1, 1]))
    ceil = " ceil_mode=1" if attrs.get("ceil_mode") else ""
    note = f"{op} k{kernel} s{strides} d{dil} {auto_pad or f'pads {pb + pe}'}{ceil}"
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
    if t in b.opaque:  # onnx's Resize inference then makes up sizes (-1) that later ops reject
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
    attrs = {"allowzero": 1} if 0 not in spec and b.opset >= 14 and rare(draw, 6) else {}
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
    if b.elem != TensorProto.FLOAT:  # QuantizeLinear-13 takes float32 only
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
    groups: dict[tuple, list[str]] = {}
    for y in ys:  # (a branch may have left an integer region: the type is part of the key)
        groups.setdefault((b.shapes[y], b.elem_of(y)), []).append(y)
    key = (b.shapes[t], b.elem_of(t))
    if key in groups and len(groups[key]) >= 2:
        main = groups[key]
    else:
        main = max(groups.values(), key=len)
    for y in ys:  # branches that cannot be joined are graph outputs
        if y not in main and y != t:
            b.output(y)
    if len(main) < 2:
        return main[0]
    return _join(draw, b, main, preserve)


def _condition(draw, b: FuzzBuilder, t: str) -> str:
    """An If condition: a constant, a boolean graph input, an initializer that is also a graph
    input (IR >= 4: a default the caller may override), or computed from the data:
    ``ReduceSum(x) > 0`` of the first graph input (negating the input flips it) or of ``t``."""
    kind = draw(
        st.sampled_from(["const", "const", "input", "data", "data", "override", "override"])
    )
    if kind == "override" and b.ir and b.ir < 4:
        kind = "const"
    value = np.array(draw(st.booleans()))
    if kind == "input":
        b.features.add("If on an input")
        return b.input((), dtype=np.bool_)
    if kind == "override":
        b.features.add("If on an overridable initializer")
        cond = b.const(value, "cond", dtype=np.bool_, where="init")
        b.force_inputs.add(cond)
        return cond
    if kind == "data":
        b.features.add("If on the data")
        src = b.first_input if b.first_input and draw(st.integers(0, 2)) else t
        if b.elem_of(src) != TensorProto.FLOAT:
            src = b.op("Cast", [src], b.shapes[src], note="Cast (condition)", to=TensorProto.FLOAT)
        total = b.op("ReduceSum", [src], (), note="ReduceSum (condition)", keepdims=0)
        zero = b.const(np.array(0.0), "zero", dtype=np.float32)
        return b.op("Greater", [total, zero], (), note=f"condition: sum({src}) > 0")
    return b.const(value, "cond", dtype=np.bool_)


def op_if(draw, b: FuzzBuilder, t: str, preserve: bool, depth: int = 0):
    """If on a condition (see _condition); each branch runs 1–3 shape-keeping steps on the
    outer ``t``, its weights sometimes initializers of its own (IR >= 4)."""
    if depth >= 1 or b.nesting >= 2:
        return None
    shape = b.shapes[t]
    if any(n.op_type == "Cast" and t in n.output for n in b.nodes):
        # onnxruntime 1.2x (without graph optimizations) loses a Cast's output that only
        # If branches read ("Missing Input"); an Identity in between keeps it.
        t = b.op("Identity", [t], shape)
    cond = _condition(draw, b, t)
    local = b.ir != 3 and draw(st.booleans())
    if local:
        b.features.add("subgraph initializers")
    graphs = []
    b.nesting += 1
    for branch in ("then", "else"):
        outer, b.nodes = b.nodes, []
        shared, b._weights = b._weights, {}  # a weight made inside is not visible outside
        main_inits = b.inits
        if local:
            b.inits = []
        b.sketch.append(f"If {branch} branch:")
        y = t
        for _ in range(draw(st.integers(1, 3))):
            y = step(draw, b, y, preserve=True, depth=2)
        if not b.nodes or b.nodes[-1].output[0] != y:
            y = b.op("Identity", [y], shape)
        body, b.nodes, b._weights = b.nodes, outer, shared
        inits, b.inits = (b.inits, main_inits) if local else ([], main_inits)
        out = helper.make_tensor_value_info(y, b.elem_of(y), b.body_dims(y))
        name = f"{branch}_{b.fresh('g')}"
        graphs.append(helper.make_graph(body, name, [], [out], initializer=inits))
    b.nesting -= 1
    return b.op(
        "If",
        [cond],
        shape,
        then_branch=graphs[0],
        else_branch=graphs[1],
        _elems=[b.elem_of(t)],
    )


def op_loop(draw, b: FuzzBuilder, t: str, preserve: bool, depth: int = 0):
    """Loop of 1–3 iterations carrying ``t``: the body runs 1–3 shape-keeping steps on the
    carried value (a body input, declared with or without its shape), its weights outer
    initializers or its own."""
    if depth >= 1 or b.nesting >= 2 or b.opset < 11:
        return None
    shape, elem = b.shapes[t], b.elem_of(t)
    if any(n.op_type == "Cast" and t in n.output for n in b.nodes):
        t = b.op("Identity", [t], shape)  # (as for If: onnxruntime loses a Cast's output)
    trips = b.const(np.array(draw(st.integers(1, 3))), "trips", dtype=np.int64)
    local = b.ir != 3 and draw(st.booleans())
    count, cond, carried = b.fresh("iter"), b.fresh("cond_in"), b.fresh("carried")
    b.shapes.update({count: (), cond: (), carried: shape})
    b.elems.update({count: TensorProto.INT64, cond: TensorProto.BOOL, carried: elem})
    outer, b.nodes = b.nodes, []
    shared, b._weights = b._weights, {}
    main_inits = b.inits
    if local:
        b.inits = []
    b.nesting += 1
    b.sketch.append("Loop body:")
    y = carried
    for _ in range(draw(st.integers(1, 3))):
        y = step(draw, b, y, preserve=True, depth=2)
    if y == carried:
        y = b.op("Identity", [carried], shape)
    keep = b.op("Identity", [cond], (), note="Identity (loop condition)")
    b.nesting -= 1
    body, b.nodes, b._weights = b.nodes, outer, shared
    inits, b.inits = (b.inits, main_inits) if local else ([], main_inits)
    declared = b.body_dims(carried) if draw(st.booleans()) else None
    graph = helper.make_graph(
        body,
        f"loop_{b.fresh('g')}",
        [
            helper.make_tensor_value_info(count, TensorProto.INT64, []),
            helper.make_tensor_value_info(cond, TensorProto.BOOL, []),
            helper.make_tensor_value_info(carried, elem, declared),
        ],
        [
            helper.make_tensor_value_info(keep, TensorProto.BOOL, []),
            helper.make_tensor_value_info(y, b.elem_of(y), b.body_dims(y)),
        ],
        initializer=inits,
    )
    b.features.add("Loop")
    return b.op("Loop", [trips, "", t], shape, body=graph, _elems=[elem])


def op_outer_reader(draw, b: FuzzBuilder, t: str):
    """An If whose branches read ``t`` (its output a graph output) while ``t`` goes on to the
    next step: a subgraph reads what may become the inside of a foldable region."""
    if b.nesting:  # (its output could not be a graph output)
        return None
    out = op_if(draw, b, t, True, 0)
    if out is None:
        return None
    b.output(out)
    b.features.add("If reading a region's inside")
    return t


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


# ---- integer regions -----------------------------------------------------------------------------
# Integer tensors wrap around (two's complement) and integer Div truncates: a MatMul chain is
# still one MatMul modulo 2**bits, but not with weights multiplied in float64 and cast back,
# and a Div (or Abs(INT_MIN) = INT_MIN before a Relu) is a barrier. Weights are small, all
# ones, or large enough that products of two overflow (FuzzBuilder._int_weight).


def op_int_matmul(draw, b: FuzzBuilder, t: str, preserve: bool):
    """MatMul (int32/int64: onnxruntime has no int8 MatMul) by an integer constant."""
    if b.dtype == np.int8:
        return None
    return op_matmul(draw, b, t, preserve)


def op_int_div(draw, b: FuzzBuilder, t: str, preserve: bool):
    """Div by an integer constant (never 0 or -1): truncates, a barrier."""
    shape = b.shapes[t]
    c = b.vector(_broadcast_shape(draw, shape), "scale")
    return b.op("Div", [t, b.const(c, "div")], shape, note=f"Div (integer) by {list(np.shape(c))}")


def op_int_sum_div(draw, b: FuzzBuilder, t: str, preserve: bool):
    """MatMul by ones[k, 1] (a row sum), Div by 10, maybe another MatMul: not one MatMul."""
    shape = b.shapes[t]
    if preserve or b.dtype == np.int8 or not shape or shape[-1] > 64:
        return None
    k = shape[-1]
    s = b.op("MatMul", [t, b.const(np.ones((k, 1)), "ones")], shape[:-1] + (1,), note="MatMul ones")
    d = b.op("Div", [s, b.const(np.array(10), "ten")], shape[:-1] + (1,), note="Div 10 (integer)")
    if draw(st.booleans()):
        n = widths(draw)
        return b.op("MatMul", [d, b.weight((1, n), 1)], shape[:-1] + (n,), note=f"MatMul 1->{n}")
    return d


def op_int_abs_relu(draw, b: FuzzBuilder, t: str, preserve: bool):
    """Relu(Abs(x)): on integers Abs(INT_MIN) = INT_MIN, so the Relu is not the identity."""
    shape = b.shapes[t]
    a = b.op("Abs", [t], shape)
    if b.dtype == np.int64 or b.opset < 14:  # no int64 Relu kernel: Max(·, 0) instead
        return b.op("Max", [a, b.const(np.zeros(()), "zero")], shape, note="Max(Abs, 0)")
    return b.op("Relu", [a], shape, note="Relu (after an integer Abs)")


def op_int_cast(draw, b: FuzzBuilder, t: str, preserve: bool):
    """Cast out of the integer region: to a float type (the model goes on in it), or int8 to
    int32 (for MatMul)."""
    shape = b.shapes[t]
    if preserve:
        return None
    if b.dtype == np.int8 and draw(st.booleans()):
        out = b.op("Cast", [t], shape, note="Cast to INT32", to=TensorProto.INT32)
        b.set_dtype(np.int32)
        return out
    dtype = draw(st.sampled_from([np.float32, np.float32, np.float32, np.float16, np.float64]))
    elem = ELEM[np.dtype(dtype)]
    out = b.op("Cast", [t], shape, note=f"Cast to {TensorProto.DataType.Name(elem)}", to=elem)
    b.set_dtype(dtype)
    return out


# ---- broadcasting joins, channel broadcasts, sources of unknown shape --------------------------


def op_broadcast_join(draw, b: FuzzBuilder, t: str, preserve: bool):
    """Two MatMul branches of one source whose tails differ, added with broadcasting:
    ``W1·x`` unsqueezed at axis 0 plus ``W2·x`` at axis 1, or reshaped to [1, -1, d] and
    [-1, 1, d]: the sum is [rows, rows, d], no single MatMul of x."""
    shape = b.shapes[t]
    if preserve or not 2 <= len(shape) <= 3 or shape[-1] > 64:
        return None
    k, d = shape[-1], widths(draw)
    rows = numel(shape[:-1])
    if rows * rows * d > 2 * MAX_ELEMS:
        return None
    ys = []
    for _ in range(2):
        y = b.op("MatMul", [t, b.weight((k, d), k)], shape[:-1] + (d,), note=f"MatMul {k}->{d}")
        if draw(st.booleans()):  # a tail: a bias or a scale on one branch
            y = arith(draw, b, y, (d,))
        ys.append(y)
    if draw(st.booleans()) and len(shape) == 2:
        a = b.op("Unsqueeze", [ys[0], b.ints([0], "axes")], (1, rows, d), note="Unsqueeze [0]")
        c = b.op("Unsqueeze", [ys[1], b.ints([1], "axes")], (rows, 1, d), note="Unsqueeze [1]")
    else:
        a = b.op(
            "Reshape", [ys[0], b.ints([1, -1, d], "shape")], (1, rows, d), note="Reshape 1,-1,d"
        )
        c = b.op(
            "Reshape", [ys[1], b.ints([-1, 1, d], "shape")], (rows, 1, d), note="Reshape -1,1,d"
        )
    join = draw(st.sampled_from(["Add", "Add", "Sub"]))
    pair = [a, c] if draw(st.booleans()) else [c, a]
    out = b.op(join, pair, (rows, rows, d), note=f"{join} with broadcasting")
    if draw(st.booleans()):
        n = widths(draw)
        out = b.op("MatMul", [out, b.weight((d, n), d)], (rows, rows, n), note=f"MatMul {d}->{n}")
    return out


def op_conv_broadcast_join(draw, b: FuzzBuilder, t: str, preserve: bool):
    """ConvTranspose(x) + GlobalAveragePool(Relu(x)) (broadcast over the image), then a
    biased 1x1 Conv and a padded 3x3 Conv: the bias meets the zero padding."""
    shape = b.shapes[t]
    if preserve or not 3 <= len(shape) <= 5 or shape[1] > MAX_CHANNELS_FOR_CONV:
        return None
    nd, c = len(shape) - 2, shape[1]
    w = b.weight((c, c) + (1,) * nd, c)
    ct = b.op("ConvTranspose", [t, w], shape, note="ConvTranspose 1x1", kernel_shape=[1] * nd)
    r = b.op("Relu", [t], shape)
    g = b.op("GlobalAveragePool", [r], shape[:2] + (1,) * nd)
    pair = [ct, g] if draw(st.booleans()) else [g, ct]
    y = b.op("Add", pair, shape, note="Add ConvTranspose + GlobalAveragePool (broadcast)")
    cout = widths(draw)
    bias = b.const(b.vector((cout,), "shift"), "bias")
    y = b.op(
        "Conv",
        [y, b.weight((cout, c) + (1,) * nd, c), bias],
        (shape[0], cout) + shape[2:],
        note=f"Conv 1x1 {c}->{cout} biased",
        kernel_shape=[1] * nd,
    )
    return conv(
        draw,
        b,
        y,
        kernel=(3,) * nd,
        strides=(1,) * nd,
        dilations=(1,) * nd,
        pads=((1,) * nd, (1,) * nd),
        groups=1,
    )


def op_channel_broadcast_conv(draw, b: FuzzBuilder, t: str, preserve: bool):
    """x[N, 1, ...] · c[1, C, 1, ...] (or + c) then a Conv with C input channels; a tensor
    of more channels is sliced to one first."""
    shape = b.shapes[t]
    if preserve or not 3 <= len(shape) <= 5 or shape[1] > MAX_CHANNELS_FOR_CONV:
        return None
    nd = len(shape) - 2
    if shape[1] != 1:
        one = b.ints([0], "starts"), b.ints([1], "ends"), b.ints([1], "axes")
        shape = (shape[0], 1) + shape[2:]
        t = b.op("Slice", [t, *one], shape, note="Slice channel 0")
    c = draw(st.integers(2, 4))
    op = draw(st.sampled_from(["Mul", "Mul", "Add"]))
    k = b.const(b.vector((1, c) + (1,) * nd, "scale" if op == "Mul" else "shift"), "c")
    y = b.op(op, [t, k], (shape[0], c) + shape[2:], note=f"{op} x[N,1,...] by c[1,{c},1...]")
    return conv(draw, b, y, unpadded=50)


def op_opaque_source(draw, b: FuzzBuilder, t: str, preserve: bool):
    """A tensor whose size the local shape walk cannot know: t gathered along an axis by
    Range(0, Shape(t)[a]) or by NonZero(ones) (both: t itself), by NonZero of a mask computed
    from t's values (always true, but data-dependent: a barrier), or TopK's values (sorted:
    a barrier)."""
    shape = b.shapes[t]
    rank = len(shape)
    if b.opset < 11 or not rank:
        return None
    a = draw(st.integers(0, rank - 1))
    n = shape[a]
    kind = draw(st.sampled_from(["range", "nonzero", "data", "topk"]))
    b.features.add(f"opaque source ({kind})")
    if kind == "topk":
        k = b.ints([n], "k")
        values, _ = b.multi(
            "TopK",
            [t, k],
            [shape, shape],
            note=f"TopK axis={a} k={n}",
            axis=a,
            _elems=[b.elem_of(t), TensorProto.INT64],
        )
        return values
    size = b.op("Shape", [t], (rank,))
    dim = b.op("Gather", [size, b.ints(a, "axis")], (), note=f"Shape[{a}]")
    if kind == "range":
        idx = b.op("Range", [b.ints(0, "start"), dim, b.ints(1, "delta")], (n,), note="Range")
        b.opaque.add(idx)
        return b.op("Gather", [t, idx], shape, note=f"Gather axis={a} by Range", axis=a)
    if kind == "nonzero":
        ones = b.op("Unsqueeze", [dim, b.ints([0], "axes")], (1,), note="dims")
        mask = b.op(
            "ConstantOfShape",
            [ones],
            (n,),
            _elems=[TensorProto.INT64],
            value=numpy_helper.from_array(np.array([1], dtype=np.int64)),
        )
    else:  # a mask from the values: not |sum over the other axes| + 1 < 0 (NaN too)
        other = [x for x in range(rank) if x != a]
        s = b.op("Cast", [t], shape, note="Cast (mask)", to=TensorProto.FLOAT)
        if other:
            s = b.op(
                "ReduceSum", [s, b.ints(other, "axes")], (n,), note="ReduceSum (mask)", keepdims=0
            )
        s = b.op("Abs", [s], (n,))
        s = b.op("Add", [s, b.const(np.array(1.0), "one", dtype=np.float32)], (n,))
        less = b.op("Less", [s, b.const(np.array(0.0), "zero", dtype=np.float32)], (n,))
        mask = b.op("Not", [less], (n,))
    nz = b.op("NonZero", [mask], (1, n))
    b.opaque.add(nz)
    idx = b.op("Squeeze", [nz, b.ints([0], "axes")], (n,), note="Squeeze NonZero")
    return b.op(
        "Gather",
        [t, idx],
        shape,
        note=f"Gather axis={a} by NonZero ({kind})",
        axis=a,
        _barrier=kind == "data",
    )


def op_channel_affine(draw, b: FuzzBuilder, t: str, preserve: bool):
    """BatchNormalization or a per-channel Mul/Add/Sub/Div: the same at every image size."""
    if not 3 <= len(b.shapes[t]) <= 5:
        return None
    return channel_affine(draw, b, t)


def op_zero_pad(draw, b: FuzzBuilder, t: str, preserve: bool):
    """A zero Pad (or crop) of the image axes (modelgen's): before a Conv, foldable."""
    if preserve or not 3 <= len(b.shapes[t]) <= 5 or not _small(b, t):
        return None
    return zero_pad(draw, b, t)


def op_size_agnostic(draw, b: FuzzBuilder, t: str, preserve: bool):
    """Conv (stride 2 or SAME) → AveragePool k2 s2 ceil_mode=1 → Conv 1x1: ops that run at
    every image size, for inputs with symbolic sizes checked at sizes that do not divide 2."""
    shape = b.shapes[t]
    if preserve or not 3 <= len(shape) <= 5 or shape[1] > MAX_CHANNELS_FOR_CONV:
        return None
    if b.opset < 10 or min(shape[2:]) < 2:
        return None
    nd = len(shape) - 2
    if draw(st.booleans()):
        t = op_conv_auto_pad(draw, b, t, False)
    else:
        t = conv(draw, b, t, strides=(2,) * nd, dilations=(1,) * nd, unpadded=50)
    shape = b.shapes[t]
    kernel = [min(2, n) for n in shape[2:]]
    out = [_pool_size(n, k, 2, 1, 0, 0, True) for n, k in zip(shape[2:], kernel, strict=True)]
    include = draw(st.sampled_from([0, 1]))
    t = b.op(
        "AveragePool",
        [t],
        shape[:2] + tuple(out),
        note="AveragePool k2 s2 ceil_mode=1",
        kernel_shape=kernel,
        strides=[2] * nd,
        ceil_mode=1,
        count_include_pad=include,
    )
    one = (1,) * nd
    return conv(draw, b, t, kernel=one, strides=one, dilations=one, pads=((0,) * nd, (0,) * nd))


def op_dense_matmul(draw, b: FuzzBuilder, t: str, preserve: bool):
    """MatMul by a constant on the right (or Gemm on a 2-D tensor, C of shape [n], [1, n] or
    [1]): the same whatever the leading sizes."""
    shape = b.shapes[t]
    if not shape or shape[-1] > 64:
        return None
    k = shape[-1]
    n = k if preserve else widths(draw)
    if len(shape) == 2 and rare(draw, 3):
        inputs = [t, b.weight((k, n), k)]
        c = draw(st.sampled_from([None, (n,), (1, n), (1,)]))
        if c is not None:
            inputs.append(b.const(b.vector(c, "shift"), "bias"))
        return b.op("Gemm", inputs, shape[:-1] + (n,), note=f"Gemm {k}->{n} C={c}")
    return b.op("MatMul", [t, b.weight((k, n), k)], shape[:-1] + (n,), note=f"MatMul {k}->{n}")


def op_feature_arith(draw, b: FuzzBuilder, t: str, preserve: bool):
    """x·c, x+c, ... with c of the last axis' size, [1], or a scalar."""
    shape = b.shapes[t]
    if not shape:
        return None
    c = draw(st.sampled_from([(shape[-1],), (1,), ()]))
    return arith(draw, b, t, c)


def op_dense_reshape(draw, b: FuzzBuilder, t: str, preserve: bool):
    """Leading axes merged (Reshape [-1, k], Flatten axis=-1) or one of size 1 added
    (Unsqueeze 0): shapes that follow the input's sizes."""
    shape = b.shapes[t]
    if preserve or not 2 <= len(shape) <= 4:
        return None
    k = shape[-1]
    what = draw(st.sampled_from(["reshape", "flatten", "unsqueeze"]))
    if what == "reshape":
        return b.op(
            "Reshape", [t, b.ints([-1, k], "shape")], (numel(shape[:-1]), k), note=f"Reshape -1,{k}"
        )
    if what == "flatten":
        return b.op("Flatten", [t], (numel(shape[:-1]), k), note="Flatten axis=-1", axis=-1)
    if len(shape) >= 4:
        return None
    return b.op("Unsqueeze", [t, b.ints([0], "axes")], (1,) + shape, note="Unsqueeze [0]")


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
    "motif": {op_motif: 4, op_broadcast_join: 1, op_conv_broadcast_join: 1}
    | {op_channel_broadcast_conv: 1, op_size_agnostic: 1},
    "opaque": {op_opaque_source: 1},
    "norm": {op_batchnorm: 1},  # (BatchNormalization-7 with spatial=0 in the legacy mix)
    # ops of N C spatial... tensors that run at every image size (no constant of the image's
    # shape, no Reshape to it): for inputs with symbolic sizes, judged at other sizes
    "agnostic": {op_conv: 3, op_conv_auto_pad: 2, op_conv_transpose: 1, op_avgpool: 2}
    | {op_channel_affine: 3, op_zero_pad: 1, op_activation: 1, op_identity_like: 1}
    | {op_size_agnostic: 2, op_conv_broadcast_join: 1, op_channel_broadcast_conv: 1}
    | {op_maxpool: 1, op_motif: 1, op_custom: 1},
    # the same for tensors [..., k] of symbolic leading sizes
    "agnostic_dense": {op_dense_matmul: 4, op_feature_arith: 3, op_activation: 1}
    | {op_identity_like: 1, op_broadcast_join: 2, op_dense_reshape: 2, op_transpose: 1}
    | {op_softmax: 1, op_custom: 1, op_einsum: 1},
    "integer": {op_int_matmul: 4, op_arith: 2, op_int_div: 1, op_int_sum_div: 1}
    | {op_int_abs_relu: 1, op_reduce: 1, op_einsum: 1, op_int_cast: 1},
}
#: How often each family is drawn, per kind of model: "mixed" has everything; "linear" has
#: no barriers, so that long affine regions run through shape ops and joins; "barriers" has
#: many nonlinear and unknown ops among the linear ones. Branch sets come on top (depth < 2).
MIXES = {
    "mixed": {"linear": 4, "affine": 3, "shape": 2, "nonlinear": 2, "unknown": 1, "motif": 3}
    | {"opaque": 1},
    "linear": {"linear": 4, "affine": 3, "shape": 3, "motif": 2, "opaque": 1},
    "barriers": {"linear": 3, "affine": 1, "shape": 1, "nonlinear": 3, "unknown": 2, "motif": 1}
    | {"opaque": 1},
    # integer tensors (whatever the model's mix): integer ops, shape ops, a Cast out
    "integer": {"integer": 5, "shape": 2, "opaque": 1},
    # images of symbolic size: only ops that run at every size (and If)
    "agnostic": {"agnostic": 6, "opaque": 1},
    "agnostic_dense": {"agnostic_dense": 6, "opaque": 1},
    # opsets 4–8: what onnxruntime still runs there (below 7 hardly more than linear and
    # shape ops; other steps are rolled back)
    "legacy": {"linear": 3, "shape": 4, "affine": 2, "nonlinear": 1, "motif": 1, "norm": 1},
}


def _weighted(weights: dict) -> list:
    return [k for k, n in weights.items() for _ in range(n)]


def step(draw, b: FuzzBuilder, t: str, preserve: bool = False, depth: int = 0) -> str:
    """One op (or a branch set) on ``t``; with ``preserve``, the output has t's shape.

    A step that emitted an op the model's opset does not define, or that onnxruntime has
    no kernel for in the tensor's type (float64 Conv, int8 MatMul, ...), is rolled back.
    """
    for _ in range(4):
        b.set_dtype(NUMPY[b.elem_of(t)])  # constants for ops on t have t's type
        cp = b.checkpoint()
        nodes, start = b.nodes, len(b.nodes)
        mix = MIXES["integer"] if b.is_int else MIXES[b.mix]
        cat = draw(st.sampled_from(_weighted(mix) + ["branch"] * (2 if depth < 2 else 0)))
        if cat == "branch":
            out = op_branch(draw, b, t, preserve, depth)
        elif cat == "linear" and rare(draw, 30) and depth == 0:
            out = op_second_input(draw, b, t, preserve)
        elif cat in ("affine", "agnostic") and rare(draw, 16):
            out = op_outer_reader(draw, b, t)
        elif cat in ("shape", "integer", "agnostic", "agnostic_dense") and rare(draw, 8):
            # (in an If branch: a nested If, its branches reading the enclosing branch's tensor)
            control = op_loop if rare(draw, 3) else op_if
            out = control(draw, b, t, preserve, 0 if depth == 0 or b.nesting == 1 else 1)
        else:
            out = draw(st.sampled_from(_weighted(OPS[cat])))(draw, b, t, preserve)
        if b.unsupported(nodes[start:]):
            b.rollback(cp)
            continue
        if out is not None and numel(b.shapes[out]) <= 2 * MAX_ELEMS and b.shapes[out]:
            return out
        if out is not None:
            b.output(out)  # too big or a scalar to go on from: an output, start again from t
    if b.elem in (TensorProto.FLOAT, TensorProto.FLOAT16) and b.opset >= 7:
        return identity_activation(draw, b, t)
    return b.op("Identity", [t], b.shapes[t])


def _input(draw, b: FuzzBuilder) -> str:
    kinds = ["conv2d", "conv2d", "conv1d", "dense", "dense3", "conv3d"]
    if b.dtype not in (np.float32, np.float16):  # no Conv kernels: mostly dense
        kinds = ["dense", "dense3", "dense3", "conv1d"]
    kind = draw(st.sampled_from(kinds))
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
    decl = "dims"
    rank = len(shape)
    if rare(draw, 3):  # symbolic dims: the feeds still have the drawn sizes
        symbolic = draw(st.sampled_from([(0,), tuple(range(1, rank)), tuple(range(rank))]))
        if kind.startswith("conv") and draw(st.booleans()):  # the image size (and the batch)
            symbolic = tuple(range(2, rank)) if draw(st.booleans()) else (0, *range(2, rank))
            if b.elem in (TensorProto.FLOAT, TensorProto.FLOAT16) and draw(st.booleans()):
                b.mix = "agnostic"  # then only ops that run at every size
                b.features.add("size-agnostic ops")
        elif not kind.startswith("conv") and b.elem in FLOAT_ELEMS and draw(st.booleans()):
            symbolic = tuple(range(rank - 1))  # the leading sizes
            if draw(st.booleans()):
                b.mix = "agnostic_dense"
                b.features.add("size-agnostic ops")
        decl = draw(st.sampled_from(["dims", "dims", "dims", "unknown"]))
        b.features.add("symbolic dims" if decl == "dims" else "unknown dims")
    elif rare(draw, 16):  # no shape at all: the walk back from the ops finds nothing
        symbolic, decl = tuple(range(rank)), "rank"
        b.features.add("unknown rank")
    b.sketch.append(f"input {list(shape)} symbolic={list(symbolic)} declared={decl}")
    return b.input(shape, symbolic, decl)


#: Generator features that find engine bugs not fixed yet, each with the bug it finds. The
#: CI run of tests/test_fuzz.py (LINLINT_FUZZ_EXAMPLES unset) holds them back; scaled runs
#: and bench/fuzz.py campaigns draw everything. Remove an entry when its fix lands (the
#: xfail(strict=True) regression test of the bug in tests/test_fuzz.py then fails: remove
#: its mark too).
PENDING: dict[str, str] = {}
#: (Fixed, drawn in CI again: integer Div, integer Cast, non-finite constants, If in IR 3
#: models, sparse initializers with external data, large Constant nodes with external data.)

#: The element type of a model's input and how often it is drawn (out of 21).
DTYPES = {np.float32: 14, np.float16: 2, np.float64: 2, np.int8: 1, np.int32: 1, np.int64: 1}


@st.composite
def fuzz_models(
    draw, held_back: frozenset[str] = frozenset(), opsets: tuple[int, ...] = ()
) -> FuzzGenerated:
    """A random model: a chain of 2–MAX_STEPS steps, each an op of any family or a branch set.

    Model-wide draws: the input's dtype (DTYPES), the opset (17–21; 11–16 one time in four;
    7, 8 or 4 one time in 16), the IR version (3 below opset 9 and one time in 12: every
    initializer a graph input), initializers that are also graph inputs (IR >= 4), sparse
    initializers, external data, fp16 weights whose products pass 65504, non-finite
    constants (Inf weights, Div by a constant holding a 0). ``held_back``: PENDING features
    not to draw; ``opsets``: draw the default domain's opset from these only.
    """
    constants = draw(st.sampled_from(["initializers", "initializers", "nodes", "mixed"]))
    share = rare(draw, 10)
    dtype = draw(st.sampled_from(_weighted(DTYPES)))
    b = FuzzBuilder(draw(seeds()), constants, share, dtype)
    b.held_back = frozenset(held_back)
    b.features.add(np.dtype(dtype).name)
    b.mix = draw(st.sampled_from(["mixed", "mixed", "linear", "barriers"]))
    b.opset = draw(st.sampled_from([OPSET, OPSET, 18, 19, 21]))
    if rare(draw, 4):
        b.opset = draw(st.integers(11, 16))
    elif rare(draw, 12):
        b.opset = draw(st.sampled_from([7, 8, 4]))
    if opsets:
        b.opset = draw(st.sampled_from(opsets))
    if b.opset < 7 and dtype != np.float32:  # onnxruntime's fp16/int casts need opset 6+
        b.opset = 7
    if b.opset < 9 and dtype == np.float64:  # (no float64 Max-6, MaxPool-1, ... kernels)
        dtype = np.float32
        b.set_dtype(dtype)
        b.features.symmetric_difference_update({"float64", "float32"})
    if b.opset < 17:
        b.features.add("opset 4-8" if b.opset < 9 else "opset 11-16")
    if b.opset < 9:
        b.mix = "legacy"
    if b.opset < 9 or rare(draw, 12):
        b.ir = 3
        b.features.add("IR 3")
    elif rare(draw, 8):
        b.overridable = draw(st.integers(1, 2))
    b.sparse = b.ir != 3 and rare(draw, 6)
    b.external = rare(draw, 10)
    if b.external:
        b.features.add("external data")
    if dtype == np.float16 and draw(st.booleans()):
        b.big_weights, b.input_scale = True, 1 / 256
        b.features.add("fp16 big weights")
    elif b.elem in FLOAT_ELEMS and rare(draw, 15):
        b.nonfinite = True
        b.features.add("non-finite constants")
    b.value_info = draw(st.integers(0, 2)) == 0
    b.unnamed = rare(draw, 10)
    b.sketch.append(
        f"opset={b.opset} ir={b.ir or 'default'} dtype={np.dtype(dtype).name} mix={b.mix} "
        f"constants={constants} share={share} value_info={b.value_info} unnamed={b.unnamed} "
        f"overridable={b.overridable} sparse={b.sparse} external={b.external} "
        f"big_weights={b.big_weights} nonfinite={b.nonfinite}"
    )
    t = _input(draw, b)
    for _ in range(draw(st.integers(2, MAX_STEPS))):
        t = step(draw, b, t)
        if rare(draw, 25):
            b.output(t)  # an intermediate tensor that is also a graph output
    b.output(t)
    return b.build()


# ---- the properties ------------------------------------------------------------------------------

#: Tolerances of ``compare_outputs`` per dtype: (rtol, atol per unit of output magnitude, input
#: perturbation); an output's dtype picks the first two, an input's the perturbation.
TOLERANCES = {
    np.float32: (1e-4, 1e-4, 1e-5),
    np.float16: (2e-2, 2e-2, 5e-3),
    np.float64: (1e-6, 1e-6, 1e-7),
}
NOISE_FACTOR = 10.0  # outputs may differ by this many times what a tiny input change makes

#: The judge of unseen inputs (``judge``): per float dtype, ``rtol`` and ``tiny`` of
#: ``|a - b| <= rtol·(|a| + rms(a)) + tiny + NOISE_FACTOR·noise`` elementwise (``a`` the
#: original's output, ``b`` the folded model's, ``rms`` over the output's finite elements).
#: A bug detector, not linlint's own verification tolerance: a fold that is exact in real
#: arithmetic is off by rounding only (~1e-7 relative in float32), a wrong one by far more.
JUDGE_TOLERANCE = {np.float16: (2e-2, 1e-3), np.float32: (1e-3, 1e-6), np.float64: (1e-6, 1e-12)}
#: Magnitudes the float inputs are scaled to for the extreme-value runs.
EXTREME_SCALES = {np.float16: (64.0, 1024.0), np.float32: (1e4, 1e8), np.float64: (1e8, 1e15)}
MAX_SIZE_VARIANTS = 5
#: Tensors of at least this many bytes go to the .data file of an external-data model: the
#: weights, not the shape constants (Reshape targets, axes, pads), which check does not load
#: from external data (it never reads external weights).
EXTERNAL_THRESHOLD = 80
MAX_VARIANT_ELEMS = 1 << 15


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
    refused: str = ""  # check or fold raised a LinlintError (allowed: not a crash)
    judged: int = 0  # unseen input sets (sizes, extremes, If branches, overrides) compared
    judged_kinds: dict[str, int] = field(default_factory=dict)  # judged sets per kind
    failures: list[tuple[str, str]] = field(default_factory=list)

    def fail(self, kind: str, message: str) -> None:
        self.failures.append((kind, message))


def _checkable(model: onnx.ModelProto, feeds: dict) -> onnx.ModelProto:
    """``model`` as ``onnx.checker`` (full check) can judge it: onnx requires a shape on graph
    inputs (onnxruntime does not) and its shape inference does not know sparse initializers
    (onnxruntime densifies them): inputs of unknown rank get their feed's rank (unknown
    dims), sparse initializers become dense."""
    unknown = [
        vi
        for vi in list(model.graph.input) + list(model.graph.output)
        if not vi.type.tensor_type.HasField("shape")
    ]
    if not unknown and not model.graph.sparse_initializer:
        return model
    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    for vi in list(copy.graph.input) + list(copy.graph.output):
        tt = vi.type.tensor_type
        if not tt.HasField("shape"):
            rank = np.ndim(feeds[vi.name]) if vi.name in feeds else 0
            tt.shape.SetInParent()
            for _ in range(rank):
                tt.shape.dim.add()
    for sparse in copy.graph.sparse_initializer:
        copy.graph.initializer.append(numpy_helper.from_array(_dense(sparse), sparse.values.name))
    del copy.graph.sparse_initializer[:]
    return copy


def _dense(sparse: onnx.SparseTensorProto) -> np.ndarray:
    dtype = helper.tensor_dtype_to_np_dtype(sparse.values.data_type)
    dense = np.zeros(list(sparse.dims), dtype)
    indices = numpy_helper.to_array(sparse.indices)
    if indices.ndim == 2:
        indices = np.ravel_multi_index(tuple(indices.T), dense.shape)
    dense.flat[indices] = numpy_helper.to_array(sparse.values)
    return dense


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


def _perturbed(feeds: dict, rng) -> dict:
    """Float feeds moved by a relative perturbation of their dtype's size; others kept."""
    moved = {}
    for k, v in feeds.items():
        if v.dtype.kind == "f":
            eps = TOLERANCES.get(v.dtype.type, TOLERANCES[np.float32])[2]
            v = (v * (1 + eps * rng.standard_normal(v.shape))).astype(v.dtype)
        moved[k] = v
    return moved


def compare_outputs(model, folded, feeds, sessions=None) -> str | None:
    """None when every output of ``folded`` matches ``model``'s on ``feeds``, else why not.

    The bound per output is ``atol·magnitude + rtol·|want| + NOISE_FACTOR·noise``, where
    ``noise`` is how much the original's output moves when the inputs move by a relative
    ``perturbation`` (two tries): a nonlinearity that amplifies rounding (LayerNorm over two
    nearly equal values) widens its own bound; a wrong fold is off by far more.
    """
    names = [o.name for o in model.graph.output]
    if [o.name for o in folded.graph.output] != names:
        return f"output names changed: {[o.name for o in folded.graph.output]} != {names}"
    original, candidate = sessions or (session(model), session(folded))
    want = original.run(None, feeds)
    got = candidate.run(None, feeds)
    rng = np.random.default_rng(0)
    noisy = [original.run(None, _perturbed(feeds, rng)) for _ in range(2)]
    for i, (name, w, g) in enumerate(zip(names, want, got, strict=True)):
        if g.shape != w.shape or g.dtype != w.dtype:
            return f"output {name}: {g.dtype}{list(g.shape)} != {w.dtype}{list(w.shape)}"
        if w.dtype.kind != "f":
            if not np.array_equal(w, g):
                return f"output {name} (integer) differs"
            continue
        rtol, atol, _ = TOLERANCES.get(w.dtype.type, TOLERANCES[np.float32])
        w64, g64 = w.astype(np.float64), g.astype(np.float64)
        if not np.isfinite(w64).all():
            continue  # an overflow in the original proves nothing either way (judge: more)
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


# ---- the judge: inputs the fold never saw --------------------------------------------------------


@dataclass
class Variant:
    """One set of inputs for the judge, and what makes it new."""

    label: str
    feeds: dict
    extreme: bool = False  # overflows of the original (new Inf/NaN) skip the variant
    #: The original's NaN come from the inputs, not from an overflow: its finite elements
    #: are judged even in an output that holds some (else such an output is not).
    partial: bool = False

    @property
    def kind(self) -> str:
        return self.label.split(":")[0].split(" ")[0]


def _like(value: np.ndarray, shape, rng) -> np.ndarray:
    """Fresh values of ``value``'s dtype and spread, of another shape."""
    if value.dtype == np.bool_:
        return rng.integers(0, 2, shape).astype(np.bool_)
    if value.dtype.kind in "iu":
        lo, hi = (int(value.min()), int(value.max())) if value.size else (-5, 5)
        return rng.integers(lo, hi + 1, shape).astype(value.dtype)
    spread = float(np.std(value.astype(np.float64))) if value.size > 1 else 1.0
    return (rng.standard_normal(shape) * (spread or 1.0)).astype(value.dtype)


def _new_size(n: int, plan: str) -> int:
    if plan == "+1":
        return n + 1
    if plan == "2n+1":
        return 2 * n + 1
    if plan == "1":
        return 1
    return next(p for p in (7, 5, 11, 13) if p != n)  # not a multiple of 2 or 3


def _size_variants(model: onnx.ModelProto, feeds: dict, real, rng) -> list[Variant]:
    """Other sizes for every dim a graph input leaves open (a dim_param, no size, no shape):
    all open dims at once (a prime other than n, n+1, 1, 2n+1), then each dim_param group
    alone (a prime)."""
    groups: dict[str, list[tuple[str, int]]] = {}
    for vi in real:
        tt = vi.type.tensor_type
        if not tt.HasField("shape"):
            for a in range(np.ndim(feeds[vi.name])):
                groups[f"{vi.name}[{a}]"] = [(vi.name, a)]
            continue
        for a, d in enumerate(tt.shape.dim):
            if not d.HasField("dim_value"):
                key = d.dim_param or f"{vi.name}[{a}]"  # one dim_param: one size everywhere
                groups.setdefault(key, []).append((vi.name, a))
    if not groups:
        return []
    plans = [(plan, list(groups)) for plan in ("prime", "+1", "1", "2n+1")]
    if len(groups) > 1:
        plans += [("prime", [key]) for key in groups]
    variants = []
    for plan, keys in plans:
        shapes = {k: list(v.shape) for k, v in feeds.items()}
        what = []
        for key in keys:
            name, axis = groups[key][0]
            size = _new_size(feeds[name].shape[axis], plan)
            for name, axis in groups[key]:
                shapes[name][axis] = size
            what.append(f"{key}={size}")
        if any(math.prod(s) > MAX_VARIANT_ELEMS for s in shapes.values()):
            continue
        if all(list(v.shape) == shapes[k] for k, v in feeds.items()):
            continue  # (size 1 where the drawn size was 1)
        new = {
            k: v if list(v.shape) == shapes[k] else _like(v, shapes[k], rng)
            for k, v in feeds.items()
        }
        variants.append(Variant(f"sizes {', '.join(what)}", new))
        if len(variants) >= MAX_SIZE_VARIANTS:
            break
    return variants


def _extreme_variants(feeds: dict, rng) -> list[Variant]:
    """Large magnitudes for float inputs; the dtype's extremes (INT_MIN too) for integers."""
    variants = []
    for i in range(2):
        new, what = {}, []
        for k, v in feeds.items():
            if v.dtype.kind == "f":
                scale = EXTREME_SCALES.get(v.dtype.type, EXTREME_SCALES[np.float32])[i]
                spread = float(np.max(np.abs(v.astype(np.float64)), initial=0.0)) or 1.0
                v = (v.astype(np.float64) * (scale / spread)).astype(v.dtype)
                what.append(f"{k} x{scale:g}")
            elif v.dtype.kind in "iu":
                info = np.iinfo(v.dtype)
                if i == 0:
                    edges = [info.min, info.min + 1, info.max, info.max - 1, -1, 0, 1]
                    v = rng.choice(np.array(edges, dtype=v.dtype), v.shape)
                    if v.size:  # INT_MIN (and INT_MAX) whatever the draw
                        v.flat[0], v.flat[-1] = info.max, info.min
                    what.append(f"{k} from {{INT_MIN, INT_MAX, -1, 0, 1}}")
                else:
                    v = rng.integers(info.min, info.max, v.shape, dtype=v.dtype, endpoint=True)
                    what.append(f"{k} over the whole range")
            new[k] = np.asarray(v)
        if what:
            variants.append(Variant(f"extreme values: {', '.join(what)}", new, extreme=True))
    return variants


def _variants(model: onnx.ModelProto, feeds: dict) -> list[Variant]:
    """Every input set the judge runs, beyond the drawn feeds."""
    rng = np.random.default_rng(20240601)
    inits = {t.name: t for t in model.graph.initializer}
    real = [vi for vi in model.graph.input if vi.name not in inits and vi.name in feeds]
    variants = _size_variants(model, feeds, real, rng)
    variants += _extreme_variants(feeds, rng)
    variants += _nan_variants(feeds, rng)
    if any(v.dtype.kind in "fi" for v in feeds.values()):  # flips sum(x) > 0 conditions
        flipped = {k: np.asarray(-v if v.dtype.kind in "fi" else v) for k, v in feeds.items()}
        variants.append(Variant("negated inputs", flipped))
    bools = [k for k, v in feeds.items() if v.dtype == np.bool_]
    if bools:  # both branches of an If on a boolean input
        flipped = {k: np.asarray(~v if k in bools else v) for k, v in feeds.items()}
        variants.append(Variant(f"boolean inputs flipped: {bools}", flipped))
    if model.ir_version >= 4:  # initializers that are graph inputs: defaults, fed other values
        fed = dict(feeds)
        names = []
        for vi in model.graph.input:
            t = inits.get(vi.name)
            if t is None or t.data_type not in FLOAT_ELEMS | {TensorProto.BOOL}:
                continue
            value = numpy_helper.to_array(t)
            if value.dtype == np.bool_:
                fed[vi.name] = np.asarray(~value)
            else:
                moved = value * rng.uniform(0.5, 1.5, value.shape) + 0.1 * rng.standard_normal(
                    value.shape
                )
                fed[vi.name] = np.asarray(moved, dtype=value.dtype)
            names.append(vi.name)
        if names:
            variants.append(Variant(f"initializer inputs fed other values: {names}", fed))
    return variants


def _drop_untyped_value_info(graph: onnx.GraphProto) -> None:
    """Leave out the value_info onnx's inference writes without an element type (a
    QuantizeLinear-21 whose output type it cannot tell): onnxruntime refuses such a model
    ("tensor data type 0"), and no exporter writes one."""
    from linlint.model.graphs import all_graphs

    for g in all_graphs(graph):
        kept = [
            vi
            for vi in g.value_info
            if not (vi.type.HasField("tensor_type") and vi.type.tensor_type.elem_type == 0)
        ]
        del g.value_info[:]
        g.value_info.extend(kept)


def _nan_variants(feeds: dict, rng) -> list[Variant]:
    """A NaN in one element of each float input. NaN spreads to exactly what reads it (a
    zero weight included: ``0·NaN`` is NaN) whatever the order of a sum, and every op
    that drops a NaN (MaxPool, Relu) drops it alike in both models: an output the original
    keeps finite must stay finite, or the fold reads what the original never read for it
    (zero taps of a strided conv turned into a Gemm, gaps between chained taps, another
    branch's window or channel group). (An Inf would not tell: ``Inf − Inf`` is NaN in one
    order and ±Inf in another, and a MaxPool drops the one and keeps the other.)"""
    new, what = {}, []
    for k, v in feeds.items():
        if v.dtype.kind == "f" and v.size:
            v = np.array(v, copy=True)
            at = int(rng.integers(v.size))
            v.flat[at] = np.nan
            what.append(f"{k}[{at}]")
        new[k] = np.asarray(v)
    return [Variant(f"nan element: {', '.join(what)} = NaN", new, partial=True)] if what else []


def _constant_values(model: onnx.ModelProto):
    for t in model.graph.initializer:
        yield t.name, numpy_helper.to_array(t)
    for s in model.graph.sparse_initializer:
        yield s.values.name, _dense(s)
    for node in _all_nodes(model.graph):
        if node.op_type == "Constant" and node.attribute:
            a = node.attribute[0]
            if a.name == "value":
                yield node.output[0], numpy_helper.to_array(a.t)
            elif a.name == "sparse_value":
                yield node.output[0], _dense(a.sparse_tensor)


def _overflows(model: onnx.ModelProto, feeds) -> bool:
    """Whether the original gives Inf or NaN on the drawn inputs."""
    outputs = session(model).run(None, feeds)
    return any(o.dtype.kind == "f" and not np.isfinite(o).all() for o in outputs)


def deliberately_nonfinite(model: onnx.ModelProto) -> bool:
    """Whether the model makes Inf/NaN on purpose: a float constant holding one, or a Div by
    a constant holding a 0. The judge then wants the folded model's Inf/NaN exactly where
    the original has them; elsewhere an Inf/NaN of the original (an overflow) is not judged."""
    values = {}
    for name, v in _constant_values(model):
        if v.dtype.kind == "f" and not np.isfinite(v).all():
            return True
        values[name] = v
    return any(
        n.op_type == "Div"
        and len(n.input) > 1
        and n.input[1] in values
        and (values[n.input[1]] == 0).any()
        for n in _all_nodes(model.graph)
    )


def _judge_output(
    w: np.ndarray, g: np.ndarray, noise: np.ndarray, strict: bool, partial: bool = False
) -> str | None:
    with np.errstate(invalid="ignore", over="ignore"):
        return _judge_elements(w, g, noise, strict, partial)


def _judge_elements(
    w: np.ndarray, g: np.ndarray, noise: np.ndarray, strict: bool, partial: bool = False
) -> str | None:
    if g.shape != w.shape or g.dtype != w.dtype:
        return f"{g.dtype}{list(g.shape)} instead of {w.dtype}{list(w.shape)}"
    if w.dtype.kind != "f":
        bad = np.flatnonzero(w.ravel() != g.ravel())
        if bad.size:
            i = bad[0]
            return (
                f"{bad.size} of {w.size} integer elements differ "
                f"(e.g. {w.ravel()[i]} expected, {g.ravel()[i]} got)"
            )
        return None
    w64, g64 = w.astype(np.float64), g.astype(np.float64)
    finite = np.isfinite(w64)
    if not (strict or partial or finite.all()):
        return None  # an output that overflowed: its other elements are no measure either
    if strict:
        # Non-finite stays non-finite; which one (NaN or ±Inf) a reassociated sum gives is
        # not the fold's to keep: inf·w1 + inf·w2 is NaN where w1 = -w2, inf·(w1 + w2) is 0·inf.
        bad = np.flatnonzero((~finite & np.isfinite(g64)).ravel())
        if bad.size:
            i = bad[0]
            return (
                f"{bad.size} Inf/NaN elements of the original are finite after folding "
                f"(e.g. {w64.ravel()[i]} expected, {g64.ravel()[i]} got)"
            )
    if partial:  # (``_nan_variants``) only a NaN where the original is finite tells
        nan = np.flatnonzero((finite & np.isnan(g64)).ravel())
        if nan.size:
            i = nan[0]
            return (
                f"{nan.size} elements are NaN where the original is finite "
                f"(e.g. {w64.ravel()[i]:.6g} expected): the fold reads what it never read"
            )
        return None
    new = np.flatnonzero((finite & ~np.isfinite(g64)).ravel())
    if new.size:
        i = new[0]
        return (
            f"{new.size} elements are Inf/NaN where the original is finite "
            f"(e.g. {w64.ravel()[i]:.6g} expected, {g64.ravel()[i]} got)"
        )
    if not finite.any():
        return None
    rtol, tiny = JUDGE_TOLERANCE.get(w.dtype.type, JUDGE_TOLERANCE[np.float32])
    rms = float(np.sqrt(np.mean(np.square(w64[finite]))))
    bound = rtol * (np.abs(w64) + rms) + tiny + NOISE_FACTOR * noise
    error = np.where(finite, np.abs(g64 - w64), 0.0)
    if (error > bound).any():
        i = int(np.argmax(error - bound))
        return (
            f"max abs error {error.ravel()[i]:.4g} at {np.unravel_index(i, w.shape)} "
            f"({w64.ravel()[i]:.6g} expected, {g64.ravel()[i]:.6g} got; rms {rms:.3g}, "
            f"noise {float(noise.ravel()[i]):.3g})"
        )
    return None


def judge(model, folded, feeds, sessions=None) -> tuple[list[str], dict[str, int]]:
    """Compare ``folded`` with ``model`` in onnxruntime on inputs the fold never saw.

    Every ``_variants`` input set that the original runs (an original that fails, or that
    overflows on extreme values, is no question for the fold) must run in the folded model
    and give: integers exactly; floats within ``JUDGE_TOLERANCE`` elementwise (``noise``:
    how far the original's output moves when its float inputs move by a relative 1e-5 in
    float32, twice), with Inf or NaN where the original has Inf or NaN when the model makes
    them on purpose (``deliberately_nonfinite``; which of the two a reassociated sum gives
    is not the fold's to keep), and finite where the original stays finite around a NaN
    input element. Returns the problems and how many sets of each kind (sizes, extreme,
    nan, negated, boolean, initializer, the drawn inputs) were judged.
    """
    original, candidate = sessions or (session(model), session(folded))
    names = [o.name for o in model.graph.output]
    strict = deliberately_nonfinite(model)
    base = original.run(None, feeds)
    base_nonfinite = [int((~np.isfinite(b)).sum()) if b.dtype.kind == "f" else 0 for b in base]
    rng = np.random.default_rng(7)
    problems: list[str] = []
    judged: dict[str, int] = {}
    variants = _variants(model, feeds)
    if strict:  # (compare_outputs does not judge outputs holding Inf/NaN)
        variants.insert(0, Variant("the drawn inputs", feeds))
    for v in variants:
        try:
            want = original.run(None, v.feeds)
        except Exception:
            continue
        if any(w.size == 0 for w in want):  # a size too small for its windows: nothing to keep
            continue
        if v.extreme and any(
            w.dtype.kind == "f" and int((~np.isfinite(w)).sum()) > n
            for w, n in zip(want, base_nonfinite, strict=True)
        ):
            continue
        try:
            got = candidate.run(None, v.feeds)
        except Exception as e:
            problems.append(
                f"{v.label}: the folded model fails where the original runs: "
                f"{type(e).__name__}: {str(e).splitlines()[0][:300]}"
            )
            continue
        judged[v.kind] = judged.get(v.kind, 0) + 1
        noisy = []
        if any(x.dtype.kind == "f" for x in v.feeds.values()):
            for _ in range(2):
                try:
                    noisy.append(original.run(None, _perturbed(v.feeds, rng)))
                except Exception:
                    pass
        for i, (name, w, g) in enumerate(zip(names, want, got, strict=True)):
            noise = np.zeros(w.shape)
            if w.dtype.kind == "f":
                w64 = w.astype(np.float64)
                for n in noisy:
                    if n[i].shape == w.shape:
                        with np.errstate(invalid="ignore", over="ignore"):  # (Inf - Inf)
                            moved = np.abs(n[i].astype(np.float64) - w64)
                        noise = np.maximum(noise, np.where(np.isfinite(moved), moved, 0.0))
                noise = np.full(w.shape, float(noise.max(initial=0.0)))
            why = _judge_output(w, g, noise, strict, v.partial)
            if why:
                problems.append(f"{v.label}: output {name}: {why}")
                break
    return problems, judged


# ---- the other properties ------------------------------------------------------------------------


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


def disagreements(findings, result, allow_growth: bool) -> list[str]:
    """Findings of ``check`` that say a foldable rule's region folds exactly (``fix.exact``)
    but that ``fold`` neither folded (no node of it in a folded region) nor refused (no
    entry of ``FoldResult.refused`` names its nodes)."""
    from linlint.rules import foldable_codes

    foldable = foldable_codes(allow_growth)
    folded = {n for r in result.folded for n in r.nodes}
    refused = set()
    for entry in result.refused:  # "a → b → c[ in graph]: why"
        head = entry.split(": ", 1)[0].split(" in ", 1)[0]
        refused.update(head.split(" → "))
    return [
        f"{f.code} {list(f.nodes)} (exact: {f.message}) was neither folded nor refused"
        for f in findings
        if f.code in foldable and f.fix.exact and not set(f.nodes) & (folded | refused)
    ]


def overlapping(findings) -> list[str]:
    """Nodes that two region findings both hold: a region that folds in parts is reported
    as its parts and what remains, and no region is reported twice."""
    from linlint.rules import RULES_BY_CODE

    seen: dict[tuple[str, str], str] = {}
    problems = []
    for f in findings:
        if RULES_BY_CODE[f.code].subject != "region":
            continue
        for node in f.nodes:
            key = (f.graph, node)
            if key in seen:
                problems.append(f"{node} is in {seen[key]} and in {f.code} {list(f.nodes)}")
            seen[key] = f"{f.code} {list(f.nodes)}"
    return problems


def _run_linlint(gen: FuzzGenerated, allow_growth: bool, out: Outcome, folder: Path | None):
    """check and fold, from the ModelProto or (``folder``) from a file with external data;
    the findings, the FoldResult and the folded model as written (or None, None, None)."""
    import linlint

    model = gen.model
    source = model
    if folder is not None:  # weights in model.onnx.data; fold reads them from the path
        copy = onnx.ModelProto()
        copy.CopyFrom(model)
        source = folder / "model.onnx"
        onnx.save_model(
            copy,
            source,
            save_as_external_data=True,
            all_tensors_to_one_file=True,
            location="model.onnx.data",
            size_threshold=EXTERNAL_THRESHOLD,
        )
        stored = {p.name: p.read_bytes() for p in folder.iterdir()}
    before = model.SerializeToString()
    try:
        findings = linlint.check(source)
    except linlint.LinlintError as e:
        out.refused = f"check: {e}"
        return None, None, None
    except Exception:
        out.fail("check crashed", traceback.format_exc(limit=-6))
        return None, None, None
    out.checked, out.findings = True, len(findings)
    out.codes = tuple(sorted(f.code for f in findings))
    try:
        result = linlint.fold(source, verify=False, allow_growth=allow_growth)
    except linlint.LinlintError as e:
        out.refused = f"fold: {e}"
        return findings, None, None
    except Exception:
        out.fail("fold crashed", traceback.format_exc(limit=-6))
        return findings, None, None
    out.folded, out.folded_something = True, bool(result.folded)
    if model.SerializeToString() != before:
        out.fail("fold changed its input", "the ModelProto given to fold was modified")
    folded = result.model
    if folder is not None and {p.name: p.read_bytes() for p in folder.iterdir()} != stored:
        out.fail("fold changed its input", "the model file or its .data file was modified")
    if folder is None and not result.folded:
        return findings, result, folded
    from linlint.model.write import save_model

    # What is judged is the model as written (as `linlint fold -o` writes it) and read back.
    with tempfile.TemporaryDirectory(prefix="linlint-fuzz-") as scratch:
        target = (folder or Path(scratch)) / "folded.onnx"
        try:
            save_model(folded, target, base_dir=result.base_dir)
            folded = onnx.load(target)  # the weights from folded.onnx.data and model.onnx.data
            _sparse_external_data(folded, target.parent, out)
        except linlint.LinlintError as e:
            out.refused = f"writing the fold: {e}"
            return findings, None, None
        except Exception:
            out.fail("writing the folded model crashed", traceback.format_exc(limit=-6))
            return findings, None, None
    return findings, result, folded


def _sparse_external_data(model: onnx.ModelProto, folder: Path, out: Outcome) -> None:
    """Load what onnx.load leaves on disk: the external data of sparse tensors (onnx's
    loader skips them, onnxruntime reads them); a written model should not need that."""
    from onnx.external_data_helper import load_external_data_for_tensor

    left = [
        t
        for s in model.graph.sparse_initializer
        for t in (s.values, s.indices)
        if t.data_location == TensorProto.EXTERNAL
    ]
    if left:
        out.fail(
            "written model unreadable by onnx",
            f"onnx.load leaves the sparse tensors {[t.name for t in left]} in external data "
            "(onnx reads no external data of sparse tensors; onnx.checker rejects the file)",
        )
    for t in left:
        load_external_data_for_tensor(t, str(folder))
        t.data_location = TensorProto.DEFAULT
        del t.external_data[:]


def run_properties(gen: FuzzGenerated, allow_growth: bool) -> Outcome:
    """Every fuzz property on one model; failures are collected, never raised."""
    out = Outcome()
    if gen.external:
        with tempfile.TemporaryDirectory(prefix="linlint-fuzz-") as folder:
            _properties(gen, allow_growth, out, Path(folder))
    else:
        _properties(gen, allow_growth, out, None)
    return out


def _properties(gen: FuzzGenerated, allow_growth: bool, out: Outcome, folder) -> None:
    import linlint

    model = gen.model
    full = True
    try:
        try:
            onnx.checker.check_model(_checkable(model, gen.feeds), full_check=True)
        except onnx.shape_inference.InferenceError:
            # onnx's shape inference loses track of dims after a data-dependent op (a Resize
            # of a NonZero-gathered tensor, say) where onnxruntime runs the model: check the
            # rest, and the folded model the same way.
            onnx.checker.check_model(_checkable(model, gen.feeds))
            full = False
        session(model).run(None, gen.feeds)
    except Exception as e:  # the generator broke its promise: not an engine bug
        out.fail("generator", f"{type(e).__name__}: {e}")
        return
    findings, result, folded = _run_linlint(gen, allow_growth, out, folder)
    if findings is not None:
        for hit in _barrier_hits(gen, findings):
            out.fail("finding names a nonlinear node", hit)
        for problem in overlapping(findings):
            out.fail("findings overlap", problem)
    if result is None:
        return
    for problem in disagreements(findings, result, allow_growth):
        out.fail("check and fold disagree", problem)
    try:
        onnx.checker.check_model(_checkable(folded, gen.feeds), full_check=full)
    except Exception as e:
        out.fail("folded model invalid", f"{type(e).__name__}: {e}")
        return
    lost = _lost_barriers(gen, folded)
    if lost:
        out.fail("fold removed a nonlinear node", f"{lost} are gone from the folded model")
    sessions = None
    try:
        sessions = (session(model), session(folded))
        problem = compare_outputs(model, folded, gen.feeds, sessions)
    except Exception as e:
        problem = f"onnxruntime cannot run the folded model: {type(e).__name__}: {e}"
    if problem:
        out.fail("folded model computes something else", problem)
    elif result.folded:
        out.verified = True
        problems, out.judged_kinds = judge(model, folded, gen.feeds, sessions)
        out.judged = sum(out.judged_kinds.values())
        for p in problems:
            out.fail("folded model differs on unseen inputs", p)
    if result.folded and not gen.dynamic and not problem and not _overflows(model, gen.feeds):
        # (an original that overflows is no question for the fold, nor for verify)
        verification = linlint.verify(model, folded)
        out.linlint_verify_ok = verification.ok
        if not verification.ok:
            out.fail("linlint.verify rejects a correct fold", verification.summary())
    if not gen.unnamed:  # (#index labels of the folded model are not the original's)
        for hit in _barrier_hits(gen, result.remaining):
            out.fail("remaining finding names a nonlinear node", hit)
    try:  # what fold says remains is what check says of the folded model
        after = linlint.check(folder / "folded.onnx" if folder is not None else folded)
    except linlint.LinlintError:
        after = None
    except Exception:
        out.fail("check of the folded model crashed", traceback.format_exc(limit=-6))
        return
    if after is not None:
        said = sorted((f.code, f.nodes, f.fix.exact) for f in result.remaining)
        found = sorted((f.code, f.nodes, f.fix.exact) for f in after)
        if said != found:
            out.fail(
                "remaining findings are not check's",
                f"fold says {said[:6]}, check of the folded model says {found[:6]}",
            )

    try:
        written = folder / "folded.onnx" if folder is not None else folded
        again = linlint.fold(written, verify=False, allow_growth=allow_growth)
    except linlint.LinlintError:
        return
    except Exception:
        out.fail("fold of the folded model crashed", traceback.format_exc(limit=-6))
        return
    if again.folded:
        what = "; ".join(f"{r.code} {list(r.nodes)}" for r in again.folded)
        out.fail("fold is not idempotent", f"a second fold folded more: {what}")


__all__ = [
    "FuzzBuilder",
    "FuzzGenerated",
    "Outcome",
    "compare_outputs",
    "fuzz_models",
    "judge",
    "run_properties",
]
