"""Markdown for GitHub (``$GITHUB_STEP_SUMMARY``, a pull-request comment): a summary table,
then per finding its message, costs and a Mermaid flowchart of the region before → after
the fold, which GitHub renders.

Within GitHub's limits: a job summary holds at most 1 MiB per step and a comment 65,536
characters, so at most ``MAX_DRAWN`` findings are drawn and the page stops drawing before
``BUDGET`` bytes; the findings not drawn are listed in one table, with their count. Every
diagram declares its node ids before an arrow uses them and quotes every label (``"``
inside a label is written ``#quot;``, Mermaid's entity), so the flowchart parses.
"""

from __future__ import annotations

from collections.abc import Sequence

from linlint.checking.findings import LEVELS, Finding
from linlint.report import Scope, display_path
from linlint.report import drawing as draw

MAX_DRAWN = 30
BUDGET = 900_000  # bytes: under the job summary's 1 MiB, with room for the rest
CLASSES = (
    "classDef param fill:#dbeafe,stroke:#1d4ed8,stroke-width:2px",
    "classDef op fill:#ffffff,stroke:#57606a",
    "classDef neighbour fill:#f6f8fa,stroke:#8c959f,stroke-dasharray:4 3,color:#57606a",
    "classDef terminal fill:#f6f8fa,stroke:#8c959f,color:#57606a",
)


def quoted(text: str) -> str:
    """A Mermaid label in double quotes (``#``, quotes, angle brackets and pipes as
    entities)."""
    text = text.replace("#", "#35;")
    for raw, entity in (("&", "#amp;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;")):
        text = text.replace(raw, entity)
    return f'"{text.replace("|", "#124;")}"'


def _nodes(diagram: draw.Diagram, prefix: str) -> list[str]:
    lines = []
    for box in diagram.boxes:
        label = quoted(f"{box.op}\n{box.name}".replace("\n", "<br/>"))
        label = label.replace("#lt;br/#gt;", "<br/>")
        shape = f"([{label}])" if box.kind == "terminal" else f"[{label}]"
        lines.append(f"    {prefix}{box.id}{shape}:::{box.kind}")
    return lines


def _arrows(diagram: draw.Diagram, prefix: str) -> list[str]:
    lines = []
    for a in diagram.arrows:
        arrow = "==>" if a.role in ("source", "exit") else "-.->" if a.role == "out" else "-->"
        label = f"|{quoted(a.shape)}|" if a.shape else ""
        lines.append(f"  {prefix}{a.tail} {arrow}{label} {prefix}{a.head}")
    return lines


def mermaid(picture) -> str:
    """One flowchart: a ``before`` subgraph, and an ``after`` one where the fold is exact."""
    first, second = draw.before(picture), draw.after(picture)
    lines = ["flowchart LR", *(f"  {c}" for c in CLASSES), '  subgraph before["before"]']
    lines += _nodes(first, "b")
    lines.append("  end")
    if second is not None:
        lines.append('  subgraph after["after the fold"]')
        lines += _nodes(second, "a")
        lines.append("  end")
    lines += _arrows(first, "b")
    if second is not None:
        lines += _arrows(second, "a")
        lines.append("  before -. fold .-> after")
    return "\n".join(lines)


def _summary(findings: Sequence[Finding], scope: Scope) -> list[str]:
    from linlint.report.html import folding_saves
    from linlint.report.text import summary as summary_line

    line = summary_line(findings, scope.files, scope.errors, scope.suppressed)
    out = ["## linlint", "", line, ""]
    codes = sorted({(f.code, f.name) for f in findings})
    if codes:
        out += ["| rule | " + " | ".join(LEVELS[::-1]) + " | total |", "|---|---:|---:|---:|---:|"]
        for code, name in codes:
            counts = [
                sum(f.code == code and f.level == lv for f in findings) for lv in LEVELS[::-1]
            ]
            out.append(f"| {code} {name} | " + " | ".join(map(str, counts)) + f" | {sum(counts)} |")
        out.append("")
    regions, macs, params, nodes = folding_saves(findings)
    if regions:
        plural = "" if regions == 1 else "s"
        out += [
            f"`linlint fold` would fold {regions:,} region{plural}: MACs {-macs:+,}, "
            f"parameters {-params:+,}, nodes {-nodes:+,}.",
            "",
        ]
    return out


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _finding(f: Finding, root) -> list[str]:
    fix = f.fix
    where = f" (graph `{f.graph}`)" if f.graph else ""
    out = [
        f"### {f.code} {f.level}: {f.name} — `{display_path(f.file, root)}`{where}",
        "",
        _cell(f.message),
        "",
    ]
    if f.region is not None:
        out += ["```mermaid", mermaid(f.region), "```", ""]
    costs = [f"MACs {fix.macs_before:,} → {fix.macs_after:,}"]
    costs.append(f"params {fix.params_before:,} → {fix.params_after:,}")
    if fix.nodes_before:
        costs.append(f"nodes {fix.nodes_before:,} → {fix.nodes_after:,}")
    out += [", ".join(costs) + ("" if fix.exact else f"; not exact: {_cell(fix.reason)}"), ""]
    return out


def render(findings: Sequence[Finding], scope: Scope = Scope()) -> str:
    """The Markdown page."""
    lines = _summary(findings, scope)
    size = sum(len(line.encode()) + 1 for line in lines)
    rest: list[Finding] = []
    drawn = 0
    for f in findings:
        block = _finding(f, scope.root)
        block_size = sum(len(line.encode()) + 1 for line in block)
        if drawn >= MAX_DRAWN or size + block_size > BUDGET:
            rest.append(f)
            continue
        lines += block
        size += block_size
        drawn += 1
    if rest:
        lines += [
            f"### {len(rest):,} more finding{'' if len(rest) == 1 else 's'} not drawn",
            "",
            "| rule | level | file | message |",
            "|---|---|---|---|",
        ]
        for f in rest:
            if size > BUDGET:
                lines.append(f"| … | | | {len(rest):,} in all; see the full report |")
                break
            shown = display_path(f.file, scope.root)
            row = f"| {f.code} | {f.level} | `{shown}` | {_cell(f.message)} |"
            lines.append(row)
            size += len(row.encode()) + 1
        lines.append("")
    for file, message in scope.errors:
        lines.append(f"- could not check `{display_path(file, scope.root)}`: {_cell(message)}")
    return "\n".join(lines).rstrip() + "\n"
