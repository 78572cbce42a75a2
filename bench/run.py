"""Run every benchmark and write ``bench/RESULTS.md`` from what was measured.

    python bench/run.py                 # full sizes (about 10–15 minutes on 2 cores)
    python bench/run.py --quick         # smallest sizes only (CI: they cannot rot)
    python bench/run.py --only scaling,startup --output /tmp/RESULTS.md

Each benchmark is also a script of its own (``python bench/scaling.py``).
Nothing in the report is written by hand: the tables, the verdicts and the
notes on misses all come from this run. A benchmark that fails is reported
as such, and the command exits 1 after writing the report.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import traceback
from pathlib import Path

import common
import fold_time
import many_files
import peers
import scaling
import startup
from common import Section

BENCHMARKS = {
    "scaling": scaling,
    "startup": startup,
    "many_files": many_files,
    "fold_time": fold_time,
    "peers": peers,
}
DEFAULT_OUTPUT = common.BENCH / "RESULTS.md"


def render(sections: list[tuple[str, Section, float]], quick: bool, command: str) -> str:
    lines = [
        "# linlint benchmarks",
        "",
        f"Written by `{command}` — do not edit by hand; run it again. "
        + ("**Quick mode: smallest sizes only; the targets need the full run.** " if quick else ""),
        "",
        common.table(("machine", ""), common.machine()),
        "",
        "## Targets",
        "",
    ]
    rows = []
    for _, section, _ in sections:
        for t in section.targets:
            rows.append(
                (section.title.split(" ", 1)[0].rstrip("."), t.name, t.measured, t.goal, t.verdict)
            )
    lines += [common.table(("#", "target", "measured", "goal", "verdict"), rows), ""]
    missed = [(s, t) for _, s, _ in sections for t in s.targets if t.met is False]
    if missed:
        lines += ["Misses, and what the measurements say about why:", ""]
        for _, t in missed:
            why = f" — {t.why}" if t.why else ""
            lines.append(f"- **{t.name}**: {t.measured} against {t.goal}{why}.")
        lines.append("")
    failed = [name for name, s, _ in sections if s.title.startswith("FAILED")]
    if failed:
        lines += [f"Benchmarks that failed in this run: {', '.join(failed)}.", ""]
    for _, section, seconds in sections:
        lines += [
            section.markdown(),
            f"*({section.title.split(' ', 1)[0].rstrip('.')} took {common.fmt_s(seconds)}.)*",
            "",
        ]
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smallest sizes only")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="report path")
    parser.add_argument("--work", type=Path, help="folder for generated models (default: temp)")
    parser.add_argument("--only", help="comma-separated subset of: " + ", ".join(BENCHMARKS))
    args = parser.parse_args(argv)
    chosen = args.only.split(",") if args.only else list(BENCHMARKS)
    unknown = [c for c in chosen if c not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    command = "python bench/run.py" + (" --quick" if args.quick else "")
    if args.only:
        command += f" --only {args.only}"
    sections: list[tuple[str, Section, float]] = []
    with tempfile.TemporaryDirectory(prefix="linlint-bench-") as temp:
        work = args.work or Path(temp)
        for name in chosen:
            start = time.perf_counter()
            print(f"[bench] {name} ...", file=sys.stderr, flush=True)
            try:
                (work / name).mkdir(parents=True, exist_ok=True)
                section = BENCHMARKS[name].run(quick=args.quick, work=work / name)
            except Exception:  # noqa: BLE001 - report the failure, run the rest
                section = Section(f"FAILED {name}")
                section.add_text("```\n" + traceback.format_exc()[-3000:] + "```")
            seconds = time.perf_counter() - start
            print(f"[bench] {name}: {common.fmt_s(seconds)}", file=sys.stderr, flush=True)
            sections.append((name, section, seconds))
    text = render(sections, args.quick, command)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(text)
    print(f"[bench] wrote {args.output}", file=sys.stderr)
    return 1 if any(s.title.startswith("FAILED") for _, s, _ in sections) else 0


if __name__ == "__main__":
    sys.exit(main())
