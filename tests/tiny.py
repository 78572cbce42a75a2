"""Tiny hand-written ONNX models for tests, written in ONNX's text syntax.

``model(text, **initializers)`` parses a graph written the way ``onnx.parser`` reads it
and adds numpy arrays as initializers under their keyword names::

    model('''
        g (float[1, 4] x) => (float[1, 3] y) {
            [fc1] h = MatMul(x, w1)
            [fc2] y = MatMul(h, w2)
        }''', w1=weights((4, 4)), w2=weights((4, 3), seed=1))

The header (IR version and default-domain opset) is added unless the text starts with
its own ``<...>`` header. The text says the graph as it reads; nothing is checked, so
deliberately broken graphs (a cycle, a tensor nobody produces) are written the same way.
In the text, ``float[]`` declares a tensor of unknown shape and ``float`` a scalar (as
``value(name, elem, None)`` and ``value(name, elem, [])`` do).
Models that need per-node ``onnx.helper`` calls (generated node lists, attributes the
text syntax cannot say) use ``from_nodes``; ``constant_in_branches`` is the one model whose
only tensor is a node attribute inside subgraphs (where external-data handling must look).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import onnx
import onnx.parser
from onnx import helper, numpy_helper

OPSET = 17
IR_VERSION = 8


def model(
    text: str, *, opset: int = OPSET, ir: int = IR_VERSION, **initializers
) -> onnx.ModelProto:
    """The model ``text`` says, with ``initializers`` (name → array) added to its graph."""
    text = text.strip()
    if not text.startswith("<"):
        text = f'<ir_version: {ir}, opset_import: ["" : {opset}]>\n{text}'
    parsed = onnx.parser.parse_model(text)
    parsed.graph.initializer.extend(tensor(name, array) for name, array in initializers.items())
    return parsed


def from_nodes(
    nodes: Iterable[onnx.NodeProto],
    inputs: Iterable[onnx.ValueInfoProto],
    outputs: Iterable[onnx.ValueInfoProto],
    inits: Iterable[onnx.TensorProto] = (),
    *,
    opset: int = OPSET,
    ir: int = IR_VERSION,
) -> onnx.ModelProto:
    """A model of one graph ``g`` from ``onnx.helper`` pieces, in the default domain."""
    graph = helper.make_graph(list(nodes), "g", list(inputs), list(outputs), list(inits))
    built = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    built.ir_version = ir
    return built


def constant_in_branches(constant: onnx.TensorProto) -> onnx.ModelProto:
    """y = If(cond), both branches one Constant node holding ``constant`` (kept as it is,
    external data included): a tensor in a subgraph's node attribute, no initializer."""
    shape = list(constant.dims)
    branch = helper.make_graph(
        [helper.make_node("Constant", [], ["c_out"], value=constant)],
        "branch",
        [],
        [value("c_out", constant.data_type, shape)],
    )
    return from_nodes(
        [helper.make_node("If", ["cond"], ["y"], then_branch=branch, else_branch=branch)],
        [value("cond", onnx.TensorProto.BOOL, [])],
        [value("y", constant.data_type, shape)],
    )


def tensor(name: str, array) -> onnx.TensorProto:
    """An initializer: ``array`` as it is (its dtype kept) under ``name``."""
    return numpy_helper.from_array(np.asarray(array), name)


def value(name: str, elem: int, shape) -> onnx.ValueInfoProto:
    """A graph input or output: element type ``elem`` (a ``TensorProto`` constant), ``shape``."""
    return helper.make_tensor_value_info(name, elem, shape)


def weights(shape: tuple[int, ...], seed: int = 0, scale: float = 1.0) -> np.ndarray:
    """Seeded standard-normal float32 values of ``shape``, times ``scale``."""
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape) * scale).astype(np.float32)
