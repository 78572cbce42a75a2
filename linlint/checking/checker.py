"""check: load → analyse → regions → rules → findings, for one model or one file."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from onnx import ModelProto

from linlint.analysis.absorb import reads_external
from linlint.analysis.discover import could_fire, find_regions
from linlint.analysis.evaluate import evaluate
from linlint.analysis.region_graph import node_picture, region_picture
from linlint.analysis.regions import NODE_FIX, Fix, FlaggedNode, Region
from linlint.analysis.shapes import ShapeOracle
from linlint.analysis.subregions import split
from linlint.analysis.sweep import GraphAnalysis, analyze_model, gc_paused
from linlint.checking.attribution import attach_origins
from linlint.checking.findings import Finding
from linlint.errors import LinlintError
from linlint.model.graphs import input_names
from linlint.model.origins import is_torch_export
from linlint.rules import ALL_RULES


def iter_graphs(ga: GraphAnalysis):
    yield ga
    for sub in ga.subgraphs:
        yield from iter_graphs(sub)


def screened(g: GraphAnalysis, shapes: ShapeOracle, skip=None, whole=None):
    """Each region of one graph a rule could fire on, evaluated on shapes, with what the
    rules say of it: ``(raw, region, findings)``. A region that does not fold as a whole
    comes as its sub-regions that do, and the remainder (``linlint.analysis.subregions``).
    ``skip(raw)`` (asked as each region comes, before it is evaluated) leaves it out;
    ``whole(findings)``: an exact region whose fold raises MACs and whose findings it is true
    of comes whole, not in parts (a fold that folds it as it is: ``--allow-growth``)."""
    claimed: set[int] = set()  # nodes findings on earlier regions hold
    for raw in find_regions(g):
        if not could_fire(g, raw):
            continue
        region, _ = evaluate(g, raw, shapes, numeric=False)
        fired = region_findings(region, "")
        pieces = None
        growing = region.may_grow
        if not (whole is not None and growing and whole(fired)):
            pieces = split(g, raw, region, shapes, _any_rule_fires, claimed)
        if pieces is None:
            pieces = [(raw, region, fired)]
        else:  # what folds inside a region that does not as a whole, and what remains
            parts, rest = pieces
            parts = [*parts, rest] if rest is not None else parts
            pieces = [(part, r, region_findings(r, "")) for part, r in parts]
        for piece, piece_region, fired in pieces:
            if fired:
                claimed.update(piece.nodes)
            if skip is None or not skip(piece):
                yield piece, piece_region, fired


def _any_rule_fires(region: Region) -> bool:
    return bool(region_findings(region, ""))


def analyze_regions(
    model: ModelProto, input_shapes: dict | None = None
) -> tuple[GraphAnalysis, list[Region]]:
    """The analysis of every graph and the evaluated regions.

    A region is evaluated on shapes first; where a rule fires on an exact region, it is
    evaluated again with its weights, exactly as ``fold`` would: exactness that depends
    on values (a divisor holding zero, a weight holding Inf, a product beyond float16's
    range) is decided in one place for both — from the weights held in memory: check
    never reads external weight files (``fold`` does, and refuses with the reason).
    """
    ga = analyze_model(model)
    shapes = ShapeOracle(model, input_shapes)
    regions = []
    for g in iter_graphs(ga):
        for raw, region, fired in screened(g, shapes):
            # (a remainder is no region of its own: its figures are its whole region's)
            if region.exact and fired and not raw.remainder and not reads_external(g, raw.nodes):
                valued, _ = evaluate(g, raw, shapes, numeric=True, held_only=True)
                # the values decide exactness; the figures stay those of the first look, which
                # fold decides on (the oracle now knows the shape this region's form gave)
                region = replace(valued, fix=region.fix) if valued.exact else valued
            if fired:
                region.picture = region_picture(g, raw.nodes, raw.output, shapes, region.folded)
            regions.append(region)
        for node in g.flagged:
            node.picture = node_picture(g, node.index, shapes)
    return ga, regions


def _fired(subject, file: str, graph: str, nodes, fix: Fix, picture=None) -> list[Finding]:
    """Every rule of that subject (a ``Region``, or a ``FlaggedNode``) that fires on it."""
    kind = "node" if isinstance(subject, FlaggedNode) else "region"
    findings = []
    for rule in ALL_RULES:
        if rule.subject != kind:
            continue
        message = rule.on_node(subject) if kind == "node" else rule.on_region(subject)
        if message:
            findings.append(
                Finding(
                    rule.code,
                    rule.name,
                    rule.level,
                    message,
                    file,
                    graph,
                    nodes,
                    fix,
                    region=picture,
                )  # fmt: skip
            )
    return findings


def region_findings(region: Region, file: str) -> list[Finding]:
    """What the region rules say about one region (nothing where its fold would write the
    same ops: ``Region.rewrites_nothing``)."""
    if region.rewrites_nothing:
        return []
    return _fired(region, file, region.graph, region.nodes, region.fix, region.picture)


def node_findings(node: FlaggedNode, file: str) -> list[Finding]:
    """What the node rules say about one flagged node (removing it costs and saves nothing
    but a pass over the tensor)."""
    return _fired(node, file, node.graph, (node.name,), NODE_FIX, node.picture)


def findings_for(ga: GraphAnalysis, regions: list[Region], file: str) -> list[Finding]:
    findings: list[Finding] = []
    for region in regions:
        findings.extend(region_findings(region, file))
    for g in iter_graphs(ga):
        for node in g.flagged:
            findings.extend(node_findings(node, file))
    return findings


def check_model(
    model: ModelProto,
    *,
    file: str = "<model>",
    input_shapes: dict | None = None,
) -> list[Finding]:
    """Every finding of every rule, at default levels, with its nodes' origins in the
    source where the model records them (``linlint.checking.attribution``)."""
    with gc_paused():
        ga, regions = analyze_regions(model, input_shapes)
    return model_findings(model, ga, regions, file)


def model_findings(
    model: ModelProto, ga: GraphAnalysis, regions: list[Region], file: str
) -> list[Finding]:
    """What the rules say of ``model`` analysed (``analyze_regions``), with its nodes'
    origins in the source where the model records them."""
    findings = findings_for(ga, regions, file)
    return attach_origins(findings, ga, torch_export=is_torch_export(model.producer_name))


def check_file(path: Path | str, *, input_shapes: dict | None = None) -> list[Finding]:
    """Load one file without its external weights and check it."""
    return check_file_inputs(path, input_shapes=input_shapes)[0]


def check_file_inputs(
    path: Path | str, *, input_shapes: dict | None = None
) -> tuple[list[Finding], list[str]]:
    """``check_file``, and the names of the model's inputs (that ``input_shapes`` may name)."""
    return check_file_details(path, input_shapes=input_shapes)[:2]


def check_file_details(
    path: Path | str, *, input_shapes: dict | None = None
) -> tuple[list[Finding], list[str], dict[str, tuple[str, ...]]]:
    """``check_file_inputs``, and the model's ``linlint:ignore`` entries
    (``linlint.checking.suppression.model_ignores``)."""
    from linlint.checking.suppression import model_ignores
    from linlint.model.load import load_model

    model = load_model(Path(path))
    try:
        findings = check_model(model, file=str(path), input_shapes=input_shapes)
    except LinlintError as error:
        if error.path is None:
            raise LinlintError(str(error), str(path)) from None
        raise
    return findings, input_names(model.graph), model_ignores(model, str(path))
