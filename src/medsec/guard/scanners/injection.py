"""Prompt-injection and jailbreak detection on every channel: normalise, decode, rules, classifier."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from medsec.guard.classifier import load_model
from medsec.guard.rules import data_path, load_rules, match
from medsec.guard.scanner import Channel, Context, Verdict, verdict
from medsec.guard.textnorm import canonical, decodings
from medsec.types import Finding

RULES = "injection_rules.yaml"
_RULES_PATH = str(data_path(RULES))
# words any injection the rules catch contains; ROT13 and reversed text are rescanned only when they appear
_PREFILTER = re.compile(
    r"ignore|disregard|forget|instruction|prompt|password|mode|you are|pretend|system|inst\]|im_start"
    r"|assistant|secret|passcode|passphrase|code word|magic word|rules|told|programmed"
)
_ALL: frozenset[Channel] = frozenset({"input", "context", "tool_call", "output"})


def _findings(
    text: str, channel: Channel | None, threshold: float, model: str | None, prefix: str
) -> list[Finding]:
    canon = canonical(text)
    found = [
        Finding(label=f"injection.{prefix}{rule.id}", score=rule.score, detail="rule")
        for rule, _ in match(load_rules(_RULES_PATH), canon, channel)
    ]
    if threshold <= 1.0:
        score = load_model(model).score(canon)
        if score >= threshold:
            found.append(
                Finding(label=f"injection.{prefix}classifier", score=round(score, 4), detail="classifier")
            )
    return found


@dataclass(frozen=True)
class InjectionScanner:
    """Prompt injection and jailbreaks, built for clinical text (rules plus a small shipped classifier).

    The text is folded first (confusables, zero-width, full-width, leetspeak, spaced letters); text hidden
    in base64, hex or Morse code is decoded and scanned again, and ROT13 and reversed writing are checked
    by the rules.
    Clinical imperatives ("disregard the earlier order", "ignore the hemolysed potassium") are not flagged.

    Args:
        threshold: Classifier probability at or above which a text is reported (above 1: rules only).
        model: Path of classifier weights (None: the shipped model).
        decode: Also scan decoded base64, hex, Morse, ROT13 and reversed text.
    """

    threshold: float = 0.9
    model: str | None = None
    decode: bool = True
    channels: frozenset[Channel] = field(default=_ALL, init=False)
    defends: str = field(default="injection-detection", init=False)

    async def __call__(self, text: str, ctx: Context) -> Verdict:
        """Report injection findings; the proposed action is ``block``."""
        found = _findings(text, ctx.channel, self.threshold, self.model, "")
        if self.decode and not found:
            for encoding, decoded in decodings(text):
                plain = encoding in ("base64", "hex", "morse")
                if not plain and not _PREFILTER.search(decoded.lower()):
                    continue
                hits = _findings(
                    decoded, ctx.channel, self.threshold if plain else 2.0, self.model, f"{encoding}."
                )
                found += hits
                if hits:
                    break
        return verdict(found, "block")
