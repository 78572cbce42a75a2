"""The ``linlint`` command (ruff's command-line contract): the typer app, its commands, and the
frame each command runs in.

Exit codes: 0 clean, 1 findings at or above the fail-on level (or models that
differ), 2 usage, config, input or internal errors (one line on stderr, no
traceback unless ``LINLINT_DEBUG=1``).

A command reads its options (``linlint.cli.options``), resolves its settings,
calls the layers below and prints a report rendered in ``linlint.report``;
checking many files is ``linlint.cli.runner``. Start-up stays light: this
module imports only typer (its public API; typer brings pydantic to coerce
options) and linlint's small modules; onnx, numpy, onnxruntime and rich are
imported inside the commands that use them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from linlint.cli import options as opt
from linlint.cli import show
from linlint.cli.errors import DEBUG_ENV, debug, error_line, internal_message
from linlint.cli.runner import apply_baseline, check_paths, exit_code
from linlint.cli.streams import encodable, fall_back_to_ascii, reader_gone, use_color
from linlint.errors import LinlintError

if TYPE_CHECKING:
    from linlint.checking.findings import Finding
    from linlint.checking.selection import Settings
    from linlint.checking.settings import DiscoveryChoices

__all__ = ["DEBUG_ENV", "app", "main"]

FIX_HINT = "check has no `--fix`: `linlint fold --in-place PATHS` folds models, verified first"

app = typer.Typer(
    name="linlint",
    help="Find, fold and verify stacked linear layers with no nonlinearity between them in ONNX "
    "models.",
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


# --------------------------------------------------------------------------- the frame


@contextmanager
def guard() -> Iterator[None]:
    """Run a command body: ``LinlintError`` and unexpected exceptions become one line and exit 2;
    a closed stdout (``BrokenPipeError``) ends the body quietly (``linlint.cli.streams``)."""
    try:
        yield
    except (typer.Exit, typer.Abort, KeyboardInterrupt):
        raise
    except BrokenPipeError:  # the reader is gone (`| head`): the command ends quietly
        reader_gone()
    except LinlintError as error:
        error_line(str(error))
        raise typer.Exit(2) from None
    except Exception as error:
        if debug():
            raise
        error_line(internal_message(error), internal=True)
        raise typer.Exit(2) from None


def emit_report(
    fmt: opt.OutputFormat | str,
    findings: Sequence[Finding],
    *,
    output: Path | None = None,
    files: Sequence[str | Path] | None = None,
    errors: Sequence[tuple[str, str]] = (),
    color: opt.ColorChoice | str = "auto",
    source_root: Path | None = None,
    locations: str = "source",
    suppressed: int = 0,
    quiet: bool = False,
) -> None:
    """Render the report and write it to ``output`` (atomically) or stdout, coloured or not."""
    from linlint.report import render, write_output

    name = fmt.value if isinstance(fmt, opt.OutputFormat) else fmt
    colored = name == "text" and use_color(color, to_file=output is not None)
    where = {"source_root": source_root, "locations": locations}
    where |= {"suppressed": suppressed, "quiet": quiet}
    text = render(
        name, findings, root=Path.cwd(), files=files, errors=errors, color=colored, **where
    )
    write_output(encodable(text, name, output), output)


def _settings(
    paths: Sequence[Path],
    config: Path | None,
    isolated: bool,
    select: tuple[str, ...] | None,
    ignore: tuple[str, ...] | None,
    extend_select: tuple[str, ...] | None,
    input_shape: list[str] | None,
    fail_on: opt.Level | None = None,
    locations: opt.Locations | None = None,
    discovery: DiscoveryChoices | None = None,
) -> Settings:
    """The configuration for ``paths`` overlaid by the command's options."""
    from linlint.checking.settings import resolve_settings

    level = fail_on.value if fail_on is not None else None
    shapes = opt.parse_shapes(input_shape)
    where = locations.value if locations is not None else None
    return resolve_settings(
        paths, config, isolated, select, ignore, extend_select, level, shapes, where, discovery
    )


def _verify_options(
    inputs: Path | None, rtol: float | None, atol: float | None, seed: int, runs: int
) -> dict[str, Any]:
    """How ``verify`` and ``fold`` run the models: the options they share."""
    return {"inputs": inputs, "rtol": rtol, "atol": atol, "seed": seed, "runs": runs}


# --------------------------------------------------------------------------- commands


