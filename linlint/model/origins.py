"""Where a node comes from in the PyTorch source: its module path, the module's class, and
the line of the user's code that called it, as far as the model says.

Three sources, the first that answers wins:

* **metadata** — the dynamo exporter (``torch.onnx.export(..., dynamo=True)``) writes, on
  every node, ``pkg.torch.onnx.name_scopes`` (``repr`` of a list: ``''`` for the root,
  the module paths from outer to inner, the FX node last:
  ``['', 'block', 'block.expand', 'conv2d']``), ``pkg.torch.onnx.class_hierarchy`` (the
  classes, aligned, the aten op last), ``namespace`` (the same pairs as
  ``: Net/block: Block/block.expand: Conv2d/conv2d: aten.conv2d.default``) and
  ``pkg.torch.onnx.stack_trace`` (the Python frames, outermost first:
  ``File "/home/ci/model.py", line 13, in forward`` then the code line). The source line
  is the innermost frame that is the user's code: not under ``site-packages`` or
  ``dist-packages``, not in a ``torch`` folder, not the standard library, not ``<...>``.
* **node name** — the TorchScript exporter (``dynamo=False``) names each node by the scopes
  of the modules it ran in and its op: ``/blocks/blocks.0/expand/Conv`` (each scope is the
  module's name from its last non-numeric atom: ``blocks.0``, then ``expand``), so the path
  is ``blocks.0.expand``. A parameter it reads (``blocks.0.expand.weight``) gives the path
  exactly where it agrees with the scopes.
* **parameter name** — in a model whose producer is ``pytorch``, a node without either
  reads a parameter named ``block.expand.weight`` (older TorchScript exports name nodes
  ``Conv_3``): the module is ``block.expand``.

Anything else (tf2onnx, hand-built graphs) has no origin: ``origin`` returns None.
"""

from __future__ import annotations

import ast
import re
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # (onnx is imported by what reads models: `import linlint` stays light)
    from onnx import NodeProto


NAME_SCOPES = "pkg.torch.onnx.name_scopes"
CLASS_HIERARCHY = "pkg.torch.onnx.class_hierarchy"
STACK_TRACE = "pkg.torch.onnx.stack_trace"
NAMESPACE = "namespace"
TORCH_PRODUCER = "pytorch"

_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+), in (?P<function>\S+)')
_PARAMETER = re.compile(r"^(?P<module>[A-Za-z_][\w.]*)\.(?:weight|bias)$")
_LIBRARY_FOLDERS = frozenset({"site-packages", "dist-packages", "torch"})
_STDLIB = re.compile(r"^python\d+(\.\d+)?$")


@dataclass(frozen=True)
class Origin:
    """One node's place in the source. ``module`` is the module path (``''``: the root
    module); ``module_class`` its qualified class where known; ``file``, ``line`` and
    ``function`` the innermost user frame as the exporter recorded it (a path on the
    machine that exported the model); ``via`` says which evidence gave it: ``metadata``,
    ``node name`` or ``parameter name``."""

    module: str
    module_class: str | None = None
    file: str | None = None
    line: int | None = None
    function: str | None = None
    via: str = "metadata"

    @property
    def label(self) -> str:
        """``block.expand (Conv2d)``: the path (``<root>`` for the root module) and the
        class's own name."""
        path = self.module or "<root>"
        return f"{path} ({short_class(self.module_class)})" if self.module_class else path

    @property
    def where(self) -> str | None:
        """``model.py:13 in forward`` (the recorded path), or None without a source line."""
        if self.file is None or self.line is None:
            return None
        return f"{self.file}:{self.line}" + (f" in {self.function}" if self.function else "")

    def to_dict(self) -> dict:
        return asdict(self)


def short_class(qualified: str) -> str:
    """``torch.nn.modules.conv.Conv2d`` → ``Conv2d``."""
    return qualified.rsplit(".", 1)[-1]


def origin(node: NodeProto, *, torch_export: bool = False) -> Origin | None:
    """The node's origin (module docstring), or None when the model does not say.
    ``torch_export``: the model's producer is PyTorch (parameter names count)."""
    return (
        _from_metadata(node)
        or _from_scoped_name(node)
        or (_from_parameters(node) if torch_export else None)
    )


def is_torch_export(producer_name: str) -> bool:
    return producer_name.strip().lower() == TORCH_PRODUCER


# --------------------------------------------------------------------------- metadata


def _metadata(node: NodeProto) -> dict[str, str]:
    props = getattr(node, "metadata_props", ())  # onnx < 1.16 has none
    return {p.key: p.value for p in props}


