"""The rates of linlint's runtime cost model, measured again on this machine.

``linlint/analysis/cost_model.py`` estimates what a region costs on onnxruntime's CPU
provider from three rates: nanoseconds per multiply-add of a Conv or MatMul, per byte an
elementwise op reads or writes, and per node. This script measures each with tiny
one-op models (the same session options as the latency benchmarks, ``peers.py``), prints
them beside the table's values, and the ratio of each to the others — the estimate only
compares forms of one region, so the ratios are what must hold:

    python bench/cost_model.py [--quick]
"""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from peers import session_options

from linlint.analysis.cost_model import NS_PER_BYTE, NS_PER_MAC, NS_PER_NODE


def _session(nodes, inits: dict[str, np.ndarray], x_shape, y_shape):
    import onnxruntime as ort

    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x_shape))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(y_shape))],
        [numpy_helper.from_array(v, k) for k, v in inits.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return ort.InferenceSession(
        model.SerializeToString(), session_options(), providers=["CPUExecutionProvider"]
    )


def _median_ns(session, x: np.ndarray, runs: int) -> float:
    for _ in range(10):
        session.run(None, {"x": x})
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        session.run(None, {"x": x})
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e9


def measure(runs: int) -> dict[str, float]:
    """Nanoseconds per multiply-add, per byte moved and per node."""
    rng = np.random.default_rng(0)
    c, hw = 128, 28
    x = rng.standard_normal((1, c, hw, hw), np.float32)
    w = rng.standard_normal((c, c, 1, 1), np.float32)
    conv = _session([helper.make_node("Conv", ["x", "w"], ["y"])], {"w": w}, x.shape, x.shape)
    add = _session(
        [helper.make_node("Add", ["x", "m"], ["y"])],
        {"m": rng.standard_normal(x.shape, np.float32)},
        x.shape,
        x.shape,
    )
    tiny = rng.standard_normal((1, 8), np.float32)
    chain = []
    for i in range(50):
        out = "y" if i == 49 else f"t{i}"
        chain.append(helper.make_node("Neg", ["x" if i == 0 else f"t{i - 1}"], [out]))
    one = _session([helper.make_node("Neg", ["x"], ["y"])], {}, tiny.shape, tiny.shape)
    fifty = _session(chain, {}, tiny.shape, tiny.shape)
    base = _median_ns(one, tiny, runs)
    return {
        "ns per multiply-add (Conv 1x1 128->128 at 28x28)": (_median_ns(conv, x, runs) - base)
        / (c * c * hw * hw),
        "ns per byte moved (Add of a full-size map)": (_median_ns(add, x, runs) - base)
        / (3 * x.size * 4),
        "ns per node (a chain of 50 tiny Neg)": (_median_ns(fifty, tiny, runs) - base) / 49,
    }


def main() -> None:
    runs = 50 if "--quick" in sys.argv else 400
    measured = measure(runs)
    table = dict(zip(measured, (NS_PER_MAC, NS_PER_BYTE, NS_PER_NODE), strict=True))
    print("| rate | measured | linlint's table | measured / table |")
    print("|---|---:|---:|---:|")
    for name, value in measured.items():
        print(f"| {name} | {value:.4g} | {table[name]:.4g} | {value / table[name]:.2f}× |")
    mac, byte, node = measured.values()
    print()
    table_ratio = NS_PER_MAC / NS_PER_BYTE
    print(f"bytes per multiply-add of time: measured {mac / byte:.2f}, table {table_ratio:.2f}")
    print(
        f"multiply-adds per node: measured {node / mac:,.0f}, table {NS_PER_NODE / NS_PER_MAC:,.0f}"
    )


if __name__ == "__main__":
    main()
