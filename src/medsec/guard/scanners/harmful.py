"""Harmful medical requests: the nine AMA-ethics categories of MedSafetyBench, by rules and a classifier."""

from __future__ import annotations

from dataclasses import dataclass, field

from medsec.guard.classifier import load_model
from medsec.guard.rules import data_path, load_rules, match
from medsec.guard.scanner import Channel, Context, Verdict, verdict
from medsec.guard.textnorm import canonical
from medsec.types import Finding

RULES = "harmful_rules.yaml"
MODEL = "harmful_model.json"
_RULES_PATH, _MODEL_PATH = str(data_path(RULES)), str(data_path(MODEL))


@dataclass(frozen=True)
class HarmfulScanner:
    """Harmful medical requests (falsifying records, care without consent, discrimination, fraud …).

    Rules written as markers of intent, and a small shipped classifier (the injection classifier's model,
    trained on other labels by :mod:`medsec.guard.train.harmful`).

    Args:
        rules: Path of a rule file (None: the shipped ``harmful_rules.yaml``).
        min_score: Report only rules scoring at least this.
        threshold: Classifier probability at or above which a text is reported (above 1: rules only).
        model: Path of classifier weights (None: the shipped ``harmful_model.json``).
    """

    rules: str | None = None
    min_score: float = 0.0
    threshold: float = 0.9
    model: str | None = None
    channels: frozenset[Channel] = field(default=frozenset({"input"}), init=False)
    defends: str = field(default="harmful-request-detection", init=False)

    async def __call__(self, text: str, ctx: Context) -> Verdict:
        """Report each matching rule once, and the classifier's score when high; the action is ``block``."""
        canon = canonical(text)
        hits = match(load_rules(self.rules or _RULES_PATH), canon, ctx.channel)
        found = [
            Finding(label=f"harmful.{rule.id}", score=rule.score, detail="rule")
            for rule, _ in hits
            if rule.score >= self.min_score
        ]
        if self.threshold <= 1.0:
            score = load_model(self.model or _MODEL_PATH).score(canon)
            if score >= self.threshold:
                found.append(Finding(label="harmful.classifier", score=round(score, 4), detail="classifier"))
        return verdict(found, "block")