def _string_list(text: str | None) -> list[str] | None:
    if not text:
        return None
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return list(value)
    return None


def _namespace(text: str | None) -> tuple[list[str], list[str]] | None:
    """``: Net/block: Block/block.expand: Conv2d/conv2d: aten...`` as (paths, classes)."""
    if not text:
        return None
    pairs = [part.split(": ", 1) for part in text.split("/")]
    if not all(len(pair) == 2 for pair in pairs):
        return None
    return [p[0] for p in pairs], [p[1] for p in pairs]


def _from_metadata(node: NodeProto) -> Origin | None:
    meta = _metadata(node)
    if not meta:
        return None
    scopes = _string_list(meta.get(NAME_SCOPES))
    classes = _string_list(meta.get(CLASS_HIERARCHY))
    if scopes is None:
        pairs = _namespace(meta.get(NAMESPACE))
        if pairs is not None:
            scopes, classes = pairs
    frame = user_frame(meta.get(STACK_TRACE, ""))
    if scopes is None or len(scopes) < 2:  # no module stack: the FX node's name alone
        if frame is None:
            return None
        module, module_class = "", None
    else:
        module = scopes[-2]
        aligned = classes is not None and len(classes) == len(scopes)
        module_class = classes[-2] if aligned else None
    file, line, function = frame if frame is not None else (None, None, None)
    return Origin(module, module_class, file, line, function, "metadata")


def user_frame(stack_trace: str) -> tuple[str, int, str] | None:
    """The innermost frame of a recorded stack trace that is the user's code:
    ``(file, line, function)``, or None when every frame is a library's."""
    found = None
    for text in stack_trace.splitlines():
        match = _FRAME.match(text)
        if match and not is_library_path(match["file"]):
            found = (match["file"], int(match["line"]), match["function"])
    return found


def is_library_path(path: str) -> bool:
    """Whether a recorded source path is a library's (torch's, an installed package's, the
    standard library's, or generated code like ``<eval_with_key>``), on any OS."""
    if path.startswith("<"):
        return True
    parts = [p.lower() for p in re.split(r"[\\/]+", path) if p]
    if any(p in _LIBRARY_FOLDERS for p in parts[:-1]):
        return True
    # the standard library: lib/python3.11 (POSIX), Python312/Lib (Windows)
    pairs = zip(parts, parts[1:], strict=False)
    return any(
        (a == "lib" and _STDLIB.match(b)) or (b == "lib" and _STDLIB.match(a)) for a, b in pairs
    )


# --------------------------------------------------------------------------- TorchScript names


def _unqualified(path: str) -> str:
    """The TorchScript scope name of a module path: from its last non-numeric atom
    (``features.2.block.2.0`` → ``block.2.0``)."""
    atoms = path.split(".")
    for i in range(len(atoms) - 1, -1, -1):
        if not atoms[i].isdigit():
            return ".".join(atoms[i:])
    return path


def scopes_to_path(scopes: list[str]) -> str:
    """The module path of TorchScript scope names, outer to inner
    (``['features', 'features.2', 'block']`` → ``features.2.block``)."""
    path = ""
    for scope in scopes:
        if path:
            head = _unqualified(path) + "."
            rest = scope[len(head) :] if scope.startswith(head) else ""
            if rest and all(atom.isdigit() for atom in rest.split(".")):
                path = f"{path}.{rest}"
            else:
                path = f"{path}.{scope}"
        else:
            path = scope
    return path


def _from_scoped_name(node: NodeProto) -> Origin | None:
    name = node.name
    if not name.startswith("/"):
        return None
    parts = name[1:].split("/")
    if not re.fullmatch(re.escape(node.op_type) + r"(_\d+)?", parts[-1]) or not all(parts[:-1]):
        return None
    module = scopes_to_path(parts[:-1])
    for parameter in _parameter_modules(node):
        # the parameter's full path where its module is the innermost scope (a forward
        # that calls a grandchild directly skips a scope the parameter name keeps)
        if len(parts) > 1 and _unqualified(parameter) == parts[-2]:
            return Origin(parameter, via="node name")
    return Origin(module, via="node name")


def _parameter_modules(node: NodeProto) -> list[str]:
    return [m["module"] for m in map(_PARAMETER.match, node.input) if m]


def _from_parameters(node: NodeProto) -> Origin | None:
    modules = _parameter_modules(node)
    return Origin(modules[0], via="parameter name") if modules else None


__all__ = [
    "Origin",
    "is_library_path",
    "is_torch_export",
    "origin",
    "scopes_to_path",
    "short_class",
    "user_frame",
]
