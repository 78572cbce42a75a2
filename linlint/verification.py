"""Prove two models equal by running them: onnxruntime on the same inputs, every output compared.

An output matches when ``|candidate - original| <= atol + rtol * |original|``
holds for every element, NaNs sit at the same positions and infinities
agree. Default tolerances follow the output's dtype, and ``atol`` scales with
the output's magnitude (``max(1, max |original|)``): a folded float32 conv
chain differs from the original by rounding order, not by a fixed amount.
onnxruntime is imported here only, inside the functions: ``check`` never
pays for it. Nothing here prints.
"""

from __future__ import annotations

import math
import statistics
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx

from linlint.errors import LinlintError
from linlint.inputs import graph_inputs, load_npz, make_inputs
from linlint.loader import load_model, uses_external_data, validate_external_data
from linlint.writer import PROTOBUF_LIMIT, save_model, serialized_size

ModelSource = onnx.ModelProto | str | Path

# dtype name -> (rtol, atol per unit of output magnitude)
_TOLERANCES = {
    "float64": (1e-9, 1e-9),
    "complex128": (1e-9, 1e-9),
    "float32": (1e-4, 1e-5),
    "complex64": (1e-4, 1e-5),
    "float16": (1e-2, 1e-2),
    "bfloat16": (5e-2, 5e-2),
}
_EXTERNAL_FOLDER_KEY = "session.model_external_initializers_file_folder_path"
_BENCH_WARMUP = 3
_BENCH_MIN_RUNS = 20
_BENCH_MAX_RUNS = 1000
_BENCH_MIN_SECONDS = 0.5


@dataclass(frozen=True)
class OutputComparison:
    """How one output of the candidate compares with the original's, over all runs.

    ``max_rel`` is ``|candidate - original| / max(|original|, atol)``, so
    elements near zero do not blow it up. ``problem`` names a mismatch that
    is not about values (shape, dtype, NaN positions, missing output).
    """

    name: str
    shape: tuple[int, ...]
    max_abs: float
    max_rel: float
    atol: float
    rtol: float
    ok: bool
    problem: str = ""

    def describe(self) -> str:
        """One phrase: how this output compares."""
        if self.problem:
            return f"output '{self.name}': {self.problem}"
        verb = "equal within tolerance" if self.ok else "differs"
        return (
            f"output '{self.name}' {verb}: max abs {self.max_abs:.1e} (atol {self.atol:.1e}), "
            f"max rel {self.max_rel:.1e} (rtol {self.rtol:.1e})"
        )


@dataclass(frozen=True)
class Verification:
    """The verdict of running two models on the same inputs.

    ``problem`` is set when the models cannot be compared output by output
    (different output names, inputs the original does not have).
    """

    ok: bool
    outputs: tuple[OutputComparison, ...]
    runs: int
    latency_original_ms: float | None = None
    latency_candidate_ms: float | None = None
    problem: str = ""

    @property
    def speedup(self) -> float | None:
        """Original latency over candidate latency (above 1: the candidate is faster)."""
        if not self.latency_original_ms or not self.latency_candidate_ms:
            return None
        return self.latency_original_ms / self.latency_candidate_ms

    def summary(self) -> str:
        """One line: verified or not, the largest errors or the first outputs that differ."""
        runs = f"over {self.runs} run{'s' if self.runs != 1 else ''}"
        if self.problem:
            return f"verification failed: {self.problem}"
        failed = [c for c in self.outputs if not c.ok]
        if failed:
            shown = "; ".join(c.describe() for c in failed[:3])
            more = f"; and {len(failed) - 3} more" if len(failed) > 3 else ""
            return f"verification failed {runs}: {shown}{more}"
        count = len(self.outputs)
        max_abs = max((c.max_abs for c in self.outputs), default=0.0)
        max_rel = max((c.max_rel for c in self.outputs), default=0.0)
        text = (
            f"verified: {count} output{'s' if count != 1 else ''} equal within tolerance "
            f"(max abs {max_abs:.1e}, max rel {max_rel:.1e}) {runs}"
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


def default_tolerances(dtype: np.dtype) -> tuple[float, float]:
    """``(rtol, atol per unit of magnitude)`` that fit a dtype; exact (0, 0) for non-floats."""
    name = np.dtype(dtype).name
    if name in _TOLERANCES:
        return _TOLERANCES[name]
    try:
        eps = float(np.finfo(dtype).eps)
    except (TypeError, ValueError):
        return 0.0, 0.0
    return 10 * eps, 10 * eps


def _first_line(error: BaseException, limit: int = 300) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _prepare(
    model: ModelSource, label: str, base_dir: str | Path | None, stack: ExitStack
) -> _Prepared:
    if isinstance(model, (str, Path)):
        path = Path(model)
        return _Prepared(str(path), load_model(path), label, str(path), None)
    if not isinstance(model, onnx.ModelProto):
        raise LinlintError(f"the {label} model must be an onnx.ModelProto or a path")
    external = uses_external_data(model)
    if external:
        if base_dir is None:
            raise LinlintError(
                f"the {label} model keeps weights in external files; give the folder they are in"
            )
        validate_external_data(model, base_dir)
    if serialized_size(model) > PROTOBUF_LIMIT:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="linlint-")))
        path = folder / f"{label}.onnx"
        save_model(model, path, base_dir=base_dir, external_data=True)
        return _Prepared(str(path), model, label, None, None)
    folder_text = str(Path(base_dir).resolve()) if external and base_dir is not None else None
    return _Prepared(model.SerializeToString(), model, label, None, folder_text)


