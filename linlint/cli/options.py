"""The command line's arguments and options, as ``Annotated`` types the commands share.

Each type carries its flag names, metavar, checks and ``--help`` text; a
command declares a parameter with one of them. The callbacks check rule codes
and input shapes while typer parses, so a mistake is a usage error (exit 2).
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperArgument, TyperCommand

from linlint.errors import LinlintError


class Command(TyperCommand):
    """A command whose arguments read as ruff's do in ``--help``: ``PATHS...`` in the usage
    line and the list of arguments, no typer type label (``<list[Path]>``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            if isinstance(param, TyperArgument):
                shown = param.display_name_raw + ("..." if param.nargs != 1 else "")
                param.display_type_rich = lambda ctx: ""  # type: ignore[method-assign]
                param._rich_display_name = lambda shown=shown: shown  # type: ignore[method-assign]
                param._usage_display_name = lambda shown=shown: shown  # type: ignore[method-assign]


class OutputFormat(str, Enum):
    text = "text"
    json = "json"
    sarif = "sarif"
    github = "github"
    html = "html"
    markdown = "markdown"
    model_explorer = "model-explorer"


class ListFormat(str, Enum):
    text = "text"
    json = "json"


class ColorChoice(str, Enum):
    auto = "auto"
    always = "always"
    never = "never"


class Locations(str, Enum):
    source = "source"
    model = "model"


class Level(str, Enum):
    note = "note"
    warning = "warning"
    error = "error"


def _codes_callback(value: list[str] | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    from linlint.checking.selection import parse_codes

    try:
        return parse_codes(value)
    except LinlintError as error:
        raise typer.BadParameter(str(error)) from None


def parse_shapes(values: Sequence[str] | None) -> dict[str, tuple[int, ...]]:
    """``["x:1,3,224,224", "y=1x8", ...]`` as ``{"x": (1, 3, 224, 224), "y": (1, 8)}`` (a later
    name wins)."""
    if not values:
        return {}
    from linlint.verification.input_sizes import parse_input_shape

    return dict(parse_input_shape(text) for text in values)


def _shapes_callback(value: list[str] | None) -> list[str] | None:
    try:
        parse_shapes(value)
    except LinlintError as error:
        raise typer.BadParameter(str(error)) from None
    return value


def _argument(metavar: str, help_: str) -> Any:
    return typer.Argument(metavar=metavar, help=help_)


def _codes(flag: str, help_: str) -> Any:
    return typer.Option(flag, metavar="CODES", callback=_codes_callback, help=help_)


def _tolerance(kind: str) -> Any:
    help_ = f"{kind} tolerance, replacing the noise bound. [default: 16× the original's own noise"
    return typer.Option(metavar="FLOAT", min=0.0, help=help_ + ", per element]")


def _runs(help_: str) -> Any:
    return typer.Option(metavar="N", min=1, help=help_)


def _inputs(help_: str) -> Any:
    return typer.Option("--inputs", metavar="FILE.npz", help=help_)


# --------------------------------------------------------------------------- rule selection

SelectOption = Annotated[
    list[str] | None,
    _codes(
        "--select",
        "Enable only these rules: comma-separated codes or prefixes (LL001, LL00, LL, ALL).",
    ),
]
IgnoreOption = Annotated[
    list[str] | None,
    _codes("--ignore", "Disable these rules (codes or prefixes, comma-separated)."),
]
ExtendSelectOption = Annotated[
    list[str] | None,
    _codes("--extend-select", "Enable these rules on top of the selection (codes or prefixes)."),
]
ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        metavar="FILE",
        help="Read settings from FILE (a pyproject.toml with [tool.linlint], or a TOML file "
        "with the same keys) instead of the nearest pyproject.toml.",
    ),
]
IsolatedOption = Annotated[bool, typer.Option("--isolated", help="Ignore all configuration files.")]
InputShapeOption = Annotated[
    list[str] | None,
    typer.Option(
        "--input-shape",
        metavar="NAME:DIMS",
        callback=_shapes_callback,
        help="Shape of a graph input with symbolic dims, e.g. input:1,3,224,224 (or "
        "input=1x3x224x224; repeatable). A name no model has is an error.",
    ),
]

