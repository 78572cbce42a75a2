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
    "## 6. Costs that match the runtime: real architectures",
)
TABLE_HEADERS = (
    "| target | measured | goal | verdict |",  # each section's verdicts
    "| nodes | .onnx size | generate | findings |",  # scaling
    "| command | median | min | vs import onnx | peak RSS |",  # start-up
    "| configuration | median | min | per file | speed-up vs --jobs 1 (medians) |",  # many files
    "| phase |",  # fold breakdown
    "| version | param ops | nodes | MACs | params | latency |",  # peers, per network
    "| sample model | linlint folds |",  # peers, sample models
    "| model | version | nodes | param ops | MACs | params | latency (median) |",  # arch_latency
    "| model | rounds | noise δ | linlint / original | verdict |",  # their verdicts
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


def test_merge_replaces_only_the_sections_measured():
    sys.path.append(str(BENCH))
    import run
    from common import Section, Target

    def section(number: int, word: str, met: bool) -> Section:
        s = Section(f"{number}. Section {number}", f"{word} intro")
        s.add_text(f"{word} table")
        s.targets.append(Target(f"target {number}", word, "goal", met, why=f"{word} why"))
        return s

    old = run.render(
        [(n, section(n, "old", False), 1.0) for n in (1, 2, 6)], False, "python bench/run.py"
    )
    new = run.render([(6, section(6, "new", False), 1.0)], False, "python bench/run.py --only x")
    merged = run.merge(old, new, "*Section 6 re-measured alone by `x`.*")
    assert merged.count("## 1. Section 1") == merged.count("## 6. Section 6") == 1
    assert merged.index("## 1. Section 1") < merged.index("## 2.") < merged.index("## 6.")
    assert "new table" in merged and "new intro" in merged and "new why" in merged
    assert "old table" in merged  # sections 1 and 2
    assert merged.count("| 6 | target 6 |") == 1 and "| 6 | target 6 | new |" in merged
    assert merged.count("old why") == 2 and merged.count("- **target 6**") == 1
    assert merged.count("re-measured alone") == 1
    again = run.merge(merged, new, "*Section 6 re-measured alone by `y`.*")
    assert again.count("re-measured alone") == 1 and "by `y`" in again
    assert again.replace("`y`", "`x`") == merged


def test_the_cost_model_rates_are_measured_beside_the_table():
    result = _run(str(BENCH / "cost_model.py"), "--quick")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "| rate | measured | linlint's table | measured / table |" in result.stdout
    assert result.stdout.count("| ns per ") == 3
