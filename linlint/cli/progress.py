"""A progress bar on stderr for long runs, and silence everywhere else.

The bar shows only when stderr is a terminal, the ``CI`` environment
variable is not set, and there are at least ``MIN_ITEMS`` items: piped
output, CI logs and single-file runs stay clean. rich is imported only when
the bar is shown. Usage::

    with progress(len(paths), "Checking", enabled=not no_progress) as advance:
        for path in paths:
            ...
            advance()
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

MIN_ITEMS = 5


def should_show(total: int, *, stream: TextIO | None = None, enabled: bool = True) -> bool:
    """Whether a bar for ``total`` items belongs on ``stream`` (stderr by default)."""
    stream = sys.stderr if stream is None else stream
    if not enabled or total < MIN_ITEMS or os.environ.get("CI"):
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (OSError, ValueError):
        return False


def _nothing(count: int = 1, *, label: str | None = None) -> None:
    return None


@contextmanager
def progress(
    total: int,
    description: str = "Working",
    *,
    enabled: bool = True,
    stream: TextIO | None = None,
) -> Iterator[Callable[..., None]]:
    """Yield ``advance(count=1, *, label=None)``; it draws a bar only where ``should_show`` says."""
    stream = sys.stderr if stream is None else stream
    if not should_show(total, stream=stream, enabled=enabled):
        yield _nothing
        return

    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    console = Console(file=stream)
    bar = Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[label]}", style="dim"),
        console=console,
        transient=True,
    )
    with bar:
        task = bar.add_task(description, total=total, label="")

        def advance(count: int = 1, *, label: str | None = None) -> None:
            if label is None:
                bar.advance(task, count)
            else:
                bar.update(task, advance=count, label=label)

        yield advance


@contextmanager
def stages(
    *, enabled: bool = True, stream: TextIO | None = None
) -> Iterator[Callable[[str], None]]:
    """Yield ``stage(text)``: a spinner naming the current step of one long job (fold's
    analysis, folding, verification, writing), on a terminal only."""
    stream = sys.stderr if stream is None else stream
    if not should_show(MIN_ITEMS, stream=stream, enabled=enabled):
        yield lambda text: None
        return
    from rich.console import Console

    with Console(file=stream).status("") as status:
        yield lambda text: status.update(text)
