"""Finding regions: the nodes that compute each affine tensor leaving the affine world.

``find_regions`` walks back from every affine tensor that leaves the affine world
(read by a barrier, a graph output, a subgraph) to its source, and says why a region
cannot be folded as a whole; ``could_fire`` drops, cheaply, the regions no rule can
fire on.
"""

from __future__ import annotations

from dataclasses import dataclass

from linlint.analysis.absorb import NOOP_OPS
from linlint.analysis.optable import Kind
from linlint.analysis.sweep import GraphAnalysis
from linlint.wording import quoted


@dataclass
class RawRegion:
    output: str
    nodes: tuple[int, ...]
    sources: tuple[str, ...]
    blocked: str  # why the region cannot be folded as a whole ("" when it can)
    #: (intermediate tensor, index of a Shape node outside the region that reads it): the
    #: fold keeps that shape on the folded op's output, where the Shape node then reads it.
    shape_reads: tuple[tuple[str, int], ...] = ()
    #: What is left of a region around its parts that fold: reported, never folded itself.
    remainder: bool = False


def find_regions(ga: GraphAnalysis) -> list[RawRegion]:
    """Every region of the graph that holds at least one parametric op."""
    exits = [t for t in ga.param_reach if ga.is_exit(t)]
    exits.sort(key=lambda t: ga.producer[t])
    regions = []
    nodes, affine, producer = ga.nodes, ga.affine, ga.producer
    param = Kind.PARAM
    for out in exits:
        members: set[int] = set()
        sources: list[str] = []
        stack = [producer[out]]
        has_param = False
        while stack:
            j = stack.pop()
            if j in members:
                continue
            members.add(j)
            state = nodes[j]
            has_param = has_param or state.kind is param
            for t in state.data:
                if t not in affine:
                    if t not in sources:
                        sources.append(t)
                else:
                    stack.append(producer[t])
        if not has_param:
            continue
        blocked = ""
        shape_reads: list[tuple[str, int]] = []
        if len(sources) > 1:
            blocked = "it mixes several inputs (" + ", ".join(sources) + ")"
        for j in sorted(members):
            if blocked:
                break
            for t in ga.nodes[j].node.output:
                if not t or t == out:
                    continue
                if t in ga.outputs:
                    blocked = f"intermediate tensor {quoted(t)} is also a graph output"
                    break
                if t in ga.outer_refs:
                    blocked = f"intermediate tensor {quoted(t)} is also read by a subgraph"
                    break
                outside = [c for c in ga.consumers.get(t, ()) if c not in members]
                if outside and all(_reads_shape_only(ga.nodes[c].node) for c in outside):
                    shape_reads.extend((t, c) for c in outside)
                    continue
                if outside:
                    reader = ga.nodes[outside[0]].name
                    blocked = f"intermediate tensor {quoted(t)} is also read by {quoted(reader)}"
                    break
        regions.append(
            RawRegion(out, tuple(sorted(members)), tuple(sources), blocked, tuple(shape_reads))
        )
    return regions


def _reads_shape_only(node) -> bool:
    return node.op_type == "Shape" and node.domain in ("", "ai.onnx")


def could_fire(ga: GraphAnalysis, raw: RawRegion) -> bool:
    """False for regions no rule can fire on: one parametric op with nothing it could absorb
    to save a node (a MatMul and its bias Add, a Conv and a Reshape). A cheap pre-filter."""
    states = [ga.nodes[j] for j in raw.nodes]
    params = [s for s in states if s.kind == Kind.PARAM]
    if len(params) != 1 or raw.blocked:
        return len(params) >= 2 or (bool(params) and not raw.blocked)
    if any(s.kind == Kind.JOIN and len(s.data) > 1 for s in states):
        return True
    ops = [
        s.node.op_type for s in states if s.kind != Kind.IDENTITY and s.node.op_type not in NOOP_OPS
    ]
    floor = 1
    if params[0].node.op_type in ("MatMul", "Einsum") and ("Add" in ops or "Sub" in ops):
        floor += 1
    if "Reshape" in ops or "Flatten" in ops:
        floor += 1
    return len(ops) > floor
