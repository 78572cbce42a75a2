"""The one exception type that reaches users: a single line that says what is wrong."""

from __future__ import annotations


class LinlintError(Exception):
    """A user-facing error: bad input, bad configuration, refused fold.

    The CLI prints ``str(error)`` on one line to stderr and exits 2; nothing
    else in linlint prints tracebacks for expected failures.
    """

    def __init__(self, message: str, path: str | None = None) -> None:
        self.path = path
        text = f"{path}: {message}" if path else message
        super().__init__(" ".join(text.split()))
