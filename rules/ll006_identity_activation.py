from __future__ import annotations

from collections.abc import Sequence

from linlint.analysis.regions import FlaggedNode
from linlint.rules.base import Fold, Rule
from linlint.wording import quoted


class IdentityActivation(Rule):
    """An activation that is the identity on its input.

    ## What it finds
    LeakyRelu with alpha = 1, PRelu whose slopes are all 1, Clip with bounds
    -inf and +inf, and Relu applied to a tensor that is already non-negative
    (the output of Relu, Sigmoid, Softmax, Exp, or Abs of a float tensor).
    Each fact holds for the tensor's dtype and every value, Inf included:
    Clip with no bounds is not the identity (it clamps ±Inf to the type's
    largest finite values), nor is Relu after Abs on integers (Abs(INT_MIN)
    is INT_MIN).

    ## Why it matters
    The node costs a pass over the tensor and does nothing; worse, it hides
    that the layers around it compose linearly (the chain it hides is
    reported by LL001–LL004 too). It is often a typo (`alpha=1` for `0.1`).

    ## Example
        Conv → LeakyRelu(alpha=1.0) → Conv

    ## In the source
    The message names the module ("`act` is the identity here"): give it the
    parameters you meant (`nn.LeakyReLU(0.1)`, not `(1.0)`), or remove it.

    ## Fix
    Use the activation you meant, or run `linlint fold`, which removes the
    node and folds the chain behind it.
    """

    code = "LL006"
    name = "identity-activation"
    level = "warning"
    folds = Fold.DEFAULT
    subject = "node"
    summary = "an activation that is the identity on its input (LeakyRelu α=1, Clip(-inf, inf), …)"

    def in_source(self, modules: Sequence[str]) -> str:
        return f"{quoted(modules[0])} is the identity here"

    def on_node(self, node: FlaggedNode) -> str | None:
        return f"{node.op_type} {quoted(node.name)} is the identity: {node.why}"
