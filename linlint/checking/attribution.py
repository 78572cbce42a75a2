"""Findings in the user's terms: where each node comes from in the PyTorch source
(``linlint.model.origins``) and, where the model names the modules, what to change there,
added to the message by the rule (``Rule.in_source``: "no activation between
`block.expand` and `block.conv`"). A model that names nothing keeps its findings as they
are.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from onnx import NodeProto

from linlint.analysis.sweep import GraphAnalysis
from linlint.checking.findings import Finding
from linlint.model.origins import Origin, origin
from linlint.rules import get_rule

ROOT_MODULE = "<root>"


def _graphs(ga: GraphAnalysis) -> Iterable[GraphAnalysis]:
    yield ga
    for sub in ga.subgraphs:
        yield from _graphs(sub)


def modules_of(origins: Sequence[Origin | None]) -> list[str]:
    """The distinct module paths of known origins, in node order (``<root>`` for the root)."""
    found: list[str] = []
    for o in origins:
        if o is not None and (o.module or ROOT_MODULE) not in found:
            found.append(o.module or ROOT_MODULE)
    return found


def attach_origins(
    findings: Sequence[Finding], ga: GraphAnalysis, *, torch_export: bool = False
) -> list[Finding]:
    """The findings with their nodes' origins, and the rule's source hint in the message
    where some node has one. ``torch_export``: the model's producer is PyTorch."""
    graphs = {g.name: g for g in _graphs(ga)}
    labels: dict[str, dict[str, NodeProto]] = {}
    known: dict[tuple[str, str], Origin | None] = {}

    def origin_of(graph: str, label: str) -> Origin | None:
        key = (graph, label)
        if key not in known:
            if graph not in labels:
                states = graphs[graph].nodes if graph in graphs else []
                labels[graph] = {}
                for state in states:  # a name given twice: the first node of that name
                    labels[graph].setdefault(state.name, state.node)
            node = labels[graph].get(label)
            known[key] = origin(node, torch_export=torch_export) if node is not None else None
        return known[key]

    out = []
    for finding in findings:
        origins = tuple(origin_of(finding.graph, n) for n in finding.nodes)
        modules = modules_of(origins)
        if not modules:
            out.append(finding)
            continue
        rule = get_rule(finding.code)
        hint = rule.in_source(modules) if rule is not None else ""
        message = f"{finding.message}; {hint}" if hint else finding.message
        region = _pictured(finding.region, lambda name, g=finding.graph: origin_of(g, name))
        out.append(replace(finding, message=message, origins=origins, region=region))
    return out


def _pictured(picture, origin_of):
    """The finding's picture with each drawn node's origin (``block.expand (Conv2d) at
    model.py:6 in forward``) where the model says it; inputs and outputs have none."""
    if picture is None:
        return None
    nodes = []
    for node in picture.nodes:
        found = origin_of(node.name) if node.op_type else None
        if found is not None:
            where = found.where
            node = replace(node, origin=found.label + (f" at {where}" if where else ""))
        nodes.append(node)
    return replace(picture, nodes=tuple(nodes))


__all__ = ["ROOT_MODULE", "attach_origins", "modules_of"]
