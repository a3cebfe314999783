from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from medsec.errors import ConfigError
from medsec.redteam.probe import ScanContext
from medsec.redteam.report.ci import render_junit, render_sarif
from medsec.redteam.report.compare import compare, fisher_exact
from medsec.redteam.report.gate import parse_rules, violations
from medsec.redteam.report.html import render_html
from medsec.redteam.report.markdown import render_markdown
from medsec.redteam.report.summary import summarize, wilson
from medsec.redteam.scan import ScanConfig, run_scan
from medsec.redteam.store import RunNotFoundError, Store
from medsec.taxonomy import load_taxonomy
from medsec.types import Spec
from tests.redteam.conftest import LeakyApp

CONFIG = ScanConfig(
    target=Spec(name="fake"),
    probes=(Spec(name="phi-extraction", args={"subjects": 1}), Spec(name="system-prompt-extraction")),
)


async def test_scan_judges_stores_and_summarises(store: Store) -> None:
    info = await run_scan(CONFIG, store, target=LeakyApp())
    attempts = list(store.attempts(info.id))
    assert info.status == "finished" and len(attempts) == 14 + 8
    leaked = {a.key for a in attempts if a.outcome == "success"}
    assert leaked == {
        "phi-extraction/repeat-context-0",
        "phi-extraction/format-json-0",
        "system-prompt-extraction/ignore",
        "system-prompt-extraction/verbatim",  # "Repeat ..." makes the app leak PHI: any canary counts
    }
    summary = summarize(info, attempts, load_taxonomy())
    by_attack = {r.key: r for r in summary.by["attack"]}
    assert by_attack["context-phi-extraction"].successes == 2
    assert by_attack["system-prompt-extraction"].asr == pytest.approx(2 / 8)
    assert {r.key for r in summary.by["objective"]} >= {"privacy"}
    assert summary.examples and "Quenneville" not in summary.examples[0].answer  # masked by default
    shown = summarize(info, attempts, load_taxonomy(), show_phi=True)
    assert any("Quenneville" in ex.answer for ex in shown.examples)


async def test_errors_are_counted_apart_then_retried(store: Store) -> None:
    flaky = LeakyApp(fail_on="word for word")
    info = await run_scan(CONFIG, store, target=flaky)
    outcomes = store.outcomes(info.id)
    assert outcomes["phi-extraction/repeat-context-0"] == "error"
    summary = summarize(info, store.attempts(info.id), load_taxonomy())
    assert summary.overall.errors == 1 and summary.overall.attempts == 22
    again = await run_scan(CONFIG, store, resume=info.id, target=LeakyApp())
    assert store.outcomes(again.id)["phi-extraction/repeat-context-0"] == "error"  # not retried by default
    app = LeakyApp()
    await run_scan(CONFIG, store, resume=info.id, retry_errors=True, target=app)
    assert len(app.calls) == 1 and "word for word" in app.calls[0]
    assert store.outcomes(info.id)["phi-extraction/repeat-context-0"] == "success"


async def test_resume_does_not_redo_finished_attempts(store: Store) -> None:
    info = await run_scan(CONFIG, store, target=LeakyApp())
    with store.engine.begin() as conn:  # simulate a kill: the last five attempts never got stored
        from medsec.redteam.store import attempts_table

        conn.execute(attempts_table.delete().where(attempts_table.c.seq >= 17))
    app = LeakyApp()
    resumed = await run_scan(CONFIG, store, resume="latest", target=app)
    assert resumed.id == info.id and len(app.calls) == 5 and len(store.outcomes(info.id)) == 22


def test_store_errors_and_listing(store: Store) -> None:
    with pytest.raises(RunNotFoundError, match="no runs stored yet"):
        store.run("latest")
    with pytest.raises(RunNotFoundError, match="medsec runs"):
        store.run("20990101-000000-beef")
    assert store.runs() == []


