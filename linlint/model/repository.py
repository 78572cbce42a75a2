"""The repository being checked: its root, its files, and where a source path recorded on
the machine that exported a model (``C:\\Users\\me\\proj\\model.py``,
``/home/ci/work/proj/model.py``) is in it.

The root is ``--source-root`` when given, else the git top level of the checked paths, else
the current folder. A recorded path names a file of the repository when it is, relative to
the root, a file there (an export made in this checkout), else by the longest path suffix
that names exactly one file (``proj/model.py`` when two ``model.py`` exist). The files are
what ``git ls-files`` lists in a git repository, else the ``*.py`` files of a bounded walk
of the tree (hidden folders, ``__pycache__``, ``node_modules`` and installed packages
skipped). Nothing is read until a path is asked for.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path, PurePosixPath

#: A walk of a folder that is not a git repository stops after this many entries.
MAX_WALK = 50_000
_SKIPPED = frozenset({"__pycache__", "node_modules", "site-packages", "dist-packages"})


def _git(folder: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(folder), *args],
            capture_output=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.decode("utf-8", "surrogateescape") if done.returncode == 0 else None


def git_root(start: Path) -> Path | None:
    """The top level of the git work tree holding ``start`` (a file or folder), or None."""
    folder = start if start.is_dir() else start.parent
    out = _git(folder.resolve(), "rev-parse", "--show-toplevel")
    return Path(out.strip()).resolve() if out and out.strip() else None


def source_root(paths, explicit: Path | None = None) -> Path:
    """The root recorded source paths are matched under: ``explicit``, else the git top
    level of the first path (or of the current folder), else the current folder."""
    if explicit is not None:
        return Path(explicit).resolve()
    starts = [Path(p) for p in paths][:1] + [Path.cwd()]
    for start in starts:
        if start.exists():
            root = git_root(start)
            if root is not None:
                return root
    return Path.cwd().resolve()


def relative_to_root(file: str | Path, root: Path) -> str | None:
    """A local file's path relative to ``root``, ``/``-separated; None when outside it."""
    try:
        return Path(file).resolve().relative_to(root).as_posix()
    except (ValueError, OSError):
        return None


def _parts(recorded: str) -> list[str]:
    return [p for p in re.split(r"[\\/]+", recorded) if p and p != "."]


class SourceFiles:
    """The files of one repository and the recorded paths found in it (cached)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self._by_name: dict[str, list[tuple[str, ...]]] | None = None
        self._found: dict[str, str | None] = {}

    def _files(self) -> list[str]:
        listed = _git(self.root, "ls-files", "-z")
        if listed is not None:
            return [f for f in listed.split("\0") if f]
        return _walk(self.root)

    def _index(self) -> dict[str, list[tuple[str, ...]]]:
        if self._by_name is None:
            self._by_name = {}
            for file in self._files():
                parts = tuple(PurePosixPath(file).parts)
                self._by_name.setdefault(parts[-1], []).append(parts)
        return self._by_name

    def find(self, recorded: str) -> str | None:
        """The repository file (relative to the root, ``/``-separated) a recorded source
        path names, or None (module docstring)."""
        if recorded not in self._found:
            self._found[recorded] = self._match(recorded)
        return self._found[recorded]

    def _match(self, recorded: str) -> str | None:
        parts = _parts(recorded)
        if not parts:
            return None
        candidates = self._index().get(parts[-1], [])
        if not candidates:
            return None
        as_local = Path(recorded)
        if as_local.is_absolute():
            inside = relative_to_root(as_local, self.root)
            if inside is not None and tuple(inside.split("/")) in candidates:
                return inside
        elif tuple(parts) in candidates:
            return "/".join(parts)
        best, chosen = 0, []
        for candidate in candidates:
            shared = _shared_suffix(parts, candidate)
            if shared > best:
                best, chosen = shared, [candidate]
            elif shared == best:
                chosen.append(candidate)
        return "/".join(chosen[0]) if len(chosen) == 1 else None


def _shared_suffix(a: list[str], b: tuple[str, ...]) -> int:
    n = 0
    while n < len(a) and n < len(b) and a[-1 - n] == b[-1 - n]:
        n += 1
    return n


def _walk(root: Path) -> list[str]:
    """The ``*.py`` files under ``root`` (relative, ``/``-separated), at most ``MAX_WALK``
    entries looked at."""
    found: list[str] = []
    seen = 0
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIPPED)
        seen += len(dirs) + len(files)
        base = Path(folder).relative_to(root)
        found += [(base / f).as_posix() for f in sorted(files) if f.endswith(".py")]
        if seen > MAX_WALK:
            break
    return found


__all__ = ["MAX_WALK", "SourceFiles", "git_root", "relative_to_root", "source_root"]
