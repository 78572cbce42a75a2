"""Atomic file writes: a temporary file in the target's folder, fsync, then a rename.

``write_bytes`` writes one whole file that way (reports use it); ``temp_file``,
``new_file_mode`` and ``fsync_folder`` are the steps ``save_model`` composes for a
model and its data file.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path
from typing import BinaryIO

from linlint.errors import LinlintError


def new_file_mode(target: Path) -> int:
    """The mode a new file at ``target`` gets: the old file's, or what the umask allows."""
    if target.exists():
        return stat.S_IMODE(target.stat().st_mode)
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def temp_file(folder: Path, name: str, temps: list[Path]) -> BinaryIO:
    """A new hidden temporary file ``.<name>.*.tmp`` in ``folder``, open for writing; its path
    is appended to ``temps`` (the caller removes what is still there on failure)."""
    fd, temp_name = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
    temps.append(Path(temp_name))
    return os.fdopen(fd, "wb")


def write_bytes(target: Path, data: bytes, *, shown: str, what: str = "write") -> None:
    """Write one file atomically: a temporary file in its folder, fsync, then a rename over
    ``target`` (its permissions kept). ``LinlintError("cannot <what>: …")`` on failure, and
    the target is left as it was."""
    folder = target.parent if str(target.parent) else Path(".")
    temps: list[Path] = []
    try:
        mode = new_file_mode(target)
        with temp_file(folder, target.name, temps) as sink:
            sink.write(data)
            sink.flush()
            os.fchmod(sink.fileno(), mode)
            os.fsync(sink.fileno())
        os.replace(temps[-1], target)
        temps.clear()
        fsync_folder(folder)
    except OSError as error:
        raise LinlintError(f"cannot {what}: {error.strerror or error}", shown) from None
    finally:
        for temp in temps:
            temp.unlink(missing_ok=True)


def fsync_folder(folder: Path) -> None:
    """Make the folder's entries (new names, renames) durable, where the platform allows."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
