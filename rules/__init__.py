"""The rules: one module each; the docstring of each rule class is its documentation.

A rule has a ``code``, a ``name``, a default ``level`` and a docstring with the
sections *What it finds*, *Why it matters*, *Example* and *Fix*. It looks at the
regions (and flagged nodes) the analysis produced and returns a message when it
fires, or ``None``.
"""

from __future__ import annotations

from linlint.rules.base import Rule
from linlint.rules.ll001_redundant_linear_chain import RedundantLinearChain
from linlint.rules.ll002_linear_bottleneck import LinearBottleneck
from linlint.rules.ll003_inexact_linear_chain import InexactLinearChain
from linlint.rules.ll004_parallel_linear_branches import ParallelLinearBranches
from linlint.rules.ll005_unfused_affine import UnfusedAffine
from linlint.rules.ll006_identity_activation import IdentityActivation

ALL_RULES: tuple[Rule, ...] = (
    RedundantLinearChain(),
    LinearBottleneck(),
    InexactLinearChain(),
    ParallelLinearBranches(),
    UnfusedAffine(),
    IdentityActivation(),
)

RULES_BY_CODE: dict[str, Rule] = {rule.code: rule for rule in ALL_RULES}

#: Rules whose findings ``fold`` rewrites by default; LL002 only with ``allow_growth``.
FOLDABLE_CODES = ("LL001", "LL004", "LL005", "LL006")


def get_rule(code: str) -> Rule | None:
    """The rule with this code (case-insensitive), or None."""
    return RULES_BY_CODE.get(code.upper())


__all__ = ["ALL_RULES", "FOLDABLE_CODES", "RULES_BY_CODE", "Rule", "get_rule"]
