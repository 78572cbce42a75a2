"""The effective settings of a run: the ``[tool.linlint]`` configuration overlaid by choices
made for this run (on the command line).

The configuration is the nearest pyproject.toml with a ``[tool.linlint]``
table, or ``config`` when given, or none with ``isolated``. Rule selection
applies the configuration's layer, then this run's; this run's fail-on level
replaces the configuration's (default: warning); its input shapes are added
to the configuration's, replacing those of the same name; its locations choice replaces
the configuration's (default: source). Levels and per-file ignores come from the
configuration alone, and so do per-node ignores; this run's baseline replaces the
configuration's. File discovery: this run's ``exclude`` replaces the configuration's,
which replaces the defaults; every ``extend-exclude`` adds to them (a pattern with ``/`` is
relative to the config file's folder, or to the current folder for this run's); this run's
``respect_gitignore`` and ``force_exclude`` replace the configuration's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from linlint.checking.config import Config, discover_config
from linlint.checking.selection import Layer, Settings, resolve_enabled
from linlint.model.find import DEFAULT_EXCLUDE, FileDiscovery, patterns


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
    discovery: DiscoveryChoices | None = None,
    baseline: Path | None = None,
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
    found = file_discovery(cfg, discovery or DiscoveryChoices())
    return Settings(
        enabled, level, cfg.levels, cfg.per_file_ignores, cfg.base, shapes, where, found,
        cfg.per_node_ignores, baseline if baseline is not None else cfg.baseline,
    )  # fmt: skip


@dataclass(frozen=True)
class DiscoveryChoices:
    """This run's choices on file discovery (None: the configuration's, else the default)."""

    exclude: tuple[str, ...] | None = None
    extend_exclude: tuple[str, ...] = ()
    respect_gitignore: bool | None = None
    force_exclude: bool | None = None


def file_discovery(cfg: Config, run: DiscoveryChoices) -> FileDiscovery:
    """How folders are searched: ``run`` over ``cfg`` over the defaults."""
    here = Path.cwd()
    if run.exclude is not None:
        exclude = patterns(run.exclude, here)
    elif cfg.exclude is not None:
        exclude = patterns(cfg.exclude, cfg.base)
    else:
        exclude = patterns(DEFAULT_EXCLUDE)
    exclude += patterns(cfg.extend_exclude, cfg.base) + patterns(run.extend_exclude, here)
    gitignore = _first(run.respect_gitignore, cfg.respect_gitignore, True)
    force = _first(run.force_exclude, cfg.force_exclude, False)
    return FileDiscovery(exclude, gitignore, force)


def _first(*choices: bool | None) -> bool:
    return next(c for c in choices if c is not None)
