"""Comparing one output of the candidate with the original's, and all outputs' names.

A float element matches when ``|candidate - original| <= NOISE_MULTIPLE ·
noise`` (the original's own noise there, from ``linlint.verification.noise``).
The multiple is the room a correct fold needs beyond the noise of the
original's own evaluation orders: a fold evaluates a different expression (a
Conv 1x1 + AveragePool 2x2 becomes one Conv 2x2 summing 4x as many terms), so
its rounding differs a few times more than the original's runs differ among
themselves (ratios up to ~8 seen on the regions of onnx's own light_* test
models, ~2 on a whole 43-block MobileOne); a wrong weight, bias or border is off by hundreds to
millions. NaNs must sit at the same positions and infinities agree. Integer,
bool and string outputs must be exactly equal. User tolerances
(``rtol``/``atol``) replace the noise bound by ``atol + rtol·|original|`` (a
missing one counts as 0); the noise is still measured and reported. Each
``OutputComparison`` carries the noise it was judged against and the ratio, so
a verdict says its margin.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from linlint.verification.noise import default_tolerances, element_noise
from linlint.verification.sessions import Feeds
from linlint.verification.verdict import OutputComparison
from linlint.wording import quoted_list

#: A float element may differ from the original by this many times the original's own noise.
NOISE_MULTIPLE = 16.0


def failed_output(name: str, shape: tuple[int, ...], dtype: str, problem: str) -> OutputComparison:
    """An output that fails for ``problem``, whatever its values (no bound, infinite errors)."""
    inf = float("inf")
    return OutputComparison(name, shape, inf, inf, 0.0, 0.0, False, problem, 0.0, inf, None, dtype)


def compare_output(
    name: str,
    ref: np.ndarray,
    got: np.ndarray,
    samples: list[np.ndarray],
    rtol: float | None,
    atol: float | None,
) -> OutputComparison:
    """One output on one input set; ``samples`` are the original's noise runs of it."""
    shape = tuple(int(d) for d in ref.shape)
    dtype = ref.dtype.name
    if ref.shape != got.shape:
        problem = f"shape {tuple(got.shape)} in the candidate, {shape} in the original"
        return failed_output(name, shape, dtype, problem)
    if ref.dtype != got.dtype:
        problem = f"dtype {got.dtype} in the candidate, {ref.dtype} in the original"
        return failed_output(name, shape, dtype, problem)
    if ref.dtype.kind not in "fc" and dtype != "bfloat16":
        equal = bool(np.array_equal(ref, got))
        if ref.dtype.kind in "iub":
            differ = ref != got  # exact differences, in Python integers (no overflow)
            pairs = zip(ref[differ].tolist(), got[differ].tolist(), strict=True)
            delta = float(max((abs(int(x) - int(y)) for x, y in pairs), default=0))
        else:
            delta = 0.0 if equal else float("inf")
        return OutputComparison(
            name,
            shape,
            delta,
            0.0 if equal else float("inf"),
            atol or 0.0,
            rtol or 0.0,
            equal,
            "" if equal or ref.dtype.kind in "iub" else "values differ",
            0.0,
            0.0 if equal else float("inf"),
            0.0,
            dtype,
        )
    wide = np.complex128 if ref.dtype.kind == "c" else np.float64
    a = ref.astype(wide).reshape(-1)
    b = got.astype(wide).reshape(-1)
    # Non-finite where the original is, finite where it is. NaN and ±Inf may trade places:
    # a sum of infinities is NaN added one way (Inf − Inf) and ±Inf reassociated
    # (Inf·(w1 + w2)), and a fold reassociates; two infinities keep their sign.
    nan_a, nan_b = np.isnan(a), np.isnan(b)
    inf_a, inf_b = np.isinf(a), np.isinf(b)
    odd_a, odd_b = nan_a | inf_a, nan_b | inf_b
    if not np.array_equal(odd_a, odd_b):
        differ = odd_a != odd_b
        count = int(np.count_nonzero(differ))
        if np.any((nan_a | nan_b) & differ):
            problem = f"NaN at different positions ({count} element{'s' if count != 1 else ''})"
        else:
            problem = "infinities at different positions or with different signs"
        return failed_output(name, shape, dtype, problem)
    both = inf_a & inf_b
    if not np.array_equal(a[both], b[both]):
        return failed_output(
            name, shape, dtype, "infinities at different positions or with different signs"
        )
    finite = ~odd_a
    fa, fb = a[finite], b[finite]
    flat = [
        s.astype(wide).reshape(-1)[finite] for s in samples if s.shape == ref.shape
    ]  # a sample of another shape (a data-dependent size) tells nothing about this one
    floor_rtol, floor_atol = default_tolerances(ref.dtype)
    user = rtol is not None or atol is not None
    rtol_used = (rtol or 0.0) if user else floor_rtol
    atol_used = (atol or 0.0) if user else floor_atol
    if not fa.size:
        allowed = None if user else NOISE_MULTIPLE
        return OutputComparison(
            name, shape, 0.0, 0.0, atol_used, rtol_used, True, "", 0.0, 0.0, allowed, dtype
        )
    real = {"complex64": np.dtype(np.float32), "complex128": np.dtype(np.float64)}.get(
        dtype, ref.dtype
    )
    diff = np.abs(fa - fb)
    noise = element_noise(fa, fb, flat, real)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.where(diff == 0, 0.0, diff / noise)
        relative = np.where(diff == 0, 0.0, diff / np.maximum(np.abs(fa), noise))
    worst = int(np.argmax(ratios))
    ratio = float(ratios[worst])
    if user:
        ok = bool(np.all(diff <= atol_used + rtol_used * np.abs(fa)))
    else:
        ok = ratio <= NOISE_MULTIPLE
    return OutputComparison(
        name,
        shape,
        float(diff.max()),
        float(relative.max()),
        atol_used,
        rtol_used,
        ok,
        "",
        float(noise[worst]),
        ratio,
        None if user else NOISE_MULTIPLE,
        dtype,
    )


def merge_runs(runs: list[OutputComparison]) -> OutputComparison:
    """One comparison per output over all runs: worst errors, the noise at the worst ratio."""
    first_problem = next((c.problem for c in runs if c.problem), "")
    worst = max(runs, key=lambda c: c.ratio)
    return OutputComparison(
        name=runs[0].name,
        shape=runs[0].shape,  # the first input set: the base sizes
        max_abs=max(c.max_abs for c in runs),
        max_rel=max(c.max_rel for c in runs),
        atol=worst.atol,
        rtol=worst.rtol,
        ok=all(c.ok for c in runs),
        problem=first_problem,
        noise=worst.noise,
        ratio=worst.ratio,
        allowed=worst.allowed,
        dtype=worst.dtype,
    )


def structure_problem(session_a: Any, session_b: Any, feeds: Feeds) -> str:
    """What keeps two sessions from being compared output by output ("" when nothing):
    outputs only one has, inputs the candidate needs that ``feeds`` (the original's) lack."""
    names_a = [o.name for o in session_a.get_outputs()]
    names_b = [o.name for o in session_b.get_outputs()]
    only_a = [n for n in names_a if n not in names_b]
    only_b = [n for n in names_b if n not in names_a]
    parts = []
    if only_a:
        parts.append("the candidate lacks output " + quoted_list(only_a))
    if only_b:
        parts.append("the candidate has extra output " + quoted_list(only_b))
    unknown = [i.name for i in session_b.get_inputs() if i.name not in feeds]
    if unknown:
        parts.append(
            "the candidate needs input " + quoted_list(unknown) + " that the original does not have"
        )
    return "; ".join(parts)
