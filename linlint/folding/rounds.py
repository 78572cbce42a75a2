"""One round of a fold: every exact, worthwhile region and identity activation that an
enabled rule fires on is rewritten, each region proven where it happened first."""

from __future__ import annotations

from dataclasses import dataclass, field

import onnx
from onnx import ModelProto, TensorProto

from linlint.analysis.evaluate import evaluate, region_dtype
from linlint.analysis.forms import ConvForm, ConvTransposeForm, DenseForm
from linlint.analysis.forms.commuted import CommutedForm
from linlint.analysis.pictures import RegionPicture
from linlint.analysis.region_graph import node_picture, region_picture
from linlint.analysis.regions import KNOWN
from linlint.analysis.shapes import FreeInput, ShapeOracle
from linlint.analysis.sweep import GraphAnalysis
from linlint.checking.checker import iter_graphs, node_findings, screened
from linlint.folding.cutout import RegionCut, region_proof
from linlint.folding.rewrite import Names, emit, replace_nodes
from linlint.wording import quoted


@dataclass(frozen=True)
class FoldedRegion:
    """One rewrite: what the rule said, the ops before and after, and the costs."""

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
    elementwise_before: int = 0
    elementwise_after: int = 0
    nodes_before: int = 0
    nodes_after: int = 0
    #: What the MACs and elementwise figures stand on, and the sizes (``Fix.basis``).
    basis: str = KNOWN
    sizes: tuple[FreeInput, ...] = ()
    #: The region before and the ops after (``RegionPicture``), for the drawings.
    region: RegionPicture | None = field(default=None, compare=False)


@dataclass
class FoldState:
    """What the rounds of one fold share: the model they rewrite, what folds, and what
    they found (folds, refusals, and the regions whose proof failed, never tried again)."""

    work: ModelProto
    codes: frozenset[str]
    input_shapes: dict | None
    names: Names
    prove: bool  # prove each region in onnxruntime before keeping its fold
    seed: int
    #: Outputs of the nodes of silenced findings (``FoldOptions.silence``): never rewritten.
    protected: frozenset[str] = frozenset()
    folded: list[FoldedRegion] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    failed: set[tuple[str, str]] = field(default_factory=set)  # (graph, exit tensor)

    def refuse(self, g: GraphAnalysis, nodes: tuple[str, ...], why: str) -> None:
        where = f" in {g.name}" if g.name else ""
        self.refused.append(f"{' → '.join(nodes)}{where}: {why}")


def fold_round(state: FoldState, ga: GraphAnalysis) -> bool:
    """Fold what the model's analysis ``ga`` finds; whether anything changed."""
    shapes = ShapeOracle(state.work, state.input_shapes)  # the shapes check sees: same decisions
    # Every graph is decided on the analysis as it was, and only then rewritten: an inner
    # graph's decisions read its outer scopes, whose node indices a rewrite would move.
    # Inner graphs are rewritten first: rewriting a graph copies its nodes, and with them
    # the subgraphs they hold.
    edits = [edit for g in iter_graphs(ga) if (edit := _fold_graph(state, g, shapes))]
    for edit in reversed(edits):
        edit()
    return bool(edits)


def _fold_graph(state: FoldState, g: GraphAnalysis, shapes: ShapeOracle):
    """What to fold in one graph, as a function that makes the edit (None: nothing)."""
    taken: set[int] = set()
    remove: set[int] = set()
    inserts: dict[int, list] = {}
    new_inits: list = []

    def skip(raw) -> bool:
        return (
            bool(taken & set(raw.nodes))
            or (g.name, raw.output) in state.failed
            or any(_protected(state, g, i) for i in raw.nodes)
        )

    def folds_whole(findings) -> bool:
        return any(f.code in state.codes for f in findings)

    for raw, region, findings in screened(g, shapes, skip, folds_whole):
        fired = [f for f in findings if f.code in state.codes]
        if not fired or raw.remainder:  # a remainder folds in a later round, if at all
            continue
        region, form = evaluate(g, raw, shapes, numeric=True)
        if form is None:
            state.refuse(g, region.nodes, region.reason)
            continue
        dtype = region_dtype(g, raw.nodes)
        last = g.producer[raw.output]
        base = g.nodes[last].node.name or raw.output
        nodes, inits = emit(form, raw.sources[0], raw.output, f"{base}_folded", dtype, state.names)
        if state.prove:
            cut = RegionCut(
                state.work, g, shapes, raw.nodes, raw.sources[0], raw.output, nodes, inits,
                source_width(form),
            )  # fmt: skip
            problem = region_proof(cut, state.seed)
            if problem:
                state.refuse(g, region.nodes, problem)
                state.failed.add((g.name, raw.output))
                continue
        taken |= set(raw.nodes)
        remove |= set(raw.nodes)
        _move_shape_reads(g, raw, nodes[0].output[0], taken, remove)
        inserts[last] = nodes
        new_inits.extend(inits)
        fix = region.fix
        state.folded.append(
            FoldedRegion(
                fired[0].code,
                g.name,
                region.nodes,
                region.op_types,
                tuple(n.op_type for n in nodes),
                fix.macs_before,
                fix.macs_after,
                fix.params_before,
                fix.params_after,
                fired[0].message,
                fix.elementwise_before,
                fix.elementwise_after,
                fix.nodes_before,
                fix.nodes_after,
                fix.basis,
                fix.sizes,
                region=region_picture(g, raw.nodes, raw.output, shapes, region.folded),
            )  # fmt: skip
        )
    _remove_identities(state, g, taken, remove, inserts, shapes)
    if not remove:
        return None

    def edit() -> None:
        replace_nodes(g.graph, remove, inserts)
        # Before IR 4 every initializer must be a graph input, which a subgraph cannot
        # declare: there the new weights live in the main graph (subgraphs read it).
        home = state.work.graph if state.work.ir_version < 4 else g.graph
        home.initializer.extend(new_inits)

    return edit


