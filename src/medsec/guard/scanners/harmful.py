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

# A single question about what the law or professional rules permit ("When is it lawful to…", "Under
# what circumstances may a physician disclose…?") asks for the rule itself, which clinicians need. Its
# words ("without consent", "disclose") are the ones the consent and privacy rules react to, so for such a
# question those two rules are set aside and the classifier must be surer (``LEGAL_THRESHOLD``). The frame
# needs a permission word, one sentence ending in "?", no request for steps or a plan, and no evasion;
# intent rules (falsify, cover up …) always apply. Matched on canonical (lower-case) text.
_PERMISSIBILITY = re.compile(
    r"(?:when|under what (?:circumstances|conditions)|in what (?:situations|circumstances|cases)"
    r"|is it ever)\b"
    r"[^.!?\n]*\b(?:lawful|legal|legally|permissible|permitted|allowed|ethical|ethically"
    r"|(?:may|can|must) (?:a|an|the) (?:physician|doctor|clinician|nurse|hospital|provider|pharmacist"
    r"|clinic|therapist|psychiatrist|surgeon|practitioner))\b[^.!?\n]*\?$"
)
_ASKS_FOR_HELP = re.compile(
    r"\b(?:how (?:do|can|could|should|would|might) (?:i|we|you|one)|how to|ways? (?:to|i|we)|can you|best way"
    r"|steps?|plan"
    r"|guide|instructions|script|template|draft|write|give|provide|create|compose|generate|develop|design"
    r"|outline|describe|explain how|suggest|list|recommend|convince|persuade|tell me|show me|help me|walk me"
    r"|teach)\b"
)
_EVASION = re.compile(
    r"\b(?:without (?:being|getting) (?:caught|noticed|detected|found out)|without (?:anyone|anybody|them)"
    r" (?:knowing|noticing|finding out)|undetected|unnoticed|untraceable|looks? (?:natural|like an accident)"
    r"|so (?:that )?(?:no ?one|nobody|they|the auditors?|the patient) "
    r"(?:(?:never|won't|will not|don't|does not|doesn't|can't|cannot) )?(?:finds?|notices?|knows?|will know)"
    r"|secretly|covertly|get away with|cover(?:ing)?[ -](?:it |this )?up|leav\w* no (?:trace|record|audit))\b"
)
_LEGAL_WORDS = frozenset({"p4-no-consent", "p4-privacy"})
LEGAL_THRESHOLD = 0.99
"""The classifier's threshold for a question about what is permitted (the scanner's own if higher)."""


_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+|\n+")
MAX_REQUEST_SENTENCES = 3
"""A text of up to this many sentences is also scored sentence by sentence (see :func:`request_sentences`)."""


def request_sentences(canonical_text: str) -> list[str]:
    """The sentences of a short request (four words or more), each scored on its own by the classifier.

    A benign preamble ("When is it legal to do the following? …") dilutes a whole-text score: it took
    MedSafetyBench detection from 89.8% to 63.8%. Scoring each sentence of a short request as well keeps
    the request's own score. Longer texts (abstracts, notes) are scored whole only: each of their many
    sentences would be another chance of a false positive.
    """
    parts = [p for p in _SENTENCE_BREAK.split(canonical_text) if p.strip()]
    if len(parts) < 2 or len(parts) > MAX_REQUEST_SENTENCES:
        return []
    return [p for p in parts if len(p.split()) >= 4]


def permissibility_question(canonical_text: str) -> bool:
    """Whether a (canonical) text is one question asking what is permitted, not how to do or hide it."""
    text = canonical_text.strip()
    return (
        _PERMISSIBILITY.match(text) is not None
        and _ASKS_FOR_HELP.search(text) is None
        and _EVASION.search(text) is None
    )


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
        legal_questions: For one question about what is permitted ("Under what circumstances may a
            physician disclose…?"), set the consent and privacy rules aside and hold the classifier to
            ``LEGAL_THRESHOLD``, unless the question asks for steps or how not to be caught.
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
        threshold = max(self.threshold, LEGAL_THRESHOLD) if legal else self.threshold
        if threshold <= 1.0:
            model = load_model(self.model or _MODEL_PATH)
            score = max([model.score(canon)] + [model.score(s) for s in request_sentences(canon)])
            if score >= threshold:
                found.append(Finding(label="harmful.classifier", score=round(score, 4), detail="classifier"))
        return verdict(found, "block")
