"""The reference assistant as an OpenAI-compatible server, so any red-team tool can attack it too.

Endpoints: ``POST /v1/chat/completions`` (streaming or not) and ``GET /v1/models``. Who is asking is
set per request with headers — ``X-Medsec-Role`` (clinician, nurse, patient, visitor),
``X-Medsec-Unit`` and ``X-Medsec-Patients`` (comma-separated MRNs the user is authorised for) — or
falls back to the server's default user. ``X-Medsec-Session`` names a conversation. Needs the
``gateway`` extra (FastAPI, uvicorn).
"""

# No `from __future__ import annotations` here: FastAPI reads the endpoints' annotations at run time,
# and `Request` is imported inside create_app (FastAPI is an optional extra).

import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator

from medsec.clinic.assistant import ClinicalAssistant
from medsec.clinic.tools import User
from medsec.errors import MedsecError, MissingExtraError
from medsec.targets.base import Reply
from medsec.targets.openai import from_wire
from medsec.types import Frozen, Message

MODEL_ID = "medsec-clinic"
MAX_BODY_BYTES = 1_000_000


class ChatRequest(Frozen):
    """The subset of the chat-completions request the assistant reads (other fields are ignored)."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    model: str = MODEL_ID
    messages: tuple[Message, ...] = Field(min_length=1)
    stream: bool = False

    @field_validator("messages", mode="before")
    @classmethod
    def _wire(cls, value: Any) -> Any:
        return [from_wire(m) for m in value] if isinstance(value, list) else value


def _user(headers: Any, default: User) -> User:
    role = headers.get("x-medsec-role") or default.role
    if role not in ("clinician", "nurse", "patient", "visitor"):
        raise ValueError("X-Medsec-Role must be clinician, nurse, patient or visitor")
    patients = headers.get("x-medsec-patients")
    mrns = (
        tuple(p.strip() for p in patients.split(",") if p.strip())
        if patients is not None
        else default.patients
    )
    role_value: Literal["clinician", "nurse", "patient", "visitor"] = role
    return User(
        id=headers.get("x-medsec-user") or default.id,
        role=role_value,
        unit=headers.get("x-medsec-unit") or default.unit,
        patients=mrns,
    )


def completion(reply: Reply, model: str) -> dict[str, Any]:
    """A chat-completions response body."""
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": reply.text},
                "finish_reason": reply.finish_reason or "stop",
            }
        ],
        "usage": {
            "prompt_tokens": reply.usage.prompt_tokens,
            "completion_tokens": reply.usage.completion_tokens,
            "total_tokens": reply.usage.total_tokens,
        },
        "medsec_trace": {
            "retrieved": list(reply.trace.retrieved),
            "tools": [{"name": t.call.name, "allowed": t.allowed} for t in reply.trace.tools],
        },
    }


async def chunks(reply: Reply, model: str) -> AsyncIterator[str]:
    """Server-sent events of a streamed answer, a few words per chunk, ending with ``[DONE]``."""
    ident, created = f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time())

    def event(delta: dict[str, str], finish: str | None = None) -> str:
        body = {
            "id": ident,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        return f"data: {json.dumps(body)}\n\n"

    yield event({"role": "assistant"})
    words = reply.text.split(" ")
    for i in range(0, len(words), 4):
        yield event({"content": " ".join(words[i : i + 4]) + (" " if i + 4 < len(words) else "")})
    yield event({}, reply.finish_reason or "stop")
    yield "data: [DONE]\n\n"


def create_app(assistant: ClinicalAssistant) -> Any:
    """A FastAPI app serving ``assistant``; each request acts as the user its headers name.

    Raises:
        MissingExtraError: When FastAPI is not installed.
    """
    try:
        from fastapi import FastAPI, Request
        from fastapi.responses import JSONResponse, StreamingResponse
    except ImportError:
        raise MissingExtraError("gateway", "fastapi") from None

    app = FastAPI(title="medsec reference clinical assistant", docs_url=None, redoc_url=None)

    def error(status: int, message: str, kind: str) -> Any:
        return JSONResponse({"error": {"message": message, "type": kind}}, status_code=status)

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": MODEL_ID, "object": "model", "owned_by": "medsec"}]}

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Any:
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return error(413, f"request body over {MAX_BODY_BYTES} bytes", "invalid_request_error")
        try:
            req = ChatRequest.model_validate_json(body)
            user = _user(request.headers, assistant.user)
        except ValueError as exc:
            reason = (
                str(exc).splitlines()[0] if not hasattr(exc, "errors") else "body is not a valid chat request"
            )
            return error(400, reason, "invalid_request_error")
        app_for_user = ClinicalAssistant(assistant.ehr, assistant.kb, assistant.model, user, assistant.config)
        try:
            reply = await app_for_user(req.messages, session=request.headers.get("x-medsec-session"))
        except MedsecError as exc:
            return error(502, str(exc), "upstream_error")
        if req.stream:
            return StreamingResponse(chunks(reply, req.model), media_type="text/event-stream")
        return completion(reply, req.model)

    return app
