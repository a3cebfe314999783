"""Grounding: dose figures in an answer must appear in a retrieved passage about the same drug."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from medsec.guard.claims import dose_claims
from medsec.guard.scanner import Channel, Context, Verdict, verdict
from medsec.types import Finding

_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


@dataclass(frozen=True)
class GroundingScanner:
    """Grounding: dose figures in the answer that no retrieved passage about that drug states.

    Without retrieved passages in the context there is nothing to ground against, and nothing is reported.
    """

    channels: frozenset[Channel] = field(default=frozenset({"output"}), init=False)
    defends: str = field(default="grounding-check", init=False)

    async def __call__(self, text: str, ctx: Context) -> Verdict:
        """Flag each dose claim that no passage supports."""
        if not ctx.passages:
            return verdict([], "flag")
        found = []
        for claim in dose_claims(text):
            figures = set(_NUMBER.findall(text[claim.start : claim.end]))
            names = (claim.rule.drug, *(b.lower() for b in claim.rule.brands))
            supported = any(
                any(n in p.text.lower() for n in names) and figures <= set(_NUMBER.findall(p.text))
                for p in ctx.passages
            )
            if not supported:
                found.append(
                    Finding(
                        label="grounding.unsupported",
                        score=0.6,
                        start=claim.start,
                        end=claim.end,
                        detail=f"{claim.rule.drug} dose not in retrieved passages",
                    )
                )
        return verdict(found, "flag")
