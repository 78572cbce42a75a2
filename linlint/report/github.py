"""GitHub Actions workflow commands: one annotation per finding (and per unreadable file).

``::warning file=PATH,line=1,title=LL001 redundant-linear-chain::MESSAGE``;
notes become ``notice``. Data escapes ``%``, CR and LF; properties also
escape ``:`` and ``,`` (as the Actions toolkit does).
"""

from __future__ import annotations

from collections.abc import Sequence

from linlint.checking.findings import Finding
from linlint.report import Scope, display_path, nodes_text

COMMANDS = {"note": "notice", "warning": "warning", "error": "error"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(command: str, message: str, **properties: str) -> str:
    props = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items())
    return f"::{command} {props}::{escape_data(message)}"


def render(findings: Sequence[Finding], scope: Scope = Scope()) -> str:
    """One workflow command per line."""
    lines = []
    for finding in findings:
        where = f" in graph {finding.graph}" if finding.graph else ""
        message = f"{finding.message} (nodes{where}: {nodes_text(finding)})"
        lines.append(
            annotation(
                COMMANDS.get(finding.level, "warning"),
                message,
                file=display_path(finding.file, scope.root),
                line="1",
                title=f"{finding.code} {finding.name}",
            )
        )
    for file, message in scope.errors:
        shown = display_path(file, scope.root)
        lines.append(annotation("error", message, file=shown, line="1", title="linlint"))
    return "".join(line + "\n" for line in lines)
