"""The report of ``linlint verify``: every output compared, the latencies, the verdict.

Text: a line per output (its shape, largest absolute and relative
difference, what judged it, ``ok`` or ``DIFFERS``), the median latencies when
timed, then the verdict. Example (with ``--atol 1e-5 --rtol 1e-3``)::

      y [1x8x16x16]: max abs 5.96e-08, max rel 2.31e-04 (given atol 1.0e-05, rtol 1.0e-03)  ok
    verified: 1 output within the given tolerance (max abs 6.0e-08, atol 1.0e-05, ...) over 1 run

JSON: one object with the verdict, the runs, one object per output (numbers
that are not finite as strings, as JSON has none) and the latencies.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING

from linlint.report.escape import printable

if TYPE_CHECKING:
    from linlint.verification.verdict import OutputComparison, Verification


def _output_line(c: OutputComparison) -> str:
    shape = "x".join(str(d) for d in c.shape) if c.shape else "scalar"
    if c.problem:
        return f"  {c.name} [{shape}]: {c.problem}  DIFFERS"
    verdict = "ok" if c.ok else "DIFFERS"
    if c.exact:
        judged = "exact"
    elif c.allowed is None:
        judged = f"given atol {c.atol:.1e}, rtol {c.rtol:.1e}"
    else:
        judged = f"{c.ratio:.2g}× the original's noise {c.noise:.1e}, {c.allowed:g}× allowed"
    return (
        f"  {c.name} [{shape}]: max abs {c.max_abs:.2e}, max rel {c.max_rel:.2e} "
        f"({judged})  {verdict}"
    )


def render_text(result: Verification) -> str:
    """The text report: a line per output, the latencies when timed, the verdict (output
    names escaped: ``linlint.report.escape``)."""
    lines = [_output_line(c) for c in result.outputs]
    if result.latency_original_ms is not None and result.latency_candidate_ms is not None:
        ratio = result.latency_candidate_ms / result.latency_original_ms
        lines.append(
            f"latency (median): original {result.latency_original_ms:.3f} ms, "
            f"candidate {result.latency_candidate_ms:.3f} ms, ratio {ratio:.2f} "
            f"(candidate/original)"
        )
    lines.append(result.summary())
    return "\n".join(printable(line) for line in lines) + "\n"


def _number(value: float | None) -> float | str | None:
    if value is None or math.isfinite(value):
        return value
    return str(value)


def _output_json(c: OutputComparison) -> dict:
    return {
        "name": c.name,
        "shape": list(c.shape),
        "max_abs": _number(c.max_abs),
        "max_rel": _number(c.max_rel),
        "atol": c.atol,
        "rtol": c.rtol,
        "noise": _number(c.noise),
        "ratio": _number(c.ratio),
        "allowed": c.allowed,
        "dtype": c.dtype,
        "ok": c.ok,
        "problem": c.problem,
    }


def render_json(result: Verification) -> str:
    """The JSON report: one object."""
    data = {
        "ok": result.ok,
        "runs": result.runs,
        "problem": result.problem,
        "outputs": [_output_json(c) for c in result.outputs],
        "skipped": list(result.skipped),
        "sizes": [{name: list(shape) for name, shape in at.items()} for at in result.sizes],
        "latency_original_ms": result.latency_original_ms,
        "latency_candidate_ms": result.latency_candidate_ms,
    }
    return json.dumps(data, indent=2) + "\n"
