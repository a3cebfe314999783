"""PoisonedRAG's published target sets, replayed against a stageable target's corpus."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from medsec.redteam.case import Case, PlantedPassage, Setup
from medsec.redteam.probe import ScanContext, staging_unsupported
from medsec.redteam.probes._util import limited, user_case
from medsec.redteam.probes.datasets import poisonedrag


@dataclass(frozen=True)
class PoisonedRagDataset:
    """Questions from a PoisonedRAG JSON file, each with its adversarial passages planted first.

    Args:
        path: A PoisonedRAG target file (``nq.json``, ``hotpotqa.json``, ``msmarco.json``).
        passages: How many of each question's adversarial texts to plant (1–5).
        limit: Most questions to use.
    """

    attack: str = "retrieval-poisoning"
    detectors: tuple[str, ...] = ("known-answer",)
    path: str = ""
    passages: int = 5
    limit: int | None = 20

    def unsupported(self, target: object) -> str | None:
        """Needs a path and a stageable target."""
        return "no dataset path given (path=...)" if not self.path else staging_unsupported(target)

    def cases(self, ctx: ScanContext) -> Iterable[Case]:
        """One case per target question."""
        cases = []
        for item in poisonedrag(self.path):
            texts = [str(t) for t in item["adv_texts"]][: self.passages]
            planted = tuple(PlantedPassage(title=f"Reference {i + 1}", text=t) for i, t in enumerate(texts))
            cases.append(
                user_case(
                    f"q-{item['id']}",
                    str(item["question"]),
                    wrong_answers=(str(item["incorrect answer"]),),
                    right_answers=(str(item["correct answer"]),),
                    setup=Setup(passages=planted),
                )
            )
            if self.limit is not None and len(cases) >= self.limit:
                break
        return limited(cases, self.limit)
