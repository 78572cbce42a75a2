from __future__ import annotations

from collections.abc import Sequence

from linlint.analysis.regions import Region
from linlint.rules.base import Fold, Rule
from linlint.wording import quoted


class ParallelLinearBranches(Rule):
    """Linear branches from one source summed or concatenated, mergeable into one op.

    ## What it finds
    Branches that start at the same tensor, each linear (Conv + BN, identity,
    AveragePool, 1x1 → KxK), joined by Add / Sum / Sub / Concat with no
    nonlinearity: RepVGG, ACNet, DBB and MobileOne blocks exported before
    re-parameterization, or a residual `x + conv(x)`.

    ## Why it matters
    The sum of convolutions of one input is one convolution with the summed
    (centred) kernels. Running the branches separately costs several convs,
    several reads of the input and the adds, for the result of one conv.

    ## Example
        y = BN(Conv3x3(x)) + BN(Conv1x1(x)) + BN(x)      # RepVGG training form

    ## In the source
    The message names the modules of the branches: re-parameterize the block
    that holds them (RepVGG's `switch_to_deploy`, MobileOne's `reparameterize`)
    before `torch.onnx.export`.

    ## Fix
    Re-parameterize before export, or run `linlint fold MODEL -o OUT`, which
    merges the branches into one Conv and verifies it with onnxruntime.
    """

    code = "LL004"
    name = "parallel-linear-branches"
    level = "warning"
    folds = Fold.DEFAULT
    summary = (
        "linear branches from one source summed or concatenated, "
        "exactly mergeable (RepVGG, ACNet, DBB, x + conv(x))"
    )

    def in_source(self, modules: Sequence[str]) -> str:
        if len(modules) == 1:
            return f"the linear branches in {quoted(modules[0])} are summed with no activation"
        return (
            f"{quoted(modules[0])} … {quoted(modules[-1])} are linear branches summed with no "
            "activation: re-parameterize them before export"
        )

    def on_region(self, region: Region) -> str | None:
        if not region.has_join or region.n_params < 1 or not region.worth_folding:
            return None
        return f"{region.description} = {region.composes_to}"
