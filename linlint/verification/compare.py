"""Prove two models equal by running them: onnxruntime on the same inputs, every output compared.

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

A float element matches when ``|candidate - original| <= NOISE_MULTIPLE ·
noise``. The multiple is the room a correct fold needs beyond the noise of the
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

Input sets come from ``linlint.verification.inputs`` (several sizes per symbolic
dimension, integers small and across their range); a generated set the
original itself cannot run on is skipped, one the candidate cannot run on
where the original can is a failure, and when the original runs on none the
verification fails: running nothing proves nothing. ``compare_models`` does
the same for a region cut out of a model and its fold, on the fold engine's
input sets.

onnxruntime is imported here only, inside the functions: ``check`` never
pays for it. Nothing here prints.
"""

from __future__ import annotations

import math
import statistics
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx

from linlint.errors import LinlintError
from linlint.model.load import load_model, uses_external_data, validate_external_data
from linlint.model.write import PROTOBUF_LIMIT, save_model, serialized_size
from linlint.verification.inputs import InputSet, graph_inputs, load_npz, verification_inputs

ModelSource = onnx.ModelProto | str | Path

#: A float element may differ from the original by this many times the original's own noise.
NOISE_MULTIPLE = 16.0
#: onnxruntime optimization levels the original also runs at, per input set (the reference
#: runs with none): other evaluation orders, fused weights, other kernels.
OPTIMIZATION_LEVELS = ("basic", "all")
#: Runs of the original on inputs moved by one ulp, per input set.
NOISE_NUDGES = 3
#: Of those runs, how many use a copy of the original whose weights moved by one ulp too.
WEIGHT_NUDGES = 2
#: Weights are nudged only in models up to this size (bytes), held in memory.
WEIGHT_NUDGE_LIMIT = 256 << 20
#: Ops whose float constant inputs are weights (nudged); others' (Resize scales, Pad
#: values, Range bounds, quantization scales) are left alone: they decide sizes or steps.
_WEIGHT_CONSUMERS = frozenset(
    {
        "Add", "BatchNormalization", "Conv", "ConvTranspose", "Div", "Einsum", "Gemm",
        "InstanceNormalization", "LayerNormalization", "MatMul", "Mean", "Mul", "PRelu",
        "Sub", "Sum",
    }
)  # fmt: skip
#: The noise of an element is at least this many ulps of its magnitude.
FLOOR_ULPS = 4
#: Elements per magnitude block whose median noise floors each element's noise.
NOISE_BLOCK = 32
_NUDGE_SEED = 0x11C0DE
_EXTERNAL_FOLDER_KEY = "session.model_external_initializers_file_folder_path"
_BENCH_WARMUP = 3
_BENCH_MIN_RUNS = 20
_BENCH_MAX_RUNS = 1000
_BENCH_MIN_SECONDS = 0.5


def _times(ratio: float) -> str:
    return f"{ratio:.2g}×"


@dataclass(frozen=True)
class OutputComparison:
    """How one output of the candidate compares with the original's, over all runs.

    ``noise`` is the original's own noise at the element where the candidate is worst
    relative to it, ``ratio`` that worst ``|candidate - original| / noise`` (0 when equal),
    ``allowed`` the largest ratio accepted (``NOISE_MULTIPLE``; None when the user's
    ``atol``/``rtol`` decided; 0 for exact dtypes). ``atol``/``rtol`` are the user's
    tolerances when given, else the floor under the noise (``noise >= atol + rtol·|x|``).
    ``max_rel`` is ``|candidate - original| / max(|original|, noise)``. ``problem`` names a
    mismatch that is not about values (shape, dtype, NaN positions, missing output).
    """

    name: str
    shape: tuple[int, ...]
    max_abs: float
    max_rel: float
    atol: float
    rtol: float
    ok: bool
    problem: str = ""
    noise: float = 0.0
    ratio: float = 0.0
    allowed: float | None = None
    dtype: str = ""

    @property
    def exact(self) -> bool:
        """Compared for exact equality (integers, bool, strings)."""
        return self.allowed == 0.0

    def describe(self) -> str:
        """One phrase: how this output compares."""
        if self.problem:
            return f"output '{self.name}': {self.problem}"
        verb = "equal" if self.ok else "differs"
        if self.exact:
            return f"output '{self.name}' {verb} (exact {self.dtype}): max abs {self.max_abs:.1e}"
        noise = f"{_times(self.ratio)} the original's own {self.dtype} noise ({self.noise:.1e})"
        if self.allowed is None:
            return (
                f"output '{self.name}' {verb}: max abs {self.max_abs:.1e} (given atol "
                f"{self.atol:.1e}, rtol {self.rtol:.1e}); {noise}"
            )
        return (
            f"output '{self.name}' {verb}: max abs {self.max_abs:.1e}, at worst {noise}, "
            f"allowed {_times(self.allowed)}"
        )


