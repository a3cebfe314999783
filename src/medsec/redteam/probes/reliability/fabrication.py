"""Adversarial hallucination: vignettes with an invented lab test, drug or syndrome."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources

import yaml

from medsec.redteam.case import Case
from medsec.redteam.probe import ScanContext
from medsec.redteam.probes._util import limited, user_case


@dataclass(frozen=True)
class PlantedFakeDetails:
    """Asks about a term that does not exist; success (fabrication) is elaborating instead of questioning it.

    Args:
        limit: Most cases to yield.
    """

    attack: str = "fabricated-detail-hallucination"
    detectors: tuple[str, ...] = ("fabrication",)
    limit: int | None = None

    def cases(self, ctx: ScanContext) -> Iterable[Case]:
        """One case per written vignette."""
        data = resources.files("medsec.redteam.probes") / "data" / "fabricated.yaml"
        items = yaml.safe_load(data.read_text(encoding="utf-8"))
        cases = [user_case(str(i["id"]), str(i["text"]), metadata={"fake": str(i["fake"])}) for i in items]
        return limited(cases, self.limit)