@app.command(cls=opt.Command)
def check(
    paths: opt.PathsArg,
    output_format: opt.FormatOption = opt.OutputFormat.text,
    output: opt.OutputOption = None,
    select: opt.SelectOption = None,
    ignore: opt.IgnoreOption = None,
    extend_select: opt.ExtendSelectOption = None,
    fail_on: opt.FailOnOption = None,
    exit_zero: opt.ExitZeroOption = False,
    input_shape: opt.InputShapeOption = None,
    jobs: opt.JobsOption = None,
    config: opt.ConfigOption = None,
    isolated: opt.IsolatedOption = False,
    no_progress: opt.NoProgressOption = False,
    locations: opt.LocationsOption = None,
    source_root: opt.SourceRootOption = None,
    exclude: opt.ExcludeOption = None,
    extend_exclude: opt.ExtendExcludeOption = None,
    respect_gitignore: opt.RespectGitignoreOption = None,
    force_exclude: opt.ForceExcludeOption = None,
    color: opt.ColorOption = opt.ColorChoice.auto,
    baseline: opt.BaselineOption = None,
    write_baseline: opt.WriteBaselineOption = None,
    fix: opt.FixOption = False,
    statistics: opt.StatisticsOption = False,
    quiet: opt.QuietOption = False,
    verbose: opt.VerboseOption = False,
    show_settings: opt.ShowSettingsOption = False,
    show_files: opt.ShowFilesOption = False,
) -> None:
    """Check ONNX models for linear redundancy and report the findings.

    Exit 0 when no finding reaches --fail-on, 1 when one does, 2 on errors.
    """
    run = None
    with guard():
        if fix:
            raise LinlintError(FIX_HINT)
        if quiet and verbose:
            raise LinlintError("`-q`/`--quiet` and `-v`/`--verbose` cannot be used together")
        from linlint.checking.settings import DiscoveryChoices
        from linlint.model.repository import source_root as find_source_root

        choices = DiscoveryChoices(exclude, extend_exclude or (), respect_gitignore, force_exclude)
        chosen = (paths, config, isolated, select, ignore, extend_select, input_shape, fail_on)
        settings = _settings(*chosen, locations, choices)
        shows = {"show_settings": show_settings, "show_files": show_files, "verbose": verbose}
        if show.before_check(paths, config, isolated, settings, **shows):
            raise typer.Exit(0)
        if source_root is not None and not source_root.is_dir():
            raise LinlintError("`--source-root` is not a folder", str(source_root))
        workers, names = jobs or os.cpu_count() or 1, list(opt.parse_shapes(input_shape))
        bar = not (no_progress or quiet)
        run = check_paths(paths, settings, jobs=workers, show_progress=bar, shape_names=names)
        show.after_check(run.checked, verbose)
        root = find_source_root(paths, source_root)
        apply_baseline(run, settings, root, baseline, write_baseline)
        if statistics:
            from linlint.report import write_output

            fmt = output_format.value
            text = show.statistics(run.findings, fmt)
            write_output(encodable(text, fmt, output), output)
        else:
            where = {"source_root": root, "locations": settings.locations, "color": color}
            shown = {"files": run.checked, "errors": run.errors, "suppressed": run.suppressed}
            emit_report(output_format, run.findings, output=output, quiet=quiet, **where, **shown)
    if run is None:  # the reader of a --show-* listing left (`| head`) before it ended
        raise typer.Exit(0)
    raise typer.Exit(exit_code(settings, run.findings, exit_zero=exit_zero, errors=len(run.errors)))


@app.command()
def rules(output_format: opt.ListFormatOption = opt.ListFormat.text) -> None:
    """List every rule: code, name, default level and summary."""
    with guard():
        from linlint.report.rules import render_json, render_text
        from linlint.rules import ALL_RULES

        render = render_json if output_format is opt.ListFormat.json else render_text
        typer.echo(encodable(render(ALL_RULES), output_format.value, None), nl=False)


@app.command(cls=opt.Command)
def explain(code: opt.CodeArg) -> None:
    """Print one rule's documentation."""
    with guard():
        from linlint.report.rules import explain_text

        typer.echo(explain_text(code))


app.command("rule", hidden=True)(explain)


