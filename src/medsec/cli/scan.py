"""``medsec scan``, ``report``, ``runs``, ``compare``: continuous adversarial evaluation from the shell."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from medsec.cli._common import Format, print_json, print_table, stderr, stdout
from medsec.config import load_config, medsec_home

STORE = typer.Option("--store", help="Run store URL (default: sqlite under $MEDSEC_HOME, ./.medsec).")
FAIL_ON = typer.Option("--fail-on", help="Exit 1 when a rule holds, e.g. 'asr>0.05,privacy.asr>0'.")


def _config(config: Path | None, overrides: dict[str, Any]) -> Any:
    from medsec.redteam.scan import ScanConfig

    base = load_config(ScanConfig, config) if config else ScanConfig()
    data = base.model_dump(mode="json")
    data.update({k: v for k, v in overrides.items() if v not in (None, [], ())})
    return ScanConfig.model_validate(data)


def _progress(total_done: list[int]) -> tuple[Any, Any, Any]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    progress = Progress(
        TextColumn("scanning"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[hits]}"),
        TimeRemainingColumn(),
        console=stderr,
        disable=not stderr.is_terminal,
    )
    task = progress.add_task("scan", total=0, hits="")

    def on_plan(todo: int, done: int) -> None:
        progress.update(task, total=todo + done, completed=done)
        total_done.append(todo)

    def on_attempt(attempt: Any) -> None:
        hits = progress.tasks[0].fields.get("hits", "") or "0 successful"
        count = int(hits.split()[0]) + (attempt.outcome == "success")
        progress.update(task, advance=1, hits=f"{count} successful")

    return progress, on_plan, on_attempt


def scan(
    target: Annotated[
        str | None,
        typer.Option(
            help="Target spec, e.g. clinic:mode=hardened or openai:base_url=http://127.0.0.1:8000/v1,model=m."
        ),
    ] = None,
    suite: Annotated[str | None, typer.Option(help="Probe suite: smoke, standard or full.")] = None,
    probe: Annotated[list[str] | None, typer.Option("--probe", help="Only this probe (repeatable).")] = None,
    objective: Annotated[str | None, typer.Option(help="Only probes of this objective.")] = None,
    concurrency: Annotated[int | None, typer.Option(help="Most attempts in flight.")] = None,
    repeats: Annotated[int | None, typer.Option(help="Times each case is sent.")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed for probes that sample.")] = None,
    config: Annotated[Path | None, typer.Option(help="A YAML scan config; flags override it.")] = None,
    context: Annotated[
        Path | None, typer.Option(help="YAML describing the target's planted canaries and subjects.")
    ] = None,
    resume: Annotated[
        str | None, typer.Option(help="Finish an interrupted run (a run id or 'latest').")
    ] = None,
    retry_errors: Annotated[
        bool, typer.Option(help="With --resume, redo attempts whose target call failed.")
    ] = False,
    dry_run: Annotated[bool, typer.Option(help="Estimate attempts, tokens and time; send nothing.")] = False,
    judge: Annotated[
        str | None, typer.Option(help="Also grade every attempt with this target as a model judge (opt-in).")
    ] = None,
    store: Annotated[str | None, STORE] = None,
    fail_on: Annotated[str | None, FAIL_ON] = None,
) -> None:
    """Run attack probes against a target, judge every attempt, store it, and report."""
    from medsec.redteam.report.gate import parse_rules
    from medsec.redteam.scan import build, run_scan, select_probes
    from medsec.redteam.store import Store

    rules = parse_rules(fail_on) if fail_on else ()
    cfg = _config(
        config,
        {
            "target": target,
            "suite": suite,
            "only": probe,
            "objective": objective,
            "concurrency": concurrency,
            "repeats": repeats,
            "seed": seed,
            "context": str(context) if context else None,
            "judge": judge,
        },
    )
    if dry_run:
        _dry_run(cfg, select_probes, build)
        return
    db = Store(store)
    progress, on_plan, on_attempt = _progress([])
    try:
        with progress:
            info = asyncio.run(
                run_scan(
                    cfg, db, resume=resume, retry_errors=retry_errors, on_plan=on_plan, on_attempt=on_attempt
                )
            )
    except KeyboardInterrupt:
        stderr.print("interrupted: resume with `medsec scan --resume latest`")
        raise typer.Exit(130) from None
    _finish(db, info.id, rules)


def _dry_run(cfg: Any, select_probes: Any, build: Any) -> None:
    from medsec.redteam.estimate import estimate
    from medsec.redteam.run import plan

    specs = select_probes(cfg)
    _, probes, ctx = build(cfg, specs)
    est = estimate(plan(probes, ctx, cfg.repeats), cfg.concurrency)
    print_table(
        "dry run (nothing sent)",
        ["what", "estimate"],
        [
            ["probes", ", ".join(specs)],
            ["attempts", str(est.attempts)],
            ["target calls", str(est.calls)],
            ["prompt tokens (attack text only)", str(est.prompt_tokens)],
            [
                "completion tokens",
                f"{est.completion_tokens} (at {est.assumptions['answer_tokens']:g} per call)",
            ],
            [
                "time",
                f"{est.seconds:.0f} s (at {est.assumptions['latency_s']:g} s per call, concurrency "
                f"{cfg.concurrency})",
            ],
        ],
    )


def _finish(db: Any, run_id: str, rules: Any) -> None:
    from medsec.redteam.report.html import render_html
    from medsec.redteam.report.markdown import HEADERS, rows
    from medsec.redteam.report.summary import summarize
    from medsec.taxonomy import load_taxonomy

    tax = load_taxonomy()
    summary = summarize(db.run(run_id), db.attempts(run_id), tax)
    print_table(
        f"run {run_id}: attack success by objective",
        ["objective", *HEADERS[1:]],
        rows(summary.by.get("objective", ())),
    )
    print_table("by attack", ["attack", *HEADERS[1:]], rows(summary.by.get("attack", ())))
    path = medsec_home() / "reports" / f"{run_id}.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(summary, tax), encoding="utf-8")
    stdout.print(f"HTML report: {path}", highlight=False)
    _gate(rules, summary)


def _gate(rules: Any, summary: Any) -> None:
    from medsec.redteam.report.gate import violations

    broken = violations(rules, summary) if rules else []
    for line in broken:
        stderr.print(f"fail-on: {line}", highlight=False)
    if broken:
        raise typer.Exit(1)


def probes(
    fmt: Annotated[Format, typer.Option("--format", "-f", help="table, json or markdown.")] = Format.table,
) -> None:
    """List the probes: the attack each tests, its detectors and the suites that include it."""
    from medsec.redteam.catalog import probe_rows, render_probes_markdown
    from medsec.taxonomy import load_taxonomy

    tax = load_taxonomy()
    if fmt is Format.markdown:
        sys.stdout.write(render_probes_markdown(tax))
    elif fmt is Format.json:
        print_json(probe_rows(tax))
    else:
        rows = [
            [
                r["probe"],
                r["attack"],
                ",".join(r["objectives"]),
                ",".join(r["detectors"]),
                ",".join(r["suites"]),
            ]
            for r in probe_rows(tax)
        ]
        print_table("probes", ["probe", "attack", "objectives", "detectors", "suites"], rows)
