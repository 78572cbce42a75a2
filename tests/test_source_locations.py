"""Findings placed at the PyTorch source line in the repository being checked (SARIF, GitHub
annotations), and the fingerprints code scanning tracks them by across re-exports."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import onnx
import pytest
from typer.testing import CliRunner

import linlint
from conftest import SAMPLES
from linlint.checking.fingerprint import fingerprints, identity
from linlint.cli.app import app
from linlint.model.repository import SourceFiles, source_root

DYNAMO = SAMPLES / "ll001_blocks_dynamo.onnx"
PLAIN = SAMPLES / "ll001_conv1x1_conv1x1.onnx"
SOURCE = SAMPLES / "blocks" / "model.py"
SARIF_SCHEMA = Path(__file__).resolve().parent / "data" / "sarif-schema-2.1.0.json"

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git_repo(root: Path, files: dict[str, Path | bytes]) -> Path:
    """A git repository at ``root`` tracking ``files`` (path → source file or bytes)."""
    for name, content in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content if isinstance(content, bytes) else content.read_bytes())
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "add", "."], check=True)
    return root


def cli(*args: str) -> str:
    result = CliRunner().invoke(app, ["check", *args])
    assert result.exit_code in (0, 1), result.output
    return result.stdout


def sarif_results(*args: str) -> list[dict]:
    return json.loads(cli("--format", "sarif", *args))["runs"][0]["results"]


def physical(location: dict) -> tuple[str, int]:
    where = location["physicalLocation"]
    return where["artifactLocation"]["uri"], where["region"]["startLine"]


def reexport(path: Path, target: Path) -> Path:
    """The dynamo sample as another export of the same net writes it: other node names, an
    extra node first (every index moves), another torch version, and a Windows machine's
    paths in the stack traces."""
    model = onnx.load(str(path))
    model.producer_version = "2.10.0"
    for i, node in enumerate(model.graph.node):
        node.name = f"node_{node.op_type}_{i + 40}"
        for prop in node.metadata_props:
            if prop.key == "pkg.torch.onnx.stack_trace":
                prop.value = prop.value.replace("/home/ci/work/blocks/", "C:\\Users\\dev\\blocks\\")
    scale = onnx.helper.make_tensor("scale", onnx.TensorProto.FLOAT, [], [1.0])
    model.graph.node.insert(0, onnx.helper.make_node("Constant", [], ["scale"], value=scale))
    target.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(target))
    return target


# ----------------------------------------------------------------------------- the repository


@needs_git
def test_recorded_path_is_found_by_its_longest_suffix_that_names_one_file(tmp_path):
    root = git_repo(tmp_path, {"a/model.py": b"", "b/model.py": b"", "b/c/train.py": b""})
    files = SourceFiles(root)
    assert files.find("/home/ci/work/b/model.py") == "b/model.py"
    assert files.find("C:\\Users\\dev\\proj\\c\\train.py") == "b/c/train.py"


@needs_git
def test_recorded_path_that_names_two_files_equally_is_not_found(tmp_path):
    root = git_repo(tmp_path, {"a/model.py": b"", "b/model.py": b""})
    assert SourceFiles(root).find("/home/ci/work/model.py") is None


@needs_git
def test_recorded_path_inside_the_root_is_taken_as_it_is(tmp_path):
    root = git_repo(tmp_path, {"a/model.py": b"", "b/a/model.py": b""})
    assert SourceFiles(root).find(str(tmp_path / "a" / "model.py")) == "a/model.py"


@needs_git
def test_untracked_files_are_not_sources(tmp_path):
    root = git_repo(tmp_path, {"README.md": b""})
    (root / "model.py").write_text("")
    assert SourceFiles(root).find("/home/ci/model.py") is None


def test_outside_git_the_tree_is_walked_for_python_files(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "model.py").write_text("")
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "model.py").write_text("")
    assert SourceFiles(tmp_path).find("/home/ci/src/model.py") == "src/model.py"


@needs_git
def test_source_root_is_the_git_top_level_of_the_checked_path(tmp_path):
    root = git_repo(tmp_path, {"models/net.onnx": DYNAMO})
    assert source_root([root / "models" / "net.onnx"]) == root.resolve()
    assert source_root([root / "models"], explicit=tmp_path / "models") == root / "models"


# ----------------------------------------------------------------------------- SARIF


@needs_git
def test_sarif_result_is_on_the_python_line_when_the_file_is_in_the_repository(tmp_path):
    root = git_repo(tmp_path, {"models/net.onnx": DYNAMO, "model.py": SOURCE})
    first = sarif_results(str(root / "models" / "net.onnx"))[0]
    assert physical(first["locations"][0]) == ("model.py", 20)
    related = [physical(r) for r in first["relatedLocations"]]
    assert related == [("models/net.onnx", 1), ("model.py", 22)]


@needs_git
def test_sarif_result_stays_on_the_model_when_the_source_is_not_in_the_repository(tmp_path):
    root = git_repo(tmp_path, {"models/net.onnx": DYNAMO})
    first = sarif_results(str(root / "models" / "net.onnx"))[0]
    assert physical(first["locations"][0]) == ("models/net.onnx", 1)
    assert "relatedLocations" not in first


@needs_git
def test_sarif_locations_model_keeps_the_result_on_the_model(tmp_path):
    root = git_repo(tmp_path, {"models/net.onnx": DYNAMO, "model.py": SOURCE})
    first = sarif_results("--locations", "model", str(root / "models" / "net.onnx"))[0]
    assert physical(first["locations"][0]) == ("models/net.onnx", 1)


@needs_git
def test_locations_in_the_configuration_choose_the_model(tmp_path):
    config = b'[tool.linlint]\nlocations = "model"\n'
    root = git_repo(
        tmp_path, {"models/net.onnx": DYNAMO, "model.py": SOURCE, "pyproject.toml": config}
    )
    first = sarif_results(str(root / "models" / "net.onnx"))[0]
    assert physical(first["locations"][0]) == ("models/net.onnx", 1)


@needs_git
def test_sarif_uris_are_relative_to_the_source_root_not_the_current_folder(tmp_path, monkeypatch):
    root = git_repo(tmp_path / "repo", {"models/net.onnx": DYNAMO, "src/model.py": SOURCE})
    monkeypatch.chdir(root / "models")
    first = sarif_results("net.onnx")[0]
    assert physical(first["locations"][0]) == ("src/model.py", 20)
    assert physical(first["relatedLocations"][0]) == ("models/net.onnx", 1)


def test_source_root_option_places_sources_without_git(tmp_path):
    (tmp_path / "lib").mkdir()
    shutil.copy(SOURCE, tmp_path / "lib" / "model.py")
    first = sarif_results("--source-root", str(tmp_path), str(DYNAMO))[0]
    assert physical(first["locations"][0]) == ("lib/model.py", 20)


@needs_git
def test_sarif_with_source_locations_validates_against_the_2_1_0_schema(tmp_path):
    import jsonschema

    root = git_repo(tmp_path, {"models/net.onnx": DYNAMO, "model.py": SOURCE})
    log = json.loads(cli("--format", "sarif", str(root / "models" / "net.onnx")))
    schema = json.loads(SARIF_SCHEMA.read_text())
    jsonschema.validators.validator_for(schema)(schema).validate(log)


def test_sarif_rules_link_their_documentation_and_severity():
    log = json.loads(cli("--format", "sarif", str(PLAIN)))
    driver = log["runs"][0]["tool"]["driver"]
    assert driver["informationUri"].startswith("https://")
    severities = {r["id"]: r["properties"]["problem.severity"] for r in driver["rules"]}
    assert severities["LL001"] == "warning" and severities["LL002"] == "recommendation"
    assert all(r["helpUri"].endswith("#rules") and r["properties"]["tags"] for r in driver["rules"])


# ----------------------------------------------------------------------------- GitHub


@needs_git
def test_github_annotation_is_on_the_python_line_and_names_the_model(tmp_path):
    root = git_repo(tmp_path, {"models/net.onnx": DYNAMO, "model.py": SOURCE})
    first = cli("--format", "github", str(root / "models" / "net.onnx")).splitlines()[0]
    assert first.startswith("::warning file=model.py,line=20,title=LL001 redundant-linear-chain::")
    assert "in models/net.onnx, nodes: node_conv2d → node_conv2d_1" in first


def test_github_annotation_of_a_plain_model_is_on_the_model():
    (line,) = cli("--format", "github", str(PLAIN)).splitlines()
    assert line.startswith("::warning file=")
    assert ",line=1," in line and "ll001_conv1x1_conv1x1.onnx" in line


# ----------------------------------------------------------------------------- fingerprints


def line_hashes(results: list[dict]) -> list[str]:
    return [r["partialFingerprints"]["primaryLocationLineHash"] for r in results]


def test_two_findings_of_one_rule_in_one_model_have_different_fingerprints():
    first, second = line_hashes(sarif_results(str(DYNAMO)))
    assert first != second


def test_a_reexport_with_other_node_names_and_indices_keeps_the_fingerprints(tmp_path):
    original = tmp_path / "a" / "models" / "net.onnx"
    original.parent.mkdir(parents=True)
    shutil.copy(DYNAMO, original)
    again = reexport(DYNAMO, tmp_path / "b" / "models" / "net.onnx")
    assert [f.nodes for f in linlint.check(again)] != [f.nodes for f in linlint.check(original)]
    before = line_hashes(sarif_results("--source-root", str(tmp_path / "a"), str(original)))
    after = line_hashes(sarif_results("--source-root", str(tmp_path / "b"), str(again)))
    assert before == after


def test_findings_whose_modules_are_equal_are_told_apart_by_their_order():
    finding = linlint.check(DYNAMO)[0]
    assert fingerprints([finding, finding]) == [
        fingerprints([finding])[0],
        fingerprints([finding])[0].replace(":1", ":2"),
    ]


def test_fingerprint_counts_modules_not_node_names_where_the_model_names_them():
    finding = linlint.check(DYNAMO)[0]
    renamed = replace(finding, nodes=("a", "b"))
    assert fingerprints([finding]) == fingerprints([renamed])
    assert identity(finding)[2:] == ("module:blocks.0.expand", "module:blocks.0.conv")


def test_fingerprint_of_a_plain_model_counts_its_node_names():
    (finding,) = linlint.check(PLAIN)
    assert identity(finding)[2:] == ("node:/conv1", "node:/conv2")
    assert fingerprints([finding]) != fingerprints([replace(finding, nodes=("x", "conv2"))])
