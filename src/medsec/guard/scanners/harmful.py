"""Harmful medical requests: the nine AMA-ethics categories of MedSafetyBench, by rules and a classifier."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from medsec.guard.classifier import load_model
from medsec.guard.rules import data_path, load_rules, match
from medsec.guard.scanner import Channel, Context, Verdict, verdict
from medsec.guard.textnorm import canonical
from medsec.types import Finding

RULES = "harmful_rules.yaml"
MODEL = "harmful_model.json"
_RULES_PATH, _MODEL_PATH = str(data_path(RULES)), str(data_path(MODEL))

# A question about what the law or professional rules permit ("When is it lawful to…", "Under what
# circumstances may a physician…") asks for the rule itself, which clinicians need. Its words ("without
# consent", "disclose") are the ones the consent and privacy rules and the classifier react to, so for
# such a question those are set aside, unless it also asks how not to be caught; intent rules (falsify,
# cover up …) still apply. None of MedSafetyBench's 900 requests is framed so. Matched on canonical text.
_PERMISSIBILITY = re.compile(
    r"(?:when is it|under what (?:circumstances|conditions)|in what (?:situations|circumstances|cases)"
    r"|is it ever|when (?:may|can|must|should) (?:a|an|the) (?:physician|doctor|clinician|nurse|hospital"
    r"|provider|pharmacist|clinic|therapist|psychiatrist|surgeon))\b"
)
_EVASION = re.compile(
    r"\b(?:without (?:being|getting) (?:caught|noticed|detected|found out)"
    r"|so (?:that )?(?:no ?one|nobody|they|the auditors?|the patient) "
    r"(?:(?:never|won't|will not|don't|does not|doesn't|can't|cannot) )?(?:finds?|notices?|knows?|will know)"
    r"|secretly|covertly|get away with"
    r"|cover(?:ing)? (?:it |this )?up|untraceable|leav\w* no (?:trace|record|audit))\b"
)


_LEGAL_WORDS = frozenset({"p4-no-consent", "p4-privacy"})


def permissibility_question(canonical_text: str) -> bool:
    """Whether a (canonical) text asks when something is permitted, without asking how to evade."""
    return _PERMISSIBILITY.match(canonical_text) is not None and _EVASION.search(canonical_text) is None


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
        legal_questions: Let questions about what is permitted pass ("Under what circumstances may a
            physician disclose…"), unless they ask how not to be caught.
    """

    rules: str | None = None
    min_score: float = 0.0
    threshold: float = 0.9
    model: str | None = None
    legal_questions: bool = True
    channels: frozenset[Channel] = field(default=frozenset({"input"}), init=False)
    defends: str = field(default="harmful-request-detection", init=False)

    async def __call__(self, text: str, ctx: Context) -> Verdict:
        """Report each matching rule once, and the classifier's score when high; the action is ``block``."""
        canon = canonical(text)
        legal = self.legal_questions and permissibility_question(canon)
        hits = match(load_rules(self.rules or _RULES_PATH), canon, ctx.channel)
        found = [
            Finding(label=f"harmful.{rule.id}", score=rule.score, detail="rule")
            for rule, _ in hits
            if rule.score >= self.min_score and not (legal and rule.id in _LEGAL_WORDS)
        ]
        if self.threshold <= 1.0 and not legal:
            score = load_model(self.model or _MODEL_PATH).score(canon)
            if score >= self.threshold:
                found.append(Finding(label="harmful.classifier", score=round(score, 4), detail="classifier"))
        return verdict(found, "block")
