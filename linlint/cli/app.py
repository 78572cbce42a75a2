"""The ``linlint`` command: ``check``, ``rules``, ``explain`` and ``verify`` (ruff's CLI contract).

Exit codes: 0 clean, 1 findings at or above ``--fail-on``, 2 usage, config,
input or internal errors (one line on stderr, no traceback unless
``LINLINT_DEBUG=1``).

Start-up stays light: this module imports only typer (its public API; typer
brings pydantic to coerce options) and linlint's small modules; onnx, numpy,
onnxruntime and rich are imported inside the commands that use them. A new
command reuses the shared pieces:

* option types ``PathsArg``, ``SelectOption``, ``IgnoreOption``,
  ``ExtendSelectOption``, ``FailOnOption``, ``InputShapeOption``,
  ``FormatOption``, ``OutputOption``, ``ConfigOption``, ``IsolatedOption``,
  ``JobsOption``, ``NoProgressOption``;
* ``resolve_settings(...)`` → ``Settings`` (config file + flags: enabled
  rules per file, levels, fail-on, input shapes);
* ``guard()`` turns ``LinlintError`` and unexpected exceptions into the
  one-line error and exit 2; ``error_line(message)`` prints such a line;
* ``emit_report(...)`` renders findings and writes them (stdout or
  ``--output``, atomically); ``exit_code(...)`` applies ``--exit-zero``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from linlint.errors import LinlintError

if TYPE_CHECKING:
    from linlint.checking.findings import Finding
    from linlint.checking.selection import Settings

DEBUG_ENV = "LINLINT_DEBUG"


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


class OutputFormat(str, Enum):
    text = "text"
    json = "json"
    sarif = "sarif"
    github = "github"


class ListFormat(str, Enum):
    text = "text"
    json = "json"


class Level(str, Enum):
    note = "note"
    warning = "warning"
    error = "error"


# --------------------------------------------------------------------------- errors


def _debug() -> bool:
    return os.environ.get(DEBUG_ENV, "") not in ("", "0")


def error_line(message: str, *, internal: bool = False) -> None:
    """Print ``linlint: error: MESSAGE`` (or ``internal error``) as one line on stderr."""
    kind = "internal error" if internal else "error"
    text = " ".join(str(message).split())
    sys.stderr.write(f"linlint: {kind}: {text}\n")
    sys.stderr.flush()


def internal_message(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


@contextmanager
def guard() -> Iterator[None]:
    """Run a command body: ``LinlintError`` and unexpected exceptions become one line and exit 2."""
    try:
        yield
    except (typer.Exit, typer.Abort, KeyboardInterrupt):
        raise
    except LinlintError as error:
        error_line(str(error))
        raise typer.Exit(2) from None
    except Exception as error:
        if _debug():
            raise
        error_line(internal_message(error), internal=True)
        raise typer.Exit(2) from None


# --------------------------------------------------------------------------- option parsing


def _codes_callback(value: list[str] | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    from linlint.checking.selection import parse_codes

    try:
        return parse_codes(value)
    except LinlintError as error:
        raise typer.BadParameter(str(error)) from None


def parse_shapes(values: Sequence[str] | None) -> dict[str, tuple[int, ...]]:
    """``["x=1x3x224x224", ...]`` as ``{"x": (1, 3, 224, 224)}`` (a later name wins)."""
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


PathsArg = Annotated[
    list[Path],
    typer.Argument(
        metavar="PATHS", help="ONNX model files, or folders searched recursively for *.onnx."
    ),
]
SelectOption = Annotated[
    list[str] | None,
    typer.Option(
        "--select",
        metavar="CODES",
        callback=_codes_callback,
        help="Enable only these rules: comma-separated codes or prefixes (LL001, LL00, LL, ALL).",
    ),
]
IgnoreOption = Annotated[
    list[str] | None,
    typer.Option(
        "--ignore",
        metavar="CODES",
        callback=_codes_callback,
        help="Disable these rules (codes or prefixes, comma-separated).",
    ),
]
ExtendSelectOption = Annotated[
    list[str] | None,
    typer.Option(
        "--extend-select",
        metavar="CODES",
        callback=_codes_callback,
        help="Enable these rules on top of the selection (codes or prefixes).",
    ),
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
InputShapeOption = Annotated[
    list[str] | None,
    typer.Option(
        "--input-shape",
        metavar="NAME=DIMS",
        callback=_shapes_callback,
        help="Shape of a graph input with symbolic dims, e.g. input=1x3x224x224 (repeatable).",
    ),
]
FormatOption = Annotated[
    OutputFormat,
    typer.Option("--format", "--output-format", case_sensitive=False, help="Report format."),
]
OutputOption = Annotated[
    Path | None,
    typer.Option("--output", "-o", metavar="FILE", help="Write the report to FILE (atomically)."),
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
IsolatedOption = Annotated[
    bool,
    typer.Option("--isolated", help="Ignore all configuration files."),
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


def resolve_settings(
    paths: Sequence[str | Path],
    *,
    config: Path | None = None,
    isolated: bool = False,
    select: tuple[str, ...] | None = None,
    ignore: tuple[str, ...] | None = None,
    extend_select: tuple[str, ...] | None = None,
    fail_on: str | Level | None = None,
    input_shapes: dict[str, tuple[int, ...]] | None = None,
) -> Settings:
    """Config file (nearest pyproject.toml, or ``config``) overlaid by the command-line flags."""
    from linlint.checking.config import discover_config
    from linlint.checking.selection import Layer, Settings, resolve_enabled

    cfg = discover_config([Path(p) for p in paths], explicit=config, isolated=isolated)
    cli_layer = Layer(
        tuple(select) if select is not None else None,
        tuple(ignore or ()),
        tuple(extend_select or ()),
    )
    level = fail_on.value if isinstance(fail_on, Level) else fail_on
    return Settings(
        enabled=resolve_enabled([cfg.layer, cli_layer]),
        fail_on=level or cfg.fail_on or "warning",
        levels=cfg.levels,
        per_file_ignores=cfg.per_file_ignores,
        base=cfg.base,
        input_shapes={**cfg.input_shapes, **(input_shapes or {})},
    )


def emit_report(
    fmt: OutputFormat | str,
    findings: Sequence[Finding],
    *,
    output: Path | None = None,
    files: Sequence[str | Path] | None = None,
    errors: Sequence[tuple[str, str]] = (),
) -> None:
    """Render the report and write it to ``output`` (atomically) or stdout."""
    from linlint.report import render, write_output

    name = fmt.value if isinstance(fmt, OutputFormat) else fmt
    color = output is None and name == "text" and _stdout_is_terminal()
    text = render(name, findings, root=Path.cwd(), files=files, errors=errors, color=color)
    write_output(text, output)


def _stdout_is_terminal() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def exit_code(
    settings: Settings, findings: Sequence[Finding], *, exit_zero: bool, errors: int
) -> int:
    """2 when some file failed, else 1 when a finding reaches ``fail_on`` (unless ``exit_zero``)."""
    if errors:
        return 2
    if exit_zero:
        return 0
    return 1 if settings.fails(findings) else 0


# --------------------------------------------------------------------------- check


def check_one(
    path: str, input_shapes: dict[str, tuple[int, ...]]
) -> tuple[list[Finding] | None, str | None, bool]:
    """Check one file (in this or a worker process): ``(findings, error message, internal)``."""
    from linlint.checking.checker import check_file

    try:
        return check_file(Path(path), input_shapes=input_shapes or None), None, False
    except LinlintError as error:
        message = str(error) if error.path else f"{path}: {error}"
        return None, message, False
    except Exception as error:
        if _debug():
            raise
        return None, f"{path}: {internal_message(error)}", True


def _star_check(args: tuple[str, dict]) -> tuple[list[Finding] | None, str | None, bool]:
    return check_one(*args)


def run_checks(
    files: Sequence[Path],
    input_shapes: dict[str, tuple[int, ...]],
    *,
    jobs: int,
    show_progress: bool = True,
) -> list[tuple[list[Finding] | None, str | None, bool]]:
    """Check every file, in a process pool when there are several files and ``jobs > 1``.

    Results come back in the order of ``files``.
    """
    from linlint.cli.progress import progress

    tasks = [(str(path), input_shapes) for path in files]
    results = []
    with progress(len(tasks), "Checking", enabled=show_progress) as advance:
        workers = min(jobs, len(tasks))
        if workers <= 1:
            for task in tasks:
                results.append(_star_check(task))
                advance(label=Path(task[0]).name)
            return results
        from concurrent.futures import ProcessPoolExecutor

        chunksize = max(1, min(16, len(tasks) // (workers * 8)))
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for task, result in zip(
                tasks, pool.map(_star_check, tasks, chunksize=chunksize), strict=True
            ):
                results.append(result)
                advance(label=Path(task[0]).name)
    return results


@app.command()
def check(
    paths: PathsArg,
    output_format: FormatOption = OutputFormat.text,
    output: OutputOption = None,
    select: SelectOption = None,
    ignore: IgnoreOption = None,
    extend_select: ExtendSelectOption = None,
    fail_on: FailOnOption = None,
    exit_zero: ExitZeroOption = False,
    input_shape: InputShapeOption = None,
    jobs: JobsOption = None,
    config: ConfigOption = None,
    isolated: IsolatedOption = False,
    no_progress: NoProgressOption = False,
) -> None:
    """Check ONNX models for linear redundancy and report the findings.

    Exit 0 when no finding reaches --fail-on, 1 when one does, 2 on errors.
    """
    with guard():
        from linlint.model.find import discover

        settings = resolve_settings(
            paths,
            config=config,
            isolated=isolated,
            select=select,
            ignore=ignore,
            extend_select=extend_select,
            fail_on=fail_on,
            input_shapes=parse_shapes(input_shape),
        )
        files: list[Path] = []
        seen: set[Path] = set()
        errors: list[tuple[str, str]] = []
        for raw in paths:
            try:
                found = discover([raw])
            except LinlintError as error:
                errors.append((str(raw), str(error)))
                error_line(str(error))
                continue
            for found_file in found:
                if found_file not in seen:
                    seen.add(found_file)
                    files.append(found_file)

        results = run_checks(
            files,
            settings.input_shapes,
            jobs=jobs or os.cpu_count() or 1,
            show_progress=not no_progress,
        )
        findings: list[Finding] = []
        checked: list[Path] = []
        for path, (raw_findings, message, internal) in zip(files, results, strict=True):
            if message is not None:
                errors.append((str(path), message))
                error_line(message, internal=internal)
                continue
            checked.append(path)
            findings.extend(settings.apply(raw_findings or [], path))
        emit_report(output_format, findings, output=output, files=checked, errors=errors)
    raise typer.Exit(exit_code(settings, findings, exit_zero=exit_zero, errors=len(errors)))


# --------------------------------------------------------------------------- rules / explain


@app.command()
def rules(
    output_format: Annotated[
        ListFormat, typer.Option("--format", "--output-format", case_sensitive=False)
    ] = ListFormat.text,
) -> None:
    """List every rule: code, name, default level and summary."""
    with guard():
        from linlint.report import doc_summary
        from linlint.rules import ALL_RULES

        if output_format is ListFormat.json:
            import json

            rows = [
                {
                    "code": r.code,
                    "name": r.name,
                    "level": r.level,
                    "summary": r.summary,
                    "description": doc_summary(r.doc),
                }
                for r in ALL_RULES
            ]
            typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
            return
        header = ("CODE", "NAME", "LEVEL", "SUMMARY")
        table = [header] + [(r.code, r.name, r.level, r.summary) for r in ALL_RULES]
        widths = [max(len(row[i]) for row in table) for i in range(3)]
        for row in table:
            cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
            typer.echo("  ".join([*cells, row[3]]).rstrip())


@app.command()
def explain(
    code: Annotated[str, typer.Argument(metavar="CODE", help="A rule code (LL001) or name.")],
) -> None:
    """Print one rule's documentation."""
    with guard():
        from linlint.rules import ALL_RULES, get_rule

        rule = get_rule(code.strip()) or next(
            (r for r in ALL_RULES if r.name == code.strip().lower()), None
        )
        if rule is None:
            known = ", ".join(r.code for r in ALL_RULES)
            raise LinlintError(f"unknown rule '{code}' (known: {known}; see `linlint rules`)")
        typer.echo(f"{rule.code} {rule.name} (default level: {rule.level})")
        typer.echo("")
        typer.echo(rule.doc)


