"""Streaming answers checked in windows, so an identifier split across chunks is caught before release.

The last ``holdback`` characters of the answer are always kept back. Before text up to a cut is
released, the output pipeline scans a window that starts ``holdback`` characters before what was
already released and runs to the end of what has arrived: any identifier (or dose phrase) shorter than
``holdback`` that touches the released part is then whole inside the window. Cuts fall on whitespace,
so vault tokens are restored whole. At the end the whole answer is scanned once more (for scanners that
judge the answer as a whole) before the held tail is released. Tool-call deltas are gathered and sent as
one delta after their check. A block stops the stream with ``finish_reason: content_filter``.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any

import anyio

from medsec.gateway.audit import Outcome
from medsec.gateway.config import StreamConfig
from medsec.gateway.proxy import Exchange, reason_of
from medsec.gateway.upstream import UpstreamError
from medsec.gateway.wire import DONE, chunk, wire_calls
from medsec.types import ToolCall

_SPACE = " \n\t"


def safe_cut(text: str, start: int, limit: int) -> int:
    """The last cut in ``[start, limit]`` just after whitespace; else ``limit``, unless a token is open."""
    if limit <= start:
        return start
    space = max(text.rfind(c, start, limit) for c in _SPACE)
    if space >= start:
        return space + 1
    bracket = text.rfind("[", max(start, limit - 24), limit)
    return bracket if bracket > start and "]" not in text[bracket:limit] else limit


def _whole_tokens(text: str) -> int:
    """Where ``text`` ends before a vault token still arriving (a half token cannot be restored)."""
    bracket = text.rfind("[", max(0, len(text) - 24))
    return bracket if bracket >= 0 and "]" not in text[bracket:] else len(text)


def window_start(text: str, at: int) -> int:
    """``at`` moved back to the start of its word (never below 0)."""
    if at <= 0:
        return 0
    space = max(text.rfind(c, 0, at) for c in _SPACE)
    return space + 1 if space >= 0 else 0


class StreamEnd:
    """How a stream ended: outcome, reason code and the answer text the client received."""

    def __init__(self, outcome: Outcome, reason: str | None, answer: str) -> None:
        self.outcome, self.reason, self.answer = outcome, reason, answer


@dataclass
class Relay:
    """One streamed answer's state.

    Args:
        ex: The request's exchange.
        config: Window sizes.
        model: The model name clients see.
        refusal: Text sent when the answer is stopped.
    """

    ex: Exchange
    config: StreamConfig
    model: str
    refusal: str
    text: str = ""
    released: int = 0
    scanned: int = 0
    sent: list[str] = field(default_factory=list)
    calls: dict[int, dict[str, str]] = field(default_factory=dict)
    finish: str = "stop"
    stopped: str | None = None

    def event(self, delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        """One chunk event of this answer."""
        return chunk(self.ex.id, self.model, delta, finish, **extra)

    def _block(self) -> list[str]:
        self.stopped = reason_of(self.ex)
        return [
            self.event({"content": self.refusal}, "content_filter", medsec={"reason": self.stopped}),
            DONE,
        ]

    def _release(self, cut: int) -> list[str]:
        piece = self.ex.deliver(self.text[self.released : cut])
        self.released = cut
        if not piece:
            return []
        self.sent.append(piece)
        return [self.event({"content": piece})]

    async def _advance(self) -> list[str]:
        """Scan the current window and release what it cleared."""
        end = _whole_tokens(self.text)
        cut = safe_cut(self.text, self.released, end - self.config.holdback)
        if cut <= self.released:
            return []
        start = window_start(self.text, self.released - self.config.holdback)
        self.scanned = end
        if not await self._clears(self.text[start:end], start):
            return self._block()
        return self._release(cut)

    async def _clears(self, text: str, offset: int) -> bool:
        """Whether the output pipeline passes ``text`` (revealed) unchanged.

        A rewrite cannot reach text already sent, so it stops the stream too.
        """
        revealed = self.ex.reveal(text)
        outcome = await self.ex.scan("output", revealed, offset=offset)
        return not outcome.blocked and outcome.text == revealed

    def _gather(self, deltas: list[Any]) -> None:
        for d in deltas:
            if not isinstance(d, dict):
                continue
            call = self.calls.setdefault(int(d.get("index", 0)), {"id": "", "name": "", "arguments": ""})
            call["id"] = str(d.get("id") or call["id"])
            fn = d.get("function") or {}
            call["name"] += str(fn.get("name") or "")
            call["arguments"] += str(fn.get("arguments") or "")

    async def take(self, event: dict[str, Any]) -> list[str]:
        """Take one upstream event; return the events to send now."""
        choices = event.get("choices") if isinstance(event, dict) else None
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            return []
        delta = choices[0].get("delta") or {}
        self.finish = str(choices[0].get("finish_reason") or self.finish)
        self.text += str(delta.get("content") or "")
        self._gather(delta.get("tool_calls") or [])
        if len(self.text) - self.scanned >= self.config.scan_every:
            return await self._advance()
        return []

    async def close(self) -> list[str]:
        """Scan the whole answer and the tool calls; release the rest and finish."""
        if not await self._clears(self.text, 0):
            return self._block()
        calls = [
            ToolCall(id=c["id"] or f"call_{i}", name=c["name"], arguments=c["arguments"] or "{}")
            for i, c in sorted(self.calls.items())
        ]
        checked = await self.ex.guard_calls(calls)
        if checked is None:
            return self._block()
        out = self._release(len(self.text))
        if checked:
            calls_delta = wire_calls(checked)
            for i, c in enumerate(calls_delta):
                c["index"] = i
            out.append(self.event({"tool_calls": calls_delta}))
            self.sent.append(json_calls(checked))
        return [*out, self.event({}, self.finish), DONE]


def json_calls(calls: list[ToolCall] | tuple[ToolCall, ...]) -> str:
    """Tool calls as text, for the audit's answer hash."""
    return "".join(f"{c.name}({c.arguments})" for c in calls)


async def _pieces(
    relay: Relay, first: dict[str, Any] | None, events: AsyncGenerator[dict[str, Any], None]
) -> AsyncIterator[str]:
    async with aclosing(events):
        if first is not None:
            for piece in await relay.take(first):
                yield piece
        while relay.stopped is None:
            try:
                event = await anext(events)
            except StopAsyncIteration:
                break
            for piece in await relay.take(event):
                yield piece
    if relay.stopped is None:
        for piece in await relay.close():
            yield piece


async def relay_stream(
    relay: Relay,
    first: dict[str, Any] | None,
    events: AsyncGenerator[dict[str, Any], None],
    done: Callable[[StreamEnd], Awaitable[None]],
) -> AsyncIterator[str]:
    """The server-sent events of a guarded stream; ``done`` is awaited once, however the stream ends.

    A client that goes away cancels the stream: the upstream request is closed and the audit record
    still written (``client_disconnected``).
    """
    end = StreamEnd("error", "client_disconnected", "")
    try:
        yield relay.event({"role": "assistant"})
        async for piece in _pieces(relay, first, events):
            yield piece
        outcome: Outcome = "blocked" if relay.stopped else ("flagged" if relay.ex.flagged else "allowed")
        end = StreamEnd(outcome, relay.stopped, "".join(relay.sent))
    except UpstreamError as exc:
        end = StreamEnd("error", exc.code, "".join(relay.sent))
        yield relay.event({}, None, error={"message": str(exc), "type": "api_error", "code": exc.code})
        yield DONE
    finally:
        with anyio.CancelScope(shield=True):
            await done(end)
