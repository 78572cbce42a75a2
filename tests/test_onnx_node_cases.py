"""Every node test case onnx ships (one model per operator and variant, ~1,900): check
runs on each without an error, and the only findings are real ones."""

from __future__ import annotations

import warnings

import linlint


def _cases():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from onnx.backend.test.case import node

        return [c for c in node.collect_testcases(None) if c.model is not None]


def test_check_runs_on_every_operator_test_case_onnx_ships():
    cases = _cases()
    assert len(cases) > 1000
    findings = {}
    for case in cases:
        found = linlint.check(case.model)
        if found:
            findings[case.name] = sorted(f.code for f in found)
    # Nothing in onnx's operator tests stacks weight-carrying linear ops, and no activation
    # there is the identity on every value (Clip without bounds clamps ±Inf).
    assert findings == {}
