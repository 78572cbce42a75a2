"""JSON: an array of findings, one object each (``Finding.to_dict()``), in the order checked."""

from __future__ import annotations

import json
from collections.abc import Sequence

from linlint.checking.findings import Finding
from linlint.report import Scope


def render(findings: Sequence[Finding], scope: Scope = Scope()) -> str:
    """A JSON array: code, name, level, message, file, graph, nodes, fix per finding."""
    return json.dumps([f.to_dict() for f in findings], indent=2, ensure_ascii=False) + "\n"
