"""What every operator is, as far as linearity goes: one table, no scattered branches.

Each default-domain operator is one of

* ``PARAM``   — parametric linear: linear in one data input, weights must be constant;
* ``PASS``    — affine pass-through: affine in its data input(s) when every
  other input is constant (``data`` says which inputs carry the signal);
* ``JOIN``    — affine in several data inputs at once (Add, Sub, Sum, Mean,
  Concat): stays affine when all of them come from the same source;
* ``MUL``     — Mul: affine when exactly one operand is constant;
* ``DIV``     — Div: affine when the divisor is constant;
* ``BARRIER`` — nonlinear, stochastic, control flow, quantizing, or unknown.

Rows that depend on attributes, opset or operand values carry a ``when``
predicate that may demote the row to a barrier or promote it to an identity
(``IDENTITY``: an activation that does nothing on this input). Operators of any
other domain, and default-domain names missing from the table, are barriers:
unknown is never assumed linear.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

import numpy as np
from onnx import NodeProto

from linlint.model.graphs import attr


class Kind(str, Enum):
    PARAM = "parametric"
    PASS = "pass"
    JOIN = "join"
    MUL = "mul"
    DIV = "div"
    IDENTITY = "identity"
    BARRIER = "barrier"


@dataclass(frozen=True)
class Context:
    """What a ``when`` predicate may look at besides the node itself."""

    opset: int
    is_constant: Callable[[str], bool]  # data-independent (absent inputs too)
    const_value: Callable[[str], object]  # numpy array or None (unknown / external)
    nonnegative: Callable[[str], bool]


# A predicate returns the row's effective kind for this node, with a reason.
When = Callable[[NodeProto, Context], tuple[Kind, str]]


@dataclass(frozen=True)
class OpRow:
    kind: Kind
    data: tuple[int, ...] = (0,)  # which inputs carry the signal (PASS/PARAM)
    when: When | None = None


def _input(node: NodeProto, i: int) -> str:
    return node.input[i] if len(node.input) > i else ""


# ---- attribute-, opset- and value-dependent rows -------------------------------------------


def _leaky_relu(node: NodeProto, ctx: Context) -> tuple[Kind, str]:
    alpha = float(attr(node, "alpha", 0.01))
    if alpha == 1.0:
        return Kind.IDENTITY, "alpha = 1, so LeakyRelu(x) = x"
    return Kind.BARRIER, ""


def _prelu(node: NodeProto, ctx: Context) -> tuple[Kind, str]:
    slope = ctx.const_value(_input(node, 1))
    if slope is not None and getattr(slope, "size", 0) > 0 and bool((slope == 1).all()):
        return Kind.IDENTITY, "every slope is 1, so PRelu(x) = x"
    return Kind.BARRIER, ""


def _clip(node: NodeProto, ctx: Context) -> tuple[Kind, str]:
    """The identity only when both bounds are given as -inf and +inf: an absent bound is
    the type's lowest or highest finite value, so Clip() maps ±Inf to ±FLT_MAX."""
    if ctx.opset < 11:
        return Kind.BARRIER, ""  # bounds are attributes, never infinite by default
    for i, infinite in ((1, -np.inf), (2, np.inf)):
        name = _input(node, i)
        value = ctx.const_value(name) if name else None
        if value is None or np.ravel(value).size != 1 or float(np.ravel(value)[0]) != infinite:
            return Kind.BARRIER, ""
    return Kind.IDENTITY, "min = -inf and max = +inf, so Clip(x) = x"


def _relu(node: NodeProto, ctx: Context) -> tuple[Kind, str]:
    if ctx.nonnegative(_input(node, 0)):
        return Kind.IDENTITY, "its input is already non-negative"
    return Kind.BARRIER, ""


