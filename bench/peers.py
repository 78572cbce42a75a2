"""Target 5: what folding buys, side by side with the peer tools, in the same run.

For every sample model (``sample_models/*.onnx``) and the benchmark networks
(RepVGG-A0 in training form, the 4096-wide MLP, the hybrid conv+transformer
model with random weights), six versions:

* the original;
* ``linlint fold`` (the CLI when it exists, else the Python API);
* onnxoptimizer with its fuse and elimination passes
  (``get_fuse_and_elimination_passes()``: fuse_bn_into_conv,
  fuse_add_bias_into_conv, fuse_matmul_add_bias_into_gemm, fuse_pad_into_conv,
  fuse_consecutive_*, eliminate_*, ...);
* onnxslim (``onnxslim.slim``, defaults);
* onnxruntime's offline optimizer (ORT_ENABLE_EXTENDED, ``optimized_model_filepath``);
* ``linlint fold`` followed by onnxruntime's offline optimizer.

Of each: parametric ops (Conv, ConvTranspose, Gemm, MatMul, Einsum and ORT's
Fused* ops with a constant operand), nodes, MACs (from output shapes found by
one onnxruntime run), float parameters, and onnxruntime CPU latency: every
version in one process, the same session options, runs interleaved round by
round (the order rotating), median. Each model is measured in its own child
process.

    python bench/peers.py [--quick]
"""

from __future__ import annotations

import contextlib
import io
import math
import shutil
import time
from pathlib import Path

import common
import models
from common import Section, Target, fmt_count, fmt_ms

VARIANTS = ("original", "linlint", "onnxoptimizer", "onnxslim", "ORT offline", "linlint + ORT")
PEERS = ("onnxoptimizer", "onnxslim", "ORT offline")
SAMPLES = common.ROOT / "sample_models"
QUICK_SAMPLES = ("ll005_conv_bn",)  # --quick: one sample model, one process to measure it
TIE = 0.03  # relative latency difference reported as a tie
THREADS = 1
PARAM_OPS = {
    "Conv",
    "ConvTranspose",
    "Gemm",
    "MatMul",
    "Einsum",
    "FusedConv",
    "FusedGemm",
    "FusedMatMul",
    "NhwcConv",
    "ConvInteger",
    "MatMulInteger",
    "QLinearConv",
    "QLinearMatMul",
}


# --------------------------------------------------------------------------- transforms


def _linlint(src: Path, out: Path) -> tuple[Path, int | None, str]:
    """Fold with linlint; the folded file (or the original when nothing changed)."""
    cmd, is_cli = common.fold_cmd(src, out)
    if is_cli:
        r = common.run(cmd)
        if r.returncode not in (0, 1):
            raise RuntimeError((r.stderr or r.stdout).strip().splitlines()[-1])
        return (out if out.exists() else src), None, "cli"
    import linlint
    from linlint.model.write import save_model

    result = linlint.fold(src)
    if result.verification is not None and not result.verification.ok:
        raise RuntimeError(result.verification.summary())
    if not result.folded:
        return src, 0, "api"
    save_model(result.model, out, base_dir=result.base_dir)
    return out, len(result.folded), "api"


def _onnxoptimizer(src: Path, out: Path) -> Path:
    import onnx
    import onnxoptimizer

    model = onnxoptimizer.optimize(
        onnx.load(str(src)), onnxoptimizer.get_fuse_and_elimination_passes()
    )
    onnx.save(model, str(out))
    return out


def onnxslim_file(src: Path, out: Path) -> Path:
    """``onnxslim.slim`` (its defaults) of ``src``, written to ``out``; its output muted."""
    import onnx
    import onnxslim

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        model = onnxslim.slim(onnx.load(str(src)))
    onnx.save(model, str(out))
    return out


def _ort_offline(src: Path, out: Path) -> Path:
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    so.optimized_model_filepath = str(out)
    so.log_severity_level = 3
    ort.InferenceSession(str(src), so, providers=["CPUExecutionProvider"])
    return out


# --------------------------------------------------------------------------- structure


