"""HTML: one self-contained page (inline CSS and SVG; no script, font or link fetched) that
draws every finding.

A summary first (files, findings by rule and level, what folding would save in MACs,
parameters and nodes), then per file and per finding: the message, the region before →
after the fold as inline SVG (``svg``), its costs, and the reason where the fold is not
exact. Only the region and its immediate neighbours are drawn, never the whole graph.
``linlint fold --report`` writes the same page for what it folded (``fold_html``).
"""

from __future__ import annotations

from collections.abc import Sequence

from linlint.checking.findings import LEVELS, Finding
from linlint.report import Scope, display_path
from linlint.report import drawing as draw
from linlint.report.escape import html_message, html_text
from linlint.report.svg import STYLE, region_svg

PAGE_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;
color:#1f2328;margin:0 auto;max-width:1200px;padding:16px 24px}
h1{font-size:22px;margin:4px 0 12px}h2{font-size:17px;margin:28px 0 8px;
border-bottom:1px solid #d0d7de;padding-bottom:4px}h3{font-size:15px;margin:0 0 4px}
table{border-collapse:collapse;margin:6px 0 10px}td,th{border:1px solid #d0d7de;
padding:3px 9px;text-align:right}th{background:#f6f8fa}
td:first-child,th:first-child{text-align:left}
.finding{border:1px solid #d0d7de;border-radius:6px;padding:10px 14px;margin:12px 0}
.finding figure{margin:8px 0;overflow-x:auto}
.level{font-weight:600;padding:0 6px;border-radius:10px}
.level.error{background:#ffebe9;color:#cf222e}.level.warning{background:#fff8c5;color:#9a6700}
.level.note{background:#ddf4ff;color:#0969da}.reason{color:#9a6700}.muted{color:#57606a}
code{font:12.5px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.legend span{display:inline-block;margin-right:14px}
"""

LEGEND = (
    '<p class="legend muted"><span>▭ blue: weight-carrying op</span>'
    "<span>▭ white: op between</span><span>┈ dashed grey: neighbour outside the region</span>"
    '<span style="color:#1a7f37">━ source read</span>'
    '<span style="color:#bc4c00">━ exit computed</span>'
    '<span style="color:#cf222e">┅ intermediate read outside</span></p>'
)


def page(title: str, body: Sequence[str]) -> str:
    """A complete HTML document around ``body``."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html_text(title)}</title><style>{PAGE_STYLE}{STYLE}</style></head>\n<body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )


def table(head: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = "".join(f"<th>{html_text(str(h))}</th>" for h in head)
    body = "".join(
        "<tr>" + "".join(f"<td>{html_text(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>"


def figure(picture, key: str, reason: str = "") -> str:
    """The before → after drawing of one region, with the counts a reader (or a test)
    can check against the region's data."""
    first, second = draw.before(picture), draw.after(picture)
    note = "no exact fold" + (f": {reason}" if reason else "")
    svg = region_svg(first, second, key, note)
    after_nodes = len(second.boxes) if second else 0
    after_edges = len(second.arrows) if second else 0
    return (
        f'<figure class="drawing" data-nodes="{len(first.boxes)}" '
        f'data-edges="{len(first.arrows)}" data-after-nodes="{after_nodes}" '
        f'data-after-edges="{after_edges}">{svg}</figure>'
    )


def costs_table(fix) -> str:
    """MACs, parameters, elementwise ops, bytes moved and nodes, before → after, where known
    (``fix`` is a ``Fix`` or a folded region)."""
    rows = []
    for label, field in (
        ("MACs", "macs"),
        ("parameters", "params"),
        ("elementwise ops", "elementwise"),
        ("bytes moved", "moved"),
        ("nodes", "nodes"),
    ):
        b, a = getattr(fix, f"{field}_before", 0), getattr(fix, f"{field}_after", 0)
        if b or a:
            rows.append((label, f"{b:,}", f"{a:,}", f"{a - b:+,}"))
    return table(("cost", "before", "after", "change"), rows) if rows else ""


def folding_saves(findings: Sequence[Finding]) -> tuple[int, int, int, int]:
    """(regions, MACs, parameters, nodes) that ``linlint fold`` would save: each region a
    folding rule fires on, exactly, counted once."""
    from linlint.rules import get_rule

    seen: set[tuple[str, str, tuple[str, ...]]] = set()
    regions = macs = params = nodes = 0
    for f in findings:
        rule = get_rule(f.code)
        key = (f.file, f.graph, f.nodes)
        if rule is None or not rule.folded_by(False) or not f.fix.exact or key in seen:
            continue
        seen.add(key)
        regions += 1
        macs += f.fix.macs_before - f.fix.macs_after
        params += f.fix.params_before - f.fix.params_after
        nodes += f.fix.nodes_before - f.fix.nodes_after
    return regions, macs, params, nodes


def summary(findings: Sequence[Finding], scope: Scope) -> list[str]:
    from linlint.report.text import summary as summary_line

    out = [
        f"<p>{html_text(summary_line(findings, scope.files, scope.errors, scope.suppressed))}</p>"
    ]
    codes = sorted({(f.code, f.name) for f in findings})
    rows = []
    for code, name in codes:
        counts = [sum(f.code == code and f.level == lv for f in findings) for lv in LEVELS[::-1]]
        rows.append((f"{code} {name}", *counts, sum(counts)))
    if rows:
        out.append(table(("rule", *LEVELS[::-1], "total"), rows))
    regions, macs, params, nodes = folding_saves(findings)
    if regions:
        out.append(
            f"<p><code>linlint fold</code> would fold {regions:,} region"
            f"{'' if regions == 1 else 's'}: MACs {-macs:+,}, parameters {-params:+,}, "
            f"nodes {-nodes:+,}.</p>"
        )
    return out


def finding_block(f: Finding, key: str) -> str:
    level = f'<span class="level {html_text(f.level)}">{html_text(f.level)}</span>'
    where = f" in graph <code>{html_text(f.graph)}</code>" if f.graph else ""
    parts = [
        f'<section class="finding" id="finding-{key}">',
        f"<h3>{html_text(f.code)} {level} {html_text(f.name)}</h3>",
        f"<p>{html_message(f.message)}</p>",
        f'<p class="muted">nodes{where}: <code>{html_text(" → ".join(f.nodes))}</code></p>',
    ]
    if f.region is not None:
        parts.append(figure(f.region, key, f.fix.reason if not f.fix.exact else ""))
    parts.append(costs_table(f.fix))
    if f.fix.reason:
        label = "why not exact" if not f.fix.exact else "note"
        parts.append(f'<p class="reason">{label}: {html_message(f.fix.reason)}</p>')
    parts.append("</section>")
    return "".join(parts)


def render(findings: Sequence[Finding], scope: Scope = Scope()) -> str:
    """The HTML report as one string."""
    body = ["<h1>linlint report</h1>", *summary(findings, scope), LEGEND]
    groups: dict[str, list[Finding]] = {}
    for f in findings:
        groups.setdefault(f.file, []).append(f)
    k = 0
    for file, group in groups.items():
        body.append(f"<h2>{html_text(display_path(file, scope.root))}</h2>")
        for f in group:
            body.append(finding_block(f, str(k)))
            k += 1
    if scope.errors:
        body.append("<h2>Files that could not be checked</h2>")
        items = "".join(
            f"<li><code>{html_text(display_path(file, scope.root))}</code>: "
            f"{html_message(msg)}</li>"
            for file, msg in scope.errors
        )
        body.append(f"<ul>{items}</ul>")
    return page("linlint report", body)
