"""The rules: one module each; the docstring of each rule class is its documentation.

A rule has a ``code``, a ``name``, a default ``level``, what ``fold`` does with its
findings (``folds``), the subject it looks at (regions or flagged nodes), and a
docstring with the sections *What it finds*, *Why it matters*, *Example* and
*Fix*. It returns a message when it fires, or ``None``. Adding a rule is adding
a module ``llNNN_<name>.py`` here: the rules are found by their module names.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from linlint.rules.base import Fold, Rule


def _discover() -> tuple[Rule, ...]:
    found = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if not (info.name.startswith("ll") and info.name[2:5].isdigit()):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Rule) and cls is not Rule and cls.__module__ == module.__name__:
                found.append(cls())
    return tuple(sorted(found, key=lambda rule: rule.code))


ALL_RULES: tuple[Rule, ...] = _discover()

RULES_BY_CODE: dict[str, Rule] = {rule.code: rule for rule in ALL_RULES}


def foldable_codes(allow_growth: bool = False) -> frozenset[str]:
    """The codes whose findings ``fold`` rewrites under that policy."""
    return frozenset(rule.code for rule in ALL_RULES if rule.folded_by(allow_growth))


def get_rule(code: str) -> Rule | None:
    """The rule with this code (case-insensitive), or None."""
    return RULES_BY_CODE.get(code.upper())


__all__ = ["ALL_RULES", "RULES_BY_CODE", "Fold", "Rule", "foldable_codes", "get_rule"]
