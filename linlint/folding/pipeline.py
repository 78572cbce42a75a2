"""fold: rewrite every exact, worthwhile region into one op, to a fixed point, then verify.

A fold has a postcondition, part of its contract: the folded model computes
the same outputs as the original under onnxruntime (``linlint.verify``).
``fold_model`` checks it unless told not to and refuses the result otherwise.

Each round analyses the model once (the first analysis also gives the cost totals
before); the folded model is analysed once more, for what check says of it and its
cost totals after.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import onnx
from onnx import ModelProto

from linlint.analysis.sweep import analyze_model
from linlint.checking.checker import analyze_regions, iter_graphs, model_findings
from linlint.checking.findings import Finding
from linlint.errors import LinlintError
from linlint.folding.costs import Costs, model_costs
from linlint.folding.options import FoldOptions
from linlint.folding.rewrite import Names, prune, training_names, unused_names
from linlint.folding.rounds import FoldedRegion, FoldState, fold_round
from linlint.model.graphs import all_graphs

if TYPE_CHECKING:
    from linlint.verification.verdict import Verification

MAX_ROUNDS = 8


@dataclass
class FoldResult:
    """The folded model, what was folded, what remains, and the verification; ``save``
    writes the model."""

    model: ModelProto
    folded: list[FoldedRegion]
    remaining: list[Finding]
    before: Costs
    after: Costs
    verification: Verification | None = None
    refused: list[str] = field(default_factory=list)
    base_dir: Path | None = None
    #: Findings silenced on purpose (``linlint:ignore``, ``FoldOptions.silence``): left as
    #: they were, and not in ``remaining``.
    suppressed: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.folded)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the folded model to ``path`` atomically, as ``linlint fold -o`` does
        (``linlint.model.write.save_model``: weights that were external stay external, in a
        data file under a fresh name beside it); the path written. Refused (``LinlintError``)
        when the verification failed."""
        from linlint.model.write import save_model

        if self.verification is not None and not self.verification.ok:
            raise LinlintError(f"nothing written: {self.verification.summary()}", str(path))
        target = Path(path)
        save_model(self.model, target, base_dir=self.base_dir)
        return target


def _as_one_step(fold):
    """``fold_model``'s frame: an error names the file it was given, and numpy's warnings
    about overflow or division by zero stay quiet (non-finite weights refuse a region
    explicitly; the warnings would only leak to stderr)."""

    @functools.wraps(fold)
    def run(model, *args, **keywords):
        try:
            with np.errstate(all="ignore"):
                return fold(model, *args, **keywords)
        except LinlintError as error:
            if error.path is None and isinstance(model, (str, Path)):
                raise LinlintError(str(error), str(model)) from None
            raise

    return run


@_as_one_step
def fold_model(
    model: ModelProto | str | Path,
    options: FoldOptions | None = None,
    *,
    on_stage=None,
    **keywords,
) -> FoldResult:
    """Fold the model (a copy; the argument is not changed) and verify the result.

    ``options``, and ``keywords`` (``FoldOptions``' fields, over those of ``options``),
    say what folds and how the result is verified.
    ``on_stage(text)`` is told when a new step starts (for a progress display).
    """
    options = replace(options or FoldOptions(), **keywords)
    stage = on_stage or (lambda text: None)
    stage("Analysing")
    from linlint.model.load import load_model
    from linlint.model.weights import tensor_array

    base_dir: Path | None = None
    original_path: Path | None = None
    if isinstance(model, (str, Path)):
        original_path = Path(model)
        if original_path.is_dir():
            raise LinlintError("is a directory; fold takes one model file", str(model))
        base_dir = original_path.parent
        # Loaded here and verified against the file: no copy of the weights needed.
        original = None
        work = load_model(original_path)
    else:
        original = model
        work = ModelProto()
        work.CopyFrom(original)

    def load_tensor(tensor):
        if base_dir is None:
            return None
        return tensor_array(tensor, base_dir)

    input_shapes = options.input_shapes
    codes = options.folding_codes()
    # Names are unique across a model's scopes: one set serves every graph.
    keep = training_names(work)
    for g in all_graphs(work.graph):
        keep |= unused_names(g)
    file = str(original_path or "<model>")
    silence = _silence(work, file, options)
    protected = _outputs_of(work, input_shapes, file, silence) if silence else ()
    state = FoldState(work, codes, input_shapes, Names(work), options.verify, options.seed)
    state.protected = frozenset(protected)
    for round_number in range(MAX_ROUNDS):
        ga = analyze_model(work, load_tensor=load_tensor)
        if round_number == 0:
            before = model_costs(work, input_shapes, ga)
            stage("Folding")
        if not fold_round(state, ga):
            break
    for g in all_graphs(work.graph):
        prune(g, keep, work.ir_version)
    if work.ir_version < 4:
        _declare_initializers_as_inputs(work.graph)
    ga, regions = analyze_regions(work, input_shapes)  # what check says of the result
    remaining = model_findings(work, ga, regions, file)
    silenced = {_key(f) for f in silence(remaining)} if silence else set()
    remaining = [f for f in remaining if _key(f) not in silenced]
    after = model_costs(work, input_shapes, ga)
    result = FoldResult(work, state.folded, remaining, before, after, base_dir=base_dir)
    result.suppressed = len(silenced)
    result.refused = list(dict.fromkeys(state.refused))
    if options.verify and state.folded:
        from linlint.verification.compare import verify as run_verify

        stage("Verifying with onnxruntime")
        result.verification = run_verify(
            original_path if original_path is not None else original,
            work,
            inputs=options.inputs,
            rtol=options.rtol,
            atol=options.atol,
            seed=options.seed,
            runs=options.runs,
            input_shapes=input_shapes,
            base_dir=base_dir,
        )
    return result


def _key(finding: Finding) -> tuple:
    """A finding as the silencing sees it (levels may differ after the settings)."""
    return finding.code, finding.graph, finding.nodes


def _silence(model: ModelProto, file: str, options: FoldOptions):
    """The findings of ``model`` silenced on purpose, as a function of its findings: its
    own ``linlint:ignore`` entries, then ``options.silence`` on the rest (None: nothing is)."""
    from linlint.checking.suppression import model_ignores, silenced_by_metadata

    ignores = model_ignores(model, file)
    if not ignores and options.silence is None:
        return None

    def silenced(findings: list[Finding]) -> list[Finding]:
        own, rest = [], []
        for f in findings:
            (own if silenced_by_metadata(f, ignores) else rest).append(f)
        return own + list(options.silence(rest) if options.silence else [])

    return silenced


def _outputs_of(model: ModelProto, input_shapes, file: str, silence) -> set[str]:
    """The output tensors of every node of a silenced finding: the nodes no fold rewrites."""
    ga, regions = analyze_regions(model, input_shapes)
    outputs = {
        (g.name, state.name): tuple(state.node.output) for g in iter_graphs(ga) for state in g.nodes
    }
    return {
        tensor
        for finding in silence(model_findings(model, ga, regions, file))
        for name in finding.nodes
        for tensor in outputs.get((finding.graph, name), ())
    }


def _declare_initializers_as_inputs(graph: onnx.GraphProto) -> None:
    """IR < 4 requires every initializer to be a graph input too: declare the new ones."""
    declared = {i.name for i in graph.input}
    for t in graph.initializer:
        if t.name not in declared:
            graph.input.append(onnx.helper.make_tensor_value_info(t.name, t.data_type, t.dims))
