"""The options a ruff user expects of ``linlint check`` and the wording every output shares:
one sentence per behaviour."""

from __future__ import annotations

import json
import re
from pathlib import Path

import typer
from typer.testing import CliRunner

from linlint.cli.app import app
from linlint.rules import ALL_RULES

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "sample_models"
REDUNDANT = SAMPLES / "ll001_conv1x1_conv1x1.onnx"  # one LL001 warning
INEXACT = SAMPLES / "ll003_conv3x3_conv3x3_padded.onnx"  # one LL003 note

runner = CliRunner()


def run(*args: str | Path):
    """Run ``linlint ARGS`` in-process, ignoring any configuration file."""
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def test_check_fix_exits_2_with_the_fold_hint():
    result = run("check", "--fix", "--isolated", REDUNDANT)
    assert result.exit_code == 2
    assert "linlint fold --in-place" in result.stderr
    assert result.stdout == ""


def test_check_help_shows_paths_as_ruff_does():
    text = run("check", "--help").stdout
    assert "Usage: linlint check [OPTIONS] PATHS..." in text
    assert "<list[Path]>" not in text and "{PATHS}" not in text


def test_every_option_and_argument_of_every_command_has_help_text():
    group = typer.main.get_command(app)
    for name, command in group.commands.items():
        bare = [p.name for p in command.params if not getattr(p, "help", None)]
        assert not bare, (name, bare)


def test_ll003_says_its_reason_once():
    text = run("check", "--isolated", INEXACT).stdout
    reason = "the borders differ"
    assert text.count(reason) == 1
    assert "fix: not exact," in text


def test_sarif_short_description_is_the_rule_summary():
    result = run("check", "--isolated", "--format", "sarif", "--exit-zero", REDUNDANT)
    rules = json.loads(result.stdout)["runs"][0]["tool"]["driver"]["rules"]
    assert {r["id"]: r["shortDescription"]["text"] for r in rules} == {
        r.code: r.summary for r in ALL_RULES
    }


def test_rules_lists_each_rule_summary():
    rows = json.loads(run("rules", "--format", "json").stdout)
    assert [(r["code"], r["summary"]) for r in rows] == [(r.code, r.summary) for r in ALL_RULES]


def test_readme_rules_table_matches_the_registry():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    rows = [
        tuple(cell.strip() for cell in line.strip("|").split("|"))
        for line in readme.splitlines()
        if re.match(r"\| LL\d{3} \|", line)
    ]
    assert rows == [(r.code, r.name, r.level, r.summary) for r in ALL_RULES]


BOTTLENECK = SAMPLES / "ll002_linear_bottleneck_1x1.onnx"  # one LL002 note (not fixable)


def test_fixable_finding_is_marked_and_counted():
    text = run("check", "--isolated", REDUNDANT).stdout
    assert ": LL001 [*] [warning] redundant-linear-chain:" in text
    assert text.endswith("[*] 1 fixable with `linlint fold`.\n")


def test_finding_fold_does_not_rewrite_has_no_mark_and_no_fixable_line():
    text = run("check", "--isolated", BOTTLENECK).stdout
    assert ": LL002 [note]" in text
    assert "fixable" not in text


def test_statistics_counts_findings_per_rule():
    result = run("check", "--isolated", "--statistics", REDUNDANT, BOTTLENECK, INEXACT)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "1  LL001  [*] redundant-linear-chain",
        "1  LL002      linear-bottleneck",
        "1  LL003      inexact-linear-chain",
    ]


def test_statistics_as_json():
    result = run("check", "--isolated", "--statistics", "--format", "json", REDUNDANT)
    assert json.loads(result.stdout) == [
        {"code": "LL001", "name": "redundant-linear-chain", "count": 1, "fixable": 1}
    ]


def test_statistics_go_to_the_output_file_when_one_is_given(tmp_path):
    out = tmp_path / "stats.json"
    result = run("check", "--isolated", "--statistics", "--format", "json", "-o", out, REDUNDANT)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert json.loads(out.read_text())[0]["code"] == "LL001"


def test_quiet_and_verbose_together_are_a_usage_error():
    result = run("check", "--isolated", "-q", "-v", REDUNDANT)
    assert result.exit_code == 2
    assert "`-q`/`--quiet` and `-v`/`--verbose` cannot be used together" in result.stderr
    assert result.stdout == ""


def test_quiet_prints_the_findings_and_nothing_else():
    result = run("check", "--isolated", "-q", REDUNDANT)
    assert result.exit_code == 1
    assert "LL001" in result.stdout
    assert "Found" not in result.stdout and "fixable" not in result.stdout


def test_verbose_names_the_configuration_and_each_file_on_stderr():
    result = run("check", "--isolated", "-v", REDUNDANT)
    assert "linlint: configuration: none (defaults)" in result.stderr
    assert f"linlint: checked {REDUNDANT}" in result.stderr
    assert "Found 1 finding" in result.stdout


def test_show_settings_prints_the_config_file_and_resolved_settings(tmp_path, monkeypatch):
    config = tmp_path / "pyproject.toml"
    config.write_text('[tool.linlint]\nignore = ["LL003"]\nfail-on = "note"\n')
    model = tmp_path / "m.onnx"
    model.write_bytes(REDUNDANT.read_bytes())
    monkeypatch.chdir(tmp_path)
    result = run("check", "--show-settings", "m.onnx")
    assert result.exit_code == 0
    assert f"config file        {config}" in result.stdout
    assert "LL003" not in result.stdout.split("enabled rules", 1)[1].splitlines()[0]
    assert "fail-on            note" in result.stdout
    assert "LL001 [" not in result.stdout  # nothing checked


def test_show_settings_lists_the_suppressions_in_force(tmp_path, monkeypatch):
    config = tmp_path / "pyproject.toml"
    config.write_text(
        '[tool.linlint]\nbaseline = "accepted.json"\n'
        'per-node-ignores = { "models/*.onnx" = { LL002 = ["blocks.*"] } }\n'
    )
    (tmp_path / "m.onnx").write_bytes(REDUNDANT.read_bytes())
    monkeypatch.chdir(tmp_path)
    result = run("check", "--show-settings", "m.onnx")
    assert result.exit_code == 0
    assert "per-node-ignores   models/*.onnx: LL002 = blocks.*" in result.stdout
    assert "baseline           " in result.stdout and "accepted.json" in result.stdout


def test_show_files_lists_the_models_a_run_would_check(tmp_path, monkeypatch):
    (tmp_path / "a.onnx").write_bytes(REDUNDANT.read_bytes())
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "b.onnx").write_bytes(REDUNDANT.read_bytes())
    monkeypatch.chdir(tmp_path)
    result = run("check", "--isolated", "--show-files", ".")
    assert result.exit_code == 0
    assert result.stdout == "a.onnx\n"


def test_verify_benchmark_line_uses_the_arrow():
    result = run("verify", "--benchmark", REDUNDANT, REDUNDANT)
    assert result.exit_code == 0
    assert "ms → " in result.stdout and "->" not in result.stdout
