"""What ``check`` prints besides its report, as ruff does: ``--show-settings`` (the resolved
settings and the configuration file they come from), ``--show-files`` (the model files a run
would check), ``--statistics`` (findings counted per rule, ``[*]`` where ``linlint fold``
rewrites them) and ``-v/--verbose``'s lines on stderr. Each returns text; the command prints
it.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from linlint.checking.findings import Finding
    from linlint.checking.selection import Settings


def config_file(paths: Sequence[Path], config: Path | None, isolated: bool) -> Path | None:
    """The configuration file a run reads (None: none, the defaults apply)."""
    from linlint.checking.config import discover_config

    return discover_config(list(paths), explicit=config, isolated=isolated).path


def _per_node(entries) -> str:
    """``models/*.onnx: LL002 = blocks.*, head.*`` per file glob, or ``none``."""
    shown = [
        f"{glob}: " + ", ".join(f"{code} = {', '.join(nodes)}" for code, nodes in rules)
        for glob, rules in entries
    ]
    return "; ".join(shown) or "none"


def settings_text(settings: Settings, source: Path | None) -> str:
    """``--show-settings``: the configuration file, then each resolved setting on a line."""
    from linlint.report.escape import printable

    discovery = settings.discovery
    shapes = [f"{name}:{','.join(map(str, dims))}" for name, dims in settings.input_shapes.items()]
    rows = [
        ("config file", str(source) if source is not None else "none (defaults)"),
        ("enabled rules", ", ".join(sorted(settings.enabled)) or "none"),
        ("fail-on", settings.fail_on),
        ("levels", ", ".join(f"{sel} = {level}" for sel, level in settings.levels) or "none"),
        (
            "per-file-ignores",
            "; ".join(f"{glob}: {', '.join(codes)}" for glob, codes in settings.per_file_ignores)
            or "none",
        ),
        ("per-node-ignores", _per_node(settings.per_node_ignores)),
        ("baseline", str(settings.baseline) if settings.baseline is not None else "none"),
        ("input shapes", ", ".join(shapes) or "none"),
        ("locations", settings.locations),
        ("exclude", ", ".join(p.glob for p in discovery.exclude) or "none"),
        ("respect-gitignore", str(discovery.respect_gitignore).lower()),
        ("force-exclude", str(discovery.force_exclude).lower()),
    ]
    width = max(len(key) for key, _ in rows)
    return "".join(f"{key.ljust(width)}  {printable(value)}\n" for key, value in rows)


def files_text(paths: Sequence[Path], settings: Settings) -> str:
    """``--show-files``: the model files under ``paths``, one a line, in the order checked."""
    from linlint.model.find import find_models
    from linlint.report import display_path
    from linlint.report.escape import printable

    seen: dict[Path, None] = {}
    for raw in paths:
        seen.update(dict.fromkeys(find_models(raw, settings.discovery)))
    return "".join(f"{printable(display_path(path, Path.cwd()))}\n" for path in seen)


def statistics(findings: Sequence[Finding], fmt: str = "text") -> str:
    """``--statistics``: one row per rule (count, code, ``[*]`` when fixable, name), most
    frequent first; ``json`` as an array of ``{code, name, count, fixable}``."""
    from linlint.report.text import fixable

    counts: dict[str, list] = {}
    for finding in findings:
        row = counts.setdefault(finding.code, [finding.code, finding.name, 0, 0])
        row[2] += 1
        row[3] += fixable(finding)
    rows = sorted(counts.values(), key=lambda row: (-row[2], row[0]))
    if fmt == "json":
        keys = ("code", "name", "count", "fixable")
        return json.dumps([dict(zip(keys, row, strict=True)) for row in rows], indent=2) + "\n"
    width = max((len(f"{row[2]:,}") for row in rows), default=1)
    lines = [f"{row[2]:>{width},}  {row[0]}  {'[*]' if row[3] else '   '} {row[1]}" for row in rows]
    return "".join(line.rstrip() + "\n" for line in lines)


def verbose_line(line: str) -> None:
    """One ``-v`` line on stderr (a path's control characters escaped)."""
    from linlint.report.escape import printable

    sys.stderr.write(f"linlint: {printable(line)}\n")


def before_check(
    paths: Sequence[Path],
    config: Path | None,
    isolated: bool,
    settings: Settings,
    *,
    show_settings: bool,
    show_files: bool,
    verbose: bool,
) -> bool:
    """Print what ``--show-settings``/``--show-files`` ask (stdout) and ``-v``'s configuration
    line (stderr); whether the command ends there (it does after a ``--show-*``)."""
    if not (show_settings or show_files or verbose):
        return False
    source = config_file(paths, config, isolated)
    if verbose:
        verbose_line(f"configuration: {source if source is not None else 'none (defaults)'}")
    if show_settings:
        sys.stdout.write(settings_text(settings, source))
    if show_files:
        sys.stdout.write(files_text(paths, settings))
    return show_settings or show_files


def after_check(checked: Sequence[Path], verbose: bool) -> None:
    """``-v``: each file checked, on stderr."""
    for path in checked if verbose else ():
        verbose_line(f"checked {path}")
