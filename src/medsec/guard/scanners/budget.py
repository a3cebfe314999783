"""Budgets against resource exhaustion: input and output size, and requests per user per minute."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field

from medsec.guard.scanner import Channel, Context, Verdict, verdict
from medsec.types import Finding


def tokens(text: str) -> int:
    """A model-free token estimate: about four characters per token."""
    return (len(text) + 3) // 4


@dataclass(frozen=True)
class BudgetScanner:
    """Budgets: maximum input and output tokens (estimated) and requests per user per minute.

    A request is counted when the scanned input is the request's question (``Context.query``), or on every
    input when no question is set.

    Args:
        max_input_tokens: Largest input message.
        max_output_tokens: Largest answer.
        requests_per_minute: Requests one user may make in any 60 s (0: no limit).
    """

    max_input_tokens: int = 8000
    max_output_tokens: int = 2000
    requests_per_minute: int = 60
    channels: frozenset[Channel] = field(default=frozenset({"input", "output"}), init=False)
    defends: str = field(default="rate-limiting", init=False)
    _seen: dict[str, deque[float]] = field(default_factory=dict, init=False, compare=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, compare=False, repr=False)

    async def __call__(self, text: str, ctx: Context) -> Verdict:
        """Block oversized texts and users over their request rate."""
        limit = self.max_output_tokens if ctx.channel == "output" else self.max_input_tokens
        if tokens(text) > limit:
            return verdict(
                [Finding(label="budget.tokens", score=1.0, detail=f"over {limit} tokens")], "block"
            )
        counted = ctx.channel == "input" and self.requests_per_minute and (not ctx.query or ctx.query == text)
        if counted and not self._admit(ctx.user):
            detail = f"over {self.requests_per_minute} requests a minute"
            return verdict([Finding(label="budget.rate", score=1.0, detail=detail)], "block")
        return verdict([], "allow")

    def _admit(self, user: str) -> bool:
        now = time.monotonic()
        with self._lock:
            seen = self._seen.setdefault(user, deque())
            while seen and now - seen[0] > 60.0:
                seen.popleft()
            if len(seen) >= self.requests_per_minute:
                return False
            seen.append(now)
            return True
