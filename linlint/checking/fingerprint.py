"""What identifies a finding across runs and re-exports of its model, and its hash: the
SARIF ``partialFingerprints.primaryLocationLineHash`` code scanning tracks alerts by, and
what a baseline of accepted findings can store.

A finding is its rule, its model file (relative to the repository root) and, node by node,
the module the node comes from (``linlint.model.origins``) — not node names or indices,
which a re-export renumbers, nor the exporter's version, nor the message's numbers. A node
with no origin counts by its graph and name (all a model without them has). Findings of one
file whose identities are equal (a module called twice) are told apart by their order:
``<hash>:1``, ``<hash>:2``, as GitHub's own line hashes are.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from linlint.checking.findings import Finding
from linlint.model.repository import relative_to_root


def model_path(file: str | Path, root: Path | None) -> str:
    """The model file relative to ``root`` (``/``-separated) when inside it, else as given."""
    if root is not None:
        inside = relative_to_root(file, Path(root).resolve())
        if inside is not None:
            return inside
    return Path(file).as_posix()


def identity(finding: Finding, root: Path | None = None) -> tuple[str, ...]:
    """The parts that identify a finding (module docstring), in order."""
    parts: list[str] = []
    for node, origin in zip(finding.nodes, finding.node_origins, strict=True):
        part = f"module:{origin.module}" if origin is not None else f"node:{finding.graph}/{node}"
        if part not in parts:  # one module, several nodes (MatMul + Add of one Linear)
            parts.append(part)
    return (finding.code, model_path(finding.file, root), *parts)


def fingerprints(findings: Sequence[Finding], root: Path | None = None) -> list[str]:
    """One fingerprint per finding, in order: ``<16 hex digits>:<occurrence>``."""
    seen: Counter[str] = Counter()
    out = []
    for finding in findings:
        text = "\x1f".join(identity(finding, root))
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
        seen[digest] += 1
        out.append(f"{digest}:{seen[digest]}")
    return out


__all__ = ["fingerprints", "identity", "model_path"]
