"""Prove two models equal by running them: onnxruntime on the same inputs, every output compared.

``verify`` runs the original and the candidate on the user's inputs or on
generated input sets (``linlint.verification.inputs``: several sizes per
symbolic dimension, integers small and across their range) and compares every
output by name (``linlint.verification.output_comparison``), each float element
against the original's own noise there (``linlint.verification.noise``). A
generated set the original itself cannot run on is skipped, one the candidate
cannot run on where the original can is a failure, and when the original runs
on none the verification fails: running nothing proves nothing.
``compare_models`` does the same for a region cut out of a model and its fold,
on the fold engine's input sets.

onnxruntime is imported inside the functions only (``linlint.verification.sessions``):
``check`` never pays for it. Nothing here prints.
"""

from __future__ import annotations

import math
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path

import numpy as np
import onnx

from linlint.errors import LinlintError
from linlint.verification.input_sizes import graph_inputs, symbolic_axes
from linlint.verification.inputs import InputSet, verification_inputs
from linlint.verification.latency import median_latencies
from linlint.verification.noise import noise_samples, noise_sessions
from linlint.verification.npz import load_npz
from linlint.verification.output_comparison import (
    compare_output,
    failed_output,
    merge_runs,
    structure_problem,
)
from linlint.verification.sessions import (
    ModelSource,
    PreparedModel,
    open_session,
    outputs_of,
    prepare_model,
)
from linlint.verification.verdict import OutputComparison, Verification
from linlint.wording import quoted_list


def _input_sets(
    original: PreparedModel,
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
        raise LinlintError(f"no array for model input {quoted_list(missing)}")
    return [InputSet("the given inputs", {name: np.asarray(inputs[name]) for name in needed})]


def _judge(
    first: PreparedModel,
    second: PreparedModel,
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
    session_a = open_session(first)
    session_b = open_session(second)
    problem = structure_problem(session_a, session_b, input_sets[0].feeds)
    if problem:
        return Verification(False, (), 0, problem=problem), []
    noise = noise_sessions(first, session_a)
    per_output: dict[str, list[OutputComparison]] = {}
    skipped: list[str] = []
    ran: list[InputSet] = []
    candidate_fails = ""
    for index, input_set in enumerate(input_sets):
        feeds = input_set.feeds
        try:
            out_a = outputs_of(session_a, feeds, first)
        except LinlintError as error:
            if given:
                raise
            skipped.append(f"{input_set.label}: {_reason(error)}")
            continue
        try:
            out_b = outputs_of(session_b, feeds, second)
        except LinlintError as error:
            if not candidate_fails:
                candidate_fails = (
                    f"the candidate cannot run on {input_set.label}, where the original can: "
                    f"{_reason(error)}"
                )
            continue
        ran.append(input_set)
        samples = noise_samples(noise, feeds, index)
        for key, ref in out_a.items():
            if key not in out_b:
                comparison = failed_output(
                    key, ref.shape, ref.dtype.name, "missing in the candidate"
                )
            else:
                own = [sample[key] for sample in samples if key in sample]
                comparison = compare_output(key, ref, out_b[key], own, rtol, atol)
            per_output.setdefault(key, []).append(comparison)
    if not ran and not candidate_fails:
        count = len(input_sets)
        problem = (
            f"the original model runs on none of the {count} input set{'s' if count != 1 else ''}"
            f" ({skipped[0] if skipped else 'none given'}): nothing was compared, which proves "
            "nothing"
        )
        return Verification(False, (), 0, problem=problem, skipped=tuple(skipped)), []
    outputs = tuple(merge_runs(comparisons) for comparisons in per_output.values())
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
    may differ by ``NOISE_MULTIPLE`` times the original's own noise there (see
    ``linlint.verification.noise``); ``rtol``/``atol`` replace that bound by
    ``atol + rtol·|original|``. Paths are given to onnxruntime as paths, so external data
    and models past 2 GB work; a ModelProto whose tensors still point to external files
    needs ``base_dir``, the folder those files are in. ``benchmark`` also times both models
    with onnxruntime's default optimizations.
    """
    if runs < 1:
        raise LinlintError(f"runs must be at least 1, not {runs}")
    with ExitStack() as stack:
        first = prepare_model(original, "original", base_dir, stack)
        second = prepare_model(candidate, "candidate", base_dir, stack)
        input_sets = _input_sets(first, inputs, seed, runs, input_shapes)
        result, ran = _judge(
            first, second, input_sets, rtol=rtol, atol=atol, given=inputs is not None
        )
        if benchmark and ran and not result.problem:
            latencies = median_latencies(first, second, ran[0].feeds)
            result = Verification(
                result.ok, result.outputs, result.runs, *latencies, skipped=result.skipped
            )
        if any(symbolic_axes(value) != [] for value in graph_inputs(first.proto)):
            result = replace(result, sizes=_sizes_of(ran))
    return result


def _sizes_of(ran: list[InputSet]) -> tuple[dict[str, tuple[int, ...]], ...]:
    """The input shapes of the sets that ran, each once, in order."""
    sizes: list[dict[str, tuple[int, ...]]] = []
    for input_set in ran:
        at = {name: tuple(array.shape) for name, array in input_set.feeds.items()}
        if at not in sizes:
            sizes.append(at)
    return tuple(sizes)


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
    The noise is derived from ``original`` on each set (``linlint.verification.noise``). Sets the
    original cannot run on (a size it does not accept) are skipped; a set the candidate
    cannot run on where the original can fails the comparison, and so does running on
    none at all.
    """
    if not input_sets:
        return Verification(False, (), 0, problem="no input sets given: that proves nothing")
    sets = [InputSet(_shapes_label(feeds), feeds) for feeds in input_sets]
    with ExitStack() as stack:
        first = prepare_model(original, "original", base_dir, stack)
        second = prepare_model(candidate, "candidate", base_dir, stack)
        result, _ = _judge(first, second, sets, rtol=None, atol=None, given=False)
    return result
