"""What the command's output streams can take: colour, their encoding, a reader gone.

*Colour* (``use_color``), as most tools agree: ``--color always`` or ``never`` decide;
with ``auto`` (the default) a non-empty ``NO_COLOR`` turns it off, else a non-empty
``FORCE_COLOR`` (other than ``0`` or ``false``) turns it on, else ``TERM=dumb`` turns
it off, else the stream being a terminal turns it on.

*Encoding* (``fall_back_to_ascii``): on a stream that cannot encode ``→`` or ``≥``
(``PYTHONIOENCODING=cp1252``, a redirected stdout on Windows) those characters are
written as ASCII (``->``, ``>=``; ``linlint.report.escape``) rather than raising, unless
the user chose an error handler of their own (``PYTHONIOENCODING=cp1252:replace``).
JSON on such a stream is written with ``\\u`` escapes instead, so it stays the same data.

*A reader gone* (``reader_gone``): when ``linlint rules | head -1`` closes the pipe, the
next write raises ``BrokenPipeError``; stdout is then pointed at the null device (so
Python's last flush cannot fail too) and the command ends quietly, as ``check | head``.
"""

from __future__ import annotations

import os
import sys
from typing import TextIO


def use_color(choice: str, stream: TextIO | None = None, *, to_file: bool = False) -> bool:
    """Whether to colour output on ``stream`` (stdout by default): ``choice`` is ``auto``,
    ``always`` or ``never`` (or an enum of those values); ``auto`` never colours a report
    written ``to_file``."""
    choice = getattr(choice, "value", choice)
    if choice in ("always", "never"):
        return choice == "always"
    if to_file:
        return False
    if os.environ.get("NO_COLOR", ""):
        return False
    if os.environ.get("FORCE_COLOR", "").strip().lower() not in ("", "0", "false"):
        return True
    if os.environ.get("TERM", "") == "dumb":
        return False
    stream = sys.stdout if stream is None else stream
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


_DEFAULT_HANDLERS = ("strict", "backslashreplace")  # Python's own, for stdout and stderr


def fall_back_to_ascii(*streams: TextIO) -> None:
    """Let each stream write what its encoding cannot as ASCII (``->`` for ``→``) instead of
    raising ``UnicodeEncodeError``; a stream with an error handler other than Python's
    defaults keeps it."""
    from linlint.report.escape import register_fallback

    handler = register_fallback()
    for stream in streams or (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is None or getattr(stream, "errors", None) not in _DEFAULT_HANDLERS:
            continue
        try:
            reconfigure(errors=handler)
        except (ValueError, OSError):
            continue


def stdout_encoding() -> str | None:
    """The encoding of stdout, where it says one."""
    return getattr(sys.stdout, "encoding", None)


def reader_gone() -> None:
    """After a ``BrokenPipeError`` on stdout: send what is left to the null device."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def encodable(text: str, fmt: str, output: object = None) -> str:
    """A report for stdout (``output`` None) that its encoding can write: JSON (``fmt`` json
    or sarif) with ``\\u`` escapes where it cannot take a character; other text as it is (the
    ASCII fallback handles it)."""
    if output is None and fmt in ("json", "sarif"):
        from linlint.report.escape import json_for_encoding

        return json_for_encoding(text, stdout_encoding())
    return text
