"""Silencing findings on purpose: per-node ignores in ``[tool.linlint]``, ``linlint:ignore``
in the model's ``metadata_props``, and baselines (``linlint.checking.suppression``)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import onnx
import pytest
from typer.testing import CliRunner

import tiny
from conftest import SAMPLES
from linlint.checking.config import load_config
from linlint.cli.app import app
from linlint.errors import LinlintError

runner = CliRunner()
BLOCKS = SAMPLES / "ll001_blocks_dynamo.onnx"  # two LL001: blocks.0.* and blocks.1.*


def check(*args) -> tuple[int, str]:
    result = runner.invoke(app, ["check", "--no-progress", *map(str, args)])
    return result.exit_code, result.output


def json_findings(*args) -> list[dict]:
    code, out = check("--format", "json", *args)
    assert code in (0, 1), out
    return json.loads(out[out.index("[") :])


def copy_blocks(folder: Path, name: str = "m.onnx") -> Path:
    target = folder / name
    shutil.copy(BLOCKS, target)
    return target


def with_metadata(path: Path, *, node: str | None = None, value: str = "all") -> Path:
    """Set ``linlint:ignore`` = ``value`` on ``node`` (or on the model) and save."""
    model = onnx.load(path)
    if node is None:
        model.metadata_props.add(key="linlint:ignore", value=value)
    else:
        target = next(n for n in model.graph.node if n.name == node)
        target.metadata_props.add(key="linlint:ignore", value=value)
    onnx.save(model, path)
    return path


def config(folder: Path, body: str) -> Path:
    path = folder / "pyproject.toml"
    path.write_text(f"[tool.linlint]\n{body}\n")
    return path


def test_without_suppressions_the_sample_has_two_findings(tmp_path):
    model = copy_blocks(tmp_path)
    assert [f["nodes"] for f in json_findings(model, "--isolated")] == [
        ["node_conv2d", "node_conv2d_1"],
        ["node_conv2d_2", "node_conv2d_3"],
    ]


def test_per_node_ignore_by_module_glob_silences_one_finding_and_not_the_other(tmp_path):
    model = copy_blocks(tmp_path)
    config(tmp_path, 'per-node-ignores = { "*.onnx" = { LL001 = ["blocks.0.*"] } }')
    found = json_findings(model)
    assert [f["nodes"] for f in found] == [["node_conv2d_2", "node_conv2d_3"]]


def test_per_node_ignore_by_node_name_glob(tmp_path):
    model = copy_blocks(tmp_path)
    config(tmp_path, 'per-node-ignores = { "*.onnx" = { LL = ["node_conv2d_3"] } }')
    assert [f["nodes"] for f in json_findings(model)] == [["node_conv2d", "node_conv2d_1"]]


def test_per_node_ignore_of_another_rule_or_file_silences_nothing(tmp_path):
    model = copy_blocks(tmp_path)
    body = 'per-node-ignores = { "*.onnx" = { LL002 = ["*"] }, "other.onnx" = { LL001 = ["*"] } }'
    config(tmp_path, body)
    assert len(json_findings(model)) == 2


def test_per_node_ignores_with_an_unknown_code_name_the_key(tmp_path):
    path = config(tmp_path, 'per-node-ignores = { "*.onnx" = { LL999 = ["*"] } }')
    with pytest.raises(LinlintError, match="per-node-ignores"):
        load_config(path)


def test_node_metadata_silences_the_findings_that_include_that_node(tmp_path):
    model = with_metadata(copy_blocks(tmp_path), node="node_conv2d_1", value="LL001,LL005")
    assert [f["nodes"] for f in json_findings(model, "--isolated")] == [
        ["node_conv2d_2", "node_conv2d_3"]
    ]


def test_node_metadata_for_another_rule_silences_nothing(tmp_path):
    model = with_metadata(copy_blocks(tmp_path), node="node_conv2d_1", value="LL005")
    assert len(json_findings(model, "--isolated")) == 2


def test_model_metadata_all_silences_the_whole_file(tmp_path):
    model = with_metadata(copy_blocks(tmp_path), value="all")
    code, out = check(model, "--isolated")
    assert code == 0
    assert "All checked: no findings in 1 file. 2 suppressed." in out


def test_summary_line_counts_suppressed_findings(tmp_path):
    model = with_metadata(copy_blocks(tmp_path), node="node_conv2d", value="LL001")
    code, out = check(model, "--isolated")
    assert code == 1
    assert "Found 1 finding (1 warning) in 1 of 1 file. 1 suppressed." in out


def test_json_holds_only_the_findings_not_suppressed_and_no_count(tmp_path):
    model = with_metadata(copy_blocks(tmp_path), node="node_conv2d", value="all")
    found = json_findings(model, "--isolated")
    assert isinstance(found, list) and len(found) == 1
    assert "suppressed" not in found[0]


def chain_model(*, extra: bool):
    """fc1 → fc2 (LL001), a Relu, then fc3 alone, or fc3 → fc4 (a second LL001)."""
    tail = "[fc4] y = MatMul(t, w4)" if extra else "y = Identity(t)"
    width = 2 if extra else 8
    text = f"""
        g (float[1, 8] x) => (float[1, {width}] y) {{
            [fc1] a = MatMul(x, w1)
            [fc2] b = MatMul(a, w2)
            [act] r = Relu(b)
            [fc3] t = MatMul(r, w3)
            {tail}
        }}"""
    shapes = {"w1": (8, 8), "w2": (8, 2), "w3": (2, 8), "w4": (8, 2)}
    weights = {name: tiny.weights(shape, seed=i) for i, (name, shape) in enumerate(shapes.items())}
    if not extra:
        weights.pop("w4")
    return tiny.model(text, **weights)


def test_a_baseline_quiets_old_findings_and_reports_new_ones(tmp_path):
    model = tmp_path / "m.onnx"
    onnx.save(chain_model(extra=False), model)
    baseline = tmp_path / "baseline.json"
    code, out = check(model, "--isolated", "--write-baseline", baseline)
    assert code == 0 and "1 suppressed" in out
    assert [e["nodes"] for e in json.loads(baseline.read_text())["findings"]] == [["fc1", "fc2"]]

    onnx.save(chain_model(extra=True), model)  # the model grows a second chain
    found = json_findings(model, "--isolated", "--baseline", baseline)
    assert [f["nodes"] for f in found] == [["fc3", "fc4"]]


def test_a_baseline_still_matches_after_a_re_export_renames_the_nodes(tmp_path):
    model = copy_blocks(tmp_path)
    baseline = tmp_path / "baseline.json"
    check(model, "--isolated", "--write-baseline", baseline)
    renamed = onnx.load(model)
    for node in renamed.graph.node:
        node.name = f"reexported_{node.name}"
    onnx.save(renamed, model)
    assert json_findings(model, "--isolated") != []  # the findings are there, renamed
    code, out = check(model, "--isolated", "--baseline", baseline)
    assert code == 0
    assert "no findings in 1 file. 2 suppressed." in out


def test_the_configuration_names_a_baseline_relative_to_its_folder(tmp_path):
    model = copy_blocks(tmp_path)
    check(model, "--isolated", "--write-baseline", tmp_path / "accepted.json")
    config(tmp_path, 'baseline = "accepted.json"')
    assert json_findings(model) == []


def test_a_missing_baseline_is_an_error(tmp_path):
    model = copy_blocks(tmp_path)
    code, out = check(model, "--isolated", "--baseline", tmp_path / "nope.json")
    assert code == 2
    assert "baseline file not found" in out


def test_the_python_api_leaves_out_what_the_model_metadata_silences(tmp_path):
    import linlint

    model = with_metadata(copy_blocks(tmp_path), node="node_conv2d", value="LL001")
    assert [f.nodes for f in linlint.check(model, isolated=True)] == [
        ("node_conv2d_2", "node_conv2d_3")
    ]
    assert len(linlint.check(onnx.load(model), isolated=True)) == 1


@pytest.mark.parametrize("fmt", ["markdown", "html"])
def test_markdown_and_html_summaries_count_suppressed_findings_too(tmp_path, fmt):
    model = with_metadata(copy_blocks(tmp_path), node="node_conv2d", value="LL001")
    code, out = check(model, "--isolated", "--format", fmt)
    assert code == 1
    assert "1 suppressed." in out


def test_the_python_api_applies_a_baseline_as_the_command_line_does(tmp_path):
    import linlint

    model = tmp_path / "m.onnx"
    onnx.save(chain_model(extra=False), model)
    baseline = tmp_path / "baseline.json"
    check(model, "--isolated", "--write-baseline", baseline)
    onnx.save(chain_model(extra=True), model)  # a second chain appears
    assert [f.nodes for f in linlint.check(model, isolated=True, baseline=baseline)] == [
        ("fc3", "fc4")
    ]


def test_the_python_api_reads_the_configured_baseline_so_a_test_agrees_with_ci(tmp_path):
    import linlint

    model = copy_blocks(tmp_path)
    check(model, "--isolated", "--write-baseline", tmp_path / "accepted.json")
    config(tmp_path, 'baseline = "accepted.json"')
    assert linlint.check(model) == []
    assert len(linlint.check(model, isolated=True)) == 2
