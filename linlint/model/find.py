"""Finding model files: command-line paths expanded into files, and the check that one
path names a file at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from linlint.errors import LinlintError


def discover(paths: Sequence[str | Path]) -> list[Path]:
    """Expand command-line paths into model files.

    A file is taken as given, whatever its extension; a directory is searched
    recursively for ``*.onnx`` files, in sorted order. Each file appears once.
    """
    found: list[Path] = []
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            try:
                models = sorted(p for p in path.rglob("*.onnx") if p.is_file())
            except OSError as error:
                raise LinlintError(f"cannot search folder: {error}", str(path)) from None
            if not models:
                raise LinlintError("no .onnx files found", str(path))
        elif path.exists():
            models = [path]
        else:
            raise LinlintError("no such file or directory", str(path))
        for model in models:
            if model not in seen:
                seen.add(model)
                found.append(model)
    return found


def existing_file(path: str | Path, kind: str) -> Path:
    """``path`` as a ``Path`` when it names something other than a folder, else one
    ``LinlintError`` ("is a directory, not ``kind``" or "no such file or directory")."""
    path = Path(path)
    if path.is_dir():
        raise LinlintError(f"is a directory, not {kind}", str(path))
    if not path.exists():
        raise LinlintError("no such file or directory", str(path))
    return path
