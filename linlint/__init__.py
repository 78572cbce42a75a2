"""linlint: find, fold and verify stacked linear layers in ONNX models.

The public API is three functions::

    findings = linlint.check("model.onnx")            # list[Finding]
    result = linlint.fold("model.onnx")                # FoldResult (verified with onnxruntime)
    report = linlint.verify("model.onnx", "folded.onnx")  # Verification

``check`` and ``fold`` read the configuration the command line reads (the nearest
``pyproject.toml`` with ``[tool.linlint]`` above the model file, or ``config``), so a
test agrees with ``linlint check`` and the pre-commit hook. The results are typed
dataclasses (``Finding``, ``Fix``, ``FoldResult``, ``Costs``, ``Verification``); the
package ships ``py.typed``. The folding and verification records are imported when
first used, so ``import linlint`` stays light.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from linlint.analysis.regions import Region
from linlint.checking.findings import Finding, Fix
from linlint.errors import LinlintError
from linlint.version import __version__

if TYPE_CHECKING:
    import numpy as np
    from onnx import ModelProto

    from linlint.checking.selection import Settings
    from linlint.folding.costs import Costs
    from linlint.folding.pipeline import FoldResult
    from linlint.verification.verdict import Verification

_PathLike = str | os.PathLike[str]
_Codes = str | Sequence[str] | None
_Shapes = Mapping[str, Sequence[int]] | None

_LAZY = {
    "Costs": "linlint.folding.costs",
    "FoldResult": "linlint.folding.pipeline",
    "Verification": "linlint.verification.verdict",
}


def __getattr__(name: str) -> Any:
    """``linlint.FoldResult``, ``Costs`` and ``Verification``, imported on first use."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'linlint' has no attribute '{name}'")


def _settings(
    path: Path | None,
    select: _Codes,
    ignore: _Codes,
    extend_select: _Codes,
    config: _PathLike | None,
    isolated: bool,
    input_shapes: _Shapes,
) -> Settings:
    """The CLI's settings for one model file (or a ModelProto: ``path`` None)."""
    from linlint.checking.selection import parse_codes
    from linlint.checking.settings import resolve_settings

    return resolve_settings(
        [path] if path is not None else [],
        config=Path(config) if config is not None else None,
        isolated=isolated,
        select=parse_codes(select) if select is not None else None,
        ignore=parse_codes(ignore),
        extend_select=parse_codes(extend_select),
        input_shapes={name: tuple(dims) for name, dims in (input_shapes or {}).items()},
    )


def _require_inputs(names: list[str], input_shapes: _Shapes, shown: str | None) -> None:
    """A shape the caller gave for an input the model does not have is an error."""
    from linlint.model.graphs import unknown_input_message

    missing = [name for name in input_shapes or {} if name not in names]
    if missing:
        raise LinlintError(unknown_input_message(missing, [names]), shown)


def check(
    model: str | os.PathLike[str] | ModelProto,
    *,
    select: str | Sequence[str] | None = None,
    ignore: str | Sequence[str] | None = None,
    extend_select: str | Sequence[str] | None = None,
    config: str | os.PathLike[str] | None = None,
    isolated: bool = False,
    input_shapes: Mapping[str, Sequence[int]] | None = None,
    baseline: str | os.PathLike[str] | None = None,
) -> list[Finding]:
    """The findings ``linlint check`` reports for one model file (or a ``ModelProto``).

    The same settings as the command line: the nearest ``pyproject.toml`` with a
    ``[tool.linlint]`` table above the file (``config``: that file instead; ``isolated``:
    none) gives the rule selection, the levels and the per-file ignores, then ``select``,
    ``ignore`` and ``extend_select`` (codes or prefixes: ``"LL001"``, ``["LL00"]``, ``"ALL"``)
    adjust it, as ``--select``/``--ignore``/``--extend-select``. Notes are findings too:
    ``[f for f in findings if f.level != "note"]`` is what fails ``check`` by default.
    Findings silenced by ``per-node-ignores``, a ``linlint:ignore`` entry in the model, or
    a baseline (``baseline``, else the configuration's, as ``--baseline``) are left out.

    ``input_shapes`` sizes symbolic input dims for the cost figures (``{"x": (1, 3, 224,
    224)}``); a name the model has no input of is a ``LinlintError`` listing its inputs.
    External weight files are never read. Every user-facing failure (unreadable file, bad
    configuration, unknown rule code) is a ``LinlintError`` with a one-line message.
    """
    from linlint.checking.checker import check_file_details, check_model
    from linlint.checking.suppression import (
        chosen_baseline,
        model_ignores,
        unsuppressed,
        without_baseline,
    )
    from linlint.model.graphs import input_names

    path = Path(model) if isinstance(model, (str, os.PathLike)) else None
    settings = _settings(path, select, ignore, extend_select, config, isolated, input_shapes)
    shapes = settings.input_shapes or None
    hashes, root = chosen_baseline(settings, baseline, [path] if path is not None else [])
    if path is None:
        proto: ModelProto = model  # type: ignore[assignment]
        _require_inputs(input_names(proto.graph), input_shapes, None)
        found = settings.apply(check_model(proto, input_shapes=shapes), "<model>")
        kept = unsuppressed(found, model_ignores(proto), settings, "<model>").kept
    else:
        findings, names, ignores = check_file_details(path, input_shapes=shapes)
        _require_inputs(names, input_shapes, str(path))
        kept = unsuppressed(settings.apply(findings, path), ignores, settings, path).kept
    return without_baseline(kept, hashes, root).kept if hashes else kept


