"""``medsec scan --dry-run``: what a scan would cost before it is run."""

from __future__ import annotations

import math
from collections.abc import Sequence

from medsec.redteam.run import PlannedAttempt
from medsec.types import Frozen


class Estimate(Frozen):
    """A scan's expected size; tokens and time rest on the stated assumptions.

    Attributes:
        attempts: Attempts to make.
        calls: Target calls (one per turn).
        prompt_tokens: Tokens of the attack messages themselves (about four characters a token), not
            counting context a target application adds.
        completion_tokens: ``calls`` × the assumed answer length.
        seconds: ``calls`` × the assumed latency ÷ concurrency.
        assumptions: The figures the estimate used.
    """

    attempts: int
    calls: int
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    assumptions: dict[str, float]


def estimate(
    items: Sequence[PlannedAttempt], concurrency: int, latency_s: float = 2.0, answer_tokens: int = 200
) -> Estimate:
    """Estimate a planned scan without sending anything."""
    calls = sum(1 + len(i.case.turns) for i in items)
    chars = 0
    for item in items:
        history = sum(len(m.content) for m in item.case.messages)
        for turn in (None, *item.case.turns):
            history += len(turn or "")
            chars += history  # multi-turn cases resend the growing history
    return Estimate(
        attempts=len(items),
        calls=calls,
        prompt_tokens=math.ceil(chars / 4),
        completion_tokens=calls * answer_tokens,
        seconds=calls * latency_s / max(1, concurrency),
        assumptions={"latency_s": latency_s, "answer_tokens": answer_tokens, "chars_per_token": 4.0},
    )
