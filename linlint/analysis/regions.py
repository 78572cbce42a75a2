"""What the analysis hands to the rules: one record per linear region or flagged node, and
the ``Fix`` that says what folding a region would give."""

from __future__ import annotations

from dataclasses import dataclass
from operator import attrgetter


@dataclass(frozen=True)
class Fix:
    """What folding the region would buy, and whether it is exact."""

    exact: bool
    reason: str
    macs_before: int
    macs_after: int
    params_before: int
    params_after: int


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
    nodes_before: int
    nodes_after: int
    fix: Fix
    #: Not exact only because an offset (a bias, a BatchNormalization's shift) reaches a
    #: zero-padded conv: the scale would fold, the shift differs at the borders.
    offset_at_borders: bool = False

    exact = property(attrgetter("fix.exact"))
    reason = property(attrgetter("fix.reason"))
    macs_before = property(attrgetter("fix.macs_before"))
    macs_after = property(attrgetter("fix.macs_after"))
    params_before = property(attrgetter("fix.params_before"))
    params_after = property(attrgetter("fix.params_after"))

    @property
    def worth_folding(self) -> bool:
        """Exact, no more MACs, and fewer nodes or fewer MACs: folding makes it cheaper."""
        return (
            self.exact
            and self.macs_after <= self.macs_before
            and (self.nodes_after < self.nodes_before or self.macs_after < self.macs_before)
        )


@dataclass
class FlaggedNode:
    """A single node a rule looks at on its own (an activation that is the identity)."""

    graph: str
    index: int
    name: str
    op_type: str
    why: str