def fold(
    model: str | os.PathLike[str] | ModelProto,
    *,
    select: str | Sequence[str] | None = None,
    ignore: str | Sequence[str] | None = None,
    extend_select: str | Sequence[str] | None = None,
    allow_growth: bool = False,
    config: str | os.PathLike[str] | None = None,
    isolated: bool = False,
    input_shapes: Mapping[str, Sequence[int]] | None = None,
    verify: bool = True,
    inputs: str | os.PathLike[str] | Mapping[str, np.ndarray] | None = None,
    rtol: float | None = None,
    atol: float | None = None,
    seed: int = 0,
    runs: int = 2,
    baseline: str | os.PathLike[str] | None = None,
) -> FoldResult:
    """Fold every exact, worthwhile region into one op, as ``linlint fold`` does, and verify the
    result with onnxruntime. The argument is not changed: the result holds a folded copy
    (``FoldResult.model``; ``FoldResult.save(path)`` writes it as ``fold -o`` does).

    Which rules fold: the configuration and ``select``/``ignore``/``extend_select``, as for
    ``check`` (of those, the rules that fold: LL001, LL004-LL007, and LL002 with
    ``allow_growth``). Verification (unless ``verify=False``, not advised): ``runs`` sets of
    seeded random inputs (``seed``), or your ``inputs`` (an ``.npz`` path or arrays by input
    name); the tolerance is the original's own noise unless ``rtol``/``atol`` are given.
    ``FoldResult.verification`` is None when nothing was folded (nothing to verify).
    ``FoldResult.remaining`` holds what ``check`` says of the folded model, at the configured
    levels. Findings silenced on purpose (a ``linlint:ignore`` entry in the model,
    ``per-node-ignores``, a baseline as for ``check``) are not folded: their nodes stay as
    they are, and ``FoldResult.suppressed`` counts them.
    """
    from linlint.checking.suppression import chosen_baseline, silencer
    from linlint.folding.options import FoldOptions
    from linlint.folding.pipeline import fold_model
    from linlint.model.graphs import input_names

    path = Path(model) if isinstance(model, (str, os.PathLike)) else None
    settings = _settings(path, select, ignore, extend_select, config, isolated, input_shapes)
    hashes, root = chosen_baseline(settings, baseline, [path] if path is not None else [])
    options = FoldOptions(
        codes=settings.enabled_for(path or "<model>"),
        allow_growth=allow_growth,
        input_shapes=settings.input_shapes or None,
        verify=verify,
        inputs=inputs,
        rtol=rtol,
        atol=atol,
        seed=seed,
        runs=runs,
        silence=silencer(settings, path or "<model>", hashes, root),
    )
    result = fold_model(model if path is None else path, options)
    _require_inputs(input_names(result.model.graph), input_shapes, str(path) if path else None)
    result.remaining = settings.apply(result.remaining, path or "<model>")
    return result


def verify(
    original: str | os.PathLike[str] | ModelProto,
    candidate: str | os.PathLike[str] | ModelProto,
    *,
    inputs: str | os.PathLike[str] | Mapping[str, np.ndarray] | None = None,
    rtol: float | None = None,
    atol: float | None = None,
    seed: int = 0,
    runs: int = 1,
    benchmark: bool = False,
    input_shapes: Mapping[str, Sequence[int]] | None = None,
    base_dir: str | os.PathLike[str] | None = None,
) -> Verification:
    """Run both models on the same inputs with onnxruntime and compare every output, as
    ``linlint verify`` does; ``Verification.ok`` and ``.summary()`` say the verdict.

    Inputs: ``runs`` sets of seeded random values (``seed``), each symbolic size also at 7
    and 9, or your ``inputs`` (an ``.npz`` path or arrays by input name); ``input_shapes``
    sizes symbolic dims. A float element may differ by 16x the original's own rounding
    noise there, unless ``rtol``/``atol`` give a fixed bound; integers must be equal.
    ``benchmark`` also times both models. ``base_dir``: the folder a ``ModelProto``'s
    external weights are in.
    """
    from linlint.verification.compare import verify as _verify

    shapes = {name: tuple(dims) for name, dims in (input_shapes or {}).items()} or None
    return _verify(
        _source(original),
        _source(candidate),
        inputs=_source(inputs) if isinstance(inputs, (str, os.PathLike)) else inputs,
        rtol=rtol,
        atol=atol,
        seed=seed,
        runs=runs,
        benchmark=benchmark,
        input_shapes=shapes,
        base_dir=base_dir,
    )


def _source(model: Any) -> Any:
    """A path as a ``Path``, a ``ModelProto`` as it is."""
    return Path(model) if isinstance(model, (str, os.PathLike)) else model


__all__ = [
    "Costs",
    "Finding",
    "Fix",
    "FoldResult",
    "LinlintError",
    "Region",
    "Verification",
    "__version__",
    "check",
    "fold",
    "verify",
]
