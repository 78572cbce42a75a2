"""A team adopts linlint on an existing model zoo with a baseline (issue 14, point 4).

What the team does, in a real git repository and through the real command line: record
today's findings (``linlint check models --write-baseline linlint-baseline.json``), name the
file in ``[tool.linlint]``, commit both; from then on ``linlint check models`` passes on
what was accepted and fails on what is new: a model added later, or a new finding in a
model that was there. CI checks a clone at another path, and developers run it from a
subfolder: the baseline matches there too.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import onnx
import pytest
from test_discovery import git  # a hermetic git (no user or system config)
from test_suppressions import chain_model  # fc1 → fc2, then fc3 (→ fc4: a second LL001)

from conftest import SAMPLES

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

BASELINE = "linlint-baseline.json"


def linlint(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("LINLINT_DEBUG", "CI")}
    env.update(NO_COLOR="1")
    return subprocess.run(
        [sys.executable, "-m", "linlint", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def reported(done: subprocess.CompletedProcess) -> list[tuple[str, list[str]]]:
    """(file, nodes) of each finding a ``--format json`` run reported."""
    return [(record["file"], record["nodes"]) for record in json.loads(done.stdout)]


@pytest.fixture
def zoo(tmp_path: Path) -> Path:
    """A repository of models with four findings, a baseline of them written and committed
    along with the configuration that names it."""
    root = tmp_path / "zoo"
    (root / "models" / "vision").mkdir(parents=True)
    shutil.copy(SAMPLES / "ll001_blocks_dynamo.onnx", root / "models" / "vision" / "blocks.onnx")
    shutil.copy(SAMPLES / "ll005_conv_bn.onnx", root / "models" / "vision" / "conv_bn.onnx")
    onnx.save(chain_model(extra=False), root / "models" / "mlp.onnx")
    git(root, "init", "-q")
    before = linlint(root, "check", "--no-progress", "--format", "json", "models")
    assert before.returncode == 1 and len(reported(before)) == 4, before.stdout + before.stderr
    (root / "pyproject.toml").write_text(f'[tool.linlint]\nbaseline = "{BASELINE}"\n')
    written = linlint(root, "check", "--no-progress", "models", "--write-baseline", BASELINE)
    assert written.returncode == 0, written.stdout + written.stderr
    assert f"{BASELINE}: baseline of 4 findings written" in written.stderr
    git(root, "add", "pyproject.toml", BASELINE, "models")
    git(root, "commit", "-q", "-m", "adopt linlint")
    return root


def test_after_adoption_the_accepted_findings_pass_and_are_counted_as_suppressed(zoo):
    done = linlint(zoo, "check", "--no-progress", "models")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == "All checked: no findings in 3 files. 4 suppressed.\n"


def test_a_model_added_after_adoption_is_caught(zoo):
    shutil.copy(SAMPLES / "ll001_conv1x1_conv1x1.onnx", zoo / "models" / "new.onnx")
    done = linlint(zoo, "check", "--no-progress", "--format", "json", "models")
    assert done.returncode == 1
    assert reported(done) == [("models/new.onnx", ["conv1", "conv2"])]


def test_a_new_finding_in_a_model_already_there_is_caught_and_the_old_one_stays_quiet(zoo):
    onnx.save(chain_model(extra=True), zoo / "models" / "mlp.onnx")
    done = linlint(zoo, "check", "--no-progress", "models")
    assert done.returncode == 1
    assert "models/mlp.onnx: LL001 [*] [warning]" in done.stdout
    assert "fc3 → fc4" in done.stdout and "fc1 → fc2" not in done.stdout
    assert done.stdout.endswith(
        "Found 1 finding (1 warning) in 1 of 3 files. 4 suppressed.\n"
        "[*] 1 fixable with `linlint fold`.\n"
    )


def test_the_baseline_matches_in_a_clone_at_another_path_as_ci_checks_it(zoo, tmp_path):
    ci = tmp_path / "runner" / "work" / "zoo"
    ci.parent.mkdir(parents=True)
    git(tmp_path, "clone", "-q", str(zoo), str(ci))
    done = linlint(ci, "check", "--no-progress", "models")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "4 suppressed" in done.stdout


def test_the_baseline_matches_when_checked_from_a_subfolder(zoo):
    done = linlint(zoo / "models" / "vision", "check", "--no-progress", ".")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == "All checked: no findings in 2 files. 3 suppressed.\n"


def test_rewriting_the_baseline_accepts_the_new_finding(zoo):
    shutil.copy(SAMPLES / "ll001_conv1x1_conv1x1.onnx", zoo / "models" / "new.onnx")
    rewritten = linlint(zoo, "check", "--no-progress", "models", "--write-baseline", BASELINE)
    assert rewritten.returncode == 0
    assert f"{BASELINE}: baseline of 5 findings written" in rewritten.stderr
    assert linlint(zoo, "check", "--no-progress", "models").returncode == 0


def test_the_python_api_agrees_with_the_command_line_on_the_baseline(zoo):
    """A project test that checks a committed model sees what CI sees: the configured
    baseline silences the accepted finding (``isolated``: no configuration, it is there)."""
    import linlint

    model = zoo / "models" / "mlp.onnx"
    assert linlint.check(model) == []
    assert [f.nodes for f in linlint.check(model, isolated=True)] == [("fc1", "fc2")]