# --------------------------------------------------------------------------- check

StatisticsOption = Annotated[
    bool,
    typer.Option(
        "--statistics", help="Print the number of findings per rule instead of the findings."
    ),
]
QuietOption = Annotated[
    bool,
    typer.Option(
        "--quiet", "-q", help="Print the findings and nothing else (no summary, no progress)."
    ),
]
VerboseOption = Annotated[
    bool,
    typer.Option(
        "--verbose",
        "-v",
        help="Also say on stderr which configuration file is read and each file checked.",
    ),
]
ShowSettingsOption = Annotated[
    bool,
    typer.Option(
        "--show-settings",
        help="Print the resolved settings and the configuration file they come from, and exit.",
    ),
]
ShowFilesOption = Annotated[
    bool,
    typer.Option("--show-files", help="Print the model files that would be checked, and exit."),
]

FixOption = Annotated[
    bool,
    typer.Option(
        "--fix",
        help="Not how linlint fixes: `linlint fold --in-place` rewrites models, verified with "
        "onnxruntime (this flag only says so and exits 2).",
    ),
]

PathsArg = Annotated[
    list[Path], _argument("PATHS", "ONNX model files, or folders searched recursively for *.onnx.")
]
FailOnOption = Annotated[
    Level | None,
    typer.Option(
        "--fail-on",
        case_sensitive=False,
        help="Exit 1 when a finding reaches this level. [default: warning]",
    ),
]
ExitZeroOption = Annotated[
    bool,
    typer.Option("--exit-zero", help="Exit 0 even when findings remain (errors still exit 2)."),
]
FormatOption = Annotated[
    OutputFormat,
    typer.Option("--format", "--output-format", case_sensitive=False, help="Report format."),
]
OutputOption = Annotated[
    Path | None,
    typer.Option("--output", "-o", metavar="FILE", help="Write the report to FILE (atomically)."),
]
LocationsOption = Annotated[
    Locations | None,
    typer.Option(
        "--locations",
        case_sensitive=False,
        help="Where SARIF results and GitHub annotations point: the PyTorch source line the "
        "model records, where the file is in the repository, or the model file. "
        "[default: source]",
    ),
]
SourceRootOption = Annotated[
    Path | None,
    typer.Option(
        "--source-root",
        metavar="DIR",
        help="The repository root recorded source paths are matched under and SARIF/GitHub "
        "paths are relative to. [default: the git top level, else the current folder]",
    ),
]
JobsOption = Annotated[
    int | None,
    typer.Option(
        "--jobs",
        "-j",
        metavar="N",
        min=1,
        help="Check files in N processes. [default: the number of CPUs]",
    ),
]
NoProgressOption = Annotated[
    bool,
    typer.Option(
        "--no-progress",
        help="Never show the progress bar (it shows only on a terminal, outside CI, for 5+ files).",
    ),
]


