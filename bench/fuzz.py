"""Differential fuzzing campaign: many random models through check and fold, every property checked.

The models come from ``tests/fuzzgen.py`` (hypothesis strategies mixing linear,
affine, shape, nonlinear and unknown ops, branches, If subgraphs on constant,
input or data-dependent conditions; float32/16/64 and int8/32/64 models;
opsets 4–21, IR 3 models whose initializers are all graph inputs, IR >= 4
initializers that are also graph inputs, sparse initializers, external data,
inputs with symbolic or unknown dims or no shape, sources of unknown size,
broadcasting joins, non-finite and fp16-overflowing constants); the properties
are ``fuzzgen.run_properties``: ``check`` and ``fold`` raise nothing but
``LinlintError`` (a refusal, counted, not a failure), no finding names a
nonlinear node, every fold passes ``onnx.checker`` (full check) and computes
what the original computes in onnxruntime, on the drawn inputs and on inputs
the fold never saw (``fuzzgen.judge``: other sizes for every open dim, extreme
values, both branches of every If, other values for overridable initializers),
a region ``check`` calls exact under a foldable rule is folded or refused with
a reason, a fold removes no nonlinear node, and folding the folded model folds
nothing more.

    python bench/fuzz.py --examples 5000 [--seed 0] [--out bench/out/fuzz] [--wide]
    python bench/fuzz.py --replay bench/out/fuzz/<case>.onnx

A campaign is reproducible: the same ``--seed``, ``--examples`` and
``--wide`` draw the same models (hypothesis with a fixed seed, generate phase
only, no example database). Each failure is saved to ``--out`` as
``<case>.onnx`` (the model), ``<case>.npz`` (the inputs it was run on),
``<case>.json`` (what ``--replay`` needs: whether the properties save it with
external data, the nonlinear nodes, the failures) and ``<case>.txt`` (a
one-line description, then the details). The summary counts the model-wide
features drawn (dtypes, opsets, IR, ...) and the unseen input sets judged.
Progress goes to stderr on a terminal only; the summary goes to stdout. Exit
status 1 when any property failed.

The models run in a worker process that reports each outcome as one JSON
line. When a native extension (onnx, onnxruntime) aborts the worker, the model
it was on (written to ``--out`` before every run) becomes a ``crash``
reproducer, and a new worker draws the same sequence again and goes on from
the next model.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

DEFAULT_OUT = ROOT / "bench" / "out" / "fuzz"
TIMEOUT_S = 120  # one model's check + fold + verification; more is a hang worth reporting
MAX_SAVED = 100  # reproducers written per campaign (every failure is still counted)
MAX_SAVED_PER_KIND = 8  # of them per kind of first failure, so that rare kinds get theirs
INFLIGHT = ".inflight"  # the model a worker is on, under --out, until its outcome is reported


# ---- the worker: draws the models, runs the properties, reports one JSON line per model --------


def _save(out: Path, stem: str, gen, allow_growth: bool, failures, seed: int, index: int) -> Path:
    """The model, its inputs, what --replay needs, and a description: ``<stem>.*`` in ``out``."""
    import numpy as np
    import onnx

    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{stem}.onnx"
    onnx.save(gen.model, path)
    np.savez(out / f"{stem}.npz", **gen.feeds)
    meta = {
        "allow_growth": allow_growth,
        "barriers": gen.barriers,
        "op_types": gen.op_types,
        "unnamed": gen.unnamed,
        "external": gen.external,
        "features": list(gen.features),
        "sketch": gen.sketch,
        "failures": failures,
        "seed": seed,
        "case": index,
    }
    (out / f"{stem}.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    if failures:
        _describe(path, meta)
    return path


def _describe(path: Path, meta: dict) -> str:
    """Write ``<case>.txt``: a one-line description, then the details; return the line."""
    kind, message = meta["failures"][0]
    first = message.strip().splitlines()[-1] if message.strip() else ""
    line = f"{kind}: {first}"
    details = [
        line,
        "",
        f"replay: python bench/fuzz.py --replay {path}",
        f"campaign: --seed {meta['seed']}, case {meta['case']}, "
        f"allow_growth={meta['allow_growth']}",
        "",
        *(f"[{k}] {m.strip()}" for k, m in meta["failures"]),
        "",
        "model sketch:",
        *(f"  {s}" for s in meta["sketch"]),
        "",
        f"nonlinear nodes: {meta['barriers']}",
    ]
    path.with_suffix(".txt").write_text("\n".join(details) + "\n", encoding="utf-8")
    return line


def _timeout(signum, frame):
    raise TimeoutError(f"one model took more than {TIMEOUT_S} s")


def worker(examples: int, seed: int, out: Path, wide: bool, start: int, saved: int) -> int:
    """Draw the campaign's models; run the properties on those from ``start`` on."""
    import modelgen
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed
    from hypothesis import strategies as st

    if wide:  # more kernel/stride/dilation alignments and near-misses in modelgen's pieces
        modelgen.MAX_KERNEL, modelgen.MAX_STRIDE, modelgen.MAX_DILATION = 5, 3, 3
        modelgen.RARE_OF = 6
    from fuzzgen import Outcome, fuzz_models, run_properties

    signal.signal(signal.SIGALRM, _timeout)
    index = 0
    per_kind: collections.Counter[tuple] = collections.Counter()  # (this worker's saves)
    per_kind_total: collections.Counter[str] = collections.Counter()  # failures seen

    @hypothesis_seed(seed)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @given(gen=fuzz_models(), allow_growth=st.booleans())
    def one(gen, allow_growth):
        nonlocal index, saved, per_kind
        i, index = index, index + 1
        if i < start:
            return
        _save(out, INFLIGHT, gen, allow_growth, [], seed, i)  # what a crash leaves behind
        signal.alarm(TIMEOUT_S)
        try:
            outcome = run_properties(gen, allow_growth)
        except TimeoutError as e:
            outcome = Outcome()
            outcome.fail("timeout", str(e))
        finally:
            signal.alarm(0)
        report = {
            "index": i,
            "checked": outcome.checked,
            "findings": outcome.findings,
            "codes": list(outcome.codes),
            "folded": outcome.folded,
            "folded_something": outcome.folded_something,
            "verified": outcome.verified,
            "linlint_verify_ok": outcome.linlint_verify_ok,
            "refused": outcome.refused,
            "judged": outcome.judged,
            "judged_kinds": outcome.judged_kinds,
            "features": list(gen.features),
            "failures": outcome.failures,
        }
        kinds = tuple(sorted({k for k, _ in outcome.failures}))  # a combination: its own quota
        per_kind_total.update(kinds)
        if kinds and saved < MAX_SAVED and per_kind[kinds] < MAX_SAVED_PER_KIND:
            per_kind[kinds] += 1
            rarest = min(kinds, key=lambda k: (per_kind_total[k], k))
            slug = re.sub(r"[^a-z0-9]+", "-", rarest.lower()).strip("-")
            path = _save(
                out, f"seed{seed}_case{i:05d}_{slug}", gen, allow_growth, outcome.failures, seed, i
            )
            report["reproducer"] = str(path)
            saved += 1
        sys.stdout.write(json.dumps(report) + "\n")
        sys.stdout.flush()

    one()
    for f in out.glob(f"{INFLIGHT}.*"):
        f.unlink()
    return 0


