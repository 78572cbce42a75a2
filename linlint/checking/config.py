"""``[tool.linlint]`` in pyproject.toml: find it, read it, check every key.

The configuration comes from the nearest ``pyproject.toml`` with a
``[tool.linlint]`` table, searched upward from the first path on the command
line (files without the table are skipped, as ruff does), or from
``--config FILE`` (a pyproject.toml, or any TOML file whose top level holds
the same keys). Keys::

    [tool.linlint]
    select = ["LL"]                  # codes or prefixes; default: every rule
    ignore = ["LL003"]
    extend-select = []
    fail-on = "warning"              # note | warning | error
    levels = { LL002 = "warning" }   # per-rule (or prefix) level overrides
    per-file-ignores = { "models/legacy/*.onnx" = ["LL003"] }   # globs relative to this file
    per-node-ignores = { "models/*.onnx" = { LL002 = ["*/bottleneck/*"] } }  # node-name globs
    baseline = "linlint-baseline.json"   # accepted findings (relative to this file)
    input-shapes = { x = [1, 3, 224, 224] }
    locations = "source"             # SARIF/GitHub: at the PyTorch source line, or "model"
    exclude = [".venv", "build"]     # replaces the default excludes (linlint.model.find)
    extend-exclude = ["models/legacy"]   # adds to them; globs with / relative to this file
    respect-gitignore = true         # leave out what git ignores (default: true)
    force-exclude = false            # exclude paths given explicitly too (default: false)

Every mistake is a ``LinlintError`` that names the file and the key.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from linlint.checking.selection import Layer, check_level, parse_codes
from linlint.errors import LinlintError
from linlint.wording import quoted, quoted_value

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

PYPROJECT = "pyproject.toml"
KEYS = (
    "select",
    "ignore",
    "extend-select",
    "fail-on",
    "levels",
    "per-file-ignores",
    "per-node-ignores",
    "baseline",
    "input-shapes",
    "locations",
    "exclude",
    "extend-exclude",
    "respect-gitignore",
    "force-exclude",
)
LOCATIONS = ("source", "model")


@dataclass(frozen=True)
class Config:
    """The checked contents of one ``[tool.linlint]`` table (empty when there is none)."""

    path: Path | None = None
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    fail_on: str | None = None
    levels: tuple[tuple[str, str], ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    input_shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    locations: str | None = None
    exclude: tuple[str, ...] | None = None
    extend_exclude: tuple[str, ...] = ()
    respect_gitignore: bool | None = None
    force_exclude: bool | None = None
    per_node_ignores: tuple[tuple[str, tuple[tuple[str, tuple[str, ...]], ...]], ...] = ()
    baseline: Path | None = None

    @property
    def base(self) -> Path | None:
        """The folder per-file-ignores globs are relative to."""
        return self.path.parent if self.path is not None else None

    @property
    def layer(self) -> Layer:
        return Layer(self.select, self.ignore, self.extend_select)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise LinlintError("config file not found", str(path)) from None
    except IsADirectoryError:
        raise LinlintError("config path is a directory, not a TOML file", str(path)) from None
    except OSError as error:
        raise LinlintError(f"cannot read config: {error.strerror or error}", str(path)) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise LinlintError(f"invalid TOML: {error}", str(path)) from None


def _section(data: dict[str, Any]) -> dict[str, Any] | None:
    tool = data.get("tool")
    if isinstance(tool, dict) and "linlint" in tool:
        return tool["linlint"]
    return None


def find_config(start: Path) -> Path | None:
    """The nearest pyproject.toml with a ``[tool.linlint]`` table, from ``start`` upward."""
    start = start.resolve()
    folder = start if start.is_dir() else start.parent
    for candidate in (folder, *folder.parents):
        pyproject = candidate / PYPROJECT
        if pyproject.is_file() and _section(_read_toml(pyproject)) is not None:
            return pyproject
    return None


class _Checker:
    """Type checks for one file's table; every error names the file and the key."""

    def __init__(self, path: Path, prefix: str) -> None:
        self.path = path
        self.prefix = prefix

    def fail(self, key: str, message: str) -> LinlintError:
        return LinlintError(
            f"invalid config key {quoted(self.prefix + key)}: {message}", str(self.path)
        )

    def codes(self, key: str, value: Any) -> tuple[str, ...]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, f"expected a list of rule codes, got {quoted_value(value)}")
        try:
            return parse_codes(value)
        except LinlintError as error:
            raise self.fail(key, str(error)) from None

    def table(self, key: str, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key, f"expected a table, got {quoted_value(value)}")
        return value

    def level(self, key: str, value: Any) -> str:
        try:
            return check_level(value, what="the level")
        except LinlintError as error:
            raise self.fail(key, str(error)) from None

    def globs(self, key: str, value: Any) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.fail(key, f"expected a list of glob patterns, got {quoted_value(value)}")
        return tuple(value)

    def flag(self, key: str, value: Any) -> bool:
        if not isinstance(value, bool):
            raise self.fail(key, f"expected true or false, got {quoted_value(value)}")
        return value

    def shape(self, key: str, value: Any) -> tuple[int, ...]:
        if isinstance(value, str):
            parts = value.lower().replace(",", "x").split("x")
            if all(p.strip().isdigit() for p in parts):
                value = [int(p) for p in parts]
        if (
            not isinstance(value, list)
            or not value
            or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)
        ):
            raise self.fail(key, f"expected a list of positive integers, got {quoted_value(value)}")
        return tuple(value)


