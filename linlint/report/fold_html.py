"""The HTML page of ``linlint fold --report FILE.html``: what was folded, drawn.

The same page as ``--format html`` (``html``), for the rewrites a fold made: a summary
(models, regions folded by rule, the totals before → after), then per model its
verification (the verdict, and per output the largest difference and its margin against the
original's own noise), each folded region before → after with its costs, the regions left
as they were and why, and the findings that remain.
"""

from __future__ import annotations

from collections.abc import Sequence

from linlint.report.escape import html_message, html_text
from linlint.report.fold import FoldReport, op_counts
from linlint.report.html import LEGEND, costs_table, figure, page, table


def _verification(verification) -> list[str]:
    if verification is None:
        return ['<p class="reason">not verified (--no-verify)</p>']
    cls = "muted" if verification.ok else "reason"
    out = [f'<p class="{cls}"><b>{html_text(verification.summary())}</b></p>']
    rows = []
    for c in verification.outputs:
        allowed = (
            "exact" if c.exact else "given tolerance" if c.allowed is None else f"{c.allowed:g}×"
        )
        rows.append(
            (
                c.name,
                "x".join(map(str, c.shape)),
                f"{c.max_abs:.2e}",
                f"{c.noise:.1e}",
                f"{c.ratio:.2g}×",
                allowed,
                "ok" if c.ok else c.problem or "differs",
            )
        )
    if rows:
        head = ("output", "shape", "max abs", "own noise", "at worst", "allowed", "verdict")
        out.append(table(head, rows))
    return out


def _model(report: FoldReport, start: int) -> list[str]:
    result = report.result
    out = [f"<h2>{html_text(str(report.model))}</h2>"]
    b, a = result.before, result.after
    rows = [
        ("parametric ops", b.param_ops, a.param_ops),
        ("nodes", b.nodes, a.nodes),
        ("MACs", f"{b.macs:,}", f"{a.macs:,}"),
        ("parameters", f"{b.params:,}", f"{a.params:,}"),
    ]
    out.append(table(("model", "before", "after"), rows))
    if result.changed:
        out += _verification(result.verification)
    for k, r in enumerate(result.folded, start):
        after = " + ".join(r.ops_after) if r.ops_after else "(removed)"
        where = f" in graph <code>{html_text(r.graph)}</code>" if r.graph else ""
        parts = [
            f'<section class="finding" id="folded-{k}">',
            f"<h3>{html_text(r.code)} folded: {html_text(op_counts(r.ops_before))} → "
            f"{html_text(after)}</h3>",
            f"<p>{html_message(r.message)}</p>",
            f'<p class="muted">nodes{where}: <code>{html_text(" → ".join(r.nodes))}</code></p>',
        ]
        if r.region is not None:
            parts.append(figure(r.region, f"{k}"))
        parts += [costs_table(r), "</section>"]
        out.append("".join(parts))
    if result.refused:
        items = "".join(f"<li>{html_message(reason)}</li>" for reason in result.refused)
        out.append(f"<h3>Not folded</h3><ul>{items}</ul>")
    if report.remaining:
        items = "".join(
            f"<li>{html_text(f.code)} [{html_text(f.level)}] {html_message(f.message)}</li>"
            for f in report.remaining
        )
        out.append(f"<h3>Findings that remain</h3><ul>{items}</ul>")
    if not result.changed:
        out.append('<p class="muted">nothing to fold</p>')
    elif report.written is not None:
        out.append(f'<p class="muted">wrote <code>{html_text(str(report.written))}</code></p>')
    elif report.diff:
        out.append('<p class="muted">--diff: nothing written</p>')
    return out


def render(reports: Sequence[FoldReport]) -> str:
    """The page for the models one ``linlint fold`` run folded."""
    folded = [r for report in reports for r in report.result.folded]
    codes = sorted({r.code for r in folded})
    body = ["<h1>linlint fold report</h1>"]
    n = len(reports)
    body.append(
        f"<p>{n} model{'' if n == 1 else 's'}, {len(folded)} rewrite"
        f"{'' if len(folded) == 1 else 's'}.</p>"
    )
    if codes:
        body.append(
            table(("rule", "folded"), [(c, sum(r.code == c for r in folded)) for c in codes])
        )
    saved = [
        ("MACs", sum(r.result.before.macs - r.result.after.macs for r in reports)),
        ("parameters", sum(r.result.before.params - r.result.after.params for r in reports)),
        ("nodes", sum(r.result.before.nodes - r.result.after.nodes for r in reports)),
    ]
    body.append("<p>Saved: " + ", ".join(f"{label} {v:,}" for label, v in saved) + ".</p>")
    body.append(LEGEND)
    start = 0
    for report in reports:
        body += _model(report, start)
        start += len(report.result.folded)
    return page("linlint fold report", body)
