"""Reporters: text, JSON, SARIF 2.1.0 (schema-valid, stable fingerprints), GitHub annotations."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from linlint.checking.findings import Finding, Fix
from linlint.cli.app import app
from linlint.report import (
    Scope,
    display_path,
    doc_section,
    doc_summary,
    github,
    render,
    sarif,
    text,
    write_output,
)

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "sample_models"
SARIF_SCHEMA = Path(__file__).resolve().parent / "data" / "sarif-schema-2.1.0.json"


def finding(**changes) -> Finding:
    base = Finding(
        code="LL001",
        name="redundant-linear-chain",
        level="warning",
        message="Conv 3x3 → Conv 1x1 = one Conv 3x3 (8→8)",
        file="models/a.onnx",
        graph="",
        nodes=("conv1", "conv2"),
        fix=Fix(True, "", 82944, 73728, 656, 584),
    )
    return replace(base, **changes)


def sarif_of(paths, exit_codes=(0, 1)) -> dict:
    result = CliRunner().invoke(app, ["check", "--format", "sarif", *map(str, paths)])
    assert result.exit_code in exit_codes, result.output
    return json.loads(result.stdout)


# ----------------------------------------------------------------------------- text


def test_text_finding_line_nodes_and_fix():
    out = text.render([finding()], Scope(files=["models/a.onnx"]))
    assert out.splitlines()[:3] == [
        "models/a.onnx: LL001 [*] [warning] redundant-linear-chain: "
        "Conv 3x3 → Conv 1x1 = one Conv 3x3 (8→8)",
        "  conv1 → conv2",
        "  fix: exact, MACs 82,944 → 73,728, params 656 → 584",
    ]


def test_text_inexact_fix_says_why_and_subgraph_is_named():
    f = finding(graph="if_0/then_branch", fix=Fix(False, "conv2 zero-pads", 10, 20, 1, 2))
    lines = text.render([f]).splitlines()
    assert lines[1] == "  in graph if_0/then_branch: conv1 → conv2"
    assert lines[2] == "  fix: not exact (conv2 zero-pads), MACs 10 → 20, params 1 → 2"


def test_text_groups_by_file_and_summarises_levels():
    findings = [
        finding(file="a.onnx"),
        finding(file="b.onnx", code="LL002", level="note"),
        finding(file="a.onnx", code="LL005"),
    ]
    out = text.render(findings, Scope(files=["a.onnx", "b.onnx", "c.onnx", "d.onnx"]))
    files_in_order = [line.split(":")[0] for line in out.splitlines() if ": LL" in line]
    assert files_in_order == ["a.onnx", "a.onnx", "b.onnx"]
    assert out.endswith(
        "Found 3 findings (2 warnings, 1 note) in 2 of 4 files.\n"
        "[*] 2 fixable with `linlint fold`.\n"
    )


def test_text_summary_when_clean_and_when_files_failed():
    assert text.render([], Scope(files=["a", "b"])) == "All checked: no findings in 2 files.\n"
    out = text.render([], Scope(files=["a"], errors=[("b", "broken")]))
    assert out == "No findings in 1 file; 1 file could not be checked.\n"


def test_text_color_uses_terminal_escapes_and_same_words():
    plain = text.render([finding()], Scope(files=["models/a.onnx"]))
    colored = text.render([finding()], Scope(files=["models/a.onnx"]), color=True)
    assert "\x1b[" in colored
    import re

    assert re.sub(r"\x1b\[[0-9;]*m", "", colored).split() == plain.split()


def test_paths_are_shown_relative_to_root(tmp_path):
    inside = tmp_path / "sub" / "m.onnx"
    assert display_path(str(inside), tmp_path) == "sub/m.onnx"
    assert display_path("rel/m.onnx", tmp_path) == "rel/m.onnx"
    assert display_path("/elsewhere/m.onnx", tmp_path) == "/elsewhere/m.onnx"


# ----------------------------------------------------------------------------- json


def test_json_is_an_array_of_finding_dicts_in_order():
    findings = [finding(), finding(code="LL002", level="note", nodes=("a",))]
    data = json.loads(render("json", findings))
    assert data == [f.to_dict() for f in findings]


# ----------------------------------------------------------------------------- sarif


def test_sarif_output_validates_against_the_2_1_0_schema(tmp_path):
    import jsonschema

    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a model")
    schema = json.loads(SARIF_SCHEMA.read_text())
    log = sarif_of([SAMPLES, broken], exit_codes=(2,))
    jsonschema.validators.validator_for(schema)(schema).validate(log)
    run = log["runs"][0]
    assert run["results"], "sample models should produce findings"
    assert run["invocations"][0]["executionSuccessful"] is False


def test_sarif_driver_lists_rules_with_docs():
    from linlint.rules import ALL_RULES
    from linlint.version import __version__

    driver = sarif_of([SAMPLES / "nm_relu_between.onnx"])["runs"][0]["tool"]["driver"]
    assert driver["name"] == "linlint"
    assert driver["version"] == __version__
    assert [r["id"] for r in driver["rules"]] == [r.code for r in ALL_RULES]
    first = driver["rules"][0]
    assert first["name"] == ALL_RULES[0].name
    assert first["help"]["text"] == ALL_RULES[0].doc
    assert first["defaultConfiguration"]["level"] == ALL_RULES[0].level
    assert first["shortDescription"]["text"] and first["fullDescription"]["text"]


def test_sarif_result_has_location_logical_nodes_and_rule_index():
    log = sarif_of([SAMPLES / "ll001_chain_in_if_branch.onnx"])
    (result,) = log["runs"][0]["results"]
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert rules[result["ruleIndex"]]["id"] == result["ruleId"] == "LL001"
    location = result["locations"][0]
    physical = location["physicalLocation"]
    uri = physical["artifactLocation"]["uri"]
    assert uri.endswith("sample_models/ll001_chain_in_if_branch.onnx")
    assert "\\" not in uri
    assert physical["region"]["startLine"] == 1
    names = [loc["name"] for loc in location["logicalLocations"]]
    assert names and all(name in result["message"]["text"] for name in names)
    graph = next(iter(location["logicalLocations"]))["fullyQualifiedName"].rsplit("/", 1)[0]
    assert graph  # the If branch's graph is named


def test_sarif_uri_is_relative_to_root_with_forward_slashes(tmp_path):
    f = finding(file=str(tmp_path / "my models" / "a.onnx"))
    log = sarif.build([f], root=tmp_path)
    uri = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert uri["uri"] == "my%20models/a.onnx"


def test_sarif_fingerprints_are_stable_across_runs():
    def prints(log):
        return [r["partialFingerprints"] for r in log["runs"][0]["results"]]

    first, second = prints(sarif_of([SAMPLES])), prints(sarif_of([SAMPLES]))
    assert first == second
    assert len({json.dumps(p) for p in first}) == len(first)


def test_sarif_fingerprint_ignores_message_numbers_but_not_nodes():
    base = finding()
    assert sarif.fingerprint(base, None) == sarif.fingerprint(
        replace(base, message="other numbers", fix=Fix(True, "", 1, 1, 1, 1)), None
    )
    assert sarif.fingerprint(base, None) != sarif.fingerprint(replace(base, nodes=("x",)), None)
    assert sarif.fingerprint(base, None) != sarif.fingerprint(replace(base, code="LL005"), None)


# ----------------------------------------------------------------------------- github


def test_github_levels_map_to_notice_warning_error():
    findings = [finding(level="note"), finding(level="warning"), finding(level="error")]
    commands = [line.split(" ", 1)[0] for line in github.render(findings).splitlines()]
    assert commands == ["::notice", "::warning", "::error"]


def test_github_escapes_data_and_properties():
    f = finding(file="dir,x/a:b.onnx", message="100% done\r\nnext: line, here")
    (line,) = github.render([f]).splitlines()
    props, message = line[len("::warning ") :].split("::", 1)
    assert props == "file=dir%2Cx/a%3Ab.onnx,line=1,title=LL001 redundant-linear-chain"
    assert message.startswith("100%25 done%0D%0Anext: line, here (nodes: conv1 → conv2)")


def test_github_reports_unreadable_files_as_errors():
    out = github.render([], Scope(errors=[("bad.onnx", "bad.onnx: not an ONNX model")]))
    assert out == "::error file=bad.onnx,line=1,title=linlint::bad.onnx: not an ONNX model\n"


# ----------------------------------------------------------------------------- helpers


def test_doc_helpers_read_rule_docstrings():
    doc = "First line\ncontinues.\n\n## What it finds\nA thing.\n\n## Fix\nDo it."
    assert doc_summary(doc) == "First line continues."
    assert doc_section(doc, "What it finds") == "A thing."
    assert doc_section(doc, "Missing") == ""


def test_write_output_is_atomic_and_leaves_no_temp_files(tmp_path):
    target = tmp_path / "out.sarif"
    write_output("one\n", target)
    write_output("two\n", target)
    assert target.read_text() == "two\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.sarif"]


def test_write_output_to_a_missing_folder_is_a_linlint_error(tmp_path):
    from linlint.errors import LinlintError

    with pytest.raises(LinlintError, match="folder does not exist"):
        write_output("x", tmp_path / "nope" / "out.txt")


def test_unknown_format_is_a_linlint_error():
    from linlint.errors import LinlintError

    with pytest.raises(LinlintError, match="unknown output format"):
        render("junit", [])
