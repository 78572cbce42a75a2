"""Sub-regions: the parts of a region that fold exactly when the whole region does not.

A region is all or nothing when evaluated as a whole: one op that no normal form
absorbs (a GlobalAveragePool before a classifier's two Linears), an inexact border,
or an intermediate read elsewhere sinks it; and a region whose fold would raise MACs
(a 1x1 conv before a re-parameterizable depthwise block) is left as it is. ``split``
finds the parts that still fold: any exact part a rule fires on in the first case,
parts that save in the second (the rest keeps the region's own finding).

A *sub-region* is a set ``S`` of the region's nodes with one entry tensor ``t`` and one
exit tensor ``u``: ``S`` is every node of the region that lies on a path from ``t`` to
``u``; every data input of a node in ``S`` is ``t`` or made inside ``S``; and every
tensor made inside ``S`` other than ``u`` is read only inside ``S`` (not by another
node, a subgraph or the graph's outputs). Such a set computes ``u`` from ``t`` alone,
so it can be replaced by the ops its normal form becomes, like any region.

A region that folds exactly only with a border-correction map (Conv + Add) is split too,
and stands as a whole unless its parts together are estimated to save more (a Div by
the input's std folds into a stem conv without a map; the Sub of its mean needs one).

Each candidate is evaluated on shapes like a region; the ones that are exact and that
a rule fires on (``fires``) are kept. Overlapping ones are resolved by what they save
(the estimated time, then MACs, parameters, nodes, size; then the earliest exit), keeping the
first of each overlap. What no sub-region took is the *remainder*: it keeps the
whole region's reason, and counts each sub-region taken as the one parametric op it
becomes, so a chain that stays linear around a fold is still reported, on its own nodes.

The search is quadratic in the region's size times its length; regions of more than
``MAX_NODES`` nodes are not split.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from linlint.analysis.absorb import NOOP_OPS
from linlint.analysis.discover import RawRegion, could_fire
from linlint.analysis.evaluate import evaluate
from linlint.analysis.optable import Kind
from linlint.analysis.regions import Fix, Region
from linlint.analysis.shapes import ShapeOracle
from linlint.analysis.sweep import GraphAnalysis

MAX_NODES = 64


def split(
    ga: GraphAnalysis,
    raw: RawRegion,
    region: Region,
    shapes: ShapeOracle,
    fires: Callable[[Region], bool],
    claimed: set[int] = frozenset(),
) -> tuple[list[tuple[RawRegion, Region]], tuple[RawRegion, Region] | None] | None:
    """The sub-regions of an inexact region that fold exactly and that a rule fires on,
    and the remainder (``None`` when it holds no parametric op); ``None`` when the region
    stands as a whole. ``claimed``: nodes that findings on other regions of the graph
    hold (a region blocked because its intermediate is another region's exit overlaps
    that region): no sub-region takes them, and the remainder leaves them out."""
    overlaps = not claimed.isdisjoint(raw.nodes)
    growing = region.may_grow
    mapped = region.exact and not growing and region.border_map > 0
    if (region.exact and not growing and not mapped) or (
        len(raw.nodes) > MAX_NODES and not overlaps
    ):
        return None
    found = []
    searched = len(raw.nodes) <= MAX_NODES and (region.n_params > 1 or _affine_beside(ga, raw))
    for sub in candidates(ga, raw) if searched else ():
        if not could_fire(ga, sub) or not claimed.isdisjoint(sub.nodes):
            continue
        evaluated, _ = evaluate(ga, sub, shapes)
        # inside a region whose fold would raise MACs or needs a border map, only a part
        # that saves is news
        wanted = evaluated.worth_folding if growing or mapped else evaluated.exact
        if wanted and fires(evaluated):
            found.append((sub, evaluated))
    found.sort(key=_preference)
    taken: set[int] = set()
    chosen = []
    for sub, evaluated in found:
        if taken.isdisjoint(sub.nodes):
            taken.update(sub.nodes)
            chosen.append((sub, evaluated))
    if not chosen and not overlaps:
        return None
    if mapped:  # the whole folds with its map: split only where the parts save more
        if sum(r.saving_ns for _, r in chosen) <= region.saving_ns and not overlaps:
            return None
        reason = (
            f"exact only with a border-correction map of {region.border_map:,} elements "
            "(Conv + Add), which saves less than folding its parts"
        )
        region = replace(region, fix=replace(region.fix, exact=False, reason=reason))
    chosen.sort(key=lambda pair: pair[0].nodes[-1])
    return chosen, _remainder(ga, raw, region, shapes, chosen, taken | claimed)


#: Ops that move or regroup values without changing them: a part of one parametric op and
#: these only is re-emitted as it was, so it saves nothing.
_MOVES = frozenset({"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose"})


def _affine_beside(ga: GraphAnalysis, raw: RawRegion) -> bool:
    """Whether a region of one parametric op holds an op a part could fold away beside it
    (a BatchNormalization, a constant scale or shift, a pad, a pool, a join) -- beyond a
    MatMul's bias Add, which a MatMul + Add keeps. A cheap test before the search."""
    states = [ga.nodes[j] for j in raw.nodes]
    param = next(s for s in states if s.kind is Kind.PARAM)
    values = [
        s
        for s in states
        if s.kind not in (Kind.PARAM, Kind.IDENTITY)
        and s.node.op_type not in _MOVES
        and s.node.op_type not in NOOP_OPS
    ]
    bias = param.node.op_type in ("MatMul", "Einsum") and any(
        s.node.op_type in ("Add", "Sub") for s in values
    )
    return len(values) > (1 if bias else 0)


