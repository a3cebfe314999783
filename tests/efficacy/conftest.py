from __future__ import annotations

from pathlib import Path

import pytest

from medsec.efficacy import EfficacyConfig
from medsec.redteam.store import Store

POLICY = """\
version: 1
name: mini
scanners:
  - scanner: harmful
  - scanner: phi
    args: {mode: redact}
"""


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(f"sqlite:///{tmp_path}/runs.db")


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "mini.yaml"
    path.write_text(POLICY, encoding="utf-8")
    return path


@pytest.fixture
def config(tmp_path: Path, policy_file: Path) -> EfficacyConfig:
    return EfficacyConfig(
        target="fake",
        probes=["phi-extraction:subjects=1", "system-prompt-extraction"],
        policies=(str(policy_file),),
        benign=("clinical",),
        clinical_n=6,
        policy_dir=str(tmp_path / "policies"),
    )
