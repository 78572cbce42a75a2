"""Pictures (issue 13): each finding carries its region as a small graph, and the reports
draw it — as a branch tree in text, SVG in HTML, Mermaid in Markdown, node data for Model
Explorer. The browser's view of the HTML is ``test_html_browser.py``."""

from __future__ import annotations

import json
import re

import jsonschema
import pytest
from typer.testing import CliRunner

import linlint
from conftest import SAMPLES
from linlint.cli.app import app
from linlint.report import Scope, html, markdown, model_explorer, text
from linlint.report.layout import crossings, generations, layered


def check(stem: str):
    return linlint.check(SAMPLES / f"{stem}.onnx")


def only(stem: str):
    (finding,) = check(stem)
    return finding


@pytest.fixture(scope="module")
def sample_findings():
    return [f for path in sorted(SAMPLES.glob("*.onnx")) for f in linlint.check(path)]


# ----------------------------------------------------------------------------- the region as data


def test_a_parallel_region_carries_its_branches_source_exit_and_neighbours():
    region = only("ll004_repvgg_block").region
    members = [n.name for n in region.members]
    assert members == ["conv3x3", "bn3x3", "conv1x1", "bn1x1", "bn_identity", "sum"]
    assert region.sources == ("x",) and region.exit == "sum"
    roles = {n.name: n.role for n in region.nodes}
    assert roles["x"] == "input" and roles["relu"] == "after"
    sources = [e for e in region.edges if e.role == "source"]
    assert len(sources) == 3 and {e.tensor for e in sources} == {"x"}
    assert [e.tensor for e in region.edges if e.role == "exit"] == ["sum"]
    assert all(e.shape == (1, 8, 16, 16) for e in region.edges)


def test_region_nodes_carry_kernel_and_weight_shapes_and_parametric_ops_are_marked():
    region = only("ll004_repvgg_block").region
    conv = next(n for n in region.nodes if n.name == "conv3x3")
    bn = next(n for n in region.nodes if n.name == "bn3x3")
    assert conv.parametric and not bn.parametric
    assert dict(conv.attributes)["kernel"] == (3, 3)
    assert dict(conv.weights)["conv3x3.weight"] == (8, 8, 3, 3)


def test_every_region_node_has_an_origin_slot_left_empty():
    region = only("ll004_repvgg_block").region
    assert all(n.origin is None for n in region.nodes)
    assert all(n["origin"] is None for n in region.to_dict()["nodes"])


def test_the_folded_form_names_the_ops_with_their_kernel():
    (conv,) = only("ll004_repvgg_block").region.folded
    assert conv.op_type == "Conv"
    assert dict(conv.attributes)["kernel"] == (3, 3)
    assert conv.weights == ((8, 8, 3, 3), (8,))


def test_a_region_without_an_exact_fold_has_no_folded_form():
    assert only("ll003_conv3x3_conv3x3_padded").region.folded is None


def test_an_intermediate_read_outside_is_drawn_as_an_out_edge_to_the_graph_output():
    region = only("ll003_intermediate_is_output").region
    (out,) = [e for e in region.edges if e.role == "out"]
    assert out.tensor == "features" and region.node(out.head).role == "output"


def test_an_identity_activation_folds_to_nothing():
    region = only("ll006_relu_after_relu").region
    assert [n.name for n in region.members] == ["relu1_again"] and region.folded == ()


def test_region_members_are_the_findings_nodes_in_order(sample_findings):
    for f in sample_findings:
        assert tuple(n.name for n in f.region.members) == f.nodes


def test_the_drawn_fold_is_the_fold_that_is_written():
    for stem in ("repvgg_net_train", "ll007_densenet_transition", "ll001_matmul_add_3d_mlp"):
        result = linlint.fold(SAMPLES / f"{stem}.onnx", verify=False)
        assert result.folded
        for r in result.folded:
            assert tuple(op.op_type for op in r.region.folded) == r.ops_after


def test_json_findings_give_the_region_with_nodes_still_the_list_of_names():
    model = SAMPLES / "ll004_repvgg_block.onnx"
    out = CliRunner().invoke(app, ["check", "--format", "json", str(model)])
    (finding,) = json.loads(out.stdout)
    assert finding["nodes"] == ["conv3x3", "bn3x3", "conv1x1", "bn1x1", "bn_identity", "sum"]
    region = finding["region"]
    assert set(region) == {"sources", "exit", "nodes", "edges", "folded"}
    assert set(region["nodes"][0]) == {
        "id", "name", "op_type", "role", "parametric", "attributes", "weights", "origin",
    }  # fmt: skip
    assert set(region["edges"][0]) == {"tensor", "from", "to", "shape", "role"}
    assert region["folded"][0]["attributes"]["kernel"] == [3, 3]


# ----------------------------------------------------------------------------- layout


def test_layout_ranks_are_topological_generations():
    edges = [("x", "a"), ("x", "b"), ("a", "c"), ("b", "d"), ("c", "j"), ("d", "j"), ("x", "j")]
    assert generations(["x", "a", "b", "c", "d", "j"], edges) == {
        "x": 0, "a": 1, "b": 1, "c": 2, "d": 2, "j": 3,
    }  # fmt: skip


