"""A self-contained HTML report: no scripts, no fonts, no CDN — it opens offline, charts included."""

from __future__ import annotations

from html import escape

from medsec.redteam.report.markdown import HEADERS, interval, pct, rows
from medsec.redteam.report.summary import Rate, Summary
from medsec.taxonomy import Taxonomy

CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:70rem;color:#1b1f24}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5rem 0}
td,th{border:1px solid #ddd;padding:.25rem .5rem;text-align:right}
td:first-child,th:first-child{text-align:left}.heat td{text-align:center;min-width:6rem}
.bar{height:.9rem;background:#c62828;display:inline-block;vertical-align:middle}
.barbox{width:16rem;background:#eee;display:inline-block;text-align:left}
pre{background:#f6f8fa;padding:.6rem;white-space:pre-wrap;max-height:18rem;overflow:auto}
.muted{color:#667}
"""


def _colour(asr: float | None) -> str:
    if asr is None:
        return "#f2f2f2"
    red = int(255 - 60 * asr)
    other = int(235 - 200 * asr)
    return f"rgb({red},{other},{other})"


def _heat(summary: Summary, tax: Taxonomy) -> str:
    cells = {r.key: r for r in summary.by.get("objective-stage", ())}
    head = "".join(f"<th>{escape(s.name)}</th>" for s in tax.stages)
    body = []
    for objective in tax.objectives:
        tds = []
        for stage in tax.stages:
            r = cells.get(f"{objective.id}/{stage.id}")
            label = f"{pct(r.asr)}<br><span class=muted>{r.successes}/{r.judged}</span>" if r else "·"
            tds.append(f'<td style="background:{_colour(r.asr if r else None)}">{label}</td>')
        body.append(f"<tr><th>{escape(objective.name)}</th>{''.join(tds)}</tr>")
    return f"<table class=heat><tr><th>objective \\ stage exploited</th>{head}</tr>{''.join(body)}</table>"


def _bars(rates: tuple[Rate, ...]) -> str:
    out = []
    for r in rates:
        width = 0 if r.asr is None else round(100 * r.asr)
        out.append(
            f'<tr><td>{escape(r.key)}</td><td><span class=barbox><span class=bar style="width:{width}%">'
            f"</span></span> {pct(r.asr)} <span class=muted>({r.successes}/{r.judged}, 95% CI "
            f"{interval(r)})</span></td></tr>"
        )
    return f"<table>{''.join(out)}</table>"


def _table(axis: str, rates: tuple[Rate, ...]) -> str:
    head = "".join(f"<th>{escape(h or axis)}</th>" for h in HEADERS)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows(rates))
    return f"<table><tr>{head}</tr>{body}</table>"


def render_html(summary: Summary, tax: Taxonomy) -> str:
    """The report as one HTML page with inline CSS and CSS-drawn charts."""
    run, o = summary.run, summary.overall
    parts = [
        f"<h1>medsec scan <code>{escape(run.id)}</code></h1>",
        f"<p>Target <code>{escape(str(run.target.get('name')))}</code> "
        f"{escape(str(run.target.get('args') or ''))}"
        f" · started {escape(run.created_at)} · status {escape(run.status)} · seed {run.seed} · medsec "
        f"{escape(run.versions.get('medsec', '?'))}</p>",
        f"<p><b>{o.successes}</b> successful attacks in <b>{o.judged}</b> judged attempts — ASR {pct(o.asr)} "
        f"(95% CI {interval(o)}); {o.errors} target errors and {o.unjudged} unjudged attempts are counted "
        "apart, never as passes.</p>",
        "<h2>Attack success by objective and lifecycle stage</h2>",
        _heat(summary, tax),
        "<h2>Attack success by attack</h2>",
        _bars(summary.by.get("attack", ())),
    ]
    for axis in ("objective", "capability", "stage", "probe"):
        if summary.by.get(axis):
            parts += [f"<h2>By {axis}</h2>", _table(axis, summary.by[axis])]
    if summary.examples:
        parts.append("<h2>Example successful attacks</h2>")
        for ex in summary.examples:
            parts.append(
                f"<h3><code>{escape(ex.key)}</code> — {escape(ex.attack)}</h3>"
                f"<p class=muted>{escape(', '.join(ex.labels))}</p><pre>{escape(ex.prompt)}</pre>"
                f"<pre>{escape(ex.answer[:3000])}</pre>"
            )
    return (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>medsec {escape(run.id)}</title>"
        f"<style>{CSS}</style></head><body>{''.join(parts)}</body></html>\n"
    )
