"""Shared pieces of the benchmarks: running linlint, timing, peak memory, markdown tables.

Every benchmark script imports this module as a sibling (``python bench/X.py``
puts ``bench/`` first on ``sys.path``). Timings of ``linlint`` go through the
command line (``python -m linlint ...``) in a fresh process wherever the
command exists; where it does not yet (``fold`` may land after ``check``), the
same work runs through the Python API in a fresh process, and the report says
so.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cache
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PY = sys.executable
# Timed processes get Python's bytecode cache, as any normal install has: a private cache
# folder, so nothing is written next to linlint's sources. (This machine sets
# PYTHONDONTWRITEBYTECODE=1, which makes every process recompile linlint's modules.)
PYCACHE = Path(tempfile.gettempdir()) / "linlint-bench-pycache"
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
ENV["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
NO_PYCACHE_ENV = {
    **{k: v for k, v in os.environ.items() if k != "PYTHONPYCACHEPREFIX"},
    "PYTHONDONTWRITEBYTECODE": "1",
}

# --------------------------------------------------------------------------- report pieces


@dataclass
class Target:
    """One target: what was measured against what was asked for."""

    name: str
    measured: str
    goal: str
    met: bool | None  # None: nothing to meet (a number to report), or not measured
    note: str = ""
    why: str = ""  # for a miss: what the measurements say about the cause

    @property
    def verdict(self) -> str:
        return {True: "met", False: "**missed**"}.get(self.met, "–")


@dataclass
class Section:
    """What one benchmark script measured: markdown tables, notes and target verdicts."""

    title: str
    intro: str = ""
    blocks: list[str] = field(default_factory=list)  # tables and paragraphs, in order
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add_table(self, headers: Sequence[str], rows: Sequence[Sequence], caption: str = ""):
        self.blocks.append((f"{caption}\n\n" if caption else "") + table(headers, rows))

    def add_text(self, text: str) -> None:
        self.blocks.append(text)

    def markdown(self, level: int = 2) -> str:
        parts = [f"{'#' * level} {self.title}", ""]
        if self.intro:
            parts += [self.intro, ""]
        for block in self.blocks:
            parts += [block, ""]
        if self.targets:
            parts += [
                table(
                    ("target", "measured", "goal", "verdict"),
                    [(t.name, t.measured, t.goal, t.verdict) for t in self.targets],
                ),
                "",
            ]
        for note in self.notes:
            parts += [f"- {note}"]
        if self.notes:
            parts.append("")
        return "\n".join(parts)


def table(headers: Sequence[str], rows: Sequence[Sequence]) -> str:
    """A GitHub markdown table; numbers right-aligned."""

    def cell(value) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    def numeric(value) -> bool:
        text = str(value).replace(",", "").replace("×", "").replace("%", "").strip()
        for unit in (" ms", " s", " MB", " µs", "x", " kB", " GB", " k", " M", " G"):
            text = text.removesuffix(unit)
        try:
            float(text)
        except ValueError:
            return False
        return True

    align = []
    for k in range(len(headers)):
        column = [r[k] for r in rows if k < len(r) and str(r[k]) not in ("", "–", "error")]
        align.append("---:" if column and all(numeric(v) for v in column) else "---")
    lines = ["| " + " | ".join(cell(h) for h in headers) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def print_section(section: Section) -> None:
    print(section.markdown())


# --------------------------------------------------------------------------- numbers


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def fmt_s(seconds: float | None) -> str:
    if seconds is None or seconds != seconds:
        return "–"
    if seconds >= 10:
        return f"{seconds:.1f} s"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    return f"{seconds * 1000:.0f} ms" if seconds >= 0.1 else f"{seconds * 1000:.1f} ms"


def fmt_ms(ms: float | None) -> str:
    if ms is None or ms != ms:
        return "–"
    if ms >= 100:
        return f"{ms:.0f} ms"
    if ms >= 1:
        return f"{ms:.2f} ms"
    return f"{ms * 1000:.1f} µs" if ms < 0.1 else f"{ms * 1000:.0f} µs"


def fmt_mb(nbytes: float | None) -> str:
    return "–" if nbytes is None else f"{nbytes / 2**20:.0f} MB"


def fmt_size(nbytes: float) -> str:
    if nbytes >= 2**30:
        return f"{nbytes / 2**30:.2f} GB"
    if nbytes >= 10 * 2**20:
        return f"{nbytes / 2**20:.0f} MB"
    if nbytes >= 2**20:
        return f"{nbytes / 2**20:.1f} MB"
    return f"{nbytes / 2**10:.0f} kB"


def fmt_x(ratio: float | None) -> str:
    return "–" if ratio is None or ratio != ratio else f"{ratio:.2f}×"


def fmt_int(n: int | None) -> str:
    return "–" if n is None else f"{n:,}"


def fmt_count(n: float | None) -> str:
    """Large counts short: 1.23 G, 45.6 M, 789 k."""
    if n is None:
        return "–"
    for scale, unit in ((1e9, " G"), (1e6, " M"), (1e3, " k")):
        if abs(n) >= scale:
            return f"{n / scale:.3g}{unit}"
    return f"{n:g}"


# --------------------------------------------------------------------------- processes


@dataclass
class Run:
    """One finished child process: wall time, peak RSS (bytes), exit code, output."""

    seconds: float
    maxrss: int
    returncode: int
    stdout: str
    stderr: str


# The measured command is forked from this small launcher, not from the benchmark process:
# a child's ru_maxrss starts from the memory of the process it was forked from (Linux keeps
# the high-water mark across exec), so forking from a big parent would inflate it.
_LAUNCHER = r"""
import os, sys, time
report, cmd = sys.argv[1], sys.argv[2:]
start = time.perf_counter()
pid = os.posix_spawnp(cmd[0], cmd, os.environ)
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - start
with open(report, "w") as f:
    f.write(f"{seconds!r} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}")
