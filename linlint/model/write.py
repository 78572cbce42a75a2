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
``remove_unreferenced_data``.

Before the commit, any failure removes what this write created (temporary files,
the reserved name) and raises one ``LinlintError``; the target, if it existed, is
left as it was. After the commit nothing fails: a file that cannot be removed stays.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import onnx
from google.protobuf.message import EncodeError, Message

from linlint.errors import LinlintError
from linlint.model.load import (
    external_span,
    is_external,
    iter_tensors,
    read_external_bytes,
    uses_external_data,
)

PROTOBUF_LIMIT = 2**31 - 1
"""Largest serialized protobuf: a model at least this big must keep its weights outside."""

_EXTERNAL_THRESHOLD = 1024  # in-memory tensors smaller than this stay in the .onnx file
_CHUNK = 16 * 2**20
_BIG_TENSOR = 2**20
_BIG_ALIGN = 2**16  # lets onnxruntime memory-map large weights on every platform
_SMALL_ALIGN = 64


def serialized_size(model: onnx.ModelProto) -> int:
    """Bytes the model would take serialized; past the protobuf limit if protobuf cannot tell."""
    try:
        return model.ByteSize()
    except (EncodeError, ValueError, RuntimeError, OverflowError):  # upb: EncodeError past 2 GB
        return PROTOBUF_LIMIT + 1


# Message types that can hold a TensorProto somewhere below them: walked field by field.
# Everything else (value infos, type protos, opset ids, ...) is copied whole.
_WALKED = {
    "onnx.ModelProto",
    "onnx.GraphProto",
    "onnx.NodeProto",
    "onnx.AttributeProto",
    "onnx.FunctionProto",
    "onnx.TrainingInfoProto",
    "onnx.SparseTensorProto",
}
_TENSOR = "onnx.TensorProto"

TensorHandler = Callable[[onnx.TensorProto, onnx.TensorProto], None]


def _holds_tensors(node: onnx.NodeProto) -> bool:
    return any(
        a.HasField("t")
        or a.HasField("g")
        or a.HasField("sparse_tensor")
        or len(a.tensors)
        or len(a.graphs)
        or len(a.sparse_tensors)
        for a in node.attribute
    )


def _skeleton_copy(source: Message, target: Message, on_tensor: TensorHandler) -> None:
    """Copy ``source`` into ``target`` except tensors' ``raw_data``, which ``on_tensor`` handles.

    The caller's proto is only read: with upb, clearing and restoring a big
    field would leave the old bytes in the message's arena, doubling its memory.
    """
    kind = source.DESCRIPTOR.full_name
    if kind != _TENSOR and (
        kind not in _WALKED or (kind == "onnx.NodeProto" and not _holds_tensors(source))
    ):
        target.CopyFrom(source)
        return
    if kind == "onnx.SparseTensorProto":
        on_tensor = _inline(on_tensor)  # onnx.load reads no external data of sparse tensors
    for descriptor, value in source.ListFields():
        if kind == _TENSOR and descriptor.name == "raw_data":
            continue
        if descriptor.message_type is None:
            if descriptor.is_repeated:
                getattr(target, descriptor.name).extend(value)
            else:
                setattr(target, descriptor.name, value)
        else:
            handler = on_tensor
            if kind == "onnx.AttributeProto" and descriptor.name in _INLINE_ATTRIBUTE_FIELDS:
                handler = _inline(on_tensor)  # as onnx.save: a node's own tensors stay inline
            if descriptor.is_repeated:
                container = getattr(target, descriptor.name)
                for item in value:
                    _skeleton_copy(item, container.add(), handler)
            else:
                _skeleton_copy(value, getattr(target, descriptor.name), handler)
    if kind == _TENSOR:
        on_tensor(source, target)


#: Attribute fields holding a node's own tensors (a Constant's value): never moved out.
_INLINE_ATTRIBUTE_FIELDS = frozenset({"t", "tensors", "sparse_tensor", "sparse_tensors"})


def _inline(on_tensor: TensorHandler) -> TensorHandler:
    """The handler for tensors that must stay in the .onnx file."""
    if isinstance(on_tensor, _Externalizer):
        return _Inliner(on_tensor.base_dir, on_tensor.shown)
    return on_tensor


