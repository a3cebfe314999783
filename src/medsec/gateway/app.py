"""The gateway's HTTP face: ``create_gateway(config)`` builds the ASGI app (needs the ``gateway`` extra).

Routes: ``POST /v1/chat/completions`` (streamed or not, with tools), ``GET /v1/models``, ``GET /healthz``
and ``GET /metrics``. Every failure is an OpenAI-shaped error body with a reason code in ``error.code``
— never a stack trace — and every chat request, refused or not, gets one audit record.
"""

# Starlette (installed with the optional `gateway` extra) is imported inside the functions that use it.

import asyncio
import contextlib
import re
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx

from medsec.errors import MedsecError, MissingExtraError
from medsec.gateway.audit import AuditLog, Outcome, utc_now
from medsec.gateway.auth import Principal, bearer
from medsec.gateway.config import GatewayConfig, LimitsConfig
from medsec.gateway.proxy import ChatRequest, Exchange, RejectedError, parse_request, upstream_body
from medsec.gateway.service import Answer, Gateway, build_gateway, logger
from medsec.gateway.stream import Relay, StreamEnd, relay_stream
from medsec.gateway.upstream import UpstreamError
from medsec.gateway.wire import error_body

_SANE_ID = re.compile(r"[A-Za-z0-9._:/+=-]{1,128}")


def http_request_id(headers: Any) -> str:
    """The client's ``X-Request-Id`` when it is sane (1–128 URL-safe characters), else a new one."""
    given = headers.get("x-request-id")
    return given if given and _SANE_ID.fullmatch(given) else uuid.uuid4().hex


async def read_body(request: Any, limits: LimitsConfig) -> bytes:
    """The request body, refusing one over the size limit or slower than the time limit.

    Raises:
        RejectedError: 413 when too large, 408 when too slow.
    """
    declared = request.headers.get("content-length") or ""
    if declared.isdigit() and int(declared) > limits.max_body_bytes:
        raise RejectedError(413, "request_too_large", f"request body over {limits.max_body_bytes} bytes")
    parts, size = [], 0
    try:
        async with asyncio.timeout(limits.body_timeout_s):
            async for part in request.stream():
                size += len(part)
                if size > limits.max_body_bytes:
                    raise RejectedError(
                        413, "request_too_large", f"request body over {limits.max_body_bytes} bytes"
                    )
                parts.append(part)
    except TimeoutError:
        raise RejectedError(
            408, "body_timeout", f"request body not received within {limits.body_timeout_s:g} s"
        ) from None
    return b"".join(parts)


def _json(answer: Answer) -> Any:
    from starlette.responses import JSONResponse

    return JSONResponse(answer.body, status_code=answer.status, headers=answer.headers or None)


def _failure(status: int, code: str, message: str, outcome: Outcome = "error") -> Answer:
    return Answer(status, error_body(status, code, message), outcome, code)


async def _stream(
    gw: Gateway, ex: Exchange, request: ChatRequest, started: tuple[str, float], http_id: str
) -> Any:
    """Guard the request, open the upstream stream, and hand the relay to a streaming response."""
    from starlette.responses import StreamingResponse

    model = str(request.extra.get("model") or gw.config.upstream.model or "medsec-gateway")
    sent = await ex.guard_messages(request.messages)
    if sent is None:
        answer = gw.blocked_answer(ex, model)
        await gw.record(
            started=started, answer=answer, principal=ex.principal, ex=ex, request=request, http_id=http_id
        )
        return _json(answer)
    events = gw.upstream.events(upstream_body(request, sent, gw.config.upstream.model))
    try:
        first = await anext(events, None)
    except UpstreamError as exc:
        answer = _failure(exc.status, exc.code, str(exc))
        await gw.record(
            started=started, answer=answer, principal=ex.principal, ex=ex, request=request, http_id=http_id
        )
        return _json(answer)

    async def done(end: StreamEnd) -> None:
        answer = Answer(200, {}, end.outcome, end.reason, end.answer)
        with contextlib.suppress(MedsecError):  # the client has its answer; the failure is logged
            await gw.record(
                started=started,
                answer=answer,
                principal=ex.principal,
                ex=ex,
                request=request,
                http_id=http_id,
            )

    relay = Relay(ex=ex, config=gw.config.stream, model=model, refusal=gw.config.refusal)
    return StreamingResponse(relay_stream(relay, first, events, done), media_type="text/event-stream")


