"""The ``linlint`` command line: exit codes, rule selection, formats, commands (ruff's contract)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from linlint.cli import app as cli
from linlint.cli.app import app

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "sample_models"
REDUNDANT = SAMPLES / "ll001_conv1x1_conv1x1.onnx"  # one LL001 warning
CLEAN = SAMPLES / "nm_relu_between.onnx"  # no findings
BOTTLENECK = SAMPLES / "ll002_linear_bottleneck_1x1.onnx"  # one LL002 note

runner = CliRunner()


def run(*args: str | Path):
    """Run ``linlint ARGS`` in-process, ignoring any configuration file."""
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def codes(result) -> list[str]:
    return [f["code"] for f in json.loads(result.stdout)]


def garbage_model(tmp_path: Path) -> Path:
    path = tmp_path / "broken.onnx"
    path.write_bytes(b"\x00\x01 this is not a protobuf \xff\xfe")
    return path


# ----------------------------------------------------------------------------- exit codes


def test_clean_model_exits_0():
    result = run("check", CLEAN)
    assert result.exit_code == 0
    assert "All checked: no findings in 1 file." in result.stdout


def test_finding_at_warning_exits_1():
    result = run("check", REDUNDANT)
    assert result.exit_code == 1
    assert "LL001 [*] [warning] redundant-linear-chain" in result.stdout


def test_missing_file_exits_2_with_one_error_line(tmp_path):
    result = run("check", tmp_path / "nope.onnx")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("linlint: error: ")
    assert "nope.onnx" in lines[0]
    assert "Traceback" not in result.output


def test_bad_model_bytes_exit_2_with_one_error_line(tmp_path):
    result = run("check", garbage_model(tmp_path))
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("linlint: error: ")
    assert "broken.onnx" in lines[0]


def test_bad_file_among_good_ones_reports_the_others_and_exits_2(tmp_path):
    result = run("check", "--format", "json", REDUNDANT, garbage_model(tmp_path), CLEAN)
    assert result.exit_code == 2
    assert codes(result) == ["LL001", "LL900"]  # the unreadable file is a record too (LL900)
    assert result.stderr.count("linlint: error: ") == 1


def test_bad_option_value_is_a_usage_error_exit_2():
    result = run("check", "--format", "xml", CLEAN)
    assert result.exit_code == 2
    assert "xml" in result.output


def test_unknown_option_is_a_usage_error_exit_2():
    result = run("check", "--no-such-option", CLEAN)
    assert result.exit_code == 2


def test_unknown_rule_code_is_a_usage_error_exit_2():
    result = run("check", "--select", "LL9", CLEAN)
    assert result.exit_code == 2
    assert "LL9" in result.output


def test_exit_zero_exits_0_despite_findings():
    result = run("check", "--exit-zero", REDUNDANT)
    assert result.exit_code == 0
    assert "LL001" in result.stdout


def test_exit_zero_still_exits_2_on_errors(tmp_path):
    assert run("check", "--exit-zero", garbage_model(tmp_path)).exit_code == 2


def test_note_does_not_fail_by_default():
    result = run("check", BOTTLENECK)
    assert result.exit_code == 0
    assert "LL002 [note]" in result.stdout


def test_fail_on_note_fails_on_a_note():
    assert run("check", "--fail-on", "note", BOTTLENECK).exit_code == 1


def test_fail_on_error_passes_a_warning():
    assert run("check", "--fail-on", "error", REDUNDANT).exit_code == 0


def test_internal_error_is_one_line_exit_2(monkeypatch):
    import linlint.checking.checker

    def boom(path, **kwargs):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(linlint.checking.checker, "check_file_details", boom)
    monkeypatch.delenv(cli.DEBUG_ENV, raising=False)
    result = run("check", "--jobs", "1", CLEAN)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("linlint: internal error: ")
    assert "RuntimeError: boom second line" in lines[0]


def test_main_turns_linlint_error_into_one_line_exit_2(monkeypatch, capsys):
    from linlint.errors import LinlintError

    def fail(*args, **kwargs):
        raise LinlintError("bad things", "model.onnx")

    monkeypatch.setattr(cli, "app", fail)
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["check", "x.onnx"])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == "linlint: error: model.onnx: bad things\n"


def test_main_turns_unexpected_exception_into_internal_error(monkeypatch, capsys):
    def fail(*args, **kwargs):
        raise KeyError("oops")

    monkeypatch.setattr(cli, "app", fail)
    monkeypatch.delenv(cli.DEBUG_ENV, raising=False)
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["check", "x.onnx"])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == "linlint: internal error: KeyError: 'oops'\n"


# ----------------------------------------------------------------------------- selection


def test_select_by_exact_code_keeps_only_that_rule():
    assert codes(run("check", "--format", "json", "--select", "LL002", REDUNDANT)) == []
    assert codes(run("check", "--format", "json", "--select", "LL001", REDUNDANT)) == ["LL001"]


def test_ignore_by_prefix_drops_matching_rules():
    result = run("check", "--format", "json", "--ignore", "LL00", REDUNDANT)
    assert codes(result) == []
    assert result.exit_code == 0


def test_codes_are_case_insensitive_and_comma_separated():
    result = run("check", "--format", "json", "--select", "ll002, ll001", REDUNDANT, BOTTLENECK)
    assert codes(result) == ["LL001", "LL002"]


def test_more_specific_selector_wins():
    both = ["--format", "json", REDUNDANT, BOTTLENECK]
    assert codes(run("check", "--select", "LL", "--ignore", "LL001", *both)) == ["LL002"]
    assert codes(run("check", "--select", "LL001", "--ignore", "LL", *both)) == ["LL001"]


def test_extend_select_adds_to_the_selection():
    result = run(
        "check", "--format", "json", "--select", "LL002", "--extend-select", "LL001",
        REDUNDANT, BOTTLENECK,
    )  # fmt: skip
    assert codes(result) == ["LL001", "LL002"]


# ----------------------------------------------------------------------------- config files


def _project(tmp_path: Path, config: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(f"[tool.linlint]\n{config}\n")
    models = tmp_path / "models"
    (models / "legacy").mkdir(parents=True)
    shutil.copy(REDUNDANT, models / "redundant.onnx")
    shutil.copy(REDUNDANT, models / "legacy" / "old.onnx")
    shutil.copy(BOTTLENECK, models / "bottleneck.onnx")
    return models


def test_config_ignore_applies_to_files_below_it(tmp_path):
    models = _project(tmp_path, 'ignore = ["LL001"]')
    result = run("check", "--format", "json", models)
    assert codes(result) == ["LL002"]
    assert result.exit_code == 0


def test_cli_select_overrides_config(tmp_path):
    models = _project(tmp_path, 'ignore = ["LL001"]')
    result = run("check", "--format", "json", "--select", "LL001", models)
    assert codes(result) == ["LL001", "LL001"]
    assert result.exit_code == 1


def test_config_fail_on_is_overridden_by_cli(tmp_path):
    models = _project(tmp_path, 'fail-on = "note"\nselect = ["LL002"]')
    assert run("check", models).exit_code == 1
    assert run("check", "--fail-on", "warning", models).exit_code == 0


def test_config_levels_change_a_rule_level(tmp_path):
    models = _project(tmp_path, 'levels = { LL002 = "warning" }')
    result = run("check", "--format", "json", models / "bottleneck.onnx")
    assert [f["level"] for f in json.loads(result.stdout)] == ["warning"]
    assert result.exit_code == 1


def test_per_file_ignores_match_globs_relative_to_the_config(tmp_path):
    models = _project(tmp_path, 'per-file-ignores = { "models/legacy/*.onnx" = ["LL001"] }')
    findings = json.loads(run("check", "--format", "json", models).stdout)
    assert sorted((Path(f["file"]).name, f["code"]) for f in findings) == [
        ("bottleneck.onnx", "LL002"),
        ("redundant.onnx", "LL001"),
    ]


def test_explicit_config_file_is_used(tmp_path):
    models = _project(tmp_path, "")
    other = tmp_path / "strict.toml"
    other.write_text('select = ["LL002"]\nfail-on = "note"\n')
    result = run("check", "--format", "json", "--config", other, models)
    assert codes(result) == ["LL002"]
    assert result.exit_code == 1


def test_isolated_ignores_the_config(tmp_path):
    models = _project(tmp_path, 'select = ["LL002"]')
    assert codes(run("check", "--format", "json", "--isolated", models)) == [
        "LL002",
        "LL001",
        "LL001",
    ]


def test_invalid_config_exits_2_naming_file_and_key(tmp_path):
    models = _project(tmp_path, 'fail-on = "sometimes"')
    result = run("check", models)
    assert result.exit_code == 2
    line = result.stderr.strip()
    assert "pyproject.toml" in line and "fail-on" in line
    assert len(line.splitlines()) == 1


# ----------------------------------------------------------------------------- formats and output


def test_json_findings_have_the_documented_keys():
    (finding,) = json.loads(run("check", "--format", "json", REDUNDANT).stdout)
    keys = {"code", "name", "level", "message", "file", "graph", "nodes", "fix", "origins"}
    assert set(finding) == keys | {"region"}
    assert set(finding["fix"]) == {
        "exact",
        "reason",
        "macs_before",
        "macs_after",
        "params_before",
        "params_after",
        "elementwise_before",
        "elementwise_after",
        "moved_before",
        "moved_after",
        "nodes_before",
        "nodes_after",
        "basis",
        "sizes",
        "undecided",
    }
    assert finding["nodes"] == ["conv1", "conv2"]
    assert finding["graph"] == ""


def test_text_report_shows_nodes_fix_and_summary():
    out = run("check", REDUNDANT, CLEAN).stdout
    lines = out.splitlines()
    assert "conv1x1.onnx: LL001 [*] [warning] redundant-linear-chain: Conv" in lines[0]
    assert lines[1].strip() == "conv1 → conv2"
    assert lines[2].strip().startswith("fix: exact, MACs ")
    assert "Found 1 finding (1 warning) in 1 of 2 files." in out


def test_github_format_emits_workflow_commands():
    out = run("check", "--format", "github", REDUNDANT, BOTTLENECK).stdout
    lines = out.splitlines()
    assert lines[0].startswith("::warning file=")
    assert ",line=1,title=LL001 redundant-linear-chain::" in lines[0]
    assert lines[1].startswith("::notice file=")


def test_output_writes_the_report_to_a_file(tmp_path):
    target = tmp_path / "report.json"
    result = run("check", "--format", "json", "--output", target, REDUNDANT)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert [f["code"] for f in json.loads(target.read_text())] == ["LL001"]
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_output_replaces_an_existing_file(tmp_path):
    target = tmp_path / "report.txt"
    target.write_text("old contents that are longer than the new report " * 100)
    run("check", "--output", target, CLEAN)
    assert target.read_text() == "All checked: no findings in 1 file.\n"


def test_jobs_2_gives_the_same_output_as_jobs_1():
    one = run("check", "--format", "json", "--jobs", "1", SAMPLES)
    two = run("check", "--format", "json", "--jobs", "2", SAMPLES)
    assert one.exit_code == two.exit_code == 1
    assert one.stdout == two.stdout
    assert len(json.loads(one.stdout)) > 10


def test_input_shape_must_be_name_then_dims():
    result = run("check", "--input-shape", "x~1x3", CLEAN)
    assert result.exit_code == 2
    assert "x~1x3" in result.output


# ----------------------------------------------------------------------------- rules / explain


def test_rules_lists_every_rule_with_level_and_summary():
    from linlint.rules import ALL_RULES

    out = run("rules").stdout
    for rule in ALL_RULES:
        line = next(line for line in out.splitlines() if line.startswith(rule.code))
        assert rule.name in line and rule.level in line and rule.summary in line


def test_rules_json_is_machine_readable():
    rows = json.loads(run("rules", "--format", "json").stdout)
    assert [r["code"] for r in rows] == [
        "LL001",
        "LL002",
        "LL003",
        "LL004",
        "LL005",
        "LL006",
        "LL007",
    ]
    assert {"code", "name", "level", "summary"} <= set(rows[0])


def test_explain_prints_header_and_docstring():
    from linlint.rules import get_rule

    result = run("explain", "ll004")
    assert result.exit_code == 0
    rule = get_rule("LL004")
    assert result.stdout.splitlines()[0] == f"LL004 {rule.name} (default level: {rule.level})"
    assert rule.doc in result.stdout
    assert "## Why it matters" in result.stdout


def test_explain_unknown_code_exits_2():
    result = run("explain", "LL999")
    assert result.exit_code == 2
    assert result.stderr.startswith("linlint: error: unknown rule `LL999`")


# ----------------------------------------------------------------------------- verify


def _scale_model(path: Path, factor: float) -> Path:
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Mul", ["x", "k"], ["y"], name="scale")],
        "scale",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 4])],
        [helper.make_tensor("k", TensorProto.FLOAT, [], [factor])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


def test_verify_equal_models_exit_0(tmp_path):
    a = _scale_model(tmp_path / "a.onnx", 2.0)
    result = run("verify", a, a, "--input-shape", "x=3x4")
    assert result.exit_code == 0, result.output
    assert "max abs 0.00e+00" in result.stdout
    assert result.stdout.strip().splitlines()[-1].startswith("verified")


def test_verify_different_models_exit_1(tmp_path):
    a = _scale_model(tmp_path / "a.onnx", 2.0)
    b = _scale_model(tmp_path / "b.onnx", 3.0)
    result = run("verify", a, b, "--runs", "2")
    assert result.exit_code == 1
    assert "DIFFERS" in result.stdout


def test_verify_benchmark_prints_latencies(tmp_path):
    a = _scale_model(tmp_path / "a.onnx", 2.0)
    result = run("verify", a, a, "--benchmark")
    assert result.exit_code == 0
    assert "latency (median): original " in result.stdout


def test_verify_missing_model_exits_2(tmp_path):
    a = _scale_model(tmp_path / "a.onnx", 2.0)
    result = run("verify", a, tmp_path / "missing.onnx")
    assert result.exit_code == 2
    assert result.stderr.startswith("linlint: error: ")


# ----------------------------------------------------------------------------- entry points


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def test_python_m_linlint_help():
    done = subprocess.run(
        [sys.executable, "-m", "linlint", "--help"],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=60,
    )
    assert done.returncode == 0
    for command in ("check", "rules", "explain", "verify"):
        assert command in done.stdout


def test_python_m_linlint_check_exit_code_and_no_heavy_imports():
    code = (
        "import sys, runpy\n"
        "sys.argv = ['linlint', 'check', sys.argv[1]]\n"
        "try:\n"
        "    runpy.run_module('linlint', run_name='__main__')\n"
        "except SystemExit as e:\n"
        "    heavy = sorted({m.split('.')[0] for m in sys.modules} & "
        "{'onnxruntime', 'rich'})\n"
        "    print('HEAVY', heavy, file=sys.stderr)\n"
        "    raise\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(REDUNDANT)],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=60,
    )
    assert done.returncode == 1
    assert "HEAVY []" in done.stderr


@pytest.mark.parametrize("args", [["--version"], ["rules"], ["explain", "LL001"]])
def test_commands_that_read_no_model_import_neither_onnx_nor_numpy(args):
    """`linlint --version`, `rules` and `explain` start as fast as Python (the package's
    records import onnx only for annotations)."""
    code = (
        "import sys, runpy\n"
        "sys.argv = ['linlint', *sys.argv[1:]]\n"
        "try:\n"
        "    runpy.run_module('linlint', run_name='__main__')\n"
        "except SystemExit:\n"
        "    heavy = sorted({m.split('.')[0] for m in sys.modules} & {'onnx', 'numpy'})\n"
        "    print('HEAVY', heavy, file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=_env(), timeout=60
    )
    assert "HEAVY []" in done.stderr, done.stderr


# ----------------------------------------------------------------------------- progress


class _Stream:
    def __init__(self, tty: bool) -> None:
        self.tty = tty
        self.written: list[str] = []

    def isatty(self) -> bool:
        return self.tty

    def write(self, text: str) -> int:
        self.written.append(text)
        return len(text)

    def flush(self) -> None:
        pass


def test_progress_shows_only_on_a_terminal_outside_ci_for_many_files(monkeypatch):
    from linlint.cli.progress import MIN_ITEMS, should_show

    monkeypatch.delenv("CI", raising=False)
    assert should_show(MIN_ITEMS, stream=_Stream(tty=True))
    assert not should_show(MIN_ITEMS, stream=_Stream(tty=False))
    assert not should_show(MIN_ITEMS - 1, stream=_Stream(tty=True))
    assert not should_show(MIN_ITEMS, stream=_Stream(tty=True), enabled=False)
    monkeypatch.setenv("CI", "true")
    assert not should_show(MIN_ITEMS, stream=_Stream(tty=True))


def test_progress_is_silent_when_not_shown_and_draws_when_shown(monkeypatch):
    from linlint.cli.progress import progress

    monkeypatch.delenv("CI", raising=False)
    quiet = _Stream(tty=False)
    with progress(10, "Checking", stream=quiet) as advance:
        advance()
    assert quiet.written == []
    loud = _Stream(tty=True)
    with progress(10, "Checking", stream=loud) as advance:
        for _ in range(10):
            advance(label="m.onnx")
    assert "".join(loud.written)


def test_a_rule_declares_whether_fold_rewrites_its_findings():
    from linlint.rules import ALL_RULES, Fold, foldable_codes

    assert {r.code: r.folds for r in ALL_RULES} == {
        "LL001": Fold.DEFAULT,
        "LL002": Fold.WITH_GROWTH,
        "LL003": Fold.NEVER,
        "LL004": Fold.DEFAULT,
        "LL005": Fold.DEFAULT,
        "LL006": Fold.DEFAULT,
        "LL007": Fold.DEFAULT,
    }
    assert foldable_codes() == {"LL001", "LL004", "LL005", "LL006", "LL007"}
    assert foldable_codes(allow_growth=True) == foldable_codes() | {"LL002"}


def test_rules_are_found_by_their_module_names_in_code_order():
    from linlint.rules import ALL_RULES

    codes = [r.code for r in ALL_RULES]
    assert codes == sorted(codes) and len(set(codes)) == len(codes)
    assert all(r.subject in ("region", "node") for r in ALL_RULES)
