"""A fake upstream (httpx.MockTransport) and an in-process gateway (httpx.ASGITransport)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from medsec.gateway.app import create_gateway
from medsec.gateway.audit import AuditLog
from medsec.gateway.auth import hash_key
from medsec.gateway.config import GatewayConfig
from medsec.phi.vault import TOKEN

AUDIT_KEY = "test-audit-key-0123456789abcdef"
NURSE_KEY = "msk-nurse-key"
AUDITOR_KEY = "msk-auditor-key"
SLOW_KEY = "msk-slow-key"


@dataclass
class FakeUpstream:
    """Answers chat completions with ``answer`` (or an echo), streaming in ``chunk``-character pieces."""

    answer: str | None = None
    chunk: int = 7
    status: int = 200
    fail: type[Exception] | None = None
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    break_after: int | None = None
    bodies: list[dict[str, Any]] = field(default_factory=list)

    def text(self, body: dict[str, Any]) -> str:
        if self.answer is not None:
            return self.answer
        last = [m for m in body["messages"] if m["role"] == "user"][-1]["content"]
        return f"You said: {last}"

    def handle(self, request: httpx.Request) -> httpx.Response:
        if self.fail is not None:
            raise self.fail("simulated", request=request)  # type: ignore[call-arg]
        if request.url.path.endswith("/models"):
            return httpx.Response(200, json={"object": "list", "data": [{"id": "fake", "object": "model"}]})
        body = json.loads(request.content)
        self.bodies.append(body)
        if self.status != 200:
            return httpx.Response(self.status, json={"error": {"type": "server_error", "message": "boom"}})
        if body.get("stream"):
            headers = {"content-type": "text/event-stream"}
            if self.break_after is not None:
                return httpx.Response(200, stream=_Broken(self.sse(body), self.break_after), headers=headers)
            return httpx.Response(200, content=self.sse(body), headers=headers)
        message: dict[str, Any] = {"role": "assistant", "content": self.text(body)}
        if self.tool_calls:
            message["tool_calls"] = self.calls(body)
        usage = {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12}
        choice = {
            "index": 0,
            "message": message,
            "finish_reason": "tool_calls" if self.tool_calls else "stop",
        }
        return httpx.Response(
            200,
            json={
                "id": "up",
                "object": "chat.completion",
                "model": "fake",
                "choices": [choice],
                "usage": usage,
            },
        )

    def calls(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        """The tool calls, with ``{token}`` replaced by the first vault token the request carried."""
        token = TOKEN.search(json.dumps(body))
        value = token.group(0) if token else ""
        return [json.loads(json.dumps(c).replace("{token}", value)) for c in self.tool_calls]

    def sse(self, body: dict[str, Any]) -> bytes:
        text = self.text(body)
        deltas = [{"role": "assistant"}] + [
            {"content": text[i : i + self.chunk]} for i in range(0, len(text), self.chunk)
        ]
        if self.tool_calls:
            deltas.append({"tool_calls": [{"index": 0, **self.calls(body)[0]}]})
        events = [{"choices": [{"index": 0, "delta": d, "finish_reason": None}]} for d in deltas]
        events.append({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        return "".join(f"data: {json.dumps(e)}\n\n" for e in events).encode() + b"data: [DONE]\n\n"


class _Broken(httpx.AsyncByteStream):
    """A stream that sends ``events`` events, then drops the connection."""

    def __init__(self, body: bytes, events: int) -> None:
        self.parts = [e + b"\n\n" for e in body.split(b"\n\n")[:events]]

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for part in self.parts:
            yield part
        raise httpx.RemoteProtocolError("peer closed connection")


def config(tmp_path: Path, **overrides: Any) -> GatewayConfig:
    keys = [
        {"id": "nurse-app", "sha256": hash_key(NURSE_KEY), "role": "nurse", "patients": ["4821937"]},
        {"id": "auditor", "sha256": hash_key(AUDITOR_KEY), "role": "clinician", "restore": False},
        {"id": "slow", "sha256": hash_key(SLOW_KEY), "rate": {"per_minute": 1, "burst": 2}},
    ]
    data: dict[str, Any] = {
        "upstream": {"url": "http://upstream.test/v1", "retries": 0},
        "policy": "balanced",
        "keys": keys,
        "audit": {
            "url": f"sqlite:///{tmp_path / 'audit.db'}",
            "checkpoint_every": 5,
            "anchor_file": str(tmp_path / "anchor.jsonl"),
        },
        **overrides,
    }
    return GatewayConfig.model_validate(data)


@pytest.fixture(autouse=True)
def audit_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDSEC_AUDIT_KEY", AUDIT_KEY)


@pytest.fixture
def upstream() -> FakeUpstream:
    return FakeUpstream()


GatewayFactory = Callable[..., Any]


@pytest.fixture
async def gateway(tmp_path: Path, upstream: FakeUpstream) -> AsyncIterator[GatewayFactory]:
    apps: list[Any] = []

    def make(**overrides: Any) -> httpx.AsyncClient:
        app = create_gateway(config(tmp_path, **overrides), transport=httpx.MockTransport(upstream.handle))
        apps.append(app)
        headers = {"Authorization": f"Bearer {NURSE_KEY}"}
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gw/v1", headers=headers
        )

    yield make
    for app in apps:
        await app.state.gateway.aclose()


@pytest.fixture
async def client(gateway: GatewayFactory) -> httpx.AsyncClient:
    return gateway()  # type: ignore[no-any-return]


def audit_rows(tmp_path: Path) -> list[dict[str, Any]]:
    log = AuditLog(f"sqlite:///{tmp_path / 'audit.db'}", AUDIT_KEY.encode())
    try:
        return [json.loads(r["body"]) | {"kind": r["kind"]} for r in log.rows()]
    finally:
        log.close()


def user(text: str) -> dict[str, Any]:
    return {"model": "m", "messages": [{"role": "user", "content": text}]}
