"""Which external data files a write may remove, and removing them.

A data file is removed only if it is a regular file with one link (no symlink,
no hard link) directly in the folder, no model being kept needs it, and no
``*.onnx`` file in that folder references it (read without weights; subgraphs,
functions and attributes included). If one of those models cannot be read,
nothing is removed: a stale file costs disk, a deleted one loses weights.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

import onnx

from linlint.model.atomic import fsync_folder
from linlint.model.external import normal_location
from linlint.model.tensors import iter_tensors

FileId = tuple[int, int]
"""A file as (device, inode): the same file under any name, symlink or letter case."""


def _locations(model: onnx.ModelProto) -> set[str]:
    """Every tensor's external data ``location``, whether or not it is marked external."""
    return {
        entry.value
        for tensor in iter_tensors(model)
        for entry in tensor.external_data
        if entry.key == "location" and entry.value
    }


def file_ids(model: onnx.ModelProto, base_dir: Path) -> set[FileId]:
    """The existing files that the model's tensors reference from ``base_dir``."""
    return file_ids_of(base_dir / normal_location(location) for location in _locations(model))


def file_ids_of(paths: Iterable[Path]) -> set[FileId]:
    """The existing files among ``paths``, as file ids."""
    ids: set[FileId] = set()
    for path in paths:
        try:
            info = os.stat(path)
        except (OSError, ValueError):
            continue
        ids.add((info.st_dev, info.st_ino))
    return ids


def _removable(model: onnx.ModelProto, folder: Path) -> dict[Path, FileId]:
    """Files ``model`` references that a cleanup may remove: regular, one link, in ``folder``."""
    found: dict[Path, FileId] = {}
    for location in _locations(model):
        name = normal_location(location)
        if "/" in name or os.sep in name or name in (os.curdir, os.pardir):
            continue
        if name.lower().endswith(".onnx"):
            continue
        path = folder / name
        try:
            info = os.lstat(path)
        except (OSError, ValueError):
            continue
        if stat.S_ISREG(info.st_mode) and info.st_nlink == 1:
            found[path] = (info.st_dev, info.st_ino)
    return found


def previous_data(out_path: Path) -> dict[Path, FileId]:
    """The data files the current target references that a cleanup may consider."""
    try:
        if not out_path.is_file():
            return {}
        old = onnx.load(out_path, load_external_data=False)
    except Exception:  # not a model we can read: it references nothing we would remove
        return {}
    return _removable(old, out_path.parent)


def _sibling_ids(folder: Path, skip: str | None) -> set[FileId] | None:
    """Files used by the ``*.onnx`` files in ``folder`` but ``skip``, None if one is unreadable."""
    ids: set[FileId] = set()
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return None
    for path in entries:
        if path.name == skip or path.suffix.lower() != ".onnx":
            continue
        try:
            if not path.is_file():
                continue
            sibling = onnx.load(path, load_external_data=False)
            real_folder = path.resolve().parent
        except Exception:  # a model we cannot read might reference anything
            return None
        ids |= file_ids(sibling, folder) | file_ids(sibling, real_folder)
    return ids


def remove_unneeded(
    files: dict[Path, FileId], folder: Path, keep: set[FileId], skip: str | None
) -> list[Path]:
    """Remove the ``files`` not in ``keep`` that no model file in ``folder`` references."""
    files = {path: file_id for path, file_id in files.items() if file_id not in keep}
    if not files:
        return []
    referenced = _sibling_ids(folder, skip)
    if referenced is None:
        return []
    removed = []
    for path, file_id in files.items():
        if file_id in referenced:
            continue
        try:
            info = os.lstat(path)
            if (info.st_dev, info.st_ino) != file_id or info.st_nlink != 1:
                continue
            os.unlink(path)
        except OSError:
            continue
        removed.append(path)
    if removed:
        fsync_folder(folder)
    return removed


def remove_unreferenced_data(model: onnx.ModelProto, base_dir: str | Path) -> list[Path]:
    """Remove the data files in ``base_dir`` that ``model`` reads and no model there references.

    For a caller that has saved ``model`` over the file it was loaded from and will not
    read its external tensors again: ``save_model`` keeps the data files the proto still
    points at, and this removes them. Same rules as ``save_model``'s cleanup:
    only regular single-link files directly in ``base_dir``, none referenced by a
    ``*.onnx`` file there, and nothing at all if one of those cannot be read.
    Files that cannot be removed stay. Returns the removed files.
    """
    folder = Path(base_dir)
    return remove_unneeded(_removable(model, folder), folder, set(), skip=None)