def _session(prepared: _Prepared, *, optimize: bool) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    # Fatal only: a failing run raises, and its message becomes our one-line error; at the
    # default level onnxruntime would also print it to stderr, a second (coloured) line.
    options.log_severity_level = 4
    if not optimize:
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
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


def _compare(
    name: str,
    ref: np.ndarray,
    got: np.ndarray,
    rtol: float | None,
    atol: float | None,
) -> OutputComparison:
    shape = tuple(int(d) for d in ref.shape)

    def failed(problem: str) -> OutputComparison:
        return OutputComparison(name, shape, float("inf"), float("inf"), 0.0, 0.0, False, problem)

    if ref.shape != got.shape:
        return failed(f"shape {tuple(got.shape)} in the candidate, {shape} in the original")
    if ref.dtype != got.dtype:
        return failed(f"dtype {got.dtype} in the candidate, {ref.dtype} in the original")
    default_rtol, atol_unit = default_tolerances(ref.dtype)
    rtol_used = default_rtol if rtol is None else rtol
    if ref.dtype.kind in "OSUV" and ref.dtype.name != "bfloat16":
        equal = bool(np.array_equal(ref, got))
        delta = 0.0 if equal else float("inf")
        atol_used = 0.0 if atol is None else atol
        return OutputComparison(
            name, shape, delta, delta, atol_used, rtol_used, equal, "" if equal else "values differ"
        )
    wide = np.complex128 if ref.dtype.kind == "c" else np.float64
    a = ref.astype(wide)
    b = got.astype(wide)
    nan_a, nan_b = np.isnan(a), np.isnan(b)
    if not np.array_equal(nan_a, nan_b):
        count = int(np.count_nonzero(nan_a != nan_b))
        return failed(f"NaN at different positions ({count} element{'s' if count != 1 else ''})")
    inf_a, inf_b = np.isinf(a), np.isinf(b)
    if not np.array_equal(inf_a, inf_b) or not np.array_equal(a[inf_a], b[inf_a]):
        return failed("infinities at different positions or with different signs")
    finite = ~(nan_a | inf_a)
    fa, fb = a[finite], b[finite]
    magnitude = float(np.abs(fa).max()) if fa.size else 0.0
    atol_used = atol_unit * max(1.0, magnitude) if atol is None else atol
    if not fa.size:
        return OutputComparison(name, shape, 0.0, 0.0, atol_used, rtol_used, True)
    diff = np.abs(fa - fb)
    ref_abs = np.abs(fa)
    ok = bool(np.all(diff <= atol_used + rtol_used * ref_abs))
    max_abs = float(diff.max())
    denominator = np.maximum(ref_abs, atol_used) if atol_used > 0 else ref_abs
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.where(diff == 0, 0.0, diff / denominator)
    max_rel = float(relative.max())
    return OutputComparison(name, shape, max_abs, max_rel, atol_used, rtol_used, ok)