"""


def run(cmd: Sequence[str], *, cwd: str | Path | None = None, env: dict | None = None) -> Run:
    """Run a command to completion: wall time, its own peak RSS (``wait4``), exit code, output.

    ``env`` defaults to ``ENV`` (this environment with the bytecode cache on).
    """
    env = ENV if env is None else env
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile("r", suffix=".txt") as report,
    ):
        launcher = [PY, "-S", "-c", _LAUNCHER, report.name, *cmd]
        subprocess.run(launcher, stdout=out, stderr=err, cwd=cwd, env=env, check=True)
        seconds, maxrss, code = report.read().split()
        out.seek(0)
        err.seek(0)
        scale = 1 if sys.platform == "darwin" else 1024
        return Run(
            float(seconds),
            int(maxrss) * scale,
            int(code),
            out.read().decode(errors="replace"),
            err.read().decode(errors="replace"),
        )


def checked(result: Run, what: str, ok: Sequence[int] = (0,)) -> Run:
    if result.returncode not in ok:
        tail = (result.stderr or result.stdout).strip().splitlines()[-5:]
        raise RuntimeError(f"{what} exited {result.returncode}: " + " / ".join(tail))
    return result


def child_json(script: Path, *args: str) -> dict:
    """Run ``python SCRIPT ARGS`` and parse the JSON object it prints last."""
    result = checked(run([PY, str(script), *args]), f"{script.name} {' '.join(args)}")
    return json.loads(result.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- linlint commands

# What a finding looks like when the CLI is not there: one JSON object per line, stable order.
_API_CHECK = r"""
import json, sys
import linlint
from linlint.model.find import discover
out = []
for path in discover(sys.argv[1:]):
    for f in linlint.check(path):
        out.append(f.to_dict())
print(json.dumps(out, sort_keys=True))
sys.exit(1 if out else 0)
"""

_API_FOLD = r"""
import sys
import linlint
from linlint.model.write import save_model
result = linlint.fold(sys.argv[1])
if result.verification is not None and not result.verification.ok:
    sys.exit("verification failed")
