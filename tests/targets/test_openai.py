from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from medsec.errors import ConfigError, TargetError
from medsec.targets import ChatSession, OpenAITarget
from medsec.targets.openai import SESSION_HEADER
from medsec.types import Message, ToolCall

Handler = Callable[[httpx.Request], httpx.Response]
USER = (Message(role="user", content="What is the max daily dose of acetaminophen?"),)


def completion(text: str = "4 g", **message: object) -> dict[str, object]:
    return {
        "model": "m",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text, **message},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15},
    }


def target(handler: Handler, **kwargs: object) -> OpenAITarget:
    args: dict[str, object] = {"backoff_s": 0.0, "max_backoff_s": 0.0, **kwargs}
    return OpenAITarget(transport=httpx.MockTransport(handler), **args)  # type: ignore[arg-type]


async def test_request_and_reply_shapes() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=completion())

    reply = await target(handler, model="smol", max_tokens=64)(USER, session="s-1")
    body = json.loads(seen[0].content)
    assert seen[0].url.path == "/v1/chat/completions"
    assert body == {
        "model": "smol",
        "messages": [{"role": "user", "content": USER[0].content}],
        "temperature": 0.0,
        "max_tokens": 64,
    }
    assert seen[0].headers[SESSION_HEADER] == "s-1"
    assert reply.text == "4 g" and reply.finish_reason == "stop" and reply.model == "m"
    assert reply.usage.prompt_tokens == 12 and reply.usage.total_tokens == 15 and reply.latency_s >= 0


async def test_tool_calls_pass_through_both_ways() -> None:
    tools = ({"type": "function", "function": {"name": "get_patient", "parameters": {"type": "object"}}},)
    bodies: list[dict[str, object]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        call = {
            "id": "c1",
            "type": "function",
            "function": {"name": "get_patient", "arguments": '{"mrn": "1"}'},
        }
        return httpx.Response(200, json=completion(None, tool_calls=[call]))  # type: ignore[arg-type]

    history = (
        *USER,
        Message(role="assistant", content="", tool_calls=(ToolCall(id="c0", name="x"),)),
        Message(role="tool", content="{}", tool_call_id="c0"),
    )
    reply = await target(handler, tools=tools)(history)
    assert reply.text == "" and reply.tool_calls == (
        ToolCall(id="c1", name="get_patient", arguments='{"mrn": "1"}'),
    )
    sent = bodies[0]
    assert sent["tools"] == list(tools)
    assert sent["messages"][1]["tool_calls"][0]["function"]["name"] == "x"  # type: ignore[index]
    assert sent["messages"][2]["tool_call_id"] == "c0"  # type: ignore[index]


async def test_retries_429_and_5xx_then_succeeds() -> None:
    statuses = iter([429, 503, 200])

    def handler(request: httpx.Request) -> httpx.Response:
        status = next(statuses)
        if status == 200:
            return httpx.Response(200, json=completion())
        return httpx.Response(status, headers={"Retry-After": "0"}, json={"error": {"type": "rate_limit"}})

    assert (await target(handler)(USER)).text == "4 g"


async def test_gives_up_with_a_phi_free_reason() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            500, json={"error": {"type": "server_error", "message": "patient John Doe crashed"}}
        )

    with pytest.raises(TargetError, match=r"HTTP 500 \(server_error\) \(gave up after 3 attempts\)") as info:
        await target(handler, max_retries=2)(USER)
    assert "John" not in str(info.value)


async def test_client_errors_are_not_retried() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(401, json={"error": {"code": "invalid_api_key"}})

    with pytest.raises(TargetError, match=r"HTTP 401 \(invalid_api_key\)"):
        await target(handler)(USER)
    assert len(calls) == 1


@pytest.mark.parametrize(
    ("exc", "reason"),
    [(httpx.ConnectError("refused"), "connection failed"), (httpx.ReadTimeout("slow"), "timed out")],
)
async def test_transport_failures_are_retried_then_reported(exc: Exception, reason: str) -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise exc

    with pytest.raises(TargetError, match=reason):
        await target(handler, max_retries=1)(USER)
    assert len(calls) == 2


@pytest.mark.parametrize("body", [b"not json", b"{}", b'{"choices": []}', b'{"choices": [{"message": 3}]}'])
async def test_malformed_responses_are_target_errors(body: bytes) -> None:
    with pytest.raises(TargetError, match="not JSON|malformed"):
        await target(lambda r: httpx.Response(200, content=body))(USER)


async def test_api_key_comes_from_the_named_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["authorization"])
        return httpx.Response(200, json=completion())

    monkeypatch.setenv("MY_LLM_KEY", "sk-test")
    await target(handler, api_key_env="MY_LLM_KEY")(USER)
    assert seen == ["Bearer sk-test"]
    monkeypatch.delenv("MY_LLM_KEY")
    with pytest.raises(ConfigError, match="MY_LLM_KEY is not set"):
        await target(handler, api_key_env="MY_LLM_KEY")(USER)


async def test_rate_limit_spaces_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr("medsec.targets.openai.asyncio.sleep", fake_sleep)
    t = target(lambda r: httpx.Response(200, json=completion()), rate_limit=10.0)
    for _ in range(3):
        await t(USER)
    assert len(waits) == 2 and 0.05 < waits[0] <= 0.1 < waits[1] <= 0.2  # the clock did not move


async def test_chat_session_keeps_history_and_sends_its_id() -> None:
    bodies: list[tuple[int, str | None]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append((len(json.loads(request.content)["messages"]), request.headers.get(SESSION_HEADER)))
        return httpx.Response(200, json=completion("ok"))

    session = ChatSession(target(handler), "conv-7", system="Be brief.")
    await session.send("one")
    await session.send("two")
    assert bodies == [(2, "conv-7"), (4, "conv-7")]
    assert [m.role for m in session.history] == ["system", "user", "assistant", "user", "assistant"]
