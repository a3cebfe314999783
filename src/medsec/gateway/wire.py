"""OpenAI-shaped bodies the gateway answers with: completions, stream chunks, blocks and errors."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from medsec.types import ToolCall

ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 413: "invalid_request_error"}


def error_body(status: int, code: str, message: str) -> dict[str, Any]:
    """``{"error": {...}}`` as OpenAI clients parse it; ``code`` is the gateway's reason code."""
    kind = ERROR_TYPES.get(status) or ("rate_limit_error" if status == 429 else "api_error")
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def wire_calls(calls: Sequence[ToolCall]) -> list[dict[str, Any]]:
    """Tool calls in the wire form."""
    return [
        {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
        for c in calls
    ]


def completion(
    ident: str, model: str, text: str, calls: Sequence[ToolCall], finish: str, usage: dict[str, Any]
) -> dict[str, Any]:
    """A ``chat.completion`` body."""
    message: dict[str, Any] = {"role": "assistant", "content": text if text or not calls else None}
    if calls:
        message["tool_calls"] = wire_calls(calls)
    return {
        "id": ident,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": usage,
    }


def blocked(ident: str, model: str, refusal: str, reason: str) -> dict[str, Any]:
    """A refusal with ``finish_reason: content_filter`` and the block's reason code under ``medsec``."""
    body = completion(ident, model, refusal, (), "content_filter", {})
    body["usage"] = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    body["medsec"] = {"blocked": True, "reason": reason}
    return body


def chunk(ident: str, model: str, delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
    """One server-sent ``chat.completion.chunk`` event."""
    body = {
        "id": ident,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        **extra,
    }
    return f"data: {json.dumps(body)}\n\n"


DONE = "data: [DONE]\n\n"
