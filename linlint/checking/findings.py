"""The record that crosses every boundary: rules make Findings, reporters print them.

A finding's ``fix`` is the ``Fix`` of the region the rule fired on (the analysis makes it).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from linlint.analysis.regions import Fix

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

    def to_dict(self) -> dict:
        d = asdict(self)
        d["nodes"] = list(self.nodes)
        d["fix"] = self.fix.to_dict()  # unknown figures as null, the sizes by input
        return d

    def with_level(self, level: str) -> Finding:
        return replace(self, level=level)


__all__ = ["LEVELS", "Finding", "Fix", "level_rank"]
