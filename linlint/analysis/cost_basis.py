"""What a region's cost figures stand on, and whether a rule may decide on them.

The size-dependent figures (MACs, elementwise ops, bytes moved) are counted on the shapes
the walk gives (``ShapeOracle``). They are ``KNOWN`` where every shape of the region is the
model's own or comes from ``--input-shape``; ``DEFAULTED`` where one holds a symbolic size
the user did not give (taken as 1: the figures say so, with the sizes); ``UNKNOWN`` where the
walk cannot tell a shape of the region (its source's, or one of its tensors'): then the
figures are placeholders, never shown (JSON null) and never decided on.

A rule whose test reads the figures (fold or not, ``Region.worth_folding``; more MACs or
not, LL002) decides on defaulted figures only where the decision is the same with every
defaulted size at ``REALISTIC_SIZE`` (one more evaluation of the region, on shapes, for
exact regions only). On unknown figures it decides only where the region's source can be
given a shape from its first parametric op (rank and channels from the weight, batch 1)
and the decision is the same with every other size of it at 1 and at ``REALISTIC_SIZE``
(the figures stay unknown). Elsewhere ``Fix.undecided`` says why no rule decides: LL002
reports the chain as a note and ``fold`` leaves it alone unless ``--allow-growth``. Where
the figures do not change at the realistic size, they do not depend on a defaulted size:
``KNOWN``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from linlint.analysis.absorb import Evaluator
from linlint.analysis.discover import RawRegion
from linlint.analysis.optable import Kind
from linlint.analysis.regions import DEFAULTED, KNOWN, SIZED_FIGURES, UNKNOWN, Region
from linlint.analysis.shapes import REALISTIC_SIZE, FreeInput, ShapeOracle
from linlint.analysis.sweep import GraphAnalysis
from linlint.model.graphs import attr
from linlint.wording import quoted


def basis(ga: GraphAnalysis, raw: RawRegion, shapes: ShapeOracle) -> tuple[str, str]:
    """``(basis, tensor)``: ``tensor`` is the first of the region whose shape is unknown."""
    tensors = [*raw.sources, *(ga.nodes[j].node.output[0] for j in raw.nodes)]
    for t in tensors:
        if shapes.local(ga, t) is None:
            return UNKNOWN, t
    if shapes.defaulted and not shapes.symbolic.isdisjoint(tensors):
        return DEFAULTED, ""
    return KNOWN, ""


def settle(
    ga: GraphAnalysis,
    raw: RawRegion,
    region: Region,
    shapes: ShapeOracle,
    again: Callable[[ShapeOracle], Region],
    tensor: str = "",
) -> Region:
    """``region`` (its ``fix.basis`` from ``basis``: ``tensor`` the one of unknown shape)
    with why no rule may decide on its figures where that is so, or with the figures a
    rule decides on. ``again(oracle)``: the region evaluated on other shapes (without
    settling)."""
    fix = region.fix
    kind = fix.basis
    if kind == KNOWN or not fix.exact:
        return region
    if kind == UNKNOWN:
        tried, differs = _tried(ga, raw, shapes, again) if tensor in raw.sources else (None, "")
        if tried is None:
            where = _unknown(ga, tensor)
            why = (
                f"whether folding pays depends on the shape of {where}: {differs}"
                if differs
                else f"whether folding pays is unknown: linlint cannot tell the shape of {where}"
            )
            fix = replace(fix, undecided=f"{why}; declare that shape (value_info) to decide")
        else:  # the same decision at every size tried: the figures of one, never shown
            fix = replace(fix, **{name: getattr(tried.fix, name) for name in SIZED_FIGURES})
    else:
        large = shapes.at_size(REALISTIC_SIZE)
        # check and fold evaluate a region again (with weights): the sizes' answer is kept
        key = (ga.name, raw.output, raw.nodes, raw.sources, raw.blocked, raw.shape_reads)
        if key not in large.evaluated:
            large.evaluated[key] = again(large)
        other = large.evaluated[key]
        if _figures(other) == _figures(region):
            fix = replace(fix, basis=KNOWN)
        else:
            here, there = _decision(region), _decision(other)
            if not other.exact or here != there:
                fix = replace(fix, undecided=_differs(shapes, large, here, there))
    return replace(region, fix=fix)


def _tried(
    ga: GraphAnalysis, raw: RawRegion, shapes: ShapeOracle, again: Callable
) -> tuple[Region | None, str]:
    """The region at ``REALISTIC_SIZE`` where its source's shape is unknown and the decision
    on its figures is the same there and at 1 (every size of the source but its batch, 1,
    and its channels, the first parametric op's, at that size); else None, and how the
    decisions differ ('it pays at 1x8x1x1 but raises MACs at 1x8x64x64') where both were
    made. Not every source can be given a shape (``_assumed``)."""
    shape = _assumed(ga, raw, shapes)
    if shape is None:
        return None, ""
    decisions = []
    for size in (1, REALISTIC_SIZE):
        oracle = shapes.assuming(raw.sources[0], shape(size))
        region = again(oracle)
        if basis(ga, raw, oracle)[0] == UNKNOWN or not region.exact:
            return None, ""
        decisions.append(_decision(region))
    if decisions[0] == decisions[1]:
        return region, ""
    small, large = ("x".join(map(str, shape(size))) for size in (1, REALISTIC_SIZE))
    return None, f"it {decisions[0]} at {small} but {decisions[1]} at {large}"


#: Ops that may come between a region's source and its first parametric op where the
#: source is given a shape (``_assumed``): each keeps its input's shape (a Pad's is the
#: conv's to count).
_KEEPS = frozenset(
    {"BatchNormalization", "Mul", "Add", "Sub", "Div", "Identity", "Dropout", "Pad", "Cast"}
)


def _assumed(
    ga: GraphAnalysis, raw: RawRegion, shapes: ShapeOracle
) -> Callable[[int], tuple[int, ...]] | None:
    """The source's shape at a size, as the region's first parametric op reads it: batch 1,
    its channels, and the size on every other axis; None where that op does not say (an
    op before it that may change the shape, a weight of unknown shape, an Einsum)."""
    if len(raw.sources) != 1:
        return None
    first = None
    for j in raw.nodes:
        state = ga.nodes[j]
        if state.kind == Kind.PARAM:
            first = state
            break
        if state.node.op_type not in _KEEPS:
            return None
    if first is None or first.data[:1] != tuple(first.node.input[:1]):
        return None
    node = first.node
    w = Evaluator(ga, shapes, False).const_shape(node.input[1]) if len(node.input) > 1 else None
    if not w:
        return None
    if node.op_type in ("Conv", "ConvTranspose") and len(w) > 2:
        channels = w[1] * int(attr(node, "group", 1)) if node.op_type == "Conv" else w[0]
        return lambda size: (1, channels) + (size,) * (len(w) - 2)
    if node.op_type in ("Gemm", "MatMul") and len(w) == 2:
        width = w[1] if int(attr(node, "transB", 0)) else w[0]
        if int(attr(node, "transA", 0)):
            return lambda size: (width, size)
        return lambda size: (size, width)
    return None


def _figures(region: Region) -> tuple[int, ...]:
    return tuple(getattr(region.fix, name) for name in SIZED_FIGURES)


def _decision(region: Region) -> str:
    """What the figures say of the fold, in words."""
    if not region.exact:
        return "is not exact"
    if region.macs_after > region.macs_before:
        return "raises MACs"
    return "pays" if region.worth_folding else "saves no time"


def _differs(shapes: ShapeOracle, large: ShapeOracle, here: str, there: str) -> str:
    return (
        f"whether folding pays depends on sizes the model leaves symbolic: it {here} at "
        f"{free_text(shapes.free_inputs)} but {there} at "
        f"{free_text(large.free_inputs, shapes.free_inputs)}; "
        f"pass {input_shape_hint(shapes.free_inputs)} to decide"
    )


def _unknown(ga: GraphAnalysis, tensor: str) -> str:
    """Whose shape the walk cannot tell, and where it comes from."""
    j = ga.producer.get(tensor)
    if j is None:
        return f"{quoted(tensor)} (not declared)"
    node = ga.nodes[j].node
    op = f"{node.domain}.{node.op_type}" if node.domain else node.op_type
    return f"{quoted(tensor)} (computed by {op})"


def free_text(free: Sequence[FreeInput], only: Sequence[FreeInput] | None = None) -> str:
    """``H=1, W=1``: the defaulted sizes of ``free`` (those defaulted in ``only``), each
    name once."""
    defaulted = {f.name for f in (free if only is None else only) if not f.given}
    sizes: dict[str, int] = {}
    for f in free:
        if f.name in defaulted:
            for axis, label in f.free:
                sizes.setdefault(label, f.shape[axis])
    return ", ".join(f"{label}={size}" for label, size in sizes.items())


def input_shape_hint(free: Sequence[FreeInput]) -> str:
    """``--input-shape x=1x8x<H>x<W>`` (quoted): the option to give, one per input with a defaulted
    size, its free sizes named."""
    shown = []
    for f in free:
        if f.given:
            continue
        names = dict(f.free)
        dims = "x".join(f"<{names[a]}>" if a in names else str(d) for a, d in enumerate(f.shape))
        shown.append(quoted(f"--input-shape {f.name}={dims}"))
    return " ".join(shown)
