"""Finding model files: command-line paths expanded into files, as ruff finds Python files,
and the check that one path names a file at all.

A folder is searched recursively for ``*.onnx`` files, in sorted order, leaving out

- what ``exclude`` patterns match (by default the folders of tools and environments:
  ``DEFAULT_EXCLUDE``: ``.git``, ``.venv``, ``venv``, ``node_modules``, ``build``,
  ``dist``, ``__pycache__``, ...; ``extend-exclude`` adds patterns to them);
- what git ignores, inside a git work tree (``linlint.model.gitignore``), unless
  ``respect_gitignore`` is off.

A pattern without ``/`` matches a file or folder name anywhere (``.venv``,
``*_fp16.onnx``); one with ``/`` matches the path relative to the folder it was
given in (the config file's, or the current one for the command line), as
per-file-ignores does: ``models/legacy`` or ``models/legacy/*.onnx``. A matching
folder is not entered.

A path given explicitly is checked even when a pattern or git ignores it (the
user asked for it), unless ``force_exclude``: then a given file or folder that an
exclude pattern matches, or that lies in a folder one matches, is skipped — what
a pre-commit hook wants, since pre-commit passes every staged file by name.
"""

from __future__ import annotations

import fnmatch
import functools
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from linlint.errors import LinlintError
from linlint.model.gitignore import GitIgnored, git_ignored

DEFAULT_EXCLUDE = (
    ".bzr",
    ".direnv",
    ".eggs",
    ".git",
    ".git-rewrite",
    ".hg",
    ".ipynb_checkpoints",
    ".mypy_cache",
    ".nox",
    ".pants.d",
    ".pytest_cache",
    ".pytype",
    ".ruff_cache",
    ".svn",
    ".tox",
    ".venv",
    ".vscode",
    "__pycache__",
    "__pypackages__",
    "_build",
    "buck-out",
    "build",
    "dist",
    "node_modules",
    "site-packages",
    "venv",
)
MODEL_SUFFIX = ".onnx"


@dataclass(frozen=True)
class Pattern:
    """One exclude glob, and the folder a pattern with ``/`` is relative to."""

    glob: str
    base: Path | None = None

    @functools.cached_property
    def _normal(self) -> str:
        return self.glob.replace("\\", "/").removeprefix("./").rstrip("/")

    @functools.cached_property
    def _base(self) -> Path:
        return (self.base or Path.cwd()).resolve()

    def matches(self, path: Path) -> bool:
        """Whether ``path`` (absolute) is matched: by name, or by its path below ``base``."""
        glob = self._normal
        if "/" not in glob:
            return fnmatch.fnmatchcase(path.name, glob)
        try:
            relative = path.relative_to(self._base).as_posix()
        except ValueError:
            return fnmatch.fnmatchcase(path.as_posix(), glob)
        return any(fnmatch.fnmatchcase(relative, g) for g in {glob, glob.replace("**/", "")})


def patterns(globs: Sequence[str], base: Path | None = None) -> tuple[Pattern, ...]:
    return tuple(Pattern(glob, base) for glob in globs)


@dataclass(frozen=True)
class FileDiscovery:
    """How folders are searched: the exclude patterns, whether git's ignores apply, and
    whether explicitly given paths are excluded too."""

    exclude: tuple[Pattern, ...] = patterns(DEFAULT_EXCLUDE)
    respect_gitignore: bool = True
    force_exclude: bool = False

    def excluded(self, path: Path) -> bool:
        """Whether an exclude pattern matches ``path`` (absolute) itself."""
        return any(pattern.matches(path) for pattern in self.exclude)

    def force_excluded(self, path: Path) -> bool:
        """Whether an explicitly given path is skipped: ``force_exclude`` is on and a pattern
        matches the path or a folder above it (below the current folder)."""
        if not self.force_exclude:
            return False
        absolute = _absolute(path)
        cwd = Path.cwd().resolve()
        chain = [absolute]
        for parent in absolute.parents:
            if parent == cwd or cwd not in parent.parents:
                break
            chain.append(parent)
        return any(self.excluded(p) for p in chain)


def _absolute(path: Path) -> Path:
    """``path`` absolute with its folders' symbolic links resolved (not its own)."""
    path = Path(os.path.abspath(path))
    return path.parent.resolve() / path.name if path.name else path.resolve()


def _walk(folder: Path, discovery: FileDiscovery) -> list[Path]:
    """The model files below ``folder`` that neither a pattern nor git excludes."""
    ignored: GitIgnored | None = None
    if discovery.respect_gitignore:
        ignored = git_ignored(folder)
    absolute_root = folder.resolve()
    below_top: PurePosixPath | None = None
    if ignored is not None:
        below_top = PurePosixPath(folder.resolve().relative_to(ignored.top).as_posix())
        if ignored.covers(below_top, is_dir=True):
            ignored = None  # the folder given is ignored itself: asked for, so searched

    def skip(relative: Path, *, is_dir: bool) -> bool:
        if discovery.excluded(absolute_root / relative):
            return True
        if ignored is None or below_top is None:
            return False
        return ignored.covers(below_top / relative.as_posix(), is_dir=is_dir)

    found: list[Path] = []

    def fail(error: OSError) -> None:
        raise LinlintError(f"cannot search folder: {error}", str(folder))

    for current, dirs, files in os.walk(folder, onerror=fail):
        here = Path(current)
        relative = here.relative_to(folder)
        dirs[:] = [d for d in dirs if not skip(relative / d, is_dir=True)]
        for name in files:
            if name.endswith(MODEL_SUFFIX) and not skip(relative / name, is_dir=False):
                candidate = here / name
                if candidate.is_file():
                    found.append(candidate)
    return sorted(found)


def find_models(path: str | Path, discovery: FileDiscovery | None = None) -> list[Path]:
    """The model files one command-line path names: itself when it is a file, the model
    files below it (see the module docstring) when it is a folder — maybe none — and none
    when it is excluded explicitly (``force_exclude``). A path that does not exist is a
    ``LinlintError``."""
    discovery = discovery or FileDiscovery()
    path = Path(path)
    if not path.exists():
        raise LinlintError("no such file or directory", str(path))
    if discovery.force_excluded(path):
        return []
    if path.is_dir():
        return _walk(path, discovery)
    return [path]


def discover(paths: Sequence[str | Path], discovery: FileDiscovery | None = None) -> list[Path]:
    """Expand command-line paths into model files (``find_models``), each file once.

    A file is taken as given, whatever its extension. A folder holding no model file
    is a ``LinlintError`` here (the ``check`` command makes it a warning).
    """
    found: list[Path] = []
    seen: set[Path] = set()
    for raw in paths:
        models = find_models(raw, discovery)
        if not models and Path(raw).is_dir():
            raise LinlintError("no .onnx files found", str(raw))
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