save_model(result.model, sys.argv[2], base_dir=result.base_dir)
"""


@cache
def cli_help(command: str) -> str | None:
    """``linlint COMMAND --help`` text, or None when the CLI or the command does not exist."""
    result = run([PY, "-m", "linlint", command, "--help"])
    return result.stdout if result.returncode == 0 else None


def cli_has(command: str, option: str = "") -> bool:
    text = cli_help(command)
    return text is not None and option in text


def check_cmd(paths: Sequence[str | Path], *, jobs: int | None = None, json_out: bool = False):
    """The command that checks ``paths`` end to end, and whether it is the real CLI."""
    if cli_has("check"):
        cmd = [PY, "-m", "linlint", "check", *map(str, paths)]
        if jobs is not None and cli_has("check", "--jobs"):
            cmd += ["--jobs", str(jobs)]
        if json_out and cli_has("check", "--format"):
            cmd += ["--format", "json"]
        if cli_has("check", "--no-progress"):
            cmd.append("--no-progress")
        if cli_has("check", "--isolated"):
            cmd.append("--isolated")
        return cmd, True
    return [PY, "-c", _API_CHECK, *map(str, paths)], False


def fold_cmd(model: str | Path, out: str | Path):
    """The command that folds ``model`` into ``out`` end to end, and whether it is the CLI."""
    if cli_has("fold"):
        return [PY, "-m", "linlint", "fold", str(model), "-o", str(out)], True
    return [PY, "-c", _API_FOLD, str(model), str(out)], False


CHECK_OK = (0, 1)  # 1: findings reached --fail-on, which is a successful check


def how(is_cli: bool, command: str) -> str:
    if is_cli:
        return f"`python -m linlint {command}`"
    return f"Python API in a fresh process (`linlint {command}` CLI not available yet)"


# --------------------------------------------------------------------------- the machine


def _version(module: str) -> str:
    try:
        from importlib.metadata import version

        return version(module)
    except Exception:  # noqa: BLE001 - a missing package is reported, not fatal
        return "not installed"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return f"{int(line.split()[1]) / 2**20:.0f} GiB"
    except OSError:
        pass
    return "unknown"


def _git_commit() -> str:
    try:
        result = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        )
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--", "linlint", "rules"],
            capture_output=True,
            text=True,
        ).stdout.strip()
        return result.stdout.strip() + (" (+ uncommitted changes in linlint/)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine() -> list[tuple[str, str]]:
    env = [
        f"{k}={os.environ[k]}" for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if k in os.environ
    ]
    return [
        ("date", datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")),
        ("CPU", f"{_cpu_model()}, {os.cpu_count()} cores"),
        ("memory", _memory()),
        ("OS", f"{platform.system()} {platform.release()}"),
        ("Python", platform.python_version()),
        ("linlint", f"{_version('linlint')} at commit {_git_commit()}"),
        ("onnx", _version("onnx")),
        ("onnxruntime", _version("onnxruntime")),
        ("numpy", _version("numpy")),
        ("onnxoptimizer", _version("onnxoptimizer")),
        ("onnxslim", _version("onnxslim")),
        ("BLAS environment", ", ".join(env) or "none set"),
        (
            "bytecode cache",
            "on for every timed process (`PYTHONPYCACHEPREFIX`, a private folder)"
            + (
                "; this machine sets PYTHONDONTWRITEBYTECODE=1, which the start-up table also shows"
                if os.environ.get("PYTHONDONTWRITEBYTECODE")
                else ""
            ),
        ),
    ]


def standalone(run_fn, description: str) -> None:
    """``main()`` of a benchmark script: parse ``--quick``/``--work``, run, print the section."""
    import argparse

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="smallest sizes only (for CI)")
    parser.add_argument("--work", type=Path, help="folder for generated models (default: temp)")
    args = parser.parse_args()
    if args.work:
        args.work.mkdir(parents=True, exist_ok=True)
        print_section(run_fn(quick=args.quick, work=args.work))
        return
    with tempfile.TemporaryDirectory(prefix="linlint-bench-") as work:
        print_section(run_fn(quick=args.quick, work=Path(work)))


def child_main(run_fn, description: str, child_fn) -> None:
    """``main()`` of a benchmark that measures each model in a child process of its own:
    ``--child MODEL OUTDIR BUDGET LO HI`` prints ``child_fn(...)`` as JSON (read back by
    ``child_json``); anything else is ``standalone``."""
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        model, outdir, budget, lo, hi = sys.argv[2:7]
        print(json.dumps(child_fn(model, outdir, float(budget), int(lo), int(hi))))
        return
    standalone(run_fn, description)


# --------------------------------------------------------------------------- phases


class Phases:
    """Exclusive wall time per phase, by wrapping functions of linlint's modules in place.

    ``wrap(module, "name", "phase")`` replaces ``module.name`` with a timed
    wrapper for this process only (nothing is written to linlint's files);
    a name the module does not have is skipped, so the benchmarks survive
    refactors. Time spent in a wrapped call nested in another is counted to
    the inner phase only.
    """

    def __init__(self) -> None:
        self.times: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self._stack: list[list[float]] = []
        self._undo: list[tuple[object, str, object]] = []
        self.missing: list[str] = []

    def wrap(self, owner, name: str, phase) -> None:
        """``phase``: a name, or a function of the call's ``(args, kwargs)`` giving one."""
        original = getattr(owner, name, None)
        if original is None:
            self.missing.append(f"{getattr(owner, '__name__', owner)}.{name}")
            return
        timer = self

        def timed(*args, **kwargs):
            frame = [time.perf_counter(), 0.0]  # start, time in nested wrapped calls
            timer._stack.append(frame)
            try:
                return original(*args, **kwargs)
            finally:
                timer._stack.pop()
                spent = time.perf_counter() - frame[0]
                label = phase(args, kwargs) if callable(phase) else phase
                timer.times[label] = timer.times.get(label, 0.0) + spent - frame[1]
                timer.calls[label] = timer.calls.get(label, 0) + 1
                if timer._stack:
                    timer._stack[-1][1] += spent

        timed.__wrapped__ = original  # type: ignore[attr-defined]
        setattr(owner, name, timed)
        self._undo.append((owner, name, original))

    def reset(self) -> None:
        self.times.clear()
        self.calls.clear()

    def restore(self) -> None:
        while self._undo:
            owner, name, original = self._undo.pop()
            setattr(owner, name, original)
