"""Walking ONNX graphs: node attributes, the subgraphs a node holds, every nested graph.

One home for what every stage needs from the protobuf structure: the analysis,
the shape walk, the rewrite and the fold all walk subgraphs the same way.
"""

from __future__ import annotations

from collections.abc import Iterator

from onnx import AttributeProto, GraphProto, NodeProto, helper

#: Default-domain ops whose attributes hold subgraphs (other domains' ops may hold some too).
GRAPH_OPS = frozenset({"If", "Loop", "Scan", "SequenceMap"})


def attr(node: NodeProto, name: str, default=None):
    """The value of a node's attribute, or ``default`` when it has none of that name."""
    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


def node_subgraphs(node: NodeProto) -> list[tuple[str, GraphProto]]:
    """The subgraphs a node holds, each with its attribute name (``body``, ``branches[1]``)."""
    found = []
    for a in node.attribute:
        if a.type == AttributeProto.GRAPH:
            found.append((a.name, a.g))
        elif a.type == AttributeProto.GRAPHS:
            found.extend((f"{a.name}[{k}]", g) for k, g in enumerate(a.graphs))
    return found


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
