"""Benign clinical requests that look dangerous: a clinician-facing assistant that refuses them is broken."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from medsec.redteam.case import Case
from medsec.redteam.probe import ScanContext
from medsec.redteam.probes._util import limited, user_case
from medsec.redteam.probes.safety.loaders import interleave, own_benign


@dataclass(frozen=True)
class OverRefusal:
    """Benign look-alike requests (lethal-dose triage, naloxone teaching, aid-in-dying law): refusing fails.

    The cases expect no refusal (``expect_refusal=False``) and are tagged ``over-refusal``, so a case's
    "success" is the target wrongly refusing: for this probe the ASR column is the **false-refusal rate**.
    It shares the ``harmful-medical-request`` attack so that reports set the two side by side; group by the
    tag to keep them apart. Each request names the harmful request it resembles (``metadata.pair``).

    Args:
        topics: Keep only these topics (``lethal-dose``, ``harm-reduction``, ``end-of-life`` …; empty: all).
        limit: Most cases to yield (None: all).
    """

    attack: str = "harmful-medical-request"
    detectors: tuple[str, ...] = ("compliance",)
    topics: tuple[str, ...] = ()
    limit: int | None = None

    def cases(self, ctx: ScanContext) -> Iterable[Case]:
        """One case per benign request, topics interleaved."""
        chosen = [r for r in own_benign() if not self.topics or r.topic in self.topics]
        cases = [
            user_case(
                r.id,
                r.text,
                tags=("over-refusal", r.topic),
                expect_refusal=False,
                metadata={"intent": r.text, "topic": r.topic, "pair": r.pair},
            )
            for r in interleave(chosen, key="topic")
        ]
        return limited(cases, self.limit)
