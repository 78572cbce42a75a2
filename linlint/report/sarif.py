"""SARIF 2.1.0: one run, every rule in ``tool.driver.rules``, one result per finding.

A result's location is the model file (relative to ``root``, ``/``-separated,
``startLine`` 1) with the finding's nodes as logical locations
(``graph/node``). ``partialFingerprints`` hashes the code, file, graph and
nodes — never the message, whose numbers may change — so code-scanning
tools track a finding across runs. Files that could not be checked are
reported as tool execution notifications.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

from linlint.checking.findings import Finding
from linlint.report import Scope, display_path, doc_section, doc_summary, nodes_text

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "linlint/v1"


def artifact_uri(file: str | Path, root: Path | None) -> str:
    """A relative, percent-encoded URI when the file is inside ``root``, else a ``file:`` URI."""
    shown = display_path(file, root)
    if Path(shown).is_absolute():
        return Path(shown).as_uri()
    return quote(shown, safe="/")


def fingerprint(finding: Finding, root: Path | None) -> str:
    """A stable hash of what identifies a finding: code, file, graph and nodes."""
    parts = [finding.code, display_path(finding.file, root), finding.graph, *finding.nodes]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]


def _rule_descriptor(rule) -> dict:
    doc = rule.doc
    full = doc_section(doc, "What it finds") or doc_summary(doc)
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": doc_summary(doc)},
        "fullDescription": {"text": " ".join(full.split())},
        "help": {"text": doc, "markdown": doc},
        "defaultConfiguration": {"level": rule.level},
        "properties": {"summary": rule.summary},
    }


def _logical_location(graph: str, node: str) -> dict:
    return {
        "name": node,
        "fullyQualifiedName": f"{graph}/{node}" if graph else node,
        "kind": "function",
    }


def _result(finding: Finding, index: dict[str, int], root: Path | None) -> dict:
    where = f" in graph {finding.graph}" if finding.graph else ""
    result = {
        "ruleId": finding.code,
        "level": finding.level,
        "message": {"text": f"{finding.message} (nodes{where}: {nodes_text(finding)})"},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": artifact_uri(finding.file, root)},
                    "region": {"startLine": 1},
                },
                "logicalLocations": [_logical_location(finding.graph, n) for n in finding.nodes],
            }
        ],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint(finding, root)},
        "properties": {
            "name": finding.name,
            "graph": finding.graph,
            "fix": finding.to_dict()["fix"],
        },
    }
    if finding.code in index:
        result["ruleIndex"] = index[finding.code]
    return result


def _version() -> str:
    try:
        from linlint.version import __version__
    except ImportError:  # pragma: no cover
        return "0"
    return __version__


def build(
    findings: Sequence[Finding],
    *,
    root: Path | None = None,
    errors: Sequence[tuple[str, str]] = (),
) -> dict:
    """The SARIF log as a dict."""
    from linlint.rules import ALL_RULES

    index = {rule.code: i for i, rule in enumerate(ALL_RULES)}
    notifications = [
        {
            "level": "error",
            "message": {"text": message},
            "locations": [
                {"physicalLocation": {"artifactLocation": {"uri": artifact_uri(file, root)}}}
            ],
        }
        for file, message in errors
    ]
    invocation = {"executionSuccessful": not errors}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "linlint",
                        "version": _version(),
                        "rules": [_rule_descriptor(rule) for rule in ALL_RULES],
                    }
                },
                "invocations": [invocation],
                "results": [_result(f, index, root) for f in findings],
            }
        ],
    }


def render(findings: Sequence[Finding], scope: Scope = Scope()) -> str:
    """The SARIF log as indented JSON."""
    log = build(findings, root=scope.root, errors=scope.errors)
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
