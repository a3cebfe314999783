"""Retrieval poisoning: passages that restate the query and contradict the dosing table; duplicates."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from medsec.guard.claims import check, dose_claims
from medsec.guard.scanner import Channel, Context, Verdict, verdict
from medsec.types import Finding

_WORD = re.compile(r"[a-z0-9]+")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _shingles(text: str) -> set[tuple[str, ...]]:
    words = _words(text)
    return {tuple(words[i : i + 3]) for i in range(max(0, len(words) - 2))}


def restates(query: str, text: str) -> float:
    """Share of the query's content words (four letters or more) that the passage repeats."""
    wanted = {w for w in _words(query) if len(w) >= 4}
    return len(wanted & set(_words(text))) / len(wanted) if wanted else 0.0


@dataclass(frozen=True)
class PoisoningScanner:
    """Retrieval poisoning: dose claims contradicting the table, and near-duplicate passages.

    A contradicting passage that also restates the query (the PoisonedRAG pattern) scores higher;
    near-duplicates are passages an attacker inserted together.

    Args:
        restate: Share of query words a passage must repeat to count as restating it.
        duplicate: Word-trigram Jaccard similarity at which two retrieved passages are near-duplicates.
    """

    restate: float = 0.7
    duplicate: float = 0.6
    channels: frozenset[Channel] = field(default=frozenset({"context"}), init=False)
    defends: str = field(default="retrieval-poisoning-detection", init=False)

    async def __call__(self, text: str, ctx: Context) -> Verdict:
        """Judge one passage against the table, the query and the other retrieved passages."""
        found = []
        conflicts = [f for c in dose_claims(text) for f in check(c) if f.label.startswith("dose.exceeds")]
        if conflicts:
            echo = restates(ctx.query, text) >= self.restate
            found.append(
                Finding(
                    label="poisoning.table_conflict",
                    score=0.95 if echo else 0.85,
                    detail="restates the query" if echo else "contradicts the dosing table",
                )
            )
        mine = _shingles(text)
        for other in ctx.passages:
            if other.text == text or (ctx.source is not None and other.id == ctx.source) or not mine:
                continue
            theirs = _shingles(other.text)
            if theirs and len(mine & theirs) / len(mine | theirs) >= self.duplicate:
                found.append(
                    Finding(label="poisoning.near_duplicate", score=0.7, detail="near-duplicate cluster")
                )
                break
        return verdict(found, "block" if conflicts else "flag")