def _is_read_only(path: Path) -> bool:
    """No write permission bit set, or no write access: even root leaves such a file alone."""
    mode = path.stat().st_mode
    return not (mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)) or not os.access(path, os.W_OK)


def _check_target(out_path: Path, shown: str) -> None:
    folder = out_path.parent
    if not folder.exists():
        raise LinlintError(f"cannot write: folder '{folder}' does not exist", shown)
    if not folder.is_dir():
        raise LinlintError(f"cannot write: '{folder}' is not a folder", shown)
    if not os.access(folder, os.W_OK | os.X_OK) or _is_read_only(folder):
        raise LinlintError(f"cannot write: folder '{folder}' is not writable", shown)
    if out_path.exists():
        if out_path.is_dir():
            raise LinlintError(f"cannot write: '{out_path}' is a directory", shown)
        if _is_read_only(out_path):
            raise LinlintError(f"cannot write: '{out_path}' is read-only", shown)


def _new_file_mode(target: Path) -> int:
    if target.exists():
        return stat.S_IMODE(target.stat().st_mode)
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def _temp_file(folder: Path, name: str, temps: list[Path]) -> BinaryIO:
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
        mode = _new_file_mode(target)
        with _temp_file(folder, target.name, temps) as sink:
            sink.write(data)
            sink.flush()
            os.fchmod(sink.fileno(), mode)
            os.fsync(sink.fileno())
        os.replace(temps[-1], target)
        temps.clear()
        _fsync_folder(folder)
    except OSError as error:
        raise LinlintError(f"cannot {what}: {error.strerror or error}", shown) from None
    finally:
        for temp in temps:
            temp.unlink(missing_ok=True)


def _copy_range(source: Path, offset: int, length: int, sink: BinaryIO) -> None:
    with source.open("rb") as handle:
        handle.seek(offset)
        remaining = length
        while remaining:
            chunk = handle.read(min(_CHUNK, remaining))
            if not chunk:
                raise OSError(f"'{source}' ended early")
            sink.write(chunk)
            remaining -= len(chunk)


def _no_source(tensor: onnx.TensorProto, shown: str) -> LinlintError:
    return LinlintError(
        f"tensor '{tensor.name}' keeps its data in an external file, "
        "but no source folder was given to read it from",
        shown,
    )


@dataclass
class _Externalizer:
    """Tensor handler: weights go to ``sink`` (the data file), small tensors stay inline."""

    sink: BinaryIO
    data_name: str
    base_dir: Path | None
    shown: str
    offset: int = 0
    moved: int = 0

    def __call__(self, source: onnx.TensorProto, target: onnx.TensorProto) -> None:
        if is_external(source):
            if self.base_dir is None:
                raise _no_source(source, self.shown)
            span = external_span(source, self.base_dir, shown=self.shown)
            self._pad(span.length)
            _copy_range(span.file, span.offset, span.length, self.sink)
            self._point(target, span.length)
        elif source.HasField("raw_data"):
            raw = source.raw_data
            if len(raw) < _EXTERNAL_THRESHOLD:
                target.raw_data = raw
                return
            self._pad(len(raw))
            self.sink.write(raw)
            self._point(target, len(raw))

    def _pad(self, length: int) -> None:
        align = _BIG_ALIGN if length >= _BIG_TENSOR else _SMALL_ALIGN
        padding = -self.offset % align
        if padding:
            self.sink.write(b"\0" * padding)
            self.offset += padding

    def _point(self, target: onnx.TensorProto, length: int) -> None:
        del target.external_data[:]
        for key, value in (
            ("location", self.data_name),
            ("offset", str(self.offset)),
            ("length", str(length)),
        ):
            entry = target.external_data.add()
            entry.key, entry.value = key, value
        target.data_location = onnx.TensorProto.EXTERNAL
        self.offset += length
        self.moved += 1


@dataclass
class _Inliner:
    """Tensor handler: every tensor's bytes go into the proto, external ones read from disk."""

    base_dir: Path | None
    shown: str

    def __call__(self, source: onnx.TensorProto, target: onnx.TensorProto) -> None:
        if is_external(source):
            if self.base_dir is None:
                raise _no_source(source, self.shown)
            target.raw_data = read_external_bytes(source, self.base_dir, shown=self.shown)
            del target.external_data[:]
            target.ClearField("data_location")
        elif source.HasField("raw_data"):
            target.raw_data = source.raw_data


