"""What a fold changes in a model's graphs, for ``linlint fold --diff`` (as onnxsim's graph
diff): the node count per op type before and after, and each node removed, added or changed.

Nodes are matched by graph and name (an unnamed node by its outputs); a node whose op type,
inputs, outputs or attributes differ is *changed*. Every nested graph (If/Loop/Scan bodies)
is compared too. Example::

    m.onnx: diff: Conv 2 → 1, nodes 2 → 1
    m.onnx: - conv1 (Conv)
    m.onnx: - conv2 (Conv)
    m.onnx: + conv1_conv2 (Conv)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from onnx import GraphProto, ModelProto, NodeProto

from linlint.model.graphs import all_graphs


@dataclass
class GraphDiff:
    """Nodes removed, added and changed (``(name, op_type)``), and op counts before and after."""

    removed: list[tuple[str, str]] = field(default_factory=list)
    added: list[tuple[str, str]] = field(default_factory=list)
    changed: list[tuple[str, str]] = field(default_factory=list)
    before: Counter = field(default_factory=Counter)
    after: Counter = field(default_factory=Counter)

    @property
    def empty(self) -> bool:
        return not (self.removed or self.added or self.changed)


def _key(node: NodeProto) -> str:
    return node.name or "→".join(node.output)


def _nodes(model: ModelProto) -> Iterator[tuple[tuple[str, str], NodeProto]]:
    graph: GraphProto
    for graph in all_graphs(model.graph):
        for node in graph.node:
            yield (graph.name, _key(node)), node


def _signature(node: NodeProto) -> bytes:
    """The node without its name and doc string: what a change would alter."""
    copy = NodeProto()
    copy.CopyFrom(node)
    copy.name = ""
    copy.doc_string = ""
    if "metadata_props" in NodeProto.DESCRIPTOR.fields_by_name:
        copy.ClearField("metadata_props")
    return copy.SerializeToString(deterministic=True)


def graph_diff(original: ModelProto, folded: ModelProto) -> GraphDiff:
    """The nodes ``folded`` removes, adds and changes relative to ``original``."""
    diff = GraphDiff()
    old = dict(_nodes(original))
    new = dict(_nodes(folded))
    for key, node in old.items():
        diff.before[node.op_type] += 1
        if key not in new:
            diff.removed.append((key[1], node.op_type))
        elif _signature(new[key]) != _signature(node):
            diff.changed.append((key[1], new[key].op_type))
    for key, node in new.items():
        diff.after[node.op_type] += 1
        if key not in old:
            diff.added.append((key[1], node.op_type))
    return diff


def render_diff(model: str, diff: GraphDiff) -> list[str]:
    """The diff as text lines, each starting with the model's path (not yet escaped)."""
    if diff.empty:
        return [f"{model}: diff: no change"]
    ops = sorted(set(diff.before) | set(diff.after))
    counts = [
        f"{op} {diff.before[op]} → {diff.after[op]}"
        for op in ops
        if diff.before[op] != diff.after[op]
    ]
    total = f"nodes {sum(diff.before.values())} → {sum(diff.after.values())}"
    lines = [f"{model}: diff: {', '.join([*counts, total])}"]
    for mark, nodes in (("-", diff.removed), ("+", diff.added), ("~", diff.changed)):
        lines += [f"{model}: {mark} {name} ({op})" for name, op in nodes]
    return lines
