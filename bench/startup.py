"""Target 2: start-up. ``linlint check`` on a tiny model against ``python -c "import onnx"``.

Every command runs in a fresh process, interleaved round by round; the table
gives medians. ``python -X importtime`` then shows which imports ``check``
pays for (median over a few runs), and which heavy packages it loads at all.

    python bench/startup.py [--quick]
"""

from __future__ import annotations

import re
from pathlib import Path

import common
import models
from common import PY, Section, Target, fmt_ms, fmt_x, median

RUNS, QUICK_RUNS = 30, 1  # --quick: one round after the warm-up run
REF = '`python -c "import onnx"` (the reference)'
IMPORTTIME_RUNS, QUICK_IMPORTTIME_RUNS = 5, 1
TARGET = 1.5
# Packages `check` should not need at start-up (the design: import them only where used).
HEAVY = (
    "onnxruntime",
    "networkx",
    "rich",
    "scipy",
    "sympy",
    "onnx.reference",
    "onnx.shape_inference",
    "typer",
    "click",
    "numpy",
    "onnx",
)
_LINE = re.compile(r"^import time:\s*(\d+)\s*\|\s*(\d+)\s*\|(\s*)(\S+)\s*$")


def importtime(cmd: list[str]) -> list[tuple[str, int, int, int]]:
    """``(module, self µs, cumulative µs, depth)`` for every import of one run."""
    result = common.checked(common.run([PY, "-X", "importtime", *cmd[1:]]), "importtime", (0, 1))
    rows = []
    for line in result.stderr.splitlines():
        m = _LINE.match(line)
        if m:
            rows.append((m[4], int(m[1]), int(m[2]), (len(m[3]) - 1) // 2))
    return rows


def run(quick: bool, work: Path) -> Section:
    tiny = work / "tiny.onnx"
    models.tiny(tiny)
    check, is_cli = common.check_cmd([tiny])
    script = Path(PY).parent / "linlint"
    target_key = "`linlint check tiny.onnx`" + (" (the console script)" if is_cli else " (API)")
    commands: dict[str, tuple[list[str], dict | None]] = {
        "`python -c pass` (the interpreter)": ([PY, "-c", "pass"], None),
        REF: ([PY, "-c", "import onnx"], None),
        '`python -c "import numpy"`': ([PY, "-c", "import numpy"], None),
    }
    if is_cli and script.exists():
        commands[target_key] = ([str(script), *check[3:]], None)
    else:
        target_key = f"`{' '.join(['python', *check[1:3]])} check tiny.onnx`"
    commands[f"`python -m linlint check tiny.onnx`{'' if is_cli else ' (API)'}"] = (check, None)
    commands['API: `python -c "import linlint; linlint.check(...)"`'] = (
        [PY, "-c", f"import linlint; linlint.check({str(tiny)!r})"],
        None,
    )
    commands["`python -m linlint check tiny.onnx`, no bytecode cache"] = (
        check,
        common.NO_PYCACHE_ENV,
    )
    if is_cli:
        commands["`linlint --version`"] = ([PY, "-m", "linlint", "--version"], None)
    if target_key not in commands:
        target_key = next(k for k in commands if k.startswith("`python -m linlint check"))
    times: dict[str, list[float]] = {k: [] for k in commands}
    rss: dict[str, int] = {}
    runs = QUICK_RUNS if quick else RUNS
    for cmd, env in commands.values():  # warm the file and bytecode caches once
        common.run(cmd, env=env)
    for _ in range(runs):
        for k, (cmd, env) in commands.items():
            ok = common.CHECK_OK if "linlint" in k else (0,)
            r = common.checked(common.run(cmd, env=env), k, ok)
            times[k].append(r.seconds)
            rss[k] = max(rss.get(k, 0), r.maxrss)
    ref = median(times[REF])
    check_key = target_key
    section = Section(
        "2. Start-up",
        f"A tiny model (Conv → BatchNormalization → Relu, `models.tiny`). Each command in a "
        f"fresh process, {runs} interleaved rounds, medians; linlint is "
        f"{common.how(is_cli, 'check')}. Python's bytecode cache is on (as after any "
        "install) except in the row that says otherwise.",
    )
    section.add_table(
        ("command", "median", "min", "vs import onnx", "peak RSS"),
        [
            (
                k,
                fmt_ms(median(v) * 1000),
                fmt_ms(min(v) * 1000),
                fmt_x(median(v) / ref),
                common.fmt_mb(rss[k]),
            )
            for k, v in times.items()
        ],
    )

    # what check imports
    n = QUICK_IMPORTTIME_RUNS if quick else IMPORTTIME_RUNS
    per_module: dict[str, list[tuple[int, int, int]]] = {}
    order: list[str] = []
    for _ in range(n):
        for name, own, cum, depth in importtime(check):
            if name not in per_module:
                per_module[name] = []
                order.append(name)
            per_module[name].append((own, cum, depth))

    def med(name: str, k: int) -> float:
        return median([v[k] for v in per_module[name]])

    top_level = [m for m in order if per_module[m][0][2] == 0]
    top_level.sort(key=lambda m: -med(m, 1))
    total = sum(med(m, 1) for m in top_level)
    section.add_table(
        ("imported at top level", "cumulative", "share"),
        [(m, fmt_ms(med(m, 1) / 1000), f"{med(m, 1) / total:.0%}") for m in top_level[:10]],
        f"`python -X importtime` of the check command, median of {n} run(s): the imports made "
        f"at top level (by the interpreter, `-m`, or inside linlint's functions); all imports "
        f"add up to {fmt_ms(total / 1000)}.",
    )
    by_self = sorted(order, key=lambda m: -med(m, 0))[:15]
    section.add_table(
        ("module", "own time", "cumulative"),
        [(m, fmt_ms(med(m, 0) / 1000), fmt_ms(med(m, 1) / 1000)) for m in by_self],
        "Top 15 modules by own import time.",
    )
    heavy = [(h, fmt_ms(med(h, 1) / 1000) if h in per_module else "not imported") for h in HEAVY]
    section.add_table(
        ("package", "imported by check?"),
        heavy,
        "Heavy packages: which ones the check command loads (cumulative import time).",
    )
    ratio = median(times[check_key]) / ref
    section.targets.append(
        Target(
            "check tiny.onnx vs `import onnx`",
            f"{fmt_ms(median(times[check_key]) * 1000)} vs {fmt_ms(ref * 1000)} = {fmt_x(ratio)}",
            "≤ 1.5×",
            ratio <= TARGET,
            why="imports made by check: "
            + ", ".join(f"{m} {fmt_ms(med(m, 1) / 1000)}" for m in top_level[:4]),
        )
    )
    nocache = median(times["`python -m linlint check tiny.onnx`, no bytecode cache"])
    section.notes.append(
        f"Without Python's bytecode cache (PYTHONDONTWRITEBYTECODE=1, as this machine's "
        f"environment sets it) every run recompiles linlint's modules: {fmt_ms(nocache * 1000)}"
        f" = {fmt_x(nocache / ref)} the reference."
    )
    loaded = [h for h in ("onnxruntime", "networkx", "rich", "scipy", "sympy") if h in per_module]
    section.targets.append(
        Target(
            "onnxruntime and other unneeded heavy packages not imported by check",
            ", ".join(loaded) + " imported" if loaded else "none imported",
            "none",
            not loaded,
        )
    )
    return section


if __name__ == "__main__":
    common.standalone(run, __doc__.splitlines()[0])
