"""The list of rules ``linlint rules`` prints: an aligned table (code, name, default level,
summary) or a JSON array (the same, plus the first paragraph of each rule's documentation);
one rule's documentation, as ``linlint explain`` prints it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from linlint.errors import LinlintError
from linlint.report import doc_summary
from linlint.wording import quoted

if TYPE_CHECKING:
    from linlint.rules.base import Rule


def render_text(rules: Sequence[Rule]) -> str:
    """A table with a header row; the columns before the summary padded to one width."""
    header = ("CODE", "NAME", "LEVEL", "SUMMARY")
    table = [header] + [(r.code, r.name, r.level, r.summary) for r in rules]
    widths = [max(len(row[i]) for row in table) for i in range(3)]
    lines = []
    for row in table:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[3]]).rstrip())
    return "\n".join(lines) + "\n"


def render_json(rules: Sequence[Rule]) -> str:
    """A JSON array, one object per rule."""
    rows = [
        {
            "code": r.code,
            "name": r.name,
            "level": r.level,
            "summary": r.summary,
            "description": doc_summary(r.doc),
        }
        for r in rules
    ]
    return json.dumps(rows, indent=2, ensure_ascii=False) + "\n"


def explain_text(code: str) -> str:
    """A rule's (or LL900 io-error's) header and documentation, by code or name; an unknown
    one is a ``LinlintError`` naming the known codes."""
    from linlint.report import io_error
    from linlint.rules import ALL_RULES, get_rule

    wanted = code.strip()
    rule = get_rule(wanted) or next((r for r in ALL_RULES if r.name == wanted.lower()), None)
    if rule is not None:
        return f"{rule.code} {rule.name} (default level: {rule.level})\n\n{rule.doc}"
    if wanted.upper() == io_error.CODE or wanted.lower() == io_error.NAME:
        return f"{io_error.HEADER}\n\n{io_error.DOC}"
    known = ", ".join(r.code for r in ALL_RULES)
    raise LinlintError(f"unknown rule {quoted(code)} (known: {known}; see `linlint rules`)")