# ---- the campaign: runs workers, counts, restarts after a crash, prints the summary ------------


class Campaign:
    """Counters, progress and reproducers of one run."""

    def __init__(self, total: int, seed: int, out: Path, progress: bool) -> None:
        self.total, self.seed, self.out, self.progress = total, seed, out, progress
        self.counts = collections.Counter()
        self.codes = collections.Counter()
        self.features = collections.Counter()
        self.features_folded = collections.Counter()
        self.judged_kinds = collections.Counter()
        self.failures: collections.Counter[str] = collections.Counter()
        self.saved: list[tuple[str, str]] = []
        self.start = time.perf_counter()

    def record(self, report: dict) -> None:
        c = self.counts
        c["generated"] += 1
        c["checked"] += report["checked"]
        c["with findings"] += report["findings"] > 0
        c["folded"] += report["folded"]
        c["folded something"] += report["folded_something"]
        c["verified"] += report["verified"]
        c["linlint.verify agreed"] += report["linlint_verify_ok"] is True
        c["refused"] += bool(report.get("refused"))
        c["judged"] += report.get("judged", 0)
        c["judged models"] += report.get("judged", 0) > 0
        self.judged_kinds.update(report.get("judged_kinds", {}))
        self.codes.update(report["codes"])
        self.features.update(report.get("features", ()))
        if report["folded_something"]:
            self.features_folded.update(report.get("features", ()))
        if report["failures"]:
            c["failed"] += 1
            for kind, _ in report["failures"]:
                self.failures[kind] += 1
            if "reproducer" in report:
                kind, message = report["failures"][0]
                first = message.strip().splitlines()[-1] if message.strip() else ""
                self.saved.append((report["reproducer"], f"{kind}: {first}"))
        if self.progress:
            elapsed = time.perf_counter() - self.start
            sys.stderr.write(
                f"\r[{c['generated']}/{self.total}] {elapsed:6.0f} s  folded "
                f"{c['folded something']}  failures {c['failed']}   "
            )
            sys.stderr.flush()

    def crashed(self, index: int, why: str) -> None:
        """The worker died on model ``index``: keep the model it was on as a reproducer."""
        report = {
            "index": index,
            "checked": False,
            "findings": 0,
            "codes": [],
            "folded": False,
            "folded_something": False,
            "verified": False,
            "linlint_verify_ok": None,
            "failures": [("crash", why)],
        }
        inflight = self.out / f"{INFLIGHT}.json"
        if inflight.exists():
            stem = f"seed{self.seed}_case{index:05d}_crash"
            for f in self.out.glob(f"{INFLIGHT}.*"):
                f.replace(self.out / f"{stem}{f.suffix}")
            path = self.out / f"{stem}.onnx"
            meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
            meta["failures"] = report["failures"]
            path.with_suffix(".json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
            _describe(path, meta)
            report["reproducer"] = str(path)
        self.record(report)

    def summary(self, wide: bool) -> str:
        c = self.counts
        elapsed = time.perf_counter() - self.start
        each = elapsed / max(c["generated"], 1) * 1000
        codes = ", ".join(f"{k} {v}" for k, v in sorted(self.codes.items())) or "none"
        lines = [
            f"fuzz campaign: seed {self.seed}{' (wide)' if wide else ''}, "
            f"{c['generated']} models in {elapsed:.1f} s ({each:.0f} ms each)",
            f"  generated          {c['generated']}",
            f"  checked            {c['checked']}  ({c['with findings']} with findings; "
            f"findings by rule: {codes})",
            f"  folded             {c['folded']}  ({c['folded something']} folded something)",
            f"  verified           {c['verified']}  (folds that changed the model, same outputs "
            f"in onnxruntime; linlint.verify agreed on {c['linlint.verify agreed']})",
            f"  judged             {c['judged']} unseen input sets on {c['judged models']} "
            f"folded models ("
            + (", ".join(f"{k} {v}" for k, v in sorted(self.judged_kinds.items())) or "none")
            + ")",
            f"  refused            {c['refused']}  (check or fold raised a LinlintError)",
            "  features           "
            + (
                ", ".join(
                    f"{k} {v} ({self.features_folded[k]} folded)"
                    for k, v in sorted(self.features.items())
                )
                or "none"
            ),
            f"  failed             {c['failed']}",
        ]
        for kind, n in self.failures.most_common():
            lines.append(f"    {n:5d}  {kind}")
        for path, line in self.saved:
            lines.append(f"  reproducer: {path}  — {line[:160]}")
        if c["failed"] > len(self.saved):
            lines.append(f"  ({c['failed'] - len(self.saved)} more failures not saved)")
        lines.append(
            f"fuzz summary: generated={c['generated']} checked={c['checked']} "
            f"folded={c['folded']} folded_something={c['folded something']} "
            f"verified={c['verified']} failures={c['failed']}"
        )
        return "\n".join(lines)


def campaign(examples: int, seed: int, out: Path, wide: bool) -> int:
    run = Campaign(examples, seed, out, progress=sys.stderr.isatty())
    out.mkdir(parents=True, exist_ok=True)
    start = 0
    while start < examples:
        command = [sys.executable, __file__, "--worker", "--examples", str(examples)]
        command += ["--seed", str(seed), "--out", str(out), "--start", str(start)]
        command += ["--saved", str(len(run.saved))] + (["--wide"] if wide else [])
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        last = start - 1
        with tempfile.TemporaryFile("w+", encoding="utf-8") as err:
            child = subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=err, text=True, env=env
            )
            for line in child.stdout:
                if line.startswith("{"):
                    report = json.loads(line)
                    last = report["index"]
                    run.record(report)
            child.wait()
            err.seek(0)
            stderr = [s for s in err.read().splitlines() if s.strip()]
        if child.returncode == 0 and last >= examples - 1:
            break
        if child.returncode == 0:  # hypothesis drew fewer models than asked (it never has)
            break
        why = f"the worker died (exit status {child.returncode})"
        if stderr:
            why += f": {stderr[-1][:300]}"
        run.crashed(last + 1, why)
        start = last + 2
    if run.progress:
        sys.stderr.write("\n")
    print(run.summary(wide))
    return 1 if run.counts["failed"] else 0


