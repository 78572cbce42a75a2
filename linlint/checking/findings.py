"""The record that crosses every boundary: rules make Findings, reporters print them."""

from __future__ import annotations

from dataclasses import asdict, dataclass

LEVELS = ("note", "warning", "error")


def level_rank(level: str) -> int:
    """Order of severity: note < warning < error."""
    return LEVELS.index(level)


@dataclass(frozen=True)
class Fix:
    """What folding the region would buy, and whether it is exact."""

    exact: bool
    reason: str
    macs_before: int
    macs_after: int
    params_before: int
    params_after: int


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
        return d

    def with_level(self, level: str) -> Finding:
        return Finding(
            self.code,
            self.name,
            level,
            self.message,
            self.file,
            self.graph,
            self.nodes,
            self.fix,
        )
