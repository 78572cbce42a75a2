"""The record that crosses every boundary: rules make Findings, reporters print them.

A finding's ``fix`` is the ``Fix`` of the region the rule fired on (the analysis makes it).
Its ``origins`` say, node by node, where each node comes from in the PyTorch source
(``linlint.model.origins``; None where the model does not say, empty when not looked up).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

from linlint.analysis.pictures import RegionPicture
from linlint.analysis.regions import Fix
from linlint.model.origins import Origin

LEVELS = ("note", "warning", "error")


def level_rank(level: str) -> int:
    """Order of severity: note < warning < error."""
    return LEVELS.index(level)


@dataclass(frozen=True)
class Finding:
    """One lint finding: a rule firing on a region (or node) of one graph of one file."""

    code: str
    name: str
    level: str
    message: str
    file: str
    graph: str
    nodes: tuple[str, ...]
    fix: Fix
    origins: tuple[Origin | None, ...] = ()
    #: The region as a small graph and what its fold writes (``RegionPicture``; None where
    #: not known). Not part of a finding's identity.
    region: RegionPicture | None = field(default=None, compare=False)

    def to_dict(self) -> dict:
        d = asdict(replace(self, region=None))
        d["nodes"] = list(self.nodes)
        d["region"] = self.region.to_dict() if self.region is not None else None
        d["origins"] = [o.to_dict() if o else None for o in self.node_origins]
        return d

    @property
    def node_origins(self) -> tuple[Origin | None, ...]:
        """One origin (or None) per node."""
        return tuple(self.origins[: len(self.nodes)]) + (None,) * (
            len(self.nodes) - len(self.origins)
        )

    def with_level(self, level: str) -> Finding:
        return replace(self, level=level)


__all__ = ["LEVELS", "Finding", "Fix", "Origin", "level_rank"]
