"""Element types of a graph's tensors, found on demand.

Declared types first (inputs, outputs, value_info, initializers), then a walk back
through producers: most ops keep their first input's type (``optable.OUTPUT_TYPES``
lists those that do not). A name walked is remembered with the type found.
"""

from __future__ import annotations

import onnx
from onnx import GraphProto, NodeProto

from linlint.analysis.optable import DEFAULT_DOMAINS, OUTPUT_TYPES
from linlint.model.graphs import attr, attribute, initializer_tensors


class ElementTypes:
    """The ``elem_type`` half of ``sweep.GraphAnalysis``.

    It reads the analysis' ``graph``, ``producer`` and ``outer``, and remembers types in
    ``declared_types``.
    """

    def elem_type(self, name: str) -> int:
        """The tensor's element type (``TensorProto`` enum), 0 when unknown."""
        if self.declared_types is None:
            self.declared_types = _declared_types(self.graph)
        g: ElementTypes | None = self
        t = name
        walked: list[tuple[ElementTypes, str]] = []  # names that share the type found
        found = 0
        for _ in range(100_000):
            if g is None or not t:
                break
            found = g.declared_types.get(t) if g.declared_types is not None else None
            if found:
                break
            walked.append((g, t))
            if t not in g.producer:
                # the next scope out: its declarations (inputs included) may know the type,
                # so every scope is asked, not only the one ``defining_scope`` would find
                g = g.outer
                if g is not None and g.declared_types is None:
                    g.declared_types = _declared_types(g.graph)
                continue
            node = g.graph.node[g.producer[t]]  # (the sweep may not have recorded it yet)
            if node.domain not in DEFAULT_DOMAINS:
                found = 0
                break
            rule = OUTPUT_TYPES.get(node.op_type)
            if isinstance(rule, int):
                found = rule
                break
            if rule == "to":
                found = int(attr(node, "to", 0))
                break
            if rule == "constant":
                found = _constant_type(node)
                break
            index = rule if isinstance(rule, tuple) else (0,)
            nxt = next((node.input[i] for i in index if i < len(node.input) and node.input[i]), "")
            t = nxt
        found = found or 0
        for scope, walked_name in walked:  # remembered: each name is walked once
            if scope.declared_types is not None:
                scope.declared_types[walked_name] = found
        return found


def _declared_types(graph: GraphProto) -> dict[str, int]:
    types: dict[str, int] = {}
    for vi in list(graph.input) + list(graph.output) + list(graph.value_info):
        if vi.type.HasField("tensor_type") and vi.type.tensor_type.elem_type:
            types[vi.name] = vi.type.tensor_type.elem_type
    for t in initializer_tensors(graph):
        types[t.name] = t.data_type
    return types


#: The element type of each literal a ``Constant`` may hold (``value`` and
#: ``sparse_value`` hold tensors, which carry their own).
_LITERAL_TYPES = {
    "value_float": onnx.TensorProto.FLOAT,
    "value_floats": onnx.TensorProto.FLOAT,
    "value_int": onnx.TensorProto.INT64,
    "value_ints": onnx.TensorProto.INT64,
    "value_string": onnx.TensorProto.STRING,
    "value_strings": onnx.TensorProto.STRING,
}


def _constant_type(node: NodeProto) -> int:
    a = attribute(node, "value", "sparse_value", *_LITERAL_TYPES)
    if a is None:
        return 0
    if a.name == "value":
        return a.t.data_type
    if a.name == "sparse_value":
        return a.sparse_tensor.values.data_type
    return _LITERAL_TYPES[a.name]
