"""``medsec evaluate-defenses`` and ``medsec coverage --policy``: what each defense buys and costs."""

from __future__ import annotations

import asyncio
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from medsec.cli._common import Format, print_json, print_table, stderr, stdout
from medsec.cli.scan import STORE
from medsec.config import load_config, medsec_home
from medsec.errors import MedsecError


class EfficacyFormat(StrEnum):
    """Formats of the efficacy report."""

    html = "html"
    json = "json"
    markdown = "markdown"


def _config(config: Path | None, overrides: dict[str, Any]) -> Any:
    from medsec.efficacy import EfficacyConfig

    base = load_config(EfficacyConfig, config) if config else EfficacyConfig()
    data = base.model_dump(mode="json")
    data.update({k: v for k, v in overrides.items() if v not in (None, [], ())})
    return EfficacyConfig.model_validate(data)


def _progress(layer: Any, index: int, count: int) -> None:
    stderr.print(f"configuration {index + 1}/{count}: {layer.name}", highlight=False)


# Over the 40-line and 8-parameter budgets: each Typer option is a parameter (as in `medsec scan`).
def evaluate_defenses(
    config: Annotated[Path | None, typer.Option(help="A YAML efficacy config; flags override it.")] = None,
    target: Annotated[str | None, typer.Option(help="Target spec (default clinic:mode=hardened).")] = None,
    suite: Annotated[str | None, typer.Option(help="Attack suite: smoke, standard or full.")] = None,
    policy: Annotated[
        list[str] | None, typer.Option("--policy", help="Guard policy to evaluate (repeatable).")
    ] = None,
    layers: Annotated[
        bool | None, typer.Option("--layers/--no-layers", help="Also evaluate each policy layer alone.")
    ] = None,
    benign: Annotated[int | None, typer.Option(help="Questions sampled per public benign set.")] = None,
    benign_data: Annotated[
        Path | None, typer.Option(help="The shared benign data directory (MedQA, PubMedQA, MedQuAD).")
    ] = None,
    concurrency: Annotated[
        int | None, typer.Option(help="Requests in flight (1 keeps latency clean).")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed for probes and samples.")] = None,
    fresh: Annotated[bool, typer.Option(help="Start new runs instead of reusing stored ones.")] = False,
    fmt: Annotated[
        EfficacyFormat, typer.Option("--format", "-f", help="Report format.")
    ] = EfficacyFormat.html,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the report here.")] = None,
    store: Annotated[str | None, STORE] = None,
) -> None:
    """Measure what each defense buys and costs, on the same attacks and benign questions.

    Runs one suite against the target undefended, under each policy layer alone and under each whole
    policy; reports attack-success reduction, false refusals, accuracy change and added latency.
    """
    from medsec.efficacy import evaluate_defenses as evaluate
    from medsec.redteam.store import Store

    cfg = _config(
        config,
        {
            "target": target,
            "suite": suite,
            "policies": policy,
            "layers": layers,
            "benign_n": benign,
            "benign_data": str(benign_data) if benign_data else None,
            "concurrency": concurrency,
            "seed": seed,
            "reuse": False if fresh else None,
        },
    )
    try:
        result = asyncio.run(evaluate(cfg, Store(store), on_configuration=_progress))
    except KeyboardInterrupt:
        stderr.print("interrupted: run the same command again to resume")
        raise typer.Exit(130) from None
    _write(result, fmt, output)


def _write(result: Any, fmt: EfficacyFormat, output: Path | None) -> None:
    from medsec.efficacy.html import render_html
    from medsec.efficacy.render import render_json, render_markdown

    renderers = {
        EfficacyFormat.html: render_html,
        EfficacyFormat.json: render_json,
        EfficacyFormat.markdown: render_markdown,
    }
    text = renderers[fmt](result)
    if output is None and fmt is EfficacyFormat.html:
        output = medsec_home() / "reports" / f"efficacy-{result.created_at.replace(':', '')}.html"
    if output is None:
        stdout.out(text, end="", highlight=False)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    stdout.print(f"efficacy report: {output}", highlight=False)


def show_policy_coverage(policy: str, run: str | None, fmt: Format, store: str | None) -> None:
    """Print the taxonomy's coverage by ``policy``'s scanners, joined with a stored run when given."""
    from medsec.efficacy import policy_coverage
    from medsec.efficacy.layers import read_policy
    from medsec.redteam.report.markdown import interval, pct
    from medsec.redteam.store import Store
    from medsec.taxonomy import load_taxonomy

    info, attempts = None, []
    if run is not None:
        db = Store(store)
        info = db.run(run)
        attempts = list(db.attempts(info.id))
    result = policy_coverage(load_taxonomy(), read_policy(policy), attempts, info)
    if fmt is Format.json:
        print_json(result.model_dump(mode="json"))
        return
    if fmt is Format.markdown:
        raise MedsecError("coverage prints table or json")
    rows = [
        [
            a.attack,
            a.objective,
            ", ".join(a.scanners) or "-",
            "-"
            if a.measured is None
            else f"{pct(a.measured.asr)} ({a.measured.successes}/{a.measured.judged}, "
            f"{interval(a.measured)})",
            a.verdict,
        ]
        for a in result.attacks
    ]
    counts = ", ".join(
        f"{result.count(v)} {v}"
        for v in ("held", "breached", "configured, untested", "no defense configured")
    )
    title = f"Coverage of policy {result.policy}" + (f" measured by run {result.run}" if result.run else "")
    print_table(f"{title}: {counts}", ["attack", "objective", "scanners", "measured ASR", "verdict"], rows)
    if result.run and result.run_policy is None:
        stderr.print("note: the run's target recorded no guard policy; its ASR is of the unguarded system")


def coverage_measured(
    policy: Annotated[str, typer.Option(help="A guard policy (shipped name or file).")],
    run: Annotated[
        str | None, typer.Option(help="A scan run (id or 'latest') whose measured ASR to join.")
    ] = None,
    fmt: Annotated[
        Format, typer.Option("--format", "-f", help="Output format (table or json).")
    ] = Format.table,
    store: Annotated[str | None, STORE] = None,
) -> None:
    """For every attack: does the policy configure a defense, and did the scan show it holding."""
    show_policy_coverage(policy, run, fmt, store)