def candidates(ga: GraphAnalysis, raw: RawRegion) -> list[RawRegion]:
    """Every sub-region of ``raw`` other than ``raw`` itself (see the module docstring)."""
    members = set(raw.nodes)
    made = {o: j for j in raw.nodes for o in ga.nodes[j].node.output if o}
    below = {t: _reach_down(ga, t, members) for t in (*raw.sources, *made)}
    found = []
    for u, last in made.items():
        above = _reach_up(ga, last, made)
        for t in (*raw.sources, *made):
            if t == u:
                continue
            nodes = above & below[t]
            if not nodes or (nodes == members and u == raw.output):
                continue
            if _closed(ga, nodes, t, u, made):
                found.append(RawRegion(u, tuple(sorted(nodes)), (t,), ""))
    return found


def _reach_down(ga: GraphAnalysis, tensor: str, members: set[int]) -> set[int]:
    """The members that read ``tensor``, directly or through other members."""
    seen: set[int] = set()
    stack = [c for c in ga.consumers.get(tensor, ()) if c in members]
    while stack:
        j = stack.pop()
        if j in seen:
            continue
        seen.add(j)
        for o in ga.nodes[j].node.output:
            stack.extend(c for c in ga.consumers.get(o, ()) if c in members)
    return seen


def _reach_up(ga: GraphAnalysis, last: int, made: dict[str, int]) -> set[int]:
    """``last`` and the members it reads from, directly or through other members."""
    seen: set[int] = set()
    stack = [last]
    while stack:
        j = stack.pop()
        if j in seen:
            continue
        seen.add(j)
        stack.extend(made[d] for d in ga.nodes[j].data if d in made)
    return seen


def _closed(ga: GraphAnalysis, nodes: set[int], entry: str, exit_: str, made) -> bool:
    """One entry, one exit: inputs come from ``entry`` or inside; nothing else leaves."""
    if not any(ga.nodes[j].kind is Kind.PARAM for j in nodes):
        return False
    for j in nodes:
        node = ga.nodes[j]
        if any(d != entry and made.get(d) not in nodes for d in node.data):
            return False
        for o in node.node.output:
            if not o or o == exit_:
                continue
            if o in ga.outputs or o in ga.outer_refs:
                return False
            if any(c not in nodes for c in ga.consumers.get(o, ())):
                return False
    return True


def _preference(pair: tuple[RawRegion, Region]):
    sub, region = pair
    return (
        -region.saving_ns,
        region.macs_after - region.macs_before,
        region.params_after - region.params_before,
        region.nodes_after - region.nodes_before,
        -len(sub.nodes),
        sub.nodes[-1],
    )


def _remainder(ga, raw, region, shapes, chosen, taken):
    rest = tuple(j for j in raw.nodes if j not in taken)
    if not any(ga.nodes[j].kind is Kind.PARAM for j in rest):
        return None
    description = _around(ga, rest, chosen)
    if region.exact:  # still one map with the parts folded, at more MACs: the region's word
        part = RawRegion(raw.output, rest, raw.sources, "", remainder=True)
        names = tuple(ga.nodes[j].name for j in rest)
        ops = tuple(ga.nodes[j].node.op_type for j in rest)
        return part, replace(region, nodes=names, op_types=ops, description=description)
    part = RawRegion(raw.output, rest, raw.sources, region.reason, remainder=True)
    left, _ = evaluate(ga, part, shapes)
    macs, params = left.macs_before, left.params_before
    basis = {"basis": left.fix.basis, "sizes": left.fix.sizes}  # what the figures stand on
    fix = Fix(False, region.reason, macs, macs, params, params, **basis)
    n_params = left.n_params + len(chosen)
    return part, replace(left, n_params=n_params, fix=fix, description=description)


def _around(ga: GraphAnalysis, rest: tuple[int, ...], chosen) -> str:
    """The remainder's ops in order, with each part that folds shown as what it becomes."""
    steps = [(j, ga.nodes[j].node.op_type) for j in rest]
    steps += [(sub.nodes[0], f"[{region.composes_to}]") for sub, region in chosen]
    return " → ".join(label for _, label in sorted(steps))