def _globs_callback(value: list[str] | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    return tuple(g.strip() for text in value for g in text.split(",") if g.strip())


ExcludeOption = Annotated[
    list[str] | None,
    typer.Option(
        "--exclude",
        metavar="GLOBS",
        callback=_globs_callback,
        help="Leave these files and folders out of folder searches, replacing the default "
        "excludes (.git, .venv, venv, node_modules, build, dist, __pycache__, ...): "
        "comma-separated globs.",
    ),
]
ExtendExcludeOption = Annotated[
    list[str] | None,
    typer.Option(
        "--extend-exclude",
        metavar="GLOBS",
        callback=_globs_callback,
        help="Leave these out too, on top of the excludes (comma-separated globs).",
    ),
]
RespectGitignoreOption = Annotated[
    bool | None,
    typer.Option(
        "--respect-gitignore/--no-respect-gitignore",
        help="Leave out what git ignores (.gitignore) inside a git work tree. [default: on]",
        show_default=False,
    ),
]
ForceExcludeOption = Annotated[
    bool | None,
    typer.Option(
        "--force-exclude/--no-force-exclude",
        help="Apply the excludes to paths given explicitly too (as pre-commit passes them). "
        "[default: off]",
        show_default=False,
    ),
]
ColorOption = Annotated[
    ColorChoice,
    typer.Option(
        "--color",
        case_sensitive=False,
        help="Colour the text report: auto (a terminal, unless NO_COLOR or TERM=dumb; "
        "FORCE_COLOR forces it), always or never.",
    ),
]

# --------------------------------------------------------------------------- rules, verify, fold

ListFormatOption = Annotated[
    ListFormat,
    typer.Option("--format", "--output-format", case_sensitive=False, help="Output format."),
]
CodeArg = Annotated[str, _argument("CODE", "A rule code (LL001) or name.")]
OriginalArg = Annotated[Path, _argument("ORIGINAL", "The reference model.")]
CandidateArg = Annotated[Path, _argument("CANDIDATE", "The model to compare with it.")]
VerifyInputsOption = Annotated[Path | None, _inputs("Run on these arrays (by input name).")]
RtolOption = Annotated[float | None, _tolerance("Relative")]
AtolOption = Annotated[float | None, _tolerance("Absolute")]
SeedOption = Annotated[int, typer.Option(metavar="INT", help="Seed of the random inputs.")]
VerifyRunsOption = Annotated[int, _runs("Sets of random inputs to compare on.")]
BenchmarkOption = Annotated[
    bool, typer.Option("--benchmark", help="Also time both models (median latency).")
]
ModelsArg = Annotated[
    list[Path],
    _argument("MODELS", "ONNX model files or folders; several only with --in-place/--diff."),
]
FoldOutputOption = Annotated[
    Path | None,
    typer.Option("-o", "--output", metavar="OUT", help="Write the folded model here."),
]
InPlaceOption = Annotated[
    bool, typer.Option("--in-place", help="Overwrite MODEL (only after verification).")
]
DiffOption = Annotated[bool, typer.Option("--diff", help="Print what would change; write nothing.")]
FoldReportOption = Annotated[
    Path | None,
    typer.Option(
        "--report",
        metavar="FILE.html",
        help="Also write an HTML page drawing each region folded, before and after, with the "
        "verification.",
    ),
]
AllowGrowthOption = Annotated[
    bool, typer.Option("--allow-growth", help="Also fold LL002 chains, though MACs grow.")
]
NoVerifyOption = Annotated[
    bool, typer.Option("--no-verify", help="Skip the onnxruntime check (not advised).")
]
FoldInputsOption = Annotated[Path | None, _inputs("Verify on these arrays.")]
FoldRtolOption = Annotated[float | None, _tolerance("Relative")]
FoldAtolOption = Annotated[float | None, _tolerance("Absolute")]
FoldRunsOption = Annotated[int, _runs("Sets of random inputs to verify on.")]
BaselineOption = Annotated[
    Path | None,
    typer.Option(
        "--baseline",
        metavar="FILE",
        help="Report only findings this baseline (from --write-baseline) does not hold. "
        "[default: the configuration's baseline, if any]",
    ),
]
FoldBaselineOption = Annotated[
    Path | None,
    typer.Option(
        "--baseline",
        metavar="FILE",
        help="Leave the findings this baseline (from check --write-baseline) holds as they "
        "are: not folded, not reported. [default: the configuration's baseline, if any]",
    ),
]
WriteBaselineOption = Annotated[
    Path | None,
    typer.Option(
        "--write-baseline",
        metavar="FILE",
        help="Record today's findings (by fingerprint) in FILE, to use with --baseline.",
    ),
]
