"""The tensors a model stores, and what each one's bytes must be.

``iter_tensors`` reaches every ``TensorProto`` of a model (initializers, sparse
tensors, node attributes, every nested subgraph, local functions, training
graphs), attributes without a declared type included, so that no external
tensor escapes validation; ``is_external`` tells which keep their values in a
file; ``expected_nbytes`` is the size their raw bytes must have.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator, Sequence

import onnx
from onnx import helper

from linlint.model.graphs import attribute_subgraphs
from linlint.wording import quoted

# Element types whose raw bytes pack several values per byte: bits per element.
_PACKED_BITS = {
    onnx.TensorProto.INT4: 4,
    onnx.TensorProto.UINT4: 4,
    onnx.TensorProto.FLOAT4E2M1: 4,
    onnx.TensorProto.INT2: 2,
    onnx.TensorProto.UINT2: 2,
    onnx.TensorProto.FLOAT6E2M3: 6,
    onnx.TensorProto.FLOAT6E3M2: 6,
}


def iter_tensors(model: onnx.ModelProto) -> Iterator[onnx.TensorProto]:
    """Every TensorProto stored in the model: initializers, attribute tensors, subgraphs.

    Covers sparse initializers (values and indices), node attributes (``t``,
    ``tensors``, sparse tensors) in the main graph, every nested subgraph,
    local functions and training-info graphs.
    """
    yield from _graph_tensors(model.graph)
    for function in model.functions:
        yield from _node_tensors(function.node)
    for info in model.training_info:
        yield from _graph_tensors(info.initialization)
        yield from _graph_tensors(info.algorithm)


def _graph_tensors(graph: onnx.GraphProto) -> Iterator[onnx.TensorProto]:
    yield from graph.initializer
    for sparse in graph.sparse_initializer:
        yield sparse.values
        yield sparse.indices
    yield from _node_tensors(graph.node)


def _node_tensors(nodes: Sequence[onnx.NodeProto]) -> Iterator[onnx.TensorProto]:
    for node in nodes:
        for attribute in node.attribute:
            # no declared type (very old exporters): look at every field
            every_field = attribute.type not in _DECLARED_KINDS
            yield from _attribute_tensors(attribute, every_field)
            for _, graph in attribute_subgraphs(attribute, every_field):
                yield from _graph_tensors(graph)


def _attribute_tensors(
    attribute: onnx.AttributeProto, every_field: bool
) -> Iterator[onnx.TensorProto]:
    """The tensors an attribute holds itself (not in subgraphs): by its declared type, or
    with ``every_field`` from every tensor field."""
    kinds = onnx.AttributeProto
    kind = attribute.type
    if kind == kinds.TENSOR or (every_field and attribute.HasField("t")):
        yield attribute.t
    if kind == kinds.TENSORS or every_field:
        yield from attribute.tensors
    if kind == kinds.SPARSE_TENSOR or (every_field and attribute.HasField("sparse_tensor")):
        yield attribute.sparse_tensor.values
        yield attribute.sparse_tensor.indices
    if kind == kinds.SPARSE_TENSORS or every_field:
        for sparse in attribute.sparse_tensors:
            yield sparse.values
            yield sparse.indices


#: Attribute types that say which field holds the value (others: look at every field).
_DECLARED_KINDS = frozenset(
    {
        onnx.AttributeProto.FLOAT,
        onnx.AttributeProto.INT,
        onnx.AttributeProto.STRING,
        onnx.AttributeProto.FLOATS,
        onnx.AttributeProto.INTS,
        onnx.AttributeProto.STRINGS,
        onnx.AttributeProto.TENSOR,
        onnx.AttributeProto.TENSORS,
        onnx.AttributeProto.SPARSE_TENSOR,
        onnx.AttributeProto.SPARSE_TENSORS,
        onnx.AttributeProto.GRAPH,
        onnx.AttributeProto.GRAPHS,
    }
)


def is_external(tensor: onnx.TensorProto) -> bool:
    """True when the tensor's values live in a file next to the model."""
    return tensor.data_location == onnx.TensorProto.EXTERNAL


def uses_external_data(model: onnx.ModelProto) -> bool:
    """True when any tensor of the model keeps its values in an external file."""
    return any(is_external(tensor) for tensor in iter_tensors(model))


@functools.lru_cache(maxsize=64)
def _itemsize(data_type: int) -> int | None:
    try:
        return helper.tensor_dtype_to_np_dtype(data_type).itemsize
    except (KeyError, ValueError, TypeError):
        return None


def expected_nbytes(tensor: onnx.TensorProto) -> int | None:
    """Bytes the tensor's raw data must have, or None for variable-size types (strings)."""
    count = math.prod(int(d) for d in tensor.dims)
    bits = _PACKED_BITS.get(tensor.data_type)
    if bits is not None:
        return (count * bits + 7) // 8
    if tensor.data_type in (onnx.TensorProto.STRING, onnx.TensorProto.UNDEFINED):
        return None
    itemsize = _itemsize(tensor.data_type)
    return None if itemsize is None else count * itemsize


def tensor_label(tensor: onnx.TensorProto) -> str:
    """How messages name a tensor: ``tensor `w```, or ``an unnamed tensor``."""
    return f"tensor {quoted(tensor.name)}" if tensor.name else "an unnamed tensor"
