"""``linlint fold`` over files and folders: where each model goes, folding each, the summary.

Paths are found as ``check`` finds them (``linlint.model.find``: excludes, ``.gitignore``).
Where each model found goes:

- ``-o OUT`` with one model file: OUT (an existing folder there is an error);
- ``-o OUTDIR`` with one folder: each model at its path relative to the folder, below OUTDIR
  (created as needed; models already below OUTDIR are skipped, so OUTDIR may lie inside
  the folder); ``-o`` naming an existing file or a ``*.onnx`` path is a usage error;
- ``--in-place``: over each model (only when something folds);
- ``--diff``: nowhere; the change is printed (``linlint.report.graph_diff``).

A model that fails is one line on stderr; the others still fold, and the command exits 2 at
the end. Every write is atomic (``linlint.model.write``): no partial file. The text output
ends with a summary line: ``folded 2 of 3 files; 1 note remains``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from linlint.cli import options as opt
from linlint.cli.errors import error_line, warning_line
from linlint.cli.runner import require_inputs
from linlint.errors import LinlintError

if TYPE_CHECKING:
    from linlint.checking.selection import Settings
    from linlint.report.fold import FoldReport


def targets(
    paths: Sequence[Path], out: Path | None, in_place: bool, settings: Settings
) -> tuple[list[tuple[Path, Path | None]], int]:
    """Each model found under ``paths`` with where it is written (None: nowhere), and how
    many paths failed (their error line printed). Usage errors are ``LinlintError``."""
    from linlint.model.find import find_models

    if out is not None and len(paths) != 1:
        raise LinlintError("`-o OUT` takes one model or one folder; use `--in-place` for several")
    if out is not None and paths[0].is_dir() and (out.suffix.lower() == ".onnx" or out.is_file()):
        raise LinlintError("a folder folds into a folder: give `-o OUTDIR`, not a file", str(out))
    found: list[tuple[Path, Path | None]] = []
    seen: set[Path] = set()
    failed = 0
    for raw in paths:
        try:
            models = find_models(raw, settings.discovery)
        except LinlintError as error:
            error_line(str(error))
            failed += 1
            continue
        if not models and raw.is_dir():
            warning_line(f"{raw}: no .onnx files found (after excludes and .gitignore)")
        for model in models:
            if model in seen or (out is not None and raw.is_dir() and _below(model, out)):
                continue  # an earlier run's output inside the folder is no input
            seen.add(model)
            target: Path | None = None
            if in_place:
                target = model
            elif out is not None and raw.is_dir():
                target = out / model.relative_to(raw)
            elif out is not None:
                target = out
            found.append((model, target))
    return found, failed


def silencers(paths: Sequence[Path], settings: Settings, baseline: Path | None):
    """For each model, what ``check`` would silence in it beyond its own ``linlint:ignore``
    entries (``per-node-ignores``, the baseline: ``--baseline`` else the configuration's):
    ``fold`` leaves those findings' nodes as they are."""
    from linlint.checking.suppression import chosen_baseline, silencer

    hashes, root = chosen_baseline(settings, baseline, paths)
    return lambda model: silencer(settings, model, hashes, root)


def _below(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def _verified(report: FoldReport) -> bool:
    """Not refused by the end-to-end verification (or not verified, ``--no-verify``)."""
    verification = report.result.verification
    return verification is None or verification.ok


def summary(reports: Sequence[FoldReport], files: int, failed: int, diff: bool) -> str:
    """``folded 2 of 3 files; 1 warning, 2 notes remain; 1 failed``."""
    folded = sum(r.result.changed and _verified(r) for r in reports)
    verb = "would fold" if diff else "folded"
    line = f"{verb} {folded} of {files} file{'s' if files != 1 else ''}"
    levels = Counter(f.level for r in reports for f in r.remaining)
    if levels:
        parts = [f"{n} {level}{'s' if n != 1 else ''}" for level, n in sorted(levels.items())]
        line += f"; {', '.join(parts)} remain{'s' if sum(levels.values()) == 1 else ''}"
    suppressed = sum(r.result.suppressed for r in reports)
    if suppressed:
        line += f"; {suppressed} suppressed"
    if failed:
        line += f"; {failed} failed"
    return line + "\n"


def run_fold(
    paths: Sequence[Path],
    out: Path | None,
    in_place: bool,
    diff: bool,
    settings: Settings,
    options: dict[str, Any],
    output_format: opt.ListFormat,
    no_progress: bool,
    shapes: dict[str, tuple[int, ...]],
    guard: Callable[[], AbstractContextManager[None]],
    silence_for: Callable[[Path], Any] = lambda model: None,
) -> tuple[int, list[FoldReport]]:
    """Fold every model ``paths`` name; the exit code and each model's report."""
    with guard():
        found, failed = targets(paths, out, in_place, settings)
    code = 2 if failed else 0
    reports: list[FoldReport] = []
    for model, target in found:
        try:
            with guard():
                require_inputs(model, shapes)
                mkdir = out is not None and target is not None and target != out
                one = (model, target, diff, settings, options, output_format, no_progress)
                silence = silence_for(model)
                code = max(code, fold_one(*one, reports, mkdir=mkdir, silence=silence))
        except typer.Exit as exit_:
            code = max(code, exit_.exit_code)
            failed += 1
    if output_format is opt.ListFormat.text:
        typer.echo(summary(reports, len(found), failed, diff), nl=False)
    return code, reports


def fold_one(
    model, target, diff, settings, options, output_format, no_progress, reports, *, mkdir, silence
) -> int:
    """Fold one file, print its report, write it unless told not to; the exit code."""
    from linlint.cli.progress import stages
    from linlint.folding.options import FoldOptions
    from linlint.folding.pipeline import fold_model
    from linlint.report.fold import FoldReport, render_json, render_text

    in_place = target == model
    with stages(enabled=not no_progress) as stage:
        result = fold_model(
            model,
            FoldOptions(
                codes=settings.enabled_for(model),
                input_shapes=settings.input_shapes or None,
                silence=silence,
                **options,
            ),
            on_stage=stage,
        )
        verified = result.verification
        failed = verified is not None and not verified.ok
        written, removed, changes = None, [], None
        if diff:
            import onnx

            from linlint.report.graph_diff import graph_diff

            changes = graph_diff(onnx.load(model, load_external_data=False), result.model)
        elif not failed and target is not None and (result.changed or not in_place):
            from linlint.model.cleanup import remove_unreferenced_data
            from linlint.model.write import save_model

            stage("Writing")
            if mkdir:
                target.parent.mkdir(parents=True, exist_ok=True)
            removed = save_model(result.model, target, base_dir=result.base_dir)
            written = target
            if in_place and result.base_dir is not None:
                # the old weights file, if the new model and no other model there reads it
                removed += remove_unreferenced_data(result.model, result.base_dir)
    remaining = settings.apply(result.remaining, model)
    render = render_json if output_format is opt.ListFormat.json else render_text
    reports.append(FoldReport(model, result, remaining, written, diff, changes, removed))
    try:
        typer.echo(render(reports[-1]), nl=False)
    except BrokenPipeError:  # the reader left (`| head`): the exit code still says the result
        from linlint.cli.streams import reader_gone

        reader_gone()
    if failed:
        raise LinlintError(f"nothing written: {verified.summary()}", str(model))
    return 1 if settings.fails(remaining) or (diff and result.changed) else 0
