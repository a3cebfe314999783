"""``medsec report``, ``medsec runs`` and ``medsec compare``: reading stored runs."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from medsec.cli._common import Format, print_json, print_table, stdout
from medsec.cli.scan import FAIL_ON, STORE, _gate


class ReportFormat(StrEnum):
    """Formats of ``medsec report``."""

    html = "html"
    json = "json"
    markdown = "markdown"
    sarif = "sarif"
    junit = "junit"


def report(
    run: Annotated[str, typer.Argument(help="A run id, or 'latest'.")] = "latest",
    fmt: Annotated[
        ReportFormat, typer.Option("--format", "-f", help="Report format.")
    ] = ReportFormat.markdown,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
    show_phi: Annotated[
        bool, typer.Option(help="Show example attempts unmasked (they may hold PHI).")
    ] = False,
    store: Annotated[str | None, STORE] = None,
    fail_on: Annotated[str | None, FAIL_ON] = None,
) -> None:
    """Render a stored run as HTML, JSON, markdown, SARIF 2.1.0 or JUnit XML."""
    from medsec.redteam.report.ci import render_junit, render_sarif
    from medsec.redteam.report.gate import parse_rules
    from medsec.redteam.report.html import render_html
    from medsec.redteam.report.markdown import render_markdown
    from medsec.redteam.report.summary import summarize
    from medsec.redteam.store import Store
    from medsec.taxonomy import load_taxonomy

    rules = parse_rules(fail_on) if fail_on else ()
    db, tax = Store(store), load_taxonomy()
    info = db.run(run)
    summary = summarize(info, db.attempts(info.id), tax, show_phi=show_phi)
    if fmt is ReportFormat.html:
        text = render_html(summary, tax)
    elif fmt is ReportFormat.json:
        text = summary.model_dump_json(indent=2) + "\n"
    elif fmt is ReportFormat.sarif:
        text = json.dumps(render_sarif(summary, tax), indent=2) + "\n"
    elif fmt is ReportFormat.junit:
        text = render_junit(summary, db.attempts(info.id))
    else:
        text = render_markdown(summary)
    if output is None:
        sys.stdout.write(text)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
        stdout.print(f"wrote {output}", highlight=False)
    _gate(rules, summary)


def runs(
    fmt: Annotated[Format, typer.Option("--format", "-f", help="table or json.")] = Format.table,
    store: Annotated[str | None, STORE] = None,
) -> None:
    """List stored runs, newest first."""
    from medsec.redteam.store import Store

    db = Store(store)
    found = db.runs()
    if fmt is Format.json:
        print_json([{**r.model_dump(mode="json"), "attempts": len(db.outcomes(r.id))} for r in found])
        return
    rows = [
        [
            r.id,
            r.status,
            r.created_at,
            str(r.target.get("name")),
            ", ".join(r.probes),
            str(len(db.outcomes(r.id))),
        ]
        for r in found
    ]
    print_table(
        f"{len(found)} run(s) in {db.url}", ["run", "status", "started", "target", "probes", "attempts"], rows
    )


def compare(
    baseline: Annotated[str, typer.Argument(help="The earlier run (id or 'latest').")],
    candidate: Annotated[str, typer.Argument(help="The later run (id or 'latest').")],
    fmt: Annotated[Format, typer.Option("--format", "-f", help="table or json.")] = Format.table,
    store: Annotated[str | None, STORE] = None,
    fail_on_regression: Annotated[
        bool, typer.Option(help="Exit 1 when an attack got significantly worse.")
    ] = False,
) -> None:
    """Per-attack change in attack success between two runs, with significance, new failures and fixes."""
    from medsec.redteam.report.compare import compare as compare_runs
    from medsec.redteam.report.markdown import pct
    from medsec.redteam.store import Store

    db = Store(store)
    a, b = db.run(baseline), db.run(candidate)
    result = compare_runs(a.id, db.attempts(a.id), b.id, db.attempts(b.id))
    if fmt is Format.json:
        print_json({**result.model_dump(mode="json"), "regressions": [d.attack for d in result.regressions]})
    else:
        rows = [
            [
                d.attack,
                pct(d.before.asr),
                pct(d.after.asr),
                "-" if d.delta is None else f"{100 * d.delta:+.1f} pts",
                "-" if d.p_value is None else f"{d.p_value:.3g}" + (" *" if d.significant else ""),
                str(len(d.new_failures)),
                str(len(d.fixes)),
            ]
            for d in result.deltas
        ]
        print_table(
            f"{a.id} → {b.id}",
            ["attack", "before", "after", "change", "p (Fisher)", "new failures", "fixes"],
            rows,
        )
    if fail_on_regression and result.regressions:
        raise typer.Exit(1)
