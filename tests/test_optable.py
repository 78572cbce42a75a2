"""The op-semantics table: complete, conservative, and attribute-aware."""

from __future__ import annotations

import numpy as np
import onnx
import onnx.defs
import pytest
from onnx import helper

from linlint.analysis.optable import TABLE, Context, Kind, classify, row_for


def _ctx(opset: int = 17, constant=(), values=None, nonneg=()) -> Context:
    values = values or {}
    return Context(opset, lambda t: not t or t in constant, values.get, lambda t: t in nonneg)


def test_table_covers_every_default_domain_operator_onnx_ships():
    names = {
        s.name for s in onnx.defs.get_all_schemas_with_history() if s.domain in ("", "ai.onnx")
    }
    missing = sorted(names - set(TABLE))
    assert missing == []


def test_other_domains_are_barriers_even_with_a_linear_sounding_name():
    node = helper.make_node("Conv", ["x", "w"], ["y"], domain="com.example")
    assert row_for(node).kind == Kind.BARRIER


def test_unknown_default_domain_op_is_a_barrier():
    node = helper.make_node("FancyLinear", ["x"], ["y"])
    assert row_for(node).kind == Kind.BARRIER


@pytest.mark.parametrize(
    "op",
    [
        "Relu",
        "Sigmoid",
        "Tanh",
        "MaxPool",
        "LayerNormalization",
        "Softmax",
        "QuantizeLinear",
        "InstanceNormalization",
        "GroupNormalization",
        "LRN",
        "Erf",
    ],
)
def test_nonlinear_ops_are_barriers(op):
    node = helper.make_node(op, ["x"], ["y"])
    assert classify(node, _ctx())[0] == Kind.BARRIER


@pytest.mark.parametrize(
    ("op", "kind"),
    [
        ("Conv", Kind.PARAM),
        ("ConvTranspose", Kind.PARAM),
        ("BatchNormalization", Kind.PASS),
        ("Reshape", Kind.PASS),
        ("Transpose", Kind.PASS),
        ("AveragePool", Kind.PASS),
        ("Pad", Kind.PASS),
        ("Add", Kind.JOIN),
        ("Concat", Kind.JOIN),
        ("Mul", Kind.MUL),
        ("Div", Kind.DIV),
        ("DequantizeLinear", Kind.PASS),
        ("Resize", Kind.PASS),
    ],
)
def test_linear_ops_have_their_family(op, kind):
    node = helper.make_node(op, ["x", "w"], ["y"])
    assert classify(node, _ctx(constant={"w"}))[0] == kind


def test_matmul_of_two_activations_is_a_barrier():
    node = helper.make_node("MatMul", ["q", "k"], ["y"])
    assert classify(node, _ctx())[0] == Kind.BARRIER


def test_matmul_with_a_constant_operand_is_parametric():
    node = helper.make_node("MatMul", ["x", "w"], ["y"])
    assert classify(node, _ctx(constant={"w"}))[0] == Kind.PARAM


def test_leaky_relu_is_the_identity_only_when_alpha_is_one():
    one = helper.make_node("LeakyRelu", ["x"], ["y"], alpha=1.0)
    small = helper.make_node("LeakyRelu", ["x"], ["y"], alpha=0.1)
    assert classify(one, _ctx())[0] == Kind.IDENTITY
    assert classify(small, _ctx())[0] == Kind.BARRIER


def test_clip_is_the_identity_only_between_minus_and_plus_infinity():
    """An absent bound is the type's lowest/highest finite value: Clip() clamps ±Inf."""
    attr_style = helper.make_node("Clip", ["x"], ["y"])
    bounded_attr = helper.make_node("Clip", ["x"], ["y"], min=0.0, max=6.0)
    input_style = helper.make_node("Clip", ["x", "", ""], ["y"])
    infinite = helper.make_node("Clip", ["x", "lo", "hi"], ["y"])
    assert classify(attr_style, _ctx(opset=6))[0] == Kind.BARRIER
    assert classify(bounded_attr, _ctx(opset=6))[0] == Kind.BARRIER
    assert classify(input_style, _ctx(opset=13))[0] == Kind.BARRIER
    inf = {"lo": np.array(-np.inf, np.float32), "hi": np.array(np.inf, np.float32)}
    assert classify(infinite, _ctx(opset=13, constant={"lo", "hi"}, values=inf))[0] == Kind.IDENTITY
    half = {"lo": inf["lo"], "hi": np.array(6.0, np.float32)}
    assert classify(infinite, _ctx(opset=13, constant={"lo", "hi"}, values=half))[0] == Kind.BARRIER


def test_relu_is_the_identity_only_on_a_nonnegative_input():
    node = helper.make_node("Relu", ["x"], ["y"])
    assert classify(node, _ctx(nonneg={"x"}))[0] == Kind.IDENTITY
    assert classify(node, _ctx())[0] == Kind.BARRIER


def test_batchnorm_in_training_mode_is_a_barrier():
    node = helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], training_mode=1)
    assert classify(node, _ctx(opset=15))[0] == Kind.BARRIER


def test_dropout_in_training_mode_is_a_barrier():
    import numpy as np

    node = helper.make_node("Dropout", ["x", "r", "t"], ["y"])
    training = {"t": np.array(True)}
    inference = {"t": np.array(False)}
    assert classify(node, _ctx(opset=13, constant={"r", "t"}, values=training))[0] == Kind.BARRIER
    assert classify(node, _ctx(opset=13, constant={"r", "t"}, values=inference))[0] == Kind.PASS


def test_dropout_with_is_test_zero_in_old_opsets_is_a_barrier():
    node = helper.make_node("Dropout", ["x"], ["y"], is_test=0)
    assert classify(node, _ctx(opset=6))[0] == Kind.BARRIER


def test_cast_to_an_integer_type_is_a_barrier():
    to_int = helper.make_node("Cast", ["x"], ["y"], to=onnx.TensorProto.INT8)
    to_half = helper.make_node("Cast", ["x"], ["y"], to=onnx.TensorProto.FLOAT16)
    assert classify(to_int, _ctx())[0] == Kind.BARRIER
    assert classify(to_half, _ctx())[0] == Kind.PASS
