"""fold: rewrite every exact, worthwhile region into one op, to a fixed point, then verify.

A fold has a postcondition, part of its contract: the folded model computes
the same outputs as the original under onnxruntime (``linlint.verify``).
``fold_model`` checks it unless told not to and refuses the result otherwise.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
from onnx import ModelProto

from linlint.analysis.discover import could_fire, find_regions
from linlint.analysis.evaluate import evaluate, region_dtype
from linlint.analysis.forms import ConvForm, ConvTransposeForm, DenseForm
from linlint.analysis.optable import Kind
from linlint.analysis.shapes import ShapeOracle
from linlint.analysis.sweep import GraphAnalysis, analyze_model
from linlint.checking.checker import (
    analyze_regions,
    findings_for,
    iter_graphs,
    node_findings,
    region_findings,
)
from linlint.checking.findings import Finding
from linlint.errors import LinlintError
from linlint.folding.cutout import RegionCut, region_proof
from linlint.folding.rewrite import Names, emit, prune, replace_nodes, training_names, unused_names
from linlint.model.graphs import all_graphs
from linlint.rules import foldable_codes

MAX_ROUNDS = 8


@dataclass(frozen=True)
class Costs:
    """Model-wide totals, before or after folding."""

    param_ops: int
    nodes: int
    macs: int
    params: int


@dataclass(frozen=True)
class FoldedRegion:
    code: str
    graph: str
    nodes: tuple[str, ...]
    ops_before: tuple[str, ...]
    ops_after: tuple[str, ...]
    macs_before: int
    macs_after: int
    params_before: int
    params_after: int
    message: str


@dataclass
class FoldResult:
    """The folded model, what was folded, what remains, and the verification."""

    model: ModelProto
    folded: list[FoldedRegion]
    remaining: list[Finding]
    before: Costs
    after: Costs
    verification: object | None = None
    refused: list[str] = field(default_factory=list)
    base_dir: Path | None = None

    @property
    def changed(self) -> bool:
        return bool(self.folded)


def model_costs(model: ModelProto, input_shapes=None) -> Costs:
    from linlint.analysis.absorb import Evaluator

    ga = analyze_model(model)
    # Local shapes, as check uses: onnx inference on defaulted symbolic sizes can abort
    # the process (negative dims reach C++ assertions), and would disagree with check.
    shapes = ShapeOracle(model, input_shapes)
    param_ops = nodes = macs = 0
    for g in iter_graphs(ga):
        ev = Evaluator(g, shapes, numeric=False)
        nodes += len(g.nodes)
        for s in g.nodes:
            if s.kind == Kind.PARAM:
                param_ops += 1
                macs += ev.fallback_cost(s)[0]
    params = 0
    for g in iter_graphs(ga):
        for t in g.graph.initializer:
            params += math.prod(t.dims)
    return Costs(param_ops, nodes, macs, params)


def _as_one_step(fold):
    """``fold_model``'s frame: an error names the file it was given, and numpy's warnings
    about overflow or division by zero stay quiet (non-finite weights refuse a region
    explicitly; the warnings would only leak to stderr)."""

    @functools.wraps(fold)
    def run(model, **options):
        try:
            with np.errstate(all="ignore"):
                return fold(model, **options)
        except LinlintError as error:
            if error.path is None and isinstance(model, (str, Path)):
                raise LinlintError(str(error), str(model)) from None
            raise

    return run


@_as_one_step
def fold_model(
    model: ModelProto | str | Path,
    *,
    select: list[str] | None = None,
    ignore: list[str] | None = None,
    allow_growth: bool = False,
    input_shapes: dict[str, tuple[int, ...]] | None = None,
    verify: bool = True,
    rtol: float | None = None,
    atol: float | None = None,
    seed: int = 0,
    runs: int = 1,
    inputs=None,
    codes: frozenset[str] | set[str] | None = None,
    on_stage=None,
) -> FoldResult:
    """Fold the model (a copy; the argument is not changed) and verify the result.

    ``codes`` (the rules enabled for this file, e.g. from the CLI's settings)
    replaces ``select``/``ignore``; only foldable rules among them fold.
    ``on_stage(text)`` is told when a new step starts (for a progress display).
    """
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

    foldable = foldable_codes(allow_growth)
    if codes is not None:
        codes = foldable & set(codes)
    else:
        from linlint.checking.selection import Layer, resolve_enabled

        chosen = tuple(c.upper() for c in select) if select else None
        layer = Layer(chosen, tuple(c.upper() for c in ignore or ()))
        codes = foldable & resolve_enabled([layer])
    before = model_costs(work, input_shapes)
    # Names are unique across a model's scopes: one set serves every graph.
    keep = training_names(work)
    for g in all_graphs(work.graph):
        keep |= unused_names(g)
    names = Names(work)
    folded: list[FoldedRegion] = []
    refused: list[str] = []
    proof = _Proof(verify, seed)
    stage("Folding")
    for _ in range(MAX_ROUNDS):
        changed = _fold_round(work, codes, input_shapes, load_tensor, names, folded, refused, proof)
        if not changed:
            break
    for g in all_graphs(work.graph):
        prune(g, keep, work.ir_version)
    if work.ir_version < 4:
        _declare_initializers_as_inputs(work.graph)
    ga, regions = analyze_regions(work, input_shapes)  # what check says of the result
    remaining = findings_for(ga, regions, str(original_path or "<model>"))
    after = model_costs(work, input_shapes)
    result = FoldResult(work, folded, remaining, before, after, base_dir=base_dir)
    result.refused = list(dict.fromkeys(refused))
    if verify and folded:
        from linlint.verification.compare import verify as run_verify

        stage("Verifying with onnxruntime")
        result.verification = run_verify(
            original_path if original_path is not None else original,
            work,
            inputs=inputs,
            rtol=rtol,
            atol=atol,
            seed=seed,
            runs=runs,
            input_shapes=input_shapes,
            base_dir=base_dir,
        )
    return result


def source_width(form) -> tuple[int, int] | None:
    """(axis, size) of the channels a folded form reads from its source."""
    if isinstance(form, (ConvForm, ConvTransposeForm)):
        return 1, form.cin
    if isinstance(form, DenseForm):
        return -1, form.din
    return None


def _declare_initializers_as_inputs(graph: onnx.GraphProto) -> None:
    """IR < 4 requires every initializer to be a graph input too: declare the new ones."""
    declared = {i.name for i in graph.input}
    for t in graph.initializer:
        if t.name not in declared:
            graph.input.append(onnx.helper.make_tensor_value_info(t.name, t.data_type, t.dims))


@dataclass
class _Proof:
    """Per-region verification: on (``fold`` verifies) or off, and the regions it refused."""

    on: bool
    seed: int
    failed: set[tuple[str, str]] = field(default_factory=set)  # (graph, exit tensor)


def _fold_round(work, codes, input_shapes, load_tensor, names, folded, refused, proof) -> bool:
    ga = analyze_model(work, load_tensor=load_tensor)
    shapes = ShapeOracle(work, input_shapes)  # the same shapes check sees: same decisions
    changed = False
    for g in iter_graphs(ga):
        taken: set[int] = set()
        remove: set[int] = set()
        inserts: dict[int, list] = {}
        new_inits: list = []
        for raw in find_regions(g):
            if taken & set(raw.nodes) or not could_fire(g, raw):
                continue
            if (g.name, raw.output) in proof.failed:
                continue
            region, _ = evaluate(g, raw, shapes)
            fired = [f for f in region_findings(region, "") if f.code in codes]
            if not fired:
                continue
            region, form = evaluate(g, raw, shapes, numeric=True)
            if form is None:
                where = f" in {g.name}" if g.name else ""
                refused.append(f"{' → '.join(region.nodes)}{where}: {region.reason}")
                continue
            dtype = region_dtype(g, raw.nodes)
            last = g.producer[raw.output]
            base = g.nodes[last].node.name or raw.output
            nodes, inits = emit(form, raw.sources[0], raw.output, f"{base}_folded", dtype, names)
            if proof.on:
                cut = RegionCut(
                    work, g, shapes, raw.nodes, raw.sources[0], raw.output, nodes, inits,
                    source_width(form),
                )  # fmt: skip
                problem = region_proof(cut, proof.seed)
                if problem:
                    where = f" in {g.name}" if g.name else ""
                    refused.append(f"{' → '.join(region.nodes)}{where}: {problem}")
                    proof.failed.add((g.name, raw.output))
                    continue
            taken |= set(raw.nodes)
            remove |= set(raw.nodes)
            inserts[last] = nodes
            new_inits.extend(inits)
            folded.append(
                FoldedRegion(
                    fired[0].code,
                    g.name,
                    region.nodes,
                    region.op_types,
                    tuple(n.op_type for n in nodes),
                    region.macs_before,
                    region.macs_after,
                    region.params_before,
                    region.params_after,
                    fired[0].message,
                )
            )
        renamed: dict[str, str] = {}
        for flag in g.flagged:
            fired = [f for f in node_findings(flag, "") if f.code in codes]
            if flag.index in taken or not fired:
                continue
            node = g.nodes[flag.index].node
            _bypass(g, flag.index, inserts, remove, names, renamed)
            taken.add(flag.index)
            folded.append(
                FoldedRegion(
                    fired[0].code,
                    g.name,
                    (flag.name,),
                    (node.op_type,),
                    (),
                    0,
                    0,
                    0,
                    0,
                    f"removed {node.op_type} {flag.name}: {flag.why}",
                )
            )
        if remove:
            replace_nodes(g.graph, remove, inserts)
            # Before IR 4 every initializer must be a graph input, which a subgraph cannot
            # declare: there the new weights live in the main graph (subgraphs read it).
            home = work.graph if work.ir_version < 4 else g.graph
            home.initializer.extend(new_inits)
            changed = True
    return changed


def _bypass(g: GraphAnalysis, index: int, inserts, remove, names: Names, renamed) -> None:
    """Remove an identity activation: its consumers read its input instead (through any
    identity activation removed before it in this round)."""
    node = g.nodes[index].node
    src, out = g.nodes[index].data[0], node.output[0]
    while src in renamed:
        src = renamed[src]
    renamed[out] = src
    if out in g.outputs or out in g.outer_refs:
        inserts[index] = [
            onnx.helper.make_node(
                "Identity", [src], [out], name=names.fresh(f"{node.name or out}_identity")
            )
        ]
    else:
        for consumer in g.consumers.get(out, ()):
            n = g.nodes[consumer].node
            for k, t in enumerate(n.input):
                if t == out:
                    n.input[k] = src
    remove.add(index)
