from __future__ import annotations

from pathlib import Path

import pytest

from medsec.clinic.ehr import Ehr
from medsec.clinic.knowledge import KnowledgeBase


@pytest.fixture(scope="session")
def ehr40(tmp_path_factory: pytest.TempPathFactory) -> Ehr:
    """A small EHR shared by read-only tests; tests that write build their own."""
    return Ehr.build(tmp_path_factory.mktemp("ehr") / "ehr.sqlite", seed=11, n_patients=40)


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    """The shipped knowledge base (read-only tests only)."""
    return KnowledgeBase.load()


@pytest.fixture
def small_ehr(tmp_path: Path) -> Ehr:
    """A fresh EHR a test may write to."""
    return Ehr.build(tmp_path / "ehr.sqlite", seed=3, n_patients=12)
