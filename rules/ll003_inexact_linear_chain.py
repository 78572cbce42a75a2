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

    ## Why it matters
    Away from the borders the stack is one linear map, so it most likely
    lacks an activation; the fold is not exact, so linlint will not do it.

    ## Example
        Conv 3x3 pad 1 → Conv 3x3 pad 1     # the second conv zero-pads conv1's output

    ## Fix
    Add the missing activation, or retrain with the layers merged. `fold`
    never rewrites these.
    """

    code = "LL003"
    name = "inexact-linear-chain"
    level = "note"
    folds = Fold.NEVER
    summary = "≥ 2 parametric ops in series, linear except at the borders: no exact single op"

    def on_region(self, region: Region) -> str | None:
        if region.n_params < 2 or region.exact:
            return None
        return f"{region.description} is linear but has no exact single-op form: {region.reason}"