async def _chat(gw: Gateway, request: Any, http_id: str) -> Any:
    started = (utc_now(), time.perf_counter())
    principal: Principal | None = None
    try:
        principal = gw.authenticate(request.headers)
        chat = parse_request(await read_body(request, gw.config.limits), gw.config.limits.max_messages)
    except RejectedError as exc:
        answer = _failure(exc.status, exc.code, str(exc), "rejected")
        if exc.retry_after is not None:
            answer.headers["Retry-After"] = str(exc.retry_after)
        await gw.record(started=started, answer=answer, principal=principal, http_id=http_id)
        return _json(answer)
    ex = gw.exchange(principal)
    if chat.stream:
        return await _stream(gw, ex, chat, started, http_id)
    answer = await gw.complete(ex, chat)
    try:
        await gw.record(
            started=started, answer=answer, principal=principal, ex=ex, request=chat, http_id=http_id
        )
    except MedsecError:
        return _json(_failure(503, "audit_unavailable", "the audit log could not record the request"))
    return _json(answer)


async def _models(gw: Gateway, request: Any) -> Any:
    try:
        if gw.keys.authenticate(bearer(request.headers)) is None:
            return _json(_failure(401, "invalid_api_key", "missing or unknown API key"))
        return await gw.upstream.models()
    except UpstreamError as exc:
        return _json(_failure(exc.status, exc.code, str(exc)))


async def _guarded_chat(gw: Gateway, request: Any) -> Any:
    http_id = http_request_id(request.headers)
    try:
        response = await _chat(gw, request, http_id)
    except Exception as exc:  # noqa: BLE001 - a client gets an error body, never a traceback
        logger.error("request failed: %s", type(exc).__name__)
        response = _json(_failure(500, "internal_error", "the gateway failed; see its log"))
    response.headers["X-Request-Id"] = http_id
    return response


def _routes(gw: Gateway) -> list[Any]:
    from starlette.requests import Request
    from starlette.responses import JSONResponse, PlainTextResponse, Response
    from starlette.routing import Route

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok", "policy": gw.pipeline.name, "policy_version": gw.policy_version})

    async def metrics(_request: Request) -> Response:
        return PlainTextResponse(gw.metrics.render(), media_type="text/plain; version=0.0.4")

    async def models(request: Request) -> Response:
        response = await _models(gw, request)
        answer: Response = response if isinstance(response, Response) else JSONResponse(response)
        answer.headers["X-Request-Id"] = http_request_id(request.headers)
        return answer

    async def chat(request: Request) -> Response:
        response: Response = await _guarded_chat(gw, request)
        return response

    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        Route("/v1/models", models, methods=["GET"]),
        Route("/v1/chat/completions", chat, methods=["POST"]),
    ]


async def _http_error(_request: Any, exc: Any) -> Any:
    """Unknown routes and methods, in the OpenAI error shape like every other failure."""
    from starlette.responses import JSONResponse

    code = "not_found" if exc.status_code == 404 else "method_not_allowed"
    return JSONResponse(error_body(exc.status_code, code, str(exc.detail)), status_code=exc.status_code)


def create_gateway(
    config: GatewayConfig,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    audit_log: AuditLog | None = None,
) -> Any:
    """The ASGI app of a gateway, on Starlette (FastAPI's per-request layer doubled the HTTP cost).

    Args:
        config: The validated gateway config.
        transport: An httpx transport for the upstream instead of the network (tests, benchmarks).
        audit_log: An audit log instead of the configured one (tests).

    Raises:
        MissingExtraError: When the ``gateway`` extra (Starlette, through FastAPI) is not installed.
        ConfigError: When the policy, keys or the audit key are missing or invalid.
    """
    try:
        from starlette.applications import Starlette
        from starlette.exceptions import HTTPException
    except ImportError:
        raise MissingExtraError("gateway", "fastapi") from None
    gw = build_gateway(config, transport, audit_log)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        yield
        await gw.aclose()

    app = Starlette(routes=_routes(gw), lifespan=lifespan, exception_handlers={HTTPException: _http_error})
    app.state.gateway = gw
    return app
