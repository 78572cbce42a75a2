"""What the analysis hands to the rules: one record per linear region or flagged node."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Region:
    """The nodes that compute one affine tensor (``output``) from one source tensor.

    ``nodes`` are display names (ONNX node name, or ``#index`` when empty) in
    topological order. The fold fields say what folding the region would give:
    whether it is exact (``reason`` says why not), and the cost before and after.
    """

    graph: str
    output: str
    sources: tuple[str, ...]
    node_indices: tuple[int, ...]
    nodes: tuple[str, ...]
    op_types: tuple[str, ...]
    n_params: int
    has_join: bool
    exact: bool
    reason: str
    description: str
    composes_to: str
    macs_before: int
    macs_after: int
    params_before: int
    params_after: int
    nodes_before: int
    nodes_after: int

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
