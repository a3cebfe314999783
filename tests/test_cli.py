from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from medsec._version import __version__
from medsec.cli import app
from medsec.taxonomy import load_taxonomy
from medsec.taxonomy.render import render_markdown

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.strip() == f"medsec {__version__}"


def test_taxonomy_json_is_the_whole_validated_taxonomy() -> None:
    result = runner.invoke(app, ["taxonomy", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    tax = load_taxonomy()
    assert set(data) >= {"objectives", "capabilities", "stages", "attacks", "defenses"}
    assert len(data["attacks"]) == len(tax.attacks) and len(data["defenses"]) == len(tax.defenses)
    assert all(d["mitigates"] for d in data["defenses"])


def test_taxonomy_filters_in_json() -> None:
    result = runner.invoke(
        app, ["taxonomy", "--objective", "privacy", "--max-capability", "A1", "-f", "json"]
    )
    assert result.exit_code == 0
    attacks = json.loads(result.stdout)["attacks"]
    assert attacks and all("privacy" in a["objectives"] and a["capability"] in ("A0", "A1") for a in attacks)


def test_taxonomy_table_is_plain_text_when_piped() -> None:
    result = runner.invoke(app, ["taxonomy", "--stage", "training"])
    assert result.exit_code == 0
    assert "┃" not in result.stdout and "│" not in result.stdout
    assert result.stdout.splitlines()[0].split()[:2] == ["id", "name"]


def test_bad_filter_is_a_clear_error_without_traceback() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "medsec", "taxonomy", "--objective", "secrecy"], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: unknown objective 'secrecy'; choose one of: privacy")
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_unknown_option_is_a_usage_error() -> None:
    result = runner.invoke(app, ["taxonomy", "--objectiv", "privacy"])
    assert result.exit_code == 2 and "No such option" in result.output


def test_show_attack_and_defense() -> None:
    attack = runner.invoke(app, ["taxonomy", "show", "context-phi-extraction"])
    assert attack.exit_code == 0 and "Evidence:" in attack.stdout and "MITRE ATLAS" in attack.stdout
    defense = runner.invoke(app, ["taxonomy", "show", "phi-deidentification", "-f", "json"])
    assert defense.exit_code == 0 and "context-phi-extraction" in json.loads(defense.stdout)["mitigates"]


def test_coverage_json() -> None:
    result = runner.invoke(app, ["coverage", "--defenses", "phi-deidentification", "-f", "json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["defenses"] == ["phi-deidentification"] and data["uncovered"]


def test_docs_taxonomy_page_is_current() -> None:
    page = (ROOT / "docs" / "taxonomy.md").read_text(encoding="utf-8")
    assert page == render_markdown(load_taxonomy()), "docs/taxonomy.md is stale: run `make docs`"


def test_docs_probes_page_is_current() -> None:
    from medsec.redteam.catalog import render_probes_markdown

    page = (ROOT / "docs" / "probes.md").read_text(encoding="utf-8")
    assert page == render_probes_markdown(load_taxonomy()), "docs/probes.md is stale: run `make docs`"


def test_standard_suite_covers_all_four_objectives() -> None:
    from medsec.redteam.catalog import probe_rows

    covered = {
        o for row in probe_rows(load_taxonomy()) if "standard" in row["suites"] for o in row["objectives"]
    }
    assert covered == {"privacy", "safety", "integrity", "reliability"}
