"""Harmful medical requests: the nine AMA-ethics categories of MedSafetyBench, by rules and a lexicon."""

from __future__ import annotations

from dataclasses import dataclass, field

from medsec.guard.rules import data_path, load_rules, match
from medsec.guard.scanner import Channel, Context, Verdict, verdict
from medsec.guard.textnorm import canonical
from medsec.types import Finding

RULES = "harmful_rules.yaml"


@dataclass(frozen=True)
class HarmfulScanner:
    """Harmful medical requests (falsifying records, care without consent, discrimination, fraud …).

    Args:
        rules: Path of a rule file (None: the shipped ``harmful_rules.yaml``).
        min_score: Report only rules scoring at least this.
    """

    rules: str | None = None
    min_score: float = 0.0
    channels: frozenset[Channel] = field(default=frozenset({"input"}), init=False)
    defends: str = field(default="harmful-request-detection", init=False)

    async def __call__(self, text: str, ctx: Context) -> Verdict:
        """Report each matching rule once; the proposed action is ``block``."""
        hits = match(load_rules(self.rules or str(data_path(RULES))), canonical(text), ctx.channel)
        found = [
            Finding(label=f"harmful.{rule.id}", score=rule.score, detail="rule")
            for rule, _ in hits
            if rule.score >= self.min_score
        ]
        return verdict(found, "block")
