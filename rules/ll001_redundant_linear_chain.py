from __future__ import annotations

from linlint.analysis.regions import Region
from linlint.rules.base import Fold, Rule


class RedundantLinearChain(Rule):
    """Two or more weight-carrying linear ops in series with no nonlinearity between.

    ## What it finds
    A chain of parametric linear operators (Conv, ConvTranspose, Gemm, MatMul
    or Einsum with a constant weight) joined only by affine or shape operators
    (BatchNormalization, Add/Mul by a constant, Reshape of leading axes,
    Identity, Dropout, ...), whose composition is exactly one operator of the
    same family and costs no more multiply-accumulates than the chain.

    ## Why it matters
    `W2·(W1·x + b1) + b2 = (W2·W1)·x + (W2·b1 + b2)`: the chain is one affine
    map. The model pays for several layers and gets the expressive power of
    one, usually because an activation was forgotten or an over-parameterized
    training-time design was exported as is.

    ## Example
        Conv 1x1 (8→32) → Conv 3x3 (32→32) → Conv 1x1 (32→8)   # ExpandNets
        Gemm (64→64) → Gemm (64→32)                            # no activation

    ## In the source
    A model exported from PyTorch names the modules (`block.expand (Conv2d) →
    block.conv (Conv2d)`) and the line that calls the first: the message says
    "no activation between `block.expand` and `block.conv`". Add the
    activation there (`nn.Identity` where an activation was meant is a common
    cause), or merge the two layers into one.

    ## Fix
    Insert the missing activation if one was intended. Otherwise run
    `linlint fold MODEL -o OUT`: it composes the chain into one operator
    (`Conv 3x3 (8→8)`, `Gemm (64→32)`) in float64, casts back to the weight
    dtype, and verifies the result with onnxruntime before writing.
    """

    code = "LL001"
    name = "redundant-linear-chain"
    level = "warning"
    folds = Fold.DEFAULT
    summary = "≥ 2 parametric ops in series, no nonlinearity, fold exact and not more MACs"

    def on_region(self, region: Region) -> str | None:
        if region.has_join or region.n_params < 2 or not region.worth_folding:
            return None
        return f"{region.description} = {region.composes_to}"
