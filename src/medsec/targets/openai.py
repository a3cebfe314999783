"""Any OpenAI-compatible chat-completions endpoint: vLLM, Ollama, llama.cpp server, TGI, hosted APIs."""

from __future__ import annotations

import asyncio
import email.utils
import random
import ssl
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from pydantic import JsonValue

from medsec.config import secret_from_env
from medsec.errors import TargetError
from medsec.targets.base import Reply, Usage
from medsec.types import Message, ToolCall

RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})
SESSION_HEADER = "X-Medsec-Session"


def wire_message(message: Message) -> dict[str, Any]:
    """The OpenAI wire form of one message."""
    out: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.name:
        out["name"] = message.name
    if message.tool_calls:
        out["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in message.tool_calls
        ]
    if message.tool_call_id:
        out["tool_call_id"] = message.tool_call_id
    return out


def from_wire(data: Any) -> Message:
    """Read one OpenAI wire message (content may be null or a list of parts; tool calls nested).

    Raises:
        ValueError: When the message is not an object with a known role.
    """
    if not isinstance(data, dict):
        raise ValueError("each message must be a JSON object")
    content = data.get("content")
    if isinstance(content, list):
        content = "".join(
            p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text"
        )
    calls = tuple(
        ToolCall(
            id=str(c.get("id", i)),
            name=str(c["function"]["name"]),
            arguments=str(c["function"].get("arguments") or "{}"),
        )
        for i, c in enumerate(data.get("tool_calls") or ())
        if isinstance(c, dict) and isinstance(c.get("function"), dict) and "name" in c["function"]
    )
    return Message(
        role=data.get("role"),
        content=str(content or ""),
        name=data.get("name"),
        tool_calls=calls,
        tool_call_id=data.get("tool_call_id"),
    )


def parse_completion(data: Any, latency_s: float) -> Reply:
    """Read a chat-completions response body into a Reply.

    Raises:
        TargetError: When the body lacks the fields every compatible server sends.
    """
    try:
        choice = data["choices"][0]
        message = choice["message"]
        calls = tuple(
            ToolCall(
                id=str(c.get("id", f"call_{i}")),
                name=c["function"]["name"],
                arguments=c["function"].get("arguments") or "{}",
            )
            for i, c in enumerate(message.get("tool_calls") or ())
        )
        usage = data.get("usage") or {}
        return Reply(
            text=message.get("content") or "",
            tool_calls=calls,
            finish_reason=choice.get("finish_reason"),
            usage=Usage(
                prompt_tokens=int(usage.get("prompt_tokens") or 0),
                completion_tokens=int(usage.get("completion_tokens") or 0),
            ),
            latency_s=latency_s,
            model=data.get("model"),
        )
    except (KeyError, IndexError, TypeError, AttributeError, ValueError) as exc:
        raise TargetError(f"malformed chat-completions response ({type(exc).__name__}: {exc})") from None


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value)
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


def _error_reason(response: httpx.Response) -> str:
    """A PHI-free reason: the status and the error type or code, never the server's message text."""
    try:
        err = response.json().get("error") or {}
        kind = err.get("type") or err.get("code") if isinstance(err, dict) else None
    except (ValueError, AttributeError):
        kind = None
    return f"HTTP {response.status_code}" + (f" ({kind})" if kind else "")


CLIENTS_PER_LOOP = 8
"""Requests are spread over this many connection pools: httpcore's pool bookkeeping grows with the
number of requests waiting on one pool and capped one pool near 125 requests/s at 64 in flight
(benchmarks/scan_throughput.py)."""


@dataclass
class _LoopState:
    clients: list[httpx.AsyncClient]
    lock: asyncio.Lock
    next_slot: float = 0.0
    turn: int = 0

    def client(self) -> httpx.AsyncClient:
        self.turn = (self.turn + 1) % len(self.clients)
        return self.clients[self.turn]


