"""``fold`` leaves what is silenced on purpose as it is, as ruff's ``--fix`` leaves a
``noqa`` line: a ``linlint:ignore`` entry in the model, ``per-node-ignores`` and a baseline
(``FoldOptions.silence``, ``linlint.checking.suppression.silencer``)."""

from __future__ import annotations

import json

import onnx
from test_suppressions import chain_model, config, copy_blocks, with_metadata
from typer.testing import CliRunner

from linlint.cli.app import app

runner = CliRunner()


def fold(*args) -> tuple[int, str]:
    result = runner.invoke(app, ["fold", "--no-progress", *map(str, args)])
    return result.exit_code, result.output


def node_names(path) -> set[str]:
    return {node.name for node in onnx.load(path).graph.node}


def test_fold_leaves_a_chain_whose_node_metadata_silences_it(tmp_path):
    model = with_metadata(copy_blocks(tmp_path), node="node_conv2d", value="LL001")
    out = tmp_path / "out.onnx"
    code, text = fold(model, "--isolated", "-o", out)
    assert code == 0, text
    names = node_names(out)
    assert {"node_conv2d", "node_conv2d_1"} <= names  # the silenced chain, untouched
    assert not {"node_conv2d_2", "node_conv2d_3"} & names  # the other chain, folded
    assert "1 suppressed finding not folded" in text
    assert text.endswith("folded 1 of 1 file; 1 suppressed\n")


def test_fold_writes_an_unchanged_copy_when_the_model_silences_everything(tmp_path):
    model = with_metadata(copy_blocks(tmp_path))
    out = tmp_path / "out.onnx"
    code, text = fold(model, "--isolated", "-o", out)
    assert code == 0, text
    assert node_names(out) == node_names(model)
    assert "nothing to fold; wrote an unchanged copy" in text
    assert "2 suppressed" in text


def test_fold_leaves_a_chain_a_per_node_ignore_silences(tmp_path):
    model = copy_blocks(tmp_path)
    config(tmp_path, 'per-node-ignores = { "*.onnx" = { LL001 = ["blocks.1.*"] } }')
    code, text = fold(model, "--diff")
    assert code == 1, text  # the other chain would fold
    assert "- node_conv2d (Conv)" in text
    assert "node_conv2d_2" not in text.split("diff:")[1]


def test_fold_leaves_baselined_findings_and_folds_a_new_one(tmp_path):
    model = tmp_path / "m.onnx"
    onnx.save(chain_model(extra=False), model)
    baseline = tmp_path / "baseline.json"
    runner.invoke(app, ["check", "--isolated", str(model), "--write-baseline", str(baseline)])
    onnx.save(chain_model(extra=True), model)  # a second chain appears
    out = tmp_path / "out.onnx"
    code, text = fold(model, "--isolated", "--baseline", baseline, "-o", out)
    assert code == 0, text
    names = node_names(out)
    assert {"fc1", "fc2"} <= names
    assert not {"fc3", "fc4"} & names


def test_the_configured_baseline_applies_to_fold_too(tmp_path):
    model = copy_blocks(tmp_path)
    runner.invoke(
        app, ["check", "--isolated", str(model), "--write-baseline", str(tmp_path / "a.json")]
    )
    config(tmp_path, 'baseline = "a.json"')
    code, text = fold(model, "--diff")
    assert code == 0, text
    assert "nothing to fold" in text and "2 suppressed" in text


def test_fold_json_counts_the_suppressed_findings(tmp_path):
    model = with_metadata(copy_blocks(tmp_path), node="node_conv2d", value="LL001")
    code, text = fold(model, "--isolated", "--diff", "--format", "json")
    report = json.loads(text[text.index("{") :])
    assert report["suppressed"] == 1
    assert [f["nodes"] for f in report["remaining"]] == []


def test_the_python_api_fold_leaves_metadata_silenced_nodes(tmp_path):
    import linlint

    model = with_metadata(copy_blocks(tmp_path), node="node_conv2d_3", value="LL001")
    result = linlint.fold(model, isolated=True)
    assert result.suppressed == 1
    assert {"node_conv2d_2", "node_conv2d_3"} <= {n.name for n in result.model.graph.node}
    assert [r.nodes for r in result.folded] == [("node_conv2d", "node_conv2d_1")]
    assert result.remaining == []


def test_the_python_api_fold_honours_per_node_ignores_of_the_configuration(tmp_path):
    import linlint

    model = copy_blocks(tmp_path)
    config(tmp_path, 'per-node-ignores = { "*.onnx" = { ALL = ["blocks.0.*"] } }')
    result = linlint.fold(model)
    assert result.suppressed == 1
    assert [r.nodes for r in result.folded] == [("node_conv2d_2", "node_conv2d_3")]


def test_the_python_api_fold_leaves_baselined_findings(tmp_path):
    import linlint

    model = copy_blocks(tmp_path)
    baseline = tmp_path / "b.json"
    runner.invoke(app, ["check", "--isolated", str(model), "--write-baseline", str(baseline)])
    result = linlint.fold(model, isolated=True, baseline=baseline)
    assert result.suppressed == 2
    assert not result.changed