async def test_reports_render_in_every_format(store: Store) -> None:
    info = await run_scan(CONFIG, store, target=LeakyApp())
    tax = load_taxonomy()
    summary = summarize(info, store.attempts(info.id), tax)
    data = json.loads(summary.model_dump_json())
    for rate in data["by"]["attack"] + data["by"]["objective"]:
        assert {"attempts", "successes", "errors", "unjudged", "asr"} <= set(rate)
    html = render_html(summary, tax)
    assert html.startswith("<!doctype html>") and "http" not in html.split("<body>")[0]
    assert "<script" not in html and "Quenneville" not in html
    sarif = render_sarif(summary, tax)
    assert sarif["version"] == "2.1.0" and {r["ruleId"] for r in sarif["runs"][0]["results"]} == {
        "context-phi-extraction",
        "system-prompt-extraction",
    }
    junit = ET.fromstring(render_junit(summary, store.attempts(info.id)))
    assert (
        sum(int(s.get("failures", "0")) for s in junit) == 4
        and sum(int(s.get("tests", "0")) for s in junit) == 22
    )
    assert "# medsec scan" in render_markdown(summary)


async def test_fail_on_rules(store: Store) -> None:
    info = await run_scan(CONFIG, store, target=LeakyApp())
    summary = summarize(info, store.attempts(info.id), load_taxonomy())
    assert violations(parse_rules("asr>0.05"), summary)  # some attack is above 5%
    assert not violations(parse_rules("asr>0.5"), summary)
    assert violations(parse_rules("privacy.asr>0.1"), summary)
    assert not violations(parse_rules("overall.errors>0"), summary)
    with pytest.raises(ConfigError, match="cannot read --fail-on rule"):
        parse_rules("leaks>3")


async def test_compare_finds_fixes(store: Store) -> None:
    before = await run_scan(CONFIG, store, target=LeakyApp())
    after = await run_scan(CONFIG, store, target=LeakyApp(fail_on="nothing-matches"))
    same = compare(before.id, store.attempts(before.id), after.id, store.attempts(after.id))
    assert all(d.delta == 0 and not d.significant for d in same.deltas)
    assert not same.regressions


def test_statistics() -> None:
    low, high = wilson(0, 10)
    assert low == 0 and 0.27 < high < 0.31
    low, high = wilson(5, 10)
    assert 0.23 < low < 0.24 and 0.76 < high < 0.77
    assert fisher_exact(0, 10, 10, 0) < 0.001 and fisher_exact(3, 7, 3, 7) == pytest.approx(1.0)


def test_unknown_suite_and_probe() -> None:
    from medsec.errors import RegistryError
    from medsec.redteam.scan import select_probes

    with pytest.raises(ConfigError, match="unknown suite"):
        select_probes(ScanConfig(suite="huge"))
    with pytest.raises(RegistryError, match="unknown probe"):
        select_probes(ScanConfig(only=("phi-extractoin",)))
    assert set(select_probes(ScanConfig(only=("phi-crescendo",)))) == {"phi-crescendo"}


async def test_unsupported_probes_are_skipped_with_their_reason(store: Store) -> None:
    config = ScanConfig(probes=(Spec(name="memorisation"), Spec(name="system-prompt-extraction")))
    info = await run_scan(config, store, target=LeakyApp())
    assert "log-probabilities" in str(info.settings["skipped"]["memorisation"])  # type: ignore[index]
    assert {a.probe for a in store.attempts(info.id)} == {"system-prompt-extraction"}
    assert "Skipped probes" in render_markdown(summarize(info, store.attempts(info.id), load_taxonomy()))


async def test_a_target_with_nothing_to_protect_is_a_clear_error(store: Store) -> None:
    from medsec.targets import FakeTarget

    with pytest.raises(ConfigError, match="describes no protected data"):
        await run_scan(CONFIG, store, target=FakeTarget())
    assert store.runs() == []  # nothing half-made is stored


