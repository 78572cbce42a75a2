from __future__ import annotations

from collections.abc import Sequence

from linlint.analysis.regions import Region
from linlint.rules.base import Fold, Rule
from linlint.wording import quoted


class UnfusedAffine(Rule):
    """A BatchNormalization, constant scale or shift, zero Pad or AveragePool left beside a
    parametric op that can absorb it exactly.

    ## What it finds
    One parametric op (Conv, ConvTranspose, Gemm, MatMul) next to affine ops it
    can absorb exactly: BatchNormalization or a per-channel Mul/Add/Sub/Div by
    a constant after it, a per-channel scale before it, a zero Pad into its
    pads. Only where folding leaves fewer nodes and no more MACs: a MatMul's
    bias Add, which onnxruntime fuses itself, is not reported.

    ## Why it matters
    Each such op is a full pass over the activation tensor at inference time
    for arithmetic the weights could have carried.

    ## Example
        Conv 3x3 → BatchNormalization → Relu     # BN never fused after training

    ## In the source
    The message names the two modules ("fuse `conv` and `bn` before export"):
    fuse them in eval mode (`torch.ao.quantization.fuse_modules`, or the
    model's own `fuse()`) before `torch.onnx.export`.

    ## Fix
    `linlint fold MODEL -o OUT` scales the weight rows and shifts the bias
    (`W' = W·γ/σ`, `b' = (b − μ)·γ/σ + β`), then verifies with onnxruntime.
    """

    code = "LL005"
    name = "unfused-affine"
    level = "warning"
    folds = Fold.DEFAULT
    summary = (
        "BatchNormalization, a per-channel constant Mul/Add/Sub/Div or a "
        "zero Pad that a parametric op absorbs exactly"
    )

    def in_source(self, modules: Sequence[str]) -> str:
        if len(modules) == 1:
            return f"{quoted(modules[0])} computes an affine op its weights could carry"
        return f"fuse {quoted(modules[0])} and {quoted(modules[-1])} before export"

    def on_region(self, region: Region) -> str | None:
        if region.has_join or region.n_params != 1 or not region.worth_folding:
            return None
        if region.reordered:  # the pool moves, nothing is absorbed: LL007's
            return None
        return f"{region.description} = {region.composes_to}"