def _protected(state: FoldState, g: GraphAnalysis, index: int) -> bool:
    """Whether node ``index`` belongs to a silenced finding."""
    return bool(state.protected) and any(o in state.protected for o in g.nodes[index].node.output)


def _move_shape_reads(g: GraphAnalysis, raw, same_shape: str, taken, remove) -> None:
    """Shape nodes that read an intermediate of the folded region read ``same_shape`` (the
    folded op's output, which has that shape) instead; one read only by nodes the fold
    removed is removed too."""
    for _, reader in raw.shape_reads:
        node = g.nodes[reader].node
        out = node.output[0]
        readers = g.consumers.get(out, ())
        if out not in g.outputs and out not in g.outer_refs and set(readers) <= set(raw.nodes):
            taken.add(reader)
            remove.add(reader)
        else:
            node.input[0] = same_shape


def _remove_identities(
    state: FoldState, g: GraphAnalysis, taken, remove, inserts, shapes: ShapeOracle
) -> None:
    """Mark every identity activation an enabled rule fires on (and no fold took) removed."""
    renamed: dict[str, str] = {}
    for flag in g.flagged:
        fired = [f for f in node_findings(flag, "") if f.code in state.codes]
        if flag.index in taken or not fired or _protected(state, g, flag.index):
            continue
        node = g.nodes[flag.index].node
        if _between_casts(g, flag.index):
            state.refuse(g, (flag.name,), HALF_BETWEEN_CASTS)
            continue
        _bypass(g, flag.index, inserts, remove, state.names, renamed)
        taken.add(flag.index)
        state.folded.append(
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
                f"removed {node.op_type} {quoted(flag.name)}: {flag.why}",
                nodes_before=1,
                region=node_picture(g, flag.index, shapes),
            )  # fmt: skip
        )


HALF_BETWEEN_CASTS = (
    "not removed: onnxruntime runs this half-precision op in float32 and drops the Casts "
    "around it, so without it the model would round to half precision where it did not"
)


def _between_casts(g: GraphAnalysis, index: int) -> bool:
    """A float16/bfloat16 op next to a Cast. onnxruntime's CPU provider computes such ops
    (LeakyRelu, Clip, …) in float32 between Casts it inserts, and merges those with the
    model's own Casts: the model never rounds to half precision there. Removing the op
    would leave the model's Casts to round as written, a different result."""
    state = g.nodes[index]
    tensor = state.data[0]
    if g.elem_type(tensor) not in (TensorProto.FLOAT16, TensorProto.BFLOAT16):
        return False
    producer = g.producer.get(tensor)
    if producer is not None and g.nodes[producer].node.op_type == "Cast":
        return True
    out = state.node.output[0]
    return any(g.nodes[c].node.op_type == "Cast" for c in g.consumers.get(out, ()))


def source_width(form) -> tuple[int, int] | None:
    """(axis, size) of the channels a folded form reads from its source."""
    if isinstance(form, (ConvForm, ConvTransposeForm, CommutedForm)):
        return 1, form.cin
    if isinstance(form, DenseForm) and form.flattened_source:
        return 1, form.flattened_source
    if isinstance(form, DenseForm) and form.pair:  # the last two axes, the last C = din / N
        return -1, form.din // form.pair[0]
    if isinstance(form, DenseForm):
        return (0 if form.transposed_source else -1), form.din
    return None


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


__all__ = ["FoldState", "FoldedRegion", "fold_round", "source_width"]
