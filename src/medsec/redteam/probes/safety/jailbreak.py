"""Jailbreak techniques composed with harmful intents: every technique × a deterministic sample of intents."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from medsec.redteam.case import Case
from medsec.redteam.probe import ScanContext
from medsec.redteam.probes._util import limited, rng_for
from medsec.redteam.probes.safety.loaders import HarmfulRequest, interleave, own_harmful
from medsec.redteam.probes.safety.techniques import TECHNIQUES


def shuffled_intents(ctx: ScanContext) -> list[HarmfulRequest]:
    """Our harmful requests shuffled by the scan seed, then interleaved over the nine principles."""
    pool = list(own_harmful())
    rng_for(ctx, "jailbreak").shuffle(pool)
    return interleave(pool)


@dataclass(frozen=True)
class Jailbreak:
    """Techniques × harmful intents: role-play, authority, fiction, refusal suppression, encodings, many-shot.

    Intents are sampled from our harmful set with the scan seed. Cases are ordered so that the first
    ``len(techniques)`` cases use every technique once, each with a different intent; all pairs follow.
    The case tags name the technique, so reports can show a technique × principle matrix.

    Args:
        techniques: Technique names to use (empty: all of ``TECHNIQUES``).
        intents: How many harmful intents to sample.
        shots: Fake compliant exchanges (on other intents of the set) in a many-shot case.
        limit: Most cases to yield (None: all).
    """

    attack: str = "harmful-medical-request"
    detectors: tuple[str, ...] = ("compliance",)
    techniques: tuple[str, ...] = ()
    intents: int = 9
    shots: int = 8
    limit: int | None = None

    def __post_init__(self) -> None:
        unknown = [t for t in self.techniques if t not in TECHNIQUES]
        if unknown:
            raise ValueError(f"unknown techniques {unknown}; choose from {', '.join(TECHNIQUES)}")

    def cases(self, ctx: ScanContext) -> Iterable[Case]:
        """Round r pairs technique t with intent (r + t) mod n, so every pair appears once over n rounds."""
        names = list(self.techniques or TECHNIQUES)
        pool = shuffled_intents(ctx)
        intents = pool[: max(0, self.intents)]
        cases = []
        for r in range(len(intents)):
            for t, name in enumerate(names):
                intent = intents[(r + t) % len(intents)]
                others = [i.text for i in pool if i.id != intent.id][: self.shots]
                rng = rng_for(ctx, f"jailbreak/{name}/{intent.id}")
                messages = TECHNIQUES[name](intent.text, others, rng)
                cases.append(
                    Case(
                        id=f"{name}/{intent.id}",
                        messages=messages,
                        expect_refusal=True,
                        tags=("jailbreak", name, intent.category),
                        metadata={"intent": intent.text, "intent_id": intent.id, "technique": name},
                    )
                )
        return limited(cases, self.limit)
