"""The shape every rule has: identity, documentation, what fold does with it, and its hook."""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from enum import Enum

from linlint.analysis.regions import FlaggedNode, Region
from linlint.wording import quoted


class Fold(str, Enum):
    """What ``linlint fold`` does with a rule's findings."""

    NEVER = "never"  # reported only (the fold would not be exact, or not worth it)
    DEFAULT = "default"  # folded by default
    WITH_GROWTH = "with --allow-growth"  # folded only when growth is allowed


class Rule:
    """Base class; subclasses set ``code``, ``name``, ``level``, ``folds`` and a docstring,
    and override one hook: ``on_region`` (``subject = "region"``) or ``on_node``
    (``subject = "node"``: a flagged node, removed when folded)."""

    code: str = ""
    name: str = ""
    level: str = "warning"
    summary: str = ""
    folds: Fold = Fold.NEVER
    subject: str = "region"

    def on_region(self, region: Region) -> str | None:
        """The finding's message when the rule fires on this region, else None."""
        return None

    def on_node(self, node: FlaggedNode) -> str | None:
        """The finding's message when the rule fires on this flagged node, else None."""
        return None

    def in_source(self, modules: Sequence[str]) -> str:
        """What to change in the model's source, given the modules the finding's nodes come
        from (distinct, in node order, at least one; ``linlint.model.origins``): added to
        the message when the model names them. The default fits a chain of layers."""
        first, last = modules[0], modules[-1]
        if first == last:
            return f"{quoted(first)} applies linear layers with no activation between"
        return f"no activation between {quoted(first)} and {quoted(last)}"

    def folded_by(self, allow_growth: bool) -> bool:
        """Whether ``fold`` rewrites this rule's findings under that policy."""
        return self.folds is Fold.DEFAULT or (allow_growth and self.folds is Fold.WITH_GROWTH)

    @property
    def doc(self) -> str:
        return inspect.cleandoc(type(self).__doc__ or "")
