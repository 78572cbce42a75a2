"""SARIF 2.1.0: one run, every rule in ``tool.driver.rules``, one result per finding.

A result's location is the model file (relative to ``root``, ``/``-separated,
``startLine`` 1) with the finding's nodes as logical locations
(``graph/node``) — or, where the model records its PyTorch source and the file is
found in the repository (``Scope.source_root``, ``locations = "source"``), that file
and line, the model file then a related location, as are the finding's other source
lines. ``partialFingerprints.primaryLocationLineHash`` is what code scanning tracks an
alert by: ``linlint.checking.fingerprint`` (rule, model file, module paths; never node
names, indices or the message's numbers). ``linlint/v1`` hashes the code, file, graph
and node names, as before. Rules carry ``helpUri``, tags and
``properties.problem.severity``. Files that could not be checked are reported as tool
execution notifications.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

from linlint.checking.findings import Finding
from linlint.checking.fingerprint import fingerprints
from linlint.model.repository import relative_to_root
from linlint.report import Scope, display_path, doc_section, doc_summary, nodes_text
from linlint.report.sources import Sources, chain_text, frames

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "linlint/v1"
LINE_HASH = "primaryLocationLineHash"
#: linlint's page; the rules are its README's "Rules" section.
INFORMATION_URI = "https://pypi.org/project/linlint/"
RULES_URI = INFORMATION_URI + "#rules"
#: GitHub code scanning's severities of a problem (a note is a recommendation).
SEVERITY = {"error": "error", "warning": "warning", "note": "recommendation"}


def artifact_uri(file: str | Path, root: Path | None) -> str:
    """A relative, percent-encoded URI when the file is inside ``root``, else a ``file:`` URI."""
    inside = relative_to_root(file, root.resolve()) if root is not None else None
    if inside is not None:
        return quote(inside, safe="/")
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
        "shortDescription": {"text": rule.summary},  # as `linlint rules` and the README
        "fullDescription": {"text": " ".join(full.split())},
        "help": {"text": doc, "markdown": doc},
        "helpUri": RULES_URI,
        "defaultConfiguration": {"level": rule.level},
        "properties": {
            "summary": rule.summary,
            "tags": ["onnx", "performance", "maintainability", rule.name],
            "problem.severity": SEVERITY.get(rule.level, "warning"),
        },
    }


def _logical_location(graph: str, node: str) -> dict:
    return {
        "name": node,
        "fullyQualifiedName": f"{graph}/{node}" if graph else node,
        "kind": "function",
    }


def _physical(uri: str, line: int) -> dict:
    return {"artifactLocation": {"uri": uri}, "region": {"startLine": line}}


def _related(finding: Finding, model_uri: str, nodes: str, sources: Sources) -> list[dict]:
    """The model file, then the finding's other source lines found in the repository."""
    related = [
        {
            "id": 1,
            "physicalLocation": _physical(model_uri, 1),
            "message": {"text": f"the exported model ({nodes})"},
        }
    ]
    for origin in frames(finding)[1:]:
        path = sources.find(origin)
        if path is not None and origin.line is not None:
            related.append(
                {
                    "id": len(related) + 1,
                    "physicalLocation": _physical(quote(path, safe="/"), origin.line),
                    "message": {"text": origin.label},
                }
            )
    return related


def _result(
    finding: Finding,
    index: dict[str, int],
    root: Path | None,
    sources: Sources,
    line_hash: str,
) -> dict:
    where = f" in graph {finding.graph}" if finding.graph else ""
    nodes = f"nodes{where}: {nodes_text(finding)}"
    model_uri = artifact_uri(finding.file, root)
    chain = chain_text(finding)
    place = sources.located(finding)
    if place is not None:
        primary = _physical(quote(place[0], safe="/"), place[1])
        text = f"{finding.message} ({chain}; in {model_uri}, {nodes})"
    else:
        primary = _physical(model_uri, 1)
        text = f"{finding.message} ({chain}; {nodes})" if chain else f"{finding.message} ({nodes})"
    data = finding.to_dict()
    result = {
        "ruleId": finding.code,
        "level": finding.level,
        "message": {"text": text},
        "locations": [
            {
                "physicalLocation": primary,
                "logicalLocations": [_logical_location(finding.graph, n) for n in finding.nodes],
            }
        ],
        "partialFingerprints": {
            FINGERPRINT_KEY: fingerprint(finding, root),
            LINE_HASH: line_hash,
        },
        "properties": {
            "name": finding.name,
            "graph": finding.graph,
            "fix": data["fix"],
            "origins": data["origins"],
        },
    }
    if place is not None:
        result["relatedLocations"] = _related(finding, model_uri, nodes, sources)
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
    sources: Sources | None = None,
) -> dict:
    """The SARIF log as a dict: URIs relative to ``root``; results at their source lines
    where ``sources`` places them."""
    from linlint.rules import ALL_RULES

    index = {rule.code: i for i, rule in enumerate(ALL_RULES)}
    sources = sources if sources is not None else Sources(None)
    hashes = fingerprints(findings, root)
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
                        "informationUri": INFORMATION_URI,
                        "rules": [_rule_descriptor(rule) for rule in ALL_RULES],
                    }
                },
                "invocations": [invocation],
                "results": [
                    _result(f, index, root, sources, h)
                    for f, h in zip(findings, hashes, strict=True)
                ],
            }
        ],
    }


def render(findings: Sequence[Finding], scope: Scope = Scope()) -> str:
    """The SARIF log as indented JSON, paths relative to the source root (else ``root``)."""
    root = scope.source_root or scope.root
    sources = Sources(scope.source_root, scope.locations)
    log = build(findings, root=root, errors=scope.errors, sources=sources)
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
