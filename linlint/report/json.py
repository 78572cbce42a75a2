"""JSON: an array of findings, one object each (``Finding.to_dict()``), in the order checked,
then a record per file that could not be checked (``linlint.report.io_error``: LL900)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from linlint.checking.findings import Finding
from linlint.report import Scope
from linlint.report.io_error import record


def render(findings: Sequence[Finding], scope: Scope = Scope()) -> str:
    """A JSON array: code, name, level, message, file, graph, nodes, fix per finding."""
    records = [f.to_dict() for f in findings]
    records += [record(file, message) for file, message in scope.errors]
    return json.dumps(records, indent=2, ensure_ascii=False) + "\n"
