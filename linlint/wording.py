"""How messages name things, in one place.

Inside a message (a finding, a reason, an error, a warning), a name the model or the
user chose is quoted with backticks, as ruff quotes identifiers (`` `os` imported but
unused``): node, tensor, input, output and module names, option names, configuration
keys and file names that are not the start of the line (``model.onnx: message`` keeps
its path bare). Lists of names that are not prose (the node chain ``a → b → c`` under a
finding, ``folded a → b``) stay bare.
"""

from __future__ import annotations

from collections.abc import Iterable


def quoted(name: object) -> str:
    """``name`` as a message names it: ``"conv1"`` → ``"`conv1`"``."""
    return f"`{name}`"


def quoted_list(names: Iterable[object]) -> str:
    """Several names, each quoted, comma-separated: ``"`a`, `b`"``."""
    return ", ".join(quoted(name) for name in names)
