"""Which rules apply, at which level: ``--select`` / ``--ignore`` / ``--extend-select`` as in ruff.

A selector is a rule code or a prefix of one (``LL001``, ``LL00``, ``LL``, or
``ALL``), case-insensitive. Settings come in layers (the config file, then the
command line); within a layer the most specific selector that matches a code
decides (``--select LL --ignore LL003`` keeps all but LL003; ``--select
LL003 --ignore LL`` keeps LL003), an ignore winning a tie. A layer with
``select`` starts from nothing; a layer without it adjusts what the layers
before it enabled. Per-file ignores then remove codes for files that match a
glob, and per-rule levels replace a finding's default level.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from linlint.checking.findings import LEVELS, Finding, level_rank
from linlint.errors import LinlintError
from linlint.model.find import FileDiscovery
from linlint.wording import quoted, quoted_value

ALL = "ALL"


def rule_codes() -> tuple[str, ...]:
    """Every rule code linlint knows, in rule order."""
    from linlint.rules import ALL_RULES

    return tuple(rule.code for rule in ALL_RULES)


def parse_codes(values: str | Iterable[str] | None, *, what: str = "rule code") -> tuple[str, ...]:
    """Selectors from comma-separated text (or several such texts), upper-cased and checked.

    Raises ``LinlintError`` naming the first selector that matches no rule.
    """
    if values is None:
        return ()
    texts = [values] if isinstance(values, str) else list(values)
    known = rule_codes()
    selectors: list[str] = []
    for text in texts:
        if not isinstance(text, str):
            raise LinlintError(f"expected a {what} as a string, got {quoted_value(text)}")
        for part in text.split(","):
            code = part.strip().upper()
            if not code:
                continue
            if code != ALL and not any(k.startswith(code) for k in known):
                raise LinlintError(
                    f"unknown {what} {quoted(part.strip())} (known: {', '.join(known)}, "
                    "a prefix of them, or ALL)"
                )
            if code not in selectors:
                selectors.append(code)
    return tuple(selectors)


def _specificity(selector: str) -> int:
    return 0 if selector == ALL else len(selector)


def _matches(selector: str, code: str) -> bool:
    return selector == ALL or code.startswith(selector)


def _best(code: str, selectors: Iterable[str]) -> int:
    """Specificity of the most specific selector matching ``code``; -1 when none does."""
    return max((_specificity(s) for s in selectors if _matches(s, code)), default=-1)


@dataclass(frozen=True)
class Layer:
    """One source of rule selection (config file or command line)."""

    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()

    def apply(self, enabled: frozenset[str], codes: Sequence[str]) -> frozenset[str]:
        carry = enabled if self.select is None else frozenset()
        turn_on = tuple(self.select or ()) + tuple(self.extend_select)
        result = set()
        for code in codes:
            on, off = _best(code, turn_on), _best(code, self.ignore)
            if on < 0 and off < 0:
                keep = code in carry
            else:
                keep = on > off
            if keep:
                result.add(code)
        return frozenset(result)


def resolve_enabled(layers: Sequence[Layer], codes: Sequence[str] | None = None) -> frozenset[str]:
    """The codes enabled after applying ``layers`` in order to the default (every rule)."""
    codes = rule_codes() if codes is None else tuple(codes)
    enabled = frozenset(codes)
    for layer in layers:
        enabled = layer.apply(enabled, codes)
    return enabled


def match_glob(pattern: str, path: Path, base: Path | None) -> bool:
    """Whether ``path`` matches a per-file-ignores glob.

    A pattern with a ``/`` is matched against the path relative to ``base`` (the
    config file's folder; ``**/`` may match no folder at all); a pattern
    without one is matched against the file name.
    """
    pattern = pattern.replace("\\", "/")
    if "/" not in pattern:
        return fnmatch.fnmatchcase(path.name, pattern)
    resolved = path.resolve()
    if base is not None:
        try:
            relative = resolved.relative_to(base.resolve()).as_posix()
        except ValueError:
            relative = resolved.as_posix()
    else:
        relative = PurePosixPath(path.as_posix()).as_posix()
    pattern = pattern.removeprefix("./")
    candidates = {pattern, pattern.replace("**/", "")}
    return any(fnmatch.fnmatchcase(relative, p) for p in candidates)


@dataclass(frozen=True)
class Settings:
    """Everything ``check`` (and ``fold``) need to decide which findings count, and how much.

    ``levels`` maps selectors to levels (the most specific wins);
    ``per_file_ignores`` holds ``(glob, selectors)`` pairs matched relative to
    ``base`` (the config file's folder); ``discovery`` says how folders are searched.
    """

    enabled: frozenset[str]
    fail_on: str = "warning"
    levels: tuple[tuple[str, str], ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    base: Path | None = None
    input_shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    #: Where SARIF results and GitHub annotations go: "source" (the PyTorch line) or "model".
    locations: str = "source"
    discovery: FileDiscovery = FileDiscovery()
    #: ``(file glob, ((selector, node globs), ...))``: ``linlint.checking.suppression``.
    per_node_ignores: tuple[tuple[str, tuple[tuple[str, tuple[str, ...]], ...]], ...] = ()
    #: The baseline file of accepted findings (None: none).
    baseline: Path | None = None

    def enabled_for(self, path: Path | str) -> frozenset[str]:
        """Codes enabled for one file, after its per-file ignores."""
        enabled = self.enabled
        for pattern, selectors in self.per_file_ignores:
            if match_glob(pattern, Path(path), self.base):
                enabled = frozenset(c for c in enabled if _best(c, selectors) < 0)
        return enabled

    def level_for(self, code: str, default: str) -> str:
        """The level a finding of ``code`` gets: the most specific override, else its default."""
        best, level = -1, default
        for selector, value in self.levels:
            if _matches(selector, code) and _specificity(selector) > best:
                best, level = _specificity(selector), value
        return level

    def apply(self, findings: Iterable[Finding], path: Path | str) -> list[Finding]:
        """The findings of one file that are enabled, with their configured levels."""
        enabled = self.enabled_for(path)
        kept = []
        for finding in findings:
            if finding.code not in enabled:
                continue
            level = self.level_for(finding.code, finding.level)
            kept.append(finding if level == finding.level else finding.with_level(level))
        return kept

    def fails(self, findings: Iterable[Finding]) -> bool:
        """True when some finding reaches the ``fail_on`` level."""
        threshold = level_rank(self.fail_on)
        return any(level_rank(f.level) >= threshold for f in findings)


def check_level(value: object, *, what: str) -> str:
    """``value`` as a level name, or a ``LinlintError`` naming ``what``."""
    if isinstance(value, str) and value.lower() in LEVELS:
        return value.lower()
    raise LinlintError(f"{what} must be one of {', '.join(LEVELS)}, got {quoted_value(value)}")