app.command("rule", hidden=True)(explain)


# --------------------------------------------------------------------------- verify


@app.command()
def verify(
    original: Annotated[Path, typer.Argument(metavar="ORIGINAL", help="The reference model.")],
    candidate: Annotated[
        Path, typer.Argument(metavar="CANDIDATE", help="The model to compare with it.")
    ],
    inputs: Annotated[
        Path | None,
        typer.Option("--inputs", metavar="FILE.npz", help="Run on these arrays (by input name)."),
    ] = None,
    rtol: Annotated[
        float | None,
        typer.Option(
            metavar="FLOAT",
            min=0.0,
            help="Relative tolerance, replacing the noise bound. [default: 16× the original's "
            "own noise, per element]",
        ),
    ] = None,
    atol: Annotated[
        float | None,
        typer.Option(
            metavar="FLOAT",
            min=0.0,
            help="Absolute tolerance, replacing the noise bound. [default: 16× the original's "
            "own noise, per element]",
        ),
    ] = None,
    seed: Annotated[int, typer.Option(metavar="INT", help="Seed of the random inputs.")] = 0,
    runs: Annotated[
        int, typer.Option(metavar="N", min=1, help="Sets of random inputs to compare on.")
    ] = 1,
    benchmark: Annotated[
        bool, typer.Option("--benchmark", help="Also time both models (median latency).")
    ] = False,
    input_shape: InputShapeOption = None,
    output_format: Annotated[
        ListFormat, typer.Option("--format", "--output-format", case_sensitive=False)
    ] = ListFormat.text,
) -> None:
    """Run two models on the same inputs with onnxruntime and compare every output.

    Exit 0 when all outputs are equal within tolerance, 1 when they differ, 2 on errors.
    """
    with guard():
        from linlint.verification.compare import verify as run_verify

        result = run_verify(
            original,
            candidate,
            inputs=inputs,
            rtol=rtol,
            atol=atol,
            seed=seed,
            runs=runs,
            benchmark=benchmark,
            input_shapes=parse_shapes(input_shape) or None,
        )
        if output_format is ListFormat.json:
            typer.echo(_verification_json(result))
        else:
            typer.echo(_verification_text(result), nl=False)
    raise typer.Exit(0 if result.ok else 1)


