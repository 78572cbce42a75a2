"""The effective settings of a run: the ``[tool.linlint]`` configuration overlaid by choices
made for this run (on the command line).

The configuration is the nearest pyproject.toml with a ``[tool.linlint]``
table, or ``config`` when given, or none with ``isolated``. Rule selection
applies the configuration's layer, then this run's; this run's fail-on level
replaces the configuration's (default: warning); its input shapes are added
to the configuration's, replacing those of the same name; its locations choice replaces
the configuration's (default: source). Levels and per-file ignores come from the
configuration alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from linlint.checking.config import discover_config
from linlint.checking.selection import Layer, Settings, resolve_enabled


def resolve_settings(
    paths: Sequence[str | Path],
    config: Path | None = None,
    isolated: bool = False,
    select: tuple[str, ...] | None = None,
    ignore: tuple[str, ...] | None = None,
    extend_select: tuple[str, ...] | None = None,
    fail_on: str | None = None,
    input_shapes: dict[str, tuple[int, ...]] | None = None,
    locations: str | None = None,
) -> Settings:
    """The configuration for ``paths`` (see ``discover_config``) overlaid by this run's choices."""
    cfg = discover_config([Path(p) for p in paths], explicit=config, isolated=isolated)
    chosen = Layer(
        tuple(select) if select is not None else None,
        tuple(ignore or ()),
        tuple(extend_select or ()),
    )
    enabled = resolve_enabled([cfg.layer, chosen])
    level = fail_on or cfg.fail_on or "warning"
    shapes = {**cfg.input_shapes, **(input_shapes or {})}
    where = locations or cfg.locations or "source"
    return Settings(enabled, level, cfg.levels, cfg.per_file_ignores, cfg.base, shapes, where)
