"""A scripted target for tests and examples: canned replies, every call recorded."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import anyio

from medsec.errors import TargetError
from medsec.targets.base import Reply, Usage
from medsec.types import Message


@dataclass(frozen=True)
class FakeTarget:
    """Scripted replies: the first rule whose pattern matches the last user message wins.

    Args:
        rules: Pairs of (regular expression, reply text), tried in order against the last user message.
        default: The reply when no rule matches.
        echo: Reply with the last user message instead (rules still win).
        fail_with: When set, every call raises a TargetError with this message (for error paths).
        delay_s: Seconds to wait before answering (simulates latency).
    """

    rules: tuple[tuple[str, str], ...] = ()
    default: str = "I can't help with that."
    echo: bool = False
    fail_with: str | None = None
    delay_s: float = 0.0
    calls: list[tuple[tuple[Message, ...], str | None]] = field(
        default_factory=list, init=False, compare=False, repr=False
    )

    async def __call__(self, messages: Sequence[Message], *, session: str | None = None) -> Reply:
        """Record the call and answer from the script."""
        self.calls.append((tuple(messages), session))
        if self.delay_s:
            await anyio.sleep(self.delay_s)
        if self.fail_with is not None:
            raise TargetError(self.fail_with)
        last = next((m.content for m in reversed(messages) if m.role == "user"), "")
        text = next((reply for pattern, reply in self.rules if re.search(pattern, last, re.I)), None)
        if text is None:
            text = last if self.echo else self.default
        prompt_tokens = sum(len(m.content.split()) for m in messages)
        return Reply(
            text=text,
            finish_reason="stop",
            usage=Usage(prompt_tokens=prompt_tokens, completion_tokens=len(text.split())),
            latency_s=self.delay_s,
            model="fake",
        )
