"""Target 4: fold and verify. Where ``linlint fold`` spends its time on two realistic networks.

* RepVGG-A0 in training form (``models.repvgg``): 22 blocks at 1×3×224×224;
* a 4096-wide MLP (``models.mlp``): six Gemm layers, Relu after layers 1 and 3
  only, so layers 2–3 and 4–6 fold (batch 8).

End to end: the fold command in a fresh process (wall time, peak RSS). In
process: ``linlint.fold(path)`` (with verification) then
``linlint.model.write.save_model``, with linlint's functions wrapped in the child
process only to split the time into phases.

    python bench/fold_time.py [--quick]
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from pathlib import Path

import common
import models
from common import PY, Section, fmt_count, fmt_s

PHASES = (
    "load",
    "analysis",
    "shapes",
    "rules",
    "cost totals",
    "math (numeric normal forms)",
    "weight reads",
    "emit + rewrite",
    "verification: prepare models",
    "verification: ORT sessions",
    "verification: ORT runs",
    "verification: inputs + compare",
    "writing",
    "other",
)


def _numeric(args, kwargs) -> str:
    return "math (numeric normal forms)" if kwargs.get("numeric") else "analysis"


# (module that calls the function, function name, phase): a name is wrapped where it is
# looked up, so a function imported into several modules is wrapped in each.
HOOKS = (
    ("linlint.model.load", "load_model", "load"),
    ("linlint.model.weights", "tensor_array", "weight reads"),
    ("linlint.folding.pipeline", "analyze_model", "analysis"),
    ("linlint.checking.checker", "find_regions", "analysis"),
    ("linlint.checking.checker", "could_fire", "analysis"),
    ("linlint.checking.checker", "evaluate", _numeric),
    ("linlint.folding.rounds", "evaluate", _numeric),
    ("linlint.checking.checker", "findings_for", "rules"),
    ("linlint.folding.rounds", "node_findings", "rules"),
    ("linlint.folding.pipeline", "model_costs", "cost totals"),
    ("linlint.folding.rounds", "emit", "emit + rewrite"),
    ("linlint.folding.rounds", "replace_nodes", "emit + rewrite"),
    ("linlint.folding.pipeline", "prune", "emit + rewrite"),
    ("linlint.verification.compare", "verify", "verification: inputs + compare"),
    ("linlint.verification.compare", "prepare_model", "verification: prepare models"),
    ("linlint.verification.compare", "open_session", "verification: ORT sessions"),
    ("linlint.verification.sessions", "open_session", "verification: ORT sessions"),
    ("linlint.verification.sessions", "run_model", "verification: ORT runs"),
    ("linlint.model.write", "save_model", "writing"),
)


def _install(phases: common.Phases) -> None:
    from linlint.analysis.shapes import ShapeOracle

    for module, name, phase in HOOKS:
        phases.wrap(importlib.import_module(module), name, phase)
    phases.wrap(ShapeOracle, "__init__", "shapes")
    if phases.missing:  # a renamed function would silently move its time to "other"
        raise SystemExit("phase hooks not found (moved in linlint?): " + ", ".join(phases.missing))


def child(path: str, out: str) -> dict:
    """One fold + save in this process, split into phases."""
    import linlint
    import linlint.model.write as writer

    phases = common.Phases()
    _install(phases)
    start = time.perf_counter()
    result = linlint.fold(path)
    writer.save_model(result.model, out, base_dir=result.base_dir)
    total = time.perf_counter() - start
    times = dict(phases.times)
    times["other"] = total - sum(times.values())
    v = result.verification
    return {
        "total": total,
        "phases": times,
        "folded": len(result.folded),
        "before": list(result.before.__dict__.values()),
        "after": list(result.after.__dict__.values()),
        "verified": None if v is None else bool(v.ok),
        "summary": "" if v is None else v.summary(),
    }


_MATMUL = r"""
import time, numpy as np
n = {n}
a = np.random.default_rng(0).standard_normal((n, n))
b = a.T.copy()
a @ b
t = time.perf_counter(); a @ b; print(time.perf_counter() - t)
"""


def _matmul_seconds(n: int, env: dict | None = None) -> float | None:
    r = common.run([PY, "-c", _MATMUL.format(n=n)], env=env)
    if r.returncode != 0:
        return None
    return float(r.stdout.split()[-1])


def run(quick: bool, work: Path) -> Section:
    if quick:
        nets = {
            "RepVGG (small)": lambda p: models.repvgg(
                p, stages=((8, 1), (8, 2), (16, 2)), size=32, classes=10
            ),
            "MLP 256": lambda p: models.mlp(p, width=256, classes=64, batch=4),
        }
    else:
        nets = {
            "RepVGG-A0 train, 1×3×224×224": models.repvgg,
            "MLP 4096 ×6 layers, batch 8": models.mlp,
        }
    section = Section(
        "4. Fold and verify",
        "`linlint fold` on RepVGG-A0 in training form (22 blocks; 3×3+BN, 1×1+BN, identity BN, "
        "Add, Relu; random weights) and on an MLP of six 4096-wide Gemm layers "
        "(`transB=1`, Relu only after layers 1 and 3: layers 2–3 and 4–6 fold; last layer "
        "4096→1000). Verification is linlint's own (onnxruntime, both models, seeded inputs).",
    )
    summary, split_cols, is_cli = [], [], True
    for label, build in nets.items():
        path = work / (label.split(",")[0].replace(" ", "_").replace("×", "x") + ".onnx")
        info = build(path)
        out = work / (path.stem + "_folded.onnx")
        cmd, is_cli = common.fold_cmd(path, out)
        e2e = common.checked(common.run(cmd), f"fold {label}")
        folded_e2e = out.stat().st_size
        data = common.child_json(Path(__file__), "--child", str(path), str(work / "inproc.onnx"))
        before, after = data["before"], data["after"]
        summary.append(
            (
                label,
                f"{info.nodes:,}",
                common.fmt_size(path.stat().st_size),
                f"{before[0]} → {after[0]}",
                f"{fmt_count(before[2])} → {fmt_count(after[2])}",
                f"{fmt_count(before[3])} → {fmt_count(after[3])}",
                data["folded"],
                "yes" if data["verified"] else ("no" if data["verified"] is False else "–"),
                fmt_s(e2e.seconds),
                common.fmt_mb(e2e.maxrss),
                common.fmt_size(folded_e2e),
                fmt_s(data["total"]),
            )
        )
        split_cols.append((label, data))
        if data["summary"]:
            section.notes.append(f"{label}: {data['summary']}")
    section.add_table(
        (
            "network",
            "nodes",
            "file",
            "param ops",
            "MACs",
            "params",
            "regions folded",
            "verified",
            "fold end to end",
            "peak RSS",
            "output file",
            "fold + save in process",
        ),
        summary,
        f"End to end: {common.how(is_cli, 'fold MODEL -o OUT')}, a fresh process. "
        "Param ops, MACs, params: linlint's own cost totals (`FoldResult.before/after`).",
    )
    rows = []
    for phase in PHASES:
        cells = []
        for _, data in split_cols:
            t = data["phases"].get(phase)
            cells.append("–" if t is None else f"{fmt_s(t)} ({t / data['total']:.0%})")
        if any(c != "–" for c in cells):
            rows.append((phase, *cells))
    rows.append(("total", *(fmt_s(d["total"]) for _, d in split_cols)))
    section.add_table(
        ("phase", *(label for label, _ in split_cols)),
        rows,
        "Where the time goes (in process, one run; exclusive times). *analysis*: the sweep, "
        "regions and their symbolic evaluation (every round, and once more for what remains); "
        "*math*: the normal forms in float64 (kernel compositions, Gemm products); "
        "*verification*: onnxruntime on both models.",
    )
    if not quick:
        n = 4096
        as_set = _matmul_seconds(n)
        env = {k: v for k, v in common.ENV.items() if not k.startswith("OPENBLAS_")}
        unset = _matmul_seconds(n, env)
        flops = 2 * n**3 / 1e9

        def gf(s):
            return "failed" if s is None else f"{fmt_s(s)} ({flops / s:.0f} GFLOP/s)"

        section.add_text(
            f"Reference for the math: one float64 {n}×{n} @ {n}×{n} product in numpy takes "
            f"{gf(as_set)} with this machine's environment, {gf(unset)} with "
            "OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE unset (both set here to pin OpenBLAS to a "
            "safe kernel; a user's machine usually has neither)."
        )
    section.targets.append(
        common.Target(
            "fold time broken down (analysis, math, verification, writing)",
            "; ".join(f"{label.split(',')[0]}: {fmt_s(d['total'])}" for label, d in split_cols),
            "report",
            None,
        )
    )
    return section


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(child(sys.argv[2], sys.argv[3])))
        return
    common.standalone(run, __doc__.splitlines()[0])


if __name__ == "__main__":
    main()
