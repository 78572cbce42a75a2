"""LL900 io-error: a file that could not be read or checked, as a record among the findings.

Not a rule: nothing selects or ignores it, and it needs no model. The JSON report
lists each such file as a record of the same shape as a finding (ruff does the
same with its E902), so a consumer of the array sees every file that was not
checked: ``code`` ``LL900``, ``name`` ``io-error``, ``level`` ``error``, the
``message`` (stderr keeps its line too), the ``file``, an empty ``graph``, ``nodes`` and
``origins``, and ``fix`` and ``region`` null.
"""

from __future__ import annotations

CODE = "LL900"
NAME = "io-error"
LEVEL = "error"
HEADER = f"{CODE} {NAME} (level: {LEVEL})"  # what `linlint explain LL900` prints first
DOC = """\
A file that could not be read or checked (a pseudo-rule: it reports the run, not the model).

## What it reports

A path that does not exist, a file that cannot be read, a file that is not an ONNX model
(a truncated download, a Git LFS pointer that was never pulled, another file type), a
model this onnx is too old for, external data that is missing or out of bounds.

## Where it shows

One line on stderr (`linlint: error: PATH: why`), the summary line of the text report,
an `error` annotation with `--format github`, a tool execution notification in SARIF,
and with `--format json` a record in the array, of the same shape as a finding:
`code` LL900, `name` io-error, `level` error, `fix` null. The run exits 2.

## The fix

What the message says: the path, `git lfs pull`, a newer onnx, the missing data file.
"""


def message_without_path(file: str, message: str) -> str:
    """The error message, less the ``FILE: `` it starts with (the record has a ``file``)."""
    return message.removeprefix(f"{file}: ")


def record(file: str, message: str) -> dict:
    """The JSON record of one file that could not be checked."""
    return {
        "code": CODE,
        "name": NAME,
        "level": LEVEL,
        "message": message_without_path(file, message),
        "file": file,
        "graph": "",
        "nodes": [],
        "fix": None,
        "origins": [],
        "region": None,
    }
