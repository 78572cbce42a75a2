"""Target 1: analysis scaling, and peak memory on a model with 1 GB of external weights.

For synthetic models of 1k, 10k, 100k and 300k nodes (``models.hybrid``,
weights as external data), time ``linlint check`` against the bare
``onnx.load(path, load_external_data=False)`` of the same file, two ways:

* end to end: a fresh process each run (``python -m linlint check`` against
  ``python -c "import onnx; onnx.load(...)"``), wall time, peak RSS;
* in process: ``linlint.check(path)`` against ``onnx.load`` in one warm
  process (no interpreter start-up, no imports), with the time split by
  phase (linlint's functions wrapped in the child process only).

Then peak RSS of ``linlint check`` on ``models.llm`` (about 1 GB of external
weights), against the RSS of Python with onnx imported, of the bare load, and
of a load that reads the weights.

    python bench/scaling.py [--quick]
"""

from __future__ import annotations

import gc
import json
import sys
import time
from pathlib import Path

import common
import models
from common import Section, Target, fmt_mb, fmt_s, fmt_x, median

SIZES = (1_000, 10_000, 100_000, 300_000)
QUICK_SIZES = (1_000,)
# (in-process runs, end-to-end runs) per size
RUNS = {1_000: (7, 5), 10_000: (5, 5), 100_000: (5, 3), 300_000: (2, 1)}
QUICK_RUNS = {1_000: (2, 1)}
GC_OFF_UP_TO = 100_000  # sizes that also get one check with Python's cyclic GC off
TARGET_RATIO = 2.0
TARGET_GROWTH = 11.0
TARGET_RSS = 300 * 2**20


def _install_phases():
    import linlint.checking.checker as checker
    import linlint.model.load as loader
    from linlint.analysis.shapes import ShapeOracle

    phases = common.Phases()
    phases.wrap(loader, "load_model", "read + parse")
    phases.wrap(loader, "validate_external_data", "external-data checks")
    phases.wrap(checker, "analyze_model", "analysis sweep")
    phases.wrap(ShapeOracle, "__init__", "declared shapes")
    phases.wrap(checker, "find_regions", "regions")
    phases.wrap(checker, "could_fire", "regions")
    phases.wrap(checker, "evaluate", "region evaluation")
    phases.wrap(checker, "findings_for", "rules")
    phases.wrap(checker, "region_findings", "rules")
    return phases


PHASE_ORDER = (
    "read + parse",
    "external-data checks",
    "analysis sweep",
    "declared shapes",
    "regions",
    "region evaluation",
    "rules",
)


