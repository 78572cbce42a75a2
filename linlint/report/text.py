"""Text: findings grouped by file, each with its nodes and what a fold would buy, then a summary.

Plain text unless ``color`` is set (the CLI sets it when stdout is a
terminal); only then is rich imported. Example::

    m.onnx: LL001 [*] [warning] redundant-linear-chain: Conv 3x3 → Conv 1x1 = one Conv 3x3 (8→8)
      conv1 → conv2
      fix: exact, MACs 82,944 → 73,728, params 656 → 584

    Found 1 finding (1 warning) in 1 of 1 file.
    [*] 1 fixable with `linlint fold`.

``[*]`` marks a finding ``linlint fold`` rewrites by default (as ruff marks what ``--fix``
fixes); ``quiet`` leaves out the summary and the fixable line (``check -q``).

Where the model records its PyTorch source (``linlint.model.origins``), the nodes line
names the modules, the ONNX nodes in brackets, and a line says where in the source::

      blocks.0.expand (Conv2d) → blocks.0.conv (Conv2d)  [node_conv2d → node_conv2d_1]
      at blocks/model.py:20, 22 in forward
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

from linlint.analysis.cost_basis import free_text, input_shape_hint
from linlint.analysis.regions import DEFAULTED
from linlint.checking.findings import LEVELS, Finding
from linlint.report import Scope, display_path, nodes_text
from linlint.report.sources import Sources, chain_text, frames
from linlint.report.tree import branch_tree
from linlint.wording import quoted_list

_STYLES = {"error": "bold red", "warning": "yellow", "note": "cyan"}


def fixable(finding: Finding) -> bool:
    """Whether ``linlint fold`` (without ``--allow-growth``) rewrites this finding."""
    from linlint.rules import get_rule
    from linlint.rules.base import Fold

    rule = get_rule(finding.code)
    return rule is not None and rule.folds is Fold.DEFAULT and finding.fix.exact


def marker(finding: Finding) -> str:
    """`` [*]`` for a fixable finding, else ''."""
    return " [*]" if fixable(finding) else ""


def fixable_line(findings: Sequence[Finding]) -> str:
    """``[*] 3 fixable with `linlint fold`.``, or '' when none is."""
    count = sum(fixable(f) for f in findings)
    return f"[*] {count:,} fixable with `linlint fold`." if count else ""


def plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def fix_text(finding: Finding) -> str:
    """``exact`` or ``not exact (why)`` (the why only where the message does not say it),
    then MACs, params, elementwise ops and nodes before → after when known (``MACs unknown``
    where a shape is), and the sizes figures on defaulted symbolic sizes were counted at."""
    fix = finding.fix
    said = not fix.reason or fix.reason in finding.message  # say the reason once
    parts = ["exact" if fix.exact else "not exact" if said else f"not exact ({fix.reason})"]
    if not fix.known:
        parts.append("MACs unknown")
    elif fix.macs_before or fix.macs_after or fix.basis == DEFAULTED:
        parts.append(f"MACs {fix.macs_before:,} → {fix.macs_after:,}")
    if fix.params_before or fix.params_after:
        parts.append(f"params {fix.params_before:,} → {fix.params_after:,}")
    if fix.exact:
        parts += work_parts(fix, fix.known)
    return ", ".join(parts) + sizes_suffix(fix)


def work_parts(costs, known: bool = True) -> list[str]:
    """``elementwise a → b`` (where ``known``) and ``nodes c → d``: what a fold saves
    besides multiply-adds and parameters (``costs`` is a ``Fix`` or a folded region)."""
    parts = []
    if known and (costs.elementwise_before or costs.elementwise_after):
        parts.append(f"elementwise {costs.elementwise_before:,} → {costs.elementwise_after:,}")
    if costs.nodes_before:
        parts.append(f"nodes {costs.nodes_before:,} → {costs.nodes_after:,}")
    return parts


def sizes_suffix(costs) -> str:
    """`` (at H=1, W=1)`` where the figures stand on defaulted symbolic sizes, else ''."""
    if costs.basis != DEFAULTED:
        return ""
    return f" (at {free_text(costs.sizes)})"


def sizes_note(findings: Sequence[Finding]) -> str:
    """Once per file, where some figures stand on defaulted symbolic sizes: which sizes,
    and the ``--input-shape`` that counts them at the sizes the model runs at ('' else)."""
    defaulted = next((f.fix for f in findings if f.fix.basis == DEFAULTED), None)
    return "" if defaulted is None else sizes_note_for(defaulted.sizes)


def sizes_note_for(sizes) -> str:
    """The note on figures counted at the defaulted sizes of ``sizes`` (``Fix.sizes``)."""
    names = [item.split("=")[0] for item in free_text(sizes).split(", ")]
    what = "sizes" if len(names) > 1 else "size"
    return (
        f"the figures take the symbolic {what} {quoted_list(names)} as 1 (the model does not "
        f"fix {'them' if len(names) > 1 else 'it'}); pass {input_shape_hint(sizes)} with the "
        "sizes it runs at"
    )


def location_text(finding: Finding) -> str:
    where = f"in graph {finding.graph}: " if finding.graph else ""
    chain = chain_text(finding)
    if chain is not None:
        return f"{where}{chain}  [{nodes_text(finding)}]"
    return where + nodes_text(finding)


def location_lines(finding: Finding) -> list[str]:
    """The finding's nodes: a small tree where the region has branches (``tree``), else
    the chain of names."""
    tree = branch_tree(finding.region)
    if tree is None:
        return [location_text(finding)]
    return ([f"in graph {finding.graph}:"] if finding.graph else []) + tree


def source_text(finding: Finding, sources: Sources, root: Path | None = None) -> str | None:
    """``at blocks/model.py:20 in forward, ...``: the finding's source lines, or None."""
    found = frames(finding)
    return "at " + sources.shown(found, root) if found else None


