"""Silencing findings on purpose: by node-name glob in ``[tool.linlint]``, by a
``linlint:ignore`` entry in the model's own ``metadata_props``, and by a baseline of
accepted findings.

- ``per-node-ignores = { "models/*.onnx" = { LL002 = ["*/bottleneck/*"] } }``: for files
  matching the key (a glob as in ``per-file-ignores``), a finding of a rule (code or prefix,
  or ``ALL``) is silenced when one of its nodes' names, or the module a node comes from
  (``blocks.0.expand``, where the model records it), matches one of the node globs
  (``fnmatch``: ``*`` matches ``/`` and ``.`` too).
- ``metadata_props`` ``linlint:ignore`` = ``"LL001,LL005"`` (or ``"all"``): on a node, it
  silences those rules' findings that include that node (nodes of every graph, subgraphs
  too); on the model, every such finding of the file.
- A baseline (``--write-baseline FILE``, ``--baseline FILE`` or ``baseline = "FILE"``) is a
  JSON file of fingerprints (``linlint.checking.fingerprint``, SARIF's
  ``primaryLocationLineHash``): a finding whose fingerprint it holds is silenced.

Rules turned off (``ignore``, ``per-file-ignores``) are not "suppressed": they never fire.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path

from linlint.checking.findings import Finding
from linlint.checking.fingerprint import fingerprints
from linlint.checking.selection import ALL, match_glob, parse_codes
from linlint.errors import LinlintError
from linlint.wording import quoted

KEY = "linlint:ignore"
MODEL = ""  # the key of the model's own entry in ``model_ignores``
BASELINE_VERSION = 1

#: ``(file glob, ((code or prefix, node globs), ...))`` pairs, as configured.
NodeIgnores = tuple[tuple[str, tuple[tuple[str, tuple[str, ...]], ...]], ...]


def _covers(selectors: Iterable[str], code: str) -> bool:
    return any(s == ALL or code.startswith(s) for s in selectors)


def _codes(text: str, where: str, file: str | None) -> tuple[str, ...]:
    try:
        return parse_codes(text.replace(" ", ","))
    except LinlintError as error:
        raise LinlintError(f"invalid {quoted(KEY)} on {where}: {error}", file) from None


def model_ignores(model, file: str | None = None) -> dict[str, tuple[str, ...]]:
    """The ``linlint:ignore`` entries of a model: node name → codes, ``MODEL`` → the
    model's own (an unknown code is a ``LinlintError`` naming the node)."""
    found: dict[str, tuple[str, ...]] = {}
    for prop in model.metadata_props:
        if prop.key == KEY:
            found[MODEL] = _codes(prop.value, "the model", file)

    def visit(graph) -> None:
        for node in graph.node:
            for prop in getattr(node, "metadata_props", ()):  # onnx < 1.16 has none
                if prop.key == KEY:
                    found[node.name] = _codes(prop.value, f"node {quoted(node.name)}", file)
            for attribute in node.attribute:
                for sub in [attribute.g, *attribute.graphs]:
                    visit(sub)

    visit(model.graph)
    return found


def silenced_by_metadata(finding: Finding, ignores: dict[str, tuple[str, ...]]) -> bool:
    """Whether the model's or one of the finding's nodes' ``linlint:ignore`` covers it."""
    if not ignores:
        return False
    names = (MODEL, *finding.nodes)
    return any(_covers(ignores.get(name, ()), finding.code) for name in names)


def silenced_by_nodes(
    finding: Finding, ignores: NodeIgnores, path: Path | str, base: Path | None
) -> bool:
    """Whether a ``per-node-ignores`` entry for this file covers the finding."""
    for file_glob, rules in ignores:
        if not match_glob(file_glob, Path(path), base):
            continue
        names = [*finding.nodes, *(o.module for o in finding.node_origins if o is not None)]
        for selector, globs in rules:
            if _covers((selector,), finding.code) and any(
                fnmatchcase(name, glob) for name in names for glob in globs
            ):
                return True
    return False


