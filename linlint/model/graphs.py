"""Walking ONNX graphs: node attributes, the subgraphs a node holds, every nested graph,
the names a graph's initializers define, and the inputs a caller feeds.

One home for what every stage needs from the protobuf structure: the analysis,
the shape walk, the rewrite, the fold and the tensor validation all read attributes
and walk subgraphs the same way.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from onnx import AttributeProto, GraphProto, NodeProto, TensorProto, helper

from linlint.wording import quoted_list

#: Default-domain ops whose attributes hold subgraphs (other domains' ops may hold some too).
GRAPH_OPS = frozenset({"If", "Loop", "Scan", "SequenceMap"})


def attribute(node: NodeProto, *names: str) -> AttributeProto | None:
    """The first of a node's attributes named one of ``names``, as stored (its fields read
    whatever type it declares), or None when it has none of them."""
    for a in node.attribute:
        if a.name in names:
            return a
    return None


def attr(node: NodeProto, name: str, default=None):
    """The value of a node's attribute, or ``default`` when it has none of that name."""
    a = attribute(node, name)
    return default if a is None else helper.get_attribute_value(a)


def text_attr(node: NodeProto, name: str, default: str) -> str:
    """A string attribute's value as text (``auto_pad``, ``mode``), or ``default``."""
    value = attr(node, name, default)
    return value.decode() if isinstance(value, bytes) else value


def attribute_subgraphs(
    a: AttributeProto, every_field: bool = False
) -> list[tuple[str, GraphProto]]:
    """The subgraphs an attribute holds, each with its name (``body``, ``branches[1]``): by
    its declared type, or with ``every_field`` from its ``g`` and ``graphs`` fields whatever
    the type says (for attributes that declare none)."""
    found = []
    if a.type == AttributeProto.GRAPH or (every_field and a.HasField("g")):
        found.append((a.name, a.g))
    if a.type == AttributeProto.GRAPHS or every_field:
        found.extend((f"{a.name}[{k}]", g) for k, g in enumerate(a.graphs))
    return found


def node_subgraphs(node: NodeProto) -> list[tuple[str, GraphProto]]:
    """The subgraphs a node holds, each with its attribute name (``body``, ``branches[1]``)."""
    return [found for a in node.attribute for found in attribute_subgraphs(a)]


def nested_graphs(graph: GraphProto) -> Iterator[GraphProto]:
    """Every subgraph below ``graph``, at any depth (not ``graph`` itself)."""
    for node in graph.node:
        for _, sub in node_subgraphs(node):
            yield sub
            yield from nested_graphs(sub)


def all_graphs(graph: GraphProto) -> Iterator[GraphProto]:
    """``graph`` and every subgraph below it."""
    yield graph
    yield from nested_graphs(graph)


def initializer_tensors(graph: GraphProto) -> Iterator[TensorProto]:
    """The graph's initializers, a sparse one as its values tensor (which carries the
    initializer's name and element type)."""
    yield from graph.initializer
    for sparse in graph.sparse_initializer:
        yield sparse.values


def initializer_names(graph: GraphProto) -> set[str]:
    """The names the graph's initializers define, sparse ones included."""
    return {t.name for t in initializer_tensors(graph)}


def input_names(graph: GraphProto) -> list[str]:
    """The inputs a caller feeds: the graph's inputs that no initializer defines, in order."""
    constant = initializer_names(graph)
    return [value.name for value in graph.input if value.name not in constant]


def unknown_input_message(missing: Sequence[str], inputs: Sequence[Sequence[str]]) -> str:
    """Why an input shape was refused: ``missing`` names no input of the models; ``inputs``
    holds each model's input names."""
    names = quoted_list(missing)

    def listed(values: Sequence[str]) -> str:
        return quoted_list(values) or "none"

    if len(inputs) == 1:
        return (
            f"input shape given for {names}, but the model has no such input "
            f"(its inputs: {listed(inputs[0])})"
        )
    every = list(dict.fromkeys(name for values in inputs for name in values))
    return (
        f"input shape given for {names}, but no model checked has such an input "
        f"(the {len(inputs)} models' inputs: {listed(every)})"
    )
