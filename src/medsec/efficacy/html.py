"""The efficacy report as one self-contained HTML page (inline CSS, no scripts, opens offline)."""

from __future__ import annotations

from html import escape

from medsec.efficacy.assess import EfficacyResult
from medsec.efficacy.render import (
    METHOD,
    Table,
    blockers,
    cell_text,
    open_attacks,
    overview,
    runs,
    utility,
)
from medsec.redteam.report.html import CSS


def _colour(asr: float | None) -> str:
    if asr is None:
        return "#f2f2f2"
    red, other = int(255 - 60 * asr), int(235 - 200 * asr)
    return f"rgb({red},{other},{other})"


def _table(table: Table) -> str:
    headers, rows = table
    if not rows:
        return "<p class=muted>None.</p>"
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _matrix(result: EfficacyResult) -> str:
    cells = {(c.attack, c.layer): c for c in result.matrix}
    names = [r.layer.name for r in result.layers]
    head = "".join(f"<th>{escape(n)}</th>" for n in names)
    body = []
    for attack in result.attacks:
        tds = []
        for name in names:
            cell = cells.get((attack, name))
            colour = _colour(cell.rate.asr if cell else None)
            tds.append(f'<td style="background:{colour}">{escape(cell_text(cell))}</td>')
        body.append(f"<tr><th>{escape(attack)}</th>{''.join(tds)}</tr>")
    return f"<table class=heat><tr><th>attack \\ configuration</th>{head}</tr>{''.join(body)}</table>"


def render_html(result: EfficacyResult, title: str = "medsec defense efficacy") -> str:
    """The report as one HTML page."""
    notes = "".join(f"<p class=muted>{escape(n)}</p>" for n in result.notes)
    parts = [
        f"<h1>{escape(title)}</h1>",
        f"<p>Assessed {escape(result.created_at)}; baseline: {escape(result.baseline or 'none')}.</p>",
        notes,
        "<h2>What each configuration buys and costs</h2>",
        _table(overview(result)),
        "<h2>Attack success by attack and configuration</h2>",
        "<p class=muted>Each cell: ASR under the configuration (successes/judged); then the reduction "
        "against the undefended baseline in percentage points with its 95% interval.</p>",
        _matrix(result),
        "<h2>Utility by benign set</h2>",
        _table(utility(result)),
        "<h2>False refusals by blocking scanner</h2>",
        _table(blockers(result)),
        "<h2>Attacks that remain unmitigated</h2>",
        _table(open_attacks(result)),
        "<h2>Stored runs</h2>",
        _table(runs(result)),
        f"<h2>Method</h2><p>{escape(METHOD)}</p>",
    ]
    return (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{escape(title)}</title>"
        f"<style>{CSS}</style></head><body>{''.join(parts)}</body></html>\n"
    )