@dataclass(frozen=True)
class OpenAITarget:
    """An OpenAI-compatible chat-completions endpoint, with retries, backoff and a rate limit.

    Args:
        base_url: The API root, e.g. ``http://127.0.0.1:8000/v1``.
        model: The model name to request.
        api_key_env: Name of the environment variable holding the API key (none sent when unset).
        timeout_s: Seconds allowed for one HTTP attempt.
        max_retries: Retries after the first attempt on 429, 5xx and connection errors.
        backoff_s: First retry delay; doubles each retry (with jitter), capped at ``max_backoff_s``.
        max_backoff_s: The longest wait between attempts, Retry-After included.
        rate_limit: Most requests per second this target sends (None: unlimited).
        temperature: Sampling temperature sent with each request (None: the server's default).
        max_tokens: Completion token cap sent with each request (None: the server's default).
        tools: OpenAI tool schemas passed through unchanged.
        headers: Extra HTTP headers (for example a gateway's role or patient headers).
        transport: An httpx transport to use instead of the network (``httpx.MockTransport`` in tests).
    """

    base_url: str = "http://127.0.0.1:8000/v1"
    model: str = "default"
    api_key_env: str | None = None
    timeout_s: float = 60.0
    max_retries: int = 4
    backoff_s: float = 0.5
    max_backoff_s: float = 20.0
    rate_limit: float | None = None
    temperature: float | None = 0.0
    max_tokens: int | None = 512
    tools: tuple[dict[str, JsonValue], ...] = ()
    headers: dict[str, str] = field(default_factory=dict)
    transport: httpx.AsyncBaseTransport | None = field(default=None, compare=False, repr=False)
    _loops: dict[int, _LoopState] = field(default_factory=dict, init=False, compare=False, repr=False)

    def _state(self) -> _LoopState:
        loop_id = id(asyncio.get_running_loop())
        state = self._loops.get(loop_id)
        if state is None:
            headers = dict(self.headers)
            if self.api_key_env:
                headers["Authorization"] = f"Bearer {secret_from_env(self.api_key_env)}"
            tls = ssl.create_default_context()  # one CA bundle load shared by the pools, not one each
            clients = [
                httpx.AsyncClient(
                    verify=tls,
                    base_url=self.base_url.rstrip("/") + "/",
                    headers=headers,
                    timeout=self.timeout_s,
                    transport=self.transport,
                    limits=httpx.Limits(max_connections=None, max_keepalive_connections=64),
                )
                for _ in range(CLIENTS_PER_LOOP)
            ]
            state = self._loops[loop_id] = _LoopState(clients=clients, lock=asyncio.Lock())
        return state

    async def aclose(self) -> None:
        """Close the HTTP clients this target opened."""
        for state in list(self._loops.values()):
            for client in state.clients:
                await client.aclose()
        self._loops.clear()

    async def _pace(self, state: _LoopState) -> None:
        if not self.rate_limit:
            return
        async with state.lock:
            now = time.monotonic()
            wait = state.next_slot - now
            state.next_slot = max(now, state.next_slot) + 1.0 / self.rate_limit
        if wait > 0:
            await asyncio.sleep(wait)

    def body(self, messages: Sequence[Message]) -> dict[str, Any]:
        """The request body for ``messages``."""
        body: dict[str, Any] = {"model": self.model, "messages": [wire_message(m) for m in messages]}
        if self.temperature is not None:
            body["temperature"] = self.temperature
        if self.max_tokens is not None:
            body["max_tokens"] = self.max_tokens
        if self.tools:
            body["tools"] = list(self.tools)
        return body

    async def __call__(self, messages: Sequence[Message], *, session: str | None = None) -> Reply:
        """Send the messages; retry transient failures; return the parsed reply.

        Raises:
            TargetError: On a non-retryable status, on exhausted retries, or on a malformed answer.
        """
        state = self._state()
        headers = {SESSION_HEADER: session} if session else {}
        body = self.body(messages)
        start = time.perf_counter()
        for attempt in range(self.max_retries + 1):
            await self._pace(state)
            delay = min(self.max_backoff_s, self.backoff_s * 2**attempt) * random.uniform(0.5, 1.0)
            try:
                response = await state.client().post("chat/completions", json=body, headers=headers)
            except httpx.TimeoutException:
                reason = f"timed out after {self.timeout_s:g} s"
            except httpx.TransportError as exc:
                reason = f"connection failed ({type(exc).__name__})"
            else:
                if response.status_code == 200:
                    try:
                        data = response.json()
                    except ValueError:
                        raise TargetError(f"{self.base_url}: response is not JSON") from None
                    return parse_completion(data, time.perf_counter() - start)
                reason = _error_reason(response)
                if response.status_code not in RETRY_STATUS:
                    raise TargetError(f"{self.base_url}: {reason}")
                delay = min(self.max_backoff_s, _retry_after(response) or delay)
            if attempt < self.max_retries:
                await asyncio.sleep(delay)
        raise TargetError(f"{self.base_url}: {reason} (gave up after {self.max_retries + 1} attempts)")
