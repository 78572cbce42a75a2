"""How the command line shows an error: one line on stderr, a traceback only in debug mode.

Debug mode is the ``LINLINT_DEBUG`` environment variable set to anything but
``0``: then unexpected exceptions propagate with their traceback.
"""

from __future__ import annotations

import os
import sys

DEBUG_ENV = "LINLINT_DEBUG"


def debug() -> bool:
    """Whether unexpected exceptions should propagate (``LINLINT_DEBUG`` is set)."""
    return os.environ.get(DEBUG_ENV, "") not in ("", "0")


def error_line(message: str, *, internal: bool = False) -> None:
    """Print ``linlint: error: MESSAGE`` (or ``internal error``) as one line on stderr."""
    _line("internal error" if internal else "error", message)


def warning_line(message: str) -> None:
    """Print ``linlint: warning: MESSAGE`` as one line on stderr."""
    _line("warning", message)


def _line(kind: str, message: str) -> None:
    """One line on stderr, control characters escaped (``linlint.report.escape``); nothing
    when stderr is gone."""
    from linlint.report.escape import printable

    text = printable(" ".join(str(message).split()))
    try:
        sys.stderr.write(f"linlint: {kind}: {text}\n")
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):
        pass


def internal_message(error: BaseException) -> str:
    """An unexpected exception as ``Type: message`` (or just ``Type``)."""
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
