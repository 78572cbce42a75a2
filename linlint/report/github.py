"""GitHub Actions workflow commands: one annotation per finding (and per unreadable file).

``::warning file=PATH,line=1,title=LL001 redundant-linear-chain::MESSAGE``;
notes become ``notice``. Data escapes ``%``, CR and LF; properties also
escape ``:`` and ``,`` (as the Actions toolkit does). Paths are relative to the source
root (the repository) when there is one; a finding whose model records its PyTorch
source, found in the repository, is annotated on that Python line
(``Scope.locations = "source"``), its message naming the model file.

GitHub shows at most ``PER_LEVEL`` (10) annotations of each level per step: after
the 10th of a level the rest would vanish. So each level gets its first 10 (9 notices
when something is left out), and a last notice says how many more there are and where
to see them all.
"""

from __future__ import annotations

from collections.abc import Sequence

from linlint.checking.findings import Finding
from linlint.model.repository import relative_to_root
from linlint.report import Scope, display_path, nodes_text
from linlint.report.sources import Sources, chain_text

COMMANDS = {"note": "notice", "warning": "warning", "error": "error"}
PER_LEVEL = 10  # annotations GitHub shows of each level per step
SEE_ALL = (
    "see them all with `linlint check --format text` (or in the code-scanning tab "
    "when the SARIF report is uploaded)"
)


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
    sources = Sources(scope.source_root, scope.locations)
    for finding in findings:
        where = f" in graph {finding.graph}" if finding.graph else ""
        nodes = f"nodes{where}: {nodes_text(finding)}"
        chain = chain_text(finding)
        file, line = _path(finding.file, scope), 1
        if (place := sources.located(finding)) is not None:
            nodes = f"in {file}, {nodes}"
            file, line = place
        context = f"{chain}; {nodes}" if chain else nodes
        lines.append(
            annotation(
                COMMANDS.get(finding.level, "warning"),
                f"{finding.message} ({context})",
                file=file,
                line=str(line),
                title=f"{finding.code} {finding.name}",
            )
        )
    for file, message in scope.errors:
        shown = _path(file, scope)
        lines.append(annotation("error", message, file=shown, line="1", title="linlint"))
    return "".join(line + "\n" for line in capped(lines))


def _path(file: str, scope: Scope) -> str:
    """A model file as GitHub reads it: relative to the repository (the source root) when
    inside it, else as shown to users."""
    if scope.source_root is not None:
        inside = relative_to_root(file, scope.source_root.resolve())
        if inside is not None:
            return inside
    return display_path(file, scope.root)


def capped(lines: list[str]) -> list[str]:
    """The annotations GitHub shows, then a notice of how many more there are."""
    counts: dict[str, int] = {}
    for line in lines:
        command = line[2:].split(" ", 1)[0]
        counts[command] = counts.get(command, 0) + 1
    if all(n <= PER_LEVEL for n in counts.values()):
        return lines
    quota = {c: PER_LEVEL - (c == "notice") for c in counts}  # the last notice is ours
    kept: list[str] = []
    left = dict.fromkeys(("error", "warning", "notice"), 0)
    for line in lines:
        command = line[2:].split(" ", 1)[0]
        if quota[command] > 0:
            quota[command] -= 1
            kept.append(line)
        else:
            left[command] += 1
    words = {"error": "error", "warning": "warning", "notice": "note"}
    more = ", ".join(f"{n} more {words[c]}{'' if n == 1 else 's'}" for c, n in left.items() if n)
    message = (
        f"{more} not shown: GitHub shows {PER_LEVEL} annotations of each level per step; " + SEE_ALL
    )
    return [*kept, annotation("notice", message, title="linlint")]
