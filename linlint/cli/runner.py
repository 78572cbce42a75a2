"""Checking many model files: find them, check each (in a process pool when there are several),
and gather the findings and the files that failed.

A file that cannot be read or checked is an error line on stderr and an entry
in ``CheckRun.errors``; the other files are still checked. Results keep the
order of the paths given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from linlint.cli.errors import debug, error_line, internal_message
from linlint.errors import LinlintError

if TYPE_CHECKING:
    from linlint.checking.findings import Finding
    from linlint.checking.selection import Settings

    Outcome = tuple[list[Finding] | None, str | None, bool]  # findings, error message, internal


@dataclass
class CheckRun:
    """What checking a set of paths found: findings, the files checked, ``(file, message)``
    for each path or file that failed."""

    findings: list[Finding] = field(default_factory=list)
    checked: list[Path] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)


def check_one(path: str, input_shapes: dict[str, tuple[int, ...]]) -> Outcome:
    """Check one file (in this or a worker process): ``(findings, error message, internal)``."""
    from linlint.checking.checker import check_file

    try:
        return check_file(Path(path), input_shapes=input_shapes or None), None, False
    except LinlintError as error:
        message = str(error) if error.path else f"{path}: {error}"
        return None, message, False
    except Exception as error:
        if debug():
            raise
        return None, f"{path}: {internal_message(error)}", True


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


def _discover(paths: Sequence[Path], run: CheckRun) -> list[Path]:
    """The model files under ``paths``, each once; a path that fails goes to ``run.errors``."""
    from linlint.model.find import discover

    files: list[Path] = []
    seen: set[Path] = set()
    for raw in paths:
        try:
            found = discover([raw])
        except LinlintError as error:
            run.errors.append((str(raw), str(error)))
            error_line(str(error))
            continue
        for found_file in found:
            if found_file not in seen:
                seen.add(found_file)
                files.append(found_file)
    return files


def check_paths(
    paths: Sequence[Path], settings: Settings, *, jobs: int, show_progress: bool
) -> CheckRun:
    """Check the model files under ``paths`` with ``settings``; the findings each file keeps."""
    run = CheckRun()
    files = _discover(paths, run)
    results = run_checks(files, settings.input_shapes, jobs=jobs, show_progress=show_progress)
    for path, (raw_findings, message, internal) in zip(files, results, strict=True):
        if message is not None:
            run.errors.append((str(path), message))
            error_line(message, internal=internal)
            continue
        run.checked.append(path)
        run.findings.extend(settings.apply(raw_findings or [], path))
    return run
