"""Issue 11, "Costs that match the runtime": what folding does to latency on real architectures.

For every model of ``bench/archs.py`` (pieces of DenseNet, RepVGG, MobileOne, RepGhost,
ConvNeXt, DeiT, LeViT, MobileNetV2, ResNet and a LoRA-adapted ViT block, at their real
widths), six versions:

* the original, and the original again in a second session (the A/A control: what two
  sessions of the same model differ by in this run is the noise);
* linlint's fold (``linlint.fold(model, verify=True)``);
* onnxslim (``onnxslim.slim(model)``, defaults);
* onnxslim, then linlint's fold;
* linlint's fold, then onnxslim.

Of each: nodes, parametric ops, MACs (counted by ``bench/peers.py`` for every version
alike), and onnxruntime CPU latency: all versions in one process (its own child process
per model), the same session options (``peers.session_options``), runs interleaved round
by round with the order rotating (``peers.timed_rounds``). Each version's time is
compared with another's by the *per-round paired ratio*; its median, and a 95 %
distribution-free confidence interval for that median (binomial order statistics), say
how much slower or faster it is (see ``ratio_ci`` and ``compare`` for the exact rule).

    python bench/arch_latency.py [--quick]
"""

from __future__ import annotations

import math
import shutil
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import common
import peers
from common import Section, Target, fmt_count, fmt_ms

ORIGINAL, AGAIN, LINLINT, SLIM = "original", "original (again)", "linlint", "onnxslim"
SLIM_LINLINT, LINLINT_SLIM = "onnxslim → linlint", "linlint → onnxslim"
VERSIONS = (ORIGINAL, AGAIN, LINLINT, SLIM, SLIM_LINLINT, LINLINT_SLIM)
STACKED = (SLIM_LINLINT, LINLINT_SLIM)
MARGIN = peers.TIE  # the smallest noise margin: 3 %
LEVEL = 0.95
QUICK_ARCHS = ("repvgg_blocks", "mlp_head")


# --------------------------------------------------------------------------- statistics


def median_ci(values: Sequence[float], level: float = LEVEL) -> tuple[float, float, float]:
    """The median of ``values`` and a distribution-free ``level`` confidence interval for it.

    The interval is ``[x(k), x(n+1-k)]`` of the sorted values, ``k`` the largest rank with
    P(Binomial(n, 1/2) ≤ k − 1) ≤ (1 − level) / 2: it holds the true median with at least
    that probability whatever the distribution. Under 6 values no such ``k`` exists and
    the interval is the whole range.
    """
    xs = sorted(values)
    n = len(xs)
    if not n:
        return math.nan, math.nan, math.nan
    k, below = 0, 0.0
    for j in range(n):
        below += math.comb(n, j) / 2**n
        if below > (1 - level) / 2:
            break
        k = j + 1
    lo, hi = (xs[k - 1], xs[n - k]) if k else (xs[0], xs[-1])
    return common.median(xs), lo, hi


def ratio_ci(times: dict[str, list[float]], a: str, b: str) -> tuple[float, float, float]:
    """Time of ``a`` over time of ``b``: median of the per-round ratios, 95 % interval."""
    return median_ci([x / y for x, y in zip(times[a], times[b], strict=True)])


def compare(ci: tuple[float, float, float], margin: float) -> str:
    """What a time ratio's interval ``(median, lo, hi)`` says, ``margin`` being the noise.

    * *faster*: the whole interval below 1 − margin (faster beyond noise);
    * *slower*: the whole interval above 1 + margin (slower beyond noise);
    * *tie*: neither, and the upper end at most 1 + margin (within noise);
    * *unclear*: the interval straddles 1 + margin.

    "Not slower beyond noise" is *faster* or *tie*: the upper end of the interval is at
    most 1 + margin.
    """
    _, lo, hi = ci
    if hi < 1 - margin:
        return "faster"
    if lo > 1 + margin:
        return "slower"
    return "tie" if hi <= 1 + margin else "unclear"


def noise_margin(times: dict[str, list[float]]) -> float:
    """The noise of this model's run: how far the A/A control's interval reaches from 1,
    at least ``MARGIN``."""
    if AGAIN not in times or ORIGINAL not in times:
        return MARGIN
    _, lo, hi = ratio_ci(times, AGAIN, ORIGINAL)
    return max(MARGIN, hi - 1, 1 - lo)