def parse_config(data: dict[str, Any], path: Path, *, prefix: str = "tool.linlint.") -> Config:
    """Check a ``[tool.linlint]`` table (already parsed) and turn it into a ``Config``."""
    check = _Checker(path, prefix)
    if not isinstance(data, dict):
        raise LinlintError(f"{quoted(prefix.rstrip('.'))} must be a table", str(path))
    values: dict[str, Any] = {}
    for raw_key, value in data.items():
        key = raw_key.replace("_", "-")
        if key not in KEYS:
            raise LinlintError(
                f"unknown config key {quoted(prefix + raw_key)} (known: {', '.join(KEYS)})",
                str(path),
            )
        if key in values:
            raise check.fail(raw_key, "given twice (as snake_case and kebab-case)")
        values[key] = value

    select = check.codes("select", values["select"]) if "select" in values else None
    ignore = check.codes("ignore", values.get("ignore", []))
    extend = check.codes("extend-select", values.get("extend-select", []))
    fail_on = check.level("fail-on", values["fail-on"]) if "fail-on" in values else None

    levels = []
    for selector, level in check.table("levels", values.get("levels", {})).items():
        codes = check.codes(f"levels.{selector}", selector)
        if len(codes) != 1:
            raise check.fail(f"levels.{selector}", "expected one rule code or prefix per key")
        levels.append((codes[0], check.level(f"levels.{selector}", level)))

    per_file = []
    ignores = check.table("per-file-ignores", values.get("per-file-ignores", {}))
    for pattern, codes in ignores.items():
        per_file.append((pattern, check.codes(f"per-file-ignores.{pattern}", codes)))

    per_node = []
    for pattern, rules in check.table(
        "per-node-ignores", values.get("per-node-ignores", {})
    ).items():
        where = f"per-node-ignores.{pattern}"
        pairs = []
        for selector, globs in check.table(where, rules).items():
            codes = check.codes(f"{where}.{selector}", selector)
            pairs += [(code, check.globs(f"{where}.{selector}", globs)) for code in codes]
        per_node.append((pattern, tuple(pairs)))
    baseline = values.get("baseline")
    if baseline is not None and (not isinstance(baseline, str) or not baseline):
        raise check.fail("baseline", f"expected a file path, got {quoted_value(baseline)}")

    shapes = {
        name: check.shape(f"input-shapes.{name}", dims)
        for name, dims in check.table("input-shapes", values.get("input-shapes", {})).items()
    }
    locations = values.get("locations")
    if locations is not None and locations not in LOCATIONS:
        raise check.fail(
            "locations", f"expected one of {', '.join(LOCATIONS)}, got {quoted_value(locations)}"
        )
    return Config(
        path=path,
        select=select,
        ignore=ignore,
        extend_select=extend,
        fail_on=fail_on,
        levels=tuple(levels),
        per_file_ignores=tuple(per_file),
        input_shapes=shapes,
        locations=locations,
        exclude=check.globs("exclude", values["exclude"]) if "exclude" in values else None,
        extend_exclude=check.globs("extend-exclude", values.get("extend-exclude", [])),
        respect_gitignore=_optional(check.flag, "respect-gitignore", values),
        force_exclude=_optional(check.flag, "force-exclude", values),
        per_node_ignores=tuple(per_node),
        baseline=path.parent / baseline if baseline is not None else None,
    )


def _optional(check: Any, key: str, values: dict[str, Any]) -> Any:
    """``check(key, value)`` when the key is given, else None."""
    return check(key, values[key]) if key in values else None


def load_config(path: Path) -> Config:
    """Read one config file: a pyproject.toml's ``[tool.linlint]``, or a TOML file's top level."""
    data = _read_toml(path)
    section = _section(data)
    if section is not None:
        return parse_config(section, path)
    if path.name == PYPROJECT:
        return Config(path=path)
    return parse_config(data, path, prefix="")


def discover_config(
    paths: list[str] | list[Path], *, explicit: Path | None = None, isolated: bool = False
) -> Config:
    """The configuration for a run: ``explicit`` if given, else the nearest one, else none."""
    if explicit is not None:
        return load_config(Path(explicit))
    if isolated or not paths:
        return Config()
    found = find_config(Path(paths[0]))
    return load_config(found) if found is not None else Config()
