"""Headless Chromium for the tests that look at the HTML report as a browser renders it.

``find_browser`` names the installed Chromium (None where there is none: the tests skip).
``measure`` loads a copy of a page with a probe script added and reads back, per drawing,
how many boxes and arrows the browser laid out with a size (``--dump-dom``); the report
itself holds no script. ``screenshot`` saves a PNG of a page. As root Chromium needs
``--no-sandbox``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT = 120

PROBE = """<script>
(function () {
  function drawn(scope, selector, test) {
    if (!scope) return 0;
    return Array.from(scope.querySelectorAll(selector)).filter(test).length;
  }
  function sized(el) { var b = el.getBBox(); return b.width > 0 && b.height > 0; }
  function long(el) { return el.getTotalLength() > 0; }
  var out = Array.from(document.querySelectorAll('figure.drawing')).map(function (fig) {
    var before = fig.querySelector('g.before'), after = fig.querySelector('g.after');
    var svg = fig.querySelector('svg').getBoundingClientRect();
    return {
      expected: [+fig.dataset.nodes, +fig.dataset.edges,
                 +fig.dataset.afterNodes, +fig.dataset.afterEdges],
      drawn: [drawn(before, 'g.node', sized), drawn(before, 'path.edge', long),
              drawn(after, 'g.node', sized), drawn(after, 'path.edge', long)],
      width: svg.width, height: svg.height
    };
  });
  var pre = document.createElement('pre');
  pre.id = 'll-probe';
  pre.textContent = JSON.stringify({findings: document.querySelectorAll('section.finding').length,
                                    drawings: out});
  document.body.appendChild(pre);
})();
</script>"""


def find_browser() -> str | None:
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def _run(browser: str, *args: str) -> subprocess.CompletedProcess:
    flags = ["--headless", "--disable-gpu", "--hide-scrollbars", "--no-first-run"]
    if os.geteuid() == 0:
        flags.append("--no-sandbox")
    return subprocess.run(
        [browser, *flags, *args], capture_output=True, text=True, timeout=TIMEOUT, check=False
    )


def measure(browser: str, page: Path, workdir: Path) -> dict:
    """What the browser drew of each ``figure.drawing`` of ``page`` (a copy with the probe)."""
    probed = workdir / "probed.html"
    probed.write_text(page.read_text().replace("</body>", PROBE + "</body>"))
    result = _run(browser, "--virtual-time-budget=10000", "--dump-dom", probed.as_uri())
    found = re.search(r'<pre id="ll-probe">(.*?)</pre>', result.stdout, re.S)
    if found is None:
        raise AssertionError(f"the probe did not run: {result.stderr[-2000:]}")
    text = found.group(1).replace("&quot;", '"').replace("&amp;", "&")
    return json.loads(text.replace("&lt;", "<").replace("&gt;", ">"))


def screenshot(browser: str, page: Path, png: Path, width: int = 1200, height: int = 1400):
    """Save a PNG of the top of ``page``."""
    result = _run(browser, f"--window-size={width},{height}", f"--screenshot={png}", page.as_uri())
    if not png.exists():
        raise AssertionError(f"no screenshot: {result.stderr[-2000:]}")
    return png