def _verification_text(result) -> str:
    lines = []
    for c in result.outputs:
        shape = "x".join(str(d) for d in c.shape) if c.shape else "scalar"
        if c.problem:
            lines.append(f"  {c.name} [{shape}]: {c.problem}  DIFFERS")
            continue
        verdict = "ok" if c.ok else "DIFFERS"
        if c.exact:
            judged = "exact"
        elif c.allowed is None:
            judged = f"given atol {c.atol:.1e}, rtol {c.rtol:.1e}"
        else:
            judged = f"{c.ratio:.2g}× the original's noise {c.noise:.1e}, {c.allowed:g}× allowed"
        lines.append(
            f"  {c.name} [{shape}]: max abs {c.max_abs:.2e}, max rel {c.max_rel:.2e} "
            f"({judged})  {verdict}"
        )
    if result.latency_original_ms is not None and result.latency_candidate_ms is not None:
        ratio = result.latency_candidate_ms / result.latency_original_ms
        lines.append(
            f"latency (median): original {result.latency_original_ms:.3f} ms, "
            f"candidate {result.latency_candidate_ms:.3f} ms, ratio {ratio:.2f} "
            f"(candidate/original)"
        )
    lines.append(result.summary())
    return "\n".join(lines) + "\n"


def _verification_json(result) -> str:
    import json
    import math

    def number(value: float | None) -> float | str | None:
        if value is None or math.isfinite(value):
            return value
        return str(value)

    data = {
        "ok": result.ok,
        "runs": result.runs,
        "problem": result.problem,
        "outputs": [
            {
                "name": c.name,
                "shape": list(c.shape),
                "max_abs": number(c.max_abs),
                "max_rel": number(c.max_rel),
                "atol": c.atol,
                "rtol": c.rtol,
                "noise": number(c.noise),
                "ratio": number(c.ratio),
                "allowed": c.allowed,
                "dtype": c.dtype,
                "ok": c.ok,
                "problem": c.problem,
            }
            for c in result.outputs
        ],
        "skipped": list(result.skipped),
        "latency_original_ms": result.latency_original_ms,
        "latency_candidate_ms": result.latency_candidate_ms,
    }
    return json.dumps(data, indent=2)


