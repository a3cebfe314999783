from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict

from medsec import config
from medsec.config import load_config, read_yaml, secret_from_env
from medsec.errors import ConfigError


class Target(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    url: str
    timeout: float = 30.0


class Scan(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    targets: list[Target]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scan.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_valid_config_loads(tmp_path: Path) -> None:
    path = write(tmp_path, "name: nightly\ntargets:\n  - url: http://127.0.0.1:8000\n")
    assert load_config(Scan, path) == Scan(name="nightly", targets=[Target(url="http://127.0.0.1:8000")])


def test_validation_error_names_file_line_and_field_without_the_value(tmp_path: Path) -> None:
    secret = "John Smith MRN 4471234"
    path = write(tmp_path, f"name: nightly\ntargets:\n  - url: x\n    timeout: {secret}\n  - ur1: y\n")
    with pytest.raises(ConfigError) as info:
        load_config(Scan, path)
    message = str(info.value)
    assert f"{path}:4: targets.0.timeout:" in message
    assert f"{path}:5: targets.1.ur1: Extra inputs are not permitted" in message
    assert secret not in message and "John" not in message


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "name: nightly\ntargets: [\n  - : :\n")
    with pytest.raises(ConfigError, match=rf"{path}:\d+: invalid YAML"):
        read_yaml(path)


def test_missing_file_directory_and_bad_encoding(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        read_yaml(tmp_path / "absent.yaml")
    with pytest.raises(ConfigError, match="is a directory"):
        read_yaml(tmp_path)
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes("name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(ConfigError, match="not UTF-8"):
        read_yaml(bad)


def test_oversized_file_is_refused_before_parsing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(config, "MAX_CONFIG_BYTES", 10)
    with pytest.raises(ConfigError, match="larger than"):
        read_yaml(write(tmp_path, "name: a very long name\n"))


def test_alias_bomb_does_not_explode(tmp_path: Path) -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(
            f"{chr(97 + i)}: &{chr(97 + i)} [*{chr(96 + i)}, *{chr(96 + i)}, *{chr(96 + i)}, *{chr(96 + i)}]"
        )
    doc = read_yaml(write(tmp_path, "\n".join(lines) + "\n"))
    assert len(doc.lines) < 1000  # shared nodes are indexed once, not expanded


def test_secret_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDSEC_TEST_KEY", "s3cret")
    assert secret_from_env("MEDSEC_TEST_KEY") == "s3cret"
    monkeypatch.delenv("MEDSEC_TEST_KEY")
    with pytest.raises(ConfigError, match="MEDSEC_TEST_KEY is not set"):
        secret_from_env("MEDSEC_TEST_KEY")
