"""Write a model atomically, never touching a data file another model may read.

Names. The model goes to a temporary file in the target folder, then ``os.replace``
puts it over the target. With external data, the weights go to a data file next to
it under a name that did not exist before this write: ``<out name>.data``
(``model.onnx.data``) when that name is free, else ``<out name>.<k>.data`` with the
smallest free k >= 1 (``model.onnx.1.data``). The name is reserved by creating it
exclusively (``O_EXCL``), so an existing data file -- the previous target's, a
sibling copy's, the input's own -- is never overwritten, truncated or reused.
Tensors that still point into the source model's folder are streamed from there
chunk by chunk, so writing a model over its own file reads the old data while
writing the new, and no weight is held in memory twice. The caller's proto is only
read: what gets serialized is a copy without the weight bytes.

Order. At every instant the target and the data it references are consistent:

1. reserve the fresh data name, stream the data to a temporary file, fsync it;
2. write the model to a temporary file, fsync it;
3. rename the data's temporary file to the fresh name, fsync the folder;
4. ``os.replace`` the model's temporary file over the target, fsync the folder
   (the commit: before it the old target is whole, after it the new one);
5. remove the data files the previous target referenced that nothing needs now.

Step 5 removes a file only if it is a regular file with one link (no symlink, no
hard link) directly in the target folder, and neither the new target, nor the model
being written (``base_dir`` and its tensors' locations: the caller may read them
again), nor any other ``*.onnx`` file in that folder (read without weights;
subgraphs, functions and attributes included) references it. If a sibling cannot be
read, nothing is removed: a stale file costs disk, a deleted one loses weights.
Models in other folders are not scanned. Writing a model over the file it was
loaded from keeps the data file it was loaded from (the proto still points there);
a caller that will not read the proto again can then call
``linlint.model.cleanup.remove_unreferenced_data``.

Before the commit, any failure removes what this write created (temporary files,
the reserved name) and raises one ``LinlintError``; the target, if it existed, is
left as it was. After the commit nothing fails: a file that cannot be removed stays.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import onnx
from google.protobuf.message import EncodeError

from linlint.errors import LinlintError
from linlint.model.atomic import fsync_folder, new_file_mode, temp_file
from linlint.model.cleanup import file_ids, file_ids_of, previous_data, remove_unneeded
from linlint.model.skeleton import Externalizer, Inliner, skeleton
from linlint.model.tensors import uses_external_data

PROTOBUF_LIMIT = 2**31 - 1
"""Largest serialized protobuf: a model at least this big must keep its weights outside."""


def serialized_size(model: onnx.ModelProto) -> int:
    """Bytes the model would take serialized; past the protobuf limit if protobuf cannot tell."""
    try:
        return model.ByteSize()
    except (EncodeError, ValueError, RuntimeError, OverflowError):  # upb: EncodeError past 2 GB
        return PROTOBUF_LIMIT + 1


def _is_read_only(path: Path) -> bool:
    """No write permission bit set, or no write access: even root leaves such a file alone."""
    mode = path.stat().st_mode
    return not (mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)) or not os.access(path, os.W_OK)


def _check_target(out_path: Path, shown: str) -> None:
    folder = out_path.parent
    if not folder.exists():
        raise LinlintError(f"cannot write: folder {folder} does not exist", shown)
    if not folder.is_dir():
        raise LinlintError(f"cannot write: {folder} is not a folder", shown)
    if not os.access(folder, os.W_OK | os.X_OK) or _is_read_only(folder):
        raise LinlintError(f"cannot write: folder {folder} is not writable", shown)
    if out_path.exists():
        if out_path.is_dir():
            raise LinlintError(f"cannot write: {out_path} is a directory", shown)
        if _is_read_only(out_path):
            raise LinlintError(f"cannot write: {out_path} is read-only", shown)


def _serialize(model: onnx.ModelProto, shown: str) -> bytes:
    if serialized_size(model) > PROTOBUF_LIMIT:
        raise LinlintError(
            "cannot write: the model is larger than 2 GB; save it with external data", shown
        )
    try:
        return model.SerializeToString()
    except (ValueError, EncodeError, RuntimeError) as error:
        raise LinlintError(f"cannot serialize the model: {error}", shown) from None


_MAX_DATA_NAMES = 10_000


def _reserve_data_file(folder: Path, out_name: str, shown: str) -> Path:
    """Create an empty file under the first free data file name and return it."""
    for k in range(_MAX_DATA_NAMES):
        path = folder / (f"{out_name}.data" if k == 0 else f"{out_name}.{k}.data")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        os.close(fd)
        return path
    raise LinlintError(
        f"cannot write: no free data file name next to it ({out_name}.<k>.data taken "
        f"for k < {_MAX_DATA_NAMES})",
        shown,
    )


def _discard(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass


def save_model(
    model: onnx.ModelProto,
    out_path: str | Path,
    *,
    base_dir: str | Path | None = None,
    external_data: bool | None = None,
) -> list[Path]:
    """Write ``model`` to ``out_path`` atomically, with its weights outside if needed; the
    data files the previous target referenced that step 5 removed.

    ``base_dir`` is the folder that tensors still marked as external are read
    from (the source model's folder). ``external_data=None`` writes external
    data when the model already uses it or would pass the 2 GB protobuf limit.
    The data file's name and the order of the steps are in the module docstring.
    """
    out_path = Path(out_path)
    shown = str(out_path)
    if out_path.is_symlink():
        out_path = out_path.resolve()
    source = Path(base_dir) if base_dir is not None else None
    if external_data is None:
        external_data = uses_external_data(model) or serialized_size(model) > PROTOBUF_LIMIT
    folder = out_path.parent
    _check_target(out_path, shown)
    previous = previous_data(out_path)

    temps: list[Path] = []
    fresh: Path | None = None  # the reserved data file: ours to remove until the commit
    model_temp: Path | None = None
    committed = False
    try:
        mode = new_file_mode(out_path)
        data_temp: Path | None = None
        if external_data:
            fresh = _reserve_data_file(folder, out_path.name, shown)
            with temp_file(folder, fresh.name, temps) as sink:
                handler = Externalizer(sink, fresh.name, source, shown)
                payload = _serialize(skeleton(model, handler), shown)
                sink.flush()
                os.fchmod(sink.fileno(), mode)
                os.fsync(sink.fileno())
            if handler.moved:
                data_temp = temps[-1]
            else:
                temps[-1].unlink()
                temps.pop()
                fresh.unlink()
                fresh = None
        elif uses_external_data(model):
            payload = _serialize(skeleton(model, Inliner(source, shown)), shown)
        else:
            payload = _serialize(model, shown)
        with temp_file(folder, out_path.name, temps) as sink:
            model_temp = temps[-1]
            sink.write(payload)
            sink.flush()
            os.fchmod(sink.fileno(), mode)
            os.fsync(sink.fileno())
        del payload
        if data_temp is not None and fresh is not None:
            os.replace(data_temp, fresh)  # over our own empty reservation
            temps.remove(data_temp)
            fsync_folder(folder)  # the data's name is on disk before the model naming it
        os.replace(model_temp, out_path)
        committed = True
        temps.clear()
        fsync_folder(folder)
    except OSError as error:
        raise LinlintError(f"cannot write: {error.strerror or error}", shown) from None
    finally:
        # os.replace moved the model's temporary file: committed, even if interrupted just after.
        committed = committed or (model_temp is not None and not model_temp.exists())
        for temp in temps:
            _discard(temp)
        if fresh is not None and not committed:
            _discard(fresh)
    if not previous:
        return []
    keep = file_ids(model, source) if source is not None else set()
    if fresh is not None:
        keep |= file_ids_of([fresh])
    return remove_unneeded(previous, folder, keep, skip=out_path.name)