@dataclass
class Suppressed:
    """The findings kept and those silenced."""

    kept: list[Finding] = field(default_factory=list)
    silenced: list[Finding] = field(default_factory=list)

    @property
    def count(self) -> int:
        """How many were silenced."""
        return len(self.silenced)


def unsuppressed(
    findings: Iterable[Finding], ignores: dict[str, tuple[str, ...]], settings, path: Path | str
) -> Suppressed:
    """The findings of one file (after ``Settings.apply``) that neither the model's
    ``linlint:ignore`` entries nor the settings' ``per-node-ignores`` silence."""
    out = Suppressed()
    for finding in findings:
        if silenced_by_metadata(finding, ignores) or silenced_by_nodes(
            finding, settings.per_node_ignores, path, settings.base
        ):
            out.silenced.append(finding)
        else:
            out.kept.append(finding)
    return out


def read_baseline(path: Path) -> frozenset[str]:
    """The fingerprints a baseline file holds."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LinlintError("baseline file not found", str(path)) from None
    except (OSError, ValueError) as error:
        raise LinlintError(f"cannot read baseline: {error}", str(path)) from None
    entries = data.get("findings") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not all(
        isinstance(e, dict) and isinstance(e.get("fingerprint"), str) for e in entries
    ):
        raise LinlintError("not a linlint baseline (no `findings` list)", str(path))
    return frozenset(e["fingerprint"] for e in entries)


def baseline_text(findings: Sequence[Finding], root: Path | None) -> str:
    """A baseline of ``findings``: their fingerprints, with code, file and nodes to read."""
    from linlint.checking.fingerprint import model_path

    entries = [
        {"fingerprint": h, "code": f.code, "file": model_path(f.file, root), "nodes": list(f.nodes)}
        for f, h in zip(findings, fingerprints(findings, root), strict=True)
    ]
    return json.dumps({"version": BASELINE_VERSION, "findings": entries}, indent=2) + "\n"


def without_baseline(
    findings: Sequence[Finding], baseline: frozenset[str], root: Path | None
) -> Suppressed:
    """The findings whose fingerprint the baseline does not hold."""
    out = Suppressed()
    for finding, hash_ in zip(findings, fingerprints(findings, root), strict=True):
        if hash_ in baseline:
            out.silenced.append(finding)
        else:
            out.kept.append(finding)
    return out


def chosen_baseline(
    settings, baseline: str | Path | None, paths: Sequence[str | Path]
) -> tuple[frozenset[str], Path | None]:
    """The fingerprints of ``baseline`` (else the configuration's ``baseline``; neither:
    none) and the root they are relative to (the repository of ``paths``), as
    ``--baseline`` reads them."""
    where = Path(baseline) if baseline is not None else settings.baseline
    if where is None:
        return frozenset(), None
    from linlint.model.repository import source_root

    return read_baseline(where), source_root(paths, None)


def silencer(
    settings, path: Path | str, baseline: frozenset[str] = frozenset(), root: Path | None = None
) -> Callable[[Sequence[Finding]], list[Finding]] | None:
    """What ``check`` silences beyond the model's own ``linlint:ignore`` entries, as a
    function of one file's findings (those entries already applied): the findings that
    ``per-node-ignores`` and then the baseline (fingerprints relative to ``root``) silence;
    None where neither silences anything. ``fold`` leaves their nodes as they are
    (``FoldOptions.silence``)."""
    if not settings.per_node_ignores and not baseline:
        return None

    def silenced(findings: Sequence[Finding]) -> list[Finding]:
        left = unsuppressed(settings.apply(list(findings), path), {}, settings, path)
        if baseline:
            left.silenced += without_baseline(left.kept, baseline, root).silenced
        return left.silenced

    return silenced


__all__ = [
    "KEY",
    "NodeIgnores",
    "Suppressed",
    "baseline_text",
    "chosen_baseline",
    "model_ignores",
    "read_baseline",
    "silenced_by_metadata",
    "silenced_by_nodes",
    "silencer",
    "unsuppressed",
    "without_baseline",
]
