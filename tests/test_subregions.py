"""Specifications of sub-regions: what folds inside a region that does not fold as a whole."""

from __future__ import annotations

import numpy as np

import linlint
import tiny


def _conv(seed: int, cout: int = 4, cin: int = 4) -> np.ndarray:
    return tiny.weights((cout, cin, 1, 1), seed)


# conv1 → conv2 gives t, which the graph also outputs, then conv3 → conv4: the region of y
# is blocked (its intermediate t is read elsewhere) and overlaps the region of t.
SHARED_PREFIX = """g (float[1, 4, 5, 5] x) => (float[1, 4, 5, 5] t, float[1, 4, 5, 5] y) {
    [conv1] a = Conv <kernel_shape = [1, 1]> (x, w1)
    [conv2] t = Conv <kernel_shape = [1, 1]> (a, w2)
    [conv3] b = Conv <kernel_shape = [1, 1]> (t, w3)
    [conv4] y = Conv <kernel_shape = [1, 1]> (b, w4)
}"""


def _shared_prefix():
    return tiny.model(SHARED_PREFIX, w1=_conv(1), w2=_conv(2), w3=_conv(3), w4=_conv(4))


def test_a_region_blocked_by_another_regions_exit_is_reported_in_parts_not_twice():
    findings = linlint.check(_shared_prefix())
    assert [(f.code, f.nodes) for f in findings] == [
        ("LL001", ("conv1", "conv2")),
        ("LL001", ("conv3", "conv4")),
    ]


def test_both_parts_fold_in_one_round_and_verify():
    result = linlint.fold(_shared_prefix())
    assert [r.nodes for r in result.folded] == [("conv1", "conv2"), ("conv3", "conv4")]
    assert [n.op_type for n in result.model.graph.node] == ["Conv", "Conv"]
    assert result.verification.ok


def test_the_remainder_keeps_the_reason_and_only_the_nodes_no_part_took():
    # Conv 3x3 pad 1 → Conv 3x3 pad 1 (inexact at the borders) → Conv 1x1 → Conv 1x1
    model = tiny.model(
        """g (float[1, 4, 6, 6] x) => (float[1, 4, 6, 6] y) {
            [c1] a = Conv <kernel_shape = [3, 3], pads = [1, 1, 1, 1]> (x, k1)
            [c2] b = Conv <kernel_shape = [3, 3], pads = [1, 1, 1, 1]> (a, k2)
            [c3] c = Conv <kernel_shape = [1, 1]> (b, w3)
            [c4] y = Conv <kernel_shape = [1, 1]> (c, w4)
        }""",
        k1=tiny.weights((4, 4, 3, 3), 1),
        k2=tiny.weights((4, 4, 3, 3), 2),
        w3=_conv(3),
        w4=_conv(4),
    )
    findings = {f.code: f for f in linlint.check(model)}
    assert set(findings) == {"LL001", "LL003"}
    # the largest part that folds: c2's padding sees c1's output, nothing after c2 pads
    assert findings["LL001"].nodes == ("c2", "c3", "c4")
    assert findings["LL003"].nodes == ("c1",)
    assert "borders" in findings["LL003"].fix.reason


def test_a_region_that_forks_after_a_chain_is_described_from_the_fork():
    model = tiny.model(
        """g (float[1, 4, 5, 5] x) => (float[1, 4, 5, 5] y) {
            [c1] a = Conv <kernel_shape = [1, 1]> (x, w1)
            [c3] b = Conv <kernel_shape = [3, 3], pads = [1, 1, 1, 1]> (a, w3)
            [add] y = Add(a, b)
        }""",
        w1=_conv(1),
        w3=tiny.weights((4, 4, 3, 3), 3),
    )
    (finding,) = linlint.check(model)
    assert finding.message.startswith("Conv 1x1 → 2 linear branches (Conv 3x3; identity) summed")
