"""Make the README's screenshot of the HTML report, once: ``python docs/make_screenshot.py``.

It renders the HTML report of a few sample models and saves the top of the page as
``docs/images/html_report.png`` with the same headless-Chromium code the browser test uses
(``tests/browser.py``). Tests never write here; run this by hand when the page changes.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import linlint  # noqa: E402
from browser import find_browser, screenshot  # noqa: E402
from linlint.report import Scope, html  # noqa: E402

MODELS = ("ll004_repvgg_block", "ll003_conv3x3_conv3x3_padded", "ll001_expandnets_1x1_3x3_1x1")
TARGET = ROOT / "docs" / "images" / "html_report.png"


def main() -> None:
    browser = find_browser()
    if browser is None:
        raise SystemExit("no Chromium installed (apt-get install chromium)")
    paths = [ROOT / "sample_models" / f"{m}.onnx" for m in MODELS]
    findings = [f for p in paths for f in linlint.check(p)]
    with tempfile.TemporaryDirectory() as folder:
        page = Path(folder) / "report.html"
        page.write_text(html.render(findings, Scope(root=ROOT, files=paths)))
        screenshot(browser, page, TARGET, width=1000, height=1250)
    print(f"wrote {TARGET.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