@dataclass(frozen=True)
class Verification:
    """The verdict of running two models on the same inputs.

    ``problem`` is set when the models cannot be compared output by output
    (different output names, inputs the original does not have, a candidate that
    cannot run where the original can, no input set the original runs on).
    ``skipped`` labels the generated input sets the original itself cannot run on.
    """

    ok: bool
    outputs: tuple[OutputComparison, ...]
    runs: int
    latency_original_ms: float | None = None
    latency_candidate_ms: float | None = None
    problem: str = ""
    skipped: tuple[str, ...] = field(default=())

    @property
    def speedup(self) -> float | None:
        """Original latency over candidate latency (above 1: the candidate is faster)."""
        if not self.latency_original_ms or not self.latency_candidate_ms:
            return None
        return self.latency_original_ms / self.latency_candidate_ms

    @property
    def worst(self) -> OutputComparison | None:
        """The float output closest to (or furthest past) its bound."""
        judged = [c for c in self.outputs if not c.exact and not c.problem]
        return max(judged, key=lambda c: c.ratio, default=None)

    def summary(self) -> str:
        """One line: verified or not, the margin or the first outputs that differ."""
        runs = f"over {self.runs} run{'s' if self.runs != 1 else ''}"
        if self.skipped:
            count = len(self.skipped)
            runs += f" ({count} input set{'s' if count != 1 else ''} the original cannot run on "
            runs += "skipped)"
        failed = [c for c in self.outputs if not c.ok]
        shown = "; ".join(c.describe() for c in failed[:3])
        if len(failed) > 3:
            shown += f"; and {len(failed) - 3} more"
        if self.problem:
            return f"verification failed: {self.problem}" + (f"; {shown}" if shown else "")
        if failed:
            return f"verification failed {runs}: {shown}"
        count = len(self.outputs)
        outputs = f"{count} output{'s' if count != 1 else ''}"
        max_abs = max((c.max_abs for c in self.outputs), default=0.0)
        worst = self.worst
        if worst is None:
            text = f"verified: {outputs} exactly equal {runs}"
        elif max_abs == 0:
            text = f"verified: {outputs} (max abs 0: identical) {runs}"
        elif worst.allowed is None:
            text = (
                f"verified: {outputs} within the given tolerance (max abs {max_abs:.1e}, "
                f"atol {worst.atol:.1e}, rtol {worst.rtol:.1e}; at worst "
                f"{_times(worst.ratio)} the original's own {worst.dtype} noise) {runs}"
            )
        else:
            text = (
                f"verified: {outputs} (max abs {max_abs:.1e}, at worst {_times(worst.ratio)} "
                f"the original's own {worst.dtype} noise, allowed {_times(worst.allowed)}) "
                f"{runs}"
            )
        if self.latency_original_ms is not None and self.latency_candidate_ms is not None:
            text += (
                f"; median latency {self.latency_original_ms:.3g} ms -> "
                f"{self.latency_candidate_ms:.3g} ms ({self.speedup:.2f}x)"
            )
        return text


@dataclass(frozen=True)
class _Prepared:
    """A model ready for onnxruntime: a path or bytes, and where its external data lives."""

    source: str | bytes
    proto: onnx.ModelProto
    label: str
    shown: str | None
    data_folder: str | None
    size: int  # bytes of the serialized model (its file's size for a path)


def _finfo(dtype: np.dtype) -> Any:
    dtype = np.dtype(dtype)
    if dtype.name == "bfloat16":
        import ml_dtypes

        return ml_dtypes.finfo(dtype)
    return np.finfo(dtype)


