from __future__ import annotations

from pathlib import Path

import pytest

from medsec.errors import ConfigError
from medsec.guard import SCANNERS, load_policy
from medsec.guard.policy import BUILTIN
from medsec.taxonomy import load_taxonomy
from tests.contracts import contract_problems


@pytest.mark.parametrize("name", BUILTIN)
def test_shipped_policies_load(name: str) -> None:
    pipeline = load_policy(name)
    assert pipeline.name == name and pipeline.steps


@pytest.mark.parametrize("name", list(SCANNERS))
def test_every_scanner_keeps_the_contract(name: str) -> None:
    assert contract_problems(SCANNERS, name, load_taxonomy()) == []


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "p.yaml"
    path.write_text(body, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "version: 1\nname: x\nscanners:\n  - scanner: injection\n    treshold: 0.5\n",
            ["p.yaml:5:", "treshold", "hint:"],
        ),
        (
            "version: 1\nname: x\nscanners:\n  - scanner: injecton\n",
            ["p.yaml:4:", "did you mean injection", "hint:"],
        ),
        (
            "version: 1\nname: x\nscanners:\n  - scanner: dose\n    channels: [input]\n",
            ["p.yaml:4:", "runs only on output"],
        ),
        (
            "version: 1\nname: x\nscanners:\n  - scanner: phi\n    actions: {'phi.*': drop}\n",
            ["p.yaml:5:", "actions"],
        ),
        (
            "version: 1\nname: x\nscanners:\n  - scanner: injection\n    args: {threshold: high}\n",
            ["p.yaml:4:", "threshold"],
        ),
        ("version: 1\nname: x\nscanners: []\n", ["p.yaml:3:", "scanners"]),
        ("name: [unclosed\n", ["p.yaml:", "invalid YAML"]),
    ],
)
def test_invalid_policies_name_file_line_and_fix(tmp_path: Path, body: str, expected: list[str]) -> None:
    with pytest.raises(ConfigError) as err:
        load_policy(_write(tmp_path, body))
    for part in expected:
        assert part in str(err.value)


def test_missing_policy_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_policy(tmp_path / "nope.yaml")