def fmt_ci(ci: tuple[float, float, float]) -> str:
    mid, lo, hi = ci
    return f"{mid:.3f}× [{lo:.3f}, {hi:.3f}]"


# --------------------------------------------------------------------------- one model


def op_signature(path: Path) -> dict[str, int]:
    """How many nodes of each kind: op type, and for convs and pools the kernel, stride
    and grouping (``Conv 3×3/2 grouped``)."""
    import onnx

    model = onnx.load(str(path))
    dims = {t.name: tuple(t.dims) for t in model.graph.initializer}
    counts: Counter[str] = Counter()
    for graph, _ in peers._graphs(model.graph):
        for node in graph.node:
            label = node.op_type
            if node.op_type in ("Conv", "ConvTranspose", "AveragePool", "MaxPool"):
                attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
                w = dims.get(node.input[1], ()) if len(node.input) > 1 else ()
                kernel = attrs.get("kernel_shape") or list(w[2:])
                stride = set(attrs.get("strides") or [1])
                label += " " + "×".join(map(str, kernel))
                label += f"/{stride.pop()}" if stride != {1} and len(stride) == 1 else ""
                label += " grouped" if attrs.get("group", 1) > 1 else ""
            counts[label] += 1
    return dict(counts)


def signature_change(before: dict[str, int], after: dict[str, int]) -> str:
    """``after`` against ``before``: ``AveragePool 2×2/2 −3, Conv 2×2/2 +3``."""
    keys = sorted(set(before) | set(after))
    deltas = [(k, after.get(k, 0) - before.get(k, 0)) for k in keys]
    text = ", ".join(f"{k} {'+' if d > 0 else '−'}{abs(d)}" for k, d in deltas if d)
    return text or "none"


def _fold(src: Path, out: Path) -> tuple[Path, int]:
    """``linlint.fold(src, verify=True)`` written to ``out``; how many regions it folded."""
    import onnx

    import linlint

    result = linlint.fold(src, verify=True)
    if result.verification is not None and not result.verification.ok:
        raise RuntimeError("verification failed: " + result.verification.summary())
    onnx.save(result.model, str(out))
    return out, len(result.folded)


def child(name: str, outdir: str, budget: float, lo: int, hi: int) -> dict:
    """Build one model of ``archs``, make every version, count and time them."""
    import archs
    import onnx

    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    src = out / f"{name}.onnx"
    onnx.save(archs.ARCHS[name](), str(src))
    paths: dict[str, Path] = {ORIGINAL: src, AGAIN: src}
    errors: dict[str, str] = {}
    folded: dict[str, int] = {}
    tool_s: dict[str, float] = {}

    def attempt(version: str, base: str, make) -> None:
        if base not in paths:
            errors[version] = f"no {base} version"
            return
        target = out / f"{name}.{len(paths)}.onnx"
        start = time.perf_counter()
        try:
            got = make(paths[base], target)
        except Exception as error:  # noqa: BLE001 - a tool that fails is a result too
            errors[version] = " ".join(str(error).split())[:300] or type(error).__name__
            return
        tool_s[version] = time.perf_counter() - start
        if isinstance(got, tuple):
            got, folded[version] = got
        paths[version] = got

    attempt(LINLINT, ORIGINAL, _fold)
    attempt(SLIM, ORIGINAL, peers.onnxslim_file)
    attempt(SLIM_LINLINT, SLIM, _fold)
    attempt(LINLINT_SLIM, LINLINT, peers.onnxslim_file)
    feeds = peers.random_feeds(src)
    stats, signatures = {}, {}
    for version, path in paths.items():
        try:
            stats[version] = peers.structure(path, feeds)
            signatures[version] = op_signature(path)
        except Exception as error:  # noqa: BLE001
            errors.setdefault(version, " ".join(str(error).split())[:160])
    sessions, outs, failed = peers.open_sessions(paths, feeds)
    for version, message in failed.items():
        errors.setdefault(version, "onnxruntime: " + message)
    times = peers.timed_rounds(sessions, feeds, budget, lo, hi) if sessions else {}
    return {
        "stats": stats,
        "signatures": signatures,
        "times": times,
        "diff": peers.output_diffs(outs),
        "errors": errors,
        "folded": folded,
        "tool_s": tool_s,
    }


# --------------------------------------------------------------------------- report