def test_layout_points_every_arrow_down_and_keeps_boxes_apart():
    sizes = {n: (60.0, 30.0) for n in "xabcdj"}
    edges = [("x", "a"), ("x", "b"), ("a", "c"), ("b", "d"), ("c", "j"), ("d", "j"), ("x", "j")]
    layout = layered(sizes, edges)
    for path in layout.paths:
        assert all(y0 < y1 for (_, y0), (_, y1) in zip(path, path[1:], strict=False))
    boxes = list(layout.boxes.values())
    for i, p in enumerate(boxes):
        for q in boxes[i + 1 :]:
            apart = p.x + p.width <= q.x or q.x + q.width <= p.x
            assert apart or p.y + p.height <= q.y or q.y + q.height <= p.y


def test_layout_orders_a_rank_to_remove_a_crossing():
    # a and b are listed crossed: x1 -> b, x2 -> a
    edges = [("x1", "b"), ("x2", "a")]
    layout = layered({n: (40.0, 20.0) for n in ("x1", "x2", "a", "b")}, edges)
    rows = [["x1", "x2"], sorted(["a", "b"], key=lambda n: layout.boxes[n].x)]
    assert crossings(rows, edges) == 0


# ----------------------------------------------------------------------------- text


def test_text_shows_a_parallel_region_as_a_tree_of_branches():
    out = text.render(check("ll004_repvgg_block"), Scope())
    assert out.splitlines()[1:4] == [
        "  x ─┬─ conv3x3 (Conv 3x3) → bn3x3 (BatchNorm) ┬─→ sum (Sum)",
        "     ├─ conv1x1 (Conv 1x1) → bn1x1 (BatchNorm) ┤",
        "     └─ bn_identity (BatchNorm) ───────────────┘",
    ]


def test_text_shows_a_residual_as_a_bare_branch():
    out = text.render(check("ll004_residual_x_plus_conv"), Scope())
    assert out.splitlines()[1:3] == [
        "  x ─┬─ conv (Conv 3x3) ┬─→ residual_add (Add)",
        "     └──────────────────┘",
    ]


def test_text_reads_a_chain_of_binary_adds_as_one_join():
    lines = text.render(check("ll004_dbb_block"), Scope()).splitlines()
    assert lines[1].endswith("┬─→ add1 (Add) → add2 (Add) → add3 (Add)")
    assert len([line for line in lines if "─┤" in line or "┤" in line]) == 2


def test_text_keeps_a_chain_without_branches_as_a_chain():
    out = text.render(check("ll001_conv3x3_conv1x1"), Scope())
    assert out.splitlines()[1] == "  conv1 → conv2"


# ----------------------------------------------------------------------------- markdown


MERMAID = re.compile(r"```mermaid\n(.*?)```", re.S)
NODE = re.compile(r'^\s+(\w+)(\(\[|\[)(".*")(\]\)|\]):::(\w+)$')
EDGE = re.compile(r'^\s+(\w+) (==>|-->|-\.->|-\. fold \.->)(\|"[^"]*"\|)? (\w+)$')
SUBGRAPH = re.compile(r'^\s+subgraph (\w+)\["[^"]*"\]$')


def mermaid_problems(diagram: str) -> list[str]:
    """A structural check of one flowchart: every node id declared once with a quoted
    label and a class, every edge between declared ids, subgraphs closed."""
    lines = diagram.strip().splitlines()
    problems = [] if lines[0] == "flowchart LR" else [f"header: {lines[0]}"]
    declared: set[str] = set()
    depth = 0
    for line in lines[1:]:
        if line.strip().startswith("classDef "):
            continue
        if m := SUBGRAPH.match(line):
            declared.add(m.group(1))
            depth += 1
        elif line.strip() == "end":
            depth -= 1
        elif m := NODE.match(line):
            label = m.group(3)[1:-1]
            if m.group(1) in declared or '"' in label:
                problems.append(f"node: {line}")
            declared.add(m.group(1))
        elif m := EDGE.match(line):
            if m.group(1) not in declared or m.group(4) not in declared:
                problems.append(f"edge between undeclared ids: {line}")
        else:
            problems.append(f"unparsed: {line}")
    return problems + ([f"{depth} unclosed subgraph(s)"] if depth else [])


def test_markdown_of_the_sample_models_is_valid_mermaid(sample_findings):
    page = markdown.render(sample_findings, Scope())
    diagrams = MERMAID.findall(page)
    assert len(diagrams) == min(len(sample_findings), markdown.MAX_DRAWN)
    for diagram in diagrams:
        assert mermaid_problems(diagram) == []


def test_markdown_stays_under_the_job_summary_limit(sample_findings):
    page = markdown.render(sample_findings * 20, Scope())
    assert len(page.encode()) < 1024 * 1024
    assert f"{len(sample_findings) * 20 - markdown.MAX_DRAWN:,} more findings not drawn" in page


