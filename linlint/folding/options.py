"""The options of one fold: which rules fold, and how the result is verified."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from linlint.rules import foldable_codes

if TYPE_CHECKING:
    from linlint.checking.findings import Finding


@dataclass(frozen=True)
class FoldOptions:
    """What a fold is told: ``linlint.fold``'s keywords, the ``fold`` command's options.

    ``codes`` (the rules enabled for this file, e.g. from the CLI's settings) replaces
    ``select``/``ignore``; only foldable rules among them fold (``allow_growth`` makes
    the rule whose fold raises MACs foldable). ``verify`` and the fields after it say how
    the folded model is checked against the original with onnxruntime.
    """

    select: Sequence[str] | None = None
    ignore: Sequence[str] | None = None
    allow_growth: bool = False
    input_shapes: Mapping[str, tuple[int, ...]] | None = None
    verify: bool = True
    rtol: float | None = None
    atol: float | None = None
    seed: int = 0
    runs: int = 1
    inputs: str | Path | Mapping[str, np.ndarray] | None = None
    codes: Collection[str] | None = None
    #: What is silenced on purpose beyond the model's own ``linlint:ignore`` entries (which
    #: every fold honours): given the model's findings, those silenced (the CLI's
    #: ``per-node-ignores`` and baseline: ``linlint.checking.suppression.silencer``).
    #: A silenced finding's nodes are left as they are, as ruff's ``--fix`` leaves a
    #: ``noqa`` line; it is not in ``FoldResult.remaining`` but counted in ``suppressed``.
    silence: Callable[[Sequence[Finding]], Sequence[Finding]] | None = None

    def folding_codes(self) -> frozenset[str]:
        """The codes whose findings this fold rewrites."""
        foldable = foldable_codes(self.allow_growth)
        if self.codes is not None:
            return foldable & set(self.codes)
        from linlint.checking.selection import Layer, resolve_enabled

        chosen = tuple(c.upper() for c in self.select) if self.select else None
        layer = Layer(chosen, tuple(c.upper() for c in self.ignore or ()))
        return foldable & resolve_enabled([layer])