def _measure(name: str, work: Path, budget: float, lo: int, hi: int) -> dict:
    args = ["--child", name, str(work / name), str(budget), str(lo), str(hi)]
    try:
        return common.child_json(Path(__file__), *args)
    except RuntimeError as error:
        return {"crashed": str(error)}


def _version_rows(name: str, data: dict) -> list[tuple]:
    stats, times = data["stats"], data["times"]
    rows = []
    for version in VERSIONS:
        s = stats.get(version)
        label = version
        if version in data["folded"]:
            label += f" ({data['folded'][version]} folded)"
        if s is None or version not in times:
            error = data["errors"].get(version, "failed")
            rows.append((name, label, "–", "–", "–", "–", "–", "–", error, "–"))
        else:
            rows.append(
                (
                    name,
                    label,
                    f"{s['nodes']:,}",
                    s["param_ops"],
                    fmt_count(s["macs"]),
                    fmt_count(s["params"]),
                    fmt_ms(common.median(times[version]) * 1000),
                    fmt_ms(min(times[version]) * 1000),
                    "1 (reference)"
                    if version == ORIGINAL
                    else fmt_ci(ratio_ci(times, version, ORIGINAL)),
                    f"{data['diff'].get(version, math.nan):.1e}",
                )
            )
        name = ""
    return rows


def _verdicts(name: str, data: dict) -> dict:
    """The three targets' measurements on one model."""
    times, stats = data["times"], data["stats"]
    margin = noise_margin(times)
    out: dict = {"name": name, "margin": margin, "rounds": len(times.get(ORIGINAL, []))}
    for key, (a, b) in {"fold": (LINLINT, ORIGINAL), "peer": (LINLINT, SLIM)}.items():
        if a in times and b in times:
            ci = ratio_ci(times, a, b)
            out[key] = (ci, compare(ci, margin))
        else:
            out[key] = (None, "error")
    mine = stats.get(LINLINT, {}).get("param_ops")
    stacked = [stats.get(v, {}).get("param_ops") for v in STACKED]
    out["param_ops"] = (mine, *stacked)
    out["nodes"] = tuple(stats.get(v, {}).get("nodes") for v in (LINLINT, *STACKED))
    out["kept"] = mine is not None and all(p is not None and p <= mine for p in stacked)
    out["change"] = signature_change(
        data["signatures"].get(ORIGINAL, {}), data["signatures"].get(LINLINT, {})
    )
    before, after = stats.get(ORIGINAL, {}), stats.get(LINLINT, {})
    out["costs"] = ", ".join(
        f"{key} {fmt_count(before[key])} → {fmt_count(after[key])}"
        for key in ("param_ops", "macs", "params")
        if key in before and key in after
    ).replace("param_ops", "param ops")
    return out


def _cell(result: tuple) -> str:
    ci, verdict = result
    return "–" if ci is None else fmt_ci(ci)


def _why_slow(verdicts: list[dict], key: str) -> str:
    parts = []
    for v in verdicts:
        ci, verdict = v[key]
        if verdict in ("faster", "tie"):
            continue
        shown = "error" if ci is None else f"{fmt_ci(ci)} (noise ±{v['margin']:.1%})"
        parts.append(
            f"{v['name']}: {verdict}, {shown}; linlint's rewrite: {v['change']} ({v['costs']})"
        )
    return "; ".join(parts)


def _tally(verdicts: list[dict], key: str) -> str:
    counts = Counter(v[key][1] for v in verdicts)
    order = ("faster", "tie", "unclear", "slower", "error")
    return f"{len(verdicts)} models: " + ", ".join(f"{counts[k]} {k}" for k in order if counts[k])