def test_markdown_summary_counts_findings_by_rule_and_level(sample_findings):
    page = markdown.render(sample_findings, Scope())
    ll004 = sum(f.code == "LL004" for f in sample_findings)
    assert f"| LL004 parallel-linear-branches | 0 | {ll004} | 0 | {ll004} |" in page
    assert "`linlint fold` would fold" in page


def test_mermaid_labels_quote_what_would_break_them():
    assert markdown.quoted('a "b" <c> #1|') == '"a #quot;b#quot; #lt;c#gt; #35;1#124;"'


# ----------------------------------------------------------------------------- html


def test_html_is_one_self_contained_file(sample_findings):
    page = html.render(sample_findings, Scope())
    assert "<script" not in page and "<link" not in page and "@import" not in page
    assert not re.search(r'(src|href)=["\']?(https?:|//)', page)
    assert "url(http" not in page and "@font-face" not in page


def test_html_draws_one_figure_per_finding_with_its_counts():
    findings = check("ll004_repvgg_block")
    page = html.render(findings, Scope())
    (figure,) = re.findall(r'<figure class="drawing"[^>]*>', page)
    assert 'data-nodes="8" data-edges="9" data-after-nodes="3" data-after-edges="2"' in figure
    assert page.count('<g class="node') == 8 + 3


def test_html_gives_the_reason_where_the_fold_is_not_exact():
    page = html.render(check("ll003_conv3x3_conv3x3_padded"), Scope())
    assert "why not exact: <code>conv2</code> zero-pads" in page and "no exact fold" in page


def test_fold_report_draws_what_was_folded_with_the_verification(tmp_path):
    page = tmp_path / "fold.html"
    model = SAMPLES / "repvgg_net_train.onnx"
    args = ["fold", str(model), "--diff", "--no-progress", "--report", str(page)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1, result.output  # --diff: something would change
    written = page.read_text()
    assert written.count('<figure class="drawing"') == 4
    assert "verified: 1 output" in written and "<td>logits</td>" in written


# ----------------------------------------------------------------------------- model explorer

# Model Explorer's documented node data format (model_explorer.node_data_builder
# ModelNodeData / GraphNodeData / NodeDataResult, and the UI's NodeDataProviderData):
# an object keyed by graph id, each with results keyed by node id or output tensor name.
NODE_DATA_SCHEMA = {
    "type": "object",
    "additionalProperties": {
        "type": "object",
        "required": ["results"],
        "additionalProperties": False,
        "properties": {
            "name": {"type": "string"},
            "results": {
                "type": "object",
                "additionalProperties": {
                    "type": "object",
                    "required": ["value"],
                    "additionalProperties": False,
                    "properties": {
                        "value": {"type": ["number", "string"]},
                        "bgColor": {"type": "string"},
                        "textColor": {"type": "string"},
                    },
                },
            },
            "thresholds": {"type": "array"},
            "gradient": {"type": "array"},
            "hideInAggregatedStatsTable": {"type": "boolean"},
            "hideInChildrenStatsTable": {"type": "boolean"},
            "hideAggregatedStats": {"type": "array"},
            "showExpandedSummaryOnGroupNode": {"type": "boolean"},
            "showLabelCountColumnsInChildrenStatsTable": {"type": "boolean"},
        },
    },
}


def node_data(*paths) -> tuple[int, str]:
    args = ["check", "--format", "model-explorer", *map(str, paths)]
    result = CliRunner().invoke(app, args)
    return result.exit_code, result.stdout


def test_model_explorer_node_data_matches_the_documented_format():
    code, out = node_data(SAMPLES / "ll004_repvgg_block.onnx")
    assert code == 1
    jsonschema.validate(json.loads(out), NODE_DATA_SCHEMA)


def test_model_explorer_colours_each_finding_node_of_the_main_graph_by_rule_and_level():
    _, out = node_data(SAMPLES / "ll004_repvgg_block.onnx")
    (graph_id,) = json.loads(out)
    results = json.loads(out)[graph_id]["results"]
    assert graph_id == "ll004_repvgg_block"  # the model's graph name: the adapter's graph id
    assert set(results) == {"conv3x3", "bn3x3", "conv1x1", "bn1x1", "bn_identity", "sum"}
    assert {r["value"] for r in results.values()} == {"LL004 warning"}


def test_model_explorer_names_a_subgraph_as_the_onnx_adapter_does():
    _, out = node_data(SAMPLES / "ll001_chain_in_if_branch.onnx")
    assert list(json.loads(out)) == ["ll001_chain_in_if_branch/branch/then_branch"]


def test_model_explorer_keys_an_unnamed_node_by_its_output():
    _, out = node_data(SAMPLES / "ll001_unnamed_nodes.onnx")
    (results,) = [g["results"] for g in json.loads(out).values()]
    assert results and not any(key.startswith("#") for key in results)


def test_model_explorer_takes_one_model_at_a_time():
    code, _ = node_data(SAMPLES / "ll004_repvgg_block.onnx", SAMPLES / "ll005_conv_bn.onnx")
    assert code == 2


def test_model_explorer_builds_node_data_without_the_cli():
    data = model_explorer.build(check("ll005_conv_bn"), "main")
    jsonschema.validate(data, NODE_DATA_SCHEMA)