def _dropout(node: NodeProto, ctx: Context) -> tuple[Kind, str]:
    if ctx.opset < 7 and int(attr(node, "is_test", 0)) == 0:
        return Kind.BARRIER, "Dropout in training mode (is_test = 0)"
    mode = _input(node, 2)
    if mode:
        value = ctx.const_value(mode)
        if value is None or bool(value):
            return Kind.BARRIER, "Dropout with training_mode not constant false"
    if len(node.output) > 1 and node.output[1]:
        return Kind.BARRIER, "Dropout whose mask output is used"
    return Kind.PASS, ""


def _batchnorm(node: NodeProto, ctx: Context) -> tuple[Kind, str]:
    if int(attr(node, "training_mode", 0)) == 1:
        return Kind.BARRIER, "BatchNormalization in training mode uses batch statistics"
    if ctx.opset < 7 and int(attr(node, "is_test", 0)) == 0:
        return Kind.BARRIER, "BatchNormalization in training mode (is_test = 0)"
    if sum(1 for o in node.output if o) > 1:
        return Kind.BARRIER, "BatchNormalization with training outputs"
    return Kind.PASS, ""


#: FLOAT, FLOAT16, DOUBLE, BFLOAT16: the element types a fold computes in (float64, cast back)
FLOAT_TYPES = frozenset({1, 10, 11, 16})


def _cast(node: NodeProto, ctx: Context) -> tuple[Kind, str]:
    if int(attr(node, "to", 0)) in FLOAT_TYPES:
        return Kind.PASS, ""
    return Kind.BARRIER, "Cast to a non-float type rounds"


def _pad(node: NodeProto, ctx: Context) -> tuple[Kind, str]:
    return Kind.PASS, ""


def _gemm(node: NodeProto, ctx: Context) -> tuple[Kind, str]:
    a, b, c = _input(node, 0), _input(node, 1), _input(node, 2)
    if c and not ctx.is_constant(c):
        return Kind.BARRIER, "Gemm with a non-constant C"
    if ctx.is_constant(a) != ctx.is_constant(b):
        return Kind.PARAM, ""
    return Kind.BARRIER, "Gemm of two non-constant operands"


def _matmul(node: NodeProto, ctx: Context) -> tuple[Kind, str]:
    a, b = _input(node, 0), _input(node, 1)
    if ctx.is_constant(a) != ctx.is_constant(b):
        return Kind.PARAM, ""
    return Kind.BARRIER, "MatMul of two non-constant operands"


def _einsum(node: NodeProto, ctx: Context) -> tuple[Kind, str]:
    dynamic = [i for i in node.input if i and not ctx.is_constant(i)]
    if len(dynamic) != 1:
        return Kind.BARRIER, "Einsum of several non-constant operands"
    if len(node.input) == 1:
        return Kind.PASS, ""
    return Kind.PARAM, ""


def _avgpool(node: NodeProto, ctx: Context) -> tuple[Kind, str]:
    return Kind.PASS, ""


# ---- the table -------------------------------------------------------------------------------

_P = OpRow(Kind.PASS)
_B = OpRow(Kind.BARRIER)

