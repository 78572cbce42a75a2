"""The HTML report of the sample models, rendered by a real headless browser (Chromium).

Skipped, with the reason, where no Chromium is installed (``.ci/run`` installs one when the
package manager is reachable). Screenshots go to a temporary folder, never over the
committed one in ``docs/images`` (``docs/make_screenshot.py`` makes that, once).
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from browser import find_browser, measure, screenshot
from conftest import SAMPLES
from linlint.cli.app import app

BROWSER = find_browser()
needs_browser = pytest.mark.skipif(
    BROWSER is None, reason="no Chromium installed (apt-get install chromium)"
)


@pytest.fixture(scope="module")
def sample_report(tmp_path_factory):
    """The HTML and JSON reports of every sample model."""
    folder = tmp_path_factory.mktemp("report")
    page, data = folder / "samples.html", folder / "samples.json"
    for fmt, out in (("html", page), ("json", data)):
        result = CliRunner().invoke(app, ["check", str(SAMPLES), "--format", fmt, "-o", str(out)])
        assert result.exit_code == 1, result.output
    return page, json.loads(data.read_text()), folder


def _after_counts(region: dict) -> tuple[int, int]:
    """What the *after* diagram holds: the sources' producers, the folded ops in a chain,
    the exit's readers; nothing where there is no exact fold."""
    if region["folded"] is None:
        return 0, 0
    entries = {(e["tensor"], e["from"]) for e in region["edges"] if e["role"] == "source"}
    exits = [e for e in region["edges"] if e["role"] == "exit"]
    folded = len(region["folded"])
    readers = {e["to"] for e in exits} - {tail for _, tail in entries}
    nodes = len({tail for _, tail in entries}) + folded + len(readers)
    edges = len(entries) + max(folded - 1, 0) + len(exits) if folded else len(entries) * len(exits)
    return nodes, edges


@needs_browser
def test_the_browser_draws_one_drawing_per_finding_with_its_nodes_and_edges(sample_report):
    page, findings, folder = sample_report
    seen = measure(BROWSER, page, folder)
    assert seen["findings"] == len(findings)
    assert len(seen["drawings"]) == len(findings)
    for finding, drawing in zip(findings, seen["drawings"], strict=True):
        region = finding["region"]
        expected = [len(region["nodes"]), len(region["edges"]), *_after_counts(region)]
        assert drawing["expected"] == expected, finding["nodes"]
        assert drawing["drawn"] == expected, finding["nodes"]
        assert drawing["width"] > 0 and drawing["height"] > 0


@needs_browser
def test_the_browser_takes_a_screenshot_of_the_report(sample_report):
    page, _, folder = sample_report
    png = screenshot(BROWSER, page, folder / "report.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 10_000  # a page with drawings, not a blank one