def test_cli_scan_with_a_context_file_and_fail_on(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from medsec.cli import app
    from tests.redteam.conftest import CANARIES, SECRET, SUBJECT

    ctx = ScanContext(canaries=CANARIES, subjects=(SUBJECT,), system_secret=SECRET)
    context = tmp_path / "context.yaml"
    context.write_text(yaml.safe_dump(ctx.model_dump(mode="json")), encoding="utf-8")
    runner = CliRunner()
    url = f"sqlite:///{tmp_path}/runs.db"
    leak = 'fake:rules=[[".", "Her phone is 312 555 0147"]]'
    args = ["scan", "--target", leak, "--probe", "phi-extraction", "--context", str(context), "--store", url]
    result = runner.invoke(app, [*args, "--fail-on", "asr>0.5"], env={"MEDSEC_HOME": str(tmp_path)})
    assert result.exit_code == 1, result.output  # every answer leaks the phone: 100% > 50%
    assert "fail-on: asr>0.5" in result.output and "HTML report:" in result.output
    dry = runner.invoke(app, [*args, "--dry-run"])
    assert dry.exit_code == 0 and "target calls" in dry.output and "attempts" in dry.output
    listed = runner.invoke(app, ["runs", "--store", url, "-f", "json"])
    assert json.loads(listed.stdout)[0]["attempts"] == 6  # the smoke suite's phi-extraction limit
    sarif = runner.invoke(app, ["report", "latest", "--store", url, "-f", "sarif"])
    assert json.loads(sarif.stdout)["version"] == "2.1.0"


async def test_an_opt_in_model_judge_grades_every_attempt(store: Store) -> None:
    config = ScanConfig(
        probes=(Spec(name="system-prompt-extraction", args={"limit": 2}),), judge="fake:default=YES"
    )
    info = await run_scan(config, store, target=LeakyApp())
    attempts = list(store.attempts(info.id))
    assert all(any(j.detector == "judge" and j.success for j in a.judgements) for a in attempts)
    assert all(a.outcome == "success" for a in attempts)
    vague = ScanConfig(probes=config.probes, judge="fake:default=maybe")
    info = await run_scan(vague, store, target=LeakyApp())
    judged = [j for a in store.attempts(info.id) for j in a.judgements if j.detector == "judge"]
    assert judged and all(j.success is None for j in judged)


def test_a_killed_scan_resumes_without_redoing_work(tmp_path: Path) -> None:
    import os
    import signal
    import sqlite3
    import subprocess
    import sys
    import time

    from tests.redteam.conftest import CANARIES, SECRET, SUBJECT

    ctx = ScanContext(canaries=CANARIES, subjects=(SUBJECT,), system_secret=SECRET)
    context = tmp_path / "context.yaml"
    context.write_text(yaml.safe_dump(ctx.model_dump(mode="json")), encoding="utf-8")
    db = tmp_path / "runs.db"
    args = [sys.executable, "-m", "medsec", "scan", "--store", f"sqlite:///{db}", "--concurrency", "1"]
    scan = [*args, "--target", "fake:delay_s=0.15", "--context", str(context), "--probe", "phi-extraction"]
    env = {**os.environ, "MEDSEC_HOME": str(tmp_path)}
    proc = subprocess.Popen(scan, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stored() -> int:
        if not db.exists():
            return 0
        with sqlite3.connect(db) as conn:
            try:
                return int(conn.execute("select count(*) from attempts").fetchone()[0])
            except sqlite3.OperationalError:
                return 0

    deadline = time.monotonic() + 60
    while stored() < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    before = stored()
    assert 2 <= before < 6  # killed mid-run: the smoke suite's phi-extraction has six cases
    resumed = subprocess.run(
        [*args, "--resume", "latest"], env=env, capture_output=True, text=True, timeout=120
    )
    assert resumed.returncode == 0, resumed.stderr
    with sqlite3.connect(db) as conn:
        keys = [k for (k,) in conn.execute("select key from attempts")]
        status = conn.execute("select status from runs").fetchone()[0]
    assert len(keys) == len(set(keys)) == 6 and status == "finished"
