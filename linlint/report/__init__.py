"""Reporters: one module per output format, each with ``render(findings, scope) -> str``.

The reporters share the keyword arguments ``root`` (paths are shown relative
to it; default: the current folder), ``files`` (the files that were checked)
and ``errors`` (``(file, message)`` for files that could not be checked),
gathered in a ``Scope``: each format's ``render(findings, scope)`` writes its report
from the two (``text`` also takes ``color``). ``source_root`` is the repository that
exporter-recorded source paths are placed in and SARIF and GitHub paths are relative to
(None: ``root``, and source lines shown as recorded); ``locations`` says where SARIF
results and GitHub annotations go: ``source`` (the Python line, where found) or ``model``.
The formats people read (``READ_FORMATS``: text, github, markdown, html) get the findings
with every name and path in them escaped (``linlint.report.escape``: control characters,
bidi overrides); HTML escapes its markup on top. ``write_output`` puts a rendered report
on stdout or, atomically, into a file.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from linlint.checking.findings import Finding
from linlint.errors import LinlintError
from linlint.report.escape import printable_errors, printable_findings
from linlint.wording import quoted

FORMATS = ("text", "json", "sarif", "github", "html", "markdown", "model-explorer")
READ_FORMATS = ("text", "github", "markdown", "html")  # names and paths escaped (report.escape)


@dataclass(frozen=True)
class Scope:
    """What a report covers besides its findings (see the module docstring)."""

    root: Path | None = None
    files: Sequence[str | Path] | None = None
    errors: Sequence[tuple[str, str]] = ()
    source_root: Path | None = None
    locations: str = "source"
    #: Findings silenced on purpose (``linlint.checking.suppression``): counted, not shown.
    suppressed: int = 0


def render(
    fmt: str,
    findings: Sequence[Finding],
    *,
    root: Path | None = None,
    files: Sequence[str | Path] | None = None,
    errors: Sequence[tuple[str, str]] = (),
    color: bool = False,
    source_root: Path | None = None,
    locations: str = "source",
    suppressed: int = 0,
    quiet: bool = False,
) -> str:
    """Render ``findings`` in one of ``FORMATS`` (``quiet``: text without its summary)."""
    if fmt not in FORMATS:
        raise LinlintError(f"unknown output format {quoted(fmt)} (known: {', '.join(FORMATS)})")
    module = importlib.import_module(f"linlint.report.{fmt.replace('-', '_')}")
    if fmt in READ_FORMATS:
        findings, errors = printable_findings(findings), printable_errors(errors)
    scope = Scope(root, files, errors, source_root, locations, suppressed)
    if fmt == "text":
        return module.render(list(findings), scope, color=color, quiet=quiet)
    return module.render(list(findings), scope)


def display_path(file: str | Path, root: Path | None = None) -> str:
    """A finding's file as shown to users: relative to ``root`` when inside it, ``/``-separated."""
    path = Path(file)
    if path.is_absolute():
        base = (root or Path.cwd()).resolve()
        try:
            path = path.resolve().relative_to(base)
        except ValueError:
            pass
    return path.as_posix()


def nodes_text(finding: Finding) -> str:
    """The finding's nodes in order, joined by arrows."""
    return " → ".join(finding.nodes)


def doc_summary(doc: str) -> str:
    """A rule docstring's first paragraph, on one line."""
    paragraph = doc.strip().split("\n\n", 1)[0]
    return " ".join(paragraph.split())


def doc_section(doc: str, title: str) -> str:
    """The text of one ``## Title`` section of a rule docstring ('' when absent)."""
    lines = doc.splitlines()
    out: list[str] = []
    inside = False
    for line in lines:
        if line.startswith("## "):
            if inside:
                break
            inside = line[3:].strip().lower() == title.lower()
            continue
        if inside:
            out.append(line)
    return "\n".join(out).strip()


def write_output(text: str, output: str | Path | None) -> None:
    """Write a report to ``output`` atomically (temporary file, then rename), or to stdout."""
    if output is None or str(output) == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    from linlint.model.atomic import write_bytes

    target = Path(output)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise LinlintError("cannot write report: folder does not exist", str(target))
    write_bytes(target, text.encode("utf-8"), shown=str(target), what="write report")


__all__ = [
    "FORMATS",
    "Scope",
    "display_path",
    "doc_section",
    "doc_summary",
    "render",
    "write_output",
]
