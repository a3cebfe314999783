from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from medsec.cli import efficacy as cli
from medsec.efficacy import EfficacyConfig, EfficacyResult, evaluate_defenses, policy_coverage
from medsec.efficacy.html import render_html
from medsec.efficacy.layers import read_policy
from medsec.efficacy.render import render_json, render_markdown
from medsec.efficacy.targets import guarded
from medsec.redteam.scan import ScanConfig, run_scan
from medsec.redteam.store import Store
from medsec.taxonomy import load_taxonomy
from medsec.types import Spec
from tests.redteam.conftest import LeakyApp

runner = CliRunner()


async def _result(config: EfficacyConfig, store: Store) -> EfficacyResult:
    return await evaluate_defenses(config, store, factory=lambda p: guarded(LeakyApp(), p))


async def test_reports_render_every_section(config: EfficacyConfig, store: Store) -> None:
    result = await _result(config, store)
    md = render_markdown(result)
    for heading in ("buys and costs", "by attack and configuration", "by benign set", "Method", "Newcombe"):
        assert heading in md
    assert "| context-phi-extraction |" in md and "all:mini" in md
    page = render_html(result)
    assert page.startswith("<!doctype html>") and "<script" not in page and "http" not in page
    assert "Quenneville" not in md + page  # counts and rates only, never attempt text
    assert EfficacyResult.model_validate_json(render_json(result)) == result


async def test_policy_coverage_joins_taxonomy_policy_and_run(store: Store) -> None:
    tax = load_taxonomy()
    static = policy_coverage(tax, read_policy("balanced"))
    assert len(static.attacks) == len(tax.attacks)
    assert "phi-deidentification" in static.defends and "access-control" not in static.defends
    assert static.count("held") == static.count("breached") == 0
    assert static.count("no defense configured") + static.count("configured, untested") == len(tax.attacks)
    for a in static.attacks:
        assert set(a.configured) <= set(a.defenses) and bool(a.configured) == bool(a.scanners)
    config = ScanConfig(target=Spec(name="fake"), probes=(Spec(name="phi-extraction", args={"subjects": 1}),))
    info = await run_scan(config, store, target=LeakyApp())
    measured = policy_coverage(tax, read_policy("balanced"), store.attempts(info.id), info)
    row = next(a for a in measured.attacks if a.attack == "context-phi-extraction")
    assert row.measured is not None and row.measured.successes == 2 and row.verdict == "breached"
    assert measured.run == info.id and measured.run_policy is None


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("evaluate-defenses")(cli.evaluate_defenses)
    app.command("coverage")(cli.coverage_measured)
    return app


def test_cli_coverage_measured(tmp_path: Path) -> None:
    result = runner.invoke(_app(), ["coverage", "--policy", "balanced", "-f", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["policy"] == "balanced" and data["attacks"]
    table = runner.invoke(_app(), ["coverage", "--policy", "balanced"])
    assert table.exit_code == 0 and "no defense configured" in table.stdout


def test_cli_evaluate_defenses_writes_the_report(tmp_path: Path, policy_file: Path) -> None:
    out = tmp_path / "report.md"
    config = tmp_path / "efficacy.yaml"
    config.write_text(
        "target: fake\nprobes: [system-prompt-extraction]\nbenign: [clinical]\nclinical_n: 3\n"
        f"policy_dir: {tmp_path / 'policies'}\ncontext: {tmp_path / 'context.yaml'}\n",
        encoding="utf-8",
    )
    (tmp_path / "context.yaml").write_text("system_secret: PGR-0000-TEST\n", encoding="utf-8")
    args = ["evaluate-defenses", "--config", str(config), "--policy", str(policy_file), "--no-layers"]
    args += ["-f", "markdown", "-o", str(out), "--store", f"sqlite:///{tmp_path}/runs.db"]
    result = runner.invoke(_app(), args)
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "all:mini" in text and "undefended" in text
