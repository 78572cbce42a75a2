"""Differential fuzzing campaign: many random models through check and fold, every property checked.

The models come from ``tests/fuzzgen.py`` (hypothesis strategies mixing linear,
affine, shape, nonlinear and unknown ops, branches, If subgraphs, several
opsets); the properties are ``fuzzgen.run_properties``: ``check`` never
crashes, no finding names a nonlinear node, every fold passes
``onnx.checker`` (full check) and computes what the original computes in
onnxruntime, a fold removes no nonlinear node, and folding the folded model
folds nothing more.

    python bench/fuzz.py --examples 5000 [--seed 0] [--out bench/out/fuzz] [--wide]
    python bench/fuzz.py --replay bench/out/fuzz/<case>.onnx

A campaign is reproducible: the same ``--seed``, ``--examples`` and
``--wide`` draw the same models (hypothesis with a fixed seed, generate phase
only, no example database). Each failure is saved to ``--out`` as
``<case>.onnx`` (the model), ``<case>.npz`` (the inputs it was run on),
``<case>.json`` (what ``--replay`` needs) and ``<case>.txt`` (a one-line
description, then the details). Progress goes to stderr on a terminal only;
the summary goes to stdout. Exit status 1 when any property failed.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import signal
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

DEFAULT_OUT = ROOT / "bench" / "out" / "fuzz"
TIMEOUT_S = 120  # one model's check + fold + verification; more is a hang worth reporting
MAX_SAVED = 100  # reproducers written per campaign (every failure is still counted)


class Campaign:
    """Counters, progress and reproducers of one run."""

    def __init__(self, total: int, seed: int, out: Path, progress: bool) -> None:
        self.total, self.seed, self.out, self.progress = total, seed, out, progress
        self.counts = collections.Counter()
        self.codes = collections.Counter()
        self.failures: collections.Counter[str] = collections.Counter()
        self.saved: list[tuple[Path, str]] = []
        self.start = time.perf_counter()

    def record(self, index: int, gen, allow_growth: bool, outcome) -> None:
        c = self.counts
        c["generated"] += 1
        c["checked"] += outcome.checked
        c["with findings"] += outcome.findings > 0
        c["folded"] += outcome.folded
        c["folded something"] += outcome.folded_something
        c["verified"] += outcome.verified
        c["linlint.verify agreed"] += outcome.linlint_verify_ok is True
        self.codes.update(outcome.codes)
        if outcome.failures:
            c["failed"] += 1
            for kind, _ in outcome.failures:
                self.failures[kind] += 1
            if len(self.saved) < MAX_SAVED:
                self.save(index, gen, allow_growth, outcome)
        if self.progress:
            elapsed = time.perf_counter() - self.start
            sys.stderr.write(
                f"\r[{c['generated']}/{self.total}] {elapsed:6.0f} s  folded "
                f"{c['folded something']}  failures {c['failed']}   "
            )
            sys.stderr.flush()

    def save(self, index: int, gen, allow_growth: bool, outcome) -> None:
        import numpy as np
        import onnx

        kind, message = outcome.failures[0]
        slug = re.sub(r"[^a-z0-9]+", "-", kind.lower()).strip("-")
        stem = f"seed{self.seed}_case{index:05d}_{slug}"
        self.out.mkdir(parents=True, exist_ok=True)
        path = self.out / f"{stem}.onnx"
        onnx.save(gen.model, path)
        np.savez(self.out / f"{stem}.npz", **gen.feeds)
        first = message.strip().splitlines()[-1] if message.strip() else ""
        line = f"{kind}: {first}"
        details = [
            line,
            "",
            f"replay: python bench/fuzz.py --replay {path}",
            f"campaign: --seed {self.seed}, case {index}, allow_growth={allow_growth}",
            "",
            *(f"[{k}] {m.strip()}" for k, m in outcome.failures),
            "",
            "model sketch:",
            *(f"  {s}" for s in gen.sketch),
            "",
            f"nonlinear nodes: {gen.barriers}",
        ]
        (self.out / f"{stem}.txt").write_text("\n".join(details) + "\n", encoding="utf-8")
        meta = {
            "allow_growth": allow_growth,
            "barriers": gen.barriers,
            "op_types": gen.op_types,
            "unnamed": gen.unnamed,
            "sketch": gen.sketch,
            "failures": outcome.failures,
        }
        (self.out / f"{stem}.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
        self.saved.append((path, line))

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


def _timeout(signum, frame):
    raise TimeoutError(f"one model took more than {TIMEOUT_S} s")


def campaign(examples: int, seed: int, out: Path, wide: bool) -> int:
    import modelgen
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed
    from hypothesis import strategies as st

    if wide:  # more kernel/stride/dilation alignments and near-misses in modelgen's pieces
        modelgen.MAX_KERNEL, modelgen.MAX_STRIDE, modelgen.MAX_DILATION = 5, 3, 3
        modelgen.RARE_OF = 6
    from fuzzgen import Outcome, fuzz_models, run_properties

    run = Campaign(examples, seed, out, progress=sys.stderr.isatty())
    signal.signal(signal.SIGALRM, _timeout)

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
        index = run.counts["generated"]
        signal.alarm(TIMEOUT_S)
        try:
            outcome = run_properties(gen, allow_growth)
        except TimeoutError as e:
            outcome = Outcome()
            outcome.fail("timeout", str(e))
        finally:
            signal.alarm(0)
        run.record(index, gen, allow_growth, outcome)

    one()
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
        onnx.load(path), feeds, meta["sketch"], meta["barriers"], meta["op_types"], meta["unnamed"]
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
    args = parser.parse_args(argv)
    if args.replay:
        return replay(args.replay)
    if args.examples < 1:
        parser.error("--examples must be at least 1")
    return campaign(args.examples, args.seed, args.out, args.wide)


if __name__ == "__main__":
    sys.exit(main())
