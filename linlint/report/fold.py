"""The report of ``linlint fold`` on one model file, as text or JSON.

Text: a line per folded region (its ops before → after, and what it costs),
per region not folded and why, the model's totals, the verification, the
findings that remain, and what was written. Example::

    m.onnx: LL001 folded conv1 → conv2: 2 Conv → Conv  MACs 32,768 → 16,384, params 144 → 72
    m.onnx: parametric ops 2 → 1, nodes 2 → 1, MACs 32,768 → 16,384, params 144 → 72
    m.onnx: verified: 1 output (max abs 8.9e-08, at worst 1.8× the original's own ...) over 2 runs
    m.onnx: wrote out.onnx

JSON: one object with ``folded``, ``refused``, ``before``, ``after``,
``verification``, ``remaining`` and ``written``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from linlint.analysis.cost_basis import free_text
from linlint.analysis.regions import DEFAULTED, SIZED_FIGURES, UNKNOWN, sizes_json
from linlint.report.escape import printable
from linlint.report.graph_diff import GraphDiff, render_diff
from linlint.report.text import sizes_note_for, sizes_suffix, work_parts

if TYPE_CHECKING:
    from linlint.checking.findings import Finding
    from linlint.folding.pipeline import FoldResult
    from linlint.folding.rounds import FoldedRegion


@dataclass(frozen=True)
class FoldReport:
    """What fold did to one model file: its result, the findings that remain (with their
    configured levels), the file written (if any), and whether this was a ``--diff``."""

    model: Path
    result: FoldResult
    remaining: Sequence[Finding]
    written: Path | None = None
    diff: bool = False
    changes: GraphDiff | None = None  # --diff: the nodes removed, added, changed
    removed_data: Sequence[Path] = ()  # data files no model references after the write


def op_counts(ops: Sequence[str]) -> str:
    """``Conv, BatchNormalization, Conv`` as ``2 Conv + BatchNormalization``."""
    counts: dict[str, int] = {}
    for op in ops:
        counts[op] = counts.get(op, 0) + 1
    return " + ".join(f"{n} {op}" if n > 1 else op for op, n in counts.items())


def _folded_line(model: Path, region: FoldedRegion) -> str:
    r = region
    where = f"{r.graph}: " if r.graph else ""
    after = " + ".join(r.ops_after) if r.ops_after else "(removed)"
    parts = []
    known = r.basis != UNKNOWN
    if not known and r.ops_after:
        parts += ["MACs unknown", f"params {r.params_before:,} → {r.params_after:,}"]
    elif r.macs_before or r.macs_after or r.basis == DEFAULTED:
        parts += [
            f"MACs {r.macs_before:,} → {r.macs_after:,}",
            f"params {r.params_before:,} → {r.params_after:,}",
        ]
    parts += work_parts(r, known)
    cost = "  " + ", ".join(parts) + sizes_suffix(r) if parts else ""
    return (
        f"{model}: {r.code} folded {where}{' → '.join(r.nodes)}: "
        f"{op_counts(r.ops_before)} → {after}{cost}"
    )


def _uncounted(before, after) -> str:
    """`` (not counting 2 → 1 parametric ops of unknown shape)`` where some are."""
    if not before.unknown_macs and not after.unknown_macs:
        return ""
    return (
        f" (not counting {before.unknown_macs} → {after.unknown_macs} parametric ops "
        "of unknown shape)"
    )


def _elementwise_saved(folded) -> str:
    saved = sum(r.elementwise_before - r.elementwise_after for r in folded)
    return f", elementwise ops {saved:,} fewer" if saved > 0 else ""


def render_text(report: FoldReport) -> str:
    """The text report, one line per fact, each starting with the model's path (names and
    paths escaped: ``linlint.report.escape``)."""
    model, result = report.model, report.result
    lines = [_folded_line(model, r) for r in result.folded]
    for reason in result.refused:
        lines.append(f"{model}: not folded: {reason}")
    b, a = result.before, result.after
    if result.changed:
        lines.append(
            f"{model}: parametric ops {b.param_ops} → {a.param_ops}, nodes {b.nodes} → {a.nodes},"
            f" MACs {b.macs:,} → {a.macs:,}{_uncounted(b, a)}, params {b.params:,} → {a.params:,}"
            + _elementwise_saved(result.folded)
            + (f" (at {free_text(b.sizes)})" if b.sizes else "")
        )
    if b.sizes:
        lines.append(f"{model}: {sizes_note_for(b.sizes)}")
    if result.verification is not None:
        lines.append(f"{model}: {result.verification.summary()}")
    elif result.changed:
        lines.append(f"{model}: not verified (`--no-verify`)")
    for f in report.remaining:
        lines.append(f"{model}: {f.code} [{f.level}] {f.name}: {f.message} (remains)")
    if result.suppressed:
        n = result.suppressed
        lines.append(f"{model}: {n} suppressed finding{'s' if n != 1 else ''} not folded")
    if report.changes is not None:
        lines += render_diff(str(model), report.changes)
    if not result.changed:
        copy = f"; wrote an unchanged copy to {report.written}" if report.written else ""
        lines.append(f"{model}: nothing to fold{copy}")
    elif report.diff:
        lines.append(f"{model}: nothing written (`--diff`)")
    elif report.written is not None:
        lines.append(f"{model}: wrote {report.written}")
    for path in report.removed_data:
        lines.append(f"{model}: removed {path} (no model there references it now)")
    return "\n".join(printable(line) for line in lines) + "\n"


def _folded_json(region: FoldedRegion) -> dict:
    """One rewrite as JSON: its figures null where unknown (as a finding's ``fix``), and the
    region's picture."""
    data = asdict(replace(region, region=None))
    if region.basis == UNKNOWN:
        data.update(dict.fromkeys(name for name in SIZED_FIGURES if name in data))
    data["sizes"] = sizes_json(region.sizes)
    data["region"] = region.region.to_dict() if region.region is not None else None
    return data


def render_json(report: FoldReport) -> str:
    """The JSON report: one object."""
    result = report.result
    verification = None
    if result.verification is not None:
        verification = {"ok": result.verification.ok, "summary": result.verification.summary()}
        verification["sizes"] = [
            {name: list(shape) for name, shape in at.items()} for at in result.verification.sizes
        ]
    data = {
        "folded": [_folded_json(r) for r in result.folded],
        "refused": list(result.refused),
        "before": {**asdict(result.before), "sizes": sizes_json(result.before.sizes)},
        "after": {**asdict(result.after), "sizes": sizes_json(result.after.sizes)},
        "verification": verification,
        "remaining": [f.to_dict() for f in report.remaining],
        "suppressed": result.suppressed,
        "written": str(report.written) if report.written is not None else None,
        "removed_data": [str(path) for path in report.removed_data],
    }
    if report.changes is not None:
        changes = report.changes
        data["diff"] = {
            "removed": [{"name": n, "op_type": op} for n, op in changes.removed],
            "added": [{"name": n, "op_type": op} for n, op in changes.added],
            "changed": [{"name": n, "op_type": op} for n, op in changes.changed],
        }
    return json.dumps(data, indent=2) + "\n"
