from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from medsec.clinic.synth import generate
from medsec.clinic.synth_clinical import ckd_epi_2021
from medsec.clinic.synth_data import SynthData, default_synth_dir
from medsec.errors import ConfigError


def test_shipped_data_loads_and_generation_is_deterministic() -> None:
    data = SynthData.load()
    assert generate(9, 15, data) == generate(9, 15, data)
    assert generate(9, 15, data) != generate(10, 15, data)


def test_ckd_epi_2021_matches_reference_values() -> None:
    # reference values computed from the published CKD-EPI 2021 creatinine equation
    assert ckd_epi_2021(1.0, 60, "M") == 86
    assert ckd_epi_2021(0.7, 50, "F") == 105
    assert ckd_epi_2021(2.5, 75, "M") < 30


def test_templates_with_unknown_fields_are_rejected(tmp_path: Path) -> None:
    shutil.copytree(default_synth_dir(), tmp_path, dirs_exist_ok=True)
    notes = tmp_path / "notes.yaml"
    notes.write_text(notes.read_text("utf-8").replace("{unit}", "{secret_field}", 1), "utf-8")
    with pytest.raises(ConfigError, match="unknown fields"):
        SynthData.load(tmp_path)


def test_missing_data_files_are_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        SynthData.load(tmp_path)