def child(path: str, runs: int, gc_off: bool) -> dict:
    """In one process: median bare load, median check, phases of the median check run.

    With ``gc_off``, one more check with the cyclic garbage collector disabled (a
    diagnostic: how much of the time is the collector walking the growing heap).
    """
    import onnx

    import linlint

    loads = []
    for _ in range(max(runs, 3)):
        gc.collect()
        start = time.perf_counter()
        model = onnx.load(path, load_external_data=False)
        loads.append(time.perf_counter() - start)
        del model
    phases = _install_phases()
    checks, splits, findings = [], [], 0
    for _ in range(runs):
        gc.collect()
        phases.reset()
        start = time.perf_counter()
        findings = len(linlint.check(path))
        checks.append(time.perf_counter() - start)
        split = dict(phases.times)
        split["other"] = checks[-1] - sum(split.values())
        splits.append(split)
    mid = sorted(range(runs), key=lambda k: checks[k])[runs // 2]
    nogc = None
    if gc_off:
        gc.collect()
        phases.reset()
        gc.disable()
        try:
            start = time.perf_counter()
            linlint.check(path)
            total = time.perf_counter() - start
        finally:
            gc.enable()
        nogc = dict(phases.times)
        nogc["other"] = total - sum(nogc.values())
        nogc["total"] = total
    return {
        "nogc": nogc,
        "load": median(loads),
        "check": median(checks),
        "phases": splits[mid],
        "findings": findings,
        "missing": phases.missing,
    }


def profile_child(path: str, top: int) -> dict:
    """cProfile of one ``linlint.check``: the functions with the most own time."""
    import cProfile
    import pstats

    import linlint

    linlint.check(path)  # warm caches (imports) outside the profile
    prof = cProfile.Profile()
    prof.enable()
    start = time.perf_counter()
    linlint.check(path)
    total = time.perf_counter() - start
    prof.disable()
    stats = pstats.Stats(prof)
    rows = []
    for (file, line, func), (_, calls, own, cum, _) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append((own, cum, calls, _short(file, line, func)))
    rows.sort(reverse=True)
    return {"total": total, "rows": rows[:top]}


def _short(file: str, line: int, func: str) -> str:
    if file == "~":
        return func
    parts = Path(file).parts
    for anchor in ("linlint", "onnx", "google", "numpy"):
        if anchor in parts:
            i = len(parts) - 1 - parts[::-1].index(anchor)
            return f"{'/'.join(parts[i:])}:{line} {func}"
    return f"{Path(file).name}:{line} {func}"


def _e2e(path: Path, runs: int) -> tuple[float, float, int, bool]:
    """Median end-to-end seconds of check and of the bare load, check's peak RSS."""
    cmd, is_cli = common.check_cmd([path], json_out=True)
    bare = [common.PY, "-c", f"import onnx; onnx.load({str(path)!r}, load_external_data=False)"]
    checks, loads, rss = [], [], 0
    for _ in range(runs):  # interleaved
        r = common.checked(common.run(cmd), "linlint check", common.CHECK_OK)
        checks.append(r.seconds)
        rss = max(rss, r.maxrss)
        loads.append(common.checked(common.run(bare), "onnx.load").seconds)
    return median(checks), median(loads), rss, is_cli


def run(quick: bool, work: Path) -> Section:
    sizes = QUICK_SIZES if quick else SIZES
    runs = QUICK_RUNS if quick else RUNS
    section = Section(
        "1. Analysis scaling and memory",
        "Synthetic two-tower models (`bench/models.py: hybrid`): 40 % of the nodes in a conv "
        "stack (Conv/BN/Relu, residual, RepVGG-style and Conv→Conv blocks), 60 % in "
        "transformer blocks (LayerNorm, Q/K/V MatMul+Add, Softmax attention, GELU decomposed "
        "as exporters write it, one block in eight with a second FFN projection and no "
        "activation between). Weights are external data in one sparse file; no `value_info` "
        "(as many exporters write them). *Bare load* is "
        "`onnx.load(path, load_external_data=False)`.",
    )
    rows, phase_rows, gc_rows, results = [], [], [], {}
    is_cli = True
    for n in sizes:
        path = work / f"hybrid_{n // 1000}k.onnx"
        start = time.perf_counter()
        info = models.hybrid(path, n)
        gen = time.perf_counter() - start
        gc_flag = "gc-off" if n <= GC_OFF_UP_TO else "gc-on"
        inproc = common.child_json(Path(__file__), "--child", str(path), str(runs[n][0]), gc_flag)
        e2e_check, e2e_load, rss, is_cli = _e2e(path, runs[n][1])
        results[n] = {"in": inproc, "e2e": (e2e_check, e2e_load)}
        rows.append(
            (
                f"{info.nodes:,}",
                common.fmt_size(path.stat().st_size),
                fmt_s(gen),
                inproc["findings"],
                fmt_s(inproc["load"]),
                fmt_s(inproc["check"]),
                fmt_x(inproc["check"] / inproc["load"]),
                fmt_s(e2e_load),
                fmt_s(e2e_check),
                fmt_x(e2e_check / e2e_load),
                fmt_mb(rss),
            )
        )
        split = inproc["phases"]
        names = [p for p in PHASE_ORDER if p in split] + ["other"]
        phase_rows.append(
            (f"{info.nodes:,}", *(fmt_s(split.get(p, 0.0)) for p in names), fmt_s(inproc["check"]))
        )
        if inproc["nogc"]:
            nogc = inproc["nogc"]
            gc_rows.append(
                (
                    f"{info.nodes:,} (GC off)",
                    *(fmt_s(nogc.get(p, 0.0)) for p in names),
                    fmt_s(nogc["total"]),
                )
            )
    section.add_table(
        (
            "nodes",
            ".onnx size",
            "generate",
            "findings",
            "bare load (in process)",
            "check (in process)",
            "ratio",
            "bare load (end to end)",
            "check (end to end)",
            "ratio",
            "check peak RSS",
        ),
        rows,
        f"Medians. In process: warm, one process per model. End to end: a fresh process per "
        f"run; check is {common.how(is_cli, 'check --format json')}, the bare load is "
        '`python -c "import onnx; onnx.load(...)"`.',
    )
    section.add_table(
        ("nodes", *names, "check total"),
        phase_rows + gc_rows,
        "Where check's time goes (in process, the median run; exclusive times of linlint's "
        "functions; *other* is check minus the phases: the Python-side glue). The *GC off* "
        "rows are one more run with Python's cyclic garbage collector disabled: the "
        "difference is the collector scanning the growing heap.",
    )
    growth_rows = []
    for a, b in zip(sizes, sizes[1:], strict=False):
        ta, tb = results[a]["in"]["check"], results[b]["in"]["check"]
        la, lb = results[a]["in"]["load"], results[b]["in"]["load"]
        growth_rows.append((f"{a:,} → {b:,}", fmt_x(b / a), fmt_x(lb / la), fmt_x(tb / ta)))
    if growth_rows:
        section.add_table(
            ("nodes", "size growth", "bare load growth", "check growth (in process)"),
            growth_rows,
            "Growth of the in-process times.",
        )

    # profile of the biggest size up to 100k
    prof_n = max(n for n in sizes if n <= 100_000)
    prof_path = work / f"hybrid_{prof_n // 1000}k.onnx"
    prof = common.child_json(Path(__file__), "--profile", str(prof_path), "12")
    section.add_table(
        ("own time", "cumulative", "calls", "function"),
        [(fmt_s(o), fmt_s(c), f"{k:,}", f) for o, c, k, f in prof["rows"]],
        f"Top functions by own time, one `linlint.check` of the {prof_n:,}-node model under "
        f"cProfile ({fmt_s(prof['total'])} with the profiler's overhead).",
    )

    # memory: 1 GB of external weights
    big = work / "llm_1gb.onnx"
    info = models.llm(big)
    cmd, is_cli = common.check_cmd([big], json_out=True)
    check = common.checked(common.run(cmd), "linlint check", common.CHECK_OK)
    p = repr(str(big))
    base = common.run([common.PY, "-c", "import onnx"])
    bare = common.run([common.PY, "-c", f"import onnx; onnx.load({p}, load_external_data=False)"])
    full = None if quick else common.run([common.PY, "-c", f"import onnx; onnx.load({p})"])
    section.add_table(
        ("process", "wall", "peak RSS"),
        [
            ('`python -c "import onnx"`', fmt_s(base.seconds), fmt_mb(base.maxrss)),
            ("bare load (weights left on disk)", fmt_s(bare.seconds), fmt_mb(bare.maxrss)),
            *(
                [("`onnx.load` reading the weights", fmt_s(full.seconds), fmt_mb(full.maxrss))]
                if full
                else []
            ),
            (
                f"linlint check ({'CLI' if is_cli else 'API'})",
                fmt_s(check.seconds),
                fmt_mb(check.maxrss),
            ),
        ],
        f"Peak memory (`wait4` ru_maxrss of the child) on `models.llm`: {info.nodes:,} nodes, "
        f"d=1024, ffn=4096, {info.weight_bytes / 2**30:.2f} GiB of external weights "
        "(sparse file).",
    )

    # targets
    def top_phases(n: int) -> str:
        split = results[n]["in"]["phases"]
        total = results[n]["in"]["check"]
        top = sorted(split.items(), key=lambda kv: -kv[1])[:3]
        return f"at {n:,} nodes check spends " + ", ".join(
            f"{fmt_s(t)} ({t / total:.0%}) in {p}" for p, t in top
        )

    def phase_growth(a: int, b: int) -> str:
        sa, sb = results[a]["in"]["phases"], results[b]["in"]["phases"]
        grew = [
            (p, sb[p] / sa[p])
            for p in sb
            if p in sa and sa[p] > 0 and sb[p] > 0.05 * results[b]["in"]["check"]
        ]
        grew.sort(key=lambda pg: -pg[1])
        return "phase growth " + ", ".join(f"{p} {fmt_x(g)}" for p, g in grew[:4])

    if 100_000 in results:
        r = results[100_000]
        e2e = r["e2e"][0] / r["e2e"][1]
        inp = r["in"]["check"] / r["in"]["load"]
        section.targets.append(
            Target(
                "check ≤ 2× bare load at 100k nodes (end to end)",
                f"{fmt_s(r['e2e'][0])} vs {fmt_s(r['e2e'][1])} = {fmt_x(e2e)}",
                "≤ 2×",
                e2e <= TARGET_RATIO,
                why=top_phases(100_000),
            )
        )
        section.targets.append(
            Target(
                "check ≤ 2× bare load at 100k nodes (in process)",
                f"{fmt_s(r['in']['check'])} vs {fmt_s(r['in']['load'])} = {fmt_x(inp)}",
                "≤ 2×",
                inp <= TARGET_RATIO,
                why=top_phases(100_000),
            )
        )
    else:
        section.targets.append(
            Target("check ≤ 2× bare load at 100k nodes", "not run (--quick)", "≤ 2×", None)
        )
    if 10_000 in results and 100_000 in results:
        g = results[100_000]["in"]["check"] / results[10_000]["in"]["check"]
        section.targets.append(
            Target(
                "growth 10k → 100k nodes (in process)",
                fmt_x(g),
                "≤ 11×",
                g <= TARGET_GROWTH,
                why=phase_growth(10_000, 100_000),
            )
        )
    else:
        section.targets.append(
            Target("growth 10k → 100k nodes", "not run (--quick)", "≤ 11×", None)
        )
    section.targets.append(
        Target(
            "peak RSS of check, 1 GB external weights",
            fmt_mb(check.maxrss),
            "< 300 MB",
            check.maxrss < TARGET_RSS,
        )
    )
    if inproc.get("missing"):
        section.notes.append(
            "Phase hooks not found (renamed in linlint?): " + ", ".join(inproc["missing"])
        )
    return section


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(child(sys.argv[2], int(sys.argv[3]), sys.argv[4] == "gc-off")))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--profile":
        print(json.dumps(profile_child(sys.argv[2], int(sys.argv[3]))))
        return
    common.standalone(run, __doc__.splitlines()[0])


if __name__ == "__main__":
    main()
