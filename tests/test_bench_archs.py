"""The real-architecture benchmark models (``bench/archs.py``): valid, runnable, and counted
right — linlint's MAC total is the one onnx shape inference gives.

The reference is ``test_costs.macs_by_inference`` run on the model after onnx inference
with data propagation (torch writes Reshape targets computed from ``Shape``; without
propagation onnx leaves their sizes unknown and the helper would count them as 1).
linlint itself reads the model as built, without any ``value_info``.
"""

from __future__ import annotations

import sys

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from conftest import ROOT
from linlint.folding.costs import model_costs

sys.path.append(str(ROOT / "bench"))
import archs  # noqa: E402 - bench/ is not a package: its folder goes on the path first
from test_costs import WEIGHTED, macs_by_inference  # noqa: E402

NAMES = list(archs.ARCHS)


def _inferred(model: onnx.ModelProto) -> onnx.ModelProto:
    return onnx.shape_inference.infer_shapes(model, strict_mode=True, data_prop=True)


@pytest.mark.parametrize("name", list(archs.ARCHS))
def test_the_model_is_valid_and_runs_in_onnxruntime(name):
    model = archs.ARCHS[name]()
    onnx.checker.check_model(model, full_check=True)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    feeds = {i.name: rng.standard_normal(i.shape).astype(np.float32) for i in session.get_inputs()}
    outputs = session.run(None, feeds)
    for declared, value in zip(model.graph.output, outputs, strict=True):
        dims = tuple(d.dim_value for d in declared.type.tensor_type.shape.dim)
        assert value.shape == dims
        assert np.isfinite(value).all()


@pytest.mark.parametrize("name", list(archs.ARCHS))
def test_onnx_inference_knows_every_weighted_op_size(name):
    """The reference is complete: no size it counts with is unknown."""
    inferred = _inferred(archs.ARCHS[name]())
    known = {
        vi.name
        for vi in (*inferred.graph.value_info, *inferred.graph.output)
        if vi.type.tensor_type.HasField("shape")
        and all(d.HasField("dim_value") for d in vi.type.tensor_type.shape.dim)
    }
    for node in inferred.graph.node:
        if node.op_type in WEIGHTED:
            assert node.output[0] in known, node.name


@pytest.mark.parametrize("name", NAMES)
def test_the_mac_total_is_the_one_onnx_shape_inference_gives(name):
    model = archs.ARCHS[name]()
    assert model_costs(model).macs == macs_by_inference(_inferred(model))
