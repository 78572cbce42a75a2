"""Run every benchmark and write ``bench/RESULTS.md`` from what was measured.

    python bench/run.py                 # full sizes (about 10–15 minutes on 2 cores)
    python bench/run.py --quick         # smallest sizes only (CI: they cannot rot)
    python bench/run.py --only scaling,startup --output /tmp/RESULTS.md
    python bench/run.py --only arch_latency --merge   # re-measure one section in place

Each benchmark is also a script of its own (``python bench/scaling.py``).
Nothing in the report is written by hand: the tables, the verdicts and the
notes on misses all come from this run. A benchmark that fails is reported
as such, and the command exits 1 after writing the report. With ``--merge``
the sections measured replace their namesakes in the existing report (and
their rows in its Targets table); the others stay as they were, and a line
under the title says which sections were measured later, when and at which
commit.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
import traceback
from pathlib import Path

import arch_latency
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
    "arch_latency": arch_latency,
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


def _parts(text: str) -> tuple[list[str], list[str], list[str], list[tuple[str, str]]]:
    """A report's lines before its Targets, the Targets table (header lines, then rows),
    the notes on misses, and its sections as (number, markdown)."""
    lines = text.splitlines()
    top_at = lines.index("## Targets")
    starts = [k for k in range(top_at + 1, len(lines)) if lines[k].startswith("## ")]
    top = lines[top_at + 1 : starts[0] if starts else len(lines)]
    table_lines = [line for line in top if line.startswith("|")]
    bullets = [line for line in top if line.startswith("- **")]
    sections = []
    for a, b in zip(starts, [*starts[1:], len(lines)], strict=True):
        number = lines[a][3:].split(" ", 1)[0].rstrip(".")
        sections.append((number, "\n".join(lines[a:b]).strip()))
    return lines[:top_at], table_lines, bullets, sections


def _order(number: str) -> tuple[int, str]:
    return (int(number), "") if number.isdigit() else (10**6, number)


def merge(old: str, new: str, note: str) -> str:
    """``new`` (a report of some sections) merged into ``old`` (a whole report): its
    sections replace those of the same number, its Targets rows and notes on misses
    replace theirs; ``note`` (one line per section, ``*Section N ...``) goes under the
    title, in place of earlier notes on the same sections."""
    old_head, old_table, old_bullets, old_sections = _parts(old)
    _, new_table, new_bullets, new_sections = _parts(new)
    replaced = {number for number, _ in new_sections}

    def row_key(row: str) -> tuple[str, str]:
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", row)[1:-1]]
        return cells[0], cells[1]  # section number, target name

    def bullet_name(bullet: str) -> str:
        return bullet.removeprefix("- **").split("**:", 1)[0]

    kept = [r for r in old_table[2:] if row_key(r)[0] not in replaced]
    kept_names = {row_key(r)[1] for r in kept}
    rows = sorted(kept + new_table[2:], key=lambda r: _order(row_key(r)[0]))
    section_of = {row_key(r)[1]: row_key(r)[0] for r in rows}
    bullets = [b for b in old_bullets if bullet_name(b) in kept_names] + new_bullets
    bullets.sort(key=lambda b: _order(section_of.get(bullet_name(b), "")))
    sections = dict(old_sections)
    sections.update(new_sections)
    head = [
        line
        for line in old_head
        if not any(line.startswith(f"*Section {n} re-measured") for n in replaced)
    ]
    title_end = next(k for k, line in enumerate(head) if line.startswith("Written by"))
    head[title_end + 1 : title_end + 1] = ["", *note.splitlines()]
    head = [line for k, line in enumerate(head) if line or (k and head[k - 1])]
    lines = [*head, "## Targets", "", *(old_table or new_table)[:2], *rows, ""]
    if bullets:
        lines += ["Misses, and what the measurements say about why:", "", *bullets, ""]
    failed = [n for n in sections if not n.isdigit()]
    if failed:
        lines += [f"Benchmarks that failed in this run: {', '.join(failed)}.", ""]
    for number in sorted(sections, key=_order):
        lines += [sections[number], ""]
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smallest sizes only")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="report path")
    parser.add_argument("--work", type=Path, help="folder for generated models (default: temp)")
    parser.add_argument("--only", help="comma-separated subset of: " + ", ".join(BENCHMARKS))
    parser.add_argument(
        "--merge",
        action="store_true",
        help="replace only these sections (and their targets) in the existing report",
    )
    args = parser.parse_args(argv)
    chosen = args.only.split(",") if args.only else list(BENCHMARKS)
    unknown = [c for c in chosen if c not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    command = "python bench/run.py" + (" --quick" if args.quick else "")
    if args.only:
        command += f" --only {args.only}"
    if args.merge:
        if not args.only:
            parser.error("--merge goes with --only")
        command += " --merge"
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
    if args.merge and args.output.exists():
        facts = dict(common.machine())
        note = "\n".join(
            f"*Section {s.title.split(' ', 1)[0].rstrip('.')} re-measured alone by `{command}` "
            f"on {facts['date']}, linlint {facts['linlint']}.*"
            for _, s, _ in sections
        )
        text = merge(args.output.read_text(encoding="utf-8"), text, note)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(text)
    print(f"[bench] wrote {args.output}", file=sys.stderr)
    return 1 if any(s.title.startswith("FAILED") for _, s, _ in sections) else 0


if __name__ == "__main__":
    sys.exit(main())