TABLE: dict[str, OpRow] = {
    # parametric linear
    "Conv": OpRow(Kind.PARAM),  # weight (input 1) and bias (input 2) must be constant
    "ConvTranspose": OpRow(Kind.PARAM),  # weight and bias must be constant
    "Gemm": OpRow(Kind.PARAM, data=(0, 1), when=_gemm),
    "MatMul": OpRow(Kind.PARAM, data=(0, 1), when=_matmul),
    "Einsum": OpRow(Kind.PARAM, data=tuple(range(16)), when=_einsum),
    # joins
    "Add": OpRow(Kind.JOIN, data=(0, 1)),
    "Sub": OpRow(Kind.JOIN, data=(0, 1)),
    "Sum": OpRow(Kind.JOIN, data=tuple(range(64))),
    "Mean": OpRow(Kind.JOIN, data=tuple(range(64))),
    "Concat": OpRow(Kind.JOIN, data=tuple(range(1024))),
    "Mul": OpRow(Kind.MUL, data=(0, 1)),
    "Div": OpRow(Kind.DIV, data=(0,)),
    # affine pass-through
    "BatchNormalization": OpRow(Kind.PASS, when=_batchnorm),
    "Neg": _P,
    "Identity": _P,
    "Dropout": OpRow(Kind.PASS, when=_dropout),
    "Reshape": _P,
    "Flatten": _P,
    "Transpose": _P,
    "Squeeze": _P,
    "Unsqueeze": _P,
    "Slice": _P,
    "Gather": _P,
    "GatherElements": _P,
    "GatherND": _P,
    "Compress": _P,
    "Split": _P,
    "Pad": OpRow(Kind.PASS, when=_pad),
    "CenterCropPad": _P,
    "AveragePool": OpRow(Kind.PASS, when=_avgpool),
    "GlobalAveragePool": _P,
    "ReduceMean": _P,
    "ReduceSum": _P,
    "CumSum": _P,
    "Resize": _P,
    "Upsample": _P,
    "DepthToSpace": _P,
    "SpaceToDepth": _P,
    "Expand": _P,
    "Tile": _P,
    "Trilu": _P,
    "ReverseSequence": _P,
    "Col2Im": _P,
    "Cast": OpRow(Kind.PASS, when=_cast),
    "CastLike": _B,  # target type only known at run time
    "DequantizeLinear": _P,  # (x - zero_point) * scale
    # activations that may be the identity on this input
    "LeakyRelu": OpRow(Kind.BARRIER, when=_leaky_relu),
    "PRelu": OpRow(Kind.BARRIER, when=_prelu),
    "Clip": OpRow(Kind.BARRIER, when=_clip),
    "Relu": OpRow(Kind.BARRIER, when=_relu),
}

#: Every other default-domain operator is a barrier: nonlinear, stochastic, integer,
#: quantizing, data-dependent, control flow, or a sequence/string/optional op. Listing them
#: changes no kind (a name missing from the table is a barrier too): it makes them known
#: ops, which the sweep may run on constant inputs (``CONSTANT_FOLDABLE``).
KNOWN_BARRIERS = """
Abs Acos Acosh AffineGrid And ArgMax ArgMin Asin Asinh Atan Atanh Attention Bernoulli BitCast
BitShift BitwiseAnd BitwiseNot BitwiseOr BitwiseXor BlackmanWindow CausalConvWithState Ceil Celu
Constant ConstantOfShape ConcatFromSequence ConvInteger Cos Cosh CumProd DFT DeformConv Det
DynamicQuantizeLinear Elu Equal Erf Exp EyeLike Floor GRU Gelu GlobalLpPool GlobalMaxPool Greater
GreaterOrEqual GridSample GroupNormalization HammingWindow HannWindow HardSigmoid HardSwish Hardmax
If ImageDecoder InstanceNormalization IsInf IsNaN LRN LSTM LayerNormalization Less LessOrEqual
LinearAttention Log LogSoftmax Loop LpNormalization LpPool MatMulInteger Max MaxPool MaxRoiPool
MaxUnpool MeanVarianceNormalization MelWeightMatrix Min Mish Mod Multinomial
NegativeLogLikelihoodLoss NonMaxSuppression NonZero Not OneHot Optional OptionalGetElement
OptionalHasElement Or Pow QLinearConv QLinearMatMul QuantizeLinear RMSNormalization RNN
RandomNormal RandomNormalLike RandomUniform RandomUniformLike Range Reciprocal ReduceL1 ReduceL2
ReduceLogSum ReduceLogSumExp ReduceMax ReduceMin ReduceProd ReduceSumSquare RegexFullMatch RoiAlign
RotaryEmbedding Round STFT Scan Scatter ScatterElements ScatterND Selu SequenceAt SequenceConstruct
SequenceEmpty SequenceErase SequenceInsert SequenceLength SequenceMap Shape Shrink Sigmoid Sign Sin
Sinh Size Softmax SoftmaxCrossEntropyLoss Softplus Softsign Sqrt SplitToSequence StringConcat
StringNormalizer StringSplit SwiGLU Swish Tan Tanh TensorScatter TfIdfVectorizer ThresholdedRelu
TopK Unique Where Xor
""".split()

