"""How messages name things (``linlint.wording``): a node, tensor, input or module name, an
option or a configuration key inside a message is quoted with backticks, as ruff quotes
identifiers; the lists of names under a finding stay bare."""

from __future__ import annotations

import ast
import re
import shutil

import onnx
import pytest
from typer.testing import CliRunner

import linlint
from conftest import ROOT, SAMPLES
from linlint.cli.app import app
from linlint.wording import quoted, quoted_list

runner = CliRunner()
SAMPLE_MODELS = sorted(SAMPLES.glob("*.onnx"))
BLOCKS = SAMPLES / "ll001_blocks_dynamo.onnx"  # input `x`; nodes node_conv2d, ...


def _names(finding) -> set[str]:
    """The node names and the module names (from the source) of a finding."""
    modules = {o.module for o in finding.node_origins if o is not None and o.module}
    return {n for n in finding.nodes if n} | modules


def _bare(name: str, message: str) -> list[str]:
    """The places ``name`` stands in ``message`` as a word of its own, not backticked."""
    word = re.compile(rf"(?<![\w.`/]){re.escape(name)}(?![\w`/]|\.\w)")
    return [message[max(m.start() - 20, 0) : m.end() + 20] for m in word.finditer(message)]


def test_quoted_puts_a_name_in_backticks_and_lists_several_with_commas():
    assert quoted("blocks.0.conv") == "`blocks.0.conv`"
    assert quoted_list(["x", "pixels"]) == "`x`, `pixels`"


@pytest.mark.parametrize("path", SAMPLE_MODELS, ids=lambda p: p.stem)
def test_node_names_in_messages_are_backticked(path):
    for finding in linlint.check(path, isolated=True):
        for name in _names(finding):
            assert not _bare(name, finding.message), (finding.code, name, finding.message)


def test_a_finding_that_names_nodes_names_them_backticked():
    """Not vacuous: some sample findings name their nodes (LL003, LL006) and modules."""
    named = [
        (name, f.message)
        for path in SAMPLE_MODELS
        for f in linlint.check(path, isolated=True)
        for name in _names(f)
        if quoted(name) in f.message
    ]
    assert {"conv2", "clip", "blocks.0.expand"} <= {name for name, _ in named}


def test_an_identity_activation_is_named_once_and_its_reason_said_once():
    (finding,) = linlint.check(SAMPLES / "ll006_clip_infinite_bounds.onnx", select=["LL006"])
    assert (
        finding.message == "Clip `clip` is the identity: min = -inf and max = +inf, so Clip(x) = x"
    )
    assert finding.message.count("identity") == 1


def test_an_unknown_input_shape_name_is_backticked_as_are_the_inputs_listed():
    result = runner.invoke(app, ["check", "--no-progress", str(BLOCKS), "--input-shape", "y=1x8"])
    assert result.exit_code == 2
    assert "input shape given for `y`, but the model has no such input (its inputs: `x`)" in (
        result.output
    )


def test_an_invalid_linlint_ignore_code_names_the_key_and_the_node_backticked(tmp_path):
    model = onnx.load(BLOCKS)
    model.graph.node[0].metadata_props.add(key="linlint:ignore", value="LL999")
    path = tmp_path / "m.onnx"
    onnx.save(model, path)
    result = runner.invoke(app, ["check", "--no-progress", str(path)])
    assert result.exit_code == 2
    assert "invalid `linlint:ignore` on node `node_conv2d`: unknown rule code `LL999`" in (
        result.output
    )


def test_an_invalid_config_key_is_backticked(tmp_path):
    shutil.copy(BLOCKS, tmp_path / "m.onnx")
    (tmp_path / "pyproject.toml").write_text('[tool.linlint]\nselct = ["LL001"]\n')
    result = runner.invoke(app, ["check", "--no-progress", str(tmp_path / "m.onnx")])
    assert result.exit_code == 2
    assert "unknown config key `tool.linlint.selct`" in result.output


def test_a_bad_configured_value_is_backticked_as_configuration_writes_it(tmp_path):
    shutil.copy(BLOCKS, tmp_path / "m.onnx")
    (tmp_path / "pyproject.toml").write_text('[tool.linlint]\nfail-on = "fatal"\nignore = 3\n')
    result = runner.invoke(app, ["check", "--no-progress", str(tmp_path / "m.onnx")])
    assert result.exit_code == 2
    assert "invalid config key `tool.linlint." in result.output
    assert "got `fatal`" in result.output or "got `3`" in result.output
    assert "'" not in result.output.split("error: ", 1)[1]


def test_an_option_named_in_a_message_is_backticked():
    (finding,) = linlint.check(SAMPLES / "ll002_matmul_transpose_matmul.onnx")
    assert "pass `--input-shape x=<B>x4x6` to decide" in finding.message
    assert "--input-shape" not in finding.message.replace("`--input-shape", "")


def test_the_node_chain_under_a_finding_stays_bare():
    result = runner.invoke(
        app, ["check", "--no-progress", str(SAMPLES / "ll001_conv1x1_conv1x1.onnx")]
    )
    assert "\n  conv1 → conv2\n" in result.output


def _single_quoted_fields(path) -> list[int]:
    """Lines of ``path`` with an f-string that puts a value between single quotes."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.JoinedStr):
            parts = node.values
            for before, value, after in zip(parts, parts[1:], parts[2:], strict=False):
                if (
                    isinstance(before, ast.Constant)
                    and isinstance(value, ast.FormattedValue)
                    and isinstance(after, ast.Constant)
                    and str(before.value).endswith("'")
                    and str(after.value).startswith("'")
                ):
                    found.append(node.lineno)
    return found


def test_no_message_puts_a_name_in_single_quotes():
    """The convention lives in ``wording.quoted``: no f-string quotes a name by hand."""
    sources = [*(ROOT / "linlint").rglob("*.py"), *(ROOT / "rules").glob("*.py")]
    found = {
        str(path.relative_to(ROOT)): lines
        for path in sources
        if path.name != "__init__.py" or path.parent.name != "linlint"  # AttributeError's
        if (lines := _single_quoted_fields(path))
    }
    assert not found


def test_html_reports_show_backticked_names_as_code():
    from linlint.report.escape import html_message

    assert html_message("between `a<b` and `c`") == "between <code>a&lt;b</code> and <code>c</code>"
