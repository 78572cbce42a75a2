from __future__ import annotations

from collections.abc import Sequence

from linlint.analysis.regions import Region
from linlint.rules.base import Fold, Rule
from linlint.wording import quoted


class PoolAfterPointwise(Rule):
    """An average pool after a pointwise linear map: pooling first is exact and cheaper.

    ## What it finds
    One parametric op that acts on each position alone (a Conv 1x1, stride 1,
    no pads, with the BatchNormalization or per-channel constants around it)
    followed, with no nonlinearity between, by an AveragePool or
    GlobalAveragePool that maps a constant image to itself (no padding it
    counts, no partial window). The two commute: the pool can run first and
    the conv on the pooled image, at a fraction of the multiply-adds — where
    the onnxruntime cost estimate (multiply-adds, memory passes, nodes) says
    so.

    ## Why it matters
    `pool(conv1x1(x)) = conv1x1(pool(x))`. A 2x2 stride-2 pool after the conv
    makes it do 4x the work it needs: a DenseNet transition spends a quarter
    of its multiply-adds on positions the pool then averages away. Fusing the
    two into one Conv 2x2 stride 2 keeps the multiply-adds and multiplies the
    weights by 4 (and is slower on onnxruntime); swapping them is the cheap
    exact form.

    ## Example
        BN → Relu → Conv 1x1 (256→128) → AveragePool 2x2 stride 2   # DenseNet transition
        Conv 1x1 (64→256) → GlobalAveragePool → Flatten → Gemm

    ## In the source
    The message names the modules ("call `pool` before `conv`"): swap the two
    calls in `forward`.

    ## Fix
    Pool first in the source (`nn.AvgPool2d` before the `nn.Conv2d(k=1)`), or
    run `linlint fold MODEL -o OUT`: it writes the model's own pool on the
    conv's input, then one Conv 1x1 with the folded weights, and verifies the
    result with onnxruntime.
    """

    code = "LL007"
    name = "pool-after-pointwise"
    level = "warning"
    folds = Fold.DEFAULT
    summary = "an average pool after a pointwise conv: pooling first is exact and cheaper"

    def in_source(self, modules: Sequence[str]) -> str:
        if len(modules) == 1:
            return f"pool before the pointwise conv in {quoted(modules[0])}"
        return f"call {quoted(modules[-1])} before {quoted(modules[0])}"

    def on_region(self, region: Region) -> str | None:
        if not region.reordered or region.n_params != 1 or not region.worth_folding:
            return None
        return f"{region.description} = {region.composes_to}"
