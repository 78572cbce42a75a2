"""linlint: find, fold and verify stacked linear layers in ONNX models.

The public API is three functions::

    findings = linlint.check("model.onnx")            # list[Finding]
    result = linlint.fold("model.onnx")                # FoldResult (verified with onnxruntime)
    report = linlint.verify("model.onnx", "folded.onnx")  # Verification
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from linlint.errors import LinlintError
from linlint.findings import Finding, Fix
from linlint.regions import Region

if TYPE_CHECKING:
    from onnx import ModelProto

    from linlint.folding import FoldResult
    from linlint.verification import Verification

__version__ = "0.1.0"


def check(
    model: str | Path | ModelProto, *, input_shapes: dict[str, tuple[int, ...]] | None = None
) -> list[Finding]:
    """All findings of all rules (default levels) for a model file or a ModelProto."""
    from linlint.checker import check_file, check_model

    if isinstance(model, (str, Path)):
        return check_file(Path(model), input_shapes=input_shapes)
    return check_model(model, input_shapes=input_shapes)


def fold(model: str | Path | ModelProto, **options) -> FoldResult:
    """Fold every exact, worthwhile region; verified with onnxruntime unless verify=False."""
    from linlint.folding import fold_model

    return fold_model(model, **options)


def verify(original, candidate, **options) -> Verification:
    """Run both models on the same inputs with onnxruntime and compare every output."""
    from linlint.verification import verify as _verify

    return _verify(original, candidate, **options)


__all__ = ["Finding", "Fix", "LinlintError", "Region", "check", "fold", "verify", "__version__"]
