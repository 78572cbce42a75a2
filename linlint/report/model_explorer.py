"""Model Explorer's "custom node data" JSON: open the real model in Model Explorer (with its
ONNX adapter) and load this file to see every finding's nodes coloured.

The documented format (``model_explorer.node_data_builder.ModelNodeData``, and the UI's
``NodeDataProviderData``) is one object keyed by graph id; each graph's entry holds
``results``, keyed by node id or by one of the node's output tensor names, each a record
``{"value": ..., "bgColor": ..., "textColor": ...}`` (``value`` may be a number or a
string), and optional keys such as ``name``. Here:

- the graph id is the one the ONNX adapter gives: the main graph's name, and for a
  subgraph ``main/node/attribute``;
- a node is keyed by its name (the adapter's node id), an unnamed node by its first output;
- the value is the rule and the level (``LL004 warning``; several codes when findings
  share a node), coloured by the level; the legend of values is what Model Explorer shows
  on hover and in its side panel. The format has no field for a longer text: the messages
  are in the other reports.

One model per file: checking several files with this format is an error.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from linlint.checking.findings import Finding, level_rank
from linlint.errors import LinlintError
from linlint.report import Scope

COLORS = {"error": "#ffb3b3", "warning": "#ffd77a", "note": "#a8d8ff"}
TEXT = "#1f2328"
MAIN = "<main>"  # the adapter's name for a main graph without one


def _main_graph_name(file: str) -> str:
    from linlint.model.load import load_model

    try:
        return load_model(file).graph.name or MAIN
    except LinlintError:
        return MAIN


def _node_keys(finding: Finding) -> list[str]:
    """The key of each of the finding's own nodes: its name, or its first output."""
    if finding.region is None:
        return [n for n in finding.nodes if not n.startswith("#")]
    keys = []
    for node in finding.region.members:
        if not node.name.startswith("#"):
            keys.append(node.name)
            continue
        outputs = [e.tensor for e in finding.region.edges if e.tail == node.id]
        if outputs:
            keys.append(outputs[0])
    return keys


def build(findings: Sequence[Finding], main: str) -> dict:
    """The node data of one model's findings (``main``: its main graph's id)."""
    per_graph: dict[str, dict[str, tuple[list[str], str]]] = {}
    for f in findings:
        graph_id = f"{main}/{f.graph}" if f.graph else main
        results = per_graph.setdefault(graph_id, {})
        for key in _node_keys(f):
            codes, level = results.get(key, ([], f.level))
            if f.code not in codes:
                codes.append(f.code)
            results[key] = (codes, max(level, f.level, key=level_rank))
    data = {}
    for graph_id, results in per_graph.items():
        data[graph_id] = {
            "name": "linlint",
            "results": {
                key: {"value": f"{' '.join(codes)} {lv}", "bgColor": COLORS[lv], "textColor": TEXT}
                for key, (codes, lv) in results.items()
            },
            "showExpandedSummaryOnGroupNode": True,
            "showLabelCountColumnsInChildrenStatsTable": True,
        }
    return data


def render(findings: Sequence[Finding], scope: Scope = Scope()) -> str:
    """The node data JSON of the one model checked."""
    files = {str(f) for f in scope.files} if scope.files is not None else set()
    files |= {f.file for f in findings}
    if len(files) > 1:
        raise LinlintError(
            "`--format model-explorer` describes one model: check one file at a time "
            f"({len(files)} were given)"
        )
    main = _main_graph_name(next(iter(files))) if files else MAIN
    return json.dumps(build(findings, main), indent=2, ensure_ascii=False) + "\n"