def default_tolerances(dtype: np.dtype) -> tuple[float, float]:
    """The floor under the measured noise of a float dtype, ``(rtol, atol)``: the noise of
    an element is at least ``atol + rtol·|x|`` (``FLOOR_ULPS`` ulps relative, that many
    smallest subnormals absolute). Exact (0, 0) for non-floats."""
    try:
        info = _finfo(dtype)
    except (TypeError, ValueError, ImportError):
        return 0.0, 0.0
    return FLOOR_ULPS * float(info.eps), FLOOR_ULPS * float(info.smallest_subnormal)


def _first_line(error: BaseException, limit: int = 300) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _prepare(
    model: ModelSource, label: str, base_dir: str | Path | None, stack: ExitStack
) -> _Prepared:
    if isinstance(model, (str, Path)):
        path = Path(model)
        proto = load_model(path)
        return _Prepared(str(path), proto, label, str(path), None, path.stat().st_size)
    if not isinstance(model, onnx.ModelProto):
        raise LinlintError(f"the {label} model must be an onnx.ModelProto or a path")
    external = uses_external_data(model)
    if external:
        if base_dir is None:
            raise LinlintError(
                f"the {label} model keeps weights in external files; give the folder they are in"
            )
        validate_external_data(model, base_dir)
    size = serialized_size(model)
    if size > PROTOBUF_LIMIT:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="linlint-")))
        path = folder / f"{label}.onnx"
        save_model(model, path, base_dir=base_dir, external_data=True)
        return _Prepared(str(path), model, label, None, None, size)
    folder_text = str(Path(base_dir).resolve()) if external and base_dir is not None else None
    return _Prepared(model.SerializeToString(), model, label, None, folder_text, size)


def _session(prepared: _Prepared, *, level: str = "none", spin: bool = False) -> Any:
    """An onnxruntime CPU session with graph optimizations at ``level`` (none, basic: constant
    folding and Conv+BN/Mul/Add fusions, all: also other kernels and layouts); ``spin`` (for
    timing) lets idle threads spin, which otherwise only burns shared cores and makes
    closing a session slow."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    if not spin:
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    # Fatal only: a failing run raises, and its message becomes our one-line error; at the
    # default level onnxruntime would also print it to stderr, a second (coloured) line.
    options.log_severity_level = 4
    options.graph_optimization_level = {
        "none": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
        "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
        "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
    }[level]
    if prepared.data_folder is not None:
        options.add_session_config_entry(_EXTERNAL_FOLDER_KEY, prepared.data_folder)
    try:
        return ort.InferenceSession(
            prepared.source, sess_options=options, providers=["CPUExecutionProvider"]
        )
    except Exception as error:  # onnxruntime raises its own pybind exception types
        raise LinlintError(
            f"onnxruntime cannot load the {prepared.label} model: {_first_line(error)}",
            prepared.shown,
        ) from None


def _is_bfloat16(array: np.ndarray) -> bool:
    return array.dtype.name == "bfloat16"


def _run(session: Any, feeds: dict[str, np.ndarray], prepared: _Prepared) -> dict[str, Any]:
    """Run once; outputs by name."""
    import onnxruntime as ort

    names = [output.name for output in session.get_outputs()]
    try:
        if any(_is_bfloat16(array) for array in feeds.values()):
            values = {
                name: ort.OrtValue.ortvalue_from_numpy_with_onnx_type(
                    array.view(np.uint16), onnx.TensorProto.BFLOAT16
                )
                if _is_bfloat16(array)
                else ort.OrtValue.ortvalue_from_numpy(np.ascontiguousarray(array))
                for name, array in feeds.items()
            }
            results = [value.numpy() for value in session.run_with_ort_values(names, values)]
        else:
            results = session.run(names, feeds)
    except Exception as error:  # onnxruntime raises its own pybind exception types
        raise LinlintError(
            f"onnxruntime failed to run the {prepared.label} model: {_first_line(error)}",
            prepared.shown,
        ) from None
    return dict(zip(names, results, strict=True))


def _flatten(name: str, value: Any) -> list[tuple[str, np.ndarray]]:
    """Outputs as named arrays: sequences and maps become one entry per element."""
    if isinstance(value, list):
        pairs: list[tuple[str, np.ndarray]] = [(f"{name}.length", np.asarray(len(value)))]
        for index, item in enumerate(value):
            pairs.extend(_flatten(f"{name}[{index}]", item))
        return pairs
    if isinstance(value, dict):
        keys = sorted(value, key=repr)
        pairs = [(f"{name}.keys", np.asarray([repr(k) for k in keys]))]
        for key in keys:
            pairs.extend(_flatten(f"{name}[{key!r}]", value[key]))
        return pairs
    return [(name, np.asarray(value))]


def _ulps(magnitude: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """One ulp of each magnitude (float64 array) in ``dtype``."""
    info = _finfo(dtype)
    _, exponent = np.frexp(magnitude)
    ulp = np.ldexp(float(info.eps), exponent - 1)
    return np.maximum(ulp, float(info.smallest_subnormal))


def _noise(
    ref: np.ndarray,
    got: np.ndarray,
    samples: list[np.ndarray],
    dtype: np.dtype,
) -> np.ndarray:
    """The original's own noise at each element of ``ref`` (finite float64 values, flat).

    ``samples`` are the original's other runs (flat float64, same positions): the largest
    deviation among them, floored by ``FLOOR_ULPS`` ulps of the element and by the lower
    median noise of the ``NOISE_BLOCK`` distinct values nearest in magnitude (see the module
    docstring).
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


