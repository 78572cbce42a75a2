"""The listings ``check`` prints besides its report escape control characters in paths, as
the report does (issue 14, point 5): a model file named to start a workflow command on a
line of its own stays on its line in ``--show-files`` (stdout), ``-v`` (stderr) and
``--show-settings``, run as the user runs them, through the command line in a subprocess.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SAMPLES

REDUNDANT = SAMPLES / "ll001_conv1x1_conv1x1.onnx"
EVIL = "a\n::error::x.onnx"

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="no newline in Windows names")


def linlint(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("LINLINT_DEBUG", "CI", "NO_COLOR")}
    return subprocess.run(
        [sys.executable, "-m", "linlint", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def commands(text: str) -> list[str]:
    """The lines GitHub Actions would read as workflow commands."""
    return [line for line in text.splitlines() if line.startswith("::")]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    shutil.copy(REDUNDANT, tmp_path / EVIL)
    return tmp_path


def test_show_files_escapes_a_newline_in_a_model_file_name(folder):
    done = linlint(folder, "check", "--show-files", ".")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "a\\n::error::x.onnx\n"
    assert commands(done.stdout) == []


def test_verbose_escapes_a_newline_in_each_file_checked(folder):
    done = linlint(folder, "check", "-v", "--no-progress", ".")
    assert done.returncode == 1, done.stderr
    assert "linlint: checked a\\n::error::x.onnx\n" in done.stderr
    assert commands(done.stderr) == [] and commands(done.stdout) == []


def test_show_settings_escapes_a_newline_in_the_baseline_path(folder):
    (folder / "pyproject.toml").write_text('[tool.linlint]\nbaseline = "b\\n::error::x.json"\n')
    done = linlint(folder, "check", "--show-settings", ".")
    assert done.returncode == 0, done.stderr
    (baseline,) = [line for line in done.stdout.splitlines() if line.startswith("baseline")]
    assert baseline.endswith("b\\n::error::x.json")
    assert commands(done.stdout) == []