def _skeleton(model: onnx.ModelProto, on_tensor: TensorHandler) -> onnx.ModelProto:
    copy = onnx.ModelProto()
    _skeleton_copy(model, copy, on_tensor)
    return copy


def _serialize(model: onnx.ModelProto, shown: str) -> bytes:
    if serialized_size(model) > PROTOBUF_LIMIT:
        raise LinlintError(
            "cannot write: the model is larger than 2 GB; save it with external data", shown
        )
    try:
        return model.SerializeToString()
    except (ValueError, EncodeError, RuntimeError) as error:
        raise LinlintError(f"cannot serialize the model: {error}", shown) from None


def _fsync_folder(folder: Path) -> None:
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


_MAX_DATA_NAMES = 10_000

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


def _normal(location: str) -> str:
    return os.path.normpath(location.replace("\\", "/"))


def _file_ids(model: onnx.ModelProto, base_dir: Path) -> set[FileId]:
    """The existing files that the model's tensors reference from ``base_dir``."""
    return _file_ids_of(base_dir / _normal(location) for location in _locations(model))


def _file_ids_of(paths: Iterable[Path]) -> set[FileId]:
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
        name = _normal(location)
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


def _previous_data(out_path: Path) -> dict[Path, FileId]:
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
        ids |= _file_ids(sibling, folder) | _file_ids(sibling, real_folder)
    return ids


def _remove_unneeded(
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
        _fsync_folder(folder)
    return removed


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
) -> None:
    """Write ``model`` to ``out_path`` atomically, with its weights outside if needed.

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
    previous = _previous_data(out_path)

    temps: list[Path] = []
    fresh: Path | None = None  # the reserved data file: ours to remove until the commit
    model_temp: Path | None = None
    committed = False
    try:
        mode = _new_file_mode(out_path)
        data_temp: Path | None = None
        if external_data:
            fresh = _reserve_data_file(folder, out_path.name, shown)
            with _temp_file(folder, fresh.name, temps) as sink:
                handler = _Externalizer(sink, fresh.name, source, shown)
                payload = _serialize(_skeleton(model, handler), shown)
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
            payload = _serialize(_skeleton(model, _Inliner(source, shown)), shown)
        else:
            payload = _serialize(model, shown)
        with _temp_file(folder, out_path.name, temps) as sink:
            model_temp = temps[-1]
            sink.write(payload)
            sink.flush()
            os.fchmod(sink.fileno(), mode)
            os.fsync(sink.fileno())
        del payload
        if data_temp is not None and fresh is not None:
            os.replace(data_temp, fresh)  # over our own empty reservation
            temps.remove(data_temp)
            _fsync_folder(folder)  # the data's name is on disk before the model naming it
        os.replace(model_temp, out_path)
        committed = True
        temps.clear()
        _fsync_folder(folder)
    except OSError as error:
        raise LinlintError(f"cannot write: {error.strerror or error}", shown) from None
    finally:
        # os.replace moved the model's temporary file: committed, even if interrupted just after.
        committed = committed or (model_temp is not None and not model_temp.exists())
        for temp in temps:
            _discard(temp)
        if fresh is not None and not committed:
            _discard(fresh)
    if previous:
        keep = _file_ids(model, source) if source is not None else set()
        if fresh is not None:
            keep |= _file_ids_of([fresh])
        _remove_unneeded(previous, folder, keep, skip=out_path.name)


def remove_unreferenced_data(model: onnx.ModelProto, base_dir: str | Path) -> list[Path]:
    """Remove the data files in ``base_dir`` that ``model`` reads and no model there references.

    For a caller that wrote ``model`` over the file it was loaded from (``fold
    --in-place``) and will not read its external tensors again: ``save_model``
    keeps the files the proto points at. Same rules as ``save_model``'s cleanup:
    only regular single-link files directly in ``base_dir``, none referenced by a
    ``*.onnx`` file there, and nothing at all if one of those cannot be read.
    Files that cannot be removed stay. Returns the removed files.
    """
    folder = Path(base_dir)
    return _remove_unneeded(_removable(model, folder), folder, set(), skip=None)