@app.command(cls=opt.Command)
def verify(
    original: opt.OriginalArg,
    candidate: opt.CandidateArg,
    inputs: opt.VerifyInputsOption = None,
    rtol: opt.RtolOption = None,
    atol: opt.AtolOption = None,
    seed: opt.SeedOption = 0,
    runs: opt.VerifyRunsOption = 1,
    benchmark: opt.BenchmarkOption = False,
    input_shape: opt.InputShapeOption = None,
    output_format: opt.ListFormatOption = opt.ListFormat.text,
) -> None:
    """Run two models on the same inputs with onnxruntime and compare every output.

    Exit 0 when all outputs are equal within tolerance, 1 when they differ, 2 on errors.
    """
    with guard():
        from linlint.report.verify import render_json, render_text
        from linlint.verification.compare import verify as run_verify

        options = _verify_options(inputs, rtol, atol, seed, runs)
        shapes = opt.parse_shapes(input_shape) or None
        result = run_verify(
            original, candidate, benchmark=benchmark, input_shapes=shapes, **options
        )
        render = render_json if output_format is opt.ListFormat.json else render_text
        typer.echo(render(result), nl=False)
    raise typer.Exit(0 if result.ok else 1)


@app.command(cls=opt.Command)
def fold(
    models: opt.ModelsArg,
    out: opt.FoldOutputOption = None,
    in_place: opt.InPlaceOption = False,
    diff: opt.DiffOption = False,
    select: opt.SelectOption = None,
    ignore: opt.IgnoreOption = None,
    extend_select: opt.ExtendSelectOption = None,
    allow_growth: opt.AllowGrowthOption = False,
    no_verify: opt.NoVerifyOption = False,
    inputs: opt.FoldInputsOption = None,
    rtol: opt.FoldRtolOption = None,
    atol: opt.FoldAtolOption = None,
    seed: opt.SeedOption = 0,
    runs: opt.FoldRunsOption = 2,
    input_shape: opt.InputShapeOption = None,
    output_format: opt.ListFormatOption = opt.ListFormat.text,
    config: opt.ConfigOption = None,
    isolated: opt.IsolatedOption = False,
    no_progress: opt.NoProgressOption = False,
    report: opt.FoldReportOption = None,
    exclude: opt.ExcludeOption = None,
    extend_exclude: opt.ExtendExcludeOption = None,
    respect_gitignore: opt.RespectGitignoreOption = None,
    force_exclude: opt.ForceExcludeOption = None,
    baseline: opt.FoldBaselineOption = None,
) -> None:
    """Fold redundant linear layers into fewer ops, verified with onnxruntime before writing.

    MODELS are files or folders (found as check finds them). A folder folds with
    --in-place, --diff, or -o OUTDIR: each model at its relative path below OUTDIR
    (unchanged models copied). Ends with a summary line.

    Exit 0 when no warning-level finding remains, 1 when some do (they could not be
    folded) or, with --diff, when anything would change; 2 on errors or when verification
    fails (then nothing is written for that model; the others still fold).
    """
    from linlint.checking.settings import DiscoveryChoices
    from linlint.cli.fold_command import run_fold, silencers

    with guard():
        if sum([out is not None, in_place, diff]) != 1:
            raise LinlintError("give exactly one of `-o OUT`, `--in-place` or `--diff`")
        choices = DiscoveryChoices(exclude, extend_exclude or (), respect_gitignore, force_exclude)
        chosen = (models, config, isolated, select, ignore, extend_select, input_shape)
        settings = _settings(*chosen, discovery=choices)
        shapes = opt.parse_shapes(input_shape)
        silence_for = silencers(models, settings, baseline)
    options = _verify_options(inputs, rtol, atol, seed, runs)
    options.update(allow_growth=allow_growth, verify=not no_verify)
    how = (settings, options, output_format, no_progress, shapes, guard)
    code, pages = run_fold(models, out, in_place, diff, *how, silence_for=silence_for)
    if report is not None:
        with guard():
            from linlint.report import write_output
            from linlint.report.fold_html import render as render_page

            write_output(render_page(pages), report)
    raise typer.Exit(code)


# --------------------------------------------------------------------------- entry point


def _version_callback(value: bool) -> None:
    if value:
        from linlint.version import __version__

        typer.echo(f"linlint {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version_callback, is_eager=True, help="Show the version."
        ),
    ] = False,
) -> None:
    """Find, fold and verify stacked linear layers with no nonlinearity between them."""


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point: run the app; never show a traceback unless LINLINT_DEBUG=1."""
    fall_back_to_ascii()
    try:
        app(args=list(argv) if argv is not None else None, prog_name="linlint")
    except SystemExit:
        raise
    except KeyboardInterrupt:
        sys.stderr.write("linlint: interrupted\n")
        sys.exit(130)
    except LinlintError as error:
        error_line(str(error))
        sys.exit(2)
    except Exception as error:
        if debug():
            raise
        error_line(internal_message(error), internal=True)
        sys.exit(2)
