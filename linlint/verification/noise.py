"""The original model's own noise at each output element: what a correct fold may differ by.

**The tolerance comes from the original model.** A folded float32 network
differs from its original by rounding order, and how much depends on the
network: a single conv by an ulp, a deep net by a hundred. No fixed tolerance
fits both, and one scaled by the largest output lets a large element hide
wrong small ones. onnxruntime's CPU provider has no float64 Conv to compare
with, so on every input set the original also runs several other ways, each
as valid as the reference (which runs with graph optimizations off):

* at each of ``OPTIMIZATION_LEVELS``: basic (onnxruntime folds BN, Mul, Add
  into the conv weights itself) and all (other kernels, blocked layouts,
  other accumulation orders);
* ``NOISE_NUDGES`` times on the inputs moved by one ulp up or down at random
  (every float element), which changes every rounding downstream;
  ``WEIGHT_NUDGES`` of those runs use a copy of the original whose float
  weights moved by one ulp as well, as a fold rounds its folded weights
  (without it an all-zero input, where only the biases speak, would show no
  noise at all; skipped for models past ``WEIGHT_NUDGE_LIMIT`` or with
  external data).

The elementwise largest deviation of those runs from the reference is the
original's own *noise* at each element: elementwise, never scaled by the
largest value. One sample can come out near zero at an element by chance, so
the noise has two floors:

* ``FLOOR_ULPS`` ulps of the element's own magnitude in the output's dtype;
* the (lower) median noise of the ``NOISE_BLOCK`` distinct values of that
  output nearest in magnitude (sorted by ``|original|``, repeats counted once
  so that a constant map is one value, not a block; an element is placed by
  the larger of its original and candidate magnitudes, so a ReLU output that
  is 0 in the original and 1e-7 in the candidate is judged among the
  original's values near 1e-7). A median of values of similar size, so one
  large element never lifts the bound of small ones: ``[1.2e4, .05, .05,
  .05]`` against ``[1.2e4, 0, 0, 0]`` fails by a factor of a million.

How far past the noise a candidate may be is ``linlint.verification.output_comparison``'s
to judge.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from linlint.errors import LinlintError
from linlint.model.tensors import uses_external_data
from linlint.verification.nudges import NUDGE_SEED, finfo, has_floats, nudged, nudged_weights
from linlint.verification.sessions import Feeds, PreparedModel, outputs_of, try_session

#: onnxruntime optimization levels the original also runs at, per input set (the reference
#: runs with none): other evaluation orders, fused weights, other kernels.
OPTIMIZATION_LEVELS = ("basic", "all")
#: Runs of the original on inputs moved by one ulp, per input set.
NOISE_NUDGES = 3
#: Of those runs, how many use a copy of the original whose weights moved by one ulp too.
WEIGHT_NUDGES = 2
#: Weights are nudged only in models up to this size (bytes), held in memory.
WEIGHT_NUDGE_LIMIT = 256 << 20
#: The noise of an element is at least this many ulps of its magnitude.
FLOOR_ULPS = 4
#: Elements per magnitude block whose median noise floors each element's noise.
NOISE_BLOCK = 32


def default_tolerances(dtype: np.dtype) -> tuple[float, float]:
    """The floor under the measured noise of a float dtype, ``(rtol, atol)``: the noise of
    an element is at least ``atol + rtol·|x|`` (``FLOOR_ULPS`` ulps relative, that many
    smallest subnormals absolute). Exact (0, 0) for non-floats."""
    try:
        info = finfo(dtype)
    except (TypeError, ValueError, ImportError):
        return 0.0, 0.0
    return FLOOR_ULPS * float(info.eps), FLOOR_ULPS * float(info.smallest_subnormal)


def _ulps(magnitude: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """One ulp of each magnitude (float64 array) in ``dtype``."""
    info = finfo(dtype)
    _, exponent = np.frexp(magnitude)
    ulp = np.ldexp(float(info.eps), exponent - 1)
    return np.maximum(ulp, float(info.smallest_subnormal))


def element_noise(
    ref: np.ndarray,
    got: np.ndarray,
    samples: list[np.ndarray],
    dtype: np.dtype,
) -> np.ndarray:
    """The original's own noise at each element of ``ref`` (finite float64 values, flat).

    ``samples`` are the original's other runs (flat float64, same positions): the largest
    deviation among them, floored by ``FLOOR_ULPS`` ulps of the element and by the lower
    median noise of the ``NOISE_BLOCK`` distinct values nearest in magnitude (see the module
    docstring). ``got`` is the candidate's values: where they are larger, the element is
    judged among the original's values of that size.
    """
    magnitude = np.abs(ref)
    raw = np.zeros(ref.shape)
    for sample in samples:
        with np.errstate(invalid="ignore"):
            deviation = np.abs(sample - ref)
        raw = np.maximum(raw, np.where(np.isfinite(sample), deviation, np.inf))
    _, atol = default_tolerances(dtype)
    floor = np.maximum(FLOOR_ULPS * _ulps(magnitude, dtype), atol)
    if ref.size == 0:
        return floor
    # distinct magnitudes, each with the largest noise among its repeats (sorted as float32
    # when they are float32 values: faster, and the same order)
    real32 = dtype.itemsize <= 4 and not np.iscomplexobj(ref)
    narrow = magnitude.astype(np.float32) if real32 else magnitude
    order = np.argsort(narrow)
    ordered = magnitude[order]
    is_start = np.concatenate(([True], ordered[1:] != ordered[:-1]))
    starts = np.flatnonzero(is_start)
    values = ordered[starts]
    value_noise = np.maximum.reduceat(raw[order], starts)
    n = values.size
    blocks = max(1, n // NOISE_BLOCK)
    medians = np.empty(blocks)
    whole = (blocks - 1) * NOISE_BLOCK
    if blocks > 1:
        grouped = value_noise[:whole].reshape(blocks - 1, NOISE_BLOCK)
        medians[:-1] = np.partition(grouped, (NOISE_BLOCK - 1) // 2, axis=1)[
            :, (NOISE_BLOCK - 1) // 2
        ]
    last = value_noise[whole:]  # the last block takes the remainder
    medians[-1] = np.partition(last, (last.size - 1) // 2)[(last.size - 1) // 2]
    # each element's block by its own magnitude, then by the candidate's where that is
    # past the start of the next block (block k >= 1 starts at values[k * NOISE_BLOCK])
    block = np.empty(ref.size, np.intp)
    block[order] = np.minimum((np.cumsum(is_start) - 1) // NOISE_BLOCK, blocks - 1)
    starts_of_blocks = values[NOISE_BLOCK : (blocks - 1) * NOISE_BLOCK + 1 : NOISE_BLOCK]
    candidate = np.abs(got)
    beyond = candidate > np.append(starts_of_blocks, np.inf)[block]
    block[beyond] = np.searchsorted(starts_of_blocks, candidate[beyond], side="left")
    typical = medians[block]
    return np.maximum(np.maximum(raw, floor), typical)


@dataclass(frozen=True)
class NoiseSessions:
    """The original's sessions its noise runs use: the reference (no optimizations), one per
    level of ``OPTIMIZATION_LEVELS`` and one per weight-nudged copy that onnxruntime loads."""

    original: PreparedModel
    reference: Any
    orders: list[Any]
    weights: list[Any]


def _weight_sessions(first: PreparedModel) -> list[Any]:
    """Sessions of weight-nudged copies of the original: none for a model whose weights are
    in external files or past ``WEIGHT_NUDGE_LIMIT`` (copies would cost more than they
    tell)."""
    sessions: list[Any] = []
    if first.size > WEIGHT_NUDGE_LIMIT or uses_external_data(first.proto):
        return sessions
    for i in range(WEIGHT_NUDGES):
        moved = nudged_weights(first.proto, i)
        if moved is None:
            break
        data = moved.SerializeToString()
        prepared = PreparedModel(data, moved, first.label, first.shown, None, len(data))
        session = try_session(prepared, level="none")
        if session is not None:
            sessions.append(session)
    return sessions


def noise_sessions(first: PreparedModel, reference: Any) -> NoiseSessions:
    """The sessions of the original's noise runs; ``reference`` is its session without
    optimizations. Levels or copies onnxruntime cannot load are left out."""
    orders = [
        session
        for level in OPTIMIZATION_LEVELS
        if (session := try_session(first, level=level)) is not None
    ]
    return NoiseSessions(first, reference, orders, _weight_sessions(first))


def noise_samples(sessions: NoiseSessions, feeds: Feeds, index: int) -> list[Feeds]:
    """The original's other runs on one input set (the ``index``-th): optimized, and on
    nudged inputs (the last ones with nudged weights too); runs that fail are left out."""
    runs: list[tuple[Any, Feeds]] = [(session, feeds) for session in sessions.orders]
    floats = has_floats(feeds)
    rng = np.random.default_rng([NUDGE_SEED, index])
    plain = NOISE_NUDGES - len(sessions.weights)
    for i in range(NOISE_NUDGES):
        session = sessions.reference if i < plain else sessions.weights[i - plain]
        if session is sessions.reference and not floats:
            continue  # nothing moved: the same run again
        runs.append((session, nudged(feeds, rng) if floats else feeds))
    samples = []
    for session, moved in runs:
        try:
            samples.append(outputs_of(session, moved, sessions.original))
        except LinlintError:
            continue  # a run that fails tells nothing about the noise
    return samples