# --------------------------------------------------------------------------- fold


@app.command()
def fold(
    models: Annotated[
        list[Path],
        typer.Argument(
            metavar="MODELS", help="ONNX model file(s); several only with --in-place/--diff."
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option("-o", "--output", metavar="OUT", help="Write the folded model here."),
    ] = None,
    in_place: Annotated[
        bool, typer.Option("--in-place", help="Overwrite MODEL (only after verification).")
    ] = False,
    diff: Annotated[
        bool, typer.Option("--diff", help="Print what would change; write nothing.")
    ] = False,
    select: SelectOption = None,
    ignore: IgnoreOption = None,
    extend_select: ExtendSelectOption = None,
    allow_growth: Annotated[
        bool,
        typer.Option("--allow-growth", help="Also fold LL002 chains, though MACs grow."),
    ] = False,
    no_verify: Annotated[
        bool, typer.Option("--no-verify", help="Skip the onnxruntime check (not advised).")
    ] = False,
    inputs: Annotated[
        Path | None,
        typer.Option("--inputs", metavar="FILE.npz", help="Verify on these arrays."),
    ] = None,
    rtol: Annotated[float | None, typer.Option(metavar="FLOAT", min=0.0)] = None,
    atol: Annotated[float | None, typer.Option(metavar="FLOAT", min=0.0)] = None,
    seed: Annotated[int, typer.Option(metavar="INT", help="Seed of the random inputs.")] = 0,
    runs: Annotated[
        int, typer.Option(metavar="N", min=1, help="Sets of random inputs to verify on.")
    ] = 2,
    input_shape: InputShapeOption = None,
    output_format: Annotated[
        ListFormat, typer.Option("--format", "--output-format", case_sensitive=False)
    ] = ListFormat.text,
    config: ConfigOption = None,
    isolated: IsolatedOption = False,
    no_progress: NoProgressOption = False,
) -> None:
    """Fold redundant linear layers into fewer ops, verified with onnxruntime before writing.

    Exit 0 when no warning-level finding remains, 1 when some do (they could not be
    folded), 2 on errors or when verification fails (then nothing is written).
    """
    with guard():
        if sum([out is not None, in_place, diff]) != 1:
            raise LinlintError("give exactly one of -o OUT, --in-place or --diff")
        if out is not None and len(models) != 1:
            raise LinlintError("-o OUT takes one model; use --in-place for several")
        settings = resolve_settings(
            models,
            config=config,
            isolated=isolated,
            select=select,
            ignore=ignore,
            extend_select=extend_select,
            input_shapes=parse_shapes(input_shape),
        )
    options = dict(
        allow_growth=allow_growth,
        verify=not no_verify,
        inputs=inputs,
        rtol=rtol,
        atol=atol,
        seed=seed,
        runs=runs,
    )
    code = 0
    for model in models:
        try:
            with guard():
                target = model if in_place else out
                code = max(
                    code,
                    _fold_one(model, target, diff, settings, options, output_format, no_progress),
                )
        except typer.Exit as exit_:
            code = max(code, exit_.exit_code)
    raise typer.Exit(code)


def _fold_one(model, target, diff, settings, options, output_format, no_progress) -> int:
    """Fold one file, print its report, write it unless told not to; the exit code."""
    from linlint.cli.progress import stages
    from linlint.folding.pipeline import FoldOptions, fold_model

    if model.is_dir():
        raise LinlintError("is a directory; fold takes model files", str(model))
    if not model.exists():
        raise LinlintError("no such file or directory", str(model))
    in_place = target == model
    with stages(enabled=not no_progress) as stage:
        result = fold_model(
            model,
            FoldOptions(
                codes=settings.enabled_for(model),
                input_shapes=settings.input_shapes or None,
                **options,
            ),
            on_stage=stage,
        )
        verified = result.verification
        failed = verified is not None and not verified.ok
        written = None
        if not diff and not failed and target is not None and (result.changed or not in_place):
            from linlint.model.cleanup import remove_unreferenced_data
            from linlint.model.write import save_model

            stage("Writing")
            save_model(result.model, target, base_dir=result.base_dir)
            written = target
            if in_place and result.base_dir is not None:
                # the old weights file, if the new model and no other model there reads it
                remove_unreferenced_data(result.model, result.base_dir)
    remaining = settings.apply(result.remaining, model)
    if output_format is ListFormat.json:
        typer.echo(_fold_json(result, remaining, written))
    else:
        typer.echo(_fold_text(model, result, remaining, written, diff), nl=False)
    if failed:
        raise LinlintError(f"nothing written: {verified.summary()}", str(model))
    return 1 if settings.fails(remaining) else 0


def _fold_text(model: Path, result, remaining, written, diff: bool) -> str:
    lines = []
    for r in result.folded:
        where = f"{r.graph}: " if r.graph else ""
        after = " + ".join(r.ops_after) if r.ops_after else "(removed)"
        cost = ""
        if r.macs_before or r.macs_after:
            cost = (
                f"  MACs {r.macs_before:,} → {r.macs_after:,},"
                f" params {r.params_before:,} → {r.params_after:,}"
            )
        lines.append(
            f"{model}: {r.code} folded {where}{' → '.join(r.nodes)}: "
            f"{_op_counts(r.ops_before)} → {after}{cost}"
        )
    for reason in result.refused:
        lines.append(f"{model}: not folded: {reason}")
    b, a = result.before, result.after
    if result.changed:
        lines.append(
            f"{model}: parametric ops {b.param_ops} → {a.param_ops}, nodes {b.nodes} → {a.nodes},"
            f" MACs {b.macs:,} → {a.macs:,}, params {b.params:,} → {a.params:,}"
        )
    if result.verification is not None:
        lines.append(f"{model}: {result.verification.summary()}")
    elif result.changed:
        lines.append("not verified (--no-verify)")
    for f in remaining:
        lines.append(f"{model}: {f.code} [{f.level}] {f.name}: {f.message} (remains)")
    if not result.changed:
        lines.append(f"{model}: nothing to fold")
    elif diff:
        lines.append(f"{model}: --diff, nothing written")
    elif written is not None:
        lines.append(f"{model}: wrote {written}")
    return "\n".join(lines) + "\n"


def _op_counts(ops) -> str:
    """``Conv, BatchNormalization, Conv`` as ``2 Conv + BatchNormalization``."""
    counts: dict[str, int] = {}
    for op in ops:
        counts[op] = counts.get(op, 0) + 1
    return " + ".join(f"{n} {op}" if n > 1 else op for op, n in counts.items())


def _fold_json(result, remaining, written) -> str:
    import json
    from dataclasses import asdict

    verification = None
    if result.verification is not None:
        verification = {"ok": result.verification.ok, "summary": result.verification.summary()}
    data = {
        "folded": [asdict(r) for r in result.folded],
        "refused": list(result.refused),
        "before": asdict(result.before),
        "after": asdict(result.after),
        "verification": verification,
        "remaining": [f.to_dict() for f in remaining],
        "written": str(written) if written is not None else None,
    }
    return json.dumps(data, indent=2)


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
        if _debug():
            raise
        error_line(internal_message(error), internal=True)
        sys.exit(2)