for _name in KNOWN_BARRIERS:
    TABLE.setdefault(_name, _B)

#: Ops whose output depends on more than the values of their inputs: never constant-folded.
NONDETERMINISTIC = frozenset(
    {
        "RandomNormal",
        "RandomNormalLike",
        "RandomUniform",
        "RandomUniformLike",
        "Multinomial",
        "Bernoulli",
        "Dropout",
    }
)
#: Ops the sweep may compute when every input is constant (and the node holds no
#: subgraph): every op the table knows but the nondeterministic ones.
CONSTANT_FOLDABLE = frozenset(TABLE) - NONDETERMINISTIC
#: Ops whose output is data-independent (depends only on the input's shape).
SHAPE_ONLY = frozenset({"Shape", "Size"})
#: Ops whose output is non-negative whatever their input (for Relu-after-X), and whether
#: that holds for integer tensors too (Abs(INT_MIN) = INT_MIN in two's complement).
NONNEGATIVE_OUTPUT: dict[str, bool] = {
    "Relu": True,
    "Sigmoid": False,
    "Softmax": False,
    "Exp": False,
    "Abs": False,
}
#: Ops that are affine on float tensors only: on integers they truncate or round (Div,
#: means and pools), or leave the integers' wrap-around arithmetic (Cast to float).
FLOAT_ONLY_AFFINE = frozenset(
    {
        "Div",
        "Cast",
        "Mean",
        "ReduceMean",
        "AveragePool",
        "GlobalAveragePool",
        "Resize",
        "Upsample",
    }
)
_B_ = 9  # TensorProto.BOOL
_I64 = 7  # TensorProto.INT64
_I32 = 6  # TensorProto.INT32
#: Output element types that are not the first input's: a fixed type, ``"to"`` (the Cast
#: attribute), ``"constant"`` (the Constant's value), or the inputs to follow instead.
OUTPUT_TYPES: dict[str, int | str | tuple[int, ...]] = {
    "Shape": _I64,
    "Size": _I64,
    "NonZero": _I64,
    "ArgMax": _I64,
    "ArgMin": _I64,
    "Equal": _B_,
    "Greater": _B_,
    "GreaterOrEqual": _B_,
    "Less": _B_,
    "LessOrEqual": _B_,
    "Not": _B_,
    "And": _B_,
    "Or": _B_,
    "Xor": _B_,
    "IsNaN": _B_,
    "IsInf": _B_,
    "MatMulInteger": _I32,
    "ConvInteger": _I32,
    "Cast": "to",
    "Constant": "constant",
    "CastLike": (1,),
    "Where": (1, 2),
    "DequantizeLinear": (1,),
    "QuantizeLinear": (2,),
    "ConstantOfShape": "constant",
}
#: Products of several non-constant operands: a constant op after one is the tail of a
#: decomposed activation (GELU's ·0.5 after ``x·(1 + erf)``, HardSwish's /6 after
#: ``x·clip``), not an unfused affine. A sum of non-constant operands (a residual Add of two
#: sources) is linear: a per-channel constant after it is an ordinary affine (ResMLP's Affine).
ACTIVATION_PRODUCTS = frozenset({"Mul", "Div", "Pow"})

DEFAULT_DOMAINS = ("", "ai.onnx")


def row_for(node: NodeProto) -> OpRow:
    """The table row for a node; other domains and unknown names are barriers."""
    if node.domain not in DEFAULT_DOMAINS:
        return _B
    return TABLE.get(node.op_type, _B)


def classify(node: NodeProto, ctx: Context) -> tuple[Kind, OpRow, str]:
    """The effective kind of one node in its context, with the row and a reason."""
    row = row_for(node)
    if row.when is None:
        return row.kind, row, ""
    kind, why = row.when(node, ctx)
    return kind, row, why