def _merge(runs: list[OutputComparison]) -> OutputComparison:
    """One comparison per output over all runs: worst errors, tightest atol."""
    first_problem = next((c.problem for c in runs if c.problem), "")
    return OutputComparison(
        name=runs[0].name,
        shape=runs[0].shape,
        max_abs=max(c.max_abs for c in runs),
        max_rel=max(c.max_rel for c in runs),
        atol=min(c.atol for c in runs),
        rtol=runs[0].rtol,
        ok=all(c.ok for c in runs),
        problem=first_problem,
    )


def _input_sets(
    original: _Prepared,
    inputs: str | Path | dict[str, np.ndarray] | None,
    seed: int,
    runs: int,
    input_shapes: dict[str, tuple[int, ...]] | None,
) -> list[dict[str, np.ndarray]]:
    needed = [value.name for value in graph_inputs(original.proto)]
    if inputs is None:
        return [
            make_inputs(original.proto, seed=seed + i, input_shapes=input_shapes)
            for i in range(runs)
        ]
    if isinstance(inputs, (str, Path)):
        return [load_npz(inputs, expected=needed)]
    missing = [name for name in needed if name not in inputs]
    if missing:
        names = ", ".join(f"'{name}'" for name in missing)
        raise LinlintError(f"no input array given for model input {names}")
    return [{name: np.asarray(inputs[name]) for name in needed}]


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
    sessions = [_session(original, optimize=True), _session(candidate, optimize=True)]
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

    ``inputs`` is an ``.npz`` path or a dict of arrays (then one run); without
    it, ``runs`` sets of random inputs are made from the original's input
    types with seeds ``seed, seed + 1, ...``. ``rtol``/``atol`` override the
    dtype's defaults (``atol`` then is absolute, not scaled). Paths are given
    to onnxruntime as paths, so external data and models past 2 GB work; a
    ModelProto whose tensors still point to external files needs
    ``base_dir``, the folder those files are in. ``benchmark`` also times
    both models with onnxruntime's default optimizations.
    """
    if runs < 1:
        raise LinlintError(f"runs must be at least 1, not {runs}")
    with ExitStack() as stack:
        first = _prepare(original, "original", base_dir, stack)
        second = _prepare(candidate, "candidate", base_dir, stack)
        input_sets = _input_sets(first, inputs, seed, runs, input_shapes)
        session_a = _session(first, optimize=False)
        session_b = _session(second, optimize=False)
        problem = _structure_problem(session_a, session_b, input_sets[0])
        if problem:
            return Verification(False, (), 0, problem=problem)
        per_output: dict[str, list[OutputComparison]] = {}
        for feeds in input_sets:
            out_a = _run(session_a, _feeds_for(session_a, feeds), first)
            out_b = _run(session_b, _feeds_for(session_b, feeds), second)
            for name in out_a:
                flat_a = dict(_flatten(name, out_a[name]))
                flat_b = dict(_flatten(name, out_b[name]))
                for key, ref in flat_a.items():
                    if key not in flat_b:
                        comparison = OutputComparison(
                            key,
                            ref.shape,
                            float("inf"),
                            float("inf"),
                            0.0,
                            0.0,
                            False,
                            "missing in the candidate",
                        )
                    else:
                        comparison = _compare(key, ref, flat_b[key], rtol, atol)
                    per_output.setdefault(key, []).append(comparison)
        outputs = tuple(_merge(comparisons) for comparisons in per_output.values())
        if outputs and all(math.prod(c.shape) == 0 for c in outputs):
            return Verification(
                False,
                outputs,
                len(input_sets),
                problem="every output is empty (a zero-sized dimension), so running the "
                "models compares no values",
            )
        ok = all(c.ok for c in outputs)
        latencies: tuple[float | None, float | None] = (None, None)
        if benchmark:
            latencies = _median_latencies(first, second, input_sets[0])
    return Verification(ok, outputs, len(input_sets), latencies[0], latencies[1])
