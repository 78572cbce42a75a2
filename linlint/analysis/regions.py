"""What the analysis hands to the rules: one record per linear region or flagged node, and
the ``Fix`` that says what folding a region would give."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from operator import attrgetter
from typing import TYPE_CHECKING

from linlint.analysis.cost_model import Work, cheaper

if TYPE_CHECKING:  # (shapes imports onnx: `import linlint` stays light)
    from linlint.analysis.shapes import FreeInput

#: ``Fix.basis``: the figures are counted on sizes the model fixes or the user gave.
KNOWN = "known"
#: ``Fix.basis``: they read a symbolic size the user did not give, taken as 1 (``Fix.sizes``).
DEFAULTED = "defaulted"
#: ``Fix.basis``: the shape walk cannot tell a shape of the region: no figure but the
#: parameters and nodes is given (JSON null), and no rule decides on them.
UNKNOWN = "unknown"


def sizes_json(sizes) -> list[dict]:
    """``Fix.sizes`` as JSON: ``[{"input", "shape", "free": {label: size}, "given"}]``."""
    return [
        {
            "input": f.name,
            "shape": list(f.shape),
            "free": {label: f.shape[axis] for axis, label in f.free},
            "given": f.given,
        }
        for f in sizes
    ]


#: The figures that depend on sizes (the others, params and nodes, do not).
SIZED_FIGURES = tuple(
    f"{what}_{when}" for what in ("macs", "elementwise", "moved") for when in ("before", "after")
)


@dataclass(frozen=True)
class Fix:
    """What folding the region would buy, and whether it is exact."""

    exact: bool
    reason: str
    macs_before: int
    macs_after: int
    params_before: int
    params_after: int
    #: Elementwise operations (the elements each BatchNormalization, Mul, Add, Pad, pool or
    #: Transpose computes), the bytes those ops move, and the nodes (see ``cost_model``).
    elementwise_before: int = 0
    elementwise_after: int = 0
    moved_before: int = 0
    moved_after: int = 0
    nodes_before: int = 0
    nodes_after: int = 0
    #: What the size-dependent figures (MACs, elementwise ops, bytes moved) stand on:
    #: ``KNOWN``, ``DEFAULTED`` or ``UNKNOWN`` (``linlint.analysis.cost_basis``).
    basis: str = KNOWN
    #: The model's inputs with a free size, each at the shape the figures were counted at.
    sizes: tuple[FreeInput, ...] = ()
    #: Why no rule may decide on the figures ('' when one may): they are unknown, or the
    #: decision (fold or not, more MACs or not) differs at a realistic size.
    undecided: str = ""

    @property
    def known(self) -> bool:
        """Whether the size-dependent figures are given (known or at defaulted sizes)."""
        return self.basis != UNKNOWN

    def to_dict(self) -> dict:
        """The record as JSON: the size-dependent figures null where unknown, and ``sizes``
        as ``[{"input", "shape", "free": {label: size}, "given"}]``."""
        d = asdict(self)
        if not self.known:
            d.update(dict.fromkeys(SIZED_FIGURES))
        d["sizes"] = sizes_json(self.sizes)
        return d

    @property
    def work_before(self) -> Work:
        return Work(self.macs_before, self.elementwise_before, self.moved_before, self.nodes_before)

    @property
    def work_after(self) -> Work:
        return Work(self.macs_after, self.elementwise_after, self.moved_after, self.nodes_after)


#: The fix of a single node a rule removes: exact, and it costs and saves nothing.
NODE_FIX = Fix(True, "", 0, 0, 0, 0)


@dataclass
class Region:
    """The nodes that compute one affine tensor (``output``) from one source tensor.

    ``nodes`` are display names (ONNX node name, or ``#index`` when empty) in
    topological order. ``fix`` says what folding the region would give: whether it is
    exact (``reason`` says why not), and the cost before and after; its fields read
    through the region too (``region.exact``, ``region.macs_after`` ...).
    """

    graph: str
    output: str
    nodes: tuple[str, ...]
    description: str
    composes_to: str
    n_params: int
    has_join: bool
    op_types: tuple[str, ...]
    fix: Fix
    #: Not exact only because an offset (a bias, a BatchNormalization's shift) reaches a
    #: zero-padded conv: the scale would fold, the shift differs at the borders.
    offset_at_borders: bool = False
    #: Exact only with a border-correction map of this many elements (Conv + Add).
    border_map: int = 0
    #: The fold moves the region's average pools before its pointwise map (``commute``).
    reordered: bool = False
    #: The ops the fold writes (``folded_ops.FoldedOp``), None without an exact fold.
    folded: tuple | None = None
    #: The region as a small graph (``pictures.RegionPicture``), set where a rule fires.
    picture: object = None

    exact = property(attrgetter("fix.exact"))
    reason = property(attrgetter("fix.reason"))
    macs_before = property(attrgetter("fix.macs_before"))
    macs_after = property(attrgetter("fix.macs_after"))
    params_before = property(attrgetter("fix.params_before"))
    params_after = property(attrgetter("fix.params_after"))
    nodes_before = property(attrgetter("fix.nodes_before"))
    nodes_after = property(attrgetter("fix.nodes_after"))

    @property
    def saving_ns(self) -> float:
        """What folding is estimated to save per run on the runtime, in nanoseconds."""
        return self.fix.work_before.estimate_ns() - self.fix.work_after.estimate_ns()

    @property
    def worth_folding(self) -> bool:
        """Exact, no more MACs, and estimated to run faster on the runtime (multiply-adds,
        memory passes and nodes: ``cost_model``), on figures a rule may decide on (never
        unknown ones, nor ones whose decision a size the model leaves open changes)."""
        fix = self.fix
        return (
            fix.exact
            and not fix.undecided
            and fix.macs_after <= fix.macs_before
            and cheaper(fix.work_after, fix.work_before)
        )

    @property
    def rewrites_nothing(self) -> bool:
        """Its fold would write the region's own ops again, in the same order (a dilation on
        a 1x1 kernel dropped, say): no redundancy to report, and a fold that would find the
        same region again in its next round."""
        ops = self.folded
        return ops is not None and tuple(op.op_type for op in ops) == tuple(self.op_types)

    @property
    def may_grow(self) -> bool:
        """Exact, but its fold raises MACs, or may (the figures cannot decide): what
        ``fold`` leaves alone unless ``--allow-growth``."""
        fix = self.fix
        return fix.exact and (fix.macs_after > fix.macs_before or bool(fix.undecided))


@dataclass
class FlaggedNode:
    """A single node a rule looks at on its own (an activation that is the identity)."""

    graph: str
    index: int
    name: str
    op_type: str
    why: str
    #: The node and its neighbours (``pictures.RegionPicture``), set where a rule fires.
    picture: object = None
