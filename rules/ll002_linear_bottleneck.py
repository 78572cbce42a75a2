from __future__ import annotations

from linlint.analysis.regions import Region
from linlint.rules.base import Fold, Rule


class LinearBottleneck(Rule):
    """Parametric ops that compose to one affine map, but folding them would cost more.

    ## What it finds
    Two or more parametric linear ops with no nonlinearity between them whose
    exact composition would need more multiply-accumulates than the chain:
    a low-rank factorization (1x1 down then 1x1 up, a Gemm through a narrow
    width), a factorized convolution (depthwise then pointwise), or linear maps
    on two axes (MatMul → Transpose → MatMul, MLP-Mixer's token and channel
    mixing without an activation: one MatMul on the two axes flattened).

    Also a region whose fold is exact (one parametric op with what it would
    absorb, or more) but whose cost linlint cannot decide: where the model
    leaves a size symbolic and folding pays at size 1 but not at 64 (or the
    other way round: pass `--input-shape` to decide), or where
    linlint cannot tell the shape of the chain's input (a custom op's output)
    and the answer is not the same at sizes 1 and 64 (its MACs are reported
    as unknown). A fold that may raise MACs never runs by default.

    ## Why it matters
    The stack is still one affine map: it cannot express more than a single
    layer. That can be a deliberate cost-saving design (MobileNetV2's linear
    bottleneck), so this is a note, not a warning: check that no activation
    was forgotten.

    ## Example
        Conv 1x1 (64→8) → Conv 1x1 (8→64)     # rank-8 map, cheaper than 64x64
        x[B, N, C] → MatMul (C→C') → Transpose(0, 2, 1) → MatMul (N→N')
                                             # one (N·C)x(C'·N') MatMul: a Kronecker product

    ## In the source
    The message names the two modules ("no activation between `reduce` and
    `expand`"): keep them if the bottleneck is meant, else add the activation
    between them in `forward`.

    ## Fix
    Nothing, if the factorization is intended. If an activation is missing,
    add it. `linlint fold --allow-growth` folds it into one op anyway. Where
    the cost is undecided, `--input-shape NAME=1x3x224x224` (the sizes the
    model runs at) decides it.
    """

    code = "LL002"
    name = "linear-bottleneck"
    level = "note"
    folds = Fold.WITH_GROWTH
    summary = (
        "≥ 2 parametric ops compose to one affine map, but folding would "
        "raise MACs (or sizes the model leaves open decide)"
    )

    def on_region(self, region: Region) -> str | None:
        if region.fix.exact and region.fix.undecided and region.n_params >= 1:
            return f"{region.description} = {region.composes_to}, but {region.fix.undecided}"
        if region.n_params < 2 or not region.may_grow:
            return None
        return (
            f"{region.description} = {region.composes_to}, but folding would raise MACs "
            f"{region.macs_before:,} → {region.macs_after:,}"
        )