def summary(
    findings: Sequence[Finding],
    files: Sequence[str | Path] | None,
    errors: Sequence,
    suppressed: int = 0,
) -> str:
    """``Found 3 findings (2 warnings, 1 note) in 2 of 5 files.`` or ``All checked: ...``,
    then `` 3 suppressed.`` when findings were silenced on purpose."""
    flagged = len({f.file for f in findings})
    total = len(files) if files is not None else flagged
    failed = f" {plural(len(errors), 'file')} could not be checked." if errors else ""
    failed += f" {suppressed:,} suppressed." if suppressed else ""
    if not findings:
        if errors:
            return f"No findings in {plural(total, 'file')};{failed}"
        return f"All checked: no findings in {plural(total, 'file')}.{failed}"
    counts = [
        plural(sum(f.level == level for f in findings), level)
        for level in reversed(LEVELS)
        if any(f.level == level for f in findings)
    ]
    return (
        f"Found {plural(len(findings), 'finding')} ({', '.join(counts)}) "
        f"in {flagged:,} of {plural(total, 'file')}.{failed}"
    )


def _groups(findings: Sequence[Finding]) -> list[list[Finding]]:
    groups: dict[str, list[Finding]] = {}
    for finding in findings:
        groups.setdefault(finding.file, []).append(finding)
    return list(groups.values())


def _plain(findings: Sequence[Finding], scope: Scope, quiet: bool = False) -> str:
    blocks = []
    sources = Sources(scope.source_root)
    for group in _groups(findings):
        lines = []
        for f in group:
            path = display_path(f.file, scope.root)
            lines.append(f"{path}: {f.code}{marker(f)} [{f.level}] {f.name}: {f.message}")
            lines += [f"  {line}" for line in location_lines(f)]
            if (at := source_text(f, sources, scope.root)) is not None:
                lines.append(f"  {at}")
            lines.append(f"  fix: {fix_text(f)}")
        note = sizes_note(group)
        if note:
            lines.append(f"{display_path(group[0].file, scope.root)}: {note}")
        blocks.append("\n".join(lines))
    if not quiet:
        closing = [
            summary(findings, scope.files, scope.errors, scope.suppressed),
            fixable_line(findings),
        ]
        blocks.append("\n".join(line for line in closing if line))
    return "\n\n".join(blocks) + "\n" if blocks else ""


def _rich(findings: Sequence[Finding], scope: Scope, quiet: bool = False) -> str:
    from rich.console import Console
    from rich.text import Text

    buffer = io.StringIO()
    console = Console(
        file=buffer,
        force_terminal=True,
        color_system="standard",
        highlight=False,
        soft_wrap=True,
        no_color=False,  # the caller decided (NO_COLOR is read by linlint.cli.streams)
    )
    sources = Sources(scope.source_root)
    for group in _groups(findings):
        for f in group:
            line = Text()
            line.append(display_path(f.file, scope.root), style="bold")
            line.append(": ")
            line.append(f.code + marker(f), style=f"bold {_STYLES.get(f.level, '')}")
            line.append(f" [{f.level}] ", style=_STYLES.get(f.level, ""))
            line.append(f.name, style="dim")
            line.append(f": {f.message}")
            console.print(line)
            for location in location_lines(f):
                console.print(Text(f"  {location}", style="blue"))
            if (at := source_text(f, sources, scope.root)) is not None:
                console.print(Text(f"  {at}", style="magenta"))
            console.print(Text(f"  fix: {fix_text(f)}", style="green" if f.fix.exact else "dim"))
        note = sizes_note(group)
        if note:
            line = Text()
            line.append(display_path(group[0].file, scope.root), style="bold")
            line.append(f": {note}", style="dim")
            console.print(line)
        console.print()
    if quiet:
        return buffer.getvalue()
    style = "bold red" if scope.errors else "bold yellow" if findings else "bold green"
    console.print(Text(summary(findings, scope.files, scope.errors, scope.suppressed), style=style))
    if line := fixable_line(findings):
        console.print(Text(line))
    return buffer.getvalue()


def render(
    findings: Sequence[Finding], scope: Scope = Scope(), *, color: bool = False, quiet: bool = False
) -> str:
    """The text report; ``color`` renders it with rich (terminal escapes); ``quiet`` without
    the closing summary."""
    if color:
        return _rich(findings, scope, quiet)
    return _plain(findings, scope, quiet)
