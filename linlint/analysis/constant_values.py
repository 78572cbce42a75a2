"""Constant values of a graph's tensors, computed on demand.

A tensor is *constant* when its value does not depend on the graph inputs' values
(initializers, ``Constant`` nodes, ops of constant inputs). Its value is read from the
initializer or the ``Constant`` attribute, or computed by running its producer with
onnx's reference evaluator; ``None`` means unknown (external, shape-derived, or an op the
evaluator cannot run), which only makes the analysis conservative.
"""

from __future__ import annotations

import math

import numpy as np
import onnx
from onnx import NodeProto, numpy_helper

from linlint.model.graphs import attribute

SMALL_CONST = 1 << 16  # elements: values read while checking (slopes, pads, shapes)


class ConstantValues:
    """The ``const_value`` half of ``sweep.GraphAnalysis``.

    It reads the analysis' ``initializers``, ``producer``, ``nodes``, ``constant``,
    ``opset`` and ``load_tensor``, asks ``defining_scope`` for names an enclosing scope
    defines, and remembers values in ``values``.
    """

    def const_value(self, name: str, large: bool = False) -> np.ndarray | None:
        """The value of a constant tensor, or None when unknown (external, shape-derived).

        Iterative (a weight may be computed through hundreds of constant nodes); large
        initializer values are read each time, not kept: a fold reads each weight once.
        """
        if not name:
            return None
        key = (name, large)
        if key in self.values:
            return self.values[key]
        # Post-order over the constant computation: inputs before the nodes that read them.
        stack: list[tuple[ConstantValues, str, bool]] = [(self, name, False)]
        while stack:
            g, t, expanded = stack.pop()
            if (t, large) in g.values:
                continue
            if t in g.initializers:
                value = g._initializer_value(t, large)
                if large and value is not None and value.size > SMALL_CONST:
                    if g is self and t == name:
                        return value
                g.values[(t, large)] = value
                continue
            if t not in g.producer:
                scope, _ = g.defining_scope(t)  # an enclosing scope's, when one defines it
                g.values[(t, large)] = None if scope is None else scope.const_value(t, large)
                continue
            state = g.nodes[g.producer[t]]
            if state.kind is not None or t not in g.constant:
                g.values[(t, large)] = None
                continue
            node = state.node
            if node.op_type == "Constant":
                g.values[(t, large)] = _constant_value(node, g.load_tensor if large else None)
                continue
            inputs = [i for i in node.input if i]
            if not expanded:
                stack.append((g, t, True))
                stack.extend((g, i, False) for i in inputs if (i, large) not in g.values)
                continue
            values = [g.values.get((i, large)) if i else None for i in node.input]
            if any(v is None for i, v in zip(node.input, values, strict=True) if i):
                g.values[(t, large)] = None
                continue
            g.values[(t, large)] = _evaluate(node, values, g.opset, t)
        return self.values.get(key)

    def _initializer_value(self, name: str, large: bool) -> np.ndarray | None:
        tensor = self.initializers[name]
        if isinstance(tensor, onnx.SparseTensorProto):
            return _sparse_value(tensor, large, self.load_tensor)
        if not large and _numel(tensor) > SMALL_CONST:
            return None
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            return self.load_tensor(tensor) if (large and self.load_tensor) else None
        return numpy_helper.to_array(tensor)


def _sparse_value(sparse: onnx.SparseTensorProto, large: bool, load) -> np.ndarray | None:
    """A sparse initializer as a dense array (indices linear or as coordinates)."""
    shape = tuple(sparse.dims)
    if not large and math.prod(shape) > SMALL_CONST:
        return None
    parts = []
    for tensor in (sparse.values, sparse.indices):
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            if not (large and load):
                return None
            parts.append(load(tensor))
        else:
            parts.append(numpy_helper.to_array(tensor))
    values, indices = parts
    dense = np.zeros(math.prod(shape), dtype=values.dtype)
    if indices.ndim == 2:
        indices = np.ravel_multi_index(tuple(indices.T), shape)
    dense[np.asarray(indices, dtype=np.int64).reshape(-1)] = values.reshape(-1)
    return dense.reshape(shape)


def _numel(tensor: onnx.TensorProto) -> int:
    n = 1
    for d in tensor.dims:
        n *= d
    return n


def _constant_value(node: NodeProto, load=None) -> np.ndarray | None:
    a = attribute(node, "value", "value_float", "value_floats", "value_int", "value_ints")
    if a is None:
        return None
    if a.name == "value":
        if a.t.data_location == onnx.TensorProto.EXTERNAL:
            return load(a.t) if load is not None else None
        return numpy_helper.to_array(a.t)
    if a.name == "value_float":
        return np.array(a.f, dtype=np.float32)
    if a.name == "value_floats":
        return np.array(list(a.floats), dtype=np.float32)
    if a.name == "value_int":
        return np.array(a.i, dtype=np.int64)
    return np.array(list(a.ints), dtype=np.int64)


def _evaluate(node: NodeProto, inputs: list, opset: int, want: str) -> np.ndarray | None:
    """Run one constant node with onnx's reference evaluator."""
    from onnx.reference import ReferenceEvaluator

    try:
        names = [f"i{k}" if n else "" for k, n in enumerate(node.input)]
        outs = [f"o{k}" if n else "" for k, n in enumerate(node.output)]
        clone = onnx.helper.make_node(node.op_type, names, outs, domain=node.domain)
        clone.attribute.extend(node.attribute)
        feeds = {n: v for n, v in zip(names, inputs, strict=True) if n}
        graph = onnx.helper.make_graph(
            [clone],
            "const",
            [onnx.helper.make_tensor_value_info(n, 0, None) for n in feeds],
            [onnx.helper.make_tensor_value_info(o, 0, None) for o in outs if o],
        )
        model = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", opset)])
        with np.errstate(all="ignore"):
            results = ReferenceEvaluator(model).run(None, feeds)
        return np.asarray(results[list(node.output).index(want)])
    except Exception:  # noqa: BLE001 - an unknown value only makes the analysis conservative
        return None
