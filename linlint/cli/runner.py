"""Checking many model files: find them, check each (in a process pool when there are several),
and gather the findings and the files that failed.

A file that cannot be read or checked is an error line on stderr and an entry
in ``CheckRun.errors``; the other files are still checked. A folder that holds no
model file (after the excludes, ``linlint.model.find``) is a warning line, not an
error. Results keep the order of the paths given.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from linlint.cli.errors import debug, error_line, internal_message, warning_line
from linlint.errors import LinlintError

if TYPE_CHECKING:
    from linlint.checking.findings import Finding
    from linlint.checking.selection import Settings
    from linlint.model.find import FileDiscovery

    # findings, error message, internal, the model's input names, its linlint:ignore entries
    Outcome = tuple[list[Finding] | None, str | None, bool, list[str], dict]


@dataclass
class CheckRun:
    """What checking a set of paths found: findings, the files checked, ``(file, message)``
    for each path or file that failed."""

    findings: list[Finding] = field(default_factory=list)
    checked: list[Path] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    #: Findings silenced on purpose (``linlint.checking.suppression``), not in ``findings``.
    suppressed: int = 0


def check_one(path: str, input_shapes: dict[str, tuple[int, ...]]) -> Outcome:
    """Check one file (in this or a worker process): ``(findings, error message, internal,
    input names)``."""
    from linlint.checking.checker import check_file_details

    try:
        findings, inputs, ignores = check_file_details(
            Path(path), input_shapes=input_shapes or None
        )
        return findings, None, False, inputs, ignores
    except LinlintError as error:
        message = str(error) if error.path else f"{path}: {error}"
        return None, message, False, [], {}
    except Exception as error:
        if debug():
            raise
        return None, f"{path}: {internal_message(error)}", True, [], {}


def _star_check(args: tuple[str, dict]) -> Outcome:
    return check_one(*args)


def run_checks(
    files: Sequence[Path],
    input_shapes: dict[str, tuple[int, ...]],
    *,
    jobs: int,
    show_progress: bool = True,
) -> list[Outcome]:
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


def _discover(paths: Sequence[Path], run: CheckRun, discovery: FileDiscovery) -> list[Path]:
    """The model files under ``paths``, each once; a path that fails goes to ``run.errors``,
    a folder without models is a warning (as ruff: nothing to check is no error)."""
    from linlint.model.find import find_models

    files: list[Path] = []
    seen: set[Path] = set()
    for raw in paths:
        try:
            found = find_models(raw, discovery)
        except LinlintError as error:
            run.errors.append((str(raw), str(error)))
            error_line(str(error))
            continue
        if not found and raw.is_dir():
            warning_line(f"{raw}: no .onnx files found (after excludes and .gitignore)")
        for found_file in found:
            if found_file not in seen:
                seen.add(found_file)
                files.append(found_file)
    return files


def check_paths(
    paths: Sequence[Path],
    settings: Settings,
    *,
    jobs: int,
    show_progress: bool,
    shape_names: Sequence[str] = (),
) -> CheckRun:
    """Check the model files under ``paths`` with ``settings``; the findings each file keeps.

    ``shape_names`` (the inputs ``--input-shape`` names) must each be an input of some model
    checked: one that none has is a ``LinlintError`` listing their inputs (a shape from the
    configuration applies to the models that have that input, and needs none).
    """
    from linlint.checking.suppression import unsuppressed

    run = CheckRun()
    files = _discover(paths, run, settings.discovery)
    results = run_checks(files, settings.input_shapes, jobs=jobs, show_progress=show_progress)
    inputs: list[tuple[str, list[str]]] = []
    for path, (raw_findings, message, internal, names, ignores) in zip(files, results, strict=True):
        if message is not None:
            run.errors.append((str(path), message))
            error_line(message, internal=internal)
            continue
        run.checked.append(path)
        inputs.append((str(path), names))
        left = unsuppressed(settings.apply(raw_findings or [], path), ignores, settings, path)
        run.findings.extend(left.kept)
        run.suppressed += left.count
    missing = [n for n in shape_names if inputs and not any(n in i for _, i in inputs)]
    if missing:
        from linlint.model.graphs import unknown_input_message

        where = inputs[0][0] if len(inputs) == 1 else None
        raise LinlintError(unknown_input_message(missing, [i for _, i in inputs]), where)
    return run


def require_inputs(model: Path, shapes: dict[str, tuple[int, ...]]) -> None:
    """A name ``--input-shape`` gives that is no input of ``model`` is an error (``fold``)."""
    if not shapes:
        return
    from linlint.model.graphs import input_names, unknown_input_message
    from linlint.model.load import load_model

    names = input_names(load_model(model).graph)
    missing = [name for name in shapes if name not in names]
    if missing:
        raise LinlintError(unknown_input_message(missing, [names]), str(model))


def apply_baseline(
    run: CheckRun,
    settings: Settings,
    root: Path,
    baseline: Path | None = None,
    write: Path | None = None,
) -> CheckRun:
    """``write``: record the run's findings there as the baseline (then apply it); else
    ``baseline`` (else the settings'), if any, silences the findings it holds
    (``linlint.checking.suppression``); fingerprints are relative to ``root``."""
    from linlint.checking.suppression import baseline_text, read_baseline, without_baseline

    where = write or baseline or settings.baseline
    if where is None:
        return run
    if write is not None:
        from linlint.report import write_output

        write_output(baseline_text(run.findings, root), write)
        noun = "finding" if len(run.findings) == 1 else "findings"
        sys.stderr.write(f"linlint: {write}: baseline of {len(run.findings)} {noun} written\n")
    left = without_baseline(run.findings, read_baseline(where), root)
    run.findings, run.suppressed = left.kept, run.suppressed + left.count
    return run


def exit_code(
    settings: Settings, findings: Sequence[Finding], *, exit_zero: bool, errors: int
) -> int:
    """2 when some file failed, else 1 when a finding reaches ``fail_on`` (unless ``exit_zero``)."""
    if errors:
        return 2
    if exit_zero:
        return 0
    return 1 if settings.fails(findings) else 0
