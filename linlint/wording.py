"""How messages name things, in one place.

Inside a message (a finding, a reason, an error, a warning), a name the model or the
user chose is quoted with backticks, as ruff quotes identifiers (`` `os` imported but
unused``): node, tensor, input, output and module names, option names, configuration
keys, the values a configuration gave (``quoted_value``), and the file names a model
stores (an external data location). Paths of files linlint reads or writes stay bare, as
ruff prints them (``model.onnx: message``, ``wrote out.onnx``), and so do lists of names
that are not prose: the node chain ``a → b → c`` under a finding, ``folded a → b``, the
lines of a graph diff.
"""

from __future__ import annotations

import json
from collections.abc import Iterable


def quoted(name: object) -> str:
    """``name`` as a message names it: ``"conv1"`` → ``"`conv1`"``."""
    return f"`{name}`"


def quoted_list(names: Iterable[object]) -> str:
    """Several names, each quoted, comma-separated: ``"`a`, `b`"``."""
    return ", ".join(quoted(name) for name in names)


def quoted_value(value: object) -> str:
    """A configured value as a message shows it: a string as it is, anything else as TOML
    and JSON write it (``true``, ``[1, -3]``), quoted: ``got `fatal```, ``got `3```."""
    if isinstance(value, str):
        return quoted(value)
    return quoted(json.dumps(value, default=str))
