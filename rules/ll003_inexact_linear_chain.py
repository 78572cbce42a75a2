from __future__ import annotations

from linlint.analysis.regions import Region
from linlint.rules.base import Fold, Rule


class InexactLinearChain(Rule):
    """Parametric ops with no nonlinearity between that no single op can replace exactly.

    ## What it finds
    Two or more parametric linear ops joined only by affine ops, where an
    exact fold into one operator is not possible: zero padding after a
    spatial kernel or after an offset (the borders differ), branches whose
    strides or pads do not line up, an intermediate tensor that other nodes
    also read, or an op linlint cannot fold. The reason is in the finding.
    Also one parametric op after an affine op with a shift (a
    BatchNormalization, an Add) when the op zero-pads: the scale would fold
    into its weights exactly, the shift only away from the borders.

    ## Why it matters
    Away from the borders the stack is one linear map, so it most likely
    lacks an activation; the fold is not exact, so linlint will not do it.

    ## Example
        Conv 3x3 pad 1 → Conv 3x3 pad 1     # the second conv zero-pads conv1's output
        BatchNormalization → Conv 3x3 pad 1 # the padding sees zeros, not the BN's shift

    Some folds are exact only on sizes the model fixes (a border-correction
    map, `ceil_mode` with a stride, SAME pads with a stride, a Reshape that
    keeps the width): on a model exported with dynamic sizes the reason says
    so. `--input-shape` sets the sizes of the figures, never exactness:
    export the model with static shapes to fold them.

    ## In the source
    The message names the modules ("no activation between `conv1` and
    `conv2`"): add the activation between them in `forward`.

    ## Fix
    Add the missing activation, or retrain with the layers merged. `fold`
    never rewrites these.
    """

    code = "LL003"
    name = "inexact-linear-chain"
    level = "note"
    folds = Fold.NEVER
    summary = (
        "≥ 2 parametric ops with no nonlinearity between, but no exact single "
        "op (zero padding between, misaligned branches, …)"
    )

    def on_region(self, region: Region) -> str | None:
        if region.exact or (region.n_params < 2 and not region.offset_at_borders):
            return None
        return f"{region.description} is linear but has no exact single-op form: {region.reason}"