def _failed(name: str, shape: tuple[int, ...], dtype: str, problem: str) -> OutputComparison:
    inf = float("inf")
    return OutputComparison(name, shape, inf, inf, 0.0, 0.0, False, problem, 0.0, inf, None, dtype)


def _compare(
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
        return _failed(name, shape, dtype, problem)
    if ref.dtype != got.dtype:
        problem = f"dtype {got.dtype} in the candidate, {ref.dtype} in the original"
        return _failed(name, shape, dtype, problem)
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
    nan_a, nan_b = np.isnan(a), np.isnan(b)
    if not np.array_equal(nan_a, nan_b):
        count = int(np.count_nonzero(nan_a != nan_b))
        problem = f"NaN at different positions ({count} element{'s' if count != 1 else ''})"
        return _failed(name, shape, dtype, problem)
    inf_a, inf_b = np.isinf(a), np.isinf(b)
    if not np.array_equal(inf_a, inf_b) or not np.array_equal(a[inf_a], b[inf_a]):
        return _failed(
            name, shape, dtype, "infinities at different positions or with different signs"
        )
    finite = ~(nan_a | inf_a)
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
    noise = _noise(fa, fb, flat, real)
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


def _merge(runs: list[OutputComparison]) -> OutputComparison:
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


def _input_sets(
    original: _Prepared,
    inputs: str | Path | dict[str, np.ndarray] | None,
    seed: int,
    runs: int,
    input_shapes: dict[str, tuple[int, ...]] | None,
) -> list[InputSet]:
    needed = [value.name for value in graph_inputs(original.proto)]
    if inputs is None:
        return verification_inputs(original.proto, seed=seed, runs=runs, input_shapes=input_shapes)
    if isinstance(inputs, (str, Path)):
        return [InputSet(f"the inputs of {inputs}", load_npz(inputs, expected=needed))]
    missing = [name for name in needed if name not in inputs]
    if missing:
        names = ", ".join(f"'{name}'" for name in missing)
        raise LinlintError(f"no array for model input {names}")
    return [InputSet("the given inputs", {name: np.asarray(inputs[name]) for name in needed})]


def _is_float(array: np.ndarray) -> bool:
    return array.dtype.kind == "f" or array.dtype.name == "bfloat16"


def _random_bits(rng: np.random.Generator, count: int) -> np.ndarray:
    """``count`` fair coin flips, as bools."""
    packed = np.frombuffer(rng.bytes((count + 7) // 8), np.uint8)
    return np.unpackbits(packed)[:count].view(np.bool_)


def _nudged(feeds: dict[str, np.ndarray], rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Every finite, non-zero float element moved by one ulp up or down (at random)."""
    moved = {}
    for name, array in feeds.items():
        if not _is_float(array):
            moved[name] = array
            continue
        unsigned = np.dtype(f"u{array.dtype.itemsize}")
        values = np.ascontiguousarray(array).reshape(-1)
        movable = np.isfinite(values) & (values != 0)
        up = _random_bits(rng, values.size) & (np.abs(values) < _finfo(array.dtype).max)
        # sign and magnitude: +1 on the bits is one ulp away from zero, -1 (mod 2^k) towards
        step = (movable & up).astype(unsigned) - (movable & ~up).astype(unsigned)
        moved[name] = (values.view(unsigned) + step).view(array.dtype).reshape(array.shape)
    return moved


def _nudged_array(array: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return _nudged({"a": array}, rng)["a"]


def _weight_names(graph: onnx.GraphProto) -> set[str]:
    """Float constants of the main graph that only ops in ``_WEIGHT_CONSUMERS`` read."""
    consumers: dict[str, set[str]] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, set()).add(node.op_type)
    outputs = {value.name for value in graph.output}
    return {
        name for name, ops in consumers.items() if ops <= _WEIGHT_CONSUMERS and name not in outputs
    }


def _nudged_weights(proto: onnx.ModelProto, seed: int) -> onnx.ModelProto | None:
    """A copy of the model with every float weight moved by one ulp up or down; None when it
    has no float weight."""
    from onnx import numpy_helper

    copy = onnx.ModelProto()
    copy.CopyFrom(proto)
    rng = np.random.default_rng([_NUDGE_SEED, seed, 1])
    names = _weight_names(copy.graph)
    floats = {onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16, onnx.TensorProto.DOUBLE}
    tensors = [t for t in copy.graph.initializer if t.name in names]
    tensors += [
        attribute.t
        for node in copy.graph.node
        if node.op_type == "Constant" and node.output[0] in names
        for attribute in node.attribute
        if attribute.name == "value"
    ]
    moved = 0
    for tensor in tensors:
        if tensor.data_type not in floats:
            continue
        array = numpy_helper.to_array(tensor)
        tensor.CopyFrom(numpy_helper.from_array(_nudged_array(array, rng), tensor.name))
        moved += 1
    return copy if moved else None


def _has_floats(feeds: dict[str, np.ndarray]) -> bool:
    return any(a.dtype.kind == "f" or a.dtype.name == "bfloat16" for a in feeds.values())


def _structure_problem(session_a: Any, session_b: Any, feeds: dict[str, np.ndarray]) -> str:
    names_a = [o.name for o in session_a.get_outputs()]
    names_b = [o.name for o in session_b.get_outputs()]
    only_a = [n for n in names_a if n not in names_b]
    only_b = [n for n in names_b if n not in names_a]
    parts = []
    if only_a:
        parts.append("the candidate lacks output " + ", ".join(f"'{n}'" for n in only_a))
    if only_b:
        parts.append("the candidate has extra output " + ", ".join(f"'{n}'" for n in only_b))
    unknown = [i.name for i in session_b.get_inputs() if i.name not in feeds]
    if unknown:
        parts.append(
            "the candidate needs input "
            + ", ".join(f"'{n}'" for n in unknown)
            + " that the original does not have"
        )
    return "; ".join(parts)


def _feeds_for(session: Any, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {i.name: feeds[i.name] for i in session.get_inputs() if i.name in feeds}


def _median_latencies(
    original: _Prepared, candidate: _Prepared, feeds: dict[str, np.ndarray]
) -> tuple[float, float]:
    """Median latency (ms) of each model with onnxruntime's default optimizations, interleaved."""
    sessions = [
        _session(original, level="all", spin=True),
        _session(candidate, level="all", spin=True),
    ]
    prepared = [original, candidate]
    inputs = [_feeds_for(s, feeds) for s in sessions]
    for _ in range(_BENCH_WARMUP):
        for session, feed, model in zip(sessions, inputs, prepared, strict=True):
            _run(session, feed, model)
    times: list[list[float]] = [[], []]
    started = time.perf_counter()
    while len(times[0]) < _BENCH_MAX_RUNS and (
        len(times[0]) < _BENCH_MIN_RUNS or time.perf_counter() - started < _BENCH_MIN_SECONDS
    ):
        for index in (0, 1):
            tick = time.perf_counter()
            _run(sessions[index], inputs[index], prepared[index])
            times[index].append(time.perf_counter() - tick)
    return statistics.median(times[0]) * 1e3, statistics.median(times[1]) * 1e3


def _try_session(prepared: _Prepared, *, level: str) -> Any | None:
    try:
        return _session(prepared, level=level)
    except LinlintError:
        return None


def _flat_outputs(outputs: dict[str, Any]) -> dict[str, np.ndarray]:
    flat: dict[str, np.ndarray] = {}
    for name, value in outputs.items():
        flat.update(_flatten(name, value))
    return flat


def _noise_samples(
    first: _Prepared,
    session_a: Any,
    order_sessions: list[Any],
    weight_sessions: list[Any],
    feeds: dict[str, np.ndarray],
    index: int,
) -> list[dict[str, np.ndarray]]:
    """The original's other runs on one input set: optimized, and on nudged inputs (the
    last ones with nudged weights too)."""
    runs: list[tuple[Any, dict[str, np.ndarray]]] = [(session, feeds) for session in order_sessions]
    floats = _has_floats(feeds)
    rng = np.random.default_rng([_NUDGE_SEED, index])
    plain = NOISE_NUDGES - len(weight_sessions)
    for i in range(NOISE_NUDGES):
        session = session_a if i < plain else weight_sessions[i - plain]
        if session is session_a and not floats:
            continue  # nothing moved: the same run again
        runs.append((session, _nudged(feeds, rng) if floats else feeds))
    samples = []
    for session, moved in runs:
        try:
            samples.append(_flat_outputs(_run(session, _feeds_for(session, moved), first)))
        except LinlintError:
            continue  # a run that fails tells nothing about the noise
    return samples


def _weight_sessions(first: _Prepared) -> list[Any]:
    """Sessions of weight-nudged copies of the original: none for a model whose weights are
    in external files or past ``WEIGHT_NUDGE_LIMIT`` (copies would cost more than they
    tell)."""
    sessions: list[Any] = []
    if first.size > WEIGHT_NUDGE_LIMIT or uses_external_data(first.proto):
        return sessions
    for i in range(WEIGHT_NUDGES):
        nudged = _nudged_weights(first.proto, i)
        if nudged is None:
            break
        data = nudged.SerializeToString()
        prepared = _Prepared(data, nudged, first.label, first.shown, None, len(data))
        session = _try_session(prepared, level="none")
        if session is not None:
            sessions.append(session)
    return sessions


def _judge(
    first: _Prepared,
    second: _Prepared,
    input_sets: list[InputSet],
    *,
    rtol: float | None,
    atol: float | None,
    given: bool,
) -> tuple[Verification, list[InputSet]]:
    """Compare on every input set; also return the sets that ran (for benchmarking).

    ``given``: the sets are the user's, so the original failing on one is an error, not a
    set to skip.
    """
    session_a = _session(first)
    session_b = _session(second)
    problem = _structure_problem(session_a, session_b, input_sets[0].feeds)
    if problem:
        return Verification(False, (), 0, problem=problem), []
    order_sessions = [
        session
        for level in OPTIMIZATION_LEVELS
        if (session := _try_session(first, level=level)) is not None
    ]
    weight_sessions = _weight_sessions(first)
    per_output: dict[str, list[OutputComparison]] = {}
    skipped: list[str] = []
    ran: list[InputSet] = []
    candidate_fails = ""
    for index, input_set in enumerate(input_sets):
        feeds = input_set.feeds
        try:
            out_a = _flat_outputs(_run(session_a, _feeds_for(session_a, feeds), first))
        except LinlintError as error:
            if given:
                raise
            skipped.append(f"{input_set.label}: {_reason(error)}")
            continue
        try:
            out_b = _flat_outputs(_run(session_b, _feeds_for(session_b, feeds), second))
        except LinlintError as error:
            if not candidate_fails:
                candidate_fails = (
                    f"the candidate cannot run on {input_set.label}, where the original can: "
                    f"{_reason(error)}"
                )
            continue
        ran.append(input_set)
        samples = _noise_samples(first, session_a, order_sessions, weight_sessions, feeds, index)
        for key, ref in out_a.items():
            if key not in out_b:
                comparison = _failed(key, ref.shape, ref.dtype.name, "missing in the candidate")
            else:
                own = [sample[key] for sample in samples if key in sample]
                comparison = _compare(key, ref, out_b[key], own, rtol, atol)
            per_output.setdefault(key, []).append(comparison)
    if not ran and not candidate_fails:
        count = len(input_sets)
        problem = (
            f"the original model runs on none of the {count} input set{'s' if count != 1 else ''}"
            f" ({skipped[0] if skipped else 'none given'}): nothing was compared, which proves "
            "nothing"
        )
        return Verification(False, (), 0, problem=problem, skipped=tuple(skipped)), []
    outputs = tuple(_merge(comparisons) for comparisons in per_output.values())
    if outputs and all(math.prod(c.shape) == 0 for cs in per_output.values() for c in cs):
        return Verification(
            False,
            outputs,
            len(ran),
            problem="every output is empty (a zero-sized dimension), so running the "
            "models compares no values",
            skipped=tuple(skipped),
        ), ran
    if candidate_fails:
        failed = Verification(
            False, outputs, len(ran), problem=candidate_fails, skipped=tuple(skipped)
        )
        return failed, ran
    ok = all(c.ok for c in outputs)
    return Verification(ok, outputs, len(ran), skipped=tuple(skipped)), ran


def _reason(error: LinlintError) -> str:
    """An onnxruntime failure without linlint's prefix (the label says which model)."""
    text = str(error)
    for model in ("original", "candidate"):
        prefix = f"onnxruntime failed to run the {model} model: "
        if prefix in text:
            return text.split(prefix, 1)[1]
    return text


def verify(
    original: ModelSource,
    candidate: ModelSource,
    *,
    inputs: str | Path | dict[str, np.ndarray] | None = None,
    rtol: float | None = None,
    atol: float | None = None,
    seed: int = 0,
    runs: int = 1,
    benchmark: bool = False,
    input_shapes: dict[str, tuple[int, ...]] | None = None,
    base_dir: str | Path | None = None,
) -> Verification:
    """Run both models on the same inputs with onnxruntime and compare every output by name.

    ``inputs`` is an ``.npz`` path or a dict of arrays (then one run, and the original must
    run on it); without it, ``inputs.verification_inputs`` makes ``runs`` seeded sets
    (seeds ``seed, seed + 1, ...``) at the base sizes, plus one per size variant of the
    symbolic dimensions; sets the original cannot run on are skipped. Each float element
    may differ by ``NOISE_MULTIPLE`` times the original's own noise there (see the module
    docstring); ``rtol``/``atol`` replace that bound by ``atol + rtol·|original|``. Paths
    are given to onnxruntime as paths, so external data and models past 2 GB work; a
    ModelProto whose tensors still point to external files needs ``base_dir``, the folder
    those files are in. ``benchmark`` also times both models with onnxruntime's default
    optimizations.
    """
    if runs < 1:
        raise LinlintError(f"runs must be at least 1, not {runs}")
    with ExitStack() as stack:
        first = _prepare(original, "original", base_dir, stack)
        second = _prepare(candidate, "candidate", base_dir, stack)
        input_sets = _input_sets(first, inputs, seed, runs, input_shapes)
        result, ran = _judge(
            first, second, input_sets, rtol=rtol, atol=atol, given=inputs is not None
        )
        if benchmark and ran and not result.problem:
            latencies = _median_latencies(first, second, ran[0].feeds)
            result = Verification(
                result.ok, result.outputs, result.runs, *latencies, skipped=result.skipped
            )
    return result


def _shapes_label(feeds: dict[str, np.ndarray]) -> str:
    text = ", ".join(
        f"{name}={'x'.join(str(d) for d in array.shape) or '(scalar)'}"
        for name, array in feeds.items()
    )
    return text or "no inputs"


def compare_models(
    original: onnx.ModelProto,
    candidate: onnx.ModelProto,
    input_sets: list[dict[str, np.ndarray]],
    *,
    base_dir: str | Path | None = None,
) -> Verification:
    """Compare a region cut out of a model with its folded form, on the given input sets.

    For the fold engine: ``input_sets`` typically from ``inputs.input_variants``.
    The noise is derived from ``original`` on each set (see the module docstring). Sets the
    original cannot run on (a size it does not accept) are skipped; a set the candidate
    cannot run on where the original can fails the comparison, and so does running on
    none at all.
    """
    if not input_sets:
        return Verification(False, (), 0, problem="no input sets given: that proves nothing")
    sets = [InputSet(_shapes_label(feeds), feeds) for feeds in input_sets]
    with ExitStack() as stack:
        first = _prepare(original, "original", base_dir, stack)
        second = _prepare(candidate, "candidate", base_dir, stack)
        result, _ = _judge(first, second, sets, rtol=None, atol=None, given=False)
    return result
