"""Running a model in onnxruntime: a model made ready for a session, sessions, and runs.

A model given as a path goes to onnxruntime as that path, so its external data
and sizes past 2 GB work; a ModelProto goes as bytes, with the folder of its
external files when it has some, except past ``PROTOBUF_LIMIT``, where it is
written to a temporary folder (with external data) that lives as long as the
caller's ``ExitStack``. Every onnxruntime failure becomes one ``LinlintError``
of one line. onnxruntime is imported inside the functions only: ``check``
never pays for it.
"""

from __future__ import annotations

import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx

from linlint.errors import LinlintError
from linlint.model.external import validate_external_data
from linlint.model.load import load_model
from linlint.model.tensors import uses_external_data
from linlint.model.write import PROTOBUF_LIMIT, save_model, serialized_size

ModelSource = onnx.ModelProto | str | Path
Feeds = dict[str, np.ndarray]

_EXTERNAL_FOLDER_KEY = "session.model_external_initializers_file_folder_path"


@dataclass(frozen=True)
class PreparedModel:
    """A model ready for onnxruntime: a path or bytes, and where its external data lives."""

    source: str | bytes
    proto: onnx.ModelProto
    label: str
    shown: str | None
    data_folder: str | None
    size: int  # bytes of the serialized model (its file's size for a path)


def _first_line(error: BaseException, limit: int = 300) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def prepare_model(
    model: ModelSource, label: str, base_dir: str | Path | None, stack: ExitStack
) -> PreparedModel:
    """``model`` (the ``label`` model, e.g. "original") made ready for onnxruntime; a
    temporary copy, if one is written, is removed when ``stack`` closes."""
    if isinstance(model, (str, Path)):
        path = Path(model)
        proto = load_model(path)
        return PreparedModel(str(path), proto, label, str(path), None, path.stat().st_size)
    if not isinstance(model, onnx.ModelProto):
        raise LinlintError(f"the {label} model must be an onnx.ModelProto or a path")
    external = uses_external_data(model)
    if external:
        if base_dir is None:
            raise LinlintError(
                f"the {label} model keeps weights in external files; give the folder they are in"
            )
        validate_external_data(model, base_dir)
    size = serialized_size(model)
    if size > PROTOBUF_LIMIT:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="linlint-")))
        path = folder / f"{label}.onnx"
        save_model(model, path, base_dir=base_dir, external_data=True)
        return PreparedModel(str(path), model, label, None, None, size)
    folder_text = str(Path(base_dir).resolve()) if external and base_dir is not None else None
    return PreparedModel(model.SerializeToString(), model, label, None, folder_text, size)


def open_session(prepared: PreparedModel, *, level: str = "none", spin: bool = False) -> Any:
    """An onnxruntime CPU session with graph optimizations at ``level`` (none, basic: constant
    folding and Conv+BN/Mul/Add fusions, all: also other kernels and layouts); ``spin`` (for
    timing) lets idle threads spin, which otherwise only burns shared cores and makes
    closing a session slow."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    if not spin:
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    # Fatal only: a failing run raises, and its message becomes our one-line error; at the
    # default level onnxruntime would also print it to stderr, a second (coloured) line.
    options.log_severity_level = 4
    options.graph_optimization_level = {
        "none": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
        "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
        "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
    }[level]
    if prepared.data_folder is not None:
        options.add_session_config_entry(_EXTERNAL_FOLDER_KEY, prepared.data_folder)
    try:
        return ort.InferenceSession(
            prepared.source, sess_options=options, providers=["CPUExecutionProvider"]
        )
    except Exception as error:  # onnxruntime raises its own pybind exception types
        raise LinlintError(
            f"onnxruntime cannot load the {prepared.label} model: {_first_line(error)}",
            prepared.shown,
        ) from None


def try_session(prepared: PreparedModel, *, level: str) -> Any | None:
    """``open_session``, or None when onnxruntime cannot load the model at that level."""
    try:
        return open_session(prepared, level=level)
    except LinlintError:
        return None


def _is_bfloat16(array: np.ndarray) -> bool:
    return array.dtype.name == "bfloat16"


def run_model(session: Any, feeds: Feeds, prepared: PreparedModel) -> dict[str, Any]:
    """Run once; outputs by name."""
    import onnxruntime as ort

    names = [output.name for output in session.get_outputs()]
    try:
        if any(_is_bfloat16(array) for array in feeds.values()):
            values = {
                name: ort.OrtValue.ortvalue_from_numpy_with_onnx_type(
                    array.view(np.uint16), onnx.TensorProto.BFLOAT16
                )
                if _is_bfloat16(array)
                else ort.OrtValue.ortvalue_from_numpy(np.ascontiguousarray(array))
                for name, array in feeds.items()
            }
            results = [value.numpy() for value in session.run_with_ort_values(names, values)]
        else:
            results = session.run(names, feeds)
    except Exception as error:  # onnxruntime raises its own pybind exception types
        raise LinlintError(
            f"onnxruntime failed to run the {prepared.label} model: {_first_line(error)}",
            prepared.shown,
        ) from None
    return dict(zip(names, results, strict=True))


def feeds_for(session: Any, feeds: Feeds) -> Feeds:
    """The arrays of ``feeds`` that ``session`` takes as inputs."""
    return {i.name: feeds[i.name] for i in session.get_inputs() if i.name in feeds}


def _flatten(name: str, value: Any) -> list[tuple[str, np.ndarray]]:
    """Outputs as named arrays: sequences and maps become one entry per element."""
    if isinstance(value, list):
        pairs: list[tuple[str, np.ndarray]] = [(f"{name}.length", np.asarray(len(value)))]
        for index, item in enumerate(value):
            pairs.extend(_flatten(f"{name}[{index}]", item))
        return pairs
    if isinstance(value, dict):
        keys = sorted(value, key=repr)
        pairs = [(f"{name}.keys", np.asarray([repr(k) for k in keys]))]
        for key in keys:
            pairs.extend(_flatten(f"{name}[{key!r}]", value[key]))
        return pairs
    return [(name, np.asarray(value))]


def flat_outputs(outputs: dict[str, Any]) -> Feeds:
    """Outputs by name as arrays only: each element of a sequence or map under its own name."""
    flat: Feeds = {}
    for name, value in outputs.items():
        flat.update(_flatten(name, value))
    return flat


def outputs_of(session: Any, feeds: Feeds, prepared: PreparedModel) -> Feeds:
    """Run on the arrays of ``feeds`` the session takes; the outputs flattened."""
    return flat_outputs(run_model(session, feeds_for(session, feeds), prepared))
