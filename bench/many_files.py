"""Target 3: many files. ``linlint check DIR`` over 200 small models, ``--jobs 1`` vs ``--jobs 2``.

The models come from ``models.small_zoo`` (60 to 400 nodes each, conv and
transformer blocks in varied proportions, random inline weights). Every
configuration runs in a fresh process, interleaved round by round; the JSON
reports of all runs must be byte-identical (deterministic output order).

    python bench/many_files.py [--quick]
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import common
import models
from common import PY, Section, Target, fmt_s, fmt_x, median

FILES, QUICK_FILES = 200, 10
ROUNDS, QUICK_ROUNDS = 9, 1
# What this machine gives two processes: a pure-Python loop, once and twice in parallel.
_PARALLEL = r"""
import sys, time
from concurrent.futures import ProcessPoolExecutor
def work(n):
    s = 0
    for i in range(n):
        s += i * i
    return s
if __name__ == "__main__":
    n = int(sys.argv[1])
    with ProcessPoolExecutor(2) as pool:
        list(pool.map(work, [1000, 1000]))  # workers up
        t = time.perf_counter(); work(n); work(n); serial = time.perf_counter() - t
        t = time.perf_counter(); list(pool.map(work, [n, n])); parallel = time.perf_counter() - t
    print(serial / parallel)
"""


def run(quick: bool, work: Path) -> Section:
    n = QUICK_FILES if quick else FILES
    zoo = work / f"zoo_{n}"
    infos = models.small_zoo(zoo, n)
    nodes = sum(i.nodes for i in infos)
    size = sum(p.stat().st_size for p in zoo.glob("*.onnx"))
    cpus = os.cpu_count() or 1
    configs: dict[str, list[str]] = {}
    has_jobs = common.cli_has("check", "--jobs")
    if has_jobs:
        configs["--jobs 1"] = common.check_cmd([zoo], jobs=1, json_out=True)[0]
        configs["--jobs 2"] = common.check_cmd([zoo], jobs=2, json_out=True)[0]
        configs[f"default (--jobs = CPU count = {cpus})"] = common.check_cmd([zoo], json_out=True)[
            0
        ]
    else:
        configs["serial (API)"] = common.check_cmd([zoo], json_out=True)[0]
    files = sorted(str(p) for p in zoo.glob("*.onnx"))
    configs["reference: `onnx.load` of every file, one process"] = [
        PY,
        "-c",
        "import onnx, sys\nfor p in sys.argv[1:]: onnx.load(p)",
        *files,
    ]
    times: dict[str, list[float]] = {k: [] for k in configs}
    outputs: dict[str, set[str]] = {k: set() for k in configs}
    counts: dict[str, int] = {}
    rounds = QUICK_ROUNDS if quick else ROUNDS
    loop = [PY, "-c", _PARALLEL, str(200_000 if quick else 5_000_000)]
    ceilings = []
    for _ in range(rounds):
        for k, cmd in configs.items():
            r = common.checked(common.run(cmd), k, common.CHECK_OK)
            times[k].append(r.seconds)
            if not k.startswith("reference"):
                outputs[k].add(hashlib.sha256(r.stdout.encode()).hexdigest())
                counts[k] = r.stdout.count('"code"')
        # in the same round, what two processes get from this machine right now
        ceilings.append(float(common.checked(common.run(loop), "two-process loop").stdout))
    section = Section(
        "3. Many files",
        f"{n} small models ({nodes:,} nodes, {common.fmt_size(size)} in all; "
        f"`models.small_zoo`), one folder. {rounds} interleaved rounds, a fresh process "
        f"each, medians; {common.how(has_jobs, 'check DIR --format json')}.",
    )
    base_key = "--jobs 1" if has_jobs else "serial (API)"
    base, base_min = median(times[base_key]), min(times[base_key])
    rows = []
    for k, v in times.items():
        rows.append(
            (
                k,
                fmt_s(median(v)),
                fmt_s(min(v)),
                f"{median(v) / n * 1000:.1f} ms",
                fmt_x(base / median(v)),
                fmt_x(base_min / min(v)),
            )
        )
    section.add_table(
        (
            "configuration",
            "median",
            "min",
            "per file",
            "speed-up vs --jobs 1 (medians)",
            "speed-up (best runs)",
        ),
        rows,
    )
    ceiling = median(ceilings)
    section.add_text(
        f"What this machine gives two processes, measured in the same rounds: two units of a "
        f"pure-Python loop run {fmt_x(ceiling)} faster in two processes than one after the "
        f"other (median; range {fmt_x(min(ceilings))}–{fmt_x(max(ceilings))}; 2× on two "
        "real cores). That is the ceiling for `--jobs 2` here."
    )
    digests = set().union(*(outputs[k] for k in configs if not k.startswith("reference")))
    deterministic = len(digests) == 1
    section.add_text(
        f"Output: {len(digests)} distinct JSON report(s) over all runs and job counts "
        f"({next(iter(counts.values()), 0)} findings)."
    )
    if has_jobs:
        speedup = base / median(times["--jobs 2"])
        section.targets.append(
            Target(
                "speed-up of --jobs 2 over --jobs 1 (2 cores)",
                fmt_x(speedup),
                "report (ideal 2×)",
                None,
                "no number was set; the ideal is 2×",
                why=f"this machine's ceiling for two processes is {fmt_x(ceiling)}",
            )
        )
    else:
        section.targets.append(Target("--jobs speed-up", "CLI has no --jobs yet", "report", None))
    section.targets.append(
        Target(
            "deterministic output (all runs, all job counts)",
            "identical" if deterministic else f"{len(digests)} different outputs",
            "identical",
            deterministic,
        )
    )
    return section


if __name__ == "__main__":
    common.standalone(run, __doc__.splitlines()[0])