def _const_names(graph, outer: frozenset = frozenset()) -> set[str]:
    """Initializers (here or outside), Constant outputs, outputs of all-constant nodes."""
    const = set(outer) | {t.name for t in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant" or (
            node.input
            and all(not i or i in const for i in node.input)
            and not any(a.type in (5, 10) for a in node.attribute)  # GRAPH, GRAPHS
        ):
            const.update(o for o in node.output if o)
    return const


def _const_shapes(graph) -> dict[str, tuple[int, ...]]:
    shapes = {t.name: tuple(t.dims) for t in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant":
            for a in node.attribute:
                if a.name == "value":
                    shapes[node.output[0]] = tuple(a.t.dims)
    return shapes


def _param_nodes(graph, const: set[str] | None = None) -> list:
    const = _const_names(graph) if const is None else const
    out = []
    for node in graph.node:
        if node.op_type not in PARAM_OPS:
            continue
        ins = [i for i in node.input if i]
        if node.op_type in ("Conv", "ConvTranspose", "FusedConv", "NhwcConv", "ConvInteger"):
            ok = len(ins) > 1 and ins[1] in const and ins[0] not in const
        elif node.op_type == "QLinearConv":
            ok = len(ins) > 3 and ins[3] in const
        else:
            ok = any(i in const for i in ins[:2]) and not all(i in const for i in ins[:2])
        if ok:
            out.append(node)
    return out


def _graphs(graph, outer: frozenset = frozenset()):
    """Every graph with the names constant in it (a subgraph sees its parents' constants)."""
    const = _const_names(graph, outer)
    yield graph, const
    for node in graph.node:
        for a in node.attribute:
            for sub in ([a.g] if a.type == 5 else []) + list(a.graphs):
                yield from _graphs(sub, frozenset(const))


def _attr(node, name: str, default):
    for a in node.attribute:
        if a.name == name:
            return a.i
    return default


def _macs(node, shapes: dict, const_shapes: dict) -> int:
    ins = [i for i in node.input]
    out = shapes.get(node.output[0])
    if out is None:
        return 0
    n_out = math.prod(out)
    op = node.op_type
    if op in ("Conv", "FusedConv", "NhwcConv", "ConvInteger", "QLinearConv"):
        w = const_shapes.get(ins[3] if op == "QLinearConv" else ins[1])
        return n_out * math.prod(w[1:]) if w else 0
    if op == "ConvTranspose":
        w, x = const_shapes.get(ins[1]), shapes.get(ins[0])
        return math.prod(x) * math.prod(w[1:]) if w and x else 0
    if op in ("Gemm", "FusedGemm"):
        b, a = const_shapes.get(ins[1]), const_shapes.get(ins[0])
        if b:
            return n_out * (b[1] if _attr(node, "transB", 0) else b[0])
        if a:
            return n_out * (a[0] if _attr(node, "transA", 0) else a[1])
        return 0
    if op in ("MatMul", "FusedMatMul", "MatMulInteger", "QLinearMatMul"):
        bi = 3 if op == "QLinearMatMul" else 1
        b, a = const_shapes.get(ins[bi]), const_shapes.get(ins[0])
        if b:
            if len(b) == 1:
                return n_out * b[0]
            return n_out * (b[-1] if _attr(node, "transB", 0) else b[-2])
        if a:
            return n_out * (a[-2] if _attr(node, "transA", 0) and len(a) > 1 else a[-1])
    return 0  # Einsum: not counted


def _float_params(graph) -> int:
    n = 0
    for t in graph.initializer:
        if t.data_type in (1, 10, 11, 16):
            n += math.prod(t.dims)
    for node in graph.node:
        if node.op_type == "Constant":
            for a in node.attribute:
                if a.name == "value" and a.t.data_type in (1, 10, 11, 16):
                    n += math.prod(a.t.dims)
    return n


def structure(path: Path, feeds: dict) -> dict:
    """Param ops, nodes, MACs (main graph, from one ORT run), float params of a model file."""
    import onnx
    import onnxruntime as ort

    model = onnx.load(str(path))
    walked = list(_graphs(model.graph))
    graphs = [g for g, _ in walked]
    param = [n for g, const in walked for n in _param_nodes(g, const)]
    main_param = _param_nodes(model.graph)
    wanted = []
    inits = {t.name for t in model.graph.initializer}
    inputs = {i.name for i in model.graph.input}
    for node in main_param:  # outputs, and operands computed at run time (weights too)
        wanted.append(node.output[0])
        wanted += [i for i in node.input if i and i not in inits and i not in inputs]
    present = {o.name for o in model.graph.output}
    for name in dict.fromkeys(wanted):
        if name not in present:
            model.graph.output.append(onnx.ValueInfoProto(name=name))  # ORT fills the type
    shapes: dict[str, tuple[int, ...]] = {}
    macs: int | None = 0
    try:
        so = ort.SessionOptions()
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        so.log_severity_level = 3
        sess = ort.InferenceSession(
            model.SerializeToString(), so, providers=["CPUExecutionProvider"]
        )
        names = [o.name for o in sess.get_outputs()]
        for name, value in zip(names, sess.run(names, feeds), strict=True):
            shapes[name] = tuple(getattr(value, "shape", ()))
        const_shapes = {**shapes, **_const_shapes(model.graph)}
        macs = sum(_macs(n, shapes, const_shapes) for n in main_param)
        if len(main_param) != len(param):
            macs = None  # ops inside If/Loop bodies: their MACs are not counted here
    except Exception:  # noqa: BLE001 - a model ORT cannot run has no MAC count here
        macs = None
    return {
        "param_ops": len(param),
        "nodes": sum(len(g.node) for g in graphs),
        "macs": macs,
        "params": sum(_float_params(g) for g in graphs),
    }


# --------------------------------------------------------------------------- latency


def random_feeds(path: Path) -> dict:
    """Seeded random values for the model's inputs (a symbolic size is 1)."""
    import numpy as np
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    inits = {t.name for t in model.graph.initializer}
    rng = np.random.default_rng(0)
    feeds = {}
    for vi in model.graph.input:
        if vi.name in inits:
            continue
        tt = vi.type.tensor_type
        shape = [d.dim_value if d.HasField("dim_value") else 1 for d in tt.shape.dim]
        dtype = onnx.helper.tensor_dtype_to_np_dtype(tt.elem_type)
        if dtype.kind == "f":
            value = rng.standard_normal(shape)
        elif dtype.kind == "b":
            value = rng.random(shape) < 0.5
        else:
            value = rng.integers(0, 4, shape)
        feeds[vi.name] = np.asarray(value, dtype=dtype)
    return feeds


def session_options():
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = THREADS
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    return so  # graph_optimization_level: the default, ORT_ENABLE_ALL


def open_sessions(paths: dict[str, Path], feeds: dict) -> tuple[dict, dict, dict]:
    """A session per version (``session_options()``), its outputs on ``feeds``, errors."""
    import onnxruntime as ort

    sessions, errors, outs = {}, {}, {}
    for name, path in paths.items():
        try:
            sessions[name] = ort.InferenceSession(
                str(path), session_options(), providers=["CPUExecutionProvider"]
            )
            outs[name] = sessions[name].run(None, feeds)
        except Exception as error:  # noqa: BLE001 - report, keep measuring the others
            errors[name] = " ".join(str(error).split())[:300]
            sessions.pop(name, None)
    return sessions, outs, errors


def timed_rounds(
    sessions: dict, feeds: dict, budget: float, lo: int, hi: int
) -> dict[str, list[float]]:
    """Seconds of each session's runs, round by round: in round ``r`` every session runs
    once, the order rotated by ``r``; as many rounds (``lo`` to ``hi``) as fit ``budget``
    seconds after three rounds of warm-up."""
    start = time.perf_counter()
    for _ in range(3):
        for sess in sessions.values():
            sess.run(None, feeds)
    per_round = (time.perf_counter() - start) / 3
    rounds = max(lo, min(hi, int(budget / max(per_round, 1e-9))))
    names = list(sessions)
    times: dict[str, list[float]] = {n: [] for n in names}
    for r in range(rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        for n in order:
            t = time.perf_counter()
            sessions[n].run(None, feeds)
            times[n].append(time.perf_counter() - t)
    return times


def output_diffs(outs: dict[str, list]) -> dict[str, float]:
    """Per version: largest |output − original's| over max(1, max |original|)."""
    import numpy as np

    diff: dict[str, float] = {}
    if "original" not in outs:
        return diff
    ref = outs["original"]
    for n, got in outs.items():
        worst = 0.0
        for a, b in zip(ref, got, strict=False):
            a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
            if a.shape != b.shape:
                worst = float("inf")
                break
            if a.size:
                scale = max(1.0, float(np.max(np.abs(a))))
                worst = max(worst, float(np.max(np.abs(a - b))) / scale)
        diff[n] = worst
    return diff


def latencies(paths: dict[str, Path], feeds: dict, budget: float, lo: int, hi: int) -> dict:
    """Median ms per version, all sessions in this process, interleaved rounds."""
    sessions, outs, errors = open_sessions(paths, feeds)
    if not sessions:
        return {"ms": {}, "errors": errors, "diff": {}, "rounds": 0}
    times = timed_rounds(sessions, feeds, budget, lo, hi)
    return {
        "ms": {n: common.median(v) * 1000 for n, v in times.items()},
        "errors": errors,
        "diff": output_diffs(outs),
        "rounds": len(next(iter(times.values()))),
    }


def child(src: str, outdir: str, budget: float, lo: int, hi: int) -> dict:
    """Every version of one model, its structure and latency."""
    src_path, out = Path(src), Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    stem = src_path.stem
    paths: dict[str, Path] = {"original": src_path}
    errors: dict[str, str] = {}
    tool_s: dict[str, float] = {}
    folded = None

    def attempt(name: str, fn):
        start = time.perf_counter()
        try:
            result = fn()
        except Exception as error:  # noqa: BLE001 - a tool that fails is a result too
            errors[name] = " ".join(str(error).split())[:300] or type(error).__name__
            return None
        tool_s[name] = time.perf_counter() - start
        return result

    got = attempt("linlint", lambda: _linlint(src_path, out / f"{stem}.linlint.onnx"))
    if got is not None:
        paths["linlint"], folded, _ = got
    got = attempt("onnxoptimizer", lambda: _onnxoptimizer(src_path, out / f"{stem}.onnxopt.onnx"))
    if got is not None:
        paths["onnxoptimizer"] = got
    got = attempt("onnxslim", lambda: onnxslim_file(src_path, out / f"{stem}.onnxslim.onnx"))
    if got is not None:
        paths["onnxslim"] = got
    got = attempt("ORT offline", lambda: _ort_offline(src_path, out / f"{stem}.ort.onnx"))
    if got is not None:
        paths["ORT offline"] = got
    if "linlint" in paths:
        target = out / f"{stem}.linlint_ort.onnx"
        got = attempt("linlint + ORT", lambda: _ort_offline(paths["linlint"], target))
        if got is not None:
            paths["linlint + ORT"] = got
            tool_s["linlint + ORT"] += tool_s.get("linlint", 0.0)
    feeds = random_feeds(src_path)
    stats = {}
    for name, path in paths.items():
        try:
            stats[name] = structure(path, feeds)
        except Exception as error:  # noqa: BLE001
            errors.setdefault(name, " ".join(str(error).split())[:160])
    lat = latencies(paths, feeds, budget, lo, hi)
    for name, message in lat["errors"].items():
        errors.setdefault(name, "onnxruntime: " + message)
    if folded is None and "linlint" in stats:
        a, b = stats["linlint"], stats["original"]
        folded = int((a["param_ops"], a["nodes"]) != (b["param_ops"], b["nodes"]))
    return {
        "stats": stats,
        "ms": lat["ms"],
        "diff": lat["diff"],
        "rounds": lat["rounds"],
        "errors": errors,
        "tool_s": tool_s,
        "folded": folded,
        "unchanged": paths.get("linlint") == src_path,
    }


# --------------------------------------------------------------------------- report


def _measure(path: Path, work: Path, budget: float, lo: int, hi: int) -> dict:
    args = ["--child", str(path), str(work / "peers" / path.stem), str(budget), str(lo), str(hi)]
    try:
        return common.child_json(Path(__file__), *args)
    except RuntimeError as error:
        return {"crashed": str(error)}


def _compare(a: float, b: float) -> str:
    """``a`` against ``b`` (latencies): faster, tie (within TIE) or slower."""
    if a < b * (1 - TIE):
        return "faster"
    if a <= b * (1 + TIE):
        return "tie"
    return "slower"


def _verdict(data: dict) -> tuple[dict[str, str], str, str]:
    """Per peer: its latency over linlint's; linlint vs the best peer; linlint+ORT vs all."""
    ms = data.get("ms", {})
    if "linlint" not in ms:
        return {}, "–", "–"
    mine = ms["linlint"]
    cells = {p: f"{ms[p] / mine:.2f}×" for p in PEERS if p in ms}
    peers = [ms[p] for p in PEERS if p in ms]
    beats = _compare(mine, min(peers)) if peers else "–"
    fastest = "–"
    if "linlint + ORT" in ms:
        both = ms["linlint + ORT"]
        rivals = [v for k, v in ms.items() if k not in ("linlint", "linlint + ORT")]
        fastest = _compare(both, min(rivals))
        if both > min(ms.values()) * (1 + TIE):
            fastest += f" (best: {min(ms, key=ms.get)})"
    return cells, beats, fastest


def _variant_rows(data: dict) -> list[tuple]:
    stats, ms = data.get("stats", {}), data.get("ms", {})
    base = ms.get("original")
    rows = []
    for v in VARIANTS:
        s = stats.get(v)
        if s is None:
            rows.append(
                (v, "–", "–", "–", "–", data.get("errors", {}).get(v, "failed"), "", "", "")
            )
            continue
        lat = ms.get(v)
        rows.append(
            (
                v,
                s["param_ops"],
                f"{s['nodes']:,}",
                fmt_count(s["macs"]),
                fmt_count(s["params"]),
                fmt_ms(lat),
                common.fmt_x(base / lat) if lat and base else "–",
                f"{data['diff'][v]:.1e}" if v in data.get("diff", {}) else "–",
                common.fmt_s(data["tool_s"].get(v)) if v in data.get("tool_s", {}) else "–",
            )
        )
    return rows


def _why(rows: list[tuple], verdicts: list[tuple], column: int) -> str:
    """The models that are not clear wins in ``column``, and whether ORT's own fusions
    reach the same param-op count as linlint (then the runtime graphs end alike)."""
    data = dict(verdicts)
    parts = []
    for r in rows:
        if r[column] == "faster":
            continue
        stats = data[r[0]]["stats"]
        same = (
            "ORT offline" in stats
            and stats["ORT offline"]["param_ops"] == stats["linlint"]["param_ops"]
        )
        parts.append(
            f"{r[0]} ({r[column]}{'; same param-op count as ORT offline' if same else ''})"
        )
    return "not faster on: " + ", ".join(parts) if parts else ""


def run(quick: bool, work: Path) -> Section:
    section = Section(
        "5. What folding buys, side by side with the peers",
        "Six versions of each model (see `bench/peers.py`): the original, `linlint fold`, "
        "onnxoptimizer's fuse and elimination passes, onnxslim (defaults), onnxruntime's "
        "offline optimizer (ORT_ENABLE_EXTENDED, `optimized_model_filepath`), and "
        "`linlint fold` followed by that optimizer. Latency: onnxruntime "
        f"{common._version('onnxruntime')} CPU, every version in one process with the same "
        f"session options (default ORT_ENABLE_ALL graph optimizations, {THREADS} intra-op "
        "thread), runs interleaved round by round, median. *Speed-up* is the original's "
        "latency over the version's. *Max diff*: largest |output − original's| over "
        "max(1, max |original|), same inputs. *Tool time*: producing the version (linlint: "
        "the fold command in a fresh process, its verification included; the peers: their "
        "Python API in the measuring process). Param ops, nodes, MACs and params are counted "
        "the same way for every version by `bench/peers.py`.",
    )
    work.mkdir(parents=True, exist_ok=True)
    nets: dict[str, tuple] = {}
    if quick:
        nets["RepVGG (small), train form"] = (
            lambda p: models.repvgg(p, stages=((8, 1), (8, 2), (16, 2)), size=32, classes=10),
            0.2,
        )
    else:
        nets["RepVGG-A0 train, 1×3×224×224"] = (models.repvgg, 12.0)
        nets["MLP 4096 ×6 layers, batch 8"] = (models.mlp, 12.0)
        nets["hybrid conv + transformer, 1k nodes, random weights"] = (
            lambda p: models.hybrid(p, 1000, weights="random"),
            6.0,
        )
    lo, hi = (3, 20) if quick else (15, 400)
    verdicts, measured = [], []
    for label, (build, budget) in nets.items():
        path = work / (label.split(",")[0].replace(" ", "_").replace("×", "x") + ".onnx")
        build(path)
        data = _measure(path, work, budget, lo, hi)
        if "crashed" in data:
            section.add_text(f"**{label}**: the measuring process failed: {data['crashed']}")
            continue
        section.add_table(
            (
                "version",
                "param ops",
                "nodes",
                "MACs",
                "params",
                "latency",
                "speed-up",
                "max diff",
                "tool time",
            ),
            _variant_rows(data),
            f"**{label}** ({data['rounds']} interleaved rounds)",
        )
        verdicts.append((label, data))
        measured.append((label, data))

    names = sorted(p.stem for p in SAMPLES.glob("*.onnx"))
    if quick:
        names = [n for n in names if n in QUICK_SAMPLES]
    sample_rows = []
    for name in names:
        data = _measure(SAMPLES / f"{name}.onnx", work, 0.05 if quick else 0.8, lo, hi)
        if "crashed" in data:
            sample_rows.append((name, "crashed", *[""] * 8))
            continue
        measured.append((name, data))
        stats, ms = data["stats"], data["ms"]
        ops = "/".join(str(stats[v]["param_ops"]) if v in stats else "–" for v in VARIANTS)
        lat = [fmt_ms(ms.get(v)) if v in ms else "error" for v in VARIANTS]
        folded = not data.get("unchanged") and bool(data.get("folded"))
        if folded:
            verdicts.append((name, data))
        sample_rows.append((name, "yes" if folded else "no", ops, *lat))
    section.add_table(
        ("sample model", "linlint folds", "param ops (orig/linlint/opt/slim/ORT/linlint+ORT)")
        + tuple(f"latency: {v}" for v in VARIANTS),
        sample_rows,
        "**Sample models** (`sample_models/`, tiny shapes: latencies are dominated by "
        "onnxruntime's per-call overhead). Errors: a version that onnxruntime or the tool "
        "could not handle (custom ops, for instance).",
    )
    errors = []
    for label, data in measured:
        for tool, message in data.get("errors", {}).items():
            errors.append((label, tool, message.replace(str(work), "…")))

    # targets: on every network where linlint folds something
    rows = []
    for label, data in verdicts:
        if data.get("unchanged") or not data.get("folded"):
            continue
        cells, beats, fastest = _verdict(data)
        rows.append((label, *(cells.get(p, "–") for p in PEERS), beats, fastest))
    section.add_table(
        (
            "model (linlint folds)",
            *(f"{p} / linlint" for p in PEERS),
            "linlint vs the fastest peer",
            "linlint + ORT vs the fastest peer or original",
        ),
        rows,
        "**Verdicts**: each peer's latency over linlint's (above 1: linlint faster); "
        f"*tie* means within {TIE:.0%}; *(best: …)* when linlint + ORT is more than {TIE:.0%} "
        "behind the fastest version.",
    )
    if errors:
        section.add_table(("model", "version", "error"), errors, "Versions that failed:")

    def tally(column: int) -> str:
        counts = [r[column].split()[0] for r in rows]
        return ", ".join(
            f"{counts.count(k)} {k}" for k in ("faster", "tie", "slower") if counts.count(k)
        )

    n = len(rows)
    section.targets.append(
        Target(
            "linlint's result faster than each peer's, where it folds",
            f"{n} models: {tally(-2)}",
            "faster on all",
            all(r[-2] == "faster" for r in rows) if n else None,
            why=_why(rows, verdicts, -2),
        )
    )
    section.targets.append(
        Target(
            "linlint + ORT the fastest of all, where linlint folds",
            f"{n} models: {tally(-1)}",
            "fastest on all",
            all(r[-1] == "faster" for r in rows) if n else None,
            why=_why(rows, verdicts, -1),
        )
    )
    shutil.rmtree(work / "peers", ignore_errors=True)
    return section


def main() -> None:
    common.child_main(run, __doc__.splitlines()[0], child)


if __name__ == "__main__":
    main()