def run(quick: bool, work: Path) -> Section:
    import archs

    section = Section(
        "6. Costs that match the runtime: real architectures",
        "Pieces of published networks at their real widths, built by `bench/archs.py` in "
        "the shapes torch exporters write (seeded random weights). Six versions of each "
        "(`bench/arch_latency.py`): the original; the original again in a second session "
        "(the A/A control); `linlint.fold(model, verify=True)`; `onnxslim.slim(model)`; "
        "onnxslim then linlint; linlint then onnxslim. Nodes, param ops and MACs are "
        "counted alike for every version (`bench/peers.py`). Latency: onnxruntime "
        f"{common._version('onnxruntime')} CPU, {peers.THREADS} intra-op thread, default "
        "graph optimizations, every version in one process (one process per model), runs "
        "interleaved round by round with the order rotating. *Time / original* is the "
        "median over rounds of the per-round ratio of the version's time to the "
        f"original's, with a {LEVEL:.0%} distribution-free confidence interval for that "
        "median (binomial order statistics). **Noise** δ, per model: how far the A/A "
        f"control's interval reaches from 1, and at least {MARGIN:.0%}. A version is *not "
        "slower than another beyond noise* when the upper end of the interval of their time "
        "ratio is at most 1 + δ (what targets 1 and 2 ask); *slower* when even its lower "
        "end is above 1 + δ; *faster* when its upper end is below 1 − δ. *Latency "
        "(median)* and *min* are each version's own runs; under other load on the machine "
        "they can disagree with the paired ratios, which the verdicts read. *Max diff*: "
        "largest "
        "|output − original's| over max(1, max |original|).",
    )
    work.mkdir(parents=True, exist_ok=True)
    names = [n for n in archs.ARCHS if not quick or n in QUICK_ARCHS]
    budget, lo, hi = (0.2, 5, 20) if quick else (10.0, 100, 3000)
    rows, verdicts, failed = [], [], []
    section.add_table(
        ("model", "what it is"),
        [(n, " ".join((archs.ARCHS[n].__doc__ or "").split())) for n in names],
    )
    for name in names:
        data = _measure(name, work, budget, lo, hi)
        shutil.rmtree(work / name, ignore_errors=True)
        if "crashed" in data:
            failed.append((name, data["crashed"]))
            continue
        rows += _version_rows(name, data)
        verdicts.append(_verdicts(name, data))
    section.add_table(
        (
            "model",
            "version",
            "nodes",
            "param ops",
            "MACs",
            "params",
            "latency (median)",
            "min",
            "time / original [95% CI]",
            "max diff",
        ),
        rows,
    )
    section.add_table(
        (
            "model",
            "rounds",
            "noise δ",
            "linlint / original",
            "verdict",
            "linlint / onnxslim",
            "verdict",
            "param ops: linlint, slim→linlint, linlint→slim",
            "nodes: same",
            "linlint's rewrite (node kinds)",
        ),
        [
            (
                v["name"],
                v["rounds"],
                f"{v['margin']:.1%}",
                _cell(v["fold"]),
                v["fold"][1],
                _cell(v["peer"]),
                v["peer"][1],
                ", ".join("–" if p is None else str(p) for p in v["param_ops"]),
                ", ".join("–" if p is None else str(p) for p in v["nodes"]),
                v["change"],
            )
            for v in verdicts
        ],
        "**Verdicts** (time ratios: median [95% interval]; *faster*: the interval below "
        "1 − δ; *slower*: the interval above 1 + δ; *tie*: neither, upper end ≤ 1 + δ; "
        "*unclear*: the interval straddles 1 + δ).",
    )
    for name, message in failed:
        section.add_text(f"**{name}**: the measuring process failed: {message}")
    n = len(verdicts)
    for key, name, goal in (
        ("fold", "no linlint fold slower than its original beyond noise", "fold / original"),
        ("peer", "linlint's fold at least as fast as onnxslim's output", "linlint / onnxslim"),
    ):
        ok = [v for v in verdicts if v[key][1] in ("faster", "tie")]
        section.targets.append(
            Target(
                name,
                _tally(verdicts, key),
                f"upper 95% bound of {goal} ≤ 1 + δ on every model",
                len(ok) == n == len(names) if n else None,
                why=_why_slow(verdicts, key),
            )
        )
    kept = [v for v in verdicts if v["kept"]]
    section.targets.append(
        Target(
            "stacking with onnxslim (either order) keeps linlint's folds",
            f"{len(kept)} of {n} models",
            "param ops of slim→linlint and linlint→slim ≤ linlint's alone, every model",
            len(kept) == n == len(names) if n else None,
            why="; ".join(
                f"{v['name']}: param ops linlint, slim→linlint, linlint→slim = "
                + ", ".join(map(str, v["param_ops"]))
                for v in verdicts
                if not v["kept"]
            ),
        )
    )
    return section


def main() -> None:
    common.child_main(run, __doc__.splitlines()[0], child)


if __name__ == "__main__":
    main()
