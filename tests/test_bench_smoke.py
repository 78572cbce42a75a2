"""The benchmarks run once at their smallest size, so they cannot rot. No timing is asserted."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT

BENCH = ROOT / "bench"
SECTIONS = (
    "## Targets",
    "## 1. Analysis scaling and memory",
    "## 2. Start-up",
    "## 3. Many files",
    "## 4. Fold and verify",
    "## 5. What folding buys, side by side with the peers",
)
TABLE_HEADERS = (
    "| target | measured | goal | verdict |",  # each section's verdicts
    "| nodes | .onnx size | generate | findings |",  # scaling
    "| command | median | min | vs import onnx | peak RSS |",  # start-up
    "| configuration | median | min | per file | speed-up vs --jobs 1 (medians) |",  # many files
    "| phase |",  # fold breakdown
    "| version | param ops | nodes | MACs | params | latency |",  # peers, per network
    "| sample model | linlint folds |",  # peers, sample models
)


def _run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


def test_quick_run_writes_every_table(tmp_path):
    report = tmp_path / "RESULTS.md"
    result = _run(str(BENCH / "run.py"), "--quick", "--output", str(report))
    assert result.returncode == 0, result.stderr[-3000:]
    text = report.read_text(encoding="utf-8")
    assert "FAILED" not in text
    for heading in SECTIONS:
        assert heading in text, heading
    for header in TABLE_HEADERS:
        assert header in text, header
    for row in ("| CPU |", "| Python |", "| onnx |", "| onnxruntime |"):
        assert row in text, row
    assert "do not edit by hand" in text


def test_a_benchmark_runs_alone():
    result = _run(str(BENCH / "many_files.py"), "--quick")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "## 3. Many files" in result.stdout
    assert "| deterministic output (all runs, all job counts) |" in result.stdout