def replay(path: Path) -> int:
    """Run every property again on a saved reproducer; print what fails now."""
    import numpy as np
    import onnx
    from fuzzgen import FuzzGenerated, run_properties

    meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    with np.load(path.with_suffix(".npz")) as data:
        feeds = {k: data[k] for k in data.files}
    gen = FuzzGenerated(
        onnx.load(path),
        feeds,
        meta["sketch"],
        meta["barriers"],
        meta["op_types"],
        meta["unnamed"],
        external=meta.get("external", False),
        features=tuple(meta.get("features", ())),
    )
    outcome = run_properties(gen, meta["allow_growth"])
    for kind, message in outcome.failures:
        print(f"[{kind}] {message.strip()}")
    print(f"replay {path.name}: {len(outcome.failures)} failed properties")
    return 1 if outcome.failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=1000, help="models to generate")
    parser.add_argument("--seed", type=int, default=0, help="hypothesis seed (reproducible)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for reproducers")
    parser.add_argument(
        "--wide", action="store_true", help="larger kernels/strides/dilations, more near-misses"
    )
    parser.add_argument("--replay", type=Path, help="re-run the properties on a saved .onnx")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--start", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--saved", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.replay:
        return replay(args.replay)
    if args.examples < 1:
        parser.error("--examples must be at least 1")
    if args.worker:
        return worker(args.examples, args.seed, args.out, args.wide, args.start, args.saved)
    return campaign(args.examples, args.seed, args.out, args.wide)


if __name__ == "__main__":
    sys.exit(main())
