"""What git ignores below a folder: the ``.gitignore`` rules as git itself reads them.

Inside a git work tree, ``git ls-files --others --ignored --exclude-standard
--directory`` names every untracked path the repository's ``.gitignore`` files,
``.git/info/exclude`` and the user's global excludes file ignore (a wholly ignored
folder once, as ``folder/``, so discovery never walks into it). Files git tracks are
never ignored, as in git: a model added with ``git add -f`` is checked. Outside a
work tree, or where git is missing or fails, nothing is ignored: a ``.gitignore``
means something only to git, as ripgrep's ``require_git`` default has it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

GIT_TIMEOUT = 60  # seconds; a slow network file system may take a while to list


@dataclass(frozen=True)
class GitIgnored:
    """The ignored paths below one folder, as ``/``-separated paths relative to the work
    tree's top (``top``); folders end with ``/``."""

    top: Path
    entries: frozenset[str]

    def covers(self, relative: PurePosixPath, *, is_dir: bool) -> bool:
        """Whether the path (relative to ``top``) or a folder above it is ignored."""
        text = relative.as_posix()
        if (text + "/" if is_dir else text) in self.entries:
            return True
        return any(f"{parent.as_posix()}/" in self.entries for parent in relative.parents)


def _git(folder: Path, *args: str) -> subprocess.CompletedProcess[bytes] | None:
    git = shutil.which("git")
    if git is None:
        return None
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
    try:
        return subprocess.run(
            [git, "-C", str(folder), *args],
            capture_output=True,
            timeout=GIT_TIMEOUT,
            env=env,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None


def git_ignored(folder: Path) -> GitIgnored | None:
    """What git ignores below ``folder``; None outside a git work tree (or without git)."""
    top = _git(folder, "rev-parse", "--show-toplevel")
    if top is None or top.returncode != 0 or not top.stdout.strip():
        return None
    root = Path(os.fsdecode(top.stdout.strip()))
    try:
        relative = folder.resolve().relative_to(root.resolve())
    except (OSError, ValueError):
        return None
    listed = _git(
        root,
        "ls-files",
        "-z",
        "--others",
        "--ignored",
        "--exclude-standard",
        "--directory",
        "--",
        relative.as_posix() or ".",
    )
    if listed is None or listed.returncode != 0:
        return None
    entries = frozenset(os.fsdecode(e) for e in listed.stdout.split(b"\0") if e)
    return GitIgnored(root.resolve(), entries)
