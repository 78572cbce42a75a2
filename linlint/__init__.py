"""linlint: find, fold and verify stacked linear layers in ONNX models.

The public API is three functions::

    findings = linlint.check("model.onnx")            # list[Finding]
    result = linlint.fold("model.onnx")                # FoldResult (verified with onnxruntime)
    report = linlint.verify("model.onnx", "folded.onnx")  # Verification
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from linlint.analysis.regions import Region
from linlint.checking.findings import Finding, Fix
from linlint.errors import LinlintError
from linlint.version import __version__

if TYPE_CHECKING:
    from onnx import ModelProto

    from linlint.folding.pipeline import FoldResult
    from linlint.verification.verdict import Verification


def check(
    model: str | Path | ModelProto, *, input_shapes: dict[str, tuple[int, ...]] | None = None
) -> list[Finding]:
    """All findings of all rules (default levels) for a model file or a ModelProto."""
    from linlint.checking.checker import check_file, check_model

    if isinstance(model, (str, Path)):
        return check_file(Path(model), input_shapes=input_shapes)
    return check_model(model, input_shapes=input_shapes)


def fold(model: str | Path | ModelProto, **options) -> FoldResult:
    """Fold every exact, worthwhile region; verified with onnxruntime unless verify=False."""
    from linlint.folding.pipeline import fold_model

    return fold_model(model, **options)


def verify(original, candidate, **options) -> Verification:
    """Run both models on the same inputs with onnxruntime and compare every output."""
    from linlint.verification.compare import verify as _verify

    return _verify(original, candidate, **options)


__all__ = ["Finding", "Fix", "LinlintError", "Region", "check", "fold", "verify", "__version__"]
