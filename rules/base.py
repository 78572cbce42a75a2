"""The shape every rule has: identity, documentation, and two hooks."""

from __future__ import annotations

import inspect

from linlint.regions import FlaggedNode, Region


class Rule:
    """Base class; subclasses set ``code``, ``name``, ``level`` and a docstring."""

    code: str = ""
    name: str = ""
    level: str = "warning"
    summary: str = ""

    def on_region(self, region: Region) -> str | None:
        """The finding's message when the rule fires on this region, else None."""
        return None

    def on_node(self, node: FlaggedNode) -> str | None:
        """The finding's message when the rule fires on this flagged node, else None."""
        return None

    @property
    def doc(self) -> str:
        return inspect.cleandoc(type(self).__doc__ or "")
