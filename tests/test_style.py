"""The code base stays ruff-clean: lint and format are part of the test suite."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT


def _ruff(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args], cwd=ROOT, capture_output=True, text=True
    )


def test_ruff_check_is_clean():
    result = _ruff("check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean():
    result = _ruff("format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_tests_import_their_helpers_as_ci_runs_them():
    """CI runs plain `pytest`, which puts `tests/` on the path but not the repository root:
    a test importing `tests.tiny` passes under `python -m pytest` and fails in CI."""
    offenders = [
        path.name
        for path in (ROOT / "tests").glob("*.py")
        if any(
            line.startswith(("from tests.", "import tests"))
            for line in path.read_text(encoding="utf-8").splitlines()
        )
    ]
    assert offenders == []
