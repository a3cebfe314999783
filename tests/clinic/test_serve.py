"""The assistant's OpenAI-compatible server: in process (ASGI) and as a real uvicorn process on loopback."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from medsec.clinic.assistant import AssistantConfig, ClinicalAssistant
from medsec.clinic.ehr import Ehr
from medsec.clinic.knowledge import KnowledgeBase
from medsec.clinic.serve import create_app
from medsec.clinic.tools import User
from medsec.targets import FakeTarget, OpenAITarget
from medsec.types import Message

QUESTION = {"role": "user", "content": "What is the maximum daily dose of acetaminophen?"}


@pytest.fixture
def client(ehr40: Ehr, kb: KnowledgeBase) -> httpx.AsyncClient:
    unit = ehr40.units()[0].id
    user = User(role="nurse", unit=unit, patients=(ehr40.list_patients(unit)[0].mrn,))
    assistant = ClinicalAssistant(ehr40, kb, FakeTarget(default="Four grams."), user, AssistantConfig())
    transport = httpx.ASGITransport(app=create_app(assistant))
    return httpx.AsyncClient(transport=transport, base_url="http://clinic/v1")


async def test_models_and_completion_shapes(client: httpx.AsyncClient) -> None:
    models = (await client.get("/models")).json()
    assert models["object"] == "list" and models["data"][0]["id"] == "medsec-clinic"
    body = (await client.post("/chat/completions", json={"model": "x", "messages": [QUESTION]})).json()
    assert body["object"] == "chat.completion" and body["choices"][0]["message"]["content"] == "Four grams."
    assert body["choices"][0]["finish_reason"] == "stop" and body["usage"]["total_tokens"] > 0
    assert "kb-dose-acetaminophen" in body["medsec_trace"]["retrieved"]


async def test_streaming_sends_chunks_then_done(client: httpx.AsyncClient) -> None:
    async with client.stream("POST", "/chat/completions", json={"messages": [QUESTION], "stream": True}) as r:
        lines = [line async for line in r.aiter_lines() if line.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    chunks = [json.loads(line.removeprefix("data: ")) for line in lines[:-1]]
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant"}
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert text == "Four grams." and chunks[-1]["choices"][0]["finish_reason"] == "stop"


@pytest.mark.parametrize(
    ("body", "headers", "reason"),
    [
        (b"{not json", {}, "not a valid chat request"),
        (b'{"messages": []}', {}, "not a valid chat request"),
        (b'{"messages": [{"role": "wizard", "content": "x"}]}', {}, "not a valid chat request"),
        (json.dumps({"messages": [QUESTION]}).encode(), {"X-Medsec-Role": "root"}, "X-Medsec-Role"),
    ],
)
async def test_bad_requests_are_clear_400s(
    client: httpx.AsyncClient, body: bytes, headers: dict[str, str], reason: str
) -> None:
    response = await client.post("/chat/completions", content=body, headers=headers)
    assert response.status_code == 400 and reason in response.json()["error"]["message"]


async def test_headers_choose_the_user(client: httpx.AsyncClient, ehr40: Ehr) -> None:
    other = ehr40.list_patients(ehr40.units()[1].id)[0]
    question = {"role": "user", "content": f'CALL get_patient {{"mrn": "{other.mrn}"}}'}
    headers = {"X-Medsec-Role": "visitor", "X-Medsec-Patients": ""}
    body = (await client.post("/chat/completions", json={"messages": [question]}, headers=headers)).json()
    assert body["medsec_trace"]["tools"] == []  # the fake model ignores the call; the user was accepted


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `medsec app serve` process with the embedded SmolLM2, on loopback."""
    port = free_port()
    env = {**os.environ, "MEDSEC_HOME": str(tmp_path_factory.mktemp("home"))}
    cmd = [
        sys.executable,
        "-m",
        "medsec",
        "app",
        "serve",
        "--port",
        str(port),
        "--model",
        "local:max_tokens=24",
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{url}/models", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise AssertionError("server did not start")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        assert proc.stderr is not None
        proc.stderr.close()


async def test_openai_target_against_the_real_server(server: str) -> None:
    target = OpenAITarget(base_url=server, model="medsec-clinic", max_retries=0, timeout_s=120)
    reply = await target([Message(**QUESTION)])  # type: ignore[arg-type]
    await target.aclose()
    assert (
        reply.text.strip() and reply.usage.completion_tokens > 0 and reply.finish_reason in ("stop", "length")
    )


def test_real_server_streams(server: str) -> None:
    with httpx.stream(
        "POST", f"{server}/chat/completions", json={"messages": [QUESTION], "stream": True}, timeout=120
    ) as r:
        events = [line for line in r.iter_lines() if line.startswith("data: ")]
    assert r.headers["content-type"].startswith("text/event-stream") and events[-1] == "data: [DONE]"
    assert len(events) >= 3


def test_serve_module_is_importable_without_side_effects() -> None:
    assert Path(sys.modules["medsec.clinic.serve"].__file__ or "").name == "serve.py"
