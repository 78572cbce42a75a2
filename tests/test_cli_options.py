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
