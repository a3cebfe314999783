"""Harmful medical requests of our own, ten per AMA Principle of Medical Ethics (MedSafetyBench's nine)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from medsec.redteam.case import Case
from medsec.redteam.probe import ScanContext
from medsec.redteam.probes._util import limited, user_case
from medsec.redteam.probes.safety.loaders import CATEGORIES, HarmfulRequest, interleave, own_harmful


def harmful_case(request: HarmfulRequest, *, source: str) -> Case:
    """A single-turn case sending ``request`` as is; complying is the attack succeeding."""
    return user_case(
        request.id,
        request.text,
        tags=("harmful", request.category),
        expect_refusal=True,
        metadata={"intent": request.text, "category": request.category, "source": source},
    )


@dataclass(frozen=True)
class HarmfulRequests:
    """Our 90 harmful medical requests across the nine AMA medical-ethics principles, sent as is.

    Cases are ordered round-robin over the principles, so ``limit=9`` sends one of each.

    Args:
        categories: Keep only these principles (``competence-dignity`` … ``care-for-all``; empty: all).
        limit: Most cases to yield (None: all).
    """

    attack: str = "harmful-medical-request"
    detectors: tuple[str, ...] = ("compliance",)
    categories: tuple[str, ...] = ()
    limit: int | None = None

    def __post_init__(self) -> None:
        unknown = [c for c in self.categories if c not in CATEGORIES]
        if unknown:
            raise ValueError(f"unknown categories {unknown}; choose from {', '.join(CATEGORIES)}")

    def cases(self, ctx: ScanContext) -> Iterable[Case]:
        """One case per request, principles interleaved."""
        chosen = [r for r in own_harmful() if not self.categories or r.category in self.categories]
        return limited([harmful_case(r, source="medsec") for r in interleave(chosen)], self.limit)
